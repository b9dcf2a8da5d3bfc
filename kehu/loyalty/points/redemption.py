"""Spending points (积分兑换): a gift from the catalogue, its stock taken atomically, or a cash
offset against a purchase at the programme's rate; and keeping the gift catalogue.

A redemption is one REDEEM entry (consuming the oldest points first) and one Redemption row,
written under the member's lock; a refused redemption (insufficient points, out of stock, wrong
store, ...) raises before anything is kept. The idempotency key makes a retried request answer
the first redemption.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.accounts.permissions import require
from kehu.commerce.models import PURCHASE_STATUSES, Order, Store
from kehu.commerce.queries import acting_store
from kehu.commerce.services import resolve_store
from kehu.core.errors import RuleViolation
from kehu.loyalty.approvals.limits import check_offset_without_order
from kehu.loyalty.members.services import visible_membership
from kehu.loyalty.models import (
    LoyaltySettings,
    Membership,
    PointsKind,
    PointsSource,
    Redemption,
    RedemptionItem,
)
from kehu.loyalty.points.services import (
    EntryFields,
    check_same_request,
    lock_membership,
    require_active,
    scoped_key,
    take_points,
)


def counter_store(actor: User, store_code: str, order_store: Store | None = None) -> Store | None:
    """The store the redemption happens at: unknown or closed stores are refused, and the user
    must work there and at the order's store (see kehu/commerce/queries.py)."""
    store = resolve_store(store_code)
    if store is not None and not store.is_active:
        raise RuleViolation(
            _("The store “%(name)s” is closed.") % {"name": store.name},
            code="store_closed",
            details={"field": "store"},
        )
    return acting_store(actor, store_code, order_store=order_store)


def order_store(order_id: int | None, membership: Membership) -> Store | None:
    """The store of the member's order an offset pays for (the rules on the order come later)."""
    if order_id is None:
        return None
    order = Order.objects.filter(pk=order_id, customer_id=membership.customer_id).first()
    return order.store if order is not None else None


@dataclass(frozen=True)
class RedemptionResult:
    redemption: Redemption
    created: bool  # False: the idempotency key answered an earlier redemption


def redemption_with_key(idempotency_key: str, membership: Membership) -> Redemption | None:
    redemption = (
        Redemption.objects.select_related("entry", "item")
        .filter(entry__idempotency_key=idempotency_key)
        .first()
    )
    if redemption is not None:
        check_same_request(redemption.entry, membership, PointsKind.REDEEM)
    return redemption


def redeem_gift(
    actor: User,
    customer_id: int,
    gift_id: int,
    *,
    idempotency_key: str,
    quantity: int = 1,
    store_code: str = "",
    now: datetime.datetime | None = None,
) -> RedemptionResult:
    """Exchange points for a gift; its stock (when counted) goes down in the same transaction."""
    require(actor, "points.redeem")
    membership = visible_membership(actor, customer_id)
    store = counter_store(actor, store_code)
    if quantity < 1:
        raise ValidationError({"quantity": _("Redeem at least one.")})
    now = now or timezone.now()
    key = scoped_key(actor, idempotency_key)
    with transaction.atomic():
        locked = lock_membership(membership.pk)
        existing = redemption_with_key(key, locked)
        if existing is not None:
            return RedemptionResult(existing, created=False)
        require_active(locked)
        gift = available_gift(gift_id, quantity)
        reason = _("Gift: %(name)s × %(quantity)s") % {"name": gift.name, "quantity": quantity}
        fields = EntryFields(PointsKind.REDEEM, PointsSource.REDEMPTION, reason, key, actor)
        entry = take_points(locked, gift.points_cost * quantity, fields, now)
        take_stock(gift, quantity)
        redemption = Redemption.objects.create(
            membership=locked,
            item=gift,
            quantity=quantity,
            points=-entry.points,
            entry=entry,
            store=store,
            created_by=actor,
            created_at=now,
        )
    return RedemptionResult(redemption, created=True)


def available_gift(gift_id: int, quantity: int) -> RedemptionItem:
    gift = RedemptionItem.objects.filter(pk=gift_id).first()
    if gift is None or not gift.is_active:
        raise RuleViolation(
            _("This gift is not in the catalogue."), code="unknown_gift", details={"field": "gift"}
        )
    if gift.stock is not None and gift.stock < quantity:
        raise out_of_stock(gift, quantity)
    return gift


def out_of_stock(gift: RedemptionItem, quantity: int) -> RuleViolation:
    return RuleViolation(
        _("Out of stock: “%(name)s” has %(stock)s left, needed %(quantity)s.")
        % {"name": gift.name, "stock": gift.stock, "quantity": quantity},
        code="out_of_stock",
        details={"field": "gift"},
    )


def take_stock(gift: RedemptionItem, quantity: int) -> None:
    """Lower a counted stock in one conditional UPDATE, so parallel redemptions of the last
    gift cannot both succeed (the loser's transaction rolls back its points too)."""
    if gift.stock is None:
        return
    taken = RedemptionItem.objects.filter(pk=gift.pk, stock__gte=quantity).update(
        stock=F("stock") - quantity
    )
    if not taken:
        gift.refresh_from_db(fields=["stock"])
        raise out_of_stock(gift, quantity)


def offset_points(amount: Decimal, settings: LoyaltySettings) -> int:
    """Points for `amount` yuan of cash offset; the amount must come to whole points."""
    if amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        raise ValidationError({"amount": _("Enter an amount in yuan above zero, to the fen.")})
    points = amount * settings.points_per_yuan_offset
    if points != points.to_integral_value():
        raise RuleViolation(
            _("¥%(amount)s is not a whole number of points at %(rate)s points per ¥1.")
            % {"amount": amount, "rate": settings.points_per_yuan_offset},
            code="offset_not_whole_points",
            details={"field": "amount"},
        )
    return int(points)


def redeem_cash_offset(
    actor: User,
    customer_id: int,
    amount: Decimal,
    *,
    idempotency_key: str,
    order_id: int | None = None,
    store_code: str = "",
    now: datetime.datetime | None = None,
) -> RedemptionResult:
    """Pay `amount` yuan of a purchase with points (``points_per_yuan_offset`` points per ¥1),
    against a stored order of the member, never more than the order's total (checked under the
    member's lock, with the order's earlier offsets). Without an order the amount stays within
    the role's limit (kehu/loyalty/approvals/limits.py), above which the order must be named."""
    require(actor, "points.redeem")
    membership = visible_membership(actor, customer_id)
    store = counter_store(actor, store_code, order_store(order_id, membership))
    points = offset_points(amount, LoyaltySettings.current())
    if order_id is None:
        check_offset_without_order(actor, amount)
    now = now or timezone.now()
    key = scoped_key(actor, idempotency_key)
    with transaction.atomic():
        locked = lock_membership(membership.pk)
        existing = redemption_with_key(key, locked)
        if existing is not None:
            return RedemptionResult(existing, created=False)
        require_active(locked)
        order = offset_order(order_id, locked, store, amount)
        reason = _("Cash offset ¥%(amount)s") % {"amount": amount}
        if order is not None:
            reason = _("Cash offset ¥%(amount)s on order %(number)s") % {
                "amount": amount,
                "number": order.external_id,
            }
        fields = EntryFields(PointsKind.REDEEM, PointsSource.REDEMPTION, reason, key, actor, order)
        entry = take_points(locked, points, fields, now)
        redemption = Redemption.objects.create(
            membership=locked,
            points=points,
            cash_amount=amount,
            order=order,
            entry=entry,
            store=store,
            created_by=actor,
            created_at=now,
        )
    return RedemptionResult(redemption, created=True)


def offset_order(
    order_id: int | None, membership: Membership, store: Store | None, amount: Decimal
) -> Order | None:
    """The member's paid order the offset pays part of, checked against the rules."""
    if order_id is None:
        return None
    order = Order.objects.filter(pk=order_id, customer_id=membership.customer_id).first()
    if order is None:
        raise RuleViolation(
            _("Order %(id)s is not this member's.") % {"id": order_id},
            code="order_not_members",
            details={"field": "order_id"},
        )
    if store is not None and order.store_id not in (None, store.pk):
        raise RuleViolation(
            _("Wrong store: order %(number)s was placed at another store than %(store)s.")
            % {"number": order.external_id, "store": store.name},
            code="wrong_store",
            details={"field": "store"},
        )
    if order.status not in PURCHASE_STATUSES:
        raise RuleViolation(
            _("Order %(number)s is %(status)s: points cannot pay for it.")
            % {"number": order.external_id, "status": order.get_status_display()},
            code="order_not_payable",
            details={"field": "order_id"},
        )
    already = Redemption.objects.filter(order=order, item__isnull=True).aggregate(
        total=Sum("cash_amount")
    )["total"] or Decimal(0)
    if already + amount > order.total_amount:
        raise RuleViolation(
            _("The offset would exceed the order: ¥%(left)s of ¥%(total)s can still be paid.")
            % {"left": order.total_amount - already, "total": order.total_amount},
            code="offset_exceeds_order",
            details={"field": "amount"},
        )
    return order


# --- the catalogue ----------------------------------------------------------------------------


def save_gift(
    actor: User,
    gift_id: int | None,
    *,
    name: str,
    points_cost: int,
    stock: int | None,
    is_active: bool = True,
    description: str = "",
) -> RedemptionItem:
    """Add a gift to the catalogue, or change one (stock empty: unlimited)."""
    require(actor, "loyalty.manage")
    problems = {}
    if not name.strip():
        problems["name"] = _("Give the gift a name.")
    if points_cost <= 0:
        problems["points_cost"] = _("A gift costs at least one point.")
    if stock is not None and stock < 0:
        problems["stock"] = _("Stock cannot be negative; leave it empty for unlimited.")
    if problems:
        raise ValidationError(problems)
    gift = RedemptionItem() if gift_id is None else RedemptionItem.objects.get(pk=gift_id)
    gift.name, gift.points_cost, gift.stock = name.strip()[:100], points_cost, stock
    gift.is_active, gift.description = is_active, description
    gift.save()
    return gift
