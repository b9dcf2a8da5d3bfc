"""Set-based writes to the points ledger for jobs over many members (bulk earning, expiry,
birthday gifts): lock a batch of memberships, insert entries, move many balances at once.

Each database gets its fastest path, as in kehu/commerce/bulk.py: ``executemany`` in the open
transaction on SQLite (whose write lock keeps the ids handed out here unique), ``COPY`` and one
``UPDATE ... FROM unnest(...)`` on PostgreSQL. Everything runs in the caller's transaction.
"""

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper

from kehu.loyalty.models import Membership, PointsEntry
from kehu.loyalty.outbox import record_entries_written

CHUNK = 5000  # ids per IN (...) list, well within SQLite's parameter limit
ENTRY_FIELDS = (
    "membership", "kind", "points", "remaining", "expires_on", "source", "reason", "order",
    "reverses", "idempotency_key", "created_by", "created_at",
)  # fmt: skip
EXPIRES_ON = ENTRY_FIELDS.index("expires_on")
CREATED_AT = ENTRY_FIELDS.index("created_at")
EntryRow = tuple[Any, ...]
"""Values in the order of ENTRY_FIELDS: ids for foreign keys, a date, an aware datetime."""


def chunks(values: Sequence[int], size: int = CHUNK) -> Iterable[Sequence[int]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def require_transaction(database: BaseDatabaseWrapper) -> None:
    if not database.in_atomic_block:
        raise RuntimeError("Ledger bulk writes must run inside transaction.atomic().")


def lock_memberships(membership_ids: Iterable[int]) -> list[int]:
    """Lock the memberships (in id order, so two jobs never wait on each other in a circle);
    answers their ids, in order. On SQLite the transaction's write lock (BEGIN IMMEDIATE)
    already holds every other writer off, and there is nothing to lock row by row."""
    require_transaction(connection)
    ids = sorted(set(membership_ids))
    if not connection.features.has_select_for_update or not ids:
        return ids
    if connection.vendor != "postgresql":
        return [
            pk
            for chunk in chunks(ids)
            for pk in Membership.objects.select_for_update()
            .filter(pk__in=chunk)
            .order_by("pk")
            .values_list("pk", flat=True)
        ]
    table = connection.ops.quote_name(Membership._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(  # one array parameter: no IN list of thousands to build
            f"SELECT id FROM {table} WHERE id = ANY(%s) ORDER BY id FOR UPDATE",  # noqa: S608  # nosec B608  # table and column names from the models, values are parameters
            [ids],
        )
        return [membership_id for (membership_id,) in cursor.fetchall()]


def quoted_columns(database: BaseDatabaseWrapper) -> list[str]:
    meta = PointsEntry._meta
    return [
        database.ops.quote_name(str(meta.get_field(name).column))  # type: ignore[union-attr]
        for name in ("id", *ENTRY_FIELDS)
    ]


def new_entry_ids(count: int, database: BaseDatabaseWrapper = connection) -> list[int]:
    """Ids for `count` new entries, so a reversal can point at an earning inserted with it."""
    require_transaction(database)
    table = PointsEntry._meta.db_table
    with database.cursor() as cursor:
        if database.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [table, count],
            )
            return [entry_id for (entry_id,) in cursor.fetchall()]
        cursor.execute(  # the highest id ever used: AUTOINCREMENT never reuses one
            "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = %s), 0), "  # noqa: S608  # nosec B608  # table and column names from the models, values are parameters
            f"coalesce((SELECT max(id) FROM {database.ops.quote_name(table)}), 0))",
            [table],
        )
        first = int(cursor.fetchone()[0]) + 1
    return list(range(first, first + count))


def insert_entries(rows: Sequence[EntryRow], database: BaseDatabaseWrapper = connection) -> None:
    """Insert entries given as (id, *values in ENTRY_FIELDS order)."""
    require_transaction(database)
    if not rows:
        return
    table = database.ops.quote_name(PointsEntry._meta.db_table)
    names = ", ".join(quoted_columns(database))
    with database.cursor() as cursor:
        if database.vendor == "postgresql":
            with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            cursor.executemany(
                f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * len(rows[0]))})",  # noqa: S608  # nosec B608  # table and column names from the models, values are parameters
                [sqlite_values(row, database) for row in rows],
            )
    record_entries(rows)


def record_entries(rows: Sequence[EntryRow]) -> None:
    """A `points.changed` per entry, in bulk (one query per chunk of members, one batch of
    events). Callers move the balances after inserting, so the balances read here are those
    before the entries."""
    membership_ids = sorted({row[1] for row in rows})
    members = {
        pk: (customer_id, balance)
        for chunk in chunks(membership_ids)
        for pk, customer_id, balance in Membership.objects.filter(pk__in=chunk).values_list(
            "pk", "customer_id", "points_balance"
        )
    }
    record_entries_written(((row[0], row[1], row[2], row[3]) for row in rows), members)


def sqlite_values(row: EntryRow, database: BaseDatabaseWrapper) -> EntryRow:
    values = list(row)
    expires_on, created_at = EXPIRES_ON + 1, CREATED_AT + 1  # after the id
    values[expires_on] = database.ops.adapt_datefield_value(values[expires_on])
    values[created_at] = database.ops.adapt_datetimefield_value(values[created_at])
    return tuple(values)


def add_to_balances(deltas: Mapping[int, int], database: BaseDatabaseWrapper = connection) -> None:
    """Move many cached balances at once (membership id → points to add, negative to take)."""
    require_transaction(database)
    changes = [(membership_id, delta) for membership_id, delta in deltas.items() if delta]
    if not changes:
        return
    table = database.ops.quote_name(Membership._meta.db_table)
    with database.cursor() as cursor:
        if database.vendor == "postgresql":
            cursor.execute(
                f"UPDATE {table} AS m SET points_balance = m.points_balance + d.delta "  # noqa: S608  # nosec B608  # table and column names from the models, values are parameters
                "FROM unnest(%s::bigint[], %s::bigint[]) AS d(id, delta) WHERE m.id = d.id",
                [[pk for pk, _delta in changes], [delta for _pk, delta in changes]],
            )
            return
        cursor.executemany(
            f"UPDATE {table} SET points_balance = points_balance + %s WHERE id = %s",  # noqa: S608  # nosec B608  # table and column names from the models, values are parameters
            [(delta, pk) for pk, delta in changes],
        )
