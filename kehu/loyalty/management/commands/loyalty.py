"""`kehu loyalty JOB`: the points jobs by hand — earn-orders, reverse-refunds, expire-points,
review-tiers, birthdays, check-balances. Each is safe to run twice."""

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from kehu.loyalty.members.tiers import give_birthday_points, review_tiers
from kehu.loyalty.points.bulk import earn_all_pending_orders
from kehu.loyalty.points.expiry import expire_points
from kehu.loyalty.points.refunds import reverse_pending_refunds
from kehu.loyalty.points.services import check_balances

JOBS = {
    "earn-orders": "Earn points for every order of a member that has not earned yet.",
    "reverse-refunds": "Reverse the points of refunds not reversed yet.",
    "expire-points": "Expire points past their expiry date (oldest first).",
    "review-tiers": "Review the tiers of members whose review (and grace period) is due.",
    "birthdays": "Give today's birthday gift points.",
    "check-balances": "Compare every cached balance with its ledger.",
}


class Command(BaseCommand):
    help = "Loyalty points jobs: " + ", ".join(JOBS)

    def add_arguments(self, parser: ArgumentParser) -> None:
        jobs = parser.add_subparsers(dest="job", required=True)
        for name, description in JOBS.items():
            job = jobs.add_parser(name, help=description)
            if name == "earn-orders":
                job.add_argument(
                    "--date-by-order",
                    action="store_true",
                    help="Date the entries at their orders' times (loading a history).",
                )

    def handle(self, *args: Any, **options: Any) -> None:
        job = options["job"]
        getattr(self, "run_" + job.replace("-", "_"))(options)

    def run_earn_orders(self, options: dict[str, Any]) -> None:
        report = earn_all_pending_orders(date_entries_by_order=options["date_by_order"])
        self.stdout.write(
            _(
                "%(orders)s orders earned %(points)s points for %(members)s members "
                "(%(reversals)s refunds reversed, %(upgraded)s upgrades) in %(seconds).1f s."
            )
            % {
                "orders": f"{report.orders:,}",
                "points": f"{report.points:,}",
                "members": f"{report.members:,}",
                "reversals": f"{report.reversals:,}",
                "upgraded": f"{report.upgraded:,}",
                "seconds": report.seconds,
            }
        )

    def run_reverse_refunds(self, options: dict[str, Any]) -> None:
        count = reverse_pending_refunds()
        self.stdout.write(_("%(count)s refunds reversed.") % {"count": f"{count:,}"})

    def run_expire_points(self, options: dict[str, Any]) -> None:
        report = expire_points()
        self.stdout.write(
            _("%(points)s points of %(members)s members expired.")
            % {"points": f"{report.points:,}", "members": f"{report.members:,}"}
        )

    def run_review_tiers(self, options: dict[str, Any]) -> None:
        report = review_tiers()
        self.stdout.write(
            _("%(reviewed)s members reviewed: %(up)s moved up, %(down)s moved down.")
            % {
                "reviewed": f"{report.reviewed:,}",
                "up": f"{report.upgraded:,}",
                "down": f"{report.downgraded:,}",
            }
        )

    def run_birthdays(self, options: dict[str, Any]) -> None:
        count = give_birthday_points()
        self.stdout.write(_("%(count)s members got birthday points.") % {"count": f"{count:,}"})

    def run_check_balances(self, options: dict[str, Any]) -> None:
        mismatches = check_balances()
        for mismatch in mismatches:
            self.stdout.write(
                _("Card %(card)s: balance %(cached)s, ledger %(ledger)s, unspent %(unspent)s")
                % {
                    "card": mismatch.card_number,
                    "cached": mismatch.cached,
                    "ledger": mismatch.ledger,
                    "unspent": mismatch.unspent,
                }
            )
        if mismatches:
            raise CommandError(
                _("%(count)s balances differ from their ledger.") % {"count": len(mismatches)}
            )
        self.stdout.write(_("Every balance equals its ledger."))
