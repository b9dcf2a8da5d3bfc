"""Write everyone's predictions in bulk and keep the churn history, set-based.

The rows go into a temporary table (refresh_store.Staging), then, in one transaction:

1. one INSERT records a ChurnLevelChange for every customer whose level differs from the
   stored one (a customer without a stored row counts as "low", so the first refresh records
   only the customers who start above it);
2. one SELECT finds the newly warned customers with their owner: at or above the notify level
   now, and not warned before (no stored ``warned_on``);
3. one INSERT ... ON CONFLICT upserts every row. ``warned_on`` is today's date when the level
   first reaches the notify level, kept while it stays there, and cleared below it, so running
   the refresh twice on a day warns nobody twice.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from django.db import connection, transaction

from kehu.accounts.models import User
from kehu.customers.models import Customer
from kehu.predictions.models import ChurnLevel, ChurnLevelChange, CustomerPrediction
from kehu.predictions.outbox import record_churn_warnings
from kehu.segments.refresh_store import Staging, quoted

PREDICTION_COLUMNS = (
    "customer_id",
    "p_alive",
    "expected_purchases",
    "expected_order_value",
    "clv",
    "value_at_stake",
    "churn_risk",
    "churn_level",
    "churn_reasons",
    "warned_on",
    "next_action",
    "next_action_reason",
    "recommended_products",
    "refreshed_at",
)
PREDICTIONS_STAGING = Staging(CustomerPrediction, PREDICTION_COLUMNS, "kehu_refresh_predictions")
LEVEL_ORDER = [level.value for level in ChurnLevel]  # low, watch, warning, critical


@dataclass(frozen=True)
class NewlyWarned:
    customer_id: int
    owner_id: int
    name: str


@dataclass(frozen=True)
class StoreResult:
    level_changes: int
    newly_warned: list[NewlyWarned]


@dataclass(frozen=True)
class PredictionColumns:
    """Everything stored per customer, aligned with ``customer_id``; NaN for unknown numbers."""

    customer_id: npt.NDArray[np.int64]
    p_alive: npt.NDArray[np.float64]
    expected_purchases: npt.NDArray[np.float64]
    expected_order_value: npt.NDArray[np.float64]
    clv: npt.NDArray[np.float64]
    value_at_stake: npt.NDArray[np.float64]
    churn_risk: npt.NDArray[np.int64]
    churn_level: npt.NDArray[np.str_]
    churn_reasons: list[list[dict[str, Any]]]
    next_action: npt.NDArray[np.str_]
    next_action_reason: list[dict[str, Any]]
    recommended_products: list[list[int]]


def prediction_rows(
    columns: PredictionColumns,
    notify_level: str,
    today: datetime.date,
    now: datetime.datetime,
) -> list[tuple[Any, ...]]:
    """One tuple per customer in PREDICTION_COLUMNS order; NaN becomes None (NULL)."""
    warned = is_at_or_above(columns.churn_level, notify_level)
    values: dict[str, list[Any]] = {
        "customer_id": columns.customer_id.tolist(),
        "p_alive": floats_or_none(columns.p_alive, 6),
        "expected_purchases": floats_or_none(columns.expected_purchases, 6),
        "expected_order_value": floats_or_none(columns.expected_order_value, 2),
        "clv": floats_or_none(columns.clv, 2),
        "value_at_stake": np.round(np.nan_to_num(columns.value_at_stake), 2).tolist(),
        "churn_risk": columns.churn_risk.astype(np.int64).tolist(),
        "churn_level": columns.churn_level.tolist(),
        "churn_reasons": json_texts(columns.churn_reasons),
        "warned_on": [today if flag else None for flag in warned.tolist()],
        "next_action": columns.next_action.tolist(),
        "next_action_reason": json_texts(columns.next_action_reason),
        "recommended_products": json_texts(columns.recommended_products),
        "refreshed_at": [connection.ops.adapt_datetimefield_value(now)] * len(warned),
    }
    return list(zip(*(values[name] for name in PREDICTION_COLUMNS), strict=True))


def is_at_or_above(levels: npt.NDArray[np.str_], level: str) -> npt.NDArray[np.bool_]:
    return np.isin(levels, LEVEL_ORDER[LEVEL_ORDER.index(level) :])


def floats_or_none(values: npt.NDArray[np.float64], decimals: int) -> list[float | None]:
    finite = np.isfinite(values)
    numbers: list[float | None] = np.round(np.where(finite, values, 0.0), decimals).tolist()
    for index in np.flatnonzero(~finite).tolist():
        numbers[index] = None
    return numbers


def json_texts(values: Sequence[Any]) -> list[str]:
    encode = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode
    return [encode(value) for value in values]


def store_predictions(rows: Sequence[tuple[Any, ...]], today: datetime.date) -> StoreResult:
    """Record level changes, find the newly warned, upsert every row (see the module doc)."""
    staging = PREDICTIONS_STAGING
    with transaction.atomic(), connection.cursor() as cursor:
        staging.create(cursor)
        staging.fill(cursor, rows)
        cursor.execute(record_level_changes_sql(), [today])
        level_changes = max(cursor.rowcount, 0)
        cursor.execute(raised_warnings_sql(), WARNING_LEVELS)
        record_churn_warnings(rising(cursor.fetchall()))
        cursor.execute(newly_warned_sql())
        newly_warned = [NewlyWarned(*row) for row in cursor.fetchall()]
        cursor.execute(staging.upsert_sql("customer_id", {"warned_on": kept_warning_sql()}))
        staging.drop(cursor)
    return StoreResult(level_changes, newly_warned)


def record_level_changes_sql() -> str:
    changes = quoted(ChurnLevelChange._meta.db_table)
    staging = PREDICTIONS_STAGING
    return (
        f"INSERT INTO {changes} (customer_id, previous_level, level, risk, changed_on) "  # noqa: S608  # nosec B608  # names are kehu's staging tables and model tables, values parameters
        "SELECT fresh.customer_id, COALESCE(old.churn_level, ''), fresh.churn_level, "
        "fresh.churn_risk, %s "
        f"FROM {staging.table} AS fresh LEFT JOIN {staging.target} AS old "
        "ON old.customer_id = fresh.customer_id "
        f"WHERE COALESCE(old.churn_level, '{ChurnLevel.LOW.value}') <> fresh.churn_level"
    )


WARNING_LEVELS = [ChurnLevel.WARNING.value, ChurnLevel.CRITICAL.value]


def raised_warnings_sql() -> str:
    """Customers now at warning or critical whose stored level differs (none stored: low)."""
    staging = PREDICTIONS_STAGING
    return (
        "SELECT fresh.customer_id, "  # noqa: S608  # nosec B608  # names are kehu's staging tables and model tables, values parameters
        f"COALESCE(old.churn_level, '{ChurnLevel.LOW.value}'), fresh.churn_level, "
        f"fresh.churn_risk FROM {staging.table} AS fresh LEFT JOIN {staging.target} AS old "
        "ON old.customer_id = fresh.customer_id WHERE fresh.churn_level IN (%s, %s) "
        f"AND COALESCE(old.churn_level, '{ChurnLevel.LOW.value}') <> fresh.churn_level "
        "ORDER BY fresh.customer_id"
    )


def rising(rows: Sequence[tuple[int, str, str, int]]) -> list[tuple[int, str, int]]:
    """(customer id, level, risk) of the rows whose level went up (critical → warning does not)."""
    return [
        (customer_id, level, risk)
        for customer_id, before, level, risk in rows
        if LEVEL_ORDER.index(level) > LEVEL_ORDER.index(before)
    ]


def newly_warned_sql() -> str:
    """Warned now and not before, with an active owner (pool customers notify nobody)."""
    staging = PREDICTIONS_STAGING
    customers = quoted(Customer._meta.db_table)
    users = quoted(User._meta.db_table)
    return (
        "SELECT fresh.customer_id, customer.owner_id, customer.name "  # noqa: S608  # nosec B608  # names are kehu's staging tables and model tables, values parameters
        f"FROM {staging.table} AS fresh "
        f"JOIN {customers} AS customer ON customer.id = fresh.customer_id "
        f"JOIN {users} AS staff ON staff.id = customer.owner_id "
        f"LEFT JOIN {staging.target} AS old ON old.customer_id = fresh.customer_id "
        "WHERE fresh.warned_on IS NOT NULL AND old.warned_on IS NULL AND staff.is_active "
        "ORDER BY fresh.customer_id"
    )


def kept_warning_sql() -> str:
    """The stored warning date while the customer stays warned; today's when newly warned."""
    target = PREDICTIONS_STAGING.target
    return (
        "CASE WHEN excluded.warned_on IS NULL THEN NULL "
        f"ELSE COALESCE({target}.warned_on, excluded.warned_on) END"
    )
