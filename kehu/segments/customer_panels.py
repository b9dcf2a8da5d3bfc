"""The segments' panel of the customer page: the scores with their reasons, and the prediction
(the predictions' part, kept here until they have an app of their own). One panel, so that both
rows are read in one query."""

from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from kehu.customers.models import Customer
from kehu.customers.panels import register_customer_panel
from kehu.segments.explain import explain_metrics
from kehu.segments.prediction_queries import prediction_panel, stored_scores


def scores_context(request: HttpRequest, customer: Customer) -> dict[str, Any]:
    metrics, prediction = stored_scores(customer)
    return {
        "metrics": metrics,
        "metric_reasons": explain_metrics(metrics, timezone.localdate()) if metrics else [],
        "prediction_panel": prediction_panel(prediction),
    }


def register() -> None:
    register_customer_panel(
        "segments.scores", "segments/partials/customer_panels.html", scores_context, order=10
    )
