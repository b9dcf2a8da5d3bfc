"""Fast bulk writes through Django's connection: COPY on PostgreSQL, executemany elsewhere.

Models' `bulk_create` would overwrite `auto_now_add` stamps and build an object per row; demo
data needs its own history of timestamps and millions of rows, so rows go in as plain tuples.
Columns are named by model field, and every field the caller leaves out gets its default.
"""

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, cast

import numpy as np
from django.core.management.color import no_style
from django.db import connection, models

EPOCH_DAY = np.datetime64("1970-01-01", "D")


def write_rows(
    model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """Insert rows of values for `fields` (field names) into the model's table."""
    meta = model._meta
    missing = [
        field
        for field in meta.concrete_fields
        if field.name not in fields and field.attname not in fields and not field.primary_key
    ]
    named = [cast(models.Field, meta.get_field(name)) for name in fields]
    columns = [str(field.column) for field in [*named, *missing]]
    defaults = tuple(default_value(field) for field in missing)
    if defaults:
        rows = (tuple(row) + defaults for row in rows)
    quoted = ", ".join(connection.ops.quote_name(column) for column in columns)
    table = connection.ops.quote_name(meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            placeholders = ", ".join(["%s"] * len(columns))
            # Table and column names come from the model and are quoted; values are parameters.
            insert = f"INSERT INTO {table} ({quoted}) VALUES ({placeholders})"  # noqa: S608  # nosec B608  # table and column names from the models, values are parameters
            cursor.executemany(insert, cast(Any, rows))  # an iterator: rows stream


def default_value(field: models.Field) -> Any:
    if isinstance(field, models.DateTimeField) and (field.auto_now or field.auto_now_add):
        return datetime_text(np.array([int(datetime.now(UTC).timestamp())]))[0]
    value = field.get_default()
    if isinstance(field, models.JSONField):
        return json.dumps(value)
    return value


def datetime_text(moments: np.ndarray) -> list[str]:
    """Epoch seconds as UTC timestamps in the text form the database stores and compares."""
    text = np.datetime_as_string(moments.astype("datetime64[s]"), unit="s")
    if connection.vendor == "postgresql":
        return [value + "+00:00" for value in text.tolist()]
    return [value.replace("T", " ") for value in text.tolist()]


def optional_datetime_text(moments: np.ndarray) -> list[str | None]:
    """Like datetime_text; negative moments mean no value."""
    text = datetime_text(np.maximum(moments, 0))
    return [
        value if moment >= 0 else None for value, moment in zip(text, moments.tolist(), strict=True)
    ]


def date_text(days_since_epoch: np.ndarray) -> list[str | None]:
    """Days since 1970-01-01 as ISO dates; negative means no date."""
    text = np.datetime_as_string(EPOCH_DAY + days_since_epoch.astype("timedelta64[D]"))
    return [
        value if day >= 0 else None
        for value, day in zip(text.tolist(), days_since_epoch.tolist(), strict=True)
    ]


def money(cents: np.ndarray) -> list[float]:
    """Cents as yuan for the database: the shortest float text of n/100 is its exact decimal."""
    return (cents / 100).tolist()


def next_ids(model: type[models.Model]) -> int:
    """The first free primary key: rows are written with ids given here, so lines can refer
    to their orders without a round trip."""
    latest = model._default_manager.aggregate(latest=models.Max("pk"))["latest"]
    return (latest or 0) + 1


def reset_sequences(model_list: Sequence[type[models.Model]]) -> None:
    """After writing explicit ids, move PostgreSQL's id sequences past them."""
    statements = connection.ops.sequence_reset_sql(no_style(), list(model_list))
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
