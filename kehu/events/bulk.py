"""Writing many events at once (an import's chunk of orders) without the ORM's per-value work:
for thousands of rows its `bulk_create` costs ten times the statements themselves. Rows go in
with `executemany`, in the caller's transaction; the new events' ids are read back by their
`event_id`."""

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from django.db import connection

from kehu.events.models import Event, HandlerRun, RunStatus

LOOKUP_SLICE = 500


class Written(NamedTuple):
    pk: int
    event_id: uuid.UUID


def insert_statement(model: type[Any], names: list[str]) -> str:
    quote = connection.ops.quote_name
    columns = [model._meta.get_field(name).column for name in names]
    return "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608  # nosec B608  # names from the models, values are parameters
        quote(model._meta.db_table),
        ", ".join(quote(column) for column in columns),
        ", ".join(["%s"] * len(columns)),
    )


def insert_events(
    rows: Sequence[tuple[str, int, dict[str, Any], int | None]],
    handler_keys: dict[str, list[str]],
    now: datetime,
) -> list[Written]:
    """Insert (name, version, payload, customer id) rows and a pending run per handler of each;
    answer the new events' ids in the order of `rows`."""
    uuid_field = Event._meta.get_field("event_id")
    payload_field = Event._meta.get_field("payload")
    moment = Event._meta.get_field("occurred_at").get_db_prep_save(now, connection)
    event_ids = [uuid.uuid4() for _row in rows]
    stored_ids = [uuid_field.get_db_prep_save(value, connection) for value in event_ids]
    with connection.cursor() as cursor:
        cursor.executemany(
            insert_statement(
                Event, ["event_id", "name", "version", "payload", "customer_id", "occurred_at"]
            ),
            [
                (stored, name, version, payload_field.get_db_prep_save(payload, connection),
                 customer_id, moment)
                for stored, (name, version, payload, customer_id) in zip(
                    stored_ids, rows, strict=True
                )
            ],
        )  # fmt: skip
        ids = ids_of(cursor, stored_ids)
        cursor.executemany(
            insert_statement(
                HandlerRun,
                ["event", "handler", "customer_id", "status", "attempts", "next_attempt_at",
                 "last_error"],
            ),
            [
                (ids[stored], key, customer_id, RunStatus.PENDING.value, 0, moment, "")
                for stored, (name, _version, _payload, customer_id) in zip(
                    stored_ids, rows, strict=True
                )
                for key in handler_keys[name]
            ],
        )  # fmt: skip
    return [
        Written(ids[stored], event_id)
        for stored, event_id in zip(stored_ids, event_ids, strict=True)
    ]


def ids_of(cursor: Any, stored_ids: list[Any]) -> dict[Any, int]:
    table = connection.ops.quote_name(Event._meta.db_table)
    found: dict[Any, int] = {}
    for start in range(0, len(stored_ids), LOOKUP_SLICE):
        batch = stored_ids[start : start + LOOKUP_SLICE]
        cursor.execute(
            f"SELECT event_id, id FROM {table} WHERE event_id IN "  # noqa: S608  # nosec B608  # table name from the model, values are parameters
            f"({', '.join(['%s'] * len(batch))})",
            batch,
        )
        found.update(cursor.fetchall())
    return found
