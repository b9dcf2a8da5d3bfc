"""Writes to the transaction history: orders posted idempotently, refunds."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import F
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.accounts.permissions import may, require
from kehu.commerce.models import (
    ZERO,
    Order,
    OrderLine,
    OrderStatus,
    Product,
    Refund,
    SalesChannel,
    Store,
)
from kehu.commerce.outbox import record_order_posted, record_order_refunded
from kehu.commerce.queries import store_by_code
from kehu.core.errors import NotAllowed, RuleViolation
from kehu.customers.queries import get_visible_customer, visible_customers

CENT = Decimal("0.01")


@dataclass(frozen=True)
class LineInput:
    product_name: str
    quantity: Decimal
    unit_price: Decimal
    discount: Decimal = ZERO
    sku: str = ""


@dataclass(frozen=True)
class OrderInput:
    customer_id: int
    channel_code: str
    external_id: str
    ordered_at: datetime
    lines: tuple[LineInput, ...]
    store_code: str = ""
    status: str = OrderStatus.COMPLETED


@dataclass(frozen=True)
class OrderResult:
    order: Order
    created: bool


def line_amount(line: LineInput) -> Decimal:
    return (line.quantity * line.unit_price - line.discount).quantize(CENT)


def check_order_input(order_input: OrderInput) -> None:
    if not order_input.lines:
        raise RuleViolation(
            _("An order needs at least one line."), code="no_lines", details={"field": "lines"}
        )
    for index, line in enumerate(order_input.lines):
        if line.quantity <= 0:
            raise RuleViolation(
                _("Quantity must be more than zero."),
                code="invalid_quantity",
                details={"field": f"lines.{index}.quantity"},
            )
        if line.unit_price < 0 or line.discount < 0:
            raise RuleViolation(
                _("Prices and discounts cannot be negative."),
                code="invalid_price",
                details={"field": f"lines.{index}"},
            )
        if line_amount(line) < 0:
            raise RuleViolation(
                _("The discount is larger than the line total."),
                code="discount_too_large",
                details={"field": f"lines.{index}"},
            )


def resolve_channel(code: str) -> SalesChannel:
    channel = SalesChannel.objects.filter(code=code).first()
    if channel is None:
        raise RuleViolation(
            _("Unknown sales channel “%(code)s”.") % {"code": code},
            code="unknown_channel",
            details={"field": "channel"},
        )
    return channel


def resolve_store(code: str) -> Store | None:
    return store_by_code(code) if code else None


def create_order(actor: User, order_input: OrderInput) -> OrderResult:
    """Store an order once: posting the same channel and external id again returns the first."""
    channel = resolve_channel(order_input.channel_code)
    existing = Order.objects.filter(channel=channel, external_id=order_input.external_id).first()
    if existing is not None:
        get_visible_customer(actor, existing.customer_id)
        return OrderResult(existing, created=False)
    customer = get_visible_customer(actor, order_input.customer_id)
    if not may(actor, "customer.edit", customer):
        raise NotAllowed(_("You may not add orders for this customer."), code="not_allowed")
    check_order_input(order_input)
    store = resolve_store(order_input.store_code)
    try:
        with transaction.atomic():
            order = save_order(order_input, customer.pk, channel, store)
            record_order_posted(order, channel.code, store.code if store else "")
    except IntegrityError:
        order = Order.objects.get(channel=channel, external_id=order_input.external_id)
        return OrderResult(order, created=False)
    return OrderResult(order, created=True)


def save_order(
    order_input: OrderInput, customer_id: int, channel: SalesChannel, store: Store | None
) -> Order:
    products = Product.objects.in_bulk(
        [line.sku for line in order_input.lines if line.sku], field_name="sku"
    )
    ordered_at = order_input.ordered_at
    if timezone.is_naive(ordered_at):
        ordered_at = timezone.make_aware(ordered_at)
    order = Order.objects.create(
        customer_id=customer_id,
        channel=channel,
        store=store,
        external_id=order_input.external_id,
        status=order_input.status,
        ordered_at=ordered_at,
        total_amount=sum((line_amount(line) for line in order_input.lines), ZERO),
        discount_amount=sum((line.discount for line in order_input.lines), ZERO),
    )
    OrderLine.objects.bulk_create(
        OrderLine(
            order=order,
            product=products.get(line.sku),
            product_name=line.product_name[:200],
            quantity=line.quantity,
            unit_price=line.unit_price,
            discount=line.discount,
            amount=line_amount(line),
        )
        for line in order_input.lines
    )
    return order


def refund_order(
    actor: User, order_id: int, amount: Decimal, reason: str, *, is_return: bool = False
) -> Refund:
    """Refund part or all of an order; the order's status follows the refunded total. An
    order of a store is refunded only by its staff (administrators excepted)."""
    with transaction.atomic():
        order = get_object_or_404(
            Order.objects.select_for_update().filter(customer__in=visible_customers(actor)),
            pk=order_id,
        )
        customer = get_visible_customer(actor, order.customer_id)
        if not may(actor, "customer.edit", customer):
            raise NotAllowed(_("You may not refund this order."), code="not_allowed")
        if order.store_id is not None:
            require(actor, "store.serve", Store.objects.get(pk=order.store_id))
        if amount <= 0 or order.refunded_amount + amount > order.total_amount:
            raise RuleViolation(
                _("The refund must be more than zero and at most %(left)s.")
                % {"left": order.total_amount - order.refunded_amount},
                code="invalid_refund_amount",
                details={"field": "amount"},
            )
        refund = Refund.objects.create(
            order=order,
            amount=amount,
            reason=reason[:200],
            is_return=is_return,
            refunded_at=timezone.now(),
            created_by=actor,
        )
        fully = order.refunded_amount + amount == order.total_amount
        Order.objects.filter(pk=order.pk).update(
            refunded_amount=F("refunded_amount") + amount,
            status=OrderStatus.REFUNDED if fully else OrderStatus.PARTIALLY_REFUNDED,
        )
        record_order_refunded(order, refund)
    return refund
