"""Members, orders and refunds to test the points ledger on, and the ledger's invariant."""

import itertools
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.utils import timezone, translation

from kehu.accounts.models import User
from kehu.commerce.models import ChannelKind, Order, OrderStatus, Refund, SalesChannel
from kehu.customers.models import Customer
from kehu.loyalty.members.services import create_membership
from kehu.loyalty.models import EnrolmentChannel, Membership, PointsEntry
from tests.fixtures.records import make_customer

_order_numbers = itertools.count(1)
ENROLLED_ON = datetime(2025, 1, 1).date()


def pos_channel() -> SalesChannel:
    channel, _created = SalesChannel.objects.get_or_create(
        code="pos", defaults={"name": "门店收银", "kind": ChannelKind.STORE}
    )
    return channel


def make_member(owner: User | None = None, **customer_fields: object) -> Membership:
    customer = make_customer(owner, **customer_fields)
    return create_membership(customer, EnrolmentChannel.STORE, None, ENROLLED_ON, None)


def make_order(
    customer: Customer | int,
    amount: str | Decimal,
    *,
    at: datetime | None = None,
    status: str = OrderStatus.COMPLETED,
    store: object = None,
) -> Order:
    customer_id = customer if isinstance(customer, int) else customer.pk
    return Order.objects.create(
        customer_id=customer_id,
        channel=pos_channel(),
        external_id=f"T-{next(_order_numbers)}",
        ordered_at=at or timezone.now(),
        total_amount=Decimal(amount),
        status=status,
        store=store,
    )


def make_refund(order: Order, amount: str | Decimal, at: datetime | None = None) -> Refund:
    """A refund row and the order's refunded total, as commerce's refund service leaves them."""
    amount = Decimal(amount)
    refund = Refund.objects.create(
        order=order, amount=amount, refunded_at=at or timezone.now() + timedelta(seconds=1)
    )
    order.refunded_amount += amount
    order.status = (
        OrderStatus.REFUNDED
        if order.refunded_amount == order.total_amount
        else OrderStatus.PARTIALLY_REFUNDED
    )
    order.save(update_fields=["refunded_amount", "status"])
    return refund


def balance_of(membership: Membership) -> int:
    return Membership.objects.get(pk=membership.pk).points_balance


def assert_ledger_consistent(membership: Membership) -> int:
    """balance == ledger sum == sum of unspent points ≥ 0; answers the balance."""
    sums = PointsEntry.objects.filter(membership=membership).aggregate(
        points=Sum("points"), remaining=Sum("remaining")
    )
    balance = balance_of(membership)
    assert balance == (sums["points"] or 0) == (sums["remaining"] or 0), (balance, sums)
    assert balance >= 0
    return balance


@pytest.fixture
def in_english():
    """Messages in English, the source language, whatever translations exist."""
    with translation.override("en"):
        yield
