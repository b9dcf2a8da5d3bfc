"""Lifecycle stages (prospect → new → active → dormant → churned → reactivated) from thresholds.

Inputs per customer, all in whole days on the as-of date (NaN when there is no such purchase):
``recency_days`` (since the last purchase), ``tenure_days`` (since the first purchase) and
``previous_gap_days`` (from the purchase day before the last one to the last one). The stages,
checked in this order:

- **prospect**: never bought (``recency_days`` is NaN);
- **new**: first purchase at most ``new_days`` ago;
- **reactivated**: last purchase at most ``active_days`` ago, after a gap longer than
  ``dormant_days`` — the customer had churned and came back;
- **active**: last purchase at most ``active_days`` ago;
- **dormant**: last purchase at most ``dormant_days`` ago;
- **churned**: last purchase longer ago than ``dormant_days``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt


class LifecycleStage(StrEnum):
    PROSPECT = "prospect"
    NEW = "new"
    ACTIVE = "active"
    DORMANT = "dormant"
    CHURNED = "churned"
    REACTIVATED = "reactivated"


@dataclass(frozen=True)
class LifecycleThresholds:
    """Day limits of the stages; ``new_days <= active_days < dormant_days`` is required.

    Examples
    --------
    >>> LifecycleThresholds(new_days=14, active_days=60, dormant_days=120).dormant_days
    120
    """

    new_days: int = 30
    active_days: int = 90
    dormant_days: int = 180

    def __post_init__(self) -> None:
        if not 0 <= self.new_days <= self.active_days < self.dormant_days:
            raise ValueError(
                "thresholds must satisfy 0 <= new_days <= active_days < dormant_days, got "
                f"{self.new_days}, {self.active_days}, {self.dormant_days}"
            )


def lifecycle_stages(
    recency_days: npt.ArrayLike,
    tenure_days: npt.ArrayLike,
    previous_gap_days: npt.ArrayLike,
    thresholds: LifecycleThresholds | None = None,
) -> npt.NDArray[np.str_]:
    """The stage of each customer (see the module docstring for the rules).

    Examples
    --------
    >>> nan = float("nan")
    >>> lifecycle_stages([nan, 5, 10, 10, 100, 400], [nan, 5, 300, 300, 300, 500],
    ...                  [nan, nan, 20, 200, 20, nan]).tolist()
    ['prospect', 'new', 'active', 'reactivated', 'dormant', 'churned']
    """
    limits = thresholds or LifecycleThresholds()
    recency = np.asarray(recency_days, dtype=np.float64)
    tenure = np.asarray(tenure_days, dtype=np.float64)
    gap = np.asarray(previous_gap_days, dtype=np.float64)
    # NaN compares False everywhere, so a missing gap never reads as "came back".
    is_recent = recency <= limits.active_days
    conditions = [
        np.isnan(recency),
        tenure <= limits.new_days,
        is_recent & (gap > limits.dormant_days),
        is_recent,
        recency <= limits.dormant_days,
    ]
    choices = [
        LifecycleStage.PROSPECT.value,
        LifecycleStage.NEW.value,
        LifecycleStage.REACTIVATED.value,
        LifecycleStage.ACTIVE.value,
        LifecycleStage.DORMANT.value,
    ]
    stages: npt.NDArray[np.str_] = np.select(
        conditions, choices, default=LifecycleStage.CHURNED.value
    ).astype(np.str_)
    return stages
