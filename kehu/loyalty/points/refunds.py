"""Refunds and points: a refund takes back the points its order earned, in proportion to the
refunded share, and gives back points that paid part of that order (a cash offset).

Shares telescope over the order's refunds in the order they were made: refund k reverses
⌊E·Rₖ/T⌋ − ⌊E·Rₖ₋₁/T⌋, where Rₖ is the amount refunded up to and including refund k, E the
points earned and T the order's total. So however an order is refunded in parts, refunding all
of it reverses exactly E, and each refund's share does not depend on when it is processed.

When the points were already spent, a reversal never makes the balance negative: it takes what
the member still has (the order's own points first, then the oldest) and its reason records the
shortfall ("80 of 120 points reversed; 40 already spent"). The shortfall is not kept as a debt.
An order refunded before it earned is reversed at the moment it earns (see earn_for_order).
"""

import datetime
from decimal import ROUND_FLOOR, Decimal

from django.db import transaction
from django.db.models import CharField, Exists, OuterRef, Q, QuerySet, Sum, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.commerce.models import Order, Refund
from kehu.loyalty.models import Membership, PointsEntry, PointsKind, PointsSource, Redemption
from kehu.loyalty.points.services import (
    EntryFields,
    add_points,
    earn_key,
    entry_with_key,
    expire_due_points,
    lock_membership,
    take_points,
)


def reverse_key(refund: Refund) -> str:
    return f"refund:{refund.pk}:reverse"


def restore_key(refund: Refund) -> str:
    return f"refund:{refund.pk}:restore"


def refunded_before(refund: Refund) -> Decimal:
    """What the order's earlier refunds returned (by time, then id)."""
    earlier = Refund.objects.filter(order_id=refund.order_id).filter(
        Q(refunded_at__lt=refund.refunded_at) | Q(refunded_at=refund.refunded_at, pk__lt=refund.pk)
    )
    return earlier.aggregate(total=Sum("amount"))["total"] or Decimal(0)


def floor_share(points: int, amount: Decimal, total: Decimal) -> int:
    return int((points * amount / total).to_integral_value(rounding=ROUND_FLOOR))


def share_between(points: int, before: Decimal, upto: Decimal, total: Decimal) -> int:
    """The part of `points` that refunding from `before` up to `upto` of `total` takes back."""
    if total <= 0:
        return 0
    upto = min(upto, total)
    return floor_share(points, upto, total) - floor_share(points, min(before, total), total)


def refund_share(points: int, refund: Refund, order_total: Decimal) -> int:
    """This refund's part of `points`, telescoping as the module docstring says."""
    before = refunded_before(refund)
    return share_between(points, before, before + refund.amount, order_total)


def reverse_earned_for_refund(
    membership: Membership, refund: Refund, earned: PointsEntry, now: datetime.datetime
) -> PointsEntry:
    """Take back this refund's share of the points the order earned; call under the lock."""
    existing = entry_with_key(reverse_key(refund))
    if existing is not None:
        return existing
    order = refund.order
    wanted = refund_share(earned.points, refund, order.total_amount)
    expire_due_points(membership, now)
    taken = min(wanted, membership.points_balance)
    values = {"amount": refund.amount, "number": order.external_id}
    if taken < wanted:
        values |= {"taken": taken, "wanted": wanted, "spent": wanted - taken}
        reason = (
            _(
                "Refund of ¥%(amount)s on order %(number)s: %(taken)s of %(wanted)s points "
                "reversed; %(spent)s already spent."
            )
            % values
        )
    else:
        reason = _("Refund of ¥%(amount)s on order %(number)s") % values
    fields = EntryFields(
        PointsKind.REVERSE, PointsSource.ORDER, reason, reverse_key(refund), None, order, earned
    )
    return take_points(membership, taken, fields, now, first_from=earned)


def restore_offset_for_refund(
    membership: Membership, refund: Refund, now: datetime.datetime
) -> PointsEntry | None:
    """Give back this refund's share of the points that paid part of the order (cash offset);
    they expire like newly earned points. Call under the lock."""
    existing = entry_with_key(restore_key(refund))
    if existing is not None:
        return existing
    offsets = Redemption.objects.filter(
        order_id=refund.order_id, membership=membership, item__isnull=True
    ).order_by("pk")
    spent = offsets.aggregate(total=Sum("points"))["total"] or 0
    share = refund_share(spent, refund, refund.order.total_amount)
    if share <= 0:
        return None
    first = offsets.select_related("entry").first()
    reason = _("Refund of ¥%(amount)s on order %(number)s: points paid for it given back") % {
        "amount": refund.amount,
        "number": refund.order.external_id,
    }
    fields = EntryFields(
        PointsKind.REVERSE,
        PointsSource.REDEMPTION,
        reason,
        restore_key(refund),
        None,
        refund.order,
        first.entry if first else None,
    )
    return add_points(membership, share, fields, now)


def reverse_points_for_refund(
    refund: Refund, *, now: datetime.datetime | None = None
) -> list[PointsEntry]:
    """All a refund does to points, once per refund (keys ``refund:<id>:reverse`` and
    ``refund:<id>:restore``); nothing when the customer is not a member."""
    order: Order = refund.order
    membership = Membership.objects.filter(customer_id=order.customer_id).first()
    if membership is None:
        return []
    now = now or timezone.now()
    entries: list[PointsEntry] = []
    with transaction.atomic():
        locked = lock_membership(membership.pk)
        earned = entry_with_key(earn_key(order.pk))
        if earned is not None:
            entries.append(reverse_earned_for_refund(locked, refund, earned, now))
        restored = restore_offset_for_refund(locked, refund, now)
        if restored is not None:
            entries.append(restored)
    return entries


def keyed_entry(suffix: str) -> QuerySet[PointsEntry]:
    """The entry whose key is ``refund:<the outer refund's id>:<suffix>``."""
    key = Concat(Value("refund:"), Cast(OuterRef("pk"), CharField()), Value(f":{suffix}"))
    return PointsEntry.objects.filter(idempotency_key=key)


def refunds_not_reversed() -> QuerySet[Refund]:
    """Refunds whose points are not settled in the ledger yet (a refund imported in bulk, or
    one whose background task was lost): of an order that earned, without a reversal; or of an
    order partly paid with points, without the points given back."""
    earned = PointsEntry.objects.filter(order_id=OuterRef("order_id"), kind=PointsKind.EARN)
    offset = Redemption.objects.filter(order_id=OuterRef("order_id"), item__isnull=True)
    return Refund.objects.filter(
        (Exists(earned) & ~Exists(keyed_entry("reverse")))
        | (Exists(offset) & ~Exists(keyed_entry("restore")))
    ).order_by("pk")


def reverse_pending_refunds(now: datetime.datetime | None = None) -> int:
    """Reverse the points of every refund that has not been; answers how many were."""
    refunds = list(refunds_not_reversed().select_related("order"))
    for refund in refunds:
        reverse_points_for_refund(refund, now=now)
    return len(refunds)
