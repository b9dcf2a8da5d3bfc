"""The numbers of the segmentation overview page (客户细分), for the customers a user may see.

Each figure is one grouped query over the stored metrics joined to `visible_customers(user)`,
so a salesperson's grid counts only their own and the pool's customers. The Pareto curve reads
the spend of every visible customer as floats straight from the database and is summed with
numpy, then thinned to at most `PARETO_POINTS` points for the chart.
"""

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import numpy as np
from django.db.models import Count, FloatField, Max, QuerySet, Sum
from django.db.models.functions import Cast
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from kehu.accounts.models import User
from kehu.analytics import DEFAULT_SEGMENT_MAP
from kehu.customers.queries import visible_customers
from kehu.segments.models import (
    AbcClass,
    CustomerMetrics,
    LifecycleChange,
    LifecycleStage,
    RfmSegment,
    SegmentSnapshot,
    ValueTier,
)

PARETO_POINTS = 200
SCORES = (1, 2, 3, 4, 5)
MOVEMENT_DAYS = 7
FUNNEL_ORDER = (
    LifecycleStage.PROSPECT,
    LifecycleStage.NEW,
    LifecycleStage.ACTIVE,
    LifecycleStage.DORMANT,
    LifecycleStage.CHURNED,
    LifecycleStage.REACTIVATED,
)


@dataclass(frozen=True)
class Bucket:
    """Customers and their spend in one group (a grid cell, a class, a tier, a stage)."""

    key: str
    label: str
    customers: int
    revenue: Decimal


@dataclass(frozen=True)
class RfmCell:
    recency_score: int
    frequency_score: int
    segment: str
    segment_label: str
    customers: int
    revenue: Decimal


@dataclass(frozen=True)
class Movement:
    previous_stage: str
    previous_label: str
    stage: str
    stage_label: str
    customers: int


@dataclass(frozen=True)
class Overview:
    customers: int
    revenue: Decimal
    last_refreshed_at: datetime | None
    rfm_cells: list[RfmCell] = field(default_factory=list)
    pareto: list[tuple[float, float]] = field(default_factory=list)
    abc_classes: list[Bucket] = field(default_factory=list)
    value_tiers: list[Bucket] = field(default_factory=list)
    lifecycle_stages: list[Bucket] = field(default_factory=list)
    movements: list[Movement] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return self.customers == 0

    @property
    def movement_total(self) -> int:
        return sum(movement.customers for movement in self.movements)


def visible_metrics(user: User) -> QuerySet[CustomerMetrics]:
    """The metrics rows of the customers the user may see."""
    customers = visible_customers(user)
    if not customers.query.where:
        # The permission layer lets this user see everyone: skipping the IN (SELECT …) halves
        # the time of every grouped query on a large archive.
        return CustomerMetrics.objects.all()
    return CustomerMetrics.objects.filter(customer__in=customers)


def build_overview(user: User, today: date) -> Overview:
    metrics = visible_metrics(user)
    groups = list(
        metrics.values("abc_class", "value_tier", "lifecycle_stage")
        .annotate(customers=Count("pk"), revenue=Sum("monetary"), refreshed=Max("refreshed_at"))
        .order_by()
    )
    refreshed = [group["refreshed"] for group in groups if group["refreshed"] is not None]
    return Overview(
        customers=sum(group["customers"] for group in groups),
        revenue=sum((group["revenue"] or Decimal(0) for group in groups), Decimal(0)),
        last_refreshed_at=max(refreshed) if refreshed else None,
        rfm_cells=rfm_grid(metrics) if groups else [],
        pareto=pareto_curve(metrics) if groups else [],
        abc_classes=buckets(groups, "abc_class", AbcClass.choices),
        value_tiers=buckets(groups, "value_tier", ValueTier.choices),
        lifecycle_stages=buckets(groups, "lifecycle_stage", funnel_choices()),
        movements=stage_movements(user, today) if groups else [],
    )


def funnel_choices() -> list[tuple[str, Any]]:
    labels = dict(LifecycleStage.choices)
    return [(stage.value, labels[stage.value]) for stage in FUNNEL_ORDER]


def buckets(groups: list[Any], key: str, choices: list[tuple[str, Any]]) -> list[Bucket]:
    """Sum the combined groups by one of their keys, in the order of `choices` (all shown)."""
    customers: dict[str, int] = {value: 0 for value, _label in choices}
    revenue: dict[str, Decimal] = {value: Decimal(0) for value, _label in choices}
    for group in groups:
        value = str(group[key])
        if value not in customers:
            continue  # an unscored class ("") is not a bar of its own
        customers[value] += int(group["customers"])
        revenue[value] += group["revenue"] or Decimal(0)
    return [Bucket(value, str(label), customers[value], revenue[value]) for value, label in choices]


def rfm_grid(metrics: QuerySet[CustomerMetrics]) -> list[RfmCell]:
    """All 25 recency × frequency cells, empty ones included, each named by the segment map."""
    rows = (
        metrics.filter(r_score__isnull=False, f_score__isnull=False)
        .values("r_score", "f_score")
        .annotate(customers=Count("pk"), revenue=Sum("monetary"))
        .order_by()
    )
    found: dict[tuple[Any, Any], dict[str, Any]] = {
        (row["r_score"], row["f_score"]): dict(row) for row in rows
    }
    labels = dict(RfmSegment.choices)
    cells = []
    for recency in SCORES:
        for frequency in SCORES:
            row = found.get((recency, frequency), {})
            segment = DEFAULT_SEGMENT_MAP[(recency, frequency)]
            cells.append(
                RfmCell(
                    recency_score=recency,
                    frequency_score=frequency,
                    segment=segment,
                    segment_label=str(labels.get(segment, segment)),
                    customers=row.get("customers", 0),
                    revenue=row.get("revenue") or Decimal(0),
                )
            )
    return cells


def pareto_curve(metrics: QuerySet[CustomerMetrics]) -> list[tuple[float, float]]:
    """(share of customers, share of revenue) from the biggest spender down, ≤ 200 points."""
    amounts = np.fromiter(
        metrics.order_by("-monetary")
        .annotate(amount=Cast("monetary", FloatField()))
        .values_list("amount", flat=True),
        dtype=np.float64,
    )
    return downsampled_curve(amounts, PARETO_POINTS)


def downsampled_curve(amounts: np.ndarray, points: int) -> list[tuple[float, float]]:
    """The cumulative share curve of amounts sorted high to low, starting at (0, 0)."""
    count = amounts.size
    total = float(amounts.sum()) if count else 0.0
    if count == 0 or total <= 0:
        return []
    cumulative = np.cumsum(amounts) / total
    positions = np.unique(np.linspace(0, count - 1, num=min(points - 1, count)).round().astype(int))
    curve = [(0.0, 0.0)]
    curve.extend(
        (round((index + 1) / count, 4), round(float(cumulative[index]), 4)) for index in positions
    )
    return curve


def stage_movements(user: User, today: date) -> list[Movement]:
    """How many visible customers moved from one lifecycle stage to another in the last 7 days."""
    since = today - timedelta(days=MOVEMENT_DAYS - 1)
    rows = (
        LifecycleChange.objects.filter(changed_on__gte=since, customer__in=visible_customers(user))
        .exclude(previous_stage="")  # a customer's first scoring is not a movement
        .values("previous_stage", "stage")
        .annotate(customers=Count("pk"))
        .order_by("-customers", "previous_stage", "stage")
    )
    labels = dict(LifecycleStage.choices)
    return [
        Movement(
            previous_stage=row["previous_stage"],
            previous_label=str(labels.get(row["previous_stage"], "—")),
            stage=row["stage"],
            stage_label=str(labels.get(row["stage"], row["stage"])),
            customers=row["customers"],
        )
        for row in rows
    ]


# --- what the charts draw (passed to the page with json_script) -------------------------------


def builder_link(conditions: list[dict[str, object]]) -> str:
    """The segment builder pre-filled with all of `conditions`."""
    rule = json.dumps({"all": conditions}, ensure_ascii=False, separators=(",", ":"))
    return reverse("segments:builder") + "?" + urlencode({"rule": rule})


def condition(field_key: str, operator: str, value: object) -> dict[str, object]:
    return {"field": field_key, "op": operator, "value": value}


def overview_chart_data(overview: Overview) -> dict[str, object]:
    """Plain numbers and labels for static/segments/charts.js; no model objects."""
    return {
        "rfm": [
            {
                "recency": cell.recency_score,
                "frequency": cell.frequency_score,
                "segment": cell.segment_label,
                "customers": cell.customers,
                "revenue": float(cell.revenue),
                "link": builder_link(
                    [
                        condition("r_score", "eq", cell.recency_score),
                        condition("f_score", "eq", cell.frequency_score),
                    ]
                ),
            }
            for cell in overview.rfm_cells
        ],
        "pareto": overview.pareto,
        "abc": bucket_data(overview.abc_classes, "abc_class"),
        "tiers": bucket_data(overview.value_tiers, "value_tier"),
        "stages": bucket_data(overview.lifecycle_stages, "lifecycle_stage"),
        "labels": chart_labels(),
    }


def bucket_data(items: list[Bucket], field_key: str) -> list[dict[str, object]]:
    return [
        {
            "key": item.key,
            "label": item.label,
            "customers": item.customers,
            "revenue": float(item.revenue),
            "link": builder_link([condition(field_key, "eq", item.key)]),
        }
        for item in items
    ]


def chart_labels() -> dict[str, str]:
    return {
        "recency": gettext("Recency score (5 = bought most recently)"),
        "frequency": gettext("Frequency score (5 = buys most often)"),
        "customers": gettext("Customers"),
        "revenue": gettext("Revenue"),
        "customerShare": gettext("Share of customers"),
        "revenueShare": gettext("Share of revenue"),
        "members": gettext("Members"),
    }


def trend_chart_data(snapshots: Iterable[SegmentSnapshot]) -> dict[str, object]:
    """Dates and member counts of a segment's snapshots, oldest first."""
    points = [
        (timezone.localtime(snapshot.taken_at).strftime("%Y-%m-%d %H:%M"), snapshot.member_count)
        for snapshot in snapshots
    ]
    return {
        "dates": [date_text for date_text, _count in points],
        "members": [count for _date, count in points],
        "labels": chart_labels(),
    }
