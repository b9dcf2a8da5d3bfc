"""The predictions' panel of the customer page: churn risk, CLV, next best action and
recommended products, in words."""

from typing import Any

from django.http import HttpRequest

from kehu.customers.models import Customer
from kehu.customers.panels import register_customer_panel
from kehu.predictions.models import CustomerPrediction
from kehu.predictions.queries import prediction_panel


def prediction_context(request: HttpRequest, customer: Customer) -> dict[str, Any]:
    prediction: CustomerPrediction | None = getattr(customer, "prediction", None)  # fetched with it
    return {"prediction_panel": prediction_panel(prediction)}


def register() -> None:
    register_customer_panel(
        "predictions.prediction",
        "predictions/partials/customer_prediction.html",
        prediction_context,
        order=11,
        related=("prediction",),
    )
