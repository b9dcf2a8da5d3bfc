"""The recency × frequency segment map: 25 score cells, each named by exactly one segment."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

SCORES = range(1, 6)
ALL_CELLS: frozenset[tuple[int, int]] = frozenset(itertools.product(SCORES, SCORES))

SegmentMap = Mapping[tuple[int, int], str]
"""``(r_score, f_score) -> segment name``; a valid map has all 25 cells."""


@dataclass(frozen=True)
class SegmentRule:
    """A segment given as the recency scores and frequency scores whose cells it takes.

    Examples
    --------
    >>> SegmentRule("Champions", recency=(5,), frequency=(4, 5)).cells()
    [(5, 4), (5, 5)]
    """

    name: str
    recency: tuple[int, ...]
    frequency: tuple[int, ...]

    def cells(self) -> list[tuple[int, int]]:
        return list(itertools.product(self.recency, self.frequency))


DEFAULT_SEGMENT_RULES: tuple[SegmentRule, ...] = (
    SegmentRule("Champions", recency=(5,), frequency=(4, 5)),
    SegmentRule("Loyal Customers", recency=(3, 4), frequency=(4, 5)),
    SegmentRule("Potential Loyalists", recency=(4, 5), frequency=(2, 3)),
    SegmentRule("New Customers", recency=(5,), frequency=(1,)),
    SegmentRule("Promising", recency=(4,), frequency=(1,)),
    SegmentRule("Need Attention", recency=(3,), frequency=(3,)),
    SegmentRule("About to Sleep", recency=(3,), frequency=(1, 2)),
    SegmentRule("At Risk", recency=(1, 2), frequency=(3, 4)),
    SegmentRule("Can't Lose Them", recency=(1, 2), frequency=(5,)),
    SegmentRule("Hibernating", recency=(1, 2), frequency=(1, 2)),
)
"""The widely used recency × frequency grid (recency 5 = bought most recently)."""


def build_segment_map(rules: Iterable[SegmentRule]) -> dict[tuple[int, int], str]:
    """Turn segment rules into a map, refusing a cell claimed twice or left unclaimed.

    Examples
    --------
    >>> segment_map = build_segment_map([SegmentRule("All", (1, 2, 3, 4, 5), (1, 2, 3, 4, 5))])
    >>> segment_map[(3, 3)]
    'All'
    """
    segment_map: dict[tuple[int, int], str] = {}
    repeated: list[str] = []
    for rule in rules:
        for cell in rule.cells():
            if cell in segment_map:
                repeated.append(f"{cell} in {segment_map[cell]!r} and {rule.name!r}")
            segment_map[cell] = rule.name
    if repeated:
        raise ValueError("Cells covered more than once: " + "; ".join(repeated))
    validate_segment_map(segment_map)
    return segment_map


def validate_segment_map(segment_map: SegmentMap) -> None:
    """Raise ``ValueError`` unless every (r, f) cell 1..5 × 1..5 has exactly one non-empty name.

    Examples
    --------
    >>> validate_segment_map({(1, 1): "Lost"})
    Traceback (most recent call last):
    ...
    ValueError: Segment map misses 24 cells: (1, 2), (1, 3), (1, 4), (1, 5), (2, 1), ...
    """
    cells = set(segment_map)
    missing = sorted(ALL_CELLS - cells)
    unknown = sorted(cells - ALL_CELLS, key=repr)
    if unknown:
        raise ValueError(f"Segment map has cells outside 1..5 × 1..5: {unknown}")
    if missing:
        shown = ", ".join(str(cell) for cell in missing[:5])
        more = ", ..." if len(missing) > 5 else ""
        raise ValueError(f"Segment map misses {len(missing)} cells: {shown}{more}")
    unnamed = sorted(cell for cell, name in segment_map.items() if not str(name).strip())
    if unnamed:
        raise ValueError(f"Segment map has cells without a name: {unnamed}")


def assign_segments(
    r_scores: npt.ArrayLike, f_scores: npt.ArrayLike, segment_map: SegmentMap
) -> npt.NDArray[np.str_]:
    """Look up each customer's segment by (r_score, f_score) through a 5 × 5 table.

    Examples
    --------
    >>> assign_segments([5, 1], [5, 1], DEFAULT_SEGMENT_MAP).tolist()
    ['Champions', 'Hibernating']
    """
    validate_segment_map(segment_map)
    recency = np.asarray(r_scores, dtype=np.int64)
    frequency = np.asarray(f_scores, dtype=np.int64)
    if recency.size and (
        not np.isin(recency, SCORES).all() or not np.isin(frequency, SCORES).all()
    ):
        raise ValueError("scores must be integers from 1 to 5")
    grid = np.empty((5, 5), dtype=object)
    for (recency_score, frequency_score), name in segment_map.items():
        grid[recency_score - 1, frequency_score - 1] = name
    names: npt.NDArray[np.str_] = grid.astype(np.str_)[recency - 1, frequency - 1]
    return names


DEFAULT_SEGMENT_MAP: SegmentMap = build_segment_map(DEFAULT_SEGMENT_RULES)
