"""Every role against every API endpoint: the status codes, and that refusals change nothing.

The target is a customer owned by the salesperson `sales` (north team). `other_sales` is a
colleague in the same team and `south_sales` is in another team: to both the customer does not
exist (404). A role allowed to see but not to act gets 403; a rule in the way answers 409.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from kehu.commerce.models import Order, Refund
from kehu.customers.models import Customer, CustomerMerge, OwnershipChange, Tag
from kehu.customers.queries import mask_mobile
from kehu.engagement.models import Interaction
from tests.api_client import ApiClient
from tests.fixtures.records import make_customer

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
    target: Customer
    twin: Customer
    pool: Customer
    order: Order
    colleague_id: int


@pytest.fixture
def world(sales, other_sales, south_sales, channel, store) -> World:
    target = make_customer(owner=sales, name="王芳", email="wangfang@example.com")
    order = Order.objects.create(
        customer=target,
        channel=channel,
        external_id="POS-1",
        ordered_at=timezone.make_aware(datetime(2026, 3, 1, 10, 0)),
        total_amount=Decimal("50.00"),
    )
    return World(
        target=target,
        twin=make_customer(owner=sales, name="王芳"),
        pool=make_customer(owner=None, name="刘洋"),
        order=order,
        colleague_id=other_sales.pk,
    )


def order_body(world: World) -> dict:
    return {
        "customer_id": world.target.pk,
        "channel": "pos",
        "external_id": "POS-NEW",
        "ordered_at": "2026-03-02T09:00:00+08:00",
        "lines": [{"product_name": "咖啡", "quantity": "1", "unit_price": "18.00"}],
    }


ENDPOINTS = {
    "me": lambda api, w: api.get("/me"),
    "my_stores": lambda api, w: api.get("/me/stores"),
    "list": lambda api, w: api.get("/customers"),
    "get": lambda api, w: api.get(f"/customers/{w.target.pk}"),
    "create": lambda api, w: api.post("/customers", {"name": "新客", "mobile": "13700000001"}),
    "update": lambda api, w: api.patch(f"/customers/{w.target.pk}", {"city": "杭州"}),
    "list_tags": lambda api, w: api.get("/tags"),
    "set_tags": lambda api, w: api.put(f"/customers/{w.target.pk}/tags", {"tags": ["VIP"]}),
    "claim_owned": lambda api, w: api.post(f"/customers/{w.target.pk}/claim"),
    "claim_pool": lambda api, w: api.post(f"/customers/{w.pool.pk}/claim"),
    "release": lambda api, w: api.post(f"/customers/{w.target.pk}/release", {"reason": "搬家"}),
    "transfer": lambda api, w: api.post(
        f"/customers/{w.target.pk}/transfer", {"owner_id": w.colleague_id}
    ),
    "merge": lambda api, w: api.post(f"/customers/{w.target.pk}/merge", {"merged_id": w.twin.pk}),
    "orders": lambda api, w: api.get("/orders", {"customer": w.target.pk}),
    "order": lambda api, w: api.get(f"/orders/{w.order.pk}"),
    "post_order": lambda api, w: api.post("/orders", order_body(w)),
    "refund": lambda api, w: api.post(f"/orders/{w.order.pk}/refunds", {"amount": "5.00"}),
    "interactions": lambda api, w: api.get(f"/customers/{w.target.pk}/interactions"),
    "log": lambda api, w: api.post(
        f"/customers/{w.target.pk}/interactions", {"channel": "phone", "summary": "回访"}
    ),
}

# fmt: off
EXPECTED = {
    #               admin manager sales other south service marketing analyst
    "me":           (200, 200, 200, 200, 200, 200, 200, 200),
    "my_stores":    (200, 200, 200, 200, 200, 200, 200, 200),
    "list":         (200, 200, 200, 200, 200, 200, 200, 200),
    "get":          (200, 200, 200, 404, 404, 200, 200, 200),
    "create":       (201, 201, 201, 201, 201, 403, 403, 403),
    "update":       (200, 200, 200, 404, 404, 403, 403, 403),
    "list_tags":    (200, 200, 200, 200, 200, 200, 200, 200),
    "set_tags":     (200, 200, 200, 404, 404, 403, 403, 403),
    "claim_owned":  (403, 409, 409, 404, 404, 403, 403, 403),
    "claim_pool":   (403, 200, 200, 200, 200, 403, 403, 403),
    "release":      (200, 200, 200, 404, 404, 403, 403, 403),
    "transfer":     (200, 200, 403, 403, 403, 403, 403, 403),
    "merge":        (200, 200, 200, 404, 404, 403, 403, 403),
    "orders":       (200, 200, 200, 404, 404, 200, 200, 200),
    "order":        (200, 200, 200, 404, 404, 200, 200, 200),
    "post_order":   (201, 201, 201, 404, 404, 403, 403, 403),
    "refund":       (201, 201, 201, 404, 404, 403, 403, 403),
    "interactions": (200, 200, 200, 404, 404, 200, 200, 200),
    "log":          (201, 201, 201, 404, 404, 201, 403, 403),
}
# fmt: on
WRITES = {
    "create",
    "update",
    "set_tags",
    "claim_owned",
    "claim_pool",
    "release",
    "transfer",
    "merge",
    "post_order",
    "refund",
    "log",
}  # fmt: skip

CASES = [
    pytest.param(role, endpoint, EXPECTED[endpoint][index], id=f"{role}-{endpoint}")
    for endpoint in ENDPOINTS
    for index, role in enumerate(ROLES)
]


def state_of(world: World) -> tuple:
    """Everything an endpoint could write, to compare before and after a request."""
    target = Customer.objects.filter(pk=world.target.pk).values().first()
    pool = Customer.objects.filter(pk=world.pool.pk).values("owner_id").first()
    return (
        target,
        pool,
        sorted(Tag.objects.values_list("name", "customers")),
        Customer.objects.count(),
        list(Order.objects.values_list("pk", "status", "refunded_amount")),
        Refund.objects.count(),
        Interaction.objects.count(),
        OwnershipChange.objects.count(),
        CustomerMerge.objects.count(),
    )


def test_every_endpoint_and_role_has_an_expectation():
    assert set(EXPECTED) == set(ENDPOINTS)
    assert all(len(codes) == len(ROLES) for codes in EXPECTED.values())


@pytest.mark.parametrize(("role", "endpoint", "expected"), CASES)
def test_role_against_endpoint(request, world, role, endpoint, expected):
    api = ApiClient(request.getfixturevalue(role))
    before = state_of(world)
    response = ENDPOINTS[endpoint](api, world)
    assert response.status_code == expected, response.content
    assert response["Content-Type"].startswith("application/json")
    if expected >= 400:
        assert set(response.json()["error"]) >= {"code", "message", "fields"}
    if endpoint in WRITES:
        changed = state_of(world) != before
        assert changed is (expected < 300)


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
@pytest.mark.parametrize("header", [None, "Bearer kehu_not-a-real-token"])
def test_without_valid_credentials_every_endpoint_answers_401(world, endpoint, header):
    from django.test import Client

    api = ApiClient()
    api.client = Client(headers={"authorization": header} if header else {})
    before = state_of(world)
    response = ENDPOINTS[endpoint](api, world)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert state_of(world) == before


VISIBLE = {
    "admin_user": {"target", "twin", "pool", "colleague", "south"},
    "manager": {"target", "twin", "pool", "colleague"},
    "sales": {"target", "twin", "pool"},
    "other_sales": {"pool", "colleague"},
    "south_sales": {"pool", "south"},
    "service_agent": {"target", "twin", "pool", "colleague", "south"},
    "marketer": {"target", "twin", "pool", "colleague", "south"},
    "analyst": {"target", "twin", "pool", "colleague", "south"},
}


@pytest.mark.parametrize("role", ROLES)
def test_list_shows_exactly_the_customers_the_role_may_see(
    request, world, colleague_customer, south_customer, role
):
    names = {
        world.target.pk: "target",
        world.twin.pk: "twin",
        world.pool.pk: "pool",
        colleague_customer.pk: "colleague",
        south_customer.pk: "south",
    }
    body = ApiClient(request.getfixturevalue(role)).get("/customers").json()
    assert {names[item["id"]] for item in body["items"]} == VISIBLE[role]
    assert body["count"] == len(VISIBLE[role])


@pytest.mark.parametrize(
    ("role", "masked"),
    [
        ("admin_user", False),
        ("manager", False),
        ("sales", False),
        ("service_agent", False),
        ("marketer", True),
        ("analyst", True),
    ],
)
def test_contacts_are_masked_for_roles_that_may_not_see_them(request, world, role, masked):
    api = ApiClient(request.getfixturevalue(role))
    listed = {item["id"]: item for item in api.get("/customers").json()["items"]}
    for item in (listed[world.target.pk], api.get(f"/customers/{world.target.pk}").json()):
        assert item["contact_is_masked"] is masked
        expected = mask_mobile(world.target.mobile) if masked else world.target.mobile
        assert item["mobile"] == expected
        assert item["email"] == ("w***@example.com" if masked else "wangfang@example.com")


def test_a_salesperson_sees_pool_contacts_masked(sales, world):
    item = ApiClient(sales).get(f"/customers/{world.pool.pk}").json()
    assert item["contact_is_masked"] is True
    assert item["mobile"] == mask_mobile(world.pool.mobile)


def test_a_manager_cannot_reach_another_teams_customer(manager, south_customer):
    api = ApiClient(manager)
    assert api.get(f"/customers/{south_customer.pk}").status_code == 404
    assert api.patch(f"/customers/{south_customer.pk}", {"city": "杭州"}).status_code == 404
    south_customer.refresh_from_db()
    assert south_customer.city == ""


def test_posting_an_existing_order_of_an_invisible_customer_is_not_found(other_sales, world):
    body = {**order_body(world), "external_id": "POS-1", "customer_id": world.pool.pk}
    response = ApiClient(other_sales).post("/orders", body)
    assert response.status_code == 404
    assert Order.objects.count() == 1


# Every status code the schema documents, per operation. Each one is produced by a test in this
# file or in the apps' test_api.py; change this table only together with such a test.
DOCUMENTED = {
    ("get", "/api/me"): {200, 401},
    ("get", "/api/me/stores"): {200, 401},
    ("get", "/api/customers"): {200, 401, 422},
    ("post", "/api/customers"): {201, 401, 403, 409, 422},
    ("get", "/api/customers/{customer_id}"): {200, 401, 404},
    ("patch", "/api/customers/{customer_id}"): {200, 401, 403, 404, 409, 422},
    ("get", "/api/tags"): {200, 401},
    ("put", "/api/customers/{customer_id}/tags"): {200, 401, 403, 404, 422},
    ("post", "/api/customers/{customer_id}/claim"): {200, 401, 403, 404, 409},
    ("post", "/api/customers/{customer_id}/release"): {200, 401, 403, 404, 409, 422},
    ("post", "/api/customers/{customer_id}/transfer"): {200, 401, 403, 404, 409, 422},
    ("post", "/api/customers/{customer_id}/merge"): {200, 401, 403, 404, 409, 422},
    ("get", "/api/orders"): {200, 401, 404, 422},
    ("post", "/api/orders"): {200, 201, 401, 403, 404, 409, 422},
    ("get", "/api/orders/{order_id}"): {200, 401, 404},
    ("post", "/api/orders/{order_id}/refunds"): {201, 401, 403, 404, 409, 422},
    ("get", "/api/customers/{customer_id}/interactions"): {200, 401, 404, 422},
    ("post", "/api/customers/{customer_id}/interactions"): {201, 401, 403, 404, 422},
    ("get", "/api/customers/{customer_id}/prediction"): {200, 401, 404},
    ("get", "/api/segments"): {200, 401},
    ("post", "/api/segments"): {201, 401, 403, 422},
    ("get", "/api/segments/fields"): {200, 401},
    ("post", "/api/segments/preview"): {200, 401, 422},
    ("get", "/api/segments/{segment_id}"): {200, 401, 404},
    ("patch", "/api/segments/{segment_id}"): {200, 401, 403, 404, 422},
    ("delete", "/api/segments/{segment_id}"): {204, 401, 403, 404},
    ("get", "/api/segments/{segment_id}/members"): {200, 401, 404, 422},
    ("post", "/api/segments/{segment_id}/members"): {200, 401, 403, 404, 409, 422},
    ("post", "/api/segments/{segment_id}/members/remove"): {200, 401, 403, 404, 409, 422},
    ("post", "/api/segments/{segment_id}/refresh"): {200, 401, 403, 404, 409},
    # coupons: kehu/loyalty/tests/test_coupons_api.py
    ("get", "/api/earning-rules"): {200, 401, 403, 422},
    ("post", "/api/earning-rules"): {201, 401, 403, 422},
    ("put", "/api/earning-rules/{rule_id}"): {200, 401, 403, 404, 422},
    ("get", "/api/coupon-templates"): {200, 401, 403, 422},
    ("post", "/api/coupon-templates"): {201, 401, 403, 422},
    ("get", "/api/coupon-templates/{template_id}"): {200, 401, 403, 404},
    ("post", "/api/coupon-templates/{template_id}/coupons"): {
        200,
        201,
        202,
        401,
        403,
        404,
        409,
        422,
    },
    ("post", "/api/coupon-templates/{template_id}/batches"): {202, 401, 403, 404, 409, 422},
    ("get", "/api/coupon-batches/{batch_id}"): {200, 401, 403, 404},
    ("get", "/api/coupons/{code}"): {200, 401, 403, 404},
    ("get", "/api/customers/{customer_id}/coupons"): {200, 401, 403, 404},
    ("post", "/api/coupons/{code}/check"): {200, 401, 403, 404, 422},
    ("post", "/api/coupons/{code}/redeem"): {200, 401, 403, 404, 409, 422},
    ("post", "/api/coupons/{code}/void"): {200, 401, 403, 404, 409, 422},
    # referrals and group deals: kehu/loyalty/tests/test_referrals_api.py
    ("post", "/api/referrals"): {200, 201, 401, 403, 404, 409, 422},
    ("get", "/api/customers/{customer_id}/referral"): {200, 401, 403, 404},
    ("get", "/api/customers/{customer_id}/referrals"): {200, 401, 403, 404, 422},
    ("get", "/api/group-deals"): {200, 401, 403, 422},
    ("post", "/api/group-deals"): {200, 201, 401, 403, 404, 409, 422},
    ("get", "/api/group-deals/{deal_id}"): {200, 401, 403, 404},
    ("post", "/api/group-deals/{deal_id}/participants"): {200, 201, 401, 403, 404, 409, 422},
    ("post", "/api/group-deals/{deal_id}/cancel"): {200, 401, 403, 404, 409},
    # members and points: kehu/loyalty/tests/test_members_api.py
    ("post", "/api/members"): {200, 201, 401, 403, 404, 409, 422},
    ("get", "/api/members/{customer_id}"): {200, 401, 403, 404},
    ("get", "/api/members/by-card/{card_number}"): {200, 401, 403, 404},
    ("post", "/api/members/{customer_id}/earn"): {200, 201, 401, 403, 404, 409, 422},
    ("post", "/api/members/{customer_id}/redeem"): {200, 201, 401, 403, 404, 409, 422},
    ("post", "/api/members/{customer_id}/adjust"): {200, 201, 202, 401, 403, 404, 409, 422},
    ("get", "/api/points-approvals"): {200, 401, 403, 404, 422},
    ("get", "/api/points-approvals/{approval_id}"): {200, 401, 403, 404, 422},
    ("post", "/api/points-approvals/{approval_id}/approve"): {200, 401, 403, 404, 409, 422},
    ("post", "/api/points-approvals/{approval_id}/reject"): {200, 401, 403, 404, 409, 422},
    # coupon approvals: kehu/loyalty/tests/test_coupon_approvals.py
    ("get", "/api/coupon-approvals"): {200, 401, 403, 404, 422},
    ("get", "/api/coupon-approvals/{approval_id}"): {200, 401, 403, 404, 422},
    ("post", "/api/coupon-approvals/{approval_id}/approve"): {200, 401, 403, 404, 409, 422},
    ("post", "/api/coupon-approvals/{approval_id}/reject"): {200, 401, 403, 404, 409, 422},
    # membership status: kehu/loyalty/tests/test_membership_status.py
    ("post", "/api/members/{customer_id}/status"): {200, 401, 403, 404, 409, 422},
    ("get", "/api/members/{customer_id}/statement"): {200, 401, 403, 404, 422},
    ("get", "/api/redemption-gifts"): {200, 401, 403},
    # events: kehu/events/tests/test_api_and_page.py
    ("get", "/api/events"): {200, 401, 403, 422},
    # webhooks: kehu/webhooks/tests/test_api.py
    ("get", "/api/webhooks/event-types"): {200, 401, 403},
    ("get", "/api/webhooks/subscriptions"): {200, 401, 403, 422},
    ("post", "/api/webhooks/subscriptions"): {201, 401, 403, 422},
    ("get", "/api/webhooks/subscriptions/{subscription_id}"): {200, 401, 403, 404},
    ("put", "/api/webhooks/subscriptions/{subscription_id}"): {200, 401, 403, 404, 422},
    ("delete", "/api/webhooks/subscriptions/{subscription_id}"): {204, 401, 403, 404},
    ("post", "/api/webhooks/subscriptions/{subscription_id}/rotate-secret"): {200, 401, 403, 404},
    ("post", "/api/webhooks/subscriptions/{subscription_id}/test"): {202, 401, 403, 404, 409},
    ("get", "/api/webhooks/subscriptions/{subscription_id}/deliveries"): {
        200,
        401,
        403,
        404,
        422,
    },
    ("post", "/api/webhooks/deliveries/{delivery_id}/resend"): {202, 401, 403, 404},
}


def test_documented_status_codes_are_the_tested_ones(db):
    import json

    from kehu.web.management.commands.api_schema import current_schema_text

    schema = json.loads(current_schema_text())
    documented = {
        (method, path): {int(code) for code in operation["responses"]}
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
    }
    assert documented == DOCUMENTED
