"""The points ledger (积分): every change is one append-only entry, and the member's cached
balance moves with it in the same transaction.

Locking: whoever adds an entry or changes an entry's ``remaining`` first locks the membership row
(``select_for_update``). On PostgreSQL that serialises the writes for one member; SQLite runs
kehu's transactions as ``BEGIN IMMEDIATE``, which serialises every writer (``select_for_update``
is a no-op there). Either way the balance read under the lock is the balance the write changes,
so two redemptions of the same points cannot both pass the balance check.

Invariant, checked by ``check_balances``: balance = sum of the entries' points = sum of their
``remaining`` (entries that take points consume the oldest ``remaining`` first), never negative.
"""

from __future__ import annotations

import calendar
import datetime
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal, localcontext

from django.db import IntegrityError, transaction
from django.db.models import F, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.commerce.models import PURCHASE_STATUSES, Order
from kehu.core.errors import RuleViolation
from kehu.loyalty.models import (
    LoyaltySettings,
    Membership,
    MembershipPause,
    MembershipStatus,
    PointsEntry,
    PointsKind,
    PointsSource,
    Redemption,
)
from kehu.loyalty.outbox import record_points_changed
from kehu.loyalty.points.earning_rules import NO_BOOST, Boost, boost_for_order, boosted_reason

REASON_LENGTH = 300


def months_after(day: datetime.date, months: int) -> datetime.date:
    """The same day `months` later, or the month's last day when it has fewer days."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )


def expiry_date(earned_on: datetime.date, settings: LoyaltySettings) -> datetime.date | None:
    """When points earned on `earned_on` expire; never when the programme sets 0 months."""
    if settings.points_expire_months == 0:
        return None
    return months_after(earned_on, settings.points_expire_months)


def lock_membership(membership_id: int) -> Membership:
    """The membership row, locked until the transaction ends (see the module docstring)."""
    return (
        Membership.objects.select_for_update(of=("self",))
        .select_related("tier")
        .get(pk=membership_id)
    )


def entry_with_key(idempotency_key: str) -> PointsEntry | None:
    return PointsEntry.objects.filter(idempotency_key=idempotency_key).first()


def insufficient_points(balance: int, needed: int) -> RuleViolation:
    return RuleViolation(
        _("Insufficient points: balance %(balance)s, needed %(needed)s.")
        % {"balance": balance, "needed": needed},
        code="insufficient_points",
        details={"field": "points", "balance": balance, "needed": needed},
    )


def require_active(membership: Membership) -> None:
    if membership.status != MembershipStatus.ACTIVE:
        raise RuleViolation(
            _("The membership is not active (%(status)s): points cannot be earned or redeemed.")
            % {"status": membership.get_status_display()},
            code="membership_not_active",
        )


def move_balance(membership: Membership, delta: int) -> None:
    """Move the cached balance by `delta`; the database refuses a negative result."""
    Membership.objects.filter(pk=membership.pk).update(points_balance=F("points_balance") + delta)
    membership.points_balance += delta


@dataclass(frozen=True)
class EntryFields:
    """What describes an entry besides its points: why, from where, and its retry key."""

    kind: str
    source: str
    reason: str
    idempotency_key: str
    actor: User | None = None
    order: Order | None = None
    reverses: PointsEntry | None = None
    approved_by: User | None = None


def add_points(
    membership: Membership,
    points: int,
    fields: EntryFields,
    now: datetime.datetime,
    earned_on: datetime.date | None = None,
) -> PointsEntry:
    """Append an entry that adds points (all unspent) and move the balance; call under the lock.
    They expire `points_expire_months` after `earned_on` (default: today)."""
    earned_on = earned_on or timezone.localdate(now)
    entry = PointsEntry.objects.create(
        membership=membership,
        points=points,
        remaining=points,
        expires_on=expiry_date(earned_on, LoyaltySettings.current()),
        **entry_values(fields, now),
    )
    move_balance(membership, points)
    record_points_changed(membership, entry)
    return entry


def take_points(
    membership: Membership,
    points: int,
    fields: EntryFields,
    now: datetime.datetime,
    first_from: PointsEntry | None = None,
) -> PointsEntry:
    """Append an entry that takes `points` (0 allowed: a reversal with nothing left to take),
    consuming the oldest unspent points first (``first_from``'s first when given); call under
    the lock. Points past their expiry date are expired first, so they cannot be spent."""
    expire_due_points(membership, now)
    if points > membership.points_balance:
        raise insufficient_points(membership.points_balance, points)
    consume_oldest(membership, points, first_from)
    entry = PointsEntry.objects.create(
        membership=membership, points=-points, remaining=0, **entry_values(fields, now)
    )
    move_balance(membership, -points)
    record_points_changed(membership, entry)
    return entry


def entry_values(fields: EntryFields, now: datetime.datetime) -> dict[str, object]:
    return {
        "kind": fields.kind,
        "source": fields.source,
        "reason": fields.reason[:REASON_LENGTH],
        "idempotency_key": fields.idempotency_key,
        "order": fields.order,
        "reverses": fields.reverses,
        "created_by": fields.actor,
        "approved_by": fields.approved_by,
        "created_at": now,
    }


def consume_oldest(membership: Membership, points: int, first_from: PointsEntry | None) -> None:
    """Lower ``remaining`` of the unspent entries, soonest to expire first (FIFO)."""
    changed = []
    left = points
    for entry in unspent_entries(membership, first_from):
        if left == 0:
            break
        used = min(left, entry.remaining)
        entry.remaining -= used
        left -= used
        changed.append(entry)
    PointsEntry.objects.bulk_update(changed, ["remaining"], batch_size=500)


def unspent_entries(
    membership: Membership, first_from: PointsEntry | None
) -> Iterator[PointsEntry]:
    """The member's entries with points left, `first_from` first, then soonest to expire."""
    unspent = PointsEntry.objects.filter(membership=membership, remaining__gt=0).only(
        "pk", "remaining"
    )
    if first_from is not None:
        yield from unspent.filter(pk=first_from.pk)
        unspent = unspent.exclude(pk=first_from.pk)
    yield from unspent.order_by(F("expires_on").asc(nulls_last=True), "pk")


def expire_due_points(membership: Membership, now: datetime.datetime) -> int:
    """Expire this member's points whose date has come (the job does everyone nightly)."""
    from kehu.loyalty.points.expiry import expire_members

    expired = expire_members([membership.pk], timezone.localdate(now), now)
    membership.points_balance -= expired
    return expired


# --- earning ----------------------------------------------------------------------------------


def award_points(
    membership: Membership,
    points: int,
    *,
    source: str,
    reason: str,
    idempotency_key: str,
    actor: User | None = None,
    order: Order | None = None,
    now: datetime.datetime | None = None,
) -> PointsEntry:
    """Give a member points (campaign, referral, group buy, birthday): an EARN entry expiring
    per the programme. The same idempotency key again returns the first entry, changing
    nothing. A frozen or cancelled membership is refused (``membership_not_active``). Earning
    may lift the member to a higher tier at once."""
    if points <= 0:
        raise RuleViolation(
            _("Points to award must be more than zero."),
            code="invalid_points",
            details={"field": "points"},
        )
    now = now or timezone.now()
    fields = EntryFields(PointsKind.EARN, source, reason, idempotency_key, actor, order)
    try:
        with transaction.atomic():
            locked = lock_membership(membership.pk)
            existing = entry_with_key(idempotency_key)
            if existing is not None:
                return existing
            require_active(locked)
            entry = add_points(locked, points, fields, now)
            upgrade_after_earning(locked, now, actor)
    except IntegrityError:
        # the key was used for another member by a concurrent request: the first one stands
        existing = entry_with_key(idempotency_key)
        if existing is None:
            raise
        return existing
    membership.points_balance, membership.tier = locked.points_balance, locked.tier
    return entry


def upgrade_after_earning(
    membership: Membership, now: datetime.datetime, actor: User | None
) -> None:
    from kehu.loyalty.members.tiers import upgrade_if_qualified

    upgrade_if_qualified(membership, now, actor)


def order_points(
    amount: Decimal,
    points_per_yuan: Decimal,
    multiplier: Decimal,
    extra: Decimal = Decimal(1),
    boost: Boost = NO_BOOST,
) -> int:
    """Points for `amount` yuan: ¥1 = points_per_yuan × tier multiplier × extra × the earning
    rules' boost, rounded down (a member never gets a point they did not fully earn). The boost
    is divided last, so an exact whole number of points is never rounded a point below."""
    with localcontext(prec=40):
        exact = amount * points_per_yuan * multiplier * extra * boost.numerator
        points = (exact / boost.denominator).to_integral_value(rounding=ROUND_FLOOR)
    return max(int(points), 0)


def order_earns(order: Order, membership: Membership) -> bool:
    """Paid, not cancelled or fully refunded, placed on or after the enrolment day, by an
    active member, and not while the membership was frozen or cancelled."""
    placed_on = timezone.localdate(order.ordered_at)
    return (
        order.status in PURCHASE_STATUSES
        and placed_on >= membership.enrolled_on
        and membership.status == MembershipStatus.ACTIVE
        and not paused_at(membership, order.ordered_at)
    )


def pauses_covering(ordered_at: object) -> Q:
    """Pauses (frozen or cancelled periods) that cover the moment `ordered_at` (a datetime or
    an expression such as ``OuterRef("ordered_at")``)."""
    return Q(started_at__lte=ordered_at) & (Q(ended_at__isnull=True) | Q(ended_at__gt=ordered_at))


def paused_at(membership: Membership, moment: datetime.datetime) -> bool:
    return MembershipPause.objects.filter(pauses_covering(moment), membership=membership).exists()


def cash_offsets_on(order: Order) -> Decimal:
    """Cash paid with points on the order: points do not earn points."""
    total = Redemption.objects.filter(order=order, item__isnull=True).aggregate(
        total=Sum("cash_amount")
    )["total"]
    return total or Decimal(0)


def earn_key(order_id: int) -> str:
    return f"order:{order_id}:earn"


def earn_for_order(
    order: Order,
    *,
    extra_multiplier: Decimal = Decimal(1),
    actor: User | None = None,
    now: datetime.datetime | None = None,
) -> PointsEntry | None:
    """The order's points by the programme's rules, once per order (key ``order:<id>:earn``);
    None when the customer is not a member or the order earns nothing. Refunds already made
    on the order are reversed from the new entry at once."""
    membership = Membership.objects.filter(customer_id=order.customer_id).first()
    if membership is None:
        return None
    now = now or timezone.now()
    with transaction.atomic():
        locked = lock_membership(membership.pk)
        existing = entry_with_key(earn_key(order.pk))
        if existing is not None:
            return existing
        if not order_earns(order, locked):
            return None
        settings = LoyaltySettings.current()
        base = order.total_amount - cash_offsets_on(order)
        boost = boost_for_order(order.pk, order.ordered_at, order.store_id)
        points = order_points(
            base, settings.points_per_yuan, locked.tier.points_multiplier, extra_multiplier, boost
        )
        if points <= 0:
            return None
        reason = boosted_reason(
            _("Order %(number)s, ¥%(amount)s") % {"number": order.external_id, "amount": base},
            boost,
        )
        fields = EntryFields(
            PointsKind.EARN, PointsSource.ORDER, reason, earn_key(order.pk), actor, order
        )
        entry = add_points(locked, points, fields, now, timezone.localdate(order.ordered_at))
        reverse_earlier_refunds(locked, order, entry, now)
        upgrade_after_earning(locked, now, actor)
    return entry


def reverse_earlier_refunds(
    membership: Membership, order: Order, earned: PointsEntry, now: datetime.datetime
) -> None:
    from kehu.loyalty.points.refunds import reverse_earned_for_refund

    for refund in order.refunds.order_by("refunded_at", "pk"):
        reverse_earned_for_refund(membership, refund, earned, now)


# --- retried requests ------------------------------------------------------------------------


def scoped_key(actor: User, idempotency_key: str) -> str:
    """A caller's retry key, scoped to them: two shop systems may both send "1"."""
    return f"user:{actor.pk}:{idempotency_key}"


def check_same_request(
    existing: PointsEntry, membership: Membership, kind: str, points: int | None = None
) -> None:
    """A retried key must be the same request: the same member, kind and (when given) points."""
    if (
        existing.membership_id != membership.pk
        or existing.kind != kind
        or (points is not None and existing.points != points)
    ):
        raise RuleViolation(
            _("This idempotency key was already used for another request."),
            code="idempotency_key_reused",
            details={"field": "idempotency_key"},
        )


# --- the check --------------------------------------------------------------------------------


@dataclass(frozen=True)
class BalanceMismatch:
    membership_id: int
    card_number: str
    cached: int
    ledger: int
    unspent: int


def check_balances() -> list[BalanceMismatch]:
    """Members whose cached balance differs from their ledger sum or from their unspent
    points, found in one grouped query (a daily job and `kehu loyalty check-balances`)."""
    members = (
        Membership.objects.annotate(
            ledger=Coalesce(Sum("points_entries__points"), 0),
            unspent=Coalesce(Sum("points_entries__remaining"), 0),
        )
        .filter(~Q(points_balance=F("ledger")) | ~Q(points_balance=F("unspent")))
        .order_by("pk")
        .values_list("pk", "card_number", "points_balance", "ledger", "unspent")
    )
    return [BalanceMismatch(*row) for row in members]
