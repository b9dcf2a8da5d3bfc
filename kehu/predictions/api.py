"""API for predictions: the stored prediction of one customer (churn risk, CLV, next best
action, recommended products). Mounted in kehu/api.py with the segments' tag."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.http import Http404, HttpRequest
from ninja import Router, Schema
from pydantic import Field

from kehu.accounts.api import caller
from kehu.commerce.models import Product
from kehu.core.api_schemas import ErrorSchema
from kehu.customers.queries import get_visible_customer
from kehu.predictions.models import ChurnLevel, CustomerPrediction, NextAction, PredictionSettings
from kehu.predictions.text import describe_churn_reason, describe_next_action

router = Router()

READ_ERRORS = {401: ErrorSchema, 404: ErrorSchema}


class ChurnReasonOut(Schema):
    signal: str = Field(
        description="p_alive, overdue, frequency_drop, spend_drop, fewer_contacts, "
        "low_satisfaction or open_complaints."
    )
    points: int = Field(description="Risk points this signal added.")
    text: str = Field(description="The reason in words, in the request's language.")
    values: dict[str, float] = Field(
        description="The measured values behind it, e.g. typical_gap_days and days_since_last."
    )


class ProductRef(Schema):
    id: int
    sku: str
    name: str


class PredictionOut(Schema):
    """One customer's stored prediction, as of the last nightly refresh."""

    customer_id: int
    p_alive: float | None = Field(
        description="Probability (0–1) the customer still buys here; null when the purchase "
        "model could not be fitted or the customer never bought."
    )
    expected_purchases: float | None = Field(
        description="Expected purchase days in the next `horizon_days`."
    )
    horizon_days: int
    expected_order_value: Decimal | None
    clv: Decimal | None = Field(
        description="Predicted lifetime value over the next `clv_months`, discounted."
    )
    clv_months: int
    value_at_stake: Decimal = Field(
        description="What the customer brings in a year at their usual pace."
    )
    churn_risk: int = Field(ge=0, le=100)
    churn_level: ChurnLevel
    churn_reasons: list[ChurnReasonOut] = Field(description="Strongest first.")
    warned_on: date | None = Field(
        description="When the risk reached the level that notifies the owner; null below it."
    )
    next_action: NextAction
    next_action_text: str = Field(description="The recommended action with its reason, in words.")
    next_action_reason: dict[str, Any] = Field(
        description="`rule` and the values behind it (days, risk, tier, stage, clv, "
        "coupon_threshold, coupon_discount, orders, open_complaints)."
    )
    recommended_products: list[ProductRef] = Field(description="Best first.")
    refreshed_at: datetime


@router.get(
    "/customers/{int:customer_id}/prediction",
    response={200: PredictionOut, **READ_ERRORS},
    summary="Read a customer's prediction",
    description="Purchase and churn predictions, the next best action and recommended products "
    "of a customer you may see. 404 also before the first nightly refresh predicted them.",
)
def read_prediction(request: HttpRequest, customer_id: int) -> dict[str, Any]:
    customer = get_visible_customer(caller(request), customer_id)
    prediction = CustomerPrediction.objects.filter(customer=customer).first()
    if prediction is None:
        raise Http404("No prediction yet.")
    return prediction_as_output(prediction, PredictionSettings.current())


def prediction_as_output(
    prediction: CustomerPrediction, settings: PredictionSettings
) -> dict[str, Any]:
    ids = [int(item) for item in prediction.recommended_products or [] if str(item).isdigit()]
    products = Product.objects.in_bulk(ids)
    return {
        "customer_id": prediction.customer_id,
        "p_alive": prediction.p_alive,
        "expected_purchases": prediction.expected_purchases,
        "horizon_days": settings.horizon_days,
        "expected_order_value": prediction.expected_order_value,
        "clv": prediction.clv,
        "clv_months": settings.clv_months,
        "value_at_stake": prediction.value_at_stake,
        "churn_risk": prediction.churn_risk,
        "churn_level": prediction.churn_level,
        "churn_reasons": [reason_output(reason) for reason in prediction.churn_reasons or []],
        "warned_on": prediction.warned_on,
        "next_action": prediction.next_action,
        "next_action_text": describe_next_action(
            prediction.next_action, prediction.next_action_reason or {}
        ),
        "next_action_reason": prediction.next_action_reason or {},
        "recommended_products": [products[pk] for pk in ids if pk in products],
        "refreshed_at": prediction.refreshed_at,
    }


def reason_output(reason: dict[str, Any]) -> dict[str, Any]:
    values = {
        key: float(value)
        for key, value in reason.items()
        if key not in ("signal", "points") and isinstance(value, int | float)
    }
    return {
        "signal": str(reason.get("signal", "")),
        "points": int(reason.get("points", 0)),
        "text": describe_churn_reason(reason),
        "values": values,
    }
