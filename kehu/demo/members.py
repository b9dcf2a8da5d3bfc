"""Demo loyalty members: most customers joined the programme when they first came, earned
points on every order since (dated at the purchase), climbed tiers, redeemed now and then, and
some points have expired. Written set-based, then through the ledger's own bulk services."""

import datetime
import time
from collections.abc import Sequence
from decimal import Decimal

import numpy as np
from django.db import transaction
from django.utils import timezone

from kehu.commerce.models import Category
from kehu.core.errors import RuleViolation
from kehu.customers.models import Customer
from kehu.demo.business import Business
from kehu.loyalty.members.services import (
    REFERRAL_ALPHABET,
    REFERRAL_CODE_LENGTH,
    ensure_default_tiers,
)
from kehu.loyalty.models import (
    EarningRule,
    EnrolmentChannel,
    Membership,
    RedemptionItem,
    TierChange,
)
from kehu.loyalty.points.bulk import earn_all_pending_orders
from kehu.loyalty.points.expiry import expire_points
from kehu.loyalty.points.redemption import redeem_cash_offset, redeem_gift

MEMBER_SHARE = 0.6
REDEEMING_SHARE = 0.03
GIFTS = (("帆布袋", 300, 200), ("保温杯", 800, 50), ("会员专享咖啡券", 150, None))
CHANNELS = (EnrolmentChannel.STORE, EnrolmentChannel.ONLINE, EnrolmentChannel.MINI_PROGRAM)


def enrol_demo_members(business: Business, seed: int, now: datetime.datetime) -> float:
    """Enrol a share of the customers who are not members yet; answers the seconds taken."""
    started = time.monotonic()
    rng = np.random.default_rng([seed, 5])
    customers = list(
        Customer.objects.filter(membership__isnull=True)
        .order_by("pk")
        .values_list("pk", "created_at", "home_store_id")
    )
    picks = rng.random(len(customers)) < MEMBER_SHARE
    chosen = [row for row, pick in zip(customers, picks.tolist(), strict=True) if pick]
    with transaction.atomic():
        write_memberships(rng, chosen, now)
        add_earning_rules(now)
    earn_all_pending_orders(now, date_entries_by_order=True)
    redeem_now_and_then(rng, business, now)
    expire_points(now)
    return time.monotonic() - started


def add_earning_rules(now: datetime.datetime) -> None:
    """Double points on fresh produce, and a bonus event over the last 双11, so statements
    show rules at work (kept when the demo is loaded again)."""
    fresh = Category.objects.filter(name="生鲜果蔬").first()
    if fresh is not None:
        EarningRule.objects.get_or_create(
            name="生鲜双倍积分", defaults={"multiplier": Decimal(2), "category": fresh}
        )
    today = timezone.localdate(now)
    year = today.year if today >= datetime.date(today.year, 11, 12) else today.year - 1
    EarningRule.objects.get_or_create(
        name=f"{year} 双11 三倍积分",
        defaults={
            "multiplier": Decimal(3),
            "starts_on": datetime.date(year, 11, 10),
            "ends_on": datetime.date(year, 11, 11),
        },
    )


CustomerRow = tuple[int, datetime.datetime, int | None]
"""(customer id, created at, home store id)."""


def write_memberships(
    rng: np.random.Generator, customers: Sequence[CustomerRow], now: datetime.datetime
) -> None:
    entry = ensure_default_tiers()[0]
    codes = referral_codes(rng, len(customers))
    channels = rng.integers(0, len(CHANNELS), len(customers))
    memberships = [
        Membership(
            customer_id=customer_id,
            card_number=f"8{customer_id:010d}",
            referral_code=code,
            enrolled_on=timezone.localdate(created_at),
            channel=CHANNELS[channel],
            store_id=store_id,
            tier=entry,
            tier_since=timezone.localdate(created_at),
        )
        for (customer_id, created_at, store_id), code, channel in zip(
            customers, codes, channels.tolist(), strict=True
        )
    ]
    Membership.objects.bulk_create(memberships, batch_size=2000)
    ids = Membership.objects.filter(customer_id__in=[row[0] for row in customers]).values_list(
        "pk", flat=True
    )
    TierChange.objects.bulk_create(
        (
            TierChange(membership_id=pk, tier=entry, reason="enrolment", changed_at=now)
            for pk in ids
        ),
        batch_size=2000,
    )


def referral_codes(rng: np.random.Generator, count: int) -> list[str]:
    """Distinct codes, also from the ones stored already."""
    taken = set(Membership.objects.values_list("referral_code", flat=True))
    alphabet = np.array(list(REFERRAL_ALPHABET))
    codes: list[str] = []
    while len(codes) < count:
        letters = alphabet[rng.integers(0, len(alphabet), (count, REFERRAL_CODE_LENGTH))]
        for code in ("".join(row) for row in letters):
            if code not in taken and len(codes) < count:
                taken.add(code)
                codes.append(code)
    return codes


def redeem_now_and_then(
    rng: np.random.Generator, business: Business, now: datetime.datetime
) -> None:
    """A few members with points redeem a gift or pay part of a purchase with points."""
    gifts = [
        RedemptionItem.objects.get_or_create(
            name=name, defaults={"points_cost": cost, "stock": stock}
        )[0]
        for name, cost, stock in GIFTS
    ]
    staff = business.staff["admin"]
    rich = list(
        Membership.objects.filter(points_balance__gte=800)
        .order_by("pk")
        .values_list("customer_id", "points_balance")
    )
    picks = rng.random(len(rich)) < REDEEMING_SHARE
    picked = [row for row, pick in zip(rich, picks.tolist(), strict=True) if pick]
    for index, (customer_id, balance) in enumerate(picked):
        when = now - datetime.timedelta(days=int(rng.integers(0, 120)))
        key = f"demo-redemption-{customer_id}"
        try:
            if index % 2:
                gift = gifts[index % len(gifts)]
                redeem_gift(staff, customer_id, gift.pk, idempotency_key=key, now=when)
            else:
                amount = Decimal(min(balance, 500) // 100)
                redeem_cash_offset(staff, customer_id, amount, idempotency_key=key, now=when)
        except RuleViolation:
            continue  # out of stock, or the points expired before that day: no redemption
