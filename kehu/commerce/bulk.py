"""Bulk writers for imported orders and order lines: one per database vendor, one interface.

An import of a million lines spends most of its write time in the ORM's per-value work and, on
PostgreSQL, in sending huge parameterised INSERTs. These writers take plain tuples in the column
order below and use each database's fastest path: `executemany` in the open transaction on
SQLite, `COPY ... FROM STDIN` on PostgreSQL. Order ids are assigned by the writer (so lines can
point at their order without reading the orders back) and returned in the order of the rows.

They write in the caller's transaction and must be called inside `transaction.atomic()`: on
SQLite the transaction's write lock is what keeps the ids they hand out unique. They also find
which of a batch of orders are stored already, in one query with few parameters.
"""

from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Model

from kehu.commerce.models import Order, OrderLine

ORDER_FIELDS = (
    "customer", "channel", "external_id", "store", "status", "ordered_at",
    "total_amount", "discount_amount", "refunded_amount", "created_at",
)  # fmt: skip
LINE_FIELDS = ("order", "product", "product_name", "quantity", "unit_price", "discount", "amount")
ORDERED_AT = ORDER_FIELDS.index("ordered_at")
ORDER_LOOKUP_SLICE = 5000  # parameters per query, well within SQLite's limit (32,766)
CREATED_AT = ORDER_FIELDS.index("created_at")

OrderKey = tuple[int, str]
"""(sales channel id, external order id): unique per order."""
Row = tuple[Any, ...]
"""Values in the order of ORDER_FIELDS or LINE_FIELDS: ids for foreign keys, Decimal money,
timezone-aware datetimes."""


class BulkWriter(Protocol):
    def existing_orders(self, keys: Iterable[OrderKey]) -> dict[OrderKey, int]:
        """The ids of those orders that are stored already."""
        ...

    def insert_orders(self, rows: Sequence[Row]) -> list[int]:
        """Insert orders; answer their new ids, in the order of `rows`."""
        ...

    def insert_lines(self, rows: Iterable[Row]) -> None: ...


def bulk_writer(database: BaseDatabaseWrapper = connection) -> BulkWriter:
    """The fastest writer for the database in use; the ORM's bulk_create for any other."""
    if database.vendor == "postgresql":
        return PostgresWriter(database)
    if database.vendor == "sqlite":
        return SQLiteWriter(database)
    return OrmWriter()


def columns(model: type[Model], fields: Sequence[str]) -> list[str]:
    return [str(model._meta.get_field(name).column) for name in fields]  # type: ignore[union-attr]


def stored_orders(
    rows: Iterable[tuple[int, str, int]], wanted: set[OrderKey]
) -> dict[OrderKey, int]:
    """Order ids by key, for the keys asked about (an external id may exist in other channels)."""
    return {
        (channel_id, external_id): order_id
        for channel_id, external_id, order_id in rows
        if (channel_id, external_id) in wanted
    }


def require_transaction(database: BaseDatabaseWrapper) -> None:
    if not database.in_atomic_block:
        raise RuntimeError("Bulk writes must run inside transaction.atomic().")


class SQLiteWriter:
    """Big `executemany` batches; ids follow the table's highest id ever handed out."""

    def __init__(self, database: BaseDatabaseWrapper) -> None:
        self.database = database
        quote = database.ops.quote_name
        self.order_table = Order._meta.db_table
        self.order_insert = insert_statement(
            quote, self.order_table, ["id", *columns(Order, ORDER_FIELDS)]
        )
        self.line_insert = insert_statement(
            quote, OrderLine._meta.db_table, columns(OrderLine, LINE_FIELDS)
        )

    def existing_orders(self, keys: Iterable[OrderKey]) -> dict[OrderKey, int]:
        wanted = set(keys)
        channel_ids = sorted({channel_id for channel_id, _external_id in wanted})
        external_ids = sorted({external_id for _channel, external_id in wanted})
        table = self.database.ops.quote_name(self.order_table)
        found: dict[OrderKey, int] = {}
        with self.database.cursor() as cursor:
            for start in range(0, len(external_ids), ORDER_LOOKUP_SLICE):
                batch = external_ids[start : start + ORDER_LOOKUP_SLICE]
                cursor.execute(  # both columns, so the (channel, external id) index answers
                    f"SELECT channel_id, external_id, id FROM {table} "  # noqa: S608  # nosec B608  # table and column names from the models, values are parameters
                    f"WHERE channel_id IN ({placeholders(channel_ids)}) "
                    f"AND external_id IN ({placeholders(batch)})",
                    [*channel_ids, *batch],
                )
                found.update(stored_orders(cursor.fetchall(), wanted))
        return found

    def insert_orders(self, rows: Sequence[Row]) -> list[int]:
        require_transaction(self.database)
        adapt = cache_answers(self.database.ops.adapt_datetimefield_value)
        with self.database.cursor() as cursor:
            first_id = self.last_order_id(cursor) + 1
            ids = list(range(first_id, first_id + len(rows)))
            cursor.executemany(
                self.order_insert,
                [
                    (order_id, *row[:ORDERED_AT], adapt(row[ORDERED_AT]),
                     *row[ORDERED_AT + 1 : CREATED_AT], adapt(row[CREATED_AT]))
                    for order_id, row in zip(ids, rows, strict=True)
                ],
            )  # fmt: skip
        return ids

    def last_order_id(self, cursor: Any) -> int:
        """The highest id ever used: AUTOINCREMENT never reuses the id of a deleted order."""
        table = self.database.ops.quote_name(self.order_table)
        cursor.execute(
            "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = %s), 0), "  # noqa: S608  # nosec B608  # table and column names from the models, values are parameters
            f"coalesce((SELECT max(id) FROM {table}), 0))",
            [self.order_table],
        )
        return int(cursor.fetchone()[0])

    def insert_lines(self, rows: Iterable[Row]) -> None:
        require_transaction(self.database)
        with self.database.cursor() as cursor:
            # sqlite3 takes any iterable: the lines stream in without a list of them all
            cursor.executemany(self.line_insert, rows)  # type: ignore[arg-type]


def cache_answers(function: Any) -> Any:
    """`function` remembering its answers for this batch: orders share their import time."""
    answers: dict[Any, Any] = {}

    def cached(value: Any) -> Any:
        if value not in answers:
            answers[value] = function(value)
        return answers[value]

    return cached


def placeholders(values: Sequence[Any]) -> str:
    return ", ".join(["%s"] * len(values))


def insert_statement(quote: Any, table: str, names: list[str]) -> str:
    return "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608  # nosec B608  # table and column names from the models, values are parameters
        quote(table), ", ".join(quote(name) for name in names), ", ".join(["%s"] * len(names))
    )


class PostgresWriter:
    """`COPY ... FROM STDIN` through psycopg 3; order ids drawn from the table's sequence."""

    def __init__(self, database: BaseDatabaseWrapper) -> None:
        self.database = database
        quote = database.ops.quote_name
        self.order_table = Order._meta.db_table
        self.order_copy = copy_statement(
            quote, self.order_table, ["id", *columns(Order, ORDER_FIELDS)]
        )
        self.line_copy = copy_statement(
            quote, OrderLine._meta.db_table, columns(OrderLine, LINE_FIELDS)
        )

    def existing_orders(self, keys: Iterable[OrderKey]) -> dict[OrderKey, int]:
        wanted = set(keys)
        table = self.database.ops.quote_name(self.order_table)
        with self.database.cursor() as cursor:
            cursor.execute(  # array parameters: no huge statement to build and parse
                f"SELECT channel_id, external_id, id FROM {table} "  # noqa: S608  # nosec B608  # table and column names from the models, values are parameters
                "WHERE channel_id = ANY(%s) AND external_id = ANY(%s)",
                [
                    sorted({channel_id for channel_id, _external_id in wanted}),
                    sorted({external_id for _channel, external_id in wanted}),
                ],
            )
            return stored_orders(cursor.fetchall(), wanted)

    def insert_orders(self, rows: Sequence[Row]) -> list[int]:
        require_transaction(self.database)
        if not rows:
            return []
        with self.database.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [self.order_table, len(rows)],
            )
            ids = [order_id for (order_id,) in cursor.fetchall()]
            with cursor.copy(self.order_copy) as copy:
                for order_id, row in zip(ids, rows, strict=True):
                    copy.write_row((order_id, *row))
        return ids

    def insert_lines(self, rows: Iterable[Row]) -> None:
        require_transaction(self.database)
        with self.database.cursor() as cursor, cursor.copy(self.line_copy) as copy:
            for row in rows:
                copy.write_row(row)


def copy_statement(quote: Any, table: str, names: list[str]) -> str:
    return "COPY {} ({}) FROM STDIN".format(quote(table), ", ".join(quote(name) for name in names))


class OrmWriter:
    """Any other database: the ORM's bulk_create, slower but portable."""

    def existing_orders(self, keys: Iterable[OrderKey]) -> dict[OrderKey, int]:
        wanted = set(keys)
        found: dict[OrderKey, int] = {}
        external_ids = sorted({external_id for _channel, external_id in wanted})
        for start in range(0, len(external_ids), ORDER_LOOKUP_SLICE):
            orders = (
                Order.objects.filter(
                    channel_id__in={channel_id for channel_id, _external_id in wanted},
                    external_id__in=external_ids[start : start + ORDER_LOOKUP_SLICE],
                )
                .order_by()
                .values_list("channel_id", "external_id", "pk")
            )
            found.update(stored_orders(orders, wanted))
        return found

    def insert_orders(self, rows: Sequence[Row]) -> list[int]:
        names = [column_name(Order, name) for name in ORDER_FIELDS]
        orders = [Order(**dict(zip(names, row, strict=True))) for row in rows]
        Order.objects.bulk_create(orders, batch_size=1000)
        return [order.pk for order in orders]

    def insert_lines(self, rows: Iterable[Row]) -> None:
        names = [column_name(OrderLine, name) for name in LINE_FIELDS]
        OrderLine.objects.bulk_create(
            (OrderLine(**dict(zip(names, row, strict=True))) for row in rows), batch_size=1000
        )


def column_name(model: type[Model], name: str) -> str:
    """The attribute that takes a raw value: `customer_id` for a foreign key, else the name."""
    return str(model._meta.get_field(name).attname)  # type: ignore[union-attr]
