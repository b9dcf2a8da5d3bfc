"""`kehu segments refresh [--customer ID]`: recompute metrics and scores (then predictions, saved
segments and automatic tags), or one customer's metrics, now."""

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from kehu.customers.models import Customer
from kehu.segments.models import CustomerMetrics
from kehu.segments.nightly import PredictionSummary, refresh_segmentation
from kehu.segments.refresh import RefreshReport, refresh_customer_metrics


class Command(BaseCommand):
    help = "Segmentation jobs: `refresh` recomputes metrics, scores, stages and predictions."

    def add_arguments(self, parser: ArgumentParser) -> None:
        jobs = parser.add_subparsers(dest="job", required=True)
        refresh = jobs.add_parser("refresh", help="Recompute every customer's metrics, or one's.")
        refresh.add_argument("--customer", type=int, help="Only this customer id.")

    def handle(self, *args: Any, **options: Any) -> None:
        customer_id = options.get("customer")
        if customer_id is None:
            report = refresh_segmentation()
            self.stdout.write(
                _("%(segments)s saved segments refreshed; %(tags)s automatic tags changed.")
                % {"segments": report.segments_refreshed, "tags": report.tag_changes}
            )
            self.print_report(report.metrics)
            self.print_predictions(report.predictions)
            return
        if not Customer.objects.filter(pk=customer_id).exists():
            raise CommandError(_("There is no customer with id %(id)s.") % {"id": customer_id})
        refresh_customer_metrics(customer_id)
        metrics = CustomerMetrics.objects.get(customer_id=customer_id)
        self.stdout.write(
            _("Customer %(id)s: %(stage)s, %(tier)s, %(orders)d orders.")
            % {
                "id": customer_id,
                "stage": metrics.get_lifecycle_stage_display(),
                "tier": metrics.get_value_tier_display(),
                "orders": metrics.frequency,
            }
        )

    def print_report(self, report: RefreshReport) -> None:
        self.stdout.write(
            _(
                "Refreshed %(customers)s customers (%(buyers)s with orders); "
                "%(changes)s stage changes. Summary: %(route)s."
            )
            % {
                "customers": f"{report.customers:,}",
                "buyers": f"{report.customers_with_orders:,}",
                "changes": f"{report.stage_changes:,}",
                "route": report.route,
            }
        )
        self.print_steps(report.seconds, report.total_seconds)

    def print_predictions(self, report: PredictionSummary) -> None:
        for line in report.summary_lines():
            self.stdout.write(line)
        self.print_steps(report.seconds, report.total_seconds)

    def print_steps(self, seconds_by_step: dict[str, float], total: float) -> None:
        step_heading, seconds_heading = _("step"), _("seconds")
        self.stdout.write(f"{step_heading:<12}{seconds_heading:>10}")
        for step, seconds in [*seconds_by_step.items(), (_("all steps"), total)]:
            self.stdout.write(f"{step:<12}{seconds:>10.2f}")
