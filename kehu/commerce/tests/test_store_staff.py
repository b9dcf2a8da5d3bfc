"""Stores have staff: administrators keep them in /admin/ (per store and per user), and an order
of a store is refunded only by its staff or an administrator, in the API and the service."""

from decimal import Decimal

import pytest
from django.utils import timezone

from kehu.accounts.permissions import require
from kehu.commerce.models import Order, OrderStatus, Refund, SalesChannel, Store
from kehu.commerce.queries import acting_store, stores_of
from kehu.commerce.services import refund_order
from kehu.core.errors import NotAllowed
from tests.api_client import ApiClient
from tests.fixtures.records import make_customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def nanjing(south_team, south_sales) -> Store:
    store = Store.objects.create(code="NJ01", name="南京新街口店", city="南京", team=south_team)
    store.staff.add(south_sales)
    return store


@pytest.fixture
def nanjing_order(sales, channel: SalesChannel, nanjing) -> Order:
    """An order of the salesperson's own customer, bought at a store of the other team."""
    return Order.objects.create(
        customer=make_customer(sales, name="王芳"),
        channel=channel,
        external_id="NJ-1",
        store=nanjing,
        ordered_at=timezone.now(),
        total_amount=Decimal("80.00"),
    )


def order_untouched(order: Order) -> None:
    order.refresh_from_db()
    assert (order.refunded_amount, order.status) == (Decimal("0.00"), OrderStatus.COMPLETED)
    assert not Refund.objects.exists()


def test_a_refund_at_another_store_is_refused_with_403(sales, store, nanjing_order):
    response = ApiClient(sales).post(f"/orders/{nanjing_order.pk}/refunds", {"amount": "10.00"})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "not_your_store"
    assert response.json()["error"]["message"] == (  # zh-hans, the default language
        "您不在南京新街口店工作：只有该门店的员工可以在那里为顾客办理。"
    )
    with pytest.raises(NotAllowed):
        refund_order(sales, nanjing_order.pk, Decimal("10.00"), "退货")
    order_untouched(nanjing_order)


def test_the_stores_staff_and_administrators_refund(sales, admin_user, nanjing, nanjing_order):
    nanjing.staff.add(sales)
    refund_order(sales, nanjing_order.pk, Decimal("10.00"), "退货")
    response = ApiClient(admin_user).post(f"/orders/{nanjing_order.pk}/refunds", {"amount": "5"})
    assert response.status_code == 201
    nanjing_order.refresh_from_db()
    assert nanjing_order.refunded_amount == Decimal("15.00")


def test_an_order_of_no_store_is_refunded_as_before(sales, channel):
    online = Order.objects.create(
        customer=make_customer(sales), channel=channel, external_id="WEB-1",
        ordered_at=timezone.now(), total_amount=Decimal("20.00"),
    )  # fmt: skip
    assert refund_order(sales, online.pk, Decimal("20.00"), "").amount == Decimal("20.00")


def test_the_check_and_the_stores_of_each_role(sales, admin_user, store, nanjing):
    assert list(stores_of(sales)) == [store]
    assert list(stores_of(admin_user)) == [nanjing, store]  # by code
    require(admin_user, "store.serve", nanjing)
    with pytest.raises(NotAllowed) as refusal:
        require(sales, "store.serve", nanjing)
    assert (refusal.value.code, refusal.value.details) == ("not_your_store", {"field": "store"})
    assert acting_store(sales, "") == store
    assert acting_store(admin_user, "") is None
    Store.objects.filter(pk=store.pk).update(is_active=False)
    assert list(stores_of(sales)) == []


def test_administrators_keep_staff_per_store_and_see_them_per_user(
    client, admin_user, sales, store, nanjing
):
    client.force_login(admin_user)
    store_page = client.get(f"/admin/commerce/store/{nanjing.pk}/change/").content.decode()
    assert 'name="staff"' in store_page and "sales_north" in store_page
    user_page = client.get(f"/admin/accounts/user/{sales.pk}/change/").content.decode()
    assert 'name="Store_staff-TOTAL_FORMS"' in user_page  # the inline of the user's stores
    assert f'<option value="{store.pk}" selected>上海徐汇店</option>' in user_page
    listed = client.get("/admin/accounts/user/", {"stores__id__exact": store.pk}).content.decode()
    assert "sales_north" in listed and "sales_south" not in listed
    response = client.post(
        f"/admin/commerce/store/{nanjing.pk}/change/",
        {"code": "NJ01", "name": "南京新街口店", "city": "南京", "is_active": "on",
         "staff": [sales.pk]},
    )  # fmt: skip
    assert response.status_code == 302
    assert list(nanjing.staff.all()) == [sales]


def test_the_api_lists_the_stores_one_works_at(sales, admin_user, marketer, store, nanjing):
    assert ApiClient(sales).get("/me/stores").json() == [
        {"code": "SH01", "name": "上海徐汇店", "city": "上海"}
    ]
    assert [row["code"] for row in ApiClient(admin_user).get("/me/stores").json()] == [
        "NJ01",
        "SH01",
    ]
    assert ApiClient(marketer).get("/me/stores").json() == []
    assert ApiClient().get("/me/stores").status_code == 401
