"""Read the orders that count as purchases and summarise them per customer, where it is fastest.

An order counts when it is paid and not cancelled or fully refunded (PURCHASE_STATUSES); its
amount is what the customer kept paying (total minus refunds), and its day is the local day in
the business time zone (settings.TIME_ZONE): an order at 23:30 in Shanghai belongs to that
Shanghai day, although it is 15:30 UTC. The summary itself is kehu.analytics' Ibis expression.

Routes, measured on the 200,000-customer demo (~2.4M counted orders, this machine, 2 cores):

- SQLite: ADBC fetches the orders as Arrow (1.0 s; about 2 s with the separate process it must
  run in, see kehu.segments.sqlite_arrow; Django's cursor takes 5-8 s and 1 GB), pyarrow turns
  UTC text into local dates (0.5 s) and DuckDB groups them (0.4 s). SQLite itself would take
  several seconds to group.
  An in-memory SQLite database (the test run's) cannot be opened by a second connection, and a
  second connection cannot see the writes of an open transaction, so then the same query is
  read through Django's own cursor.
- PostgreSQL: the same Arrow route by default (measured faster, see ``POSTGRES_ROUTE``), or
  the expression pushed down to PostgreSQL on Django's own connection.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from django.conf import settings
from django.db import connection

from kehu.commerce.models import PURCHASE_STATUSES, Order

if TYPE_CHECKING:
    import ibis.expr.types as ir
    import pyarrow as pa

    from kehu.analytics import SummaryOptions

PostgresRoute = Literal["pushdown", "arrow"]

# Measured on the 200,000-customer demo (2.4M counted orders), local PostgreSQL 15, 2 cores:
# ADBC Arrow + DuckDB 2.9–4.2 s against 8.0–11.9 s pushed down to PostgreSQL (which groups on
# one core and scans twice, for the previous purchase and the discounts). bench_refresh.py
# prints both on every run.
POSTGRES_ROUTE: PostgresRoute = "arrow"

PURCHASES = tuple(status.value for status in PURCHASE_STATUSES)
ORDER_COLUMNS = ("customer_id", "order_id", "purchase_date", "amount", "discounted")


@dataclass(frozen=True)
class OrderSummary:
    """Per-customer purchase summary (kehu.analytics columns plus ``previous_purchase``) and
    the number of discounted orders per customer (``customer_id``, ``discounted_orders``)."""

    summary: pa.Table
    discounted: pa.Table
    route: str


def summarise_orders(as_of: datetime.date, *, route: PostgresRoute | None = None) -> OrderSummary:
    """The summary of every customer's counted orders up to ``as_of`` (a local date)."""
    if connection.vendor == "postgresql" and (route or POSTGRES_ROUTE) == "pushdown":
        return summarise_pushed_down(as_of)
    return summarise_arrow(read_orders(), as_of)


def read_orders() -> pa.Table:
    """The counted orders as Arrow: customer_id, order_id, purchase_date (local), amount,
    discounted."""
    if connection.vendor == "sqlite":
        return with_local_dates(fetch_arrow(sqlite_orders_query()))
    return fetch_arrow(postgres_orders_query())


def summarise_arrow(orders: pa.Table, as_of: datetime.date) -> OrderSummary:
    import pyarrow.compute as pc

    from kehu.analytics import summary_from_arrow

    counted = orders.filter(pc.less_equal(orders["purchase_date"], as_of))
    summary = summary_from_arrow(counted, **summary_options(as_of))
    discounted = counted.group_by("customer_id").aggregate([("discounted", "sum")])
    discounted = discounted.rename_columns(["customer_id", "discounted_orders"])
    return OrderSummary(summary, discounted, arrow_route())


def summarise_pushed_down(as_of: datetime.date) -> OrderSummary:
    """PostgreSQL runs the Ibis expression itself, on Django's own connection (so it sees the
    current transaction)."""
    import ibis

    from kehu.analytics import summary_from_ibis

    connection.ensure_connection()
    backend = ibis.postgres.from_connection(connection.connection)
    orders = backend.sql(postgres_orders_query())
    summary = summary_from_ibis(orders, **summary_options(as_of))
    discounted = discounted_orders_expression(orders, as_of).to_pyarrow()
    return OrderSummary(summary, discounted, "PostgreSQL pushdown")


def discounted_orders_expression(orders: ir.Table, as_of: datetime.date) -> ir.Table:
    import ibis

    counted = orders.filter(orders.purchase_date <= ibis.date(as_of))
    return counted.group_by("customer_id").aggregate(
        discounted_orders=counted.discounted.cast("int64").sum()
    )


def summary_options(as_of: datetime.date) -> SummaryOptions:
    from kehu.analytics import SummaryOptions

    return SummaryOptions(
        as_of=as_of,
        customer_column="customer_id",
        order_column="order_id",
        date_column="purchase_date",
        amount_column="amount",
        include_previous_purchase=True,
    )


def arrow_route() -> str:
    database = "SQLite" if connection.vendor == "sqlite" else "PostgreSQL"
    return f"{database} {'ADBC' if can_use_adbc() else 'cursor'} + DuckDB"


def can_use_adbc() -> bool:
    """A second connection only works on a file and only sees committed rows."""
    if connection.in_atomic_block:
        return False
    if connection.vendor == "sqlite":
        return not connection.is_in_memory_db()  # type: ignore[attr-defined]
    return True


def fetch_arrow(
    query: str,
    columns: Sequence[str] = ORDER_COLUMNS,
    types: dict[str, pa.DataType] | None = None,
) -> pa.Table:
    """The query's rows as Arrow, named ``columns``; ``types`` (by name) for the cursor route,
    default the orders query's."""
    if can_use_adbc():
        return fetch_arrow_through_adbc(query, columns=columns)
    return fetch_arrow_through_cursor(query, columns=columns, types=types)


def fetch_arrow_through_adbc(
    query: str, location: str | None = None, *, columns: Sequence[str] = ORDER_COLUMNS
) -> pa.Table:
    """Fetch through a second connection (ADBC) to ``location`` (default: Django's database)."""
    if connection.vendor == "sqlite":
        return fetch_sqlite_arrow_in_own_process(
            query, location or adbc_location(), columns=columns
        )
    import adbc_driver_postgresql.dbapi as adbc

    with adbc.connect(location or adbc_location()) as adbc_connection:
        cursor = adbc_connection.cursor()
        try:
            cursor.execute(query)
            table: pa.Table = cursor.fetch_arrow_table()
        finally:
            cursor.close()
    return table.rename_columns(list(columns))


def fetch_sqlite_arrow_in_own_process(
    query: str, database: str, columns: Sequence[str] = ORDER_COLUMNS
) -> pa.Table:
    """ADBC's SQLite must not share this process with Django's (see kehu.segments.sqlite_arrow)."""
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    import pyarrow as pa

    with tempfile.TemporaryDirectory(prefix="kehu-orders-") as folder:
        target = Path(folder) / "orders.arrow"
        subprocess.run(  # noqa: S603 - our own module, arguments we built
            [sys.executable, "-m", "kehu.segments.sqlite_arrow", database, str(target)],
            input=query,
            text=True,
            check=True,
            capture_output=True,
        )
        with pa.OSFile(str(target), "rb") as source:
            table: pa.Table = pa.ipc.open_file(source).read_all()
    return table.rename_columns(list(columns))


def adbc_location() -> str:
    database = connection.settings_dict
    if connection.vendor == "sqlite":
        return str(database["NAME"])
    from urllib.parse import quote

    user = quote(str(database.get("USER") or ""), safe="")
    password = quote(str(database.get("PASSWORD") or ""), safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = database.get("HOST") or "localhost"
    port = f":{database['PORT']}" if database.get("PORT") else ""
    return f"postgresql://{credentials}{host}{port}/{quote(str(database['NAME']), safe='')}"


def fetch_arrow_through_cursor(
    query: str,
    columns: Sequence[str] = ORDER_COLUMNS,
    types: dict[str, pa.DataType] | None = None,
) -> pa.Table:
    import pyarrow as pa

    with connection.cursor() as cursor:
        cursor.execute(query)
        rows = cursor.fetchall()
    values: list[Any] = list(zip(*rows, strict=True)) if rows else [[]] * len(columns)
    types = types or cursor_column_types()
    return pa.table(
        {
            name: pa.array(column, type=types[name])
            for name, column in zip(columns, values, strict=True)
        }
    )


def cursor_column_types() -> dict[str, pa.DataType]:
    import pyarrow as pa

    # Django's SQLite connection already parses the UTC text into naive datetimes.
    date_type = pa.timestamp("us") if connection.vendor == "sqlite" else pa.date32()
    return {
        "customer_id": pa.int64(),
        "order_id": pa.int64(),
        "purchase_date": date_type,
        "amount": pa.float64(),
        "discounted": pa.int64(),
    }


def with_local_dates(orders: pa.Table, column: str = "purchase_date") -> pa.Table:
    """SQLite holds UTC text ('2026-01-08 15:30:00[.ffffff]'): the local day, as a date."""
    import pyarrow as pa
    import pyarrow.compute as pc

    naive_utc = pc.cast(orders[column], pa.timestamp("us"))
    utc = pc.assume_timezone(naive_utc, "UTC")
    local = pc.local_timestamp(utc.cast(pa.timestamp("us", tz=settings.TIME_ZONE)))
    index = orders.schema.get_field_index(column)
    return orders.set_column(index, column, local.cast(pa.date32()))


def sqlite_orders_query() -> str:
    return orders_query(
        dialect="sqlite",
        purchase_time=sql_column("ordered_at"),
        real_type="REAL",
    )


def postgres_orders_query() -> str:
    from sqlglot import exp

    local_time = exp.AtTimeZone(
        this=sql_column("ordered_at"), zone=exp.Literal.string(settings.TIME_ZONE)
    )
    return orders_query(
        dialect="postgres",
        purchase_time=exp.cast(local_time, "DATE"),
        real_type="DOUBLE PRECISION",
    )


def orders_query(*, dialect: str, purchase_time: exp.Expression, real_type: str) -> str:
    """The counted orders, one row each; built by sqlglot, values quoted by it."""
    from sqlglot import exp

    amount = exp.cast(
        exp.Sub(this=sql_column("total_amount"), expression=sql_column("refunded_amount")),
        real_type,
    )
    discounted = exp.cast(
        exp.GT(this=sql_column("discount_amount"), expression=exp.Literal.number(0)), "INT"
    )
    status = exp.In(
        this=sql_column("status"),
        expressions=[exp.Literal.string(value) for value in PURCHASES],
    )
    select = exp.select(
        exp.alias_(sql_column("customer_id"), "customer_id"),
        exp.alias_(sql_column("id"), "order_id"),
        exp.alias_(purchase_time, "purchase_date"),
        exp.alias_(amount, "amount"),
        exp.alias_(discounted, "discounted"),
    )
    query = select.from_(exp.table_(Order._meta.db_table, quoted=True)).where(status)
    return query.sql(dialect=dialect)


def sql_column(name: str) -> exp.Column:
    from sqlglot import exp

    return exp.column(name, quoted=True)


if TYPE_CHECKING:
    from sqlglot import exp
