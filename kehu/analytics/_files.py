"""RFM of a CSV or Parquet transactions file, as the `kehu rfm` command needs it: no database.

The file is read by DuckDB (CSV columns as text, so ids like "00123" keep their zeros), the
columns are normalised (trimmed customer ids, parsed dates, amount or quantity × price), bad
values are reported by value and column, and the shared summary expression does the rest.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from kehu.analytics._scoring import score_rfm
from kehu.analytics._segments import SegmentMap
from kehu.analytics._sources import (
    TransactionDataError,
    check_columns,
    day_after_latest,
    duckdb_connection,
    read_file,
)
from kehu.analytics._summary import rfm_summary_expression

if TYPE_CHECKING:
    import ibis.expr.types as ir
    import pyarrow as pa

RFM_OUTPUT_COLUMNS: tuple[str, ...] = (
    "customer_id",
    "first_purchase",
    "last_purchase",
    "recency_days",
    "frequency",
    "monetary",
    "r_score",
    "f_score",
    "m_score",
    "segment",
)


class UnreadableValueError(TransactionDataError):
    """A value that is not a date (``kind="date"``) or not a number (``kind="number"``)."""

    def __init__(self, column: str, value: object, kind: str) -> None:
        self.column = column
        self.value = value
        self.kind = kind
        shown = "an empty value" if value is None else repr(value)
        super().__init__(f"Column {column!r} has {shown}, which is not a {kind}.")


@dataclass(frozen=True)
class TransactionFile:
    """A transactions file and how to read it.

    Give either ``amount_column`` or both ``quantity_column`` and ``price_column`` (amount =
    quantity × price). Orders whose id starts with one of ``exclude_order_prefixes`` (e.g. "C"
    for cancellations) are left out. ``date_format`` is a strptime format such as
    ``"%d/%m/%Y %H:%M"``; without it dates must be ISO-8601 ("2024-03-01" or
    "2024-03-01 14:30:00").

    Examples
    --------
    >>> TransactionFile(Path("sales.csv"), "member", "invoice", "day", amount_column="total").path
    PosixPath('sales.csv')
    """

    path: Path
    customer_column: str
    order_column: str
    date_column: str
    amount_column: str | None = None
    quantity_column: str | None = None
    price_column: str | None = None
    exclude_order_prefixes: tuple[str, ...] = ()
    date_format: str | None = None

    def __post_init__(self) -> None:
        has_amount = self.amount_column is not None
        has_product = self.quantity_column is not None and self.price_column is not None
        has_any_product = self.quantity_column is not None or self.price_column is not None
        if has_amount == has_any_product or (has_any_product and not has_product):
            raise TransactionDataError(
                "Give either an amount column or both a quantity and a price column."
            )

    def columns(self) -> tuple[str | None, ...]:
        return (
            self.customer_column,
            self.order_column,
            self.date_column,
            self.amount_column,
            self.quantity_column,
            self.price_column,
        )


@dataclass(frozen=True)
class FileRfm:
    """The scored customers of a file, the as-of date used and what was left out."""

    customers: pa.Table
    as_of: datetime.date
    skipped_without_customer: int
    excluded_order_rows: int


def rfm_from_file(
    source: TransactionFile,
    *,
    as_of: datetime.date | None = None,
    segment_map: SegmentMap | None = None,
) -> FileRfm:
    """Summarise and score every customer of a CSV or Parquet file.

    ``as_of`` defaults to the day after the latest transaction date among the rows used, so a
    customer who bought on the last day of the file has recency 1.

    Examples
    --------
    >>> result = rfm_from_file(TransactionFile(Path("orders.csv"), "customer", "order",
    ...     "date", amount_column="amount"))  # doctest: +SKIP
    >>> result.customers.column_names[:3]  # doctest: +SKIP
    ['customer_id', 'first_purchase', 'last_purchase']
    """
    connection = duckdb_connection()
    read_options = {"all_varchar": True} if source.path.suffix.lower() == ".csv" else {}
    raw = read_file(connection, source.path, **read_options)
    check_columns(raw, source.columns())
    rows = _normalised(raw, source)
    kept = rows.filter(rows.customer_id.notnull() & ~rows.is_excluded)
    _check_readable(kept, source)
    skipped, excluded = _left_out_counts(rows)
    if as_of is None:
        as_of = day_after_latest(kept, "purchase_time")
    summary = rfm_summary_expression(
        kept,
        as_of=as_of,
        customer_column="customer_id",
        order_column="order_id",
        date_column="purchase_time",
        amount_column="amount",
    ).to_pyarrow()
    customers = score_rfm(summary, segment_map).select(list(RFM_OUTPUT_COLUMNS))
    return FileRfm(customers, as_of, skipped, excluded)


def _normalised(raw: ir.Table, source: TransactionFile) -> ir.Table:
    """Fixed column names, typed values, and a flag for the excluded orders."""
    order = raw[source.order_column]
    is_excluded = _starts_with_any(order.cast("string"), source.exclude_order_prefixes)
    return raw.select(
        customer_id=_customer_id(raw, source.customer_column),
        order_id=order,
        raw_date=raw[source.date_column],
        purchase_time=_parsed_date(raw[source.date_column], source.date_format),
        raw_amount=_amount_text(raw, source),
        amount=_amount(raw, source),
        is_excluded=is_excluded,
    )


def _customer_id(raw: ir.Table, column: str) -> ir.Value:
    """Trimmed text ids with blanks as null; whole-number float ids (12346.0) as integers."""
    value = raw[column]
    kind = value.type()
    if kind.is_string():
        return value.strip().nullif("")
    if kind.is_floating():
        number = value.nullif(float("nan"))
        is_whole = (number.isnull() | (number == number.floor())).all().to_pyarrow().as_py()
        return number.cast("int64") if is_whole else number
    return value


def _parsed_date(value: ir.Value, date_format: str | None) -> ir.Value:
    """A timestamp, date, or null where the text does not parse (checked afterwards)."""
    kind = value.type()
    if not kind.is_string():
        return value
    if date_format is not None:
        return _try_strptime(value, date_format)
    return value.try_cast("timestamp")


def _try_strptime(value: ir.Value, date_format: str) -> ir.Value:
    """DuckDB's try_strptime: null instead of an error for text that does not parse."""
    import ibis
    import ibis.expr.datatypes as dt

    def try_strptime(text: str, date_format: str) -> None:
        """Body unused: DuckDB runs its own built-in function of this name."""

    function = ibis.udf.scalar.builtin(
        try_strptime, signature=((dt.string, dt.string), dt.timestamp)
    )
    return function(value, date_format)


def _amount(raw: ir.Table, source: TransactionFile) -> ir.Value:
    if source.amount_column is not None:
        return raw[source.amount_column].try_cast("float64")
    quantity = raw[source.quantity_column].try_cast("float64")
    price = raw[source.price_column].try_cast("float64")
    return quantity * price


def _amount_text(raw: ir.Table, source: TransactionFile) -> ir.Value:
    """The raw amount values, to name the first unreadable one (quantity, then price)."""
    import ibis

    if source.amount_column is not None:
        return raw[source.amount_column].cast("string")
    quantity = raw[source.quantity_column]
    price = raw[source.price_column]
    return ibis.ifelse(
        quantity.try_cast("float64").isnull(), quantity.cast("string"), price.cast("string")
    )


def _starts_with_any(text: ir.StringValue, prefixes: Sequence[str]) -> ir.BooleanValue:
    import ibis

    matches = ibis.literal(False)
    for prefix in prefixes:
        matches = matches | text.startswith(prefix).fill_null(False)
    return matches


def _check_readable(kept: ir.Table, source: TransactionFile) -> None:
    """Raise :class:`UnreadableValueError` for the first date or amount that did not parse."""
    amount_column = source.amount_column or f"{source.quantity_column} × {source.price_column}"
    for parsed, raw, column, kind in (
        ("purchase_time", "raw_date", source.date_column, "date"),
        ("amount", "raw_amount", amount_column, "number"),
    ):
        bad = kept.filter(kept[parsed].isnull()).select(raw).limit(1).to_pyarrow()
        if bad.num_rows:
            raise UnreadableValueError(column, bad.column(0)[0].as_py(), kind)


def _left_out_counts(rows: ir.Table) -> tuple[int, int]:
    """Rows skipped for having no customer id, and rows of excluded orders."""
    counts = rows.aggregate(
        skipped=(rows.customer_id.isnull() & ~rows.is_excluded).sum(),
        excluded=rows.is_excluded.sum(),
    ).to_pyarrow()
    return int(counts["skipped"][0].as_py() or 0), int(counts["excluded"][0].as_py() or 0)
