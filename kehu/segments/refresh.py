"""Refresh the stored metrics and scores: everyone at once (nightly, `kehu segments refresh`) or
one customer when their order lands.

The full refresh reads the counted orders as one table, summarises them with kehu.analytics'
Ibis expression where it runs fastest (refresh_orders), adds interactions and discount shares,
scores everyone with vectorised numpy (refresh_scores), keeps the score breakpoints, and writes
every row in bulk (refresh_store). A single customer is summarised from their few orders and
scored against the stored breakpoints, so their scores match the last full refresh.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from kehu.commerce.models import Order
from kehu.customers.models import Customer
from kehu.engagement.models import Interaction
from kehu.segments.models import SegmentationSettings
from kehu.segments.refresh_orders import PURCHASES, PostgresRoute, summarise_orders
from kehu.segments.refresh_scores import (
    NO_DATE,
    Breakpoints,
    CustomerColumns,
    compute_breakpoints,
    score_customers,
)
from kehu.segments.refresh_store import metric_rows, store_metrics

if TYPE_CHECKING:
    import pyarrow as pa

INTERACTION_WINDOW = datetime.timedelta(days=90)


@dataclass
class RefreshReport:
    """What a refresh did, and how long each step took."""

    customers: int = 0
    customers_with_orders: int = 0
    stage_changes: int = 0
    route: str = ""
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def total_seconds(self) -> float:
        return sum(self.seconds.values())

    @contextmanager
    def timed(self, step: str) -> Iterator[None]:
        started = time.perf_counter()
        yield
        self.seconds[step] = self.seconds.get(step, 0.0) + time.perf_counter() - started


def refresh_all_metrics(
    now: datetime.datetime | None = None, *, route: PostgresRoute | None = None
) -> RefreshReport:
    """Recompute and store every customer's metrics, scores and stage as of ``now``.

    Safe to run again: rows are upserted, and a stage change is recorded only when the stored
    stage differs. ``route`` picks the PostgreSQL summary route (for measuring both).
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    report = RefreshReport()
    with report.timed("read"):
        customer_ids = all_customer_ids()
        interactions = interaction_counts(now)
    with report.timed("summarise"):
        summary = summarise_orders(today, route=route)
    report.route = summary.route
    with report.timed("score"):
        columns = customer_columns(customer_ids, summary.summary, summary.discounted, interactions)
        thresholds = SegmentationSettings.current()
        breakpoints = compute_breakpoints(columns, today, abc_shares(thresholds))
        scores = score_customers(columns, today, thresholds, breakpoints)
        rows = metric_rows(columns, scores, today, now)
    with report.timed("store"), transaction.atomic():
        report.stage_changes = store_metrics(rows, today)
        save_breakpoints(thresholds, breakpoints)
    report.customers = len(customer_ids)
    report.customers_with_orders = int(columns.has_orders.sum())
    return report


def refresh_customer_metrics(customer_id: int, now: datetime.datetime | None = None) -> None:
    """Recompute one customer from their own orders; score against the stored breakpoints."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    if not Customer.objects.filter(pk=customer_id).exists():
        return  # deleted or merged meanwhile: the cascade removed the metrics row
    columns = single_customer_columns(customer_id, today, now)
    thresholds = SegmentationSettings.current()
    breakpoints = Breakpoints.from_json(thresholds.score_breakpoints)
    scores = score_customers(columns, today, thresholds, breakpoints)
    store_metrics(metric_rows(columns, scores, today, now), today)


def abc_shares(thresholds: SegmentationSettings) -> tuple[float, ...]:
    a_share = float(thresholds.abc_a_share)
    b_share = float(thresholds.abc_b_share)
    rest = round(1.0 - a_share - b_share, 9)
    return (a_share, b_share, rest) if rest > 0 else (a_share, 1.0 - a_share)


def save_breakpoints(thresholds: SegmentationSettings, breakpoints: Breakpoints) -> None:
    SegmentationSettings.objects.filter(pk=thresholds.pk).update(
        score_breakpoints=breakpoints.to_json()
    )


def all_customer_ids() -> npt.NDArray[np.int64]:
    ids = Customer.objects.order_by("pk").values_list("pk", flat=True)
    return np.fromiter(ids.iterator(chunk_size=20_000), dtype=np.int64)


def interaction_counts(now: datetime.datetime) -> dict[int, int]:
    """Contacts per customer in the 90 days up to ``now``: one grouped query."""
    recent = Interaction.objects.filter(
        occurred_at__gt=now - INTERACTION_WINDOW, occurred_at__lte=now
    )
    grouped = recent.values("customer_id").annotate(count=Count("id")).order_by()
    return dict(grouped.values_list("customer_id", "count"))


def customer_columns(
    customer_ids: npt.NDArray[np.int64],
    summary: pa.Table,
    discounted: pa.Table,
    interactions: dict[int, int],
) -> CustomerColumns:
    """Spread the summary (buyers only) over every customer; non-buyers get NaT and zeros."""
    positions = np.searchsorted(customer_ids, summary["customer_id"].to_numpy())
    count = len(customer_ids)

    def spread(values: npt.NDArray[Any], empty: object) -> npt.NDArray[Any]:
        column = np.full(count, empty, dtype=values.dtype)
        column[positions] = values
        return column

    return CustomerColumns(
        customer_id=customer_ids,
        first_purchase=spread(date_array(summary["first_purchase"]), NO_DATE),
        last_purchase=spread(date_array(summary["last_purchase"]), NO_DATE),
        previous_purchase=spread(date_array(summary["previous_purchase"]), NO_DATE),
        frequency=spread(summary["frequency"].to_numpy().astype(np.int64), 0),
        monetary=spread(summary["monetary"].to_numpy().astype(np.float64), 0.0),
        discounted_orders=counts_by_customer(
            customer_ids,
            discounted["customer_id"].to_numpy(),
            discounted["discounted_orders"].to_numpy(),
        ),
        interactions_90_days=counts_by_customer(
            customer_ids,
            np.fromiter(interactions.keys(), dtype=np.int64, count=len(interactions)),
            np.fromiter(interactions.values(), dtype=np.int64, count=len(interactions)),
        ),
    )


def date_array(column: pa.ChunkedArray) -> npt.NDArray[np.datetime64]:
    """An Arrow date column as datetime64[D], nulls as NaT."""
    values: npt.NDArray[np.datetime64] = column.to_numpy(zero_copy_only=False).astype(
        "datetime64[D]"
    )
    return values


def counts_by_customer(
    customer_ids: npt.NDArray[np.int64],
    keys: npt.NDArray[np.int64],
    counts: npt.NDArray[np.int64],
) -> npt.NDArray[np.int64]:
    result = np.zeros(len(customer_ids), dtype=np.int64)
    known = np.isin(keys, customer_ids)
    result[np.searchsorted(customer_ids, keys[known])] = counts[known]
    return result


def single_customer_columns(
    customer_id: int, today: datetime.date, now: datetime.datetime
) -> CustomerColumns:
    """The same columns for one customer from their orders, read with the ORM (few rows)."""
    orders = list(
        Order.objects.filter(customer_id=customer_id)
        .filter(status__in=PURCHASES)
        .values_list("ordered_at", "total_amount", "refunded_amount", "discount_amount")
    )
    purchases = [
        (timezone.localdate(ordered_at), total - refunded, discount)
        for ordered_at, total, refunded, discount in orders
        if timezone.localdate(ordered_at) <= today
    ]
    days = sorted({day for day, _amount, _discount in purchases})
    interactions = interaction_counts_for(customer_id, now)

    def one_date(day: datetime.date | None) -> npt.NDArray[np.datetime64]:
        return np.array([day if day else "NaT"], dtype="datetime64[D]")

    return CustomerColumns(
        customer_id=np.array([customer_id], dtype=np.int64),
        first_purchase=one_date(days[0] if days else None),
        last_purchase=one_date(days[-1] if days else None),
        previous_purchase=one_date(days[-2] if len(days) > 1 else None),
        frequency=np.array([len(purchases)], dtype=np.int64),
        monetary=np.array([float(sum((amount for _d, amount, _x in purchases), Decimal(0)))]),
        discounted_orders=np.array([sum(1 for *_rest, discount in purchases if discount > 0)]),
        interactions_90_days=np.array([interactions], dtype=np.int64),
    )


def interaction_counts_for(customer_id: int, now: datetime.datetime) -> int:
    return Interaction.objects.filter(
        customer_id=customer_id, occurred_at__gt=now - INTERACTION_WINDOW, occurred_at__lte=now
    ).count()
