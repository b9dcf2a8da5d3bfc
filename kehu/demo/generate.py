"""Generate the demo business: customers who buy at their own rates and drop out over time.

`generate_demo` draws customers in chunks with numpy (see simulate.py for the buying process),
then writes each chunk in one transaction with bulk writes (writer.py). The same seed within the
same hour (or with the same `now`) gives the same data set; "today" is the current date in the
business's time zone.
"""

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from kehu.commerce.models import Order, OrderLine, Refund
from kehu.core.maintenance import refresh_planner_statistics
from kehu.customers.models import Customer, OwnershipChange
from kehu.customers.pool import return_neglected_customers
from kehu.demo import simulate
from kehu.demo.business import Business, ensure_business
from kehu.demo.catalogue import CHANNELS, STORES
from kehu.demo.interactions import InteractionDraws, draw_interactions
from kehu.demo.members import enrol_demo_members
from kehu.demo.people import People, draw_people
from kehu.demo.seasons import is_promotion_day
from kehu.demo.tagging import choose_tags
from kehu.demo.texts import OWNERSHIP_REASON, REFUND_REASONS
from kehu.demo.timeline import DAY, Timeline, build_timeline
from kehu.demo.writer import (
    date_text,
    datetime_text,
    money,
    next_ids,
    optional_datetime_text,
    reset_sequences,
    write_rows,
)
from kehu.engagement.models import Interaction
from kehu.segments.nightly import refresh_segmentation
from kehu.segments.refresh import refresh_all_metrics

DAYS_OF_HISTORY = 730
CHUNK_SIZE = 20_000
POOL_SHARE = 0.2
DEFAULT_SEED = 2024


@dataclass
class DemoSummary:
    customers: int = 0
    orders: int = 0
    order_lines: int = 0
    refunds: int = 0
    interactions: int = 0
    returned_to_pool: int = 0
    seconds: float = 0.0


@dataclass(frozen=True)
class DrawContext:
    """What every chunk draws from: the calendar, the catalogue and the business's records."""

    timeline: Timeline
    catalogue: simulate.Catalogue
    promotion_days: np.ndarray
    business: Business
    used_mobiles: set[str] = field(default_factory=set)


def generate_demo(
    customers: int = 5_000,
    seed: int = DEFAULT_SEED,
    now: datetime | None = None,
    progress: Callable[[DemoSummary], None] | None = None,
) -> DemoSummary:
    started = time.monotonic()
    # The data's clock stops at the start of the hour, so a seed gives the same data all hour.
    now = now or timezone.now().replace(minute=0, second=0, microsecond=0)
    timeline = build_timeline(now, DAYS_OF_HISTORY, settings.TIME_ZONE)
    context = DrawContext(
        timeline=timeline,
        catalogue=simulate.build_catalogue(),
        promotion_days=timeline.days_where(is_promotion_day),
        business=ensure_business(),
        used_mobiles=set(Customer.objects.exclude(mobile="").values_list("mobile", flat=True)),
    )
    summary = DemoSummary()
    for index, start in enumerate(range(0, customers, CHUNK_SIZE)):
        rng = np.random.default_rng([seed, index])
        text_random = random.Random(f"{seed}-{index}")
        with transaction.atomic():
            write_chunk(rng, text_random, context, min(CHUNK_SIZE, customers - start), summary)
        summary.seconds = time.monotonic() - started
        if progress is not None:
            progress(summary)
    reset_sequences([Customer, Order])
    enrol_demo_members(context.business, seed, now)  # 60% members, points since they joined
    # The business runs kehu's rules: customers nobody followed up have gone back to the pool.
    summary.returned_to_pool = return_neglected_customers(now)
    refresh_planner_statistics()
    # Scoring as of a week ago first gives the overview real stage movements for this week.
    refresh_all_metrics(now - timedelta(days=7))
    refresh_segmentation(now)
    summary.seconds = time.monotonic() - started
    return summary


def write_chunk(
    rng: np.random.Generator,
    text_random: random.Random,
    context: DrawContext,
    size: int,
    summary: DemoSummary,
) -> None:
    timeline, business = context.timeline, context.business
    people = draw_people(rng, text_random, size, timeline.today_days, context.used_mobiles)
    buyers = simulate.draw_buyers(rng, timeline, size, context.catalogue)
    orders = simulate.draw_orders(rng, timeline, buyers)
    lines = simulate.draw_lines(
        rng, orders, buyers, context.catalogue, context.promotion_days, timeline
    )
    totals = np.bincount(lines.order, lines.amount, len(orders.customer)).astype(np.int64)
    first_lines = np.searchsorted(lines.order, np.arange(len(orders.customer)))
    refunds = simulate.draw_refunds(
        rng, orders, totals, lines.amount[first_lines], timeline.now, len(REFUND_REASONS)
    )
    owner, owned_since = draw_owners(rng, people, buyers.created, timeline.now, business)
    interactions = draw_interactions(
        rng, text_random, timeline, people, owner, owned_since, orders, lines, refunds, context
    )
    customer_id = next_ids(Customer) + np.arange(size)
    order_id = next_ids(Order) + np.arange(len(orders.customer))
    write_customers(
        customer_id, people, buyers, owner, owned_since, interactions, orders, lines, context
    )
    write_ownership(customer_id, people, owner, owned_since, business)
    store = draw_order_stores(rng, people, orders)
    write_orders(order_id, customer_id, orders, store, totals, lines, refunds, context)
    write_lines(order_id, lines, business)
    write_refunds(order_id, refunds, business)
    write_interactions(customer_id, interactions)
    summary.customers += size
    summary.orders += len(orders.customer)
    summary.order_lines += len(lines.order)
    summary.refunds += len(refunds.order)
    summary.interactions += len(interactions.customer)


def draw_owners(
    rng: np.random.Generator, people: People, created: np.ndarray, now: int, business: Business
) -> tuple[np.ndarray, np.ndarray]:
    """Most customers belong to a salesperson of their store's team; the rest sit in the pool."""
    owner = np.full(len(created), -1, dtype=np.int64)
    for store_index, spec in enumerate(STORES):
        team_sales = np.array([user.pk for user in business.salespeople_of(spec.team)])
        members = np.flatnonzero(people.store == store_index)
        if len(team_sales):
            owner[members] = team_sales[rng.integers(0, len(team_sales), len(members))]
    owner[rng.random(len(created)) < POOL_SHARE] = -1
    owned_since = np.minimum(created + rng.integers(300, 2 * DAY, len(created)), now)
    owned_since[owner < 0] = -1
    return owner, owned_since


def draw_order_stores(
    rng: np.random.Generator, people: People, orders: simulate.Orders
) -> np.ndarray:
    """Orders go to the customer's home store; now and then they shop at another one."""
    store = people.store[orders.customer].copy()
    elsewhere = (orders.channel == simulate.POS_CHANNEL) & (rng.random(len(store)) < 0.08)
    store[elsewhere] = (store[elsewhere] + 1) % len(STORES)
    return store


def write_customers(
    customer_id: np.ndarray,
    people: People,
    buyers: simulate.Buyers,
    owner: np.ndarray,
    owned_since: np.ndarray,
    interactions: InteractionDraws,
    orders: simulate.Orders,
    lines: simulate.Lines,
    context: DrawContext,
) -> None:
    size = len(customer_id)
    last_followed = np.full(size, -1, dtype=np.int64)
    np.maximum.at(last_followed, interactions.customer, interactions.occurred_at)
    tags = choose_tags(orders, lines, context.catalogue, buyers.created, context.timeline.now, size)
    sources = [simulate.SOURCES[index] for index in buyers.source.tolist()]
    updated = np.maximum(np.maximum(buyers.created, owned_since), last_followed)
    ids = customer_id.tolist()
    wecom_ids = [
        f"wm{n:012d}" if has else "" for n, has in zip(ids, interactions.has_wecom, strict=True)
    ]
    member_numbers = [
        f"KH{n:08d}" if member else None for n, member in zip(ids, people.is_member, strict=True)
    ]
    stores = [STORES[index] for index in people.store.tolist()]
    store_ids = [context.business.stores[index].pk for index in people.store.tolist()]
    rows = zip(
        ids, people.name, people.gender, date_text(people.birthday), people.mobile, people.email,
        people.wechat_id, wecom_ids,
        [spec.province for spec in stores], [spec.city for spec in stores], people.district,
        people.address, people.occupation, people.income_band, tags.interests_json, sources,
        store_ids, member_numbers,
        [value if value >= 0 else None for value in owner.tolist()],
        optional_datetime_text(owned_since), optional_datetime_text(last_followed),
        people.status, people.notes, datetime_text(buyers.created), datetime_text(updated),
        strict=True,
    )  # fmt: skip
    write_rows(
        Customer,
        ["id", "name", "gender", "birthday", "mobile", "email", "wechat_id", "wecom_id",
         "province", "city", "district", "address", "occupation", "income_band", "interests",
         "source_channel", "home_store_id", "member_number", "owner_id", "owned_since",
         "last_followed_up_at", "status", "notes", "created_at", "updated_at"],
        rows,
    )  # fmt: skip
    tag_ids = [context.business.tags[name].pk for name in tags.tag_names]
    write_rows(
        Customer.tags.through,
        ["customer_id", "tag_id"],
        zip(
            customer_id[tags.customer].tolist(),
            [tag_ids[i] for i in tags.tag.tolist()],
            strict=True,
        ),
    )


def write_ownership(
    customer_id: np.ndarray, people: People, owner: np.ndarray, owned_since: np.ndarray,
    business: Business,
) -> None:  # fmt: skip
    owned = np.flatnonzero(owner >= 0)
    managers = [business.manager_of(spec.team).pk for spec in STORES]
    rows = zip(
        customer_id[owned].tolist(),
        owner[owned].tolist(),
        [managers[index] for index in people.store[owned].tolist()],
        datetime_text(owned_since[owned]),
        strict=True,
    )
    write_rows(
        OwnershipChange,
        ["customer_id", "new_owner_id", "actor_id", "created_at", "action", "reason"],
        ((*row, "assign", OWNERSHIP_REASON) for row in rows),
    )


def write_orders(
    order_id: np.ndarray, customer_id: np.ndarray, orders: simulate.Orders,
    store: np.ndarray, totals: np.ndarray, lines: simulate.Lines, refunds: simulate.Refunds,
    context: DrawContext,
) -> None:  # fmt: skip
    business, now = context.business, context.timeline.now
    status = np.where(
        (orders.ordered_at > now - DAY) & (orders.channel != simulate.POS_CHANNEL),
        "paid",
        "completed",
    ).astype(object)
    refunded = np.zeros(len(totals), dtype=np.int64)
    refunded[refunds.order] = refunds.amount
    status[refunds.order] = np.where(
        refunds.amount == totals[refunds.order], "refunded", "partially_refunded"
    )
    discounts = np.bincount(lines.order, lines.discount, len(totals)).astype(np.int64)
    prefixes = [channel.prefix for channel in CHANNELS]
    ordered_text = datetime_text(orders.ordered_at)
    external_ids = [
        f"{prefixes[channel]}{number:010d}"
        for channel, number in zip(orders.channel.tolist(), order_id.tolist(), strict=True)
    ]
    rows = zip(
        order_id.tolist(), customer_id[orders.customer].tolist(),
        [business.channels[index].pk for index in orders.channel.tolist()],
        external_ids,
        [business.stores[index].pk for index in store.tolist()], status.tolist(), ordered_text,
        money(totals), money(discounts), money(refunded), ordered_text,
        strict=True,
    )  # fmt: skip
    write_rows(
        Order,
        ["id", "customer_id", "channel_id", "external_id", "store_id", "status", "ordered_at",
         "total_amount", "discount_amount", "refunded_amount", "created_at"],
        rows,
    )  # fmt: skip


def write_lines(order_id: np.ndarray, lines: simulate.Lines, business: Business) -> None:
    product_ids = [product.pk for product in business.products]
    product_names = [product.name for product in business.products]
    products = lines.product.tolist()
    rows = zip(
        order_id[lines.order].tolist(), [product_ids[index] for index in products],
        [product_names[index] for index in products], lines.quantity.tolist(),
        money(lines.unit_price), money(lines.discount), money(lines.amount),
        strict=True,
    )  # fmt: skip
    write_rows(
        OrderLine,
        ["order_id", "product_id", "product_name", "quantity", "unit_price", "discount", "amount"],
        rows,
    )


def write_refunds(order_id: np.ndarray, refunds: simulate.Refunds, business: Business) -> None:
    service = business.staff["service1"].pk
    reasons = [REFUND_REASONS[index] for index in refunds.reason.tolist()]
    rows = zip(
        order_id[refunds.order].tolist(), money(refunds.amount),
        [reason for reason, _returned in reasons], [returned for _reason, returned in reasons],
        datetime_text(refunds.refunded_at), [service] * len(reasons),
        strict=True,
    )  # fmt: skip
    write_rows(
        Refund, ["order_id", "amount", "reason", "is_return", "refunded_at", "created_by_id"], rows
    )


def write_interactions(customer_id: np.ndarray, interactions: InteractionDraws) -> None:
    occurred = datetime_text(interactions.occurred_at)
    rows = zip(
        customer_id[interactions.customer].tolist(), interactions.channel, interactions.direction,
        interactions.summary, interactions.staff.tolist(), occurred, occurred,
        strict=True,
    )  # fmt: skip
    write_rows(
        Interaction,
        ["customer_id", "channel", "direction", "summary", "staff_id", "occurred_at", "created_at"],
        rows,
    )
