"""The coupon API: templates, issuing (one, a batch), check, redeem and void; every refusal
answers a clear error (404 unknown code, 409 with the rule's name, 422 with the field) and
changes nothing."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from kehu.loyalty.coupons.services import issue_coupon
from kehu.loyalty.models import Coupon, CouponIssueBatch, CouponStatus, CouponTemplate
from kehu.loyalty.tests.coupon_data import make_order, make_template
from kehu.segments.models import Segment, SegmentMember
from tests.api_client import ApiClient, error_paths
from tests.fixtures.records import make_customer

TEMPLATE_BODY = {
    "name": "春季满减",
    "kind": "threshold",
    "amount_off": "30.00",
    "min_spend": "200.00",
    "validity": "relative",
    "valid_days": 14,
    "per_customer_limit": 1,
    "total_limit": 1000,
}


@pytest.fixture
def holder(sales):
    return make_customer(sales, name="王芳")


@pytest.fixture
def template(marketer):
    # capped within marketing's coupon limit: an uncapped one would wait for approval
    return make_template(
        marketer,
        kind="percent",
        amount_off=None,
        percent_off=Decimal("10"),
        max_discount=Decimal("100.00"),
    )


@pytest.fixture
def coupon(marketer, template, holder):
    return issue_coupon(marketer, template, holder.pk)


def world_state():
    """Everything a coupon request could write."""
    return (
        sorted(
            Coupon.objects.values_list(
                "code", "status", "order_id", "discount_amount", "redeem_key", "voided_reason"
            )
        ),
        sorted(CouponTemplate.objects.values_list("pk", "name", "issued_count", "is_active")),
        CouponIssueBatch.objects.count(),
    )


# --- templates --------------------------------------------------------------------------------


def test_create_a_template_and_read_it_with_its_statistics(marketer, store):
    api = ApiClient(marketer)
    response = api.post("/coupon-templates", {**TEMPLATE_BODY, "stores": ["SH01"]})
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["kind"], body["amount_off"], body["min_spend"], body["stores"]) == (
        "threshold",
        "30.00",
        "200.00",
        ["SH01"],
    )
    assert body["description"] == "Spend ¥200, save ¥30"
    assert (body["issued"], body["redeemed"], body["revenue"]) == (0, 0, "0.00")
    read = api.get(f"/coupon-templates/{body['id']}").json()
    assert read["name"] == "春季满减"
    listed = api.get("/coupon-templates", {"kind": "threshold"}).json()
    assert [item["id"] for item in listed["items"]] == [body["id"]]
    assert listed["count"] == 1


@pytest.mark.parametrize(
    ("changes", "path"),
    [
        ({"kind": "percent", "percent_off": "100"}, ["body", "percent_off"]),
        ({"min_spend": "30.00"}, ["body", "min_spend"]),
        ({"validity": "fixed"}, ["body", "valid_from"]),
        ({"stores": ["NOPE"]}, ["body", "stores"]),
        ({"kind": "cashback"}, ["body", "kind"]),
        ({"valid_days": "soon"}, ["body", "valid_days"]),
    ],
)
def test_a_bad_template_is_422_with_the_field_and_nothing_is_saved(marketer, changes, path):
    response = ApiClient(marketer).post("/coupon-templates", {**TEMPLATE_BODY, **changes})
    assert response.status_code == 422
    assert path in error_paths(response)
    assert not CouponTemplate.objects.exists()


def test_only_programme_roles_reach_templates(sales, analyst, template):
    for user in (sales, analyst):
        api = ApiClient(user)
        assert api.get("/coupon-templates").status_code == 403
        assert api.get(f"/coupon-templates/{template.pk}").status_code == 403
        assert api.post("/coupon-templates", TEMPLATE_BODY).status_code == 403
    assert CouponTemplate.objects.count() == 1


# --- issuing ----------------------------------------------------------------------------------


def test_issue_is_201_then_200_with_the_same_key(marketer, template, holder):
    api = ApiClient(marketer)
    body = {"customer_id": holder.pk, "idempotency_key": "shop-42"}
    first = api.post(f"/coupon-templates/{template.pk}/coupons", body)
    assert first.status_code == 201, first.content
    again = api.post(f"/coupon-templates/{template.pk}/coupons", body)
    assert again.status_code == 200
    assert again.json()["code"] == first.json()["code"]
    assert (
        first.json()["status"] == "issued"
        and first.json()["description"] == "10% off, at most ¥100"
    )
    assert Coupon.objects.count() == 1


def test_issue_refusals_are_clear_and_change_nothing(marketer, manager, holder, south_customer):
    limited = make_template(marketer, name="限量", total_limit=1)
    issue_coupon(marketer, limited, holder.pk)
    before = world_state()
    url = f"/coupon-templates/{limited.pk}/coupons"
    full = ApiClient(marketer).post(url, {"customer_id": make_customer(None).pk})
    assert (full.status_code, full.json()["error"]["code"]) == (409, "total_limit")
    hidden = ApiClient(manager).post(url, {"customer_id": south_customer.pk})
    assert hidden.status_code == 404
    missing = ApiClient(marketer).post("/coupon-templates/999999/coupons", {"customer_id": 1})
    assert missing.status_code == 404
    typo = ApiClient(marketer).post(url, {"customer": holder.pk})
    assert typo.status_code == 422
    assert world_state() == before


def test_a_segment_batch_is_accepted_and_can_be_followed(
    marketer, template, sales, django_capture_on_commit_callbacks
):
    members = [make_customer(sales) for _ in range(3)]
    segment = Segment.objects.create(name="复购客户", kind="static", created_by=marketer)
    for customer in members:
        SegmentMember.objects.create(segment=segment, customer=customer, joined_at=timezone.now())
    api = ApiClient(marketer)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            f"/coupon-templates/{template.pk}/batches",
            {"segment_id": segment.pk, "idempotency_key": "spring"},
        )
    assert response.status_code == 202, response.content
    batch = api.get(f"/coupon-batches/{response.json()['id']}").json()
    assert (batch["status"], batch["requested"], batch["issued"], batch["skipped"]) == (
        "done",
        3,
        3,
        0,
    )
    assert batch["skipped_reasons"] == {} and batch["error"] == ""
    again = api.post(
        f"/coupon-templates/{template.pk}/batches",
        {"segment_id": segment.pk, "idempotency_key": "spring"},
    )
    assert (again.status_code, again.json()["id"]) == (202, batch["id"])
    assert Coupon.objects.count() == 3


def test_a_batch_with_both_targets_is_422(marketer, template):
    response = ApiClient(marketer).post(
        f"/coupon-templates/{template.pk}/batches", {"segment_id": 1, "customer_ids": [1]}
    )
    assert response.status_code == 422
    assert error_paths(response) == [["body", "customer_ids"]]
    assert not CouponIssueBatch.objects.exists()


# --- at the counter ---------------------------------------------------------------------------


def test_check_says_whether_it_applies_and_writes_nothing(sales, coupon, holder, channel, store):
    order = make_order(holder, channel, "250.00", store=store)
    before = world_state()
    response = ApiClient(sales).post(f"/coupons/{coupon.code}/check", {"order_id": order.pk})
    assert response.status_code == 200
    assert response.json() == {
        "code": coupon.code,
        "order_id": order.pk,
        "applies": True,
        "discount": "25.00",
        "gift_description": "",
        "rule": None,
        "message": "",
    }
    other = make_order(make_customer(sales), channel)
    refused = ApiClient(sales).post(f"/coupons/{coupon.code}/check", {"order_id": other.pk})
    assert (refused.json()["applies"], refused.json()["rule"]) == (False, "not_customers_coupon")
    assert world_state() == before


def test_redeem_then_retry_then_reuse(sales, coupon, holder, channel):
    api = ApiClient(sales)
    order = make_order(holder, channel, "88.00")
    body = {"order_id": order.pk, "idempotency_key": "pos-1"}
    first = api.post(f"/coupons/{coupon.code}/redeem", body)
    assert first.status_code == 200, first.content
    assert (first.json()["status"], first.json()["discount_amount"], first.json()["order_id"]) == (
        "redeemed",
        "8.80",
        order.pk,
    )
    retry = api.post(f"/coupons/{coupon.code}/redeem", body)
    assert retry.status_code == 200 and retry.json() == first.json()
    second_order = make_order(holder, channel)
    reuse = api.post(f"/coupons/{coupon.code}/redeem", {"order_id": second_order.pk})
    assert reuse.status_code == 409
    assert reuse.json()["error"]["code"] == "already_used"
    assert not Coupon.objects.filter(order=second_order).exists()


@pytest.mark.parametrize(
    ("scenario", "status", "code"),
    [
        ("unknown", 404, "unknown_code"),
        ("expired", 409, "expired"),
        ("wrong_store", 409, "wrong_store"),
        ("invisible_order", 404, "not_found"),
        ("bad_order_id", 422, "invalid"),
        ("marketing", 403, "not_allowed"),
    ],
)
def test_redeem_refusals_name_the_rule_and_change_nothing(
    request, sales, marketer, template, holder, channel, store, scenario, status, code
):
    coupon = issue_coupon(marketer, template, holder.pk)
    order = make_order(holder, channel)
    user, body, target = sales, {"order_id": order.pk}, coupon.code
    if scenario == "unknown":
        target = "NOSUCHCODE12"
    elif scenario == "expired":
        Coupon.objects.filter(pk=coupon.pk).update(valid_until=timezone.now() - timedelta(days=1))
    elif scenario == "wrong_store":
        restricted = make_template(marketer, name="门店专享", store_ids=(store.pk,))
        target = issue_coupon(marketer, restricted, holder.pk).code
    elif scenario == "invisible_order":
        user = request.getfixturevalue("south_sales")
    elif scenario == "bad_order_id":
        body = {"order_id": "abc"}
    else:
        user = marketer
    before = world_state()
    response = ApiClient(user).post(f"/coupons/{target}/redeem", body)
    assert response.status_code == status, response.content
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["message"]
    assert world_state() == before


def test_void_with_a_reason(marketer, sales, coupon, holder, channel):
    api = ApiClient(marketer)
    assert api.post(f"/coupons/{coupon.code}/void", {"reason": ""}).status_code == 422
    response = api.post(f"/coupons/{coupon.code}/void", {"reason": "重复发放"})
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["voided_reason"]) == ("void", "重复发放")
    redeem = ApiClient(sales).post(
        f"/coupons/{coupon.code}/redeem", {"order_id": make_order(holder, channel).pk}
    )
    assert (redeem.status_code, redeem.json()["error"]["code"]) == (409, "void")
    assert ApiClient(sales).post(f"/coupons/{coupon.code}/void", {"reason": "x"}).status_code == 403


def test_a_customers_coupons_and_one_coupon(sales, marketer, south_sales, coupon, holder):
    api = ApiClient(sales)
    listed = api.get(f"/customers/{holder.pk}/coupons")
    assert [item["code"] for item in listed.json()] == [coupon.code]
    assert api.get(f"/coupons/{coupon.code.lower()}").json()["customer_id"] == holder.pk
    assert ApiClient(south_sales).get(f"/coupons/{coupon.code}").status_code == 404
    assert ApiClient(south_sales).get(f"/customers/{holder.pk}/coupons").status_code == 404
    assert Coupon.objects.get().status == CouponStatus.ISSUED


# --- every role against every coupon endpoint -------------------------------------------------

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


@pytest.fixture
def counter(admin_user, sales, channel):
    """A template, a coupon of the salesperson's customer, an order of theirs, a batch."""
    template = make_template(admin_user, kind="fixed", amount_off=Decimal("5"))
    holder = make_customer(sales, name="王芳")
    coupon = issue_coupon(admin_user, template, holder.pk)
    batch = CouponIssueBatch.objects.create(template=template, customer_ids=[holder.pk])
    order = make_order(holder, channel)
    return {
        "template": template,
        "holder": holder,
        "coupon": coupon,
        "order": order,
        "batch": batch,
    }


ENDPOINTS = {
    "list": lambda api, w: api.get("/coupon-templates"),
    "read": lambda api, w: api.get(f"/coupon-templates/{w['template'].pk}"),
    "create": lambda api, w: api.post("/coupon-templates", TEMPLATE_BODY),
    "issue": lambda api, w: api.post(
        f"/coupon-templates/{w['template'].pk}/coupons", {"customer_id": w["holder"].pk}
    ),
    "batch": lambda api, w: api.post(
        f"/coupon-templates/{w['template'].pk}/batches", {"customer_ids": [w["holder"].pk]}
    ),
    "read_batch": lambda api, w: api.get(f"/coupon-batches/{w['batch'].pk}"),
    "coupon": lambda api, w: api.get(f"/coupons/{w['coupon'].code}"),
    "customer": lambda api, w: api.get(f"/customers/{w['holder'].pk}/coupons"),
    "check": lambda api, w: api.post(
        f"/coupons/{w['coupon'].code}/check", {"order_id": w["order"].pk}
    ),
    "redeem": lambda api, w: api.post(
        f"/coupons/{w['coupon'].code}/redeem", {"order_id": w["order"].pk}
    ),
    "void": lambda api, w: api.post(f"/coupons/{w['coupon'].code}/void", {"reason": "作废"}),
}

# fmt: off
EXPECTED = {
    #             admin manager sales other south service marketing analyst
    "list":       (200, 200, 403, 403, 403, 403, 200, 403),
    "read":       (200, 200, 403, 403, 403, 403, 200, 403),
    "create":     (201, 201, 403, 403, 403, 403, 201, 403),
    "issue":      (201, 201, 403, 403, 403, 403, 201, 403),
    "batch":      (202, 202, 403, 403, 403, 403, 202, 403),
    "read_batch": (200, 200, 403, 403, 403, 403, 200, 403),
    "coupon":     (200, 200, 200, 404, 404, 200, 200, 403),
    "customer":   (200, 200, 200, 404, 404, 200, 200, 403),
    "check":      (200, 200, 200, 404, 404, 200, 403, 403),
    "redeem":     (200, 200, 200, 404, 404, 200, 403, 403),
    "void":       (200, 200, 403, 403, 403, 403, 200, 403),
}
# fmt: on
WRITES = {"create", "issue", "batch", "redeem", "void"}


@pytest.mark.parametrize(
    ("role", "endpoint", "expected"),
    [
        pytest.param(role, endpoint, EXPECTED[endpoint][index], id=f"{role}-{endpoint}")
        for endpoint in ENDPOINTS
        for index, role in enumerate(ROLES)
    ],
)
def test_role_against_coupon_endpoint(request, counter, role, endpoint, expected):
    api = ApiClient(request.getfixturevalue(role))
    before = world_state()
    response = ENDPOINTS[endpoint](api, counter)
    assert response.status_code == expected, response.content
    if expected >= 400:
        assert set(response.json()["error"]) >= {"code", "message", "fields"}
    if endpoint in WRITES:
        assert (world_state() != before) is (expected < 300)


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_every_coupon_endpoint_needs_credentials(counter, endpoint):
    before = world_state()
    response = ENDPOINTS[endpoint](ApiClient(), counter)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert world_state() == before


def test_missing_records_and_bad_queries(admin_user, counter):
    api = ApiClient(admin_user)
    assert api.get("/coupon-templates/999999").status_code == 404
    assert api.get("/coupon-batches/999999").status_code == 404
    assert api.get("/coupon-templates", {"limit": 0}).status_code == 422
    batch = api.post("/coupon-templates/999999/batches", {"customer_ids": [1]})
    assert batch.status_code == 404
    unknown = api.post("/coupons/NOSUCHCODE12/check", {"order_id": counter["order"].pk})
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "unknown_code")
    assert api.post(f"/coupons/{counter['coupon'].code}/check", {}).status_code == 422
    voided = api.post("/coupons/NOSUCHCODE12/void", {"reason": "x"})
    assert (voided.status_code, voided.json()["error"]["code"]) == (404, "unknown_code")


def test_conflicts_of_batches_and_void(admin_user, counter, channel):
    api = ApiClient(admin_user)
    template = counter["template"]
    CouponTemplate.objects.filter(pk=template.pk).update(is_active=False)
    refused = api.post(f"/coupon-templates/{template.pk}/batches", {"customer_ids": [1]})
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "template_inactive")
    code = counter["coupon"].code
    api.post(f"/coupons/{code}/redeem", {"order_id": counter["order"].pk})
    used = api.post(f"/coupons/{code}/void", {"reason": "作废"})
    assert (used.status_code, used.json()["error"]["code"]) == (409, "already_used")
    assert not CouponIssueBatch.objects.exclude(pk=counter["batch"].pk).exists()
