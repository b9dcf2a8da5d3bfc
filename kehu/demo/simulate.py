"""Numpy draws of how demo customers buy: when (BG/NBD), where, what and for how much.

Each buyer has a purchase rate drawn from a gamma distribution and, after every purchase, a
chance of dropping out for good drawn from a beta distribution — the buying process the BG/NBD
model assumes — so the analytics built later find the patterns they are meant to find. Money is
in integer cents throughout. Nothing here touches Django.
"""

from dataclasses import dataclass

import numpy as np

from kehu.demo.catalogue import CATEGORIES, CHANNEL_MIX_BY_SOURCE, CHANNELS, SOURCE_SHARES
from kehu.demo.timeline import DAY, HOUR, Timeline, fit_between, shopping_seconds

# Purchase rate λ ~ Gamma(shape, scale) in purchases per (average) day; dropout p ~ Beta(a, b).
RATE_SHAPE = 0.9
RATE_SCALE = 0.115
DROPOUT_A = 0.8
DROPOUT_B = 10.0
PROSPECT_SHARE = 0.06  # signed up (event, referral, community) but never bought
MAX_REPEATS = 400

SOURCES = tuple(SOURCE_SHARES)
CHANNEL_CODES = tuple(channel.code for channel in CHANNELS)
DELIVERY_CHANNELS = np.array([channel.kind == "delivery" for channel in CHANNELS])
POS_CHANNEL = CHANNEL_CODES.index("pos")


@dataclass(frozen=True)
class Catalogue:
    """Products as arrays: price in cents, category index, and per-category lookup tables."""

    prices: np.ndarray
    categories: np.ndarray
    category_offsets: np.ndarray  # first product index of each category
    product_cumulative: list[np.ndarray]  # per category: cumulative popularity of its products
    category_popularity: np.ndarray


def build_catalogue() -> Catalogue:
    prices: list[int] = []
    categories: list[int] = []
    offsets: list[int] = []
    cumulative: list[np.ndarray] = []
    for index, category in enumerate(CATEGORIES):
        offsets.append(len(prices))
        for _name, price in category.products:
            prices.append(round(float(price) * 100))
            categories.append(index)
        popularity = 1.0 / np.arange(1, len(category.products) + 1) ** 0.7
        cumulative.append(np.cumsum(popularity) / popularity.sum())
    popularity = np.array([category.popularity for category in CATEGORIES])
    return Catalogue(
        np.array(prices, dtype=np.int64),
        np.array(categories, dtype=np.int64),
        np.array(offsets, dtype=np.int64),
        cumulative,
        popularity / popularity.sum(),
    )


@dataclass(frozen=True)
class Buyers:
    """Per-customer draws for one chunk of customers."""

    source: np.ndarray  # index into SOURCES
    created: np.ndarray  # epoch seconds of sign-up
    is_buyer: np.ndarray
    purchase_rate: np.ndarray
    dropout: np.ndarray
    channel_cumulative: np.ndarray  # (customers, channels)
    category_cumulative: np.ndarray  # (customers, categories)
    basket_mean: np.ndarray


def draw_buyers(
    rng: np.random.Generator, timeline: Timeline, count: int, catalogue: Catalogue
) -> Buyers:
    source = rng.choice(len(SOURCES), size=count, p=list(SOURCE_SHARES.values()))
    created = draw_signups(rng, timeline, count)
    is_buyer = rng.random(count) >= PROSPECT_SHARE
    mixes = np.array([CHANNEL_MIX_BY_SOURCE[name] for name in SOURCES])[source]
    channel_share = dirichlet_rows(rng, mixes * 6.0)
    category_share = dirichlet_rows(rng, np.tile(catalogue.category_popularity * 4.0, (count, 1)))
    return Buyers(
        source=source,
        created=created,
        is_buyer=is_buyer,
        purchase_rate=rng.gamma(RATE_SHAPE, RATE_SCALE, size=count),
        dropout=rng.beta(DROPOUT_A, DROPOUT_B, size=count),
        channel_cumulative=np.cumsum(channel_share, axis=1),
        category_cumulative=np.cumsum(category_share, axis=1),
        basket_mean=rng.gamma(2.0, 0.6, size=count),
    )


def dirichlet_rows(rng: np.random.Generator, concentration: np.ndarray) -> np.ndarray:
    """One Dirichlet draw per row of concentrations (normalised gammas)."""
    draws = rng.gamma(concentration)
    return draws / draws.sum(axis=1, keepdims=True)


def draw_signups(rng: np.random.Generator, timeline: Timeline, count: int) -> np.ndarray:
    """Sign-up moments: busier days and, as the chain grows, more recent days are likelier."""
    growth = np.linspace(0.5, 1.5, timeline.days)
    chance = timeline.weights * growth
    days = rng.choice(timeline.days, size=count, p=chance / chance.sum())
    moments = timeline.day_starts[days] + shopping_seconds(rng, count)
    lowest = timeline.day_starts[days]
    highest = np.full(count, timeline.now - 120)
    return fit_between(rng, moments, np.minimum(lowest, highest), highest)


def choose_by_row(rng: np.random.Generator, cumulative_rows: np.ndarray) -> np.ndarray:
    """For each row of cumulative probabilities, the index a uniform draw falls into."""
    draws = rng.random(len(cumulative_rows))
    chosen = (draws[:, None] > cumulative_rows).sum(axis=1)
    return np.minimum(chosen, cumulative_rows.shape[1] - 1)


@dataclass(frozen=True)
class Orders:
    customer: np.ndarray  # index into the chunk's customers
    ordered_at: np.ndarray  # epoch seconds
    channel: np.ndarray  # index into CHANNELS


def draw_orders(rng: np.random.Generator, timeline: Timeline, buyers: Buyers) -> Orders:
    """Every buyer's first order at sign-up, then repeats until dropout or now."""
    buyer_index = np.flatnonzero(buyers.is_buyer)
    first_at = np.minimum(
        buyers.created[buyer_index] + rng.integers(60, 1200, len(buyer_index)), timeline.now
    )
    repeat_customer, repeat_at = draw_repeats(rng, timeline, buyers, buyer_index)
    customer = np.concatenate([buyer_index, repeat_customer])
    ordered_at = np.concatenate([first_at, repeat_at])
    order = np.lexsort((ordered_at, customer))
    customer, ordered_at = customer[order], ordered_at[order]
    channel = choose_by_row(rng, buyers.channel_cumulative[customer])
    return Orders(customer, ordered_at, channel)


def draw_repeats(
    rng: np.random.Generator, timeline: Timeline, buyers: Buyers, buyer_index: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    rate = buyers.purchase_rate[buyer_index]
    start = timeline.effective_time(buyers.created[buyer_index])
    window = timeline.effective_now - start
    # Purchases a customer makes before dropping out (geometric); at most what fits the window.
    alive_purchases = rng.geometric(buyers.dropout[buyer_index]) - 1
    expected = rate * window
    fits = np.ceil(expected + 4 * np.sqrt(expected) + 3).astype(np.int64)
    gaps_per_customer = np.minimum(np.minimum(alive_purchases, fits), MAX_REPEATS)
    owner = np.repeat(np.arange(len(buyer_index)), gaps_per_customer)
    gaps = rng.exponential(1.0, size=len(owner)) / rate[owner]
    elapsed = grouped_cumsum(gaps, gaps_per_customer)
    inside = elapsed < window[owner]
    owner, effective = owner[inside], start[owner[inside]] + elapsed[inside]
    days = timeline.day_of_effective(effective)
    moments = timeline.day_starts[days] + shopping_seconds(rng, len(days))
    created = buyers.created[buyer_index[owner]]
    lowest = np.minimum(created + HOUR, timeline.now)
    moments = fit_between(rng, moments, lowest, np.full(len(moments), timeline.now))
    return buyer_index[owner], moments


def grouped_cumsum(values: np.ndarray, group_sizes: np.ndarray) -> np.ndarray:
    """Cumulative sums restarting at each group of a flat array laid out group by group."""
    totals = np.cumsum(values)
    group_starts = np.concatenate([[0], np.cumsum(group_sizes)[:-1]])
    before_group = np.concatenate([[0.0], totals])[group_starts]
    return totals - np.repeat(before_group, group_sizes)


@dataclass(frozen=True)
class Lines:
    order: np.ndarray  # index into the chunk's orders
    product: np.ndarray
    quantity: np.ndarray
    unit_price: np.ndarray  # cents
    discount: np.ndarray  # cents
    amount: np.ndarray  # cents


def draw_lines(
    rng: np.random.Generator, orders: Orders, buyers: Buyers, catalogue: Catalogue,
    promotion_days: np.ndarray, timeline: Timeline,
) -> Lines:  # fmt: skip
    line_counts = np.minimum(1 + rng.poisson(buyers.basket_mean[orders.customer]), 12)
    order = np.repeat(np.arange(len(orders.customer)), line_counts)
    category = choose_by_row(rng, buyers.category_cumulative[orders.customer[order]])
    product = choose_products(rng, category, catalogue)
    price = catalogue.prices[product]
    quantity = np.minimum(1 + rng.poisson(np.where(price < 2000, 0.6, 0.12)), 6)
    gross = quantity * price
    order_discount = draw_order_discounts(
        rng,
        orders,
        np.bincount(order, gross, len(orders.customer)).astype(np.int64),
        promotion_days,
        timeline,
    )
    discount = share_discount(order, gross, order_discount)
    return Lines(order, product, quantity, price, discount, gross - discount)


def choose_products(
    rng: np.random.Generator, category: np.ndarray, catalogue: Catalogue
) -> np.ndarray:
    product = np.empty(len(category), dtype=np.int64)
    draws = rng.random(len(category))
    for index, cumulative in enumerate(catalogue.product_cumulative):
        chosen = category == index
        within = np.minimum(np.searchsorted(cumulative, draws[chosen]), len(cumulative) - 1)
        product[chosen] = catalogue.category_offsets[index] + within
    return product


def draw_order_discounts(
    rng: np.random.Generator, orders: Orders, subtotal: np.ndarray, promotion_days: np.ndarray,
    timeline: Timeline,
) -> np.ndarray:  # fmt: skip
    """满减: on promotion days spend 100 save 10, spend 200 save 30; coupons on other days."""
    day = np.searchsorted(timeline.day_starts, orders.ordered_at, side="right") - 1
    on_promotion = promotion_days[day] & (rng.random(len(day)) < 0.8)
    coupon = rng.random(len(day)) < 0.15
    delivery = DELIVERY_CHANNELS[orders.channel] & (rng.random(len(day)) < 0.5)
    discount = np.zeros(len(day), dtype=np.int64)
    discount[delivery & (subtotal >= 4000)] = 500
    discount[coupon & (subtotal >= 9900)] = 1000
    discount[on_promotion & (subtotal >= 10000)] = 1000
    discount[on_promotion & (subtotal >= 20000)] = 3000
    return discount


def share_discount(order: np.ndarray, gross: np.ndarray, order_discount: np.ndarray) -> np.ndarray:
    """Spread each order's discount over its lines by value, whole cents, remainder on line one."""
    subtotal = np.bincount(order, gross).astype(np.int64)
    share = order_discount[order] * gross // np.maximum(subtotal[order], 1)
    remainder = order_discount - np.bincount(order, share, len(order_discount)).astype(np.int64)
    first_lines = np.flatnonzero(np.concatenate([[True], order[1:] != order[:-1]]))
    share[first_lines] += remainder[order[first_lines]]
    return share


@dataclass(frozen=True)
class Refunds:
    order: np.ndarray
    amount: np.ndarray  # cents
    refunded_at: np.ndarray
    reason: np.ndarray  # index into REFUND_REASONS


def draw_refunds(
    rng: np.random.Generator, orders: Orders, totals: np.ndarray, first_line_amount: np.ndarray,
    now: int, reason_count: int,
) -> Refunds:  # fmt: skip
    """About 2% of orders are refunded: most in full, some partly (one line, or half)."""
    refunded = np.flatnonzero((rng.random(len(totals)) < 0.02) & (totals > 1))
    partial = rng.random(len(refunded)) < 0.2
    partial_amount = np.where(
        first_line_amount[refunded] < totals[refunded],
        first_line_amount[refunded],
        totals[refunded] // 2,
    )
    amount = np.where(partial, np.maximum(partial_amount, 1), totals[refunded])
    # Within a week of the order, and never after now.
    longest = np.minimum(7 * DAY, now - orders.ordered_at[refunded])
    delay = (longest * rng.uniform(0.05, 1.0, len(refunded))).astype(np.int64)
    reason = rng.integers(0, reason_count, len(refunded))
    return Refunds(refunded, amount, orders.ordered_at[refunded] + delay, reason)
