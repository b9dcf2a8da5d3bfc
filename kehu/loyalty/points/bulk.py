"""Earning for every order that has not earned yet, set-based: for a million orders it reads
them in windows of ids, locks each window's members, writes all entries with one bulk insert and
all balances with one bulk update, and moves the members up to the tiers they reach as their
orders earn (each member's qualifying value is read once per run).

Points, keys (``order:<id>:earn``), refund reversals and tier upgrades are those of
``earn_for_order`` order by order, so the two can run side by side and running either twice
earns nothing twice: a member who crosses a tier threshold during a run earns their next orders
at the new tier (``TierClimb`` follows each member's tier through the run).
"""

import datetime
import functools
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Exists, F, Max, OuterRef, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.commerce.models import PURCHASE_STATUSES, Order, Refund
from kehu.loyalty.members.tiers import TierClimb
from kehu.loyalty.models import (
    GroupDealStatus,
    LoyaltySettings,
    MembershipPause,
    MembershipStatus,
    PointsEntry,
    PointsKind,
    PointsSource,
    Redemption,
)
from kehu.loyalty.points.earning_rules import (
    NO_BOOST,
    Boost,
    LineRow,
    RuleBook,
    boosted_reason,
    order_lines,
)
from kehu.loyalty.points.ledger_writer import (
    add_to_balances,
    chunks,
    insert_entries,
    lock_memberships,
    new_entry_ids,
)
from kehu.loyalty.points.refunds import share_between
from kehu.loyalty.points.services import (
    REASON_LENGTH,
    earn_key,
    expiry_date,
    order_points,
    pauses_covering,
)

BATCH_SIZE = 20_000


@dataclass
class BulkEarnReport:
    orders: int = 0
    points: int = 0
    reversals: int = 0
    members: int = 0
    upgraded: int = 0
    seconds: float = 0.0


@dataclass(frozen=True)
class PendingOrder:
    order_id: int
    membership_id: int
    total: Decimal
    refunded: Decimal
    ordered_at: datetime.datetime
    external_id: str
    store_id: int | None


def pending_orders(after_id: int, upto_id: int) -> list[PendingOrder]:
    """Orders with ids in (after_id, upto_id] of active members, paid, placed on or after the
    enrolment day (local time), with no earning entry yet. Orders in a group deal still open
    wait: the deal's success earns them at its own multiplier. Orders placed while the membership
    was frozen or cancelled never earn. A window of ids, not a LIMIT:
    each query reads only its window, however many orders there are."""
    window = {"pk__gt": after_id, "pk__lte": upto_id}
    already_earned = PointsEntry.objects.filter(
        order_id=OuterRef("pk"),
        order_id__gt=after_id,  # the same rows; lets PostgreSQL hash only the window's
        order_id__lte=upto_id,
        kind=PointsKind.EARN,
    )
    paused = MembershipPause.objects.filter(
        pauses_covering(OuterRef("ordered_at")), membership=OuterRef("customer__membership")
    )
    rows = (
        Order.objects.filter(
            **window,
            status__in=PURCHASE_STATUSES,
            customer__membership__status=MembershipStatus.ACTIVE,
            ordered_at__date__gte=F("customer__membership__enrolled_on"),
        )
        .filter(~Exists(already_earned), ~Exists(paused))
        .exclude(group_participation__deal__status=GroupDealStatus.OPEN)
        .order_by("pk")
        .values_list(
            "pk",
            "customer__membership",
            "total_amount",
            "refunded_amount",
            "ordered_at",
            "external_id",
            "store_id",
        )
    )
    return [PendingOrder(*row) for row in rows]


def order_filters(order_ids: Sequence[int]) -> list[dict[str, object]]:
    """Filters that together select these orders' rows: one id range when the batch is dense
    (the usual case: the newest orders), else IN lists of a few thousand ids."""
    if not order_ids:
        return []
    low, high = min(order_ids), max(order_ids)
    if high - low < 4 * len(order_ids):
        return [{"order_id__gte": low, "order_id__lte": high}]
    return [{"order_id__in": chunk} for chunk in chunks(sorted(order_ids))]


def earned_among(order_ids: Sequence[int]) -> set[int]:
    earned: set[int] = set()
    for where in order_filters(order_ids):
        rows = PointsEntry.objects.filter(kind=PointsKind.EARN, **where)
        earned.update(rows.values_list("order_id", flat=True))
    return earned & set(order_ids)


def offsets_by_order(order_ids: Sequence[int]) -> dict[int, Decimal]:
    """Cash paid with points on each order (points do not earn points)."""
    offsets: dict[int, Decimal] = {}
    for where in order_filters(order_ids):
        rows = (
            Redemption.objects.filter(item__isnull=True, **where)
            .order_by()
            .values("order_id")
            .annotate(total=Sum("cash_amount"))
            .values_list("order_id", "total")
        )
        offsets.update(rows)
    return offsets


RefundRow = tuple[int, Decimal, datetime.datetime]
"""(refund id, amount, refunded at)."""


def refunds_by_order(order_ids: Sequence[int]) -> dict[int, list[RefundRow]]:
    """Each order's refunds, in the order they were made."""
    refunds: dict[int, list[RefundRow]] = defaultdict(list)
    wanted = set(order_ids)
    for where in order_filters(order_ids):
        rows = (
            Refund.objects.filter(**where)
            .order_by("order_id", "refunded_at", "pk")
            .values_list("order_id", "pk", "amount", "refunded_at")
        )
        for order_id, refund_id, amount, refunded_at in rows:
            if order_id in wanted:
                refunds[order_id].append((refund_id, amount, refunded_at))
    return refunds


class BatchEntries:
    """The rows of one batch, with local ids until real ones are drawn (a reversal points at
    the earning written with it)."""

    def __init__(self, now: datetime.datetime, date_by_order: bool, climb: TierClimb) -> None:
        settings = LoyaltySettings.current()
        self.settings = settings
        self.now = now
        self.date_by_order = date_by_order
        self.climb = climb
        self.rows: list[list[Any]] = []
        self.balances: dict[int, int] = defaultdict(int)
        self.earn_reason = _("Order %(number)s, ¥%(amount)s")
        self.refund_reason = _("Refund of ¥%(amount)s on order %(number)s")
        self.expiry = functools.lru_cache(maxsize=4096)(lambda day: expiry_date(day, settings))

    def add_order(
        self, order: PendingOrder, base: Decimal, refunds: list[RefundRow], boost: Boost
    ) -> int:
        multiplier = self.climb.multiplier(order.membership_id)
        points = order_points(base, self.settings.points_per_yuan, multiplier, Decimal(1), boost)
        if points <= 0:
            return 0
        created = order.ordered_at if self.date_by_order else self.now
        earn_index = len(self.rows)
        reason = self.earn_reason % {"number": order.external_id, "amount": base}
        reason = boosted_reason(reason, boost)[:REASON_LENGTH]
        self.rows.append([
            earn_index, order.membership_id, PointsKind.EARN, points, points,
            self.expiry(timezone.localdate(order.ordered_at)), PointsSource.ORDER, reason,
            order.order_id, None, earn_key(order.order_id), None, created,
        ])  # fmt: skip
        in_window = points if created >= self.climb.since else 0
        before = Decimal(0)
        for refund_id, amount, refunded_at in refunds:
            share = share_between(points, before, before + amount, order.total)
            before += amount
            self.rows[earn_index][4] -= share
            when = max(refunded_at, created) if self.date_by_order else created
            self.add_reversal(order, (refund_id, amount, when), share, earn_index)
            in_window -= share if when >= self.climb.since else 0
        self.balances[order.membership_id] += int(self.rows[earn_index][4])
        self.climb.earned(order.membership_id, in_window)
        return points

    def add_reversal(
        self, order: PendingOrder, refund: RefundRow, share: int, earn_index: int
    ) -> None:
        refund_id, amount, created = refund
        reason = self.refund_reason % {"amount": amount, "number": order.external_id}
        self.rows.append([
            len(self.rows), order.membership_id, PointsKind.REVERSE, -share, 0, None,
            PointsSource.ORDER, reason, order.order_id, earn_index, f"refund:{refund_id}:reverse",
            None, created,
        ])  # fmt: skip

    def write(self) -> None:
        ids = new_entry_ids(len(self.rows)) if self.rows else []
        for row in self.rows:
            row[0] = ids[row[0]]
            if row[9] is not None:
                row[9] = ids[row[9]]
        insert_entries([tuple(row) for row in self.rows])
        add_to_balances(self.balances)


def lines_by_order(order_ids: Sequence[int], rules: RuleBook) -> dict[int, list[LineRow]]:
    """The batch's order lines, read only when a category rule needs them."""
    lines: dict[int, list[LineRow]] = {}
    if rules.needs_lines:
        for where in order_filters(order_ids):
            lines.update(order_lines(**where))
    return lines


def order_boost(order: PendingOrder, rules: RuleBook, lines: dict[int, list[LineRow]]) -> Boost:
    if rules.is_empty:
        return NO_BOOST
    placed_on = timezone.localdate(order.ordered_at)
    return rules.boost(placed_on, order.store_id, lines.get(order.order_id, []))


def earn_batch(
    orders: list[PendingOrder],
    now: datetime.datetime,
    date_by_order: bool,
    report: BulkEarnReport,
    rules: RuleBook,
    climb: TierClimb,
) -> set[int]:
    """Earn for one batch of orders inside the caller's transaction, moving members up as
    their orders earn; answers the members who earned."""
    climb.load(lock_memberships({order.membership_id for order in orders}))
    earned = earned_among([order.order_id for order in orders])  # by others meanwhile
    orders = [order for order in orders if order.order_id not in earned]
    order_ids = [order.order_id for order in orders]
    offsets = offsets_by_order(order_ids)
    refunds = refunds_by_order([order.order_id for order in orders if order.refunded > 0])
    lines = lines_by_order(order_ids, rules)
    entries = BatchEntries(now, date_by_order, climb)
    for order in orders:
        base = order.total - offsets.get(order.order_id, Decimal(0))
        boost = order_boost(order, rules, lines)
        points = entries.add_order(order, base, refunds.get(order.order_id, []), boost)
        report.orders += points > 0
        report.points += points
    report.reversals += sum(1 for row in entries.rows if row[2] == PointsKind.REVERSE)
    entries.write()
    climb.write_moves(now)
    return set(entries.balances)


def earn_all_pending_orders(
    now: datetime.datetime | None = None,
    *,
    batch_size: int = BATCH_SIZE,
    date_entries_by_order: bool = False,
) -> BulkEarnReport:
    """The periodic job and `kehu loyalty earn-orders`: every order that can earn and has not,
    in windows of `batch_size` order ids, each one transaction that also stores the upgrades
    its orders brought; a run that stops leaves every committed batch's tiers right.

    ``date_entries_by_order`` dates each entry at its order's time instead of now: for loading
    a history (the demo, a migration from another system), so the statement and the monthly
    report show the points when they were earned.
    """
    started = time.monotonic()
    now = now or timezone.now()
    report = BulkEarnReport()
    earners: set[int] = set()
    rules = RuleBook.load()
    climb = TierClimb(now)
    last_id = Order.objects.aggregate(last=Max("pk"))["last"] or 0
    for after_id in range(0, last_id, batch_size):
        with transaction.atomic():
            orders = pending_orders(after_id, after_id + batch_size)
            if orders:
                earners |= earn_batch(orders, now, date_entries_by_order, report, rules, climb)
    report.members = len(earners)
    report.upgraded = len(climb.upgraded)
    report.seconds = time.monotonic() - started
    return report
