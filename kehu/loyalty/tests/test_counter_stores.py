"""Counters belong to stores: enrolment, points and coupon redemption happen only at a store the
user works at (administrators excepted), on pages and in the API alike; and checking a coupon
of a customer one may not see answers exactly like an unknown code."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from kehu.accounts.roles import Role
from kehu.commerce.models import Store
from kehu.core.errors import NotAllowed
from kehu.loyalty.coupons.services import issue_coupon, redeem_coupon
from kehu.loyalty.models import Coupon, CouponStatus, Membership, Redemption, RedemptionItem
from kehu.loyalty.points.redemption import redeem_cash_offset, redeem_gift
from kehu.loyalty.points.services import award_points
from kehu.loyalty.tests.coupon_data import make_order as make_coupon_order
from kehu.loyalty.tests.coupon_data import make_template
from kehu.loyalty.tests.points_data import (  # noqa: F401 - in_english is a fixture
    assert_ledger_consistent,
    in_english,
    make_member,
    make_order,
)
from tests.api_client import ApiClient
from tests.fixtures.people import PASSWORD, make_user
from tests.fixtures.records import make_customer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english")]

NOT_YOUR_STORE = "You do not work at %s: only its staff may serve customers there."


@pytest.fixture
def nanjing(south_team, south_sales) -> Store:
    store = Store.objects.create(code="NJ01", name="南京新街口店", city="南京", team=south_team)
    store.staff.add(south_sales)
    return store


@pytest.fixture
def hangzhou(db) -> Store:
    return Store.objects.create(code="HZ01", name="杭州西湖店", city="杭州")


@pytest.fixture
def pool_member(db):
    """A pool customer every salesperson may serve, with 600 points."""
    member = make_member(None, name="刘洋")
    award_points(member, 600, source="campaign", reason="活动", idempotency_key="camp")
    return member


@pytest.fixture
def umbrella(db):
    return RedemptionItem.objects.create(name="雨伞", points_cost=250, stock=5)


def client_for(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert client.login(username=user.username, password=PASSWORD)
    return client


def points_untouched(member) -> None:
    assert assert_ledger_consistent(member) == 600
    assert not Redemption.objects.exists()


# --- points -----------------------------------------------------------------------------------


def test_a_shanghai_salesperson_cannot_spend_points_at_a_nanjing_store(
    sales, store, nanjing, pool_member, umbrella
):
    with pytest.raises(NotAllowed) as gift_refusal:
        redeem_gift(
            sales, pool_member.customer_id, umbrella.pk, idempotency_key="g1", store_code="NJ01"
        )
    with pytest.raises(NotAllowed) as cash_refusal:
        redeem_cash_offset(
            sales, pool_member.customer_id, Decimal("1.00"), idempotency_key="c1", store_code="NJ01"
        )
    for refusal in (gift_refusal, cash_refusal):
        assert refusal.value.code == "not_your_store"
        assert str(refusal.value) == NOT_YOUR_STORE % "南京新街口店"
    points_untouched(pool_member)
    umbrella.refresh_from_db()
    assert umbrella.stock == 5


def test_a_cash_offset_on_an_order_of_another_store_is_refused_whatever_store_is_sent(
    sales, store, nanjing, pool_member
):
    order = make_order(pool_member.customer, "50.00", store=nanjing)
    for store_code in ("", "SH01", "NJ01"):
        with pytest.raises(NotAllowed) as refusal:
            redeem_cash_offset(
                sales, pool_member.customer_id, Decimal("1.00"), idempotency_key=f"c-{store_code}",
                order_id=order.pk, store_code=store_code,
            )  # fmt: skip
        assert refusal.value.code == "not_your_store", store_code
    points_untouched(pool_member)


def test_the_api_refuses_a_redemption_at_another_store_with_403(
    sales, store, nanjing, pool_member, umbrella
):
    api = ApiClient(sales)
    url = f"/members/{pool_member.customer_id}/redeem"
    gift = api.post(url, {"idempotency_key": "k1", "gift_id": umbrella.pk, "store": "NJ01"})
    cash = api.post(url, {"idempotency_key": "k2", "cash_amount": "1.00", "store": "NJ01"})
    for response in (gift, cash):
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "not_your_store"
        assert response.json()["error"]["fields"] == [
            {"path": ["body", "store"], "message": NOT_YOUR_STORE % "南京新街口店"}
        ]
    points_untouched(pool_member)


def test_the_counter_page_offers_only_the_users_stores_and_refuses_another(
    sales, store, nanjing, pool_member, umbrella
):
    client = client_for(sales)
    page = client.get(reverse("loyalty:counter"), {"q": pool_member.card_number})
    assert list(page.context["gift_form"].fields["store"].queryset) == [store]
    assert list(page.context["offset_form"].fields["store"].queryset) == [store]
    url = reverse("loyalty:counter_redeem", args=[pool_member.customer_id, "gift"])
    form = {"gift": umbrella.pk, "quantity": 1, "store": nanjing.pk, "token": "t1"}
    response = client.post(url, form, follow=True)
    assert "Select a valid choice" in response.content.decode()
    points_untouched(pool_member)


def test_without_a_store_the_users_only_store_is_used(sales, store, pool_member, umbrella):
    result = redeem_gift(sales, pool_member.customer_id, umbrella.pk, idempotency_key="g1")
    assert result.redemption.store == store


def test_a_user_of_several_stores_must_say_which(sales, store, hangzhou, pool_member, umbrella):
    hangzhou.staff.add(sales)
    with pytest.raises(ValidationError) as refusal:
        redeem_gift(sales, pool_member.customer_id, umbrella.pk, idempotency_key="g1")
    assert refusal.value.message_dict == {
        "store": ["You work at several stores: choose the store you are serving at."]
    }
    response = ApiClient(sales).post(
        f"/members/{pool_member.customer_id}/redeem",
        {"idempotency_key": "k", "gift_id": umbrella.pk},
    )
    assert response.status_code == 422
    assert response.json()["error"]["fields"][0]["path"] == ["body", "store"]
    points_untouched(pool_member)
    result = redeem_gift(
        sales, pool_member.customer_id, umbrella.pk, idempotency_key="g2", store_code="HZ01"
    )
    assert result.redemption.store == hangzhou


def test_a_user_of_no_store_cannot_serve_at_the_counter(store, pool_member, umbrella):
    roaming = make_user("roaming", Role.SALES)
    with pytest.raises(NotAllowed) as refusal:
        redeem_gift(roaming, pool_member.customer_id, umbrella.pk, idempotency_key="g1")
    assert refusal.value.code == "not_your_store"
    assert str(refusal.value) == (
        "You do not work at any store: an administrator adds you to a store's staff."
    )
    points_untouched(pool_member)


def test_administrators_serve_at_every_store(admin_user, nanjing, hangzhou, pool_member, umbrella):
    at_nanjing = redeem_gift(
        admin_user, pool_member.customer_id, umbrella.pk, idempotency_key="g1", store_code="NJ01"
    )
    anywhere = redeem_gift(admin_user, pool_member.customer_id, umbrella.pk, idempotency_key="g2")
    order = make_order(pool_member.customer, "50.00", store=hangzhou)
    offset = redeem_cash_offset(
        admin_user, pool_member.customer_id, Decimal("1.00"), idempotency_key="c1",
        order_id=order.pk,
    )  # fmt: skip
    assert (at_nanjing.redemption.store, anywhere.redemption.store) == (nanjing, None)
    assert offset.redemption.store == hangzhou
    assert assert_ledger_consistent(pool_member) == 600 - 500 - 100


# --- enrolment --------------------------------------------------------------------------------


def test_enrolment_at_a_store_one_does_not_work_at_is_refused(sales, store, nanjing):
    customer = make_customer(None, name="新客")
    response = ApiClient(sales).post("/members", {"customer_id": customer.pk, "store": "NJ01"})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "not_your_store"
    page = client_for(sales).post(reverse("loyalty:enrol", args=[customer.pk]), {"store": "NJ01"})
    assert page.status_code == 403
    assert not Membership.objects.exists()


def test_enrolment_at_the_counter_takes_the_users_store(sales, store, nanjing):
    customer = make_customer(None, name="新客", home_store=nanjing)
    page = client_for(sales).get(reverse("loyalty:member", args=[customer.pk])).content.decode()
    assert "上海徐汇店" in page and "南京新街口店" not in page
    response = client_for(sales).post(reverse("loyalty:enrol", args=[customer.pk]))
    assert response.status_code == 302
    assert Membership.objects.get().store == store
    other = make_customer(None, name="网购客")
    online = ApiClient(sales).post("/members", {"customer_id": other.pk, "channel": "online"})
    assert online.status_code == 201
    assert Membership.objects.get(customer=other).store is None  # not at a store: no store


# --- coupons ----------------------------------------------------------------------------------


@pytest.fixture
def hangzhou_order(marketer, channel, hangzhou, pool_member):
    template = make_template(marketer, kind="fixed", amount_off=Decimal("20"))
    coupon = issue_coupon(marketer, template, pool_member.customer_id)
    order = make_coupon_order(pool_member.customer, channel, "100.00", store=hangzhou)
    return coupon, order


def test_a_coupon_cannot_be_redeemed_on_an_order_of_another_store(sales, store, hangzhou_order):
    coupon, order = hangzhou_order
    with pytest.raises(NotAllowed) as refusal:
        redeem_coupon(sales, coupon.code, order.pk, idempotency_key="k1")
    assert refusal.value.code == "not_your_store"
    api = ApiClient(sales)
    redeemed = api.post(f"/coupons/{coupon.code}/redeem", {"order_id": order.pk})
    checked = api.post(f"/coupons/{coupon.code}/check", {"order_id": order.pk})
    for response in (redeemed, checked):
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "not_your_store"
    client = client_for(sales)
    url = reverse("loyalty:coupon_redeem")
    assert client.get(url, {"code": coupon.code, "order": order.external_id}).status_code == 403
    confirm = {"code": coupon.code, "order_id": order.pk, "idempotency_key": "counter:x"}
    assert client.post(url, confirm).status_code == 403
    coupon.refresh_from_db()
    assert (coupon.status, coupon.order_id) == (CouponStatus.ISSUED, None)


def test_an_administrator_redeems_a_coupon_at_any_store(admin_user, hangzhou_order):
    coupon, order = hangzhou_order
    used = redeem_coupon(admin_user, coupon.code, order.pk, idempotency_key="k1")
    assert (used.status, used.order_id) == (CouponStatus.REDEEMED, order.pk)


def test_checking_a_coupon_one_may_not_see_answers_like_an_unknown_code(
    sales, marketer, channel, south_customer
):
    own = make_customer(sales, name="王芳")
    order = make_coupon_order(own, channel, "100.00")
    template = make_template(marketer, kind="fixed", amount_off=Decimal("20"))
    hidden = issue_coupon(marketer, template, south_customer.pk)
    api = ApiClient(sales)
    for action, body in (("check", {"order_id": order.pk}), ("redeem", {"order_id": order.pk})):
        someone_elses = api.post(f"/coupons/{hidden.code}/{action}", body)
        unknown = api.post(f"/coupons/NOSUCHCODE99/{action}", body)
        assert (someone_elses.status_code, someone_elses.json()) == (
            unknown.status_code,
            unknown.json(),
        ), action
        assert unknown.status_code == 404
    url = reverse("loyalty:coupon_redeem")
    client = client_for(sales)
    page = client.get(url, {"code": hidden.code, "order": order.external_id}).content.decode()
    assert "No coupon has this code." in page and "not_customers_coupon" not in page
    assert Coupon.objects.get().status == CouponStatus.ISSUED


def test_store_staff_are_kept_per_store_and_seen_per_user(admin_user, store, sales, nanjing):
    nanjing.staff.add(sales)
    assert sorted(sales.stores.values_list("code", flat=True)) == ["NJ01", "SH01"]
    seller = make_user("sales_new", Role.SALES, store.team)
    assert list(seller.stores.all()) == [store]  # the fixtures put a team's users in its stores
