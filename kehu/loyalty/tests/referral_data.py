"""Members, orders and group deals to build the referral and group-buy tests on."""

from datetime import datetime, timedelta
from decimal import Decimal
from itertools import count
from typing import Any

from django.utils import timezone

from kehu.accounts.models import User
from kehu.commerce.models import Order, OrderLine, Product, SalesChannel
from kehu.customers.models import Customer
from kehu.loyalty.groupbuy.services import GroupDealInput, create_group_deal
from kehu.loyalty.members.services import enrol_member
from kehu.loyalty.models import GroupDeal, Membership, PointsEntry
from tests.fixtures.records import make_customer

_numbers = count(1)


def days_ago(days: float) -> datetime:
    return timezone.now() - timedelta(days=days)


def make_member(actor: User, name: str, **fields: Any) -> Membership:
    """A customer enrolled a month ago (so orders of the last weeks earn points)."""
    customer = make_customer(actor, name=name, **fields)
    enrolled_on = timezone.localdate() - timedelta(days=30)
    return enrol_member(actor, customer.pk, enrolled_on=enrolled_on)


def make_order(
    customer: Customer,
    channel: SalesChannel,
    total: str = "100.00",
    *,
    product: Product | None = None,
    **fields: Any,
) -> Order:
    fields.setdefault("ordered_at", timezone.now())
    order = Order.objects.create(
        customer=customer,
        channel=channel,
        external_id=f"REF-{next(_numbers)}",
        total_amount=Decimal(total),
        **fields,
    )
    if product is not None:
        OrderLine.objects.create(
            order=order,
            product=product,
            product_name=product.name,
            quantity=Decimal(1),
            unit_price=Decimal(total),
            amount=Decimal(total),
        )
    return order


def deal_input(leader: Customer, **changes: Any) -> GroupDealInput:
    values: dict[str, Any] = {
        "title": "社区团购 鲜牛奶",
        "leader_id": leader.pk,
        "deadline": timezone.now() + timedelta(days=1),
        "min_size": 3,
        "leader_bonus_points": 50,
        "participant_points_multiplier": Decimal("2.00"),
    }
    values.update(changes)
    return GroupDealInput(**values)


def make_deal(actor: User, leader: Customer, **changes: Any) -> GroupDeal:
    return create_group_deal(actor, deal_input(leader, **changes)).deal


def expire(deal: GroupDeal) -> None:
    """Move the deal's deadline into the past (as if time had passed)."""
    GroupDeal.objects.filter(pk=deal.pk).update(deadline=timezone.now() - timedelta(minutes=1))


def ledger(membership: Membership) -> list[tuple[str, int]]:
    """The member's entries as (idempotency key, points), oldest first."""
    entries = PointsEntry.objects.filter(membership=membership).order_by("pk")
    return list(entries.values_list("idempotency_key", "points"))


def balance(membership: Membership) -> int:
    return Membership.objects.get(pk=membership.pk).points_balance
