"""The segments' panel of the customer page: the stored scores with their reasons."""

from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from kehu.customers.models import Customer
from kehu.customers.panels import register_customer_panel
from kehu.segments.explain import explain_metrics
from kehu.segments.models import CustomerMetrics


def scores_context(request: HttpRequest, customer: Customer) -> dict[str, Any]:
    metrics: CustomerMetrics | None = getattr(customer, "metrics", None)  # fetched with it
    return {
        "metrics": metrics,
        "metric_reasons": explain_metrics(metrics, timezone.localdate()) if metrics else [],
    }


def register() -> None:
    register_customer_panel(
        "segments.scores",
        "segments/partials/customer_scores.html",
        scores_context,
        order=10,
        related=("metrics",),
    )
