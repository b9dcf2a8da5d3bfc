"""Columns per customer and their scores, vectorised with numpy through kehu.analytics.

The full refresh scores everyone and keeps the score breakpoints (quintile boundaries and ABC
cut-offs) so that one customer can be scored the same way between full refreshes.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from kehu.segments.models import LifecycleStage, SegmentationSettings

SCORE_LEVELS = (2, 3, 4, 5)
ABC_LABELS = ("A", "B", "C")
NO_DATE = np.datetime64("NaT", "D")

FloatArray = npt.NDArray[np.float64]
DateArray = npt.NDArray[np.datetime64]


@dataclass
class CustomerColumns:
    """One entry per customer, in ``customer_id`` order; NaT/NaN where a customer never bought."""

    customer_id: npt.NDArray[np.int64]
    first_purchase: DateArray
    last_purchase: DateArray
    previous_purchase: DateArray
    frequency: npt.NDArray[np.int64]
    monetary: FloatArray
    discounted_orders: npt.NDArray[np.int64]
    interactions_90_days: npt.NDArray[np.int64]

    @property
    def has_orders(self) -> npt.NDArray[np.bool_]:
        return self.frequency > 0

    def days_before(self, as_of: datetime.date, dates: DateArray) -> FloatArray:
        days = (np.datetime64(as_of, "D") - dates).astype("timedelta64[D]")
        return np.where(np.isnat(dates), np.nan, days.astype(np.float64))


@dataclass
class Breakpoints:
    """Lowest value reaching each score 2..5 (highest for recency) and the ABC cut-offs."""

    as_of: str = ""
    recency_days: list[float | None] = field(default_factory=list)
    frequency: list[float | None] = field(default_factory=list)
    monetary: list[float | None] = field(default_factory=list)
    abc_minimum: list[float | None] = field(default_factory=list)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Breakpoints | None:
        if not data.get("as_of"):
            return None
        return cls(**{name: data[name] for name in cls.__dataclass_fields__ if name in data})

    def to_json(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


@dataclass
class Scores:
    r_score: FloatArray
    f_score: FloatArray
    m_score: FloatArray
    rfm_segment: npt.NDArray[np.str_]
    abc_class: npt.NDArray[np.str_]
    value_tier: npt.NDArray[np.str_]
    lifecycle_stage: npt.NDArray[np.str_]
    stage_entered: DateArray


def money(values: npt.ArrayLike) -> FloatArray:
    """Amounts rounded to cents: sums of cents in binary floats differ in the last bits."""
    rounded: FloatArray = np.round(np.asarray(values, dtype=np.float64), 2)
    return rounded


def compute_breakpoints(
    columns: CustomerColumns, as_of: datetime.date, abc_shares: tuple[float, ...]
) -> Breakpoints:
    """Score the buyers among ``columns`` with quintiles and keep where each score starts."""
    from kehu.analytics import abc_classes, rfm_scores

    buyers = columns.has_orders
    recency = columns.days_before(as_of, columns.last_purchase)[buyers]
    frequency = columns.frequency[buyers].astype(np.float64)
    monetary = money(columns.monetary[buyers])
    r_scores, f_scores, m_scores = rfm_scores(recency, frequency, monetary)
    classes = abc_classes(monetary, shares=abc_shares, labels=ABC_LABELS[: len(abc_shares)])
    return Breakpoints(
        as_of=as_of.isoformat(),
        recency_days=score_starts(recency, r_scores, lowest=False),
        frequency=score_starts(frequency, f_scores),
        monetary=score_starts(monetary, m_scores),
        abc_minimum=[
            lowest_value(monetary, np.isin(classes, ABC_LABELS[: index + 1]) & (monetary > 0))
            for index in range(len(ABC_LABELS) - 1)
        ],
    )


def score_starts(
    values: FloatArray, scores: npt.NDArray[np.int8], *, lowest: bool = True
) -> list[float | None]:
    """For scores 2..5: the lowest value (highest, for recency) with at least that score."""
    pick = lowest_value if lowest else highest_value
    return [pick(values, scores >= level) for level in SCORE_LEVELS]


def lowest_value(values: FloatArray, mask: npt.NDArray[np.bool_]) -> float | None:
    return float(values[mask].min()) if mask.any() else None


def highest_value(values: FloatArray, mask: npt.NDArray[np.bool_]) -> float | None:
    return float(values[mask].max()) if mask.any() else None


def scores_from_breakpoints(
    values: FloatArray, starts: list[float | None], *, higher_is_better: bool = True
) -> FloatArray:
    """1 plus the number of score starts a value reaches; NaN stays NaN (never bought)."""
    scores = np.ones(values.shape, dtype=np.float64)
    for start in starts:
        if start is None:
            continue
        scores += values >= start if higher_is_better else values <= start
    return np.where(np.isnan(values), np.nan, scores)


def abc_from_breakpoints(monetary: FloatArray, minimum: list[float | None]) -> npt.NDArray[np.str_]:
    classes = np.full(monetary.shape, ABC_LABELS[-1], dtype="<U1")
    for label, start in reversed(list(zip(ABC_LABELS, minimum, strict=False))):
        if start is not None:
            classes[(monetary > 0) & (monetary >= start)] = label
    return classes


def score_customers(
    columns: CustomerColumns,
    as_of: datetime.date,
    thresholds: SegmentationSettings,
    breakpoints: Breakpoints | None,
) -> Scores:
    """RFM, ABC, tier and stage of every customer in ``columns``."""
    from kehu.analytics import DEFAULT_SEGMENT_MAP, assign_segments

    buyers = columns.has_orders
    recency = columns.days_before(as_of, columns.last_purchase)
    frequency = np.where(buyers, columns.frequency, np.nan)
    monetary = np.where(buyers, money(columns.monetary), np.nan)
    points = breakpoints or Breakpoints()
    r_score = scores_from_breakpoints(recency, points.recency_days, higher_is_better=False)
    f_score = scores_from_breakpoints(frequency, points.frequency)
    m_score = scores_from_breakpoints(monetary, points.monetary)
    is_scored = buyers & (breakpoints is not None)
    segment = np.full(buyers.shape, "", dtype=object)
    if is_scored.any():
        segment[is_scored] = assign_segments(
            r_score[is_scored], f_score[is_scored], DEFAULT_SEGMENT_MAP
        )
    abc = np.where(is_scored, abc_from_breakpoints(monetary, points.abc_minimum), "")
    stage = lifecycle(columns, as_of, thresholds)
    return Scores(
        r_score=np.where(is_scored, r_score, np.nan),
        f_score=np.where(is_scored, f_score, np.nan),
        m_score=np.where(is_scored, m_score, np.nan),
        rfm_segment=segment.astype(np.str_),
        abc_class=abc.astype(np.str_),
        value_tier=tiers(columns, as_of, thresholds),
        lifecycle_stage=stage,
        stage_entered=stage_entered(columns, stage, as_of, thresholds),
    )


def tiers(
    columns: CustomerColumns, as_of: datetime.date, thresholds: SegmentationSettings
) -> npt.NDArray[np.str_]:
    from kehu.analytics import TierRules, value_tiers

    rules = TierRules(
        vip_min_monetary=float(thresholds.vip_min_monetary),
        vip_min_frequency=thresholds.vip_min_frequency,
        new_max_tenure_days=thresholds.new_tier_days,
    )
    monetary = np.where(columns.has_orders, money(columns.monetary), np.nan)
    tenure = columns.days_before(as_of, columns.first_purchase)
    return value_tiers(monetary, columns.frequency, tenure, rules)


def lifecycle(
    columns: CustomerColumns, as_of: datetime.date, thresholds: SegmentationSettings
) -> npt.NDArray[np.str_]:
    from kehu.analytics import lifecycle_stages

    gap = (columns.last_purchase - columns.previous_purchase).astype("timedelta64[D]")
    gap_days = np.where(np.isnat(columns.previous_purchase), np.nan, gap.astype(np.float64))
    return lifecycle_stages(
        columns.days_before(as_of, columns.last_purchase),
        columns.days_before(as_of, columns.first_purchase),
        gap_days,
        lifecycle_thresholds(thresholds),
    )


def lifecycle_thresholds(thresholds: SegmentationSettings) -> Any:
    from kehu.analytics import LifecycleThresholds

    return LifecycleThresholds(
        new_days=thresholds.new_days,
        active_days=thresholds.active_days,
        dormant_days=thresholds.dormant_days,
    )


def stage_entered(
    columns: CustomerColumns,
    stage: npt.NDArray[np.str_],
    as_of: datetime.date,
    thresholds: SegmentationSettings,
) -> DateArray:
    """The day each customer entered their stage, where the purchase dates tell it exactly.

    New: the first purchase; reactivated: the purchase that brought them back; dormant: the day
    after the active window closed; churned: the day after the dormant window closed. Prospect
    and active: the purchase dates cannot tell (a customer may have lapsed and come back
    earlier), so the refresh day. Used only when the stage changed; an unchanged stage keeps its
    date.
    """
    today = np.datetime64(as_of, "D")
    last = columns.last_purchase
    entered = np.select(
        [
            stage == LifecycleStage.NEW,
            stage == LifecycleStage.REACTIVATED,
            stage == LifecycleStage.DORMANT,
            stage == LifecycleStage.CHURNED,
        ],
        [
            columns.first_purchase,
            last,
            last + np.timedelta64(thresholds.active_days + 1, "D"),
            last + np.timedelta64(thresholds.dormant_days + 1, "D"),
        ],
        default=today,
    ).astype("datetime64[D]")
    return np.minimum(entered, today)
