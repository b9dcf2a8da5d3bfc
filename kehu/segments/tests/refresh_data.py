"""A small hand-built business around a fixed moment, shared by the refresh tests.

``NOW`` is 2026-06-15 12:00 in Shanghai. Expected values are worked out by hand in the tests.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from kehu.commerce.models import Order, OrderStatus, SalesChannel
from kehu.customers.models import Customer
from kehu.engagement.models import Interaction, InteractionChannel
from tests.fixtures.records import make_customer

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime.datetime(2026, 6, 15, 12, 0, tzinfo=SHANGHAI)
TODAY = datetime.date(2026, 6, 15)


@dataclass
class Shop:
    alice: Customer  # active: two orders, one discounted, plus a cancelled one
    bob: Customer  # new VIP: one big order at 23:30 local time yesterday
    carol: Customer  # reactivated: back at 00:30 today after 257 days away
    dan: Customer  # dormant: a partly refunded order; a fully refunded one does not count
    eve: Customer  # prospect: no orders, two recent contacts and an old one
    frank: Customer  # churned: one small order a year ago


def local(*parts: int) -> datetime.datetime:
    return datetime.datetime(*parts, tzinfo=SHANGHAI)  # type: ignore[misc]


def add_order(
    customer: Customer,
    channel: SalesChannel,
    ordered_at: datetime.datetime,
    total: str,
    *,
    discount: str = "0",
    refunded: str = "0",
    status: str = OrderStatus.COMPLETED,
) -> Order:
    return Order.objects.create(
        customer=customer,
        channel=channel,
        external_id=f"{customer.pk}-{ordered_at:%Y%m%d%H%M}-{total}",
        ordered_at=ordered_at,
        total_amount=Decimal(total),
        discount_amount=Decimal(discount),
        refunded_amount=Decimal(refunded),
        status=status,
    )


def add_contact(customer: Customer, occurred_at: datetime.datetime) -> None:
    Interaction.objects.create(
        customer=customer,
        channel=InteractionChannel.PHONE,
        summary="回访",
        occurred_at=occurred_at,
    )


def build_shop(channel: SalesChannel) -> Shop:
    shop = Shop(
        *(make_customer(name=name) for name in ("爱丽丝", "鲍勃", "卡萝", "丹", "伊芙", "弗兰克"))
    )
    add_order(shop.alice, channel, local(2026, 5, 1, 10, 0), "50.00")
    add_order(shop.alice, channel, local(2026, 6, 10, 18, 0), "100.00", discount="10.00")
    add_order(shop.alice, channel, local(2026, 6, 14, 9, 0), "999.00", status="cancelled")
    add_order(shop.bob, channel, local(2026, 6, 14, 23, 30), "3000.00")
    add_order(shop.carol, channel, local(2025, 10, 1, 12, 0), "200.00")
    add_order(shop.carol, channel, local(2026, 6, 15, 0, 30), "80.00")
    add_order(
        shop.dan, channel, local(2026, 2, 1, 12, 0), "500.00", refunded="100.00",
        status=OrderStatus.PARTIALLY_REFUNDED,
    )  # fmt: skip
    add_order(
        shop.dan, channel, local(2026, 6, 1, 12, 0), "300.00", refunded="300.00",
        status=OrderStatus.REFUNDED,
    )  # fmt: skip
    add_order(shop.frank, channel, local(2025, 6, 1, 12, 0), "20.00")
    add_contact(shop.eve, NOW - datetime.timedelta(days=3))
    add_contact(shop.eve, NOW - datetime.timedelta(days=89))
    add_contact(shop.eve, NOW - datetime.timedelta(days=100))
    return shop
