"""Churn risk of every customer: kehu.analytics' signals with the business's weights, the
warning levels, the reasons as stored data, and the value at stake.

Contacts are the interactions of the engagement timeline (any channel, either direction).
Satisfaction scores and complaints do not exist in kehu yet, so those signals stay at 0 until
they do; their weights are kept in the settings for when they arrive.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from kehu.predictions.models import PredictionModel, PredictionSettings

if TYPE_CHECKING:
    import pyarrow as pa

    from kehu.analytics import ChurnInputs, ChurnWeights

FloatArray = npt.NDArray[np.float64]
WINDOW_DAYS = 90  # the reason sentences say "in the last 90 days"
DAYS_PER_YEAR = 365.0
MIN_REASON_POINTS = 1.0
DEFAULT_THRESHOLDS = (
    PredictionSettings._meta.get_field("watch_threshold").default,
    PredictionSettings._meta.get_field("warning_threshold").default,
    PredictionSettings._meta.get_field("critical_threshold").default,
)


@dataclass(frozen=True)
class ChurnScores:
    """Per customer, aligned with the refresh's customer ids."""

    risk: npt.NDArray[np.int64]
    level: npt.NDArray[np.str_]
    reasons: list[list[dict[str, Any]]]
    value_at_stake: FloatArray


def score_churn(
    orders: pa.Table,
    contacts: pa.Table,
    customer_ids: npt.NDArray[np.int64],
    today: datetime.date,
    activity: FloatArray,
    settings: PredictionSettings,
) -> ChurnScores:
    """Risk, level, reasons and value at stake of every customer as of ``today``.

    ``orders`` has ``customer_id``, ``purchase_date`` and ``amount``; ``contacts`` has
    ``customer_id`` and ``date``. ``activity`` is the purchase model's signal (see
    ModelPredictions.activity), NaN where the model gave none (its signal then adds nothing and
    the others still count).
    """
    from kehu.analytics import churn_inputs, churn_levels, churn_risk

    purchases = orders.select(["customer_id", "purchase_date", "amount"]).rename_columns(
        ["customer_id", "date", "amount"]
    )
    inputs = churn_inputs(
        purchases, today, customer_ids=customer_ids, contacts=contacts, window_days=WINDOW_DAYS
    )
    scored = churn_risk(inputs, activity, weights_of(settings))
    levels = churn_levels(scored.risk, thresholds_of(settings))
    return ChurnScores(
        risk=scored.risk,
        level=levels,
        reasons=churn_reasons(inputs, activity, scored.points, purchase_horizon(settings)),
        value_at_stake=value_at_stake(inputs),
    )


def weights_of(settings: PredictionSettings) -> ChurnWeights:
    from kehu.analytics import CHURN_SIGNALS, ChurnWeights

    weights = {name: float(getattr(settings, f"weight_{name}")) for name in CHURN_SIGNALS}
    if sum(weights.values()) == 0:
        return ChurnWeights()  # every weight 0 means nothing to weigh: use the defaults
    return ChurnWeights(**weights)


def thresholds_of(settings: PredictionSettings) -> tuple[int, int, int]:
    """The settings' thresholds; the defaults if they are out of order (the settings form
    refuses that, but a nightly job should not fail on a row edited elsewhere)."""
    thresholds = (
        int(settings.watch_threshold),
        int(settings.warning_threshold),
        int(settings.critical_threshold),
    )
    if 0 < thresholds[0] < thresholds[1] < thresholds[2] <= 100:
        return thresholds
    return DEFAULT_THRESHOLDS


def value_at_stake(inputs: ChurnInputs) -> FloatArray:
    """What the customer brings in a year at their usual pace, the money a churn would cost.

    Precisely: the customer's usual spend per 90 days × 365 / 90, where the usual spend is their
    average spend per 90-day window over their history before the last 90 days
    (``ChurnInputs.spend_before``); a customer whose whole history lies within the last 90 days
    has no such history, and their spend in those 90 days stands in. Never negative (refunds
    can net a customer's spend below 0); 0 for customers who never bought.
    """
    usual = np.where(inputs.spend_before > 0, inputs.spend_before, inputs.spend_recent)
    yearly = np.maximum(np.nan_to_num(usual, nan=0.0), 0.0) * DAYS_PER_YEAR / WINDOW_DAYS
    result: FloatArray = np.round(yearly, 2)
    return result


def purchase_horizon(settings: PredictionSettings) -> int | None:
    """The days the model signal looks ahead: BG/NBD's is a purchase chance over the horizon,
    Pareto/NBD's is P(alive) (ModelPredictions.activity)."""
    return int(settings.horizon_days) if settings.model == PredictionModel.BGNBD else None


def churn_reasons(
    inputs: ChurnInputs,
    activity: FloatArray,
    points: dict[str, FloatArray],
    horizon_days: int | None = None,
) -> list[list[dict[str, Any]]]:
    """Each customer's signals that added at least one point, strongest first, with the values
    their sentence needs (the schema in kehu.predictions.text)."""
    from kehu.analytics import CHURN_SIGNALS

    values = reason_values(inputs, activity, horizon_days)
    matrix = np.vstack([points[name] for name in CHURN_SIGNALS]).T
    order = np.argsort(-matrix, axis=1, kind="stable")
    strong = np.take_along_axis(matrix, order, axis=1) >= MIN_REASON_POINTS
    whole_points = np.rint(matrix).astype(np.int64).tolist()
    reasons: list[list[dict[str, Any]]] = [[] for _ in range(len(matrix))]
    for row in np.flatnonzero(strong[:, 0]).tolist():
        points_row = whole_points[row]
        reasons[row] = [
            {"signal": CHURN_SIGNALS[signal], "points": points_row[signal]}
            | values[CHURN_SIGNALS[signal]](row)
            for signal, is_strong in zip(order[row].tolist(), strong[row].tolist(), strict=True)
            if is_strong
        ]
    return reasons


def reason_values(
    inputs: ChurnInputs, activity: FloatArray, horizon_days: int | None = None
) -> dict[str, Any]:
    """Per signal, a function from a row to the values of its reason (plain JSON numbers)."""
    columns = {
        "p_alive": np.round(np.nan_to_num(activity, nan=1.0), 3),
        "typical_gap_days": np.round(gap_measured_against(inputs.typical_gap_days), 1),
        "days_since_last": np.nan_to_num(inputs.days_since_last, nan=0.0),
        "orders_recent": np.round(inputs.orders_recent, 2),
        "orders_before": np.round(inputs.orders_before, 2),
        "spend_recent": np.round(inputs.spend_recent, 2),
        "spend_before": np.round(inputs.spend_before, 2),
        "contacts_recent": np.round(inputs.contacts_recent, 2),
        "contacts_before": np.round(inputs.contacts_before, 2),
        "satisfaction": np.round(np.nan_to_num(inputs.satisfaction, nan=0.0), 1),
        "open_complaints": np.nan_to_num(inputs.open_complaints, nan=0.0),
    }
    listed = {name: values.tolist() for name, values in columns.items()}

    def picker(*names: str) -> Any:
        return lambda row: {name: listed[name][row] for name in names}

    def model_signal(row: int) -> dict[str, Any]:
        values = {"p_alive": listed["p_alive"][row]}
        return values | {"horizon_days": horizon_days} if horizon_days else values

    return {
        "p_alive": model_signal,
        "overdue": picker("typical_gap_days", "days_since_last"),
        "frequency_drop": picker("orders_recent", "orders_before"),
        "spend_drop": picker("spend_recent", "spend_before"),
        "fewer_contacts": picker("contacts_recent", "contacts_before"),
        "low_satisfaction": picker("satisfaction"),
        "open_complaints": picker("open_complaints"),
    }


def gap_measured_against(typical_gap_days: FloatArray) -> FloatArray:
    """The gap the overdue signal compared with: the customer's own, or for one-day buyers the
    median of everyone's (as kehu.analytics' overdue signal does); 0 when nobody has one."""
    known = np.isfinite(typical_gap_days) & (typical_gap_days > 0)
    if not np.any(known):
        return np.zeros_like(typical_gap_days)
    result: FloatArray = np.where(known, typical_gap_days, np.median(typical_gap_days[known]))
    return result
