"""`kehu pool return-neglected`: return customers without follow-up to the pool now."""

from django.core.management.base import BaseCommand

from kehu.accounts.models import PoolPolicy
from kehu.customers.pool import return_neglected_customers


class Command(BaseCommand):
    help = "Customer pool jobs. return-neglected: move neglected customers back to the pool."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["return-neglected", "policy"])

    def handle(self, *args, **options):
        policy = PoolPolicy.current()
        if options["action"] == "policy":
            self.stdout.write(
                f"claim limit {policy.claim_limit}; auto return after {policy.auto_return_days} "
                f"days ({'on' if policy.is_auto_return_enabled else 'off'})"
            )
            return
        returned = return_neglected_customers()
        self.stdout.write(f"{returned} customers returned to the pool")
