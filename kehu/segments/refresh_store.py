"""Write refreshed metrics in bulk: fill a temporary table, then two set-based statements.

The rows go into a temporary table (SQLite: executemany; PostgreSQL: COPY; see ``Staging``,
which the predictions refresh shares), then one INSERT
records the stage changes (a join of old and new stages) and one INSERT ... ON CONFLICT DO
UPDATE upserts every metrics row, keeping ``stage_since`` where the stage did not change. The
database does the comparing, so no Python loop looks at old rows. Rows of deleted customers go
with them (the foreign key cascades). The SQL is assembled from model table and column names
only; every value travels as a parameter or through COPY.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from django.db import connection, transaction
from django.db.models import Model

from kehu.segments.models import CustomerMetrics, LifecycleChange
from kehu.segments.refresh_scores import CustomerColumns, Scores, money

STAGING_TABLE = "kehu_refresh_metrics"
SQLITE_BATCH_ROWS = 50_000
METRIC_COLUMNS = (
    "customer_id",
    "first_purchase",
    "last_purchase",
    "previous_purchase",
    "recency_days",
    "frequency",
    "monetary",
    "average_order_value",
    "tenure_days",
    "interactions_90_days",
    "discount_share",
    "r_score",
    "f_score",
    "m_score",
    "rfm_segment",
    "abc_class",
    "value_tier",
    "lifecycle_stage",
    "stage_since",
    "refreshed_at",
)


def metric_rows(
    columns: CustomerColumns, scores: Scores, as_of: datetime.date, now: datetime.datetime
) -> list[tuple[Any, ...]]:
    """One tuple per customer in METRIC_COLUMNS order, built column by column."""
    buyers = columns.has_orders
    orders = np.maximum(columns.frequency, 1)
    monetary = np.where(buyers, money(columns.monetary), 0.0)
    values: dict[str, list[Any]] = {
        "customer_id": columns.customer_id.tolist(),
        "first_purchase": dates(columns.first_purchase),
        "last_purchase": dates(columns.last_purchase),
        "previous_purchase": dates(columns.previous_purchase),
        "recency_days": whole_numbers(columns.days_before(as_of, columns.last_purchase)),
        "frequency": columns.frequency.tolist(),
        "monetary": monetary.tolist(),
        "average_order_value": money(monetary / orders).tolist(),
        "tenure_days": whole_numbers(columns.days_before(as_of, columns.first_purchase)),
        "interactions_90_days": columns.interactions_90_days.tolist(),
        "discount_share": np.round(columns.discounted_orders / orders, 6).tolist(),
        "r_score": whole_numbers(scores.r_score),
        "f_score": whole_numbers(scores.f_score),
        "m_score": whole_numbers(scores.m_score),
        "rfm_segment": scores.rfm_segment.tolist(),
        "abc_class": scores.abc_class.tolist(),
        "value_tier": scores.value_tier.tolist(),
        "lifecycle_stage": scores.lifecycle_stage.tolist(),
        "stage_since": dates(scores.stage_entered),
        "refreshed_at": [connection.ops.adapt_datetimefield_value(now)] * len(buyers),
    }
    return list(zip(*(values[name] for name in METRIC_COLUMNS), strict=True))


def dates(values: npt.NDArray[np.datetime64]) -> list[datetime.date | None]:
    converted: list[datetime.date | None] = values.astype("datetime64[D]").astype(object).tolist()
    return converted


def whole_numbers(values: npt.NDArray[np.float64]) -> list[int | None]:
    """Integers, with None where the value is NaN (COPY refuses '5.0' for an integer column)."""
    missing = np.isnan(values)
    numbers: list[int | None] = np.where(missing, 0, values).astype(np.int64).tolist()
    for index in np.flatnonzero(missing).tolist():
        numbers[index] = None
    return numbers


def store_metrics(rows: Sequence[tuple[Any, ...]], today: datetime.date) -> int:
    """Upsert the rows and record stage changes; returns how many stages changed."""
    with transaction.atomic(), connection.cursor() as cursor:
        METRICS_STAGING.create(cursor)
        METRICS_STAGING.fill(cursor, rows)
        cursor.execute(record_changes_sql(), [today])
        changes = cursor.rowcount
        cursor.execute(upsert_sql())
        METRICS_STAGING.drop(cursor)
    return max(changes, 0)


@dataclass(frozen=True)
class Staging:
    """A temporary table with some columns of ``model``'s table, named ``name``.

    Rows are written to it in bulk (SQLite: executemany; PostgreSQL: COPY), then set-based
    statements compare it with the real table and upsert from it. Values in the rows are
    database values: dates, numbers, None, and JSON already dumped to text.
    """

    model: type[Model]
    columns: tuple[str, ...]
    name: str

    @property
    def table(self) -> str:
        schema = "temp" if connection.vendor == "sqlite" else "pg_temp"
        return f"{schema}.{self.name}"

    @property
    def target(self) -> str:
        return quoted(self.model._meta.db_table)

    def column_list(self) -> str:
        return ", ".join(quoted(name) for name in self.columns)

    def create(self, cursor: Any) -> None:
        # Left behind only when a transaction that called this was rolled back on PostgreSQL
        # without ending the session; the schema-qualified name never reaches a real table.
        cursor.execute(f"DROP TABLE IF EXISTS {self.table}")
        cursor.execute(
            f"CREATE TEMP TABLE {self.name} AS SELECT {self.column_list()} "  # noqa: S608  # nosec B608  # names are kehu's staging tables and model tables, values parameters
            f"FROM {self.target} WHERE 1 = 0"
        )

    def fill(self, cursor: Any, rows: Sequence[tuple[Any, ...]]) -> None:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {self.name} ({self.column_list()}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        placeholders = ", ".join(["%s"] * len(self.columns))
        insert = f"INSERT INTO {self.table} ({self.column_list()}) VALUES ({placeholders})"  # noqa: S608  # nosec B608  # names are kehu's staging tables and model tables, values parameters
        for batch in batches(rows, SQLITE_BATCH_ROWS):
            cursor.executemany(insert, batch)

    def drop(self, cursor: Any) -> None:
        cursor.execute(f"DROP TABLE {self.table}")

    def upsert_sql(self, key: str, expressions: Mapping[str, str] | None = None) -> str:
        """INSERT every staged row, or on a ``key`` conflict UPDATE its other columns.

        ``expressions`` replaces the plain ``column = excluded.column`` of some columns with
        SQL of the target table (by its quoted name, ``target``) and ``excluded``.
        """
        special = expressions or {}
        updates = [
            f"{quoted(name)} = {special.get(name, f'excluded.{quoted(name)}')}"
            for name in self.columns
            if name != key
        ]
        # "WHERE true" tells SQLite's parser that ON CONFLICT belongs to the INSERT, not a join.
        return (
            f"INSERT INTO {self.target} ({self.column_list()}) "  # noqa: S608  # nosec B608  # names are kehu's staging tables and model tables, values parameters
            f"SELECT {self.column_list()} FROM {self.table} WHERE true "
            f"ON CONFLICT ({quoted(key)}) DO UPDATE SET {', '.join(updates)}"
        )


METRICS_STAGING = Staging(CustomerMetrics, METRIC_COLUMNS, STAGING_TABLE)


def batches(rows: Sequence[tuple[Any, ...]], size: int) -> Iterable[Sequence[tuple[Any, ...]]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def record_changes_sql() -> str:
    changes = quoted(LifecycleChange._meta.db_table)
    return (
        f"INSERT INTO {changes} (customer_id, previous_stage, stage, changed_on) "  # noqa: S608  # nosec B608  # names are kehu's staging tables and model tables, values parameters
        "SELECT fresh.customer_id, COALESCE(old.lifecycle_stage, ''), fresh.lifecycle_stage, %s "
        f"FROM {METRICS_STAGING.table} AS fresh LEFT JOIN {METRICS_STAGING.target} AS old "
        "ON old.customer_id = fresh.customer_id "
        "WHERE old.customer_id IS NULL OR old.lifecycle_stage <> fresh.lifecycle_stage"
    )


def upsert_sql() -> str:
    metrics = METRICS_STAGING.target
    keep_stage_since = (
        f"CASE WHEN {metrics}.lifecycle_stage = excluded.lifecycle_stage "
        f"THEN {metrics}.stage_since ELSE excluded.stage_since END"
    )
    return METRICS_STAGING.upsert_sql("customer_id", {"stage_since": keep_stage_since})


def quoted(name: str) -> str:
    return connection.ops.quote_name(name)
