"""What the predictions refresh reads, each once: the purchases and the contacts as Arrow (the
metrics refresh's ADBC route, see refresh_orders) and the stored tiers and stages."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
from django.conf import settings
from django.db import connection

from kehu.engagement.models import Interaction
from kehu.segments.models import CustomerMetrics, LifecycleStage, ValueTier
from kehu.segments.refresh_orders import fetch_arrow, read_orders, sql_column, with_local_dates

if TYPE_CHECKING:
    import pyarrow as pa

CONTACT_COLUMNS = ("customer_id", "date")
METRICS_CHUNK = 20_000


@dataclass(frozen=True)
class StoredMetrics:
    """The metrics refresh's tier, stage, order count and average order of every customer,
    aligned with the refresh's customer ids (defaults for customers not scored yet)."""

    value_tier: npt.NDArray[np.str_]
    lifecycle_stage: npt.NDArray[np.str_]
    orders: npt.NDArray[np.int64]
    average_order_value: npt.NDArray[np.float64]


def purchases_until(today: datetime.date) -> pa.Table:
    """The counted orders up to ``today``: customer_id, order_id, purchase_date, amount, ..."""
    import pyarrow.compute as pc

    orders = read_orders()
    return orders.filter(pc.less_equal(orders["purchase_date"], today))


def read_contacts() -> pa.Table:
    """Every interaction as customer_id and its local date (the business's time zone)."""
    import pyarrow as pa

    if connection.vendor == "sqlite":
        types = {"customer_id": pa.int64(), "date": pa.timestamp("us")}
        contacts = fetch_arrow(contacts_query("sqlite"), columns=CONTACT_COLUMNS, types=types)
        return with_local_dates(contacts, "date")
    types = {"customer_id": pa.int64(), "date": pa.date32()}
    return fetch_arrow(contacts_query("postgres"), columns=CONTACT_COLUMNS, types=types)


def contacts_query(dialect: str) -> str:
    from sqlglot import exp

    occurred_at = sql_column("occurred_at")
    day: exp.Expression = occurred_at
    if dialect == "postgres":
        local = exp.AtTimeZone(this=occurred_at, zone=exp.Literal.string(settings.TIME_ZONE))
        day = exp.cast(local, "DATE")
    select = exp.select(
        exp.alias_(sql_column("customer_id"), "customer_id"), exp.alias_(day, "date")
    )
    return select.from_(exp.table_(Interaction._meta.db_table, quoted=True)).sql(dialect=dialect)


def stored_metrics(customer_ids: npt.NDArray[np.int64]) -> StoredMetrics:
    """One query over the metrics table, spread onto ``customer_ids``."""
    rows = CustomerMetrics.objects.order_by().values_list(
        "customer_id", "value_tier", "lifecycle_stage", "frequency", "average_order_value"
    )
    size = len(customer_ids)
    tier = np.full(size, ValueTier.NEW.value, dtype=object)
    stage = np.full(size, LifecycleStage.PROSPECT.value, dtype=object)
    orders = np.zeros(size, dtype=np.int64)
    average = np.zeros(size, dtype=np.float64)
    listed = list(rows.iterator(chunk_size=METRICS_CHUNK))
    if listed:
        ids, tiers, stages, counts, averages = zip(*listed, strict=True)
        found = np.asarray(ids, dtype=np.int64)
        position = np.searchsorted(customer_ids, found)
        position = np.minimum(position, max(size - 1, 0))
        known = (position < size) & (customer_ids[position] == found) if size else found < 0
        tier[position[known]] = np.asarray(tiers, dtype=object)[known]
        stage[position[known]] = np.asarray(stages, dtype=object)[known]
        orders[position[known]] = np.asarray(counts, dtype=np.int64)[known]
        average[position[known]] = np.asarray(averages, dtype=np.float64)[known]
    return StoredMetrics(tier.astype(np.str_), stage.astype(np.str_), orders, average)
