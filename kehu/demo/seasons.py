"""How busy each day is: weekends, Chinese New Year, 618, Double 11 and other shopping days."""

from datetime import date, timedelta

import numpy as np

# Spring Festival (正月初一) dates; shopping for 年货 peaks in the weeks before, stores are
# quiet in the first days of the new year.
SPRING_FESTIVALS = (
    date(2022, 2, 1),
    date(2023, 1, 22),
    date(2024, 2, 10),
    date(2025, 1, 29),
    date(2026, 2, 17),
    date(2027, 2, 6),
    date(2028, 1, 26),
    date(2029, 2, 13),
    date(2030, 2, 3),
)
MID_AUTUMN = (
    date(2022, 9, 10),
    date(2023, 9, 29),
    date(2024, 9, 17),
    date(2025, 10, 6),
    date(2026, 9, 25),
    date(2027, 9, 15),
    date(2028, 10, 3),
    date(2029, 9, 22),
    date(2030, 9, 12),
)
WEEKEND_FACTOR = 1.35

# Hours of the day when people shop (store opening 8:00–22:00), peaks at lunch and after work.
SHOPPING_HOURS = np.arange(8, 22)
SHOPPING_HOUR_WEIGHTS = np.array(
    [2, 4, 6, 7, 9, 8, 5, 5, 6, 9, 11, 10, 7, 4], dtype=float
)  # fmt: skip


def day_weights(first_day: date, days: int) -> np.ndarray:
    """Relative busyness of each of `days` days from `first_day`, with mean 1."""
    dates = [first_day + timedelta(days=offset) for offset in range(days)]
    weights = np.array([weight_of(day) for day in dates])
    return weights / weights.mean()


def weight_of(day: date) -> float:
    weight = WEEKEND_FACTOR if day.weekday() >= 5 else 1.0
    weight *= spring_festival_factor(day)
    weight *= shopping_festival_factor(day)
    for festival in MID_AUTUMN:
        if timedelta(0) <= festival - day <= timedelta(days=10):
            weight *= 1.3
    return weight


def spring_festival_factor(day: date) -> float:
    for festival in SPRING_FESTIVALS:
        days_before = (festival - day).days
        if 1 <= days_before <= 21:
            return 1.5 + (21 - days_before) / 21  # rising to 2.5× on New Year's Eve
        if 0 <= -days_before <= 5:
            return 0.5
    return 1.0


def shopping_festival_factor(day: date) -> float:
    if (day.month, day.day) in ((6, 18), (11, 11)):
        return 3.0
    if (day.month == 6 and day.day < 18) or (day.month == 11 and day.day < 11):
        return 1.35
    if day.month == 12 and day.day == 12:
        return 1.8
    return 1.0


def is_promotion_day(day: date) -> bool:
    """Days with a store-wide 满减 (spend-X-save-Y) promotion."""
    return shopping_festival_factor(day) > 1.0 or spring_festival_factor(day) > 1.0
