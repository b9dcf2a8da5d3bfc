"""The numbers of the CLV overview page.

Every figure of the overview is a grouped query over the prediction rows of
`visible_customers(user)` (three in all): a salesperson's totals count only their own and the
pool's customers. The CLV histogram is bucketed by the database into 1-2-5 bands (¥1–2, ¥2–5,
¥5–10, …), since lifetime values are skewed: equal-width bins would put nearly everyone in the
first one.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import (
    Case,
    CharField,
    Count,
    IntegerField,
    Max,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.predictions.models import ChurnLevel, CustomerPrediction
from kehu.predictions.queries import AT_RISK_LEVELS, visible_predictions
from kehu.segments.models import RfmSegment, ValueTier

BAND_STEPS = (1, 2, 5)
UNSCORED = ""


@dataclass(frozen=True)
class Band:
    """Customers whose predicted CLV is at least `low` and below `high` (None: open end)."""

    low: Decimal | None
    high: Decimal | None
    customers: int
    value: Decimal

    @property
    def label(self) -> str:
        if self.low is None:
            return _("below ¥%(high)s") % {"high": money(self.high)}
        return f"¥{money(self.low)}–{money(self.high)}"


@dataclass(frozen=True)
class RiskGroup:
    """Customers and their value in one group (a churn level, an RFM segment, a value tier)."""

    key: str
    label: str
    customers: int
    value: Decimal


@dataclass(frozen=True)
class ClvOverview:
    customers: int
    customers_with_clv: int
    total_clv: Decimal
    at_risk_customers: int
    value_at_risk: Decimal
    refreshed_at: datetime | None
    bands: list[Band] = field(default_factory=list)
    levels: list[RiskGroup] = field(default_factory=list)
    risk_by_segment: list[RiskGroup] = field(default_factory=list)
    risk_by_tier: list[RiskGroup] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return self.customers == 0


def money(value: Decimal | None) -> str:
    return f"{value or 0:,.0f}"


def build_clv_overview(user: User) -> ClvOverview:
    predictions = visible_predictions(user)
    levels: list[Mapping[str, Any]] = list(
        predictions.values("churn_level")
        .annotate(
            customers=Count("pk"),
            with_clv=Count("clv"),
            clv_total=Sum("clv"),
            stake=Sum("value_at_stake"),
            highest=Max("clv"),
            refreshed=Max("refreshed_at"),
        )
        .order_by()
    )
    at_risk = [row for row in levels if row["churn_level"] in AT_RISK_LEVELS]
    highest = [row["highest"] for row in levels if row["highest"] is not None]
    refreshed = [row["refreshed"] for row in levels if row["refreshed"] is not None]
    return ClvOverview(
        customers=sum(row["customers"] for row in levels),
        customers_with_clv=sum(row["with_clv"] for row in levels),
        total_clv=total(row["clv_total"] for row in levels),
        at_risk_customers=sum(row["customers"] for row in at_risk),
        value_at_risk=total(row["stake"] for row in at_risk),
        refreshed_at=max(refreshed) if refreshed else None,
        bands=clv_bands(predictions, max(highest)) if highest else [],
        levels=level_groups(levels),
        **risk_groups(predictions) if at_risk else {},
    )


def total(values: Any) -> Decimal:
    return sum((Decimal(value or 0) for value in values), Decimal(0))


def level_groups(rows: list[Mapping[str, Any]]) -> list[RiskGroup]:
    """Every churn level, empty ones included, from low to critical."""
    found: dict[str, Mapping[str, Any]] = {row["churn_level"]: row for row in rows}
    return [
        RiskGroup(
            key=level,
            label=str(label),
            customers=found.get(level, {}).get("customers", 0),
            value=Decimal(found.get(level, {}).get("stake") or 0),
        )
        for level, label in ChurnLevel.choices
    ]


def band_edges(highest: Decimal) -> list[Decimal]:
    """1, 2, 5, 10, 20, 50, … up to the first edge above the highest value."""
    edges: list[Decimal] = []
    magnitude = Decimal(1)
    while not edges or edges[-1] <= highest:
        edges.extend(magnitude * step for step in BAND_STEPS)
        magnitude *= 10
    while len(edges) > 1 and edges[-2] > highest:
        edges.pop()
    return edges


def clv_bands(predictions: QuerySet[CustomerPrediction], highest: Decimal) -> list[Band]:
    """Customers per CLV band, counted by the database; empty bands at either end are dropped."""
    edges = band_edges(Decimal(highest))
    band = Case(
        *(When(clv__lt=edge, then=Value(index)) for index, edge in enumerate(edges)),
        default=Value(len(edges)),
        output_field=IntegerField(),
    )
    rows = (
        predictions.filter(clv__isnull=False)
        .annotate(band=band)
        .values("band")
        .annotate(customers=Count("pk"), value=Sum("clv"))
        .order_by()
    )
    found: dict[int, dict[str, Any]] = {row["band"]: dict(row) for row in rows}
    lows: list[Decimal | None] = [None, *edges]
    bands = [
        Band(
            low=lows[index],
            high=edges[index] if index < len(edges) else None,
            customers=found.get(index, {}).get("customers", 0),
            value=Decimal(found.get(index, {}).get("value") or 0),
        )
        for index in range(len(edges))
    ]
    return trim_empty_ends(bands)


def trim_empty_ends(bands: list[Band]) -> list[Band]:
    filled = [index for index, band in enumerate(bands) if band.customers]
    if not filled:
        return []
    return bands[filled[0] : filled[-1] + 1]


def risk_groups(predictions: QuerySet[CustomerPrediction]) -> dict[str, list[RiskGroup]]:
    """Value at stake of the warning and critical customers by RFM segment and by value tier."""
    rows: list[Mapping[str, Any]] = list(
        predictions.filter(churn_level__in=AT_RISK_LEVELS)
        .values(
            segment=metric_or_unscored("customer__metrics__rfm_segment"),
            tier=metric_or_unscored("customer__metrics__value_tier"),
        )
        .annotate(customers=Count("pk"), stake=Sum("value_at_stake"))
        .order_by()
    )
    return {
        "risk_by_segment": grouped(rows, "segment", RfmSegment.choices),
        "risk_by_tier": grouped(rows, "tier", ValueTier.choices),
    }


def metric_or_unscored(path: str) -> Coalesce:
    """A metrics column that is "" for customers without scores (no metrics row)."""
    return Coalesce(path, Value(UNSCORED), output_field=CharField())


def grouped(rows: list[Mapping[str, Any]], key: str, choices: Any) -> list[RiskGroup]:
    """Sum the rows by one key, biggest value first; unscored customers form their own group."""
    labels = {value: str(label) for value, label in choices}
    labels[UNSCORED] = _("Not scored yet")
    customers: dict[str, int] = {}
    values: dict[str, Decimal] = {}
    for row in rows:
        name = str(row[key] or UNSCORED)
        customers[name] = customers.get(name, 0) + int(row["customers"])
        values[name] = values.get(name, Decimal(0)) + Decimal(row["stake"] or 0)
    groups = [
        RiskGroup(key=name, label=labels.get(name, name), customers=count, value=values[name])
        for name, count in customers.items()
    ]
    return sorted(groups, key=lambda group: (-group.value, group.label))


def clv_chart_data(overview: ClvOverview) -> dict[str, object]:
    """Plain numbers and labels for static/predictions/predictions.js; no model objects."""
    churn_url = reverse("predictions:churn")
    return {
        "bands": [
            {"label": band.label, "customers": band.customers, "value": float(band.value)}
            for band in overview.bands
        ],
        "levels": [
            {
                "key": group.key,
                "label": group.label,
                "customers": group.customers,
                "value": float(group.value),
                "link": f"{churn_url}?level={group.key}" if group.key != ChurnLevel.LOW else "",
            }
            for group in overview.levels
        ],
        "segments": risk_group_data(overview.risk_by_segment),
        "tiers": risk_group_data(overview.risk_by_tier),
        "labels": {
            "customers": _("Customers"),
            "value": _("Predicted lifetime value"),
            "valueAtRisk": _("Value at risk"),
            "valueAtStake": _("Value at stake"),
        },
    }


def risk_group_data(groups: list[RiskGroup]) -> list[dict[str, object]]:
    return [
        {"label": group.label, "customers": group.customers, "value": float(group.value)}
        for group in groups
    ]
