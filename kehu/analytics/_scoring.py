"""RFM quintile scores (1–5) from a per-customer summary, vectorised with numpy.

Tie rule: customers with equal values always get the same score. A customer's score comes from
the mid-rank percentile of their value, ``p = (worse + equal / 2) / n``, where ``worse`` counts
customers with a strictly worse value and ``equal`` those with the same value (themselves
included); the score is ``1 + floor(5 p)``, computed in integers as
``1 + (5 * (2 * worse + equal)) // (2 * n)``. Why: two customers who behaved the same must land
in the same segment whatever their ids or the row order, so the result is identical on every
engine. The price is that quintiles are uneven when many values tie (most customers with one
order share one frequency score), which is the honest answer. Consequences: one customer, or
all values equal, gives everyone 3 (the neutral middle); with fewer than five customers the
scores spread over 1–5 (three distinct values score 1, 3, 5). Recency is scored so that recent
is 5: fewer days is better. Monetary is rounded to 6 decimals before scoring, so that float
noise from the order of summation never breaks a tie.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from kehu.analytics._segments import DEFAULT_SEGMENT_MAP, SegmentMap, assign_segments

if TYPE_CHECKING:
    import pyarrow as pa

SCORE_COLUMNS: tuple[str, ...] = ("r_score", "f_score", "m_score", "segment")
MONETARY_DECIMALS = 6


def quintile_scores(
    values: npt.ArrayLike, *, higher_is_better: bool = True, bins: int = 5
) -> npt.NDArray[np.int8]:
    """Score each value 1..``bins`` by its mid-rank percentile; equal values score the same.

    Parameters
    ----------
    values
        One number per customer; NaN is refused.
    higher_is_better
        ``True`` for frequency and monetary; ``False`` for recency in days (recent scores high).
    bins
        Number of score levels (5 for quintiles).

    Examples
    --------
    >>> quintile_scores([10, 20, 20, 30]).tolist()
    [1, 3, 3, 5]
    >>> quintile_scores([3, 40, 200], higher_is_better=False).tolist()
    [5, 3, 1]
    """
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise ValueError("values must be one-dimensional")
    if np.isnan(array).any():
        raise ValueError("values must not contain NaN")
    if bins < 1:
        raise ValueError("bins must be at least 1")
    count = array.size
    if count == 0:
        return np.zeros(0, dtype=np.int8)
    _, inverse, equal = np.unique(array, return_inverse=True, return_counts=True)
    below = np.cumsum(equal) - equal
    worse = below if higher_is_better else count - below - equal
    per_value = np.minimum(1 + (bins * (2 * worse + equal)) // (2 * count), bins)
    scores: npt.NDArray[np.int8] = per_value.astype(np.int8)[inverse]
    return scores


def rfm_scores(
    recency_days: npt.ArrayLike, frequency: npt.ArrayLike, monetary: npt.ArrayLike
) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.int8], npt.NDArray[np.int8]]:
    """Recency, frequency and monetary quintile scores (recent, frequent, big spenders = 5).

    Examples
    --------
    >>> [score.tolist() for score in rfm_scores([1, 90], [4, 1], [100.0, 20.0])]
    [[4, 2], [4, 2], [4, 2]]
    """
    return (
        quintile_scores(recency_days, higher_is_better=False),
        quintile_scores(frequency),
        quintile_scores(monetary),
    )


def score_rfm(summary: pa.Table, segment_map: SegmentMap | None = None) -> pa.Table:
    """Append ``r_score``, ``f_score``, ``m_score`` and ``segment`` to a summary table.

    Parameters
    ----------
    summary
        The output of a ``summary_from_*`` function (needs ``recency_days``, ``frequency``,
        ``monetary``).
    segment_map
        ``(r_score, f_score) -> segment name`` covering all 25 cells; the default grid when
        omitted.

    Examples
    --------
    >>> import pyarrow as pa
    >>> summary = pa.table({"recency_days": [2], "frequency": [1], "monetary": [5.0]})
    >>> score_rfm(summary)["segment"].to_pylist()
    ['Need Attention']
    """
    recency, frequency, monetary = rfm_scores(
        summary["recency_days"].to_numpy(),
        summary["frequency"].to_numpy(),
        # Float sums differ in the last bits with the engine's summation order (DuckDB's is
        # parallel); six decimals make equal spending tie on every engine and every run.
        np.round(summary["monetary"].to_numpy(), MONETARY_DECIMALS),
    )
    segments = assign_segments(recency, frequency, segment_map or DEFAULT_SEGMENT_MAP)
    scored = summary
    for name, column in zip(SCORE_COLUMNS, (recency, frequency, monetary, segments), strict=True):
        scored = scored.append_column(name, _arrow_array(column))
    return scored


def _arrow_array(values: npt.NDArray[np.generic]) -> pa.Array:
    import pyarrow as pa

    if values.dtype.kind == "U":
        return pa.array(values.tolist(), type=pa.string())
    return pa.array(values)
