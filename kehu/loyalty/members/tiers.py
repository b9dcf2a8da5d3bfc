"""Tiers (会员等级): which tier a member qualifies for, the upgrade the moment they do, the review
that may move them down after a grace period, and the birthday gift of each tier.

A member qualifies by their rolling 12-month spend or points earned (``tier_basis``). Upgrades
happen at once when points are earned; a downgrade happens only at the member's review
(``tier_review_on``, a year after they reached the tier), and only once ``downgrade_grace_days``
have passed since it, so purchases in the grace period still count. Every move is a TierChange.
"""

import bisect
import datetime
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
from django.db import transaction
from django.db.models import F, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.commerce.models import PURCHASE_STATUSES, Order
from kehu.loyalty.models import (
    LoyaltySettings,
    Membership,
    MembershipStatus,
    PointsEntry,
    PointsKind,
    PointsSource,
    Tier,
    TierBasis,
    TierChange,
    TierChangeReason,
)
from kehu.loyalty.outbox import record_tier_changed, record_tier_moves
from kehu.loyalty.points.ledger_writer import (
    add_to_balances,
    chunks,
    insert_entries,
    lock_memberships,
    new_entry_ids,
)

YEAR = datetime.timedelta(days=365)
Row = tuple[int, Any]
"""(membership id, spend or points)."""
BATCH_SIZE = 2000


def window_start(today: datetime.date) -> datetime.datetime:
    """The start of the rolling 12 months that end today, in the business's time zone."""
    start = today - YEAR + datetime.timedelta(days=1)
    return timezone.make_aware(datetime.datetime.combine(start, datetime.time.min))


def qualifying_values(
    customers: Mapping[int, int], basis: str, today: datetime.date
) -> dict[int, Decimal]:
    """Each member's rolling 12-month spend (¥, net of refunds) or points earned from orders
    and awards (net of refund reversals), by membership id; `customers` maps membership id →
    customer id. One grouped query per chunk, on the orders' (customer, ordered_at) index."""
    values: dict[int, Decimal] = {}
    since = window_start(today)
    membership_ids = sorted(customers)
    for chunk in chunks(membership_ids):
        if basis == TierBasis.POINTS:
            values.update((pk, Decimal(value or 0)) for pk, value in points_earned(chunk, since))
            continue
        membership_of = {customers[pk]: pk for pk in chunk}
        for customer_id, value in spend(list(membership_of), since):
            values[membership_of[customer_id]] = Decimal(value or 0)
    return values


def points_earned(membership_ids: Sequence[int], since: datetime.datetime) -> Iterable[Row]:
    return (
        PointsEntry.objects.filter(membership_id__in=membership_ids, created_at__gte=since)
        .filter(Q(kind=PointsKind.EARN) | Q(kind=PointsKind.REVERSE, source=PointsSource.ORDER))
        .order_by()
        .values("membership_id")
        .annotate(value=Sum("points"))
        .values_list("membership_id", "value")
    )


def spend(customer_ids: Sequence[int], since: datetime.datetime) -> Iterable[Row]:
    return (
        Order.objects.filter(
            customer_id__in=customer_ids, status__in=PURCHASE_STATUSES, ordered_at__gte=since
        )
        .order_by()
        .values("customer_id")
        .annotate(value=Sum(F("total_amount") - F("refunded_amount")))
        .values_list("customer_id", "value")
    )


def ordered_tiers() -> list[Tier]:
    """The tiers by rank (one query; the defaults are created on first use)."""
    tiers = list(Tier.objects.order_by("rank"))
    if tiers:
        return tiers
    from kehu.loyalty.members.services import ensure_default_tiers

    return ensure_default_tiers()


def qualifying_tier_indexes(tiers: list[Tier], values: Sequence[Decimal]) -> np.ndarray:
    """For each value, the index in `tiers` (by rank) of the highest tier it reaches."""
    thresholds = np.array([float(tier.threshold) for tier in tiers])
    indexes = np.searchsorted(thresholds, np.array([float(v) for v in values]), side="right") - 1
    return np.maximum(indexes, 0)


def next_review(tier: Tier, tiers: list[Tier], today: datetime.date) -> datetime.date | None:
    """A year after reaching a tier; none for the entry tier, which nobody leaves downwards."""
    return None if tier.rank == tiers[0].rank else today + YEAR


def move_tier(
    membership: Membership,
    tier: Tier,
    move: tuple[str, Decimal, list[Tier]],
    now: datetime.datetime,
    actor: User | None,
) -> TierChange:
    """Put a (locked) member in `tier`; `move` is (reason, qualifying value, all tiers)."""
    reason, value, tiers = move
    today = timezone.localdate(now)
    previous = membership.tier
    membership.tier = tier
    membership.tier_since = today
    membership.tier_review_on = next_review(tier, tiers, today)
    membership.save(update_fields=["tier", "tier_since", "tier_review_on"])
    change = TierChange.objects.create(
        membership=membership,
        previous_tier=previous,
        tier=tier,
        reason=reason,
        qualifying_value=value,
        changed_at=now,
        changed_by=actor,
    )
    record_tier_changed(membership, previous, tier)
    return change


def upgrade_if_qualified(
    membership: Membership, now: datetime.datetime, actor: User | None = None
) -> TierChange | None:
    """Move a (locked) member up at once when they reached a higher tier; never down."""
    tiers = ordered_tiers()
    if membership.tier.rank >= tiers[-1].rank:
        return None  # at the top already
    basis = LoyaltySettings.current().tier_basis
    customers = {membership.pk: membership.customer_id}
    value = qualifying_values(customers, basis, timezone.localdate(now)).get(
        membership.pk, Decimal(0)
    )
    target = tiers[int(qualifying_tier_indexes(tiers, [value])[0])]
    if target.rank <= membership.tier.rank:
        return None
    return move_tier(membership, target, (TierChangeReason.UPGRADE, value, tiers), now, actor)


# --- many members at once: bulk earning, and the review ---------------------------------------


class TierClimb:
    """Members' tiers while a bulk run earns their orders one after another, moving up exactly
    when ``earn_for_order`` would: right after an order earns, to the tier the qualifying value
    then reaches. A member's value is read once per run (when first met): spend does not change
    as orders earn, and points earned grow only by what the run writes, which is added here as
    it goes. ``write_moves`` stores each batch's upgrades before the batch commits."""

    def __init__(self, now: datetime.datetime) -> None:
        self.tiers = ordered_tiers()
        self.top = len(self.tiers) - 1
        self.by_rank = {tier.rank: index for index, tier in enumerate(self.tiers)}
        self.thresholds = [tier.threshold for tier in self.tiers]  # as qualifying_tier_indexes
        self.basis = LoyaltySettings.current().tier_basis
        self.today = timezone.localdate(now)
        self.since = window_start(self.today)
        self.index: dict[int, int] = {}  # membership id → index in `tiers` now
        self.value: dict[int, Decimal] = {}
        self.at_batch_start: dict[int, int] = {}
        self.upgraded: set[int] = set()

    def load(self, membership_ids: Iterable[int]) -> None:
        """Start a batch of (locked) members: their tiers as stored, and the values of those
        met for the first time this run."""
        self.at_batch_start = {}
        first_met: dict[int, int] = {}
        for chunk in chunks(sorted(membership_ids)):
            rows = Membership.objects.filter(pk__in=chunk).values_list(
                "pk", "tier__rank", "customer_id"
            )
            for pk, rank, customer_id in rows:
                stored = self.by_rank[rank]
                self.at_batch_start[pk] = stored
                self.index[pk] = max(self.index.get(pk, stored), stored)
                if pk not in self.value and stored < self.top:
                    first_met[pk] = customer_id
        values = qualifying_values(first_met, self.basis, self.today)
        self.value.update({pk: values.get(pk, Decimal(0)) for pk in first_met})

    def multiplier(self, membership_id: int) -> Decimal:
        return self.tiers[self.index[membership_id]].points_multiplier

    def earned(self, membership_id: int, points_in_window: int) -> None:
        """After an order earned: `points_in_window` is what its entries (the earning less any
        refund reversed with it) add to points earned in the rolling 12 months."""
        if self.index[membership_id] == self.top:
            return
        if self.basis == TierBasis.POINTS:
            self.value[membership_id] += points_in_window
        reached = bisect.bisect_right(self.thresholds, self.value[membership_id]) - 1
        if reached > self.index[membership_id]:
            self.index[membership_id] = reached

    def write_moves(self, now: datetime.datetime) -> None:
        """Store the upgrades of the batch's members (one history row per member per batch)."""
        moving = [pk for pk, start in self.at_batch_start.items() if self.index[pk] > start]
        moves = [(pk, self.tiers[self.index[pk]], self.value[pk]) for pk in moving]
        ranks = {pk: self.tiers[self.at_batch_start[pk]].rank for pk in moving}
        write_moves(moves, ranks, now)
        self.upgraded.update(moving)


@dataclass
class TierReport:
    reviewed: int = 0
    upgraded: int = 0
    downgraded: int = 0
    seconds: float = 0.0


def retier_members(
    membership_ids: Sequence[int], now: datetime.datetime, *, at_review: bool, report: TierReport
) -> None:
    """Upgrade (and at a review, downgrade or re-schedule) these locked members, set-based:
    one grouped query for their values, numpy for their tiers, bulk writes for the moves."""
    tiers = ordered_tiers()
    today = timezone.localdate(now)
    current: dict[int, int] = {}
    customers: dict[int, int] = {}
    for chunk in chunks(sorted(membership_ids)):
        rows = Membership.objects.filter(pk__in=chunk).values_list(
            "pk", "tier__rank", "customer_id"
        )
        for pk, rank, customer_id in rows:
            current[pk], customers[pk] = rank, customer_id
    ids = sorted(current)
    values = qualifying_values(customers, LoyaltySettings.current().tier_basis, today)
    member_values = [values.get(pk, Decimal(0)) for pk in ids]
    targets = qualifying_tier_indexes(tiers, member_values)
    ranks = np.array([tier.rank for tier in tiers])[targets]
    current_ranks = np.array([current[pk] for pk in ids])
    moving = ranks > current_ranks if not at_review else ranks != current_ranks
    moves = [
        (ids[index], tiers[int(targets[index])], member_values[index])
        for index in np.flatnonzero(moving)
    ]
    write_moves(moves, current, now)
    report.upgraded += int(np.count_nonzero(ranks > current_ranks))
    if at_review:
        report.downgraded += int(np.count_nonzero(ranks < current_ranks))
        kept = [ids[index] for index in np.flatnonzero(~moving)]
        Membership.objects.filter(pk__in=kept).update(tier_review_on=today + YEAR)
        report.reviewed += len(ids)


def write_moves(
    moves: list[tuple[int, Tier, Decimal]], current_ranks: dict[int, int], now: datetime.datetime
) -> None:
    """Move members between tiers: one UPDATE per tier they move into, one bulk insert of the
    history (a Python object per moving member only)."""
    tiers = ordered_tiers()
    by_rank = {tier.rank: tier for tier in tiers}
    today = timezone.localdate(now)
    for tier in tiers:
        moving = [membership_id for membership_id, target, _value in moves if target.pk == tier.pk]
        for chunk in chunks(moving):
            Membership.objects.filter(pk__in=chunk).update(
                tier=tier, tier_since=today, tier_review_on=next_review(tier, tiers, today)
            )
    TierChange.objects.bulk_create(
        (
            TierChange(
                membership_id=membership_id,
                previous_tier=by_rank[current_ranks[membership_id]],
                tier=tier,
                reason=TierChangeReason.UPGRADE
                if tier.rank > current_ranks[membership_id]
                else TierChangeReason.DOWNGRADE,
                qualifying_value=value,
                changed_at=now,
            )
            for membership_id, tier, value in moves
        ),
        batch_size=1000,
    )
    moving_ids = [membership_id for membership_id, _tier, _value in moves]
    customers = {
        pk: customer_id
        for chunk in chunks(moving_ids)
        for pk, customer_id in Membership.objects.filter(pk__in=chunk).values_list(
            "pk", "customer_id"
        )
    }
    before = {pk: by_rank[current_ranks[pk]] for pk in moving_ids}
    record_tier_moves(moves, before, customers)


def review_tiers(now: datetime.datetime | None = None) -> TierReport:
    """The periodic job: members whose review date is at least the grace period behind move
    to the tier they qualify for now (down, or up); the others keep theirs for another year."""
    started = time.monotonic()
    now = now or timezone.now()
    grace = datetime.timedelta(days=LoyaltySettings.current().downgrade_grace_days)
    due = list(
        Membership.objects.filter(tier_review_on__lte=timezone.localdate(now) - grace)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    report = TierReport()
    for batch in chunks(due, BATCH_SIZE):
        with transaction.atomic():
            retier_members(lock_memberships(batch), now, at_review=True, report=report)
    report.seconds = time.monotonic() - started
    return report


# --- birthday gifts ---------------------------------------------------------------------------


def birthday_days(today: datetime.date) -> list[int]:
    """Days of this month whose birthdays are today: 29 February's on the 28th in other years."""
    days = [today.day]
    if today.month == 2 and today.day == 28 and not is_leap(today.year):
        days.append(29)
    return days


def is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def birthday_key(membership_id: int, year: int) -> str:
    return f"birthday:{membership_id}:{year}"


def give_birthday_points(now: datetime.datetime | None = None) -> int:
    """The daily job: members whose birthday is today get their tier's gift points, once per
    member per year (key ``birthday:<membership>:<year>``). Answers how many got them."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    candidates = list(
        Membership.objects.filter(
            status=MembershipStatus.ACTIVE,
            tier__birthday_gift_points__gt=0,
            customer__birthday__month=today.month,
            customer__birthday__day__in=birthday_days(today),
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    given = 0
    for batch in chunks(candidates, BATCH_SIZE):
        with transaction.atomic():
            given += give_birthday_batch(lock_memberships(batch), today, now)
    return given


def give_birthday_batch(
    membership_ids: Sequence[int], today: datetime.date, now: datetime.datetime
) -> int:
    keys = {pk: birthday_key(pk, today.year) for pk in membership_ids}
    done = set(
        PointsEntry.objects.filter(idempotency_key__in=keys.values()).values_list(
            "idempotency_key", flat=True
        )
    )
    gifts = [
        (pk, points)
        for pk, points in Membership.objects.filter(pk__in=membership_ids)
        .order_by("pk")
        .values_list("pk", "tier__birthday_gift_points")
        if keys[pk] not in done and points > 0
    ]
    if not gifts:
        return 0
    from kehu.loyalty.points.services import expiry_date

    expires_on = expiry_date(today, LoyaltySettings.current())
    reason = _("Birthday gift %(year)s") % {"year": today.year}
    ids = new_entry_ids(len(gifts))
    insert_entries(
        [
            (entry_id, pk, PointsKind.EARN, points, points, expires_on, PointsSource.BIRTHDAY,
             reason, None, None, keys[pk], None, now)
            for entry_id, (pk, points) in zip(ids, gifts, strict=True)
        ]
    )  # fmt: skip
    add_to_balances(dict(gifts))
    retier_members([pk for pk, _points in gifts], now, at_review=False, report=TierReport())
    return len(gifts)
