"""`kehu export customers|orders --format csv|xlsx --output FILE`: the same export as the pages."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kehu.accounts.permissions import may
from kehu.commerce.exporting import OrderExportFilters, order_export_headers, order_export_rows
from kehu.core.lists import numbers_out_of_range
from kehu.core.tabular import write_csv, write_xlsx
from kehu.customers.exporting import customer_export_headers, customer_export_rows
from kehu.customers.queries import CustomerFilters
from kehu.imports.commands import acting_user

FILTER_OPTIONS = ("q", "city", "owner", "pool", "source", "status", "tag", "store", "sort")
ORDER_OPTIONS = ("channel", "since", "until")


class Command(BaseCommand):
    help = "Export customers or order lines (masked and filtered as for the user) to CSV or XLSX."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=["customers", "orders"])
        parser.add_argument("--format", choices=["csv", "xlsx"], default="csv")
        parser.add_argument("--output", required=True)
        parser.add_argument(
            "--as", dest="username", help="Export as this user (default: an admin)."
        )
        for name in FILTER_OPTIONS + ORDER_OPTIONS:
            parser.add_argument(f"--{name}", default="", help="Filter like the customer list.")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = acting_user(options["username"])
        if not may(actor, "data.export"):
            raise CommandError(f"{actor.username} may not export data.")
        params = {
            name: str(options[name]) for name in FILTER_OPTIONS + ORDER_OPTIONS if options[name]
        }
        if names := numbers_out_of_range(params):
            raise CommandError(f"--{names[0]} is not a number kehu can store: nothing exported.")
        if options["kind"] == "customers":
            headers = customer_export_headers()
            rows = customer_export_rows(actor, CustomerFilters.from_params(params))
        else:
            headers = order_export_headers()
            rows = order_export_rows(actor, OrderExportFilters.from_params(params))
        counted = counting(rows)
        with open(options["output"], "wb") as target:
            if options["format"] == "xlsx":
                write_xlsx(target, headers, counted)
            else:
                write_csv(target, headers, counted)
        self.stdout.write(f"Exported {counted.count} rows to {options['output']}")


class counting:
    """Passes rows through while counting them."""

    def __init__(self, rows: Any) -> None:
        self.rows = rows
        self.count = 0

    def __iter__(self) -> Any:
        for row in self.rows:
            self.count += 1
            yield row
