"""Templates, orders and coupons to build the coupon tests on."""

from datetime import datetime, timedelta
from decimal import Decimal
from itertools import count
from typing import Any

from django.utils import timezone

from kehu.commerce.models import Order, SalesChannel
from kehu.customers.models import Customer
from kehu.loyalty.coupons.coupon_templates import TemplateInput, create_template
from kehu.loyalty.models import Coupon, CouponStatus, CouponTemplate

_orders = count(1)


def template_input(**changes: Any) -> TemplateInput:
    values: dict[str, Any] = {
        "name": "满100减20",
        "kind": "fixed",
        "amount_off": Decimal("20.00"),
        "validity": "relative",
        "valid_days": 30,
    }
    values.update(changes)
    return TemplateInput(**values)


def make_template(actor: Any, **changes: Any) -> CouponTemplate:
    return create_template(actor, template_input(**changes))


def make_order(
    customer: Customer,
    channel: SalesChannel,
    total: str = "100.00",
    **fields: Any,
) -> Order:
    fields.setdefault("ordered_at", timezone.now())
    return Order.objects.create(
        customer=customer,
        channel=channel,
        external_id=f"POS-{next(_orders)}",
        total_amount=Decimal(total),
        **fields,
    )


def make_coupon(template: CouponTemplate, customer: Customer, **fields: Any) -> Coupon:
    """A coupon written directly (no limits checked), valid from an hour ago for 30 days."""
    now = timezone.now()
    values: dict[str, Any] = {
        "code": f"TEST{next(_orders):08d}",
        "status": CouponStatus.ISSUED,
        "valid_from": now - timedelta(hours=1),
        "valid_until": now + timedelta(days=30),
        "issued_at": now - timedelta(hours=1),
    }
    values.update(fields)
    return Coupon.objects.create(template=template, customer=customer, **values)


def aware(*parts: int) -> datetime:
    return timezone.make_aware(datetime(*parts))
