"""Offline evaluation of a recommender on a time split: hit rate, precision and recall at k.

A test customer is evaluated when they bought at least one item in the test window that they had
not bought in the training window (cold-start customers included: everything is new to them).
Relevant items are those new items. For each evaluated customer: hit = at least one relevant item
in their top k; precision = relevant items in top k / k; recall = relevant items in top k /
relevant items. The reported values are means over evaluated customers.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Protocol, Self

import numpy as np

if TYPE_CHECKING:
    import pyarrow as pa


class Recommender(Protocol):
    """What `evaluate_recommendations` needs from a model."""

    customer_column: str
    item_column: str

    def fit(self, transactions: pa.Table) -> Self: ...

    def recommend(self, customers: Any, n: int = 10) -> pa.Table: ...


def evaluate_recommendations(
    model: Recommender, train: pa.Table, test: pa.Table, k: int = 10
) -> dict[str, float]:
    """Fit ``model`` on ``train`` and score its top-k lists against what was bought in ``test``.

    Returns ``customers`` (evaluated), ``cold_start_customers`` (evaluated but absent from
    train), ``hit_rate``, ``precision``, ``recall``, ``fit_seconds`` and ``predict_seconds``.

    Examples
    --------
    >>> import pyarrow as pa
    >>> from kehu.analytics import PopularityRecommender
    >>> train = pa.table({"customer_id": ["a", "b", "b"], "item_id": ["x", "x", "y"]})
    >>> test = pa.table({"customer_id": ["a", "c"], "item_id": ["y", "z"]})
    >>> result = evaluate_recommendations(PopularityRecommender(), train, test, k=1)
    >>> result["customers"], result["hit_rate"], result["precision"], result["recall"]
    (2.0, 0.5, 0.5, 0.5)
    """
    if k < 1:
        raise ValueError("k must be at least 1")
    keys = [model.customer_column, model.item_column]
    relevant = _distinct(test, keys).join(_distinct(train, keys), keys, join_type="left anti")
    customers = relevant[model.customer_column].unique()
    started = time.perf_counter()
    model.fit(train)
    fitted = time.perf_counter()
    recommended = model.recommend(customers, n=k)
    finished = time.perf_counter()
    hits = recommended.select(keys).join(relevant, keys, join_type="inner")
    per_customer = _count_by(relevant, model.customer_column, "relevant")
    per_customer = per_customer.join(
        _count_by(hits, model.customer_column, "hits"), model.customer_column
    )
    relevant_counts = per_customer["relevant"].to_numpy().astype(np.float64)
    hit_counts = np.nan_to_num(per_customer["hits"].to_numpy(zero_copy_only=False)).astype(float)
    evaluated = len(customers)
    train_customers = train[model.customer_column].unique()
    cold = customers.filter(_is_in(customers, train_customers, invert=True))
    return {
        "customers": float(evaluated),
        "cold_start_customers": float(len(cold)),
        "hit_rate": float(np.mean(hit_counts > 0)) if evaluated else 0.0,
        "precision": float(np.mean(hit_counts / k)) if evaluated else 0.0,
        "recall": float(np.mean(hit_counts / relevant_counts)) if evaluated else 0.0,
        "fit_seconds": fitted - started,
        "predict_seconds": finished - fitted,
    }


def _distinct(table: pa.Table, keys: list[str]) -> pa.Table:
    return table.select(keys).group_by(keys).aggregate([])


def _count_by(table: pa.Table, key: str, name: str) -> pa.Table:
    counted = table.group_by(key).aggregate([([], "count_all")])
    return counted.rename_columns(
        [name if column == "count_all" else column for column in counted.column_names]
    )


def _is_in(values: pa.Array, members: pa.Array, *, invert: bool) -> pa.Array:
    import pyarrow.compute as pc

    found = pc.is_in(values, value_set=members)
    return pc.invert(found) if invert else found
