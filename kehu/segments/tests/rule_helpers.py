"""Hand-made customers, metrics and orders for the segment tests, as of a fixed moment."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from kehu.commerce.models import Order, OrderLine, OrderStatus, Product, SalesChannel
from kehu.customers.models import Customer
from kehu.segments.models import CustomerMetrics
from kehu.segments.rules import compile_rule

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
TODAY = date(2026, 6, 15)
_orders = {"count": 0}


def metrics_for(customer: Customer, **fields: Any) -> CustomerMetrics:
    return CustomerMetrics.objects.create(customer=customer, refreshed_at=NOW, **fields)


def order_for(
    customer: Customer,
    channel: SalesChannel,
    *,
    days_ago: float,
    amount: str,
    status: str = OrderStatus.COMPLETED,
    refunded: str = "0",
    products: tuple[Product, ...] = (),
) -> Order:
    _orders["count"] += 1
    order = Order.objects.create(
        customer=customer,
        channel=channel,
        external_id=f"T-{_orders['count']}",
        ordered_at=NOW - timedelta(days=days_ago),
        total_amount=Decimal(amount),
        refunded_amount=Decimal(refunded),
        status=status,
    )
    for product in products:
        OrderLine.objects.create(
            order=order,
            product=product,
            product_name=product.name,
            quantity=Decimal(1),
            unit_price=product.price,
            amount=product.price,
        )
    return order


def matching_names(rule: dict[str, Any], customers: Any = None) -> set[str]:
    customers = Customer.objects.all() if customers is None else customers
    return set(customers.filter(compile_rule(rule, now=NOW)).values_list("name", flat=True))
