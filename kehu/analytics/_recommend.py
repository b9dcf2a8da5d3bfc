"""Product recommendations from order history: item-to-item co-purchase and a popularity baseline.

`ItemCooccurrenceRecommender` learns, from a transactions table, how often two items are bought
by the same customer (or in the same basket), normalises the counts (cosine or lift), keeps each
item's strongest neighbours, and scores a customer's candidate items by summing the similarities
of the items in their history — one sparse matrix product per batch of customers.

Rules (chosen on the Online Retail time split, see ``bench/bench_recommend.py``):

- Items are indexed by popularity (distinct buyers, most first), then by item id; every tie in a
  score is broken by that order, so results are deterministic and ties go to the popular item.
- Rebuy rate of an item = share of its buyers who bought it on two or more distinct baskets
  (rows when no basket column is given). With ``exclude_repurchase`` an item the customer already
  bought is not recommended again unless its rebuy rate is at least ``rebuy_threshold``.
- With a category column, a candidate's score is multiplied by
  ``1 + category_weight * share of the customer's past items in the candidate's category``.
- Customers with no history, or fewer than N scored candidates, are filled with the most popular
  items they may still be recommended (popularity fallback, score 0).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal, Self

import numpy as np
import numpy.typing as npt

from kehu.analytics._fitting import NotFittedError

if TYPE_CHECKING:
    import pyarrow as pa
    from scipy import sparse

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
# Customers scored per batch: the dense batch × item score block stays near 128 MB.
BATCH_CELLS = 1 << 24


class _History:
    """Encoded purchase history: vocabularies and sparse customer × item matrices."""

    def __init__(
        self,
        transactions: pa.Table,
        *,
        customer_column: str,
        item_column: str,
        basket_column: str | None,
    ) -> None:
        import pyarrow as pa
        import pyarrow.compute as pc
        from scipy import sparse

        _require_columns(transactions, customer_column, item_column, basket_column)
        customers, customer_codes = _encode(transactions[customer_column])
        raw_items, raw_item_codes = _encode(transactions[item_column])
        if basket_column is None:
            basket_codes = np.arange(transactions.num_rows, dtype=np.int64)
        else:
            basket_codes = _encode(transactions[basket_column])[1]
        triples = _distinct_triples(customer_codes, basket_codes, raw_item_codes)
        shape = (len(customers), len(raw_items))
        ones = np.ones(len(triples), dtype=np.float64)
        purchases = sparse.csr_matrix((ones, (triples[:, 0], triples[:, 2])), shape=shape)
        popularity = np.diff(purchases.tocsc().indptr)
        order = _popularity_order(raw_items, popularity)
        position = np.empty_like(order)
        position[order] = np.arange(len(order))
        self.customers: pa.Array = customers
        self.items: pa.Array = pc.take(raw_items, pa.array(order))
        self.popularity: IntArray = popularity[order].astype(np.int64)
        self.purchases: sparse.csr_matrix = purchases[:, order].tocsr()
        self.triples = np.stack([triples[:, 0], triples[:, 1], position[triples[:, 2]]], axis=1)
        self.raw_item_position = position

    def binary_history(self) -> sparse.csr_matrix:
        history = self.purchases.copy()
        history.data[:] = 1.0
        return history

    def rebuy_rate(self) -> FloatArray:
        repeat = np.bincount(
            self.purchases.indices[self.purchases.data >= 2], minlength=len(self.popularity)
        )
        return repeat / np.maximum(self.popularity, 1)

    def codes(self, customers: pa.Array) -> IntArray:
        """Customer code per key, -1 for customers absent from the history."""
        import pyarrow.compute as pc

        if customers.type != self.customers.type:
            customers = customers.cast(self.customers.type)
        found = pc.index_in(customers, value_set=self.customers)
        codes: IntArray = found.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
        return codes


def _distinct_triples(customers: IntArray, baskets: IntArray, items: IntArray) -> IntArray:
    """The distinct (customer, basket, item) code rows, sorted as ``np.unique(axis=0)`` sorts
    them. Rows are packed into one int64 key when the code ranges allow it: a 1-D sort is many
    times faster than the row-wise one, which stays as the fallback for huge vocabularies."""
    sizes = [int(codes.max()) + 1 for codes in (customers, baskets, items)]
    if sizes[0] * sizes[1] * sizes[2] >= 2**63:
        rows: IntArray = np.unique(np.stack([customers, baskets, items], axis=1), axis=0)
        return rows
    keys = np.sort((customers * sizes[1] + baskets) * sizes[2] + items)
    keys = keys[np.concatenate(([True], keys[1:] != keys[:-1]))]  # np.unique hashes: slower
    customer_baskets, item_codes = np.divmod(keys, sizes[2])
    customer_codes, basket_codes = np.divmod(customer_baskets, sizes[1])
    return np.stack([customer_codes, basket_codes, item_codes], axis=1).astype(np.int64)


def _require_columns(transactions: pa.Table, *columns: str | None) -> None:
    for column in columns:
        if column is not None and column not in transactions.column_names:
            raise KeyError(f"the transactions have no column {column!r}")
    if transactions.num_rows == 0:
        raise ValueError("the transactions table is empty: nothing to learn from")


def _popularity_order(items: pa.Array, popularity: IntArray) -> IntArray:
    """Item codes sorted by distinct buyers, most first, then by item id."""
    import pyarrow.compute as pc

    id_rank = pc.rank(items, sort_keys="ascending").to_numpy()
    order: IntArray = np.lexsort((id_rank, -popularity)).astype(np.int64)
    return order


def _encode(column: pa.ChunkedArray) -> tuple[pa.Array, IntArray]:
    """Distinct values (in first-seen order) and each row's code; nulls are refused."""
    import pyarrow.compute as pc

    if column.null_count:
        raise ValueError(f"{column.null_count} rows have no value in a key column; drop them first")
    encoded = pc.dictionary_encode(column).combine_chunks()
    return encoded.dictionary, encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)


class _Recommender:
    """Shared prediction side: top-N by score with ties broken by item popularity order."""

    customer_column: str
    item_column: str
    history_: _History

    def _check_fitted(self) -> None:
        if not hasattr(self, "history_"):
            raise NotFittedError(f"{type(self).__name__} is not fitted yet: call fit() first")

    def _scores(self, codes: IntArray) -> FloatArray:
        raise NotImplementedError

    def top_item_positions(self, codes: IntArray, n: int) -> tuple[IntArray, FloatArray]:
        """Item positions (-1 when there is nothing left) and scores of the top n per customer."""
        self._check_fitted()
        if n < 1:
            raise ValueError("n must be at least 1")
        positions = np.full((len(codes), n), -1, dtype=np.int64)
        scores = np.zeros((len(codes), n), dtype=np.float64)
        batch_size = max(1, BATCH_CELLS // max(len(self.history_.popularity), 1))
        for start in range(0, len(codes), batch_size):
            batch = slice(start, start + batch_size)
            positions[batch], scores[batch] = _top_n(self._scores(codes[batch]), n)
        return positions, scores

    def recommend(
        self, customers: Sequence[Any] | pa.Array | pa.ChunkedArray, n: int = 10
    ) -> pa.Table:
        """Top-n items per customer: columns customer, ``rank`` (1 = best), item and ``score``.

        Unknown customers get the popularity fallback; a customer gets fewer than n rows only
        when fewer items may be recommended to them.
        """
        import pyarrow as pa

        self._check_fitted()
        keys = _as_array(customers)
        if keys.type == pa.null():
            keys = keys.cast(self.history_.customers.type)
        positions, scores = self.top_item_positions(self.history_.codes(keys), n)
        present = positions >= 0
        rows, ranks = np.nonzero(present)
        return pa.table(
            {
                self.customer_column: keys.take(pa.array(rows)),
                "rank": pa.array(ranks + 1, type=pa.int64()),
                self.item_column: self.history_.items.take(pa.array(positions[present])),
                "score": pa.array(scores[present]),
            }
        )


def _as_array(customers: Sequence[Any] | pa.Array | pa.ChunkedArray) -> pa.Array:
    import pyarrow as pa

    if isinstance(customers, pa.ChunkedArray):
        return customers.combine_chunks()
    if isinstance(customers, pa.Array):
        return customers
    return pa.array(list(customers))


def _top_n(scores: FloatArray, n: int) -> tuple[IntArray, FloatArray]:
    """Best n columns per row, highest score first, ties to the lower column; -inf never chosen."""
    count = scores.shape[1]
    width = min(n, count)
    threshold = -np.partition(-scores, width - 1, axis=1)[:, width - 1]
    above = scores > threshold[:, None]
    # Of the items tied at the threshold, only the lowest columns can make the cut.
    tied = (scores == threshold[:, None]) & np.isfinite(scores)
    room = width - above.sum(axis=1)
    crowded = np.flatnonzero(tied.sum(axis=1) > room)  # the few rows with more ties than room
    tied[crowded] &= np.cumsum(tied[crowded], axis=1) <= room[crowded, None]
    rows, columns = np.nonzero(above | tied)
    values = scores[rows, columns]
    # nonzero lists each row's columns in ascending order, and lexsort is stable: sorting by
    # (row, -value) keeps ties in column order
    order = np.lexsort((-values, rows))
    rows, columns, values = rows[order], columns[order], values[order]
    starts = np.searchsorted(rows, np.arange(scores.shape[0]))
    rank = np.arange(len(rows)) - starts[rows]
    keep = rank < n
    positions = np.full((scores.shape[0], n), -1, dtype=np.int64)
    chosen = np.zeros((scores.shape[0], n), dtype=np.float64)
    positions[rows[keep], rank[keep]] = columns[keep]
    chosen[rows[keep], rank[keep]] = values[keep]
    return positions, chosen


class PopularityRecommender(_Recommender):
    """Baseline: the items bought by the most distinct customers, the same list for everyone.

    Examples
    --------
    >>> import pyarrow as pa
    >>> orders = pa.table({"customer_id": ["a", "a", "b", "c"], "item_id": ["x", "y", "y", "z"]})
    >>> model = PopularityRecommender().fit(orders)
    >>> model.recommend(["a", "new"], n=2)["item_id"].to_pylist()
    ['z', 'y', 'x']
    """

    def __init__(
        self,
        *,
        exclude_purchased: bool = True,
        customer_column: str = "customer_id",
        item_column: str = "item_id",
        basket_column: str | None = None,
    ) -> None:
        self.exclude_purchased = exclude_purchased
        self.customer_column = customer_column
        self.item_column = item_column
        self.basket_column = basket_column

    def fit(self, transactions: pa.Table) -> Self:
        """Count distinct buyers per item in ``transactions`` (one row per order line)."""
        self.history_ = _History(
            transactions,
            customer_column=self.customer_column,
            item_column=self.item_column,
            basket_column=self.basket_column,
        )
        self.popularity_ = self.history_.popularity
        return self

    def _scores(self, codes: IntArray) -> FloatArray:
        scores = np.zeros((len(codes), len(self.popularity_)), dtype=np.float64)
        if self.exclude_purchased:
            known = np.flatnonzero(codes >= 0)
            bought = self.history_.purchases[codes[known]].tocoo()
            scores[known[bought.row], bought.col] = -np.inf
        return scores


class ItemCooccurrenceRecommender(_Recommender):
    """Item-to-item co-purchase recommender (see the module docstring for the rules).

    Parameters
    ----------
    n_neighbors
        Neighbours kept per item (its most similar items).
    min_support
        Fewest customers (or baskets) two items must share to count as neighbours.
    exclude_repurchase
        Do not recommend an item the customer bought unless its rebuy rate is at least
        ``rebuy_threshold``.
    similarity
        ``"cosine"``: shared / sqrt(buyers_i * buyers_j); ``"lift"``: shared * units /
        (buyers_i * buyers_j).
    cooccurrence
        ``"customer"``: items bought by the same customer; ``"basket"``: in the same basket
        (needs ``basket_column``); ``"auto"``: basket when ``basket_column`` is given.
    category_column, category_weight
        Optional item category column and the strength of the category-affinity boost.

    Examples
    --------
    >>> import pyarrow as pa
    >>> orders = pa.table({"customer_id": ["a", "a", "b", "b", "c"],
    ...                    "item_id": ["tea", "cup", "tea", "cup", "tea"]})
    >>> model = ItemCooccurrenceRecommender().fit(orders)
    >>> model.recommend(["c"], n=1)["item_id"].to_pylist()
    ['cup']
    """

    def __init__(
        self,
        n_neighbors: int = 20,
        min_support: int = 5,
        exclude_repurchase: bool = True,
        *,
        rebuy_threshold: float = 0.5,
        similarity: Literal["cosine", "lift"] = "cosine",
        cooccurrence: Literal["auto", "customer", "basket"] = "auto",
        customer_column: str = "customer_id",
        item_column: str = "item_id",
        basket_column: str | None = None,
        category_column: str | None = None,
        category_weight: float = 1.0,
    ) -> None:
        self.n_neighbors = n_neighbors
        self.min_support = min_support
        self.exclude_repurchase = exclude_repurchase
        self.rebuy_threshold = rebuy_threshold
        self.similarity = similarity
        self.cooccurrence = cooccurrence
        self.customer_column = customer_column
        self.item_column = item_column
        self.basket_column = basket_column
        self.category_column = category_column
        self.category_weight = category_weight

    def fit(self, transactions: pa.Table) -> Self:
        """Learn item neighbours, rebuy rates and categories from ``transactions``."""
        self._check_settings()
        self.history_ = _History(
            transactions,
            customer_column=self.customer_column,
            item_column=self.item_column,
            basket_column=self.basket_column,
        )
        self.popularity_ = self.history_.popularity
        self.rebuy_rate_ = self.history_.rebuy_rate()
        self.history_matrix_ = self.history_.binary_history()
        self.similarity_ = self._neighbours(self._units())
        self.item_category_ = self._item_categories(transactions)
        return self

    def _check_settings(self) -> None:
        if self.n_neighbors < 1:
            raise ValueError("n_neighbors must be at least 1")
        if self.min_support < 1:
            raise ValueError("min_support must be at least 1")
        if self.similarity not in ("cosine", "lift"):
            raise ValueError(f"unknown similarity {self.similarity!r}: use 'cosine' or 'lift'")
        if self.cooccurrence not in ("auto", "customer", "basket"):
            raise ValueError(f"unknown cooccurrence {self.cooccurrence!r}")
        if self.cooccurrence == "basket" and self.basket_column is None:
            raise ValueError("cooccurrence='basket' needs basket_column")

    def _units(self) -> sparse.csr_matrix:
        """Binary unit × item matrix: customers or baskets."""
        from scipy import sparse

        history = self.history_
        if self.cooccurrence == "customer" or self.basket_column is None:
            return self.history_matrix_
        triples = history.triples
        shape = (int(triples[:, 1].max()) + 1, len(history.popularity))
        ones = np.ones(len(triples), dtype=np.float64)
        units = sparse.csr_matrix((ones, (triples[:, 1], triples[:, 2])), shape=shape)
        units.data[:] = 1.0
        return units

    def _neighbours(self, units: sparse.csr_matrix) -> sparse.csr_matrix:
        """Item × item similarity, each row keeping its n_neighbors best (ties: lower column)."""
        from scipy import sparse

        shared = (units.T @ units).tocoo()
        buyers = np.asarray(units.sum(axis=0)).ravel()
        keep = (shared.row != shared.col) & (shared.data >= self.min_support)
        rows, columns, counts = shared.row[keep], shared.col[keep], shared.data[keep]
        if self.similarity == "cosine":
            values = counts / np.sqrt(buyers[rows] * buyers[columns])
        else:
            values = counts * units.shape[0] / (buyers[rows] * buyers[columns])
        order = np.lexsort((columns, -values, rows))
        rows, columns, values = rows[order], columns[order], values[order]
        starts = np.searchsorted(rows, np.arange(len(buyers)))
        best = (np.arange(len(rows)) - starts[rows]) < self.n_neighbors
        shape = (len(buyers), len(buyers))
        return sparse.csr_matrix((values[best], (rows[best], columns[best])), shape=shape)

    def _item_categories(self, transactions: pa.Table) -> IntArray | None:
        """Category code per item position (the item's first listed category), or None."""
        if self.category_column is None:
            return None
        if self.category_column not in transactions.column_names:
            raise KeyError(f"the transactions have no column {self.category_column!r}")
        _, category_codes = _encode(transactions[self.category_column])
        _, raw_item_codes = _encode(transactions[self.item_column])
        categories = np.full(len(self.popularity_), -1, dtype=np.int64)
        first_rows = np.unique(raw_item_codes[::-1], return_index=True)[1]
        first_rows = len(raw_item_codes) - 1 - first_rows
        positions = self.history_.raw_item_position[raw_item_codes[first_rows]]
        categories[positions] = category_codes[first_rows]
        return categories

    def _scores(self, codes: IntArray) -> FloatArray:
        scores = np.zeros((len(codes), len(self.popularity_)), dtype=np.float64)
        known = np.flatnonzero(codes >= 0)
        if len(known) == 0:
            return scores
        history = self.history_matrix_[codes[known]]
        candidate = np.asarray((history @ self.similarity_).todense())
        if self.item_category_ is not None:
            candidate *= 1.0 + self.category_weight * self._category_affinity(history)
        scores[known] = candidate
        if self.exclude_repurchase:
            bought = history.tocoo()
            rarely_rebought = self.rebuy_rate_[bought.col] < self.rebuy_threshold
            scores[known[bought.row[rarely_rebought]], bought.col[rarely_rebought]] = -np.inf
        return scores

    def _category_affinity(self, history: sparse.csr_matrix) -> FloatArray:
        """Share of each customer's past items in each candidate item's category."""
        from scipy import sparse

        assert self.item_category_ is not None
        categories = self.item_category_
        count = int(categories.max()) + 1
        item_to_category = sparse.csr_matrix(
            (np.ones(len(categories)), (np.arange(len(categories)), categories)),
            shape=(len(categories), count),
        )
        per_category = np.asarray((history @ item_to_category).todense())
        shares = per_category / np.maximum(per_category.sum(axis=1, keepdims=True), 1.0)
        affinity: FloatArray = shares[:, categories]
        return affinity
