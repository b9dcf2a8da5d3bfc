"""ABC classes: the few customers who bring most of the revenue (A), the middle (B), the rest (C).

Rule: customers are ranked by revenue, highest first, and each is placed by the share of
positive revenue held by customers with *strictly more* revenue than them. With the default
70/20/10 split a customer is A while that share is below 70 %, so A is the smallest set of top
customers reaching 70 % (the customer who crosses the line belongs to A, and A is never empty
when anyone bought). Equal revenue gives the same class. Customers with zero or negative
revenue are always in the last class. Shares are compared with a 1e-12 tolerance so that 0.7
means exactly 70 % despite binary floating point.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

DEFAULT_ABC_SHARES: tuple[float, ...] = (0.7, 0.2, 0.1)
DEFAULT_ABC_LABELS: tuple[str, ...] = ("A", "B", "C")
TOLERANCE = 1e-12


def abc_classes(
    monetary: npt.ArrayLike,
    *,
    shares: Sequence[float] = DEFAULT_ABC_SHARES,
    labels: Sequence[str] = DEFAULT_ABC_LABELS,
) -> npt.NDArray[np.str_]:
    """Class each customer by cumulative revenue share.

    Parameters
    ----------
    monetary
        Revenue per customer.
    shares
        Revenue share of each class, best first; positive and summing to 1.
    labels
        One name per share.

    Examples
    --------
    >>> abc_classes([700.0, 200.0, 100.0]).tolist()
    ['A', 'B', 'C']
    >>> abc_classes([50.0, 30.0, 20.0], shares=(0.5, 0.5), labels=("top", "rest")).tolist()
    ['top', 'rest', 'rest']
    """
    limits = _cumulative_limits(shares, labels)
    revenue = np.asarray(monetary, dtype=np.float64)
    if np.isnan(revenue).any():
        raise ValueError("monetary must not contain NaN")
    positive = np.where(revenue > 0, revenue, 0.0)
    total = positive.sum()
    if total == 0:
        return np.full(revenue.shape, labels[-1], dtype=np.str_)
    _, inverse = np.unique(positive, return_inverse=True)
    revenue_per_value = np.bincount(inverse, weights=positive)
    above = (revenue_per_value[::-1].cumsum()[::-1] - revenue_per_value) / total
    class_index = np.searchsorted(limits - TOLERANCE, above[inverse], side="right")
    class_index = np.where(positive > 0, np.minimum(class_index, len(labels) - 1), len(labels) - 1)
    names: npt.NDArray[np.str_] = np.asarray(labels, dtype=np.str_)[class_index]
    return names


def _cumulative_limits(shares: Sequence[float], labels: Sequence[str]) -> npt.NDArray[np.float64]:
    share_array = np.asarray(shares, dtype=np.float64)
    if share_array.size == 0 or len(labels) != share_array.size:
        raise ValueError("shares and labels must be non-empty and of the same length")
    if (share_array <= 0).any() or abs(share_array.sum() - 1.0) > 1e-9:
        raise ValueError(f"shares must be positive and sum to 1, got {list(shares)}")
    limits: npt.NDArray[np.float64] = np.cumsum(share_array)
    return limits
