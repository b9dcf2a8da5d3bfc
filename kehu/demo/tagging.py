"""Tags and interests that follow from what demo customers bought and how."""

import json
from dataclasses import dataclass

import numpy as np

from kehu.demo import simulate
from kehu.demo.catalogue import CATEGORIES, CHANNELS, TAG_GROUPS
from kehu.demo.timeline import DAY

INTEREST_TAGS = TAG_GROUPS["interest"][2]
TAG_NAMES = (*INTEREST_TAGS, "高价值", "潜力客户", "社群", "线上")
ONLINE_CHANNELS = np.array([channel.kind in ("online", "delivery") for channel in CHANNELS])
GROUP_BUY_CHANNELS = np.array([channel.kind == "group_buy" for channel in CHANNELS])


@dataclass(frozen=True)
class TagDraws:
    customer: np.ndarray  # index into the chunk's customers, one entry per tag given
    tag: np.ndarray  # index into tag_names
    tag_names: tuple[str, ...]
    interests_json: list[str]  # per customer: the interests as a JSON list


def choose_tags(
    orders: simulate.Orders, lines: simulate.Lines, catalogue: simulate.Catalogue,
    created: np.ndarray, now: int, size: int,
) -> TagDraws:  # fmt: skip
    interest_lines = count_interest_lines(orders, lines, catalogue, size)
    line_totals = np.maximum(interest_lines.sum(axis=1, keepdims=True), 1)
    is_interested = (interest_lines >= 3) & (interest_lines / line_totals >= 0.25)
    flags = np.column_stack([is_interested, *behaviour_flags(orders, lines, created, now, size)])
    customer, tag = np.nonzero(flags)
    interests_json = [
        json.dumps([INTEREST_TAGS[i] for i in np.flatnonzero(row)], ensure_ascii=False)
        for row in is_interested
    ]
    return TagDraws(customer, tag, TAG_NAMES, interests_json)


def count_interest_lines(
    orders: simulate.Orders, lines: simulate.Lines, catalogue: simulate.Catalogue, size: int
) -> np.ndarray:
    """Lines bought per customer and interest (categories sharing an interest add up)."""
    interest_of_category = np.array(
        [INTEREST_TAGS.index(c.interest) if c.interest else -1 for c in CATEGORIES]
    )
    interest = interest_of_category[catalogue.categories[lines.product]]
    customer = orders.customer[lines.order]
    known = interest >= 0
    flat = customer[known] * len(INTEREST_TAGS) + interest[known]
    counts = np.bincount(flat, minlength=size * len(INTEREST_TAGS))
    return counts.reshape(size, len(INTEREST_TAGS))


def behaviour_flags(
    orders: simulate.Orders, lines: simulate.Lines, created: np.ndarray, now: int, size: int
) -> tuple[np.ndarray, ...]:
    order_counts = np.bincount(orders.customer, minlength=size)
    spend = np.bincount(orders.customer[lines.order], lines.amount, minlength=size)
    buyers = order_counts > 0
    threshold = np.quantile(spend[buyers], 0.9) if buyers.any() else np.inf
    online = np.bincount(orders.customer, ONLINE_CHANNELS[orders.channel], minlength=size)
    group_buy = np.bincount(orders.customer, GROUP_BUY_CHANNELS[orders.channel], minlength=size)
    several = order_counts >= 2
    return (
        buyers & (spend >= threshold),
        (created >= now - 90 * DAY) & (order_counts >= 3),
        several & (group_buy >= 0.4 * order_counts),
        several & (online >= 0.5 * order_counts),
    )
