"""Churn early warning: a 0-100 risk per customer from a few plain signals, each explained.

Each signal is a strength in [0, 1] (unknown counts as 0); the risk is their weighted mean in
points, so a salesperson can read what added how much. The inputs come from one grouped query
on the orders (Ibis on DuckDB) and one on the contacts, then vectorised numpy.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from kehu.analytics._fitting import FloatArray, as_vector, check_purchase_history
from kehu.analytics._sources import check_columns, duckdb_connection
from kehu.analytics._summary import purchase_date

if TYPE_CHECKING:
    import pyarrow as pa

    from kehu.analytics._bgnbd import BetaGeoModel

CHURN_SIGNALS: tuple[str, ...] = (
    "p_alive",
    "overdue",
    "frequency_drop",
    "spend_drop",
    "fewer_contacts",
    "low_satisfaction",
    "open_complaints",
)
CHURN_LEVELS: tuple[str, ...] = ("low", "watch", "warning", "critical")
# Overdue reaches full strength when the silence is this many typical gaps long.
OVERDUE_FULL_RATIO = 3.0


@dataclass(frozen=True)
class ChurnWeights:
    """Points per signal; only their ratios matter, since the risk is their weighted mean.

    The defaults were set by judgement, not fitted: most weight on the purchase model and on
    silence against the customer's own rhythm, less on drops and service signals. They were not
    tuned on the data sets of :func:`~kehu.analytics.evaluate_churn_warning`.
    """

    p_alive: float = 35.0
    overdue: float = 30.0
    frequency_drop: float = 10.0
    spend_drop: float = 10.0
    fewer_contacts: float = 5.0
    low_satisfaction: float = 5.0
    open_complaints: float = 5.0

    def __post_init__(self) -> None:
        for name in CHURN_SIGNALS:
            value = getattr(self, name)
            if not np.isfinite(value) or value < 0:
                raise ValueError(
                    f"The weight of {name} must be a non-negative number, not {value}."
                )
        if self.total() == 0:
            raise ValueError("At least one churn signal needs a weight above 0.")

    def total(self) -> float:
        return float(sum(getattr(self, name) for name in CHURN_SIGNALS))


@dataclass(frozen=True)
class ChurnInputs:
    """What the signals are computed from, one entry per customer, aligned with customer_id.

    The recent window is the ``window_days`` days ending on the as-of date, both included.
    Rates "before" are per ``window_days``, averaged over the customer's history before the
    recent window (at least one window long, so a short history does not inflate them); they
    are 0 when there is no history before the window.
    """

    customer_id: npt.NDArray[np.int64]
    days_since_last: FloatArray
    typical_gap_days: FloatArray
    orders_recent: FloatArray
    orders_before: FloatArray
    spend_recent: FloatArray
    spend_before: FloatArray
    contacts_recent: FloatArray
    contacts_before: FloatArray
    satisfaction: FloatArray
    open_complaints: FloatArray


@dataclass(frozen=True)
class ChurnRisk:
    """The risk (0-100 integers) and the points each signal added to it (floats)."""

    risk: npt.NDArray[np.int64]
    points: dict[str, FloatArray]


def churn_inputs(
    orders: pa.Table,
    as_of: datetime.date,
    *,
    customer_ids: npt.NDArray[np.int64] | None = None,
    contacts: pa.Table | None = None,
    window_days: int = 90,
) -> ChurnInputs:
    """The churn inputs of each customer as of ``as_of`` (rows dated after it are ignored).

    ``orders`` has ``customer_id`` (int64), ``date`` (date, timestamp or ISO string) and
    ``amount``: purchases only, refunds already netted. Purchases on one calendar day count as
    one purchase day. ``contacts`` (``customer_id``, ``date``) counts interactions. The rows are
    ``customer_ids`` (strictly increasing; customers without orders get NaN and 0) or else the
    distinct customers of ``orders``. ``satisfaction`` is NaN and ``open_complaints`` 0: callers
    with surveys or complaints fill them with :func:`dataclasses.replace`.
    """
    if window_days < 1:
        raise ValueError("window_days must be 1 or more.")
    purchases = _purchase_days(orders, as_of, window_days)
    ids = _row_ids(purchases, customer_ids)
    row, found = _positions(ids, purchases["customer_id"])
    days_since_last = _aligned(purchases, "days_since_last", row, found, np.nan)
    first_offset = _aligned(purchases, "first_offset", row, found, np.nan)
    exposure = _exposure(first_offset, window_days)
    talks = (np.zeros(len(ids)), np.zeros(len(ids)))
    if contacts is not None:
        talks = _contact_counts(contacts, ids, as_of, window_days)
    return ChurnInputs(
        customer_id=ids,
        days_since_last=days_since_last,
        typical_gap_days=_aligned(purchases, "typical_gap", row, found, np.nan),
        orders_recent=_aligned(purchases, "days_recent", row, found, 0.0),
        orders_before=_aligned(purchases, "days_before", row, found, 0.0) / exposure,
        spend_recent=_aligned(purchases, "spend_recent", row, found, 0.0),
        spend_before=_aligned(purchases, "spend_before", row, found, 0.0) / exposure,
        contacts_recent=talks[0],
        contacts_before=talks[1],
        satisfaction=np.full(len(ids), np.nan),
        open_complaints=np.zeros(len(ids)),
    )


def churn_signal_strengths(inputs: ChurnInputs, p_alive: FloatArray) -> dict[str, FloatArray]:
    """Each signal's strength in [0, 1] per customer; 0 where its input is unknown.

    ``p_alive`` is the purchase model's probability that the customer is still buying; the
    measured better choice is :func:`purchase_probability` over the warning's horizon.
    ``overdue`` compares the days since the last purchase with the customer's typical gap: 0 up
    to one gap, rising linearly to 1 at three gaps. Customers with a single purchase day have no
    gap of their own and are measured against the median typical gap of all customers who have
    one (the shop's usual rhythm); if nobody has one, overdue is 0.
    """
    alive = _as_aligned(p_alive, inputs, "p_alive")
    return {
        "p_alive": _unit(1.0 - alive),
        "overdue": _overdue(inputs.days_since_last, inputs.typical_gap_days),
        "frequency_drop": _relative_drop(inputs.orders_recent, inputs.orders_before),
        "spend_drop": _relative_drop(inputs.spend_recent, inputs.spend_before),
        "fewer_contacts": _relative_drop(inputs.contacts_recent, inputs.contacts_before),
        "low_satisfaction": _unit((4.0 - inputs.satisfaction) / 3.0),
        "open_complaints": _unit(np.minimum(inputs.open_complaints, 2.0) / 2.0),
    }


def churn_risk(
    inputs: ChurnInputs, p_alive: FloatArray, weights: ChurnWeights = ChurnWeights()
) -> ChurnRisk:
    """The churn risk 0-100: ``round(100 × Σ weight × strength / Σ weight)``.

    Customers who never bought are prospects, not churners: their risk and points are 0.

    Examples
    --------
    >>> import datetime, pyarrow as pa
    >>> orders = pa.table({"customer_id": [1, 1, 1, 2], "amount": [10.0, 10.0, 10.0, 5.0],
    ...     "date": [datetime.date(2024, 1, 1), datetime.date(2024, 1, 31),
    ...              datetime.date(2024, 3, 1), datetime.date(2024, 6, 1)]})
    >>> inputs = churn_inputs(orders, datetime.date(2024, 6, 30), window_days=60)
    >>> inputs.days_since_last.tolist(), inputs.typical_gap_days.tolist()
    ([121.0, 29.0], [30.0, nan])
    >>> result = churn_risk(inputs, np.array([0.2, 1.0]))
    >>> result.risk.tolist()
    [78, 0]
    >>> result.points["p_alive"].round(1).tolist(), result.points["overdue"].round(1).tolist()
    ([28.0, 0.0], [30.0, 0.0])
    """
    strengths = churn_signal_strengths(inputs, p_alive)
    bought = np.isfinite(inputs.days_since_last)
    total = weights.total()
    points = {
        name: np.where(bought, 100.0 * getattr(weights, name) * strength / total, 0.0)
        for name, strength in strengths.items()
    }
    score = np.sum(np.vstack(list(points.values())), axis=0)
    risk = np.clip(np.rint(score), 0, 100).astype(np.int64)
    return ChurnRisk(risk=risk, points=points)


def purchase_probability(
    model: BetaGeoModel, t: Any, frequency: Any, recency: Any, T: Any
) -> FloatArray:
    """P(at least one purchase in the next ``t`` periods) under a fitted BG/NBD.

    A better model signal for :func:`churn_risk` than P(alive): BG/NBD puts P(alive) at 1 for
    every one-time buyer (dropout happens only after a repeat purchase), and when the history is
    too short to see anyone drop out the fit gives P(alive) ≈ 1 to everybody, as on Online
    Retail. This probability also counts how rarely the customer buys, and it is what the
    warning predicts: a purchase within the horizon. Measured by
    :func:`~kehu.analytics.evaluate_churn_warning`, the risk ranks churners better with it.

    Alive at T, a customer with rate λ cannot drop out before buying again, so
    ``P(no purchase) = 1 − P(alive) + P(alive) × ((α + T) / (α + T + t))^(r + x)``, the
    gamma posterior of λ averaged over ``e^(−λt)``.

    Examples
    --------
    >>> from kehu.analytics import BetaGeoModel
    >>> model = BetaGeoModel()
    >>> model.params_ = {"r": 1.0, "alpha": 10.0, "a": 1.0, "b": 3.0}
    >>> purchase_probability(model, 10.0, [0], [0.0], [10.0]).round(3).tolist()
    [0.333]
    """
    x, t_x, age = check_purchase_history(frequency, recency, T, for_fitting=False)
    horizon = as_vector(t, "t")
    if np.any(horizon < 0):
        raise ValueError("t must be 0 or more periods.")
    alive = model.probability_alive(x, t_x, age)
    rate_shape, rate_scale = model.params_["r"], model.params_["alpha"]
    quiet_if_alive = ((rate_scale + age) / (rate_scale + age + horizon)) ** (rate_shape + x)
    result: FloatArray = alive * (1.0 - quiet_if_alive)
    return result


def churn_levels(
    risk: npt.NDArray[np.int64], thresholds: tuple[int, int, int] = (40, 60, 80)
) -> npt.NDArray[np.str_]:
    """The level of each risk: below t1 low, from t1 watch, from t2 warning, from t3 critical.

    Examples
    --------
    >>> churn_levels(np.array([0, 40, 59, 60, 80, 100])).tolist()
    ['low', 'watch', 'watch', 'warning', 'critical', 'critical']
    """
    first, second, third = thresholds
    if not 0 < first < second < third <= 100:
        raise ValueError(f"Thresholds must satisfy 0 < t1 < t2 < t3 <= 100, not {thresholds}.")
    index = np.searchsorted(np.asarray(thresholds), np.asarray(risk), side="right")
    levels: npt.NDArray[np.str_] = np.asarray(CHURN_LEVELS)[index]
    return levels


def _purchase_days(orders: pa.Table, as_of: datetime.date, window_days: int) -> pa.Table:
    """Per customer: days since last and first purchase, typical gap, recent/before counts."""
    import ibis

    connection = duckdb_connection()
    table = connection.create_view("orders", ibis.memtable(orders), overwrite=True)
    check_columns(table, ("customer_id", "date", "amount"))
    end = ibis.date(as_of)
    window_start = ibis.date(as_of - datetime.timedelta(days=window_days))
    rows = table.select(
        customer_id=table.customer_id.cast("int64"),
        day=purchase_date(table.date),
        amount=table.amount.cast("float64"),
    )
    rows = rows.filter(rows.customer_id.notnull() & (rows.day <= end))
    days = rows.group_by(["customer_id", "day"]).aggregate(amount=rows.amount.sum())
    order = ibis.window(group_by="customer_id", order_by="day")
    days = days.mutate(gap=days.day.delta(days.day.lag().over(order), unit="day"))
    is_recent = days.day > window_start
    grouped = days.group_by("customer_id").aggregate(
        first_day=days.day.min(),
        last_day=days.day.max(),
        typical_gap=days.gap.cast("float64").median(),
        days_recent=days.count(where=is_recent),
        days_before=days.count(where=~is_recent),
        spend_recent=days.amount.sum(where=is_recent),
        spend_before=days.amount.sum(where=~is_recent),
    )
    summary = grouped.select(
        "customer_id",
        "typical_gap",
        "days_recent",
        "days_before",
        "spend_recent",
        "spend_before",
        days_since_last=end.delta(grouped.last_day, unit="day"),
        first_offset=end.delta(grouped.first_day, unit="day"),
    )
    return summary.order_by("customer_id").to_pyarrow()


def _contact_counts(
    contacts: pa.Table, ids: npt.NDArray[np.int64], as_of: datetime.date, window_days: int
) -> tuple[FloatArray, FloatArray]:
    """Contacts in the recent window, and the usual count per window before it.

    The usual count is measured from each customer's first contact, like purchases are from the
    first purchase.
    """
    import ibis

    connection = duckdb_connection()
    table = connection.create_view("contacts", ibis.memtable(contacts), overwrite=True)
    check_columns(table, ("customer_id", "date"))
    end = ibis.date(as_of)
    window_start = ibis.date(as_of - datetime.timedelta(days=window_days))
    rows = table.select(customer_id=table.customer_id.cast("int64"), day=purchase_date(table.date))
    rows = rows.filter(rows.customer_id.notnull() & (rows.day <= end))
    is_recent = rows.day > window_start
    grouped = rows.group_by("customer_id").aggregate(
        recent=rows.count(where=is_recent),
        before=rows.count(where=~is_recent),
        first_offset=end.delta(rows.day.min(), unit="day"),
    )
    counts = grouped.order_by("customer_id").to_pyarrow()
    row, found = _positions(ids, counts["customer_id"])
    exposure = _exposure(_aligned(counts, "first_offset", row, found, np.nan), window_days)
    recent = _aligned(counts, "recent", row, found, 0.0)
    return recent, _aligned(counts, "before", row, found, 0.0) / exposure


def _row_ids(purchases: pa.Table, customer_ids: Any) -> npt.NDArray[np.int64]:
    if customer_ids is None:
        ids: npt.NDArray[np.int64] = purchases["customer_id"].to_numpy().astype(np.int64)
        return ids
    given = np.asarray(customer_ids, dtype=np.int64)
    if given.ndim != 1 or np.any(np.diff(given) <= 0):
        raise ValueError("customer_ids must be a one-dimensional, strictly increasing array.")
    return given


def _positions(
    ids: npt.NDArray[np.int64], found_ids: Any
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.bool_]]:
    """For each of ``ids``, its row in the sorted ``found_ids`` and whether it is there."""
    sorted_ids = np.asarray(found_ids.to_numpy(), dtype=np.int64)
    row = np.minimum(np.searchsorted(sorted_ids, ids), max(len(sorted_ids) - 1, 0))
    found = (row < len(sorted_ids)) & (sorted_ids[row] == ids) if len(sorted_ids) else row < 0
    return row, found


def _aligned(
    table: pa.Table,
    column: str,
    row: npt.NDArray[np.intp],
    found: npt.NDArray[np.bool_],
    missing: float,
) -> FloatArray:
    """``table[column]`` gathered onto the output rows (nulls and absent customers: missing)."""
    values = table[column].to_numpy(zero_copy_only=False).astype(np.float64)
    gathered = np.full(len(row), missing)
    gathered[found] = values[row[found]]
    gathered[found & np.isnan(gathered)] = missing
    return gathered


def _exposure(first_offset: FloatArray, window_days: int) -> FloatArray:
    """Windows of history before the recent window, at least 1 (NaN offsets: 1, counts are 0)."""
    days_before = np.nan_to_num(first_offset - window_days + 1, nan=0.0)
    result: FloatArray = np.maximum(days_before, window_days) / window_days
    return result


def _as_aligned(values: Any, inputs: ChurnInputs, name: str) -> FloatArray:
    vector = np.asarray(values, dtype=np.float64)
    if vector.shape != inputs.customer_id.shape:
        raise ValueError(
            f"{name} has {vector.size} values but there are {inputs.customer_id.size} customers."
        )
    return vector


def _unit(values: FloatArray) -> FloatArray:
    """Clipped to [0, 1], NaN (unknown) to 0."""
    result: FloatArray = np.nan_to_num(np.clip(values, 0.0, 1.0), nan=0.0)
    return result


def _relative_drop(recent: FloatArray, usual: FloatArray) -> FloatArray:
    """1 − recent / usual, in [0, 1]; 0 without a usual level above 0."""
    has_usual = np.isfinite(usual) & (usual > 0)
    ratio = np.divide(recent, usual, out=np.ones_like(usual), where=has_usual)
    return _unit(1.0 - ratio)


def _overdue(days_since_last: FloatArray, typical_gap: FloatArray) -> FloatArray:
    known = np.isfinite(typical_gap) & (typical_gap > 0)
    if not np.any(known):
        return np.zeros_like(days_since_last)
    gap = np.where(known, typical_gap, np.median(typical_gap[known]))
    ratio = days_since_last / gap
    return _unit((ratio - 1.0) / (OVERDUE_FULL_RATIO - 1.0))
