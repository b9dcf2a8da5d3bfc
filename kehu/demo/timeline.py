"""The demo's calendar: two years up to now, in seconds since the epoch, with seasonal busyness.

Purchases follow a Poisson process whose rate rises and falls with the seasons. It is drawn in
"effective time" (the integral of the day weights), where the process is homogeneous, and mapped
back to calendar days with the inverse of that integral.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from kehu.demo.seasons import SHOPPING_HOUR_WEIGHTS, SHOPPING_HOURS, day_weights

DAY = 86_400
HOUR = 3_600


@dataclass(frozen=True)
class Timeline:
    first_day: date
    day_starts: np.ndarray  # epoch seconds of each local midnight, today last
    weights: np.ndarray  # busyness of each day, mean 1
    cumulative: np.ndarray  # effective time at each midnight, one more entry than days
    now: int  # epoch seconds

    @property
    def days(self) -> int:
        return len(self.day_starts)

    @property
    def today_days(self) -> int:
        """Today as days since 1970-01-01."""
        return (self.first_day - date(1970, 1, 1)).days + self.days - 1

    @property
    def effective_now(self) -> float:
        today = self.days - 1
        fraction = (self.now - self.day_starts[today]) / DAY
        return float(self.cumulative[today] + self.weights[today] * fraction)

    def effective_time(self, moments: np.ndarray) -> np.ndarray:
        """Map epoch seconds to effective time."""
        positions = (moments - self.day_starts[0]) / DAY
        return np.interp(positions, np.arange(self.days + 1), self.cumulative)

    def day_of_effective(self, effective: np.ndarray) -> np.ndarray:
        """The calendar day index on which each effective time falls."""
        positions = np.interp(effective, self.cumulative, np.arange(self.days + 1))
        return np.minimum(positions.astype(np.int64), self.days - 1)

    def days_where(self, test: Callable[[date], bool]) -> np.ndarray:
        """A boolean per day: whether `test` holds for that date."""
        return np.array(
            [test(self.first_day + timedelta(days=index)) for index in range(self.days)]
        )


def build_timeline(now: datetime, days: int, time_zone: str) -> Timeline:
    local_now = now.astimezone(ZoneInfo(time_zone))
    today = local_now.date()
    first_day = today - timedelta(days=days - 1)
    midnight = datetime(first_day.year, first_day.month, first_day.day, tzinfo=ZoneInfo(time_zone))
    day_starts = np.array(
        [int((midnight + timedelta(days=offset)).timestamp()) for offset in range(days)],
        dtype=np.int64,
    )
    weights = day_weights(first_day, days)
    cumulative = np.concatenate([[0.0], np.cumsum(weights)])
    return Timeline(first_day, day_starts, weights, cumulative, int(now.timestamp()))


def shopping_seconds(rng: np.random.Generator, count: int) -> np.ndarray:
    """Seconds after midnight at which people shop: store hours with lunch and evening peaks."""
    hours = rng.choice(
        SHOPPING_HOURS, size=count, p=SHOPPING_HOUR_WEIGHTS / SHOPPING_HOUR_WEIGHTS.sum()
    )
    return hours * HOUR + rng.integers(0, HOUR, size=count)


def fit_between(
    rng: np.random.Generator, moments: np.ndarray, lowest: np.ndarray, highest: np.ndarray
) -> np.ndarray:
    """Move moments outside [lowest, highest] to a random time within a few hours of the edge.

    Callers make sure lowest <= highest.
    """
    moments = moments.copy()
    span = 6 * HOUR
    too_late = moments > highest
    start = np.maximum(lowest, highest - span)
    moments[too_late] = uniform_between(rng, start[too_late], highest[too_late])
    too_early = moments < lowest
    end = np.minimum(highest, lowest + span)
    moments[too_early] = uniform_between(rng, lowest[too_early], end[too_early])
    return moments


def uniform_between(rng: np.random.Generator, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    width = np.maximum(high - low, 0)
    return low + (rng.random(len(low)) * width).astype(np.int64)
