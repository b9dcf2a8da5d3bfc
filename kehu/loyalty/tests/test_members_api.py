"""The members and points API: every role against every route, retries, and refusals that name
their rule and change nothing."""

from dataclasses import dataclass

import pytest

from kehu.commerce.models import Order
from kehu.customers.models import Customer
from kehu.loyalty.models import Membership, PointsEntry, Redemption, RedemptionItem
from kehu.loyalty.points.services import award_points
from kehu.loyalty.tests.points_data import (  # noqa: F401 - in_english is a fixture
    in_english,
    make_member,
    make_order,
)
from tests.api_client import ApiClient
from tests.fixtures.records import make_customer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english")]

ROLES = [
    "admin_user",
    "manager",
    "sales",
    "other_sales",
    "south_sales",
    "service_agent",
    "marketer",
    "analyst",
]


@dataclass
class World:
    member: Membership
    order: Order
    gift: RedemptionItem
    newcomer: Customer


@pytest.fixture
def world(sales, other_sales, south_sales, store) -> World:
    member = make_member(sales, name="王芳")
    award_points(member, 600, source="campaign", reason="活动", idempotency_key="camp")
    return World(
        member=member,
        order=make_order(member.customer, "88.00"),
        gift=RedemptionItem.objects.create(name="雨伞", points_cost=250, stock=3),
        newcomer=make_customer(sales, name="新会员"),
    )


ENDPOINTS = {
    "enrol": lambda api, w: api.post("/members", {"customer_id": w.newcomer.pk}),
    "read": lambda api, w: api.get(f"/members/{w.member.customer_id}"),
    "card": lambda api, w: api.get(f"/members/by-card/{w.member.card_number}"),
    "earn": lambda api, w: api.post(
        f"/members/{w.member.customer_id}/earn", {"order_id": w.order.pk}
    ),
    "redeem": lambda api, w: api.post(
        f"/members/{w.member.customer_id}/redeem", {"idempotency_key": "k1", "gift_id": w.gift.pk}
    ),
    "adjust": lambda api, w: api.post(
        f"/members/{w.member.customer_id}/adjust",
        {"idempotency_key": "k1", "points": -100, "reason": "盘点"},
    ),
    "statement": lambda api, w: api.get(f"/members/{w.member.customer_id}/statement"),
    "gifts": lambda api, w: api.get("/redemption-gifts"),
}

# fmt: off
EXPECTED = {
    #            admin manager sales other south service marketing analyst
    "enrol":     (201, 201, 201, 404, 404, 201, 403, 403),
    "read":      (200, 200, 200, 404, 404, 200, 200, 403),
    "card":      (200, 200, 200, 404, 404, 200, 200, 403),
    "earn":      (201, 201, 201, 404, 404, 201, 403, 403),
    "redeem":    (201, 201, 201, 404, 404, 201, 403, 403),
    "adjust":    (201, 201, 403, 403, 403, 403, 403, 403),
    "statement": (200, 200, 200, 404, 404, 200, 200, 403),
    "gifts":     (200, 200, 200, 200, 200, 200, 200, 403),
}
# fmt: on
WRITES = {"enrol", "earn", "redeem", "adjust"}
CASES = [
    pytest.param(role, endpoint, EXPECTED[endpoint][index], id=f"{role}-{endpoint}")
    for endpoint in ENDPOINTS
    for index, role in enumerate(ROLES)
]


def state_of(world: World) -> tuple:
    """Everything a members route could write, to compare before and after a request."""
    return (
        list(Membership.objects.order_by("pk").values_list("pk", "points_balance", "tier_id")),
        list(PointsEntry.objects.order_by("pk").values_list("pk", "points", "remaining")),
        Redemption.objects.count(),
        RedemptionItem.objects.get(pk=world.gift.pk).stock,
    )


def test_every_endpoint_and_role_has_an_expectation():
    assert set(EXPECTED) == set(ENDPOINTS)


@pytest.mark.parametrize(("role", "endpoint", "expected"), CASES)
def test_role_against_endpoint(request, world, role, endpoint, expected):
    api = ApiClient(request.getfixturevalue(role))
    before = state_of(world)
    response = ENDPOINTS[endpoint](api, world)
    assert response.status_code == expected, response.content
    if expected >= 400:
        assert set(response.json()["error"]) >= {"code", "message", "fields"}
    if endpoint in WRITES:
        assert (state_of(world) != before) is (expected < 300)


def test_a_member_by_id_and_by_card(sales, world):
    api = ApiClient(sales)
    body = api.get(f"/members/{world.member.customer_id}").json()
    assert body["card_number"] == world.member.card_number
    assert (body["points_balance"], body["tier"]["name"], body["next_tier"]["name"]) == (
        600,
        "普通",
        "银卡",
    )
    assert body["to_next_tier"] == "912.00"  # ¥1,000 less the ¥88 order
    assert api.get(f"/members/by-card/{world.member.card_number}").json() == body


def test_unknown_members_answer_404_with_a_clear_message(sales, world):
    api = ApiClient(sales)
    response = api.get(f"/members/{world.newcomer.pk}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "unknown_member"
    assert response.json()["error"]["message"] == "This customer is not a member."
    response = api.get("/members/by-card/80000000000")
    assert response.status_code == 404
    assert response.json()["error"]["message"] == "No member has the card number 80000000000."
    before = state_of(world)
    response = api.post(
        f"/members/{world.newcomer.pk}/redeem", {"idempotency_key": "x", "cash_amount": "1.00"}
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "unknown_member"
    assert state_of(world) == before


def test_enrolling_twice_answers_the_first_membership(sales, world):
    api = ApiClient(sales)
    first = api.post("/members", {"customer_id": world.newcomer.pk, "store": "SH01"})
    again = api.post("/members", {"customer_id": world.newcomer.pk})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["card_number"] == again.json()["card_number"]
    assert Membership.objects.get(customer=world.newcomer).store.code == "SH01"
    response = api.post("/members", {"customer_id": make_customer(sales).pk, "store": "NOPE"})
    assert (response.status_code, response.json()["error"]["code"]) == (409, "unknown_store")


def test_earning_once_per_order(sales, world):
    api = ApiClient(sales)
    path = f"/members/{world.member.customer_id}/earn"
    first = api.post(path, {"order_id": world.order.pk, "extra_multiplier": "2"})
    again = api.post(path, {"order_id": world.order.pk})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["entry"]["points"] == 176
    assert again.json()["entry"] == first.json()["entry"]
    assert again.json()["balance"] == 776
    other = make_order(make_customer(sales), "10.00")
    response = api.post(path, {"order_id": other.pk})
    assert (response.status_code, response.json()["error"]["code"]) == (409, "order_not_members")


def test_a_retried_redemption_answers_the_first(sales, world):
    api = ApiClient(sales)
    path = f"/members/{world.member.customer_id}/redeem"
    body = {"idempotency_key": "till-7-0001", "gift_id": world.gift.pk, "store": "SH01"}
    first = api.post(path, body)
    again = api.post(path, body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert (first.json()["points"], first.json()["balance"], first.json()["store"]) == (
        250,
        350,
        "SH01",
    )
    assert Redemption.objects.count() == 1


def test_refused_redemptions_name_the_rule_and_change_nothing(sales, world):
    api = ApiClient(sales)
    path = f"/members/{world.member.customer_id}/redeem"
    before = state_of(world)
    response = api.post(path, {"idempotency_key": "a", "gift_id": world.gift.pk, "quantity": 3})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "insufficient_points"
    assert response.json()["error"]["message"] == "Insufficient points: balance 600, needed 750."
    RedemptionItem.objects.filter(pk=world.gift.pk).update(stock=0)
    before = state_of(world)
    response = api.post(path, {"idempotency_key": "b", "gift_id": world.gift.pk})
    assert (response.status_code, response.json()["error"]["code"]) == (409, "out_of_stock")
    response = api.post(path, {"idempotency_key": "c", "cash_amount": "1.00", "store": "NOPE"})
    assert (response.status_code, response.json()["error"]["code"]) == (409, "unknown_store")
    response = api.post(path, {"idempotency_key": "d", "cash_amount": "1", "gift_id": 1})
    assert response.status_code == 422
    response = api.post(path, {"cash_amount": "1.00"})
    assert response.status_code == 422  # the key is required
    assert state_of(world) == before


def test_cash_offset_on_the_members_order(sales, world):
    api = ApiClient(sales)
    response = api.post(
        f"/members/{world.member.customer_id}/redeem",
        {"idempotency_key": "o1", "cash_amount": "5.50", "order_id": world.order.pk},
    )
    assert response.status_code == 201
    assert (response.json()["points"], response.json()["cash_amount"]) == (550, "5.50")
    assert response.json()["balance"] == 50


def test_adjusting_needs_a_reason_and_records_who(manager, world):
    api = ApiClient(manager)
    path = f"/members/{world.member.customer_id}/adjust"
    response = api.post(path, {"idempotency_key": "a1", "points": 40, "reason": "补录"})
    assert response.status_code == 201
    assert (response.json()["entry"]["created_by"], response.json()["balance"]) == (
        "manager_north",
        640,
    )
    response = api.post(path, {"idempotency_key": "a2", "points": 40, "reason": ""})
    assert response.status_code == 422
    response = api.post(path, {"idempotency_key": "a3", "points": -1000, "reason": "扣"})
    assert (response.status_code, response.json()["error"]["code"]) == (409, "insufficient_points")
    response = api.post(path, {"idempotency_key": "a1", "points": 41, "reason": "补录"})
    assert (response.status_code, response.json()["error"]["code"]) == (
        409,
        "idempotency_key_reused",
    )


def test_the_statement_pages_newest_first_with_running_balances(sales, world):
    api = ApiClient(sales)
    api.post(f"/members/{world.member.customer_id}/earn", {"order_id": world.order.pk})
    body = api.get(f"/members/{world.member.customer_id}/statement", {"limit": 1}).json()
    assert (body["count"], body["balance"], len(body["items"])) == (2, 688, 1)
    assert (body["items"][0]["points"], body["items"][0]["balance_after"]) == (88, 688)
    older = api.get(f"/members/{world.member.customer_id}/statement", {"offset": 1}).json()
    assert older["items"][0]["balance_after"] == 600


def test_the_gift_catalogue(sales, world):
    RedemptionItem.objects.create(name="下架", points_cost=1, is_active=False)
    body = ApiClient(sales).get("/redemption-gifts").json()
    assert [(gift["name"], gift["stock"]) for gift in body] == [("雨伞", 3)]
