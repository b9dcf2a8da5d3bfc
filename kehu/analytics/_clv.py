"""Customer lifetime value: the calibration summary, holdout validation and discounted CLV.

The calibration summary is one grouped Ibis query (the same engines as the RFM summary: DuckDB
over files or Arrow, or any Ibis backend), then converted to periods with numpy. Purchases on
the same calendar day count as one transaction, so ``frequency`` is the number of repeat
purchase days; recency and T are measured in days and divided by the period length (7 for
weeks), exactly as the published CDNOW summary does.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

import numpy as np

from kehu.analytics._fitting import FloatArray, as_vector
from kehu.analytics._sources import check_columns, duckdb_connection, read_file
from kehu.analytics._summary import purchase_date

if TYPE_CHECKING:
    import ibis.expr.types as ir
    import pyarrow as pa

Period = Literal["day", "week"]
PERIOD_DAYS: dict[str, float] = {"day": 1.0, "week": 7.0}

CALIBRATION_COLUMNS: tuple[str, ...] = (
    "customer_id",
    "frequency",
    "recency",
    "T",
    "monetary_value",
)


class TransactionModel(Protocol):
    """What the CLV needs of a purchase model (BG/NBD or Pareto/NBD)."""

    def expected_purchases(self, t: Any, frequency: Any, recency: Any, T: Any) -> FloatArray: ...


def period_days(period: str) -> float:
    """Days in one period; a ValueError for anything but "day" or "week"."""
    try:
        return PERIOD_DAYS[period]
    except KeyError:
        raise ValueError(f"period must be 'day' or 'week', not {period!r}.") from None


def calibration_summary_expression(
    table: ir.Table,
    *,
    calibration_end: datetime.date,
    customer_column: str = "customer_id",
    date_column: str = "date",
    amount_column: str | None = "amount",
    holdout_end: datetime.date | None = None,
) -> ir.Table:
    """One row per customer acquired by ``calibration_end``, durations in whole days.

    Returns ``customer_id``, ``first_purchase``, ``repeat_days`` (purchase days after the
    first, up to and including ``calibration_end``), ``recency_days`` (last minus first
    purchase day), ``age_days`` (``calibration_end`` minus first purchase day),
    ``repeat_amount`` (spend on the repeat days; 0 without an amount column) and, with
    ``holdout_end``, ``holdout_days`` (purchase days after ``calibration_end`` up to and
    including ``holdout_end``), ordered by ``customer_id``.
    """
    import ibis

    check_columns(table, (customer_column, date_column, amount_column))
    end = ibis.date(calibration_end)
    amount = ibis.literal(0.0) if amount_column is None else table[amount_column].cast("float64")
    rows = table.select(
        customer_id=table[customer_column],
        day=purchase_date(table[date_column]),
        amount=amount,
    )
    rows = rows.filter(rows.customer_id.notnull())
    days = rows.group_by(["customer_id", "day"]).aggregate(amount=rows.amount.sum())
    calibration = days.filter(days.day <= end)
    firsts = calibration.group_by("customer_id").aggregate(first_purchase=calibration.day.min())
    joined = calibration.join(firsts, "customer_id")
    is_repeat = joined.day > joined.first_purchase
    grouped = joined.group_by("customer_id").aggregate(
        first_purchase=joined.first_purchase.min(),
        last_purchase=joined.day.max(),
        repeat_days=(joined.count() - 1).cast("int64"),
        repeat_amount=joined.amount.sum(where=is_repeat).fill_null(0.0).cast("float64"),
    )
    summary = grouped.mutate(
        recency_days=grouped.last_purchase.delta(grouped.first_purchase, unit="day").cast("int64"),
        age_days=end.delta(grouped.first_purchase, unit="day").cast("int64"),
    )
    columns = [
        "customer_id",
        "first_purchase",
        "repeat_days",
        "recency_days",
        "age_days",
        "repeat_amount",
    ]
    if holdout_end is not None:
        if holdout_end <= calibration_end:
            raise ValueError("The holdout must end after the calibration end.")
        later = days.filter((days.day > end) & (days.day <= ibis.date(holdout_end)))
        holdout = later.group_by("customer_id").aggregate(holdout_count=later.count().cast("int64"))
        summary = summary.left_join(holdout, "customer_id").drop("customer_id_right")
        summary = summary.mutate(holdout_days=summary.holdout_count.fill_null(0))
        columns.append("holdout_days")
    return summary.select(*columns).order_by("customer_id")


def calibration_summary(
    table: ir.Table,
    *,
    calibration_end: datetime.date,
    period: str = "week",
    customer_column: str = "customer_id",
    date_column: str = "date",
    amount_column: str | None = "amount",
    holdout_end: datetime.date | None = None,
) -> pa.Table:
    """The model inputs per customer: frequency, recency, T (in periods) and monetary value.

    ``monetary_value`` is the mean spend per repeat purchase day (0 without repeat purchases),
    the input of the Gamma-Gamma model. With ``holdout_end`` the table also has
    ``holdout_frequency`` (purchase days in the holdout) and ``holdout_length`` (periods).
    Customers whose first purchase is after ``calibration_end`` are not in the table.

    Examples
    --------
    >>> import ibis
    >>> orders = ibis.memtable({"customer_id": ["a", "a", "a"], "amount": [5.0, 7.0, 9.0],
    ...     "date": ["2024-01-01", "2024-01-08", "2024-01-08"]})
    >>> summary = calibration_summary(orders, calibration_end=datetime.date(2024, 1, 15))
    >>> summary["frequency"].to_pylist(), summary["T"].to_pylist()
    ([1], [2.0])
    >>> summary["monetary_value"].to_pylist()
    [16.0]
    """
    import pyarrow as pa

    length = period_days(period)
    expression = calibration_summary_expression(
        table,
        calibration_end=calibration_end,
        customer_column=customer_column,
        date_column=date_column,
        amount_column=amount_column,
        holdout_end=holdout_end,
    )
    days = expression.to_pyarrow()
    frequency = days["repeat_days"].to_numpy(zero_copy_only=False).astype(np.int64)
    repeat_amount = days["repeat_amount"].to_numpy(zero_copy_only=False).astype(np.float64)
    monetary = np.divide(
        repeat_amount,
        frequency,
        out=np.zeros_like(repeat_amount),
        where=frequency > 0,
    )
    columns: dict[str, Any] = {
        "customer_id": days["customer_id"],
        "frequency": pa.array(frequency),
        "recency": pa.array(days["recency_days"].to_numpy(zero_copy_only=False) / length),
        "T": pa.array(days["age_days"].to_numpy(zero_copy_only=False) / length),
        "monetary_value": pa.array(monetary),
    }
    if holdout_end is not None:
        columns["holdout_frequency"] = days["holdout_days"]
        holdout_length = (holdout_end - calibration_end).days / length
        columns["holdout_length"] = pa.array(np.full(days.num_rows, holdout_length))
    return pa.table(columns)


def calibration_summary_from_file(
    path: str | Path,
    *,
    calibration_end: datetime.date,
    period: str = "week",
    customer_column: str,
    date_column: str,
    date_format: str | None = None,
    amount_column: str | None = None,
    holdout_end: datetime.date | None = None,
) -> pa.Table:
    """:func:`calibration_summary` of a CSV or Parquet file read by DuckDB.

    ``date_format`` is a strptime format (``"%Y%m%d"`` for CDNOW's integer dates); without
    it dates must be ISO-8601. An unreadable date or amount raises
    :class:`~kehu.analytics.UnreadableValueError` naming the value.
    """
    from kehu.analytics._files import UnreadableValueError, _customer_id, _parsed_date

    location = Path(path)
    connection = duckdb_connection()
    read_options = {"all_varchar": True} if location.suffix.lower() == ".csv" else {}
    raw = read_file(connection, location, **read_options)
    check_columns(raw, (customer_column, date_column, amount_column))
    date_text = raw[date_column].cast("string")
    parsed = _parsed_date(date_text if date_format else raw[date_column], date_format)
    selected: dict[str, Any] = {
        "customer_id": _customer_id(raw, customer_column),
        "raw_date": raw[date_column],
        "purchase_time": parsed,
    }
    if amount_column is not None:
        selected["raw_amount"] = raw[amount_column].cast("string")
        selected["amount"] = raw[amount_column].try_cast("float64")
    rows = raw.select(**selected)
    rows = rows.filter(rows.customer_id.notnull())
    checks = [("purchase_time", "raw_date", date_column, "date")]
    if amount_column is not None:
        checks.append(("amount", "raw_amount", amount_column, "number"))
    for parsed_name, raw_name, column, kind in checks:
        bad = rows.filter(rows[parsed_name].isnull()).select(raw_name).limit(1).to_pyarrow()
        if bad.num_rows:
            raise UnreadableValueError(column, bad.column(0)[0].as_py(), kind)
    return calibration_summary(
        rows,
        calibration_end=calibration_end,
        period=period,
        customer_column="customer_id",
        date_column="purchase_time",
        amount_column=None if amount_column is None else "amount",
        holdout_end=holdout_end,
    )


def holdout_comparison(
    model: TransactionModel, summary: pa.Table, *, largest_frequency: int = 7
) -> pa.Table:
    """Mean actual and predicted holdout purchases by calibration frequency.

    ``summary`` comes from :func:`calibration_summary` with a ``holdout_end``. Frequencies from
    ``largest_frequency`` up are pooled into one row labelled with ``largest_frequency``.
    Returns ``frequency``, ``customers``, ``actual`` and ``predicted``.
    """
    import pyarrow as pa

    if "holdout_frequency" not in summary.column_names:
        raise ValueError("The summary has no holdout: compute it with a holdout_end.")
    if summary.num_rows == 0:
        raise ValueError("The summary has no customers.")
    frequency = summary["frequency"].to_numpy(zero_copy_only=False).astype(np.float64)
    predicted = model.expected_purchases(
        summary["holdout_length"].to_numpy(zero_copy_only=False),
        frequency,
        summary["recency"].to_numpy(zero_copy_only=False),
        summary["T"].to_numpy(zero_copy_only=False),
    )
    actual = summary["holdout_frequency"].to_numpy(zero_copy_only=False).astype(np.float64)
    groups = np.minimum(frequency, largest_frequency).astype(np.int64)
    labels = np.unique(groups)
    counts = np.bincount(groups, minlength=largest_frequency + 1)[labels]
    actual_sums = np.bincount(groups, weights=actual, minlength=largest_frequency + 1)[labels]
    predicted_sums = np.bincount(groups, weights=predicted, minlength=largest_frequency + 1)
    return pa.table(
        {
            "frequency": pa.array(labels),
            "customers": pa.array(counts),
            "actual": pa.array(actual_sums / counts),
            "predicted": pa.array(predicted_sums[labels] / counts),
        }
    )


def customer_lifetime_value(
    model: TransactionModel,
    frequency: Any,
    recency: Any,
    T: Any,
    average_value: Any,
    *,
    steps: int = 12,
    step_length: float = 1.0,
    discount_rate: float = 0.01,
) -> FloatArray:
    """Discounted value of each customer's expected purchases over ``steps`` steps.

    Step ``i`` (1…steps) contributes ``average_value × (E[X(i·L)] − E[X((i−1)·L)]) /
    (1 + discount_rate)^i`` with ``L = step_length`` in the model's time unit: 12 steps of
    4.345 weeks is one year of monthly discounting (``lifetimes``' convention).
    ``average_value`` is usually the Gamma-Gamma expected average order value.

    Examples
    --------
    >>> class Steady:
    ...     def expected_purchases(self, t, frequency, recency, T):
    ...         return np.asarray(t) * np.ones(len(frequency))
    >>> customer_lifetime_value(Steady(), [1], [1.0], [2.0], [10.0], steps=2,
    ...     discount_rate=0.0).tolist()
    [20.0]
    """
    value = as_vector(average_value, "average_value")
    customers = len(as_vector(frequency, "frequency"))
    if len(value) not in (1, customers):
        raise ValueError(
            f"average_value must have one value per customer ({len(value)} values for "
            f"{customers} customers) or a single value for all."
        )
    if steps < 1:
        raise ValueError("steps must be 1 or more.")
    if step_length <= 0:
        raise ValueError("step_length must be positive.")
    if discount_rate <= -1:
        raise ValueError("discount_rate must be greater than -1.")
    total = np.zeros(customers)
    previous = model.expected_purchases(0.0, frequency, recency, T)
    for step in range(1, steps + 1):
        current = model.expected_purchases(step * step_length, frequency, recency, T)
        total += value * (current - previous) / (1 + discount_rate) ** step
        previous = current
    return total
