"""`kehu demo`: fill the database with a believable business and print how to log in."""

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from kehu.accounts.models import User
from kehu.customers.models import Customer
from kehu.demo.catalogue import ROLE_PASSWORDS
from kehu.demo.generate import DEFAULT_SEED, DemoSummary, generate_demo
from kehu.demo.reset import delete_business_records

ADDRESS = "http://127.0.0.1:8000"
LOGINS = (
    ("admin", "admin", "administrator / 管理员"),
    ("sales1", "sales", "salesperson / 销售"),
    ("manager1", "manager", "store manager / 店长"),
)


class Command(BaseCommand):
    help = "Generate demo customers, orders and interactions, then print the demo logins."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--customers", type=int, default=5_000, help="How many customers.")
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="Random seed.")
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing when the database already has customers.",
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help="First delete all customers, orders, refunds and interactions.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        customers = options["customers"]
        if customers < 1:
            raise CommandError("--customers must be at least 1.")
        if options["if_empty"] and not options["reset"] and Customer.objects.exists():
            self.stdout.write("The database already has customers; no demo data added.")
        else:
            if options["reset"]:
                self.stdout.write("Deleting customers, orders and interactions…")
                delete_business_records()
            self.stdout.write(f"Generating {customers:,} demo customers (seed {options['seed']})…")
            summary = generate_demo(customers, options["seed"], progress=self.report_progress)
            self.stdout.write(
                self.style.SUCCESS(
                    f"Done in {summary.seconds:.1f} s: {summary.customers:,} customers, "
                    f"{summary.orders:,} orders ({summary.order_lines:,} lines, "
                    f"{summary.refunds:,} refunds), {summary.interactions:,} interactions; "
                    f"{summary.returned_to_pool:,} customers without follow-up went back "
                    "to the pool."
                )
            )
        self.print_logins()

    def report_progress(self, summary: DemoSummary) -> None:
        self.stdout.write(
            f"  {summary.customers:,} customers, {summary.orders:,} orders "
            f"({summary.seconds:.0f} s)"
        )
        self.stdout.flush()  # progress should show at once, also when piped to a file

    def print_logins(self) -> None:
        existing = set(
            User.objects.filter(username__in=[name for name, _r, _l in LOGINS]).values_list(
                "username", flat=True
            )
        )
        self.stdout.write(f"\nkehu: {ADDRESS}")
        for username, role, label in LOGINS:
            if username in existing:
                self.stdout.write(f"  {username} / {ROLE_PASSWORDS[role]}   ({label})")
