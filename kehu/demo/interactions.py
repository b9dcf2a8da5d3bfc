"""Draws of demo interactions: owners call, message and meet their customers, more often the
more recently those customers bought; customer service calls back about refunds."""

import random
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from kehu.demo import simulate
from kehu.demo.catalogue import CATEGORIES, STORES
from kehu.demo.people import People
from kehu.demo.texts import INTERACTION_CHANNEL_SHARES, INTERACTION_TEMPLATES, SERVICE_TEMPLATES
from kehu.demo.timeline import DAY, Timeline, fit_between, shopping_seconds

if TYPE_CHECKING:
    from kehu.demo.generate import DrawContext

RECENT_DAYS = 180
INTERACTION_CHANNELS = tuple(INTERACTION_CHANNEL_SHARES)


@dataclass(frozen=True)
class InteractionDraws:
    customer: np.ndarray  # index into the chunk's customers
    occurred_at: np.ndarray
    staff: np.ndarray  # user ids
    channel: list[str]
    direction: list[str]
    summary: list[str]
    has_wecom: np.ndarray  # per customer: reached on WeCom, so they have a WeCom id


def draw_interactions(
    rng: np.random.Generator, text_random: random.Random, timeline: Timeline, people: People,
    owner: np.ndarray, owned_since: np.ndarray, orders: simulate.Orders, lines: simulate.Lines,
    refunds: simulate.Refunds, context: "DrawContext",
) -> InteractionDraws:  # fmt: skip
    size = len(owner)
    recent = orders.ordered_at >= timeline.now - RECENT_DAYS * DAY
    recent_orders = np.bincount(orders.customer[recent], minlength=size)
    expected = np.minimum(0.8 + 0.5 * recent_orders, 15.0)
    counts = np.where(owner >= 0, rng.poisson(expected), 0)
    customer = np.repeat(np.arange(size), counts)
    start = owned_since[customer]
    # Skewed towards now: owners follow up active customers and go quiet on lapsed ones.
    moments = start + ((timeline.now - start) * rng.random(len(customer)) ** 0.5).astype(np.int64)
    day = np.searchsorted(timeline.day_starts, moments, side="right") - 1
    moments = timeline.day_starts[day] + shopping_seconds(rng, len(customer))
    moments = fit_between(rng, moments, start, np.full(len(customer), timeline.now))
    channel_index = rng.choice(
        len(INTERACTION_CHANNELS), size=len(customer), p=list(INTERACTION_CHANNEL_SHARES.values())
    )
    products = bought_products(rng, customer, orders, lines)
    channels, directions, summaries = write_owner_texts(
        text_random, channel_index, products, people.store[customer]
    )
    has_wecom = np.zeros(size, dtype=bool)
    has_wecom[customer[channel_index == INTERACTION_CHANNELS.index("wecom")]] = True
    service = service_calls(rng, text_random, orders, lines, refunds, context)
    return InteractionDraws(
        customer=np.concatenate([customer, service.customer]),
        occurred_at=np.concatenate([moments, service.occurred_at]),
        staff=np.concatenate([owner[customer], service.staff]),
        channel=channels + service.channel,
        direction=directions + service.direction,
        summary=summaries + service.summary,
        has_wecom=has_wecom,
    )


def bought_products(
    rng: np.random.Generator, customer: np.ndarray, orders: simulate.Orders, lines: simulate.Lines
) -> np.ndarray:
    """A product each customer bought, to talk about; a bestseller for those who never bought."""
    line_customer = orders.customer[lines.order]  # orders and lines are grouped by customer
    first = np.searchsorted(line_customer, customer, side="left")
    last = np.searchsorted(line_customer, customer, side="right")
    has_lines = last > first
    pick = first + (rng.random(len(customer)) * np.maximum(last - first, 1)).astype(np.int64)
    pick = np.minimum(pick, len(lines.product) - 1)
    bestseller = 0
    return np.where(
        has_lines, lines.product[pick] if len(lines.product) else bestseller, bestseller
    )


def write_owner_texts(
    text_random: random.Random, channel_index: np.ndarray, products: np.ndarray, stores: np.ndarray
) -> tuple[list[str], list[str], list[str]]:
    names = product_names()
    channels, directions, summaries = [], [], []
    for channel, product, store in zip(
        channel_index.tolist(), products.tolist(), stores.tolist(), strict=True
    ):
        channel_name = INTERACTION_CHANNELS[channel]
        direction, template = text_random.choice(INTERACTION_TEMPLATES[channel_name])
        product_name, category_name = names[product]
        channels.append(channel_name)
        directions.append(direction)
        summaries.append(
            template.format(product=product_name, category=category_name, store=STORES[store].name)
        )
    return channels, directions, summaries


def product_names() -> list[tuple[str, str]]:
    return [(name, category.name) for category in CATEGORIES for name, _price in category.products]


@dataclass(frozen=True)
class ServiceCalls:
    customer: np.ndarray
    occurred_at: np.ndarray
    staff: np.ndarray
    channel: list[str]
    direction: list[str]
    summary: list[str]


def service_calls(
    rng: np.random.Generator, text_random: random.Random, orders: simulate.Orders,
    lines: simulate.Lines, refunds: simulate.Refunds, context: "DrawContext",
) -> ServiceCalls:  # fmt: skip
    """Half of the refunded customers called customer service about it."""
    called = rng.random(len(refunds.order)) < 0.5
    order = refunds.order[called]
    first_lines = np.searchsorted(lines.order, order)
    names = product_names()
    summaries = [
        text_random.choice(SERVICE_TEMPLATES).format(product=names[product][0])
        for product in lines.product[first_lines].tolist()
    ]
    service_id = context.business.staff["service1"].pk
    return ServiceCalls(
        customer=orders.customer[order],
        occurred_at=refunds.refunded_at[called],
        staff=np.full(len(order), service_id, dtype=np.int64),
        channel=["phone"] * len(order),
        direction=["inbound"] * len(order),
        summary=summaries,
    )
