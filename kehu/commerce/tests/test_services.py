from datetime import datetime
from decimal import Decimal

import pytest
from django.http import Http404

from kehu.commerce.models import Order, OrderLine
from kehu.commerce.services import LineInput, OrderInput, create_order, refund_order
from kehu.core.errors import NotAllowed, RuleViolation


def order_for(customer, external_id="POS-1", **changes):
    values = {
        "customer_id": customer.pk,
        "channel_code": "pos",
        "external_id": external_id,
        "ordered_at": datetime(2026, 3, 1, 10, 20),
        "lines": (
            LineInput("鲜牛奶 1L", Decimal("2"), Decimal("12.50"), Decimal("1.00"), "MILK-1L"),
            LineInput("全麦面包", Decimal("1"), Decimal("15.00")),
        ),
        "store_code": "SH01",
    }
    values.update(changes)
    return OrderInput(**values)


def test_order_totals_follow_the_lines(sales, own_customer, channel, store, product):
    result = create_order(sales, order_for(own_customer))
    assert result.created
    assert result.order.total_amount == Decimal("39.00")
    assert result.order.discount_amount == Decimal("1.00")
    lines = list(result.order.lines.order_by("id"))
    assert [line.amount for line in lines] == [Decimal("24.00"), Decimal("15.00")]
    assert lines[0].product == product
    assert lines[1].product is None


def test_same_order_posted_twice_is_stored_once(sales, own_customer, channel, store):
    first = create_order(sales, order_for(own_customer))
    second = create_order(sales, order_for(own_customer, lines=(LineInput("x", 1, 1),)))
    assert (second.created, second.order.pk) == (False, first.order.pk)
    assert Order.objects.count() == 1
    assert OrderLine.objects.count() == 2


def test_orders_for_another_salespersons_customer_are_not_found(
    sales, colleague_customer, channel, store
):
    with pytest.raises(Http404):
        create_order(sales, order_for(colleague_customer))
    assert Order.objects.count() == 0


def test_marketing_cannot_post_orders(marketer, own_customer, channel, store):
    with pytest.raises(NotAllowed):
        create_order(marketer, order_for(own_customer))
    assert Order.objects.count() == 0


@pytest.mark.parametrize(
    "lines",
    [
        (),
        (LineInput("x", Decimal("0"), Decimal("1")),),
        (LineInput("x", Decimal("1"), Decimal("-1")),),
        (LineInput("x", Decimal("1"), Decimal("5"), Decimal("6")),),
    ],
)
def test_bad_lines_write_nothing(sales, own_customer, channel, store, lines):
    with pytest.raises(RuleViolation):
        create_order(sales, order_for(own_customer, lines=lines))
    assert Order.objects.count() == 0


def test_unknown_channel_or_store_is_refused(sales, own_customer, channel, store):
    with pytest.raises(RuleViolation):
        create_order(sales, order_for(own_customer, channel_code="nope"))
    with pytest.raises(RuleViolation):
        create_order(sales, order_for(own_customer, store_code="nope"))
    assert Order.objects.count() == 0


def test_partial_then_full_refund(sales, own_customer, channel, store):
    order = create_order(sales, order_for(own_customer)).order
    refund_order(sales, order.pk, Decimal("9.00"), "破损")
    order.refresh_from_db()
    assert (order.status, order.refunded_amount) == ("partially_refunded", Decimal("9.00"))
    refund_order(sales, order.pk, Decimal("30.00"), "退货", is_return=True)
    order.refresh_from_db()
    assert (order.status, order.refunded_amount) == ("refunded", Decimal("39.00"))


def test_refund_above_what_is_left_changes_nothing(sales, own_customer, channel, store):
    order = create_order(sales, order_for(own_customer)).order
    with pytest.raises(RuleViolation):
        refund_order(sales, order.pk, Decimal("39.01"), "多退")
    order.refresh_from_db()
    assert (order.status, order.refunded_amount, order.refunds.count()) == (
        "completed",
        Decimal("0.00"),
        0,
    )
