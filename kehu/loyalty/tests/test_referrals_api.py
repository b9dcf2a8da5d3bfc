"""The referral and group-deal API: idempotent writes, each refusal with its status and code,
and refusals that change nothing."""

from datetime import timedelta

import pytest
from django.utils import timezone

from kehu.loyalty.models import GroupDeal, GroupParticipant, Referral
from kehu.loyalty.referrals.services import attribute_referral
from kehu.loyalty.tests.referral_data import expire, make_deal, make_member, make_order
from tests.api_client import ApiClient, error_paths
from tests.fixtures.records import make_customer


@pytest.fixture
def referrer(sales):
    return make_member(sales, "王芳")


@pytest.fixture
def newcomer(sales):
    return make_customer(sales, name="李娜")


def referral_state():
    return list(Referral.objects.values_list("pk", "referee", "status"))


def deal_state():
    deals = GroupDeal.objects.values_list("pk", "status", "title")
    return list(deals), list(GroupParticipant.objects.values_list("pk", "customer", "order"))


def in_a_day():
    return (timezone.now() + timedelta(days=1)).isoformat()


# --- referrals --------------------------------------------------------------------------------


def test_attribution_answers_201_then_200_with_the_same_referral(sales, referrer, newcomer):
    api = ApiClient(sales)
    body = {"referee_customer_id": newcomer.pk, "code": referrer.referral_code}
    first = api.post("/referrals", body)
    assert first.status_code == 201
    created = first.json()
    assert created["status"] == "pending"
    assert created["referrer_customer_id"] == referrer.customer_id
    assert created["referrer_card_number"] == referrer.card_number
    assert created["referee_customer_id"] == newcomer.pk
    again = api.post("/referrals", {**body, "code": referrer.referral_code.lower()})
    assert again.status_code == 200
    assert again.json()["id"] == created["id"]
    assert Referral.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "status", "code", "path"),
    [
        ({"code": "NOSUCH12"}, 409, "unknown_code", ["body", "code"]),
        ({"code": "self"}, 409, "self_referral", ["body", "code"]),
        ({"referee_customer_id": 0}, 404, "not_found", None),
        ({"code": ""}, 422, "invalid", ["body", "code"]),
        ({"extra": 1}, 422, "invalid", ["body", "extra"]),
    ],
)
def test_refused_attributions_change_nothing(sales, referrer, newcomer, body, status, code, path):
    payload = {"referee_customer_id": newcomer.pk, "code": referrer.referral_code, **body}
    if body.get("code") == "self":
        payload.update(referee_customer_id=referrer.customer_id, code=referrer.referral_code)
    response = ApiClient(sales).post("/referrals", payload)
    assert response.status_code == status, response.content
    assert response.json()["error"]["code"] == code
    if path:
        assert path in error_paths(response)
    assert referral_state() == []


def test_a_customer_who_bought_before_answers_409(sales, referrer, newcomer, channel):
    make_order(newcomer, channel, ordered_at=timezone.now() - timedelta(days=3))
    body = {"referee_customer_id": newcomer.pk, "code": referrer.referral_code}
    response = ApiClient(sales).post("/referrals", body)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "already_customer"
    assert referral_state() == []


def test_roles_without_the_counter_get_403(marketer, referrer, newcomer):
    body = {"referee_customer_id": newcomer.pk, "code": referrer.referral_code}
    response = ApiClient(marketer).post("/referrals", body)
    assert response.status_code == 403
    assert referral_state() == []


def test_a_customers_referral_and_a_members_referrals(sales, analyst, referrer, newcomer):
    referral = attribute_referral(sales, newcomer.pk, referrer.referral_code).referral
    api = ApiClient(sales)
    read = api.get(f"/customers/{newcomer.pk}/referral")
    assert read.status_code == 200
    assert (read.json()["id"], read.json()["rejected_reason"]) == (referral.pk, "")
    assert api.get(f"/customers/{referrer.customer_id}/referral").status_code == 404
    listed = api.get(f"/customers/{referrer.customer_id}/referrals", {"limit": 10})
    assert listed.status_code == 200
    assert listed.json()["count"] == 1
    assert [item["referee_customer_id"] for item in listed.json()["items"]] == [newcomer.pk]
    assert api.get(f"/customers/{newcomer.pk}/referrals").status_code == 404  # not a member
    assert api.get(f"/customers/{referrer.customer_id}/referrals", {"limit": 0}).status_code == 422
    assert ApiClient(analyst).get(f"/customers/{newcomer.pk}/referral").status_code == 403
    referrals_path = f"/customers/{referrer.customer_id}/referrals"
    assert ApiClient(analyst).get(referrals_path).status_code == 403


def test_referrals_of_customers_out_of_sight_answer_404(south_sales, sales, referrer, newcomer):
    attribute_referral(sales, newcomer.pk, referrer.referral_code)
    api = ApiClient(south_sales)
    assert api.get(f"/customers/{newcomer.pk}/referral").status_code == 404
    assert api.get(f"/customers/{referrer.customer_id}/referrals").status_code == 404


# --- group deals ------------------------------------------------------------------------------


def deal_body(leader, **changes):
    body = {
        "title": "社区团购 鲜牛奶",
        "leader_customer_id": leader.pk,
        "deadline": in_a_day(),
        "min_size": 3,
        "leader_bonus_points": 50,
        "participant_points_multiplier": "1.50",
    }
    body.update(changes)
    return body


def test_creating_a_deal_is_idempotent_with_a_key(sales, newcomer, store):
    api = ApiClient(sales)
    body = deal_body(newcomer, idempotency_key="shop-7", store="SH01")
    first = api.post("/group-deals", body)
    assert first.status_code == 201, first.content
    created = first.json()
    assert (created["status"], created["store"], created["participant_count"]) == (
        "open",
        "SH01",
        1,
    )
    assert created["participant_points_multiplier"] == "1.50"
    assert created["participants"] == [
        {
            "customer_id": newcomer.pk,
            "name": "李娜",
            "role": "leader",
            "order_id": None,
            "joined_at": created["participants"][0]["joined_at"],
        }
    ]
    again = api.post("/group-deals", {**body, "title": "重试"})
    assert again.status_code == 200
    assert (again.json()["id"], again.json()["title"]) == (created["id"], "社区团购 鲜牛奶")
    assert GroupDeal.objects.count() == 1


@pytest.mark.parametrize(
    ("changes", "status", "code", "path"),
    [
        ({"deadline": "2020-01-01T00:00:00+08:00"}, 422, "invalid", ["body", "deadline"]),
        ({"min_size": 1}, 422, "invalid", ["body", "min_size"]),
        ({"participant_points_multiplier": "0"}, 422, "invalid", None),
        ({"store": "NOPE"}, 409, "unknown_store", ["body", "store"]),
        ({"product_sku": "NOPE"}, 409, "unknown_product", ["body", "product_sku"]),
        ({"leader_order_id": 999999}, 409, "unknown_order", ["body", "leader_order_id"]),
    ],
)
def test_refused_deals_change_nothing(sales, newcomer, changes, status, code, path):
    response = ApiClient(sales).post("/group-deals", deal_body(newcomer, **changes))
    assert response.status_code == status, response.content
    assert response.json()["error"]["code"] == code
    if path:
        assert path in error_paths(response)
    assert deal_state() == ([], [])


def test_deal_leaders_out_of_sight_or_roles_without_rights(south_sales, analyst, newcomer):
    assert ApiClient(south_sales).post("/group-deals", deal_body(newcomer)).status_code == 404
    assert ApiClient(analyst).post("/group-deals", deal_body(newcomer)).status_code == 403
    assert deal_state() == ([], [])


def test_joining_answers_201_then_200_and_attaches_the_order(sales, newcomer, channel):
    deal = make_deal(sales, newcomer)
    friend = make_customer(sales, name="邻居")
    api = ApiClient(sales)
    joined = api.post(f"/group-deals/{deal.pk}/participants", {"customer_id": friend.pk})
    assert joined.status_code == 201
    assert [item["role"] for item in joined.json()["participants"]] == ["leader", "participant"]
    order = make_order(friend, channel)
    body = {"customer_id": friend.pk, "order_id": order.pk}
    again = api.post(f"/group-deals/{deal.pk}/participants", body)
    assert again.status_code == 200
    assert again.json()["participants"][1]["order_id"] == order.pk
    assert again.json()["participant_count"] == 2


def test_refused_joins_change_nothing(sales, analyst, south_customer, newcomer, channel):
    deal = make_deal(sales, newcomer)
    friend = make_customer(sales, name="邻居")
    api = ApiClient(sales)
    path = f"/group-deals/{deal.pk}/participants"
    before = deal_state()
    stranger_order = make_order(south_customer, channel)
    refusals = [
        (api.post(path, {"customer_id": south_customer.pk}), 404, "not_found"),
        (
            api.post("/group-deals/999999/participants", {"customer_id": friend.pk}),
            404,
            "not_found",
        ),
        (api.post(path, {"order_id": 1}), 422, "invalid"),
        (
            api.post(path, {"customer_id": friend.pk, "order_id": stranger_order.pk}),
            409,
            "unknown_order",
        ),
        (ApiClient(analyst).post(path, {"customer_id": friend.pk}), 403, "not_allowed"),
    ]
    for response, status, code in refusals:
        assert (response.status_code, response.json()["error"]["code"]) == (status, code)
    expire(deal)
    late = api.post(path, {"customer_id": friend.pk})
    assert (late.status_code, late.json()["error"]["code"]) == (409, "deadline_passed")
    assert deal_state() == before


def test_listing_and_reading_deals(sales, manager, analyst, south_sales, newcomer):
    open_deal = make_deal(sales, newcomer)
    cancelled = make_deal(sales, make_customer(sales, name="另一团长"), title="已取消")
    ApiClient(manager).post(f"/group-deals/{cancelled.pk}/cancel")
    api = ApiClient(sales)
    listed = api.get("/group-deals", {"status": "open"})
    assert listed.status_code == 200
    assert [item["id"] for item in listed.json()["items"]] == [open_deal.pk]
    assert api.get("/group-deals").json()["count"] == 2
    assert api.get("/group-deals", {"status": "nonsense"}).status_code == 422
    assert api.get(f"/group-deals/{open_deal.pk}").json()["participant_count"] == 1
    assert ApiClient(analyst).get("/group-deals").status_code == 403
    assert ApiClient(analyst).get(f"/group-deals/{open_deal.pk}").status_code == 403
    assert ApiClient(south_sales).get(f"/group-deals/{open_deal.pk}").status_code == 404
    assert ApiClient(south_sales).get("/group-deals").json()["count"] == 0


def test_cancelling_a_deal(sales, manager, newcomer):
    deal = make_deal(sales, newcomer)
    refused = ApiClient(sales).post(f"/group-deals/{deal.pk}/cancel")
    assert refused.status_code == 403
    assert GroupDeal.objects.get(pk=deal.pk).status == "open"
    api = ApiClient(manager)
    cancelled = api.post(f"/group-deals/{deal.pk}/cancel")
    assert (cancelled.status_code, cancelled.json()["status"]) == (200, "cancelled")
    again = api.post(f"/group-deals/{deal.pk}/cancel")
    assert (again.status_code, again.json()["error"]["code"]) == (409, "deal_not_open")
    assert api.post("/group-deals/999999/cancel").status_code == 404


def test_participants_out_of_sight_have_no_name(sales, newcomer, south_customer):
    deal = make_deal(sales, newcomer)
    GroupParticipant.objects.create(
        deal=deal, customer=south_customer, role="participant", joined_at=timezone.now()
    )
    body = ApiClient(sales).get(f"/group-deals/{deal.pk}").json()
    assert [(item["name"], item["role"]) for item in body["participants"]] == [
        ("李娜", "leader"),
        ("", "participant"),
    ]


@pytest.mark.parametrize(
    "call",
    [
        lambda api, ids: api.post("/referrals", {"referee_customer_id": ids, "code": "X"}),
        lambda api, ids: api.get(f"/customers/{ids}/referral"),
        lambda api, ids: api.get(f"/customers/{ids}/referrals"),
        lambda api, ids: api.get("/group-deals"),
        lambda api, ids: api.get("/group-deals/1"),
        lambda api, ids: api.post("/group-deals", {}),
        lambda api, ids: api.post("/group-deals/1/participants", {"customer_id": ids}),
        lambda api, ids: api.post("/group-deals/1/cancel"),
    ],
)
def test_without_a_token_every_route_answers_401(newcomer, call):
    response = call(ApiClient(), newcomer.pk)
    assert response.status_code == 401
    assert referral_state() == [] and deal_state() == ([], [])
