"""Businesses to test the predictions refresh on, around refresh_data.NOW (2026-06-15 noon).

``build_crowd`` draws, with a fixed seed, enough buyers for the purchase and spend models to fit
(steady buyers, buyers who stopped, one-time buyers and prospects); ``add_rhythm`` gives one
customer orders at a fixed rhythm, so its churn inputs can be worked out by hand.
"""

import datetime
import math
from decimal import Decimal
from typing import Any

import numpy as np

from kehu.accounts.models import User
from kehu.commerce.models import Order, OrderStatus, SalesChannel
from kehu.customers.models import Customer
from kehu.predictions.models import CustomerPrediction
from kehu.segments.tests.refresh_data import NOW, SHANGHAI, TODAY
from tests.fixtures.records import make_customer

NOON = datetime.time(12, 0, tzinfo=SHANGHAI)


def at_noon(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, NOON)


def add_orders(
    customer: Customer, channel: SalesChannel, days: list[datetime.date], amounts: list[float]
) -> None:
    Order.objects.bulk_create(
        Order(
            customer=customer,
            channel=channel,
            external_id=f"{customer.pk}-{day:%Y%m%d}-{index}",
            ordered_at=at_noon(day),
            total_amount=Decimal(f"{amount:.2f}"),
            status=OrderStatus.COMPLETED,
        )
        for index, (day, amount) in enumerate(zip(days, amounts, strict=True))
    )


def add_rhythm(
    customer: Customer,
    channel: SalesChannel,
    *,
    first_days_ago: int,
    last_days_ago: int,
    gap: int,
    amount: float,
) -> list[datetime.date]:
    """Orders every ``gap`` days from ``first_days_ago`` to ``last_days_ago`` (inclusive)."""
    days = [
        TODAY - datetime.timedelta(days=ago)
        for ago in range(first_days_ago, last_days_ago - 1, -gap)
    ]
    add_orders(customer, channel, days, [amount] * len(days))
    return days


def build_crowd(channel: SalesChannel, owner: User | None = None, size: int = 40) -> list[Customer]:
    """``size`` buyers with their own rhythm and spend, a third of whom stopped buying."""
    rng = np.random.default_rng(2026)
    customers = []
    for index in range(size):
        customer = make_customer(owner=owner, name=f"顾客{index:02d}")
        first = int(rng.integers(120, 600))
        gap = int(rng.integers(8, 60))
        stopped = index % 3 == 0
        last = int(rng.integers(first // 2, first)) if stopped else int(rng.integers(0, gap))
        ago = np.arange(first, max(last, 0) - 1, -gap)
        ago = ago[ago >= 0]
        amounts = np.round(rng.gamma(4.0, 40.0 + index, size=len(ago)), 2)
        add_orders(
            customer,
            channel,
            [TODAY - datetime.timedelta(days=int(day)) for day in ago],
            amounts.tolist(),
        )
        customers.append(customer)
    return customers


def assert_no_nan(prediction: CustomerPrediction) -> None:
    """Numbers are finite or NULL, and the JSON columns hold only finite numbers."""
    for name in ("p_alive", "expected_purchases", "expected_order_value", "clv"):
        value = getattr(prediction, name)
        assert value is None or math.isfinite(float(value)), (name, value)
    assert math.isfinite(float(prediction.value_at_stake))
    assert all_finite(prediction.churn_reasons)
    assert all_finite(prediction.next_action_reason)


def all_finite(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(all_finite(item) for item in value.values())
    if isinstance(value, list):
        return all(all_finite(item) for item in value)
    return True


__all__ = ["NOW", "TODAY", "add_orders", "add_rhythm", "assert_no_nan", "at_noon", "build_crowd"]
