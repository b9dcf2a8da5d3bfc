"""Order pages: the list of visible orders and one order."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from kehu.commerce.models import Order, OrderLine


@pytest.fixture
def order(own_customer, channel, store):
    order = Order.objects.create(
        customer=own_customer,
        channel=channel,
        store=store,
        external_id="POS-20240101-1",
        ordered_at=timezone.now(),
        total_amount=Decimal("37.50"),
    )
    OrderLine.objects.create(
        order=order, product_name="鲜牛奶 1L", quantity=3, unit_price=Decimal("12.50"),
        amount=Decimal("37.50"),
    )  # fmt: skip
    return order


def test_order_list_searches_by_external_id(client, sales, order, channel, own_customer):
    Order.objects.create(
        customer=own_customer, channel=channel, external_id="WEB-9", ordered_at=timezone.now()
    )
    client.force_login(sales)
    response = client.get(reverse("commerce:list"), {"q": "POS-"})
    assert [o.pk for o in response.context["orders"]] == [order.pk]


def test_order_list_has_few_queries(client, sales, order, django_assert_max_num_queries):
    client.force_login(sales)
    client.get(reverse("commerce:list"))
    with django_assert_max_num_queries(6):
        response = client.get(reverse("commerce:list"))
    assert "POS-20240101-1" in response.content.decode()


def test_order_page_shows_lines_and_totals(client, sales, order):
    client.force_login(sales)
    content = client.get(reverse("commerce:detail", args=[order.pk])).content.decode()
    assert "鲜牛奶 1L" in content
    assert "¥37.50" in content


def test_order_of_an_unseen_customer_is_not_found(client, south_sales, order):
    client.force_login(south_sales)
    assert client.get(reverse("commerce:detail", args=[order.pk])).status_code == 404


def test_empty_order_list(client, sales):
    client.force_login(sales)
    response = client.get(reverse("commerce:list"))
    assert response.status_code == 200
    assert list(response.context["orders"]) == []
