"""Coupons of high value need a second person: above the issuer's coupon value limit nothing is
issued, a request waits for an administrator (or a manager of another team where allowed), and
the approval issues the coupon once (or starts the batch), recording the approver."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from kehu.accounts.models import Notification, User
from kehu.accounts.roles import Role
from kehu.core.errors import RuleViolation
from kehu.customers.models import Customer
from kehu.loyalty.approvals.limits import limits_for
from kehu.loyalty.approvals.services import decide_approval
from kehu.loyalty.coupons.issuing import run_issue_batch
from kehu.loyalty.coupons.services import issue_coupon
from kehu.loyalty.models import (
    ApprovalRequest,
    Coupon,
    CouponIssueBatch,
    CouponTemplate,
    LoyaltySettings,
    StaffLimit,
)
from kehu.loyalty.tests.coupon_data import make_template
from kehu.loyalty.tests.points_data import in_english  # noqa: F401 - a fixture
from kehu.segments.models import Segment, SegmentMember
from tests.api_client import ApiClient
from tests.fixtures.people import PASSWORD, make_user
from tests.fixtures.records import make_customer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english")]


@pytest.fixture
def customer(sales) -> Customer:
    return make_customer(sales, name="王芳")


@pytest.fixture
def high(admin_user) -> CouponTemplate:
    """Worth ¥500: above the default limits of managers and marketing (¥200)."""
    return make_template(admin_user, name="大额券", amount_off=Decimal("500.00"))


@pytest.fixture
def north_manager_2(north_team) -> User:
    return make_user("manager_north_2", Role.MANAGER, north_team)


@pytest.fixture
def south_manager(south_team) -> User:
    return make_user("manager_south", Role.MANAGER, south_team)


def issue(user: User, template: CouponTemplate, customer: Customer, **extra):
    body = {"customer_id": customer.pk, **extra}
    return ApiClient(user).post(f"/coupon-templates/{template.pk}/coupons", body)


def allow_other_team_managers() -> None:
    LoyaltySettings.objects.filter(pk=LoyaltySettings.current().pk).update(
        other_team_managers_approve=True
    )


def client_for(user: User) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert client.login(username=user.username, password=PASSWORD)
    return client


# --- one coupon for one customer --------------------------------------------------------------


@pytest.mark.parametrize("issuer", ["marketer", "manager"])
def test_a_coupon_above_the_limit_answers_202_and_issues_nothing(issuer, request, high, customer):
    response = issue(request.getfixturevalue(issuer), high, customer)
    assert response.status_code == 202
    approval = response.json()["approval"]
    assert (approval["kind"], approval["status"], approval["template_id"]) == (
        "coupon",
        "pending",
        high.pk,
    )
    assert (approval["customer_id"], approval["coupon"]) == (customer.pk, None)
    assert Coupon.objects.count() == 0
    high.refresh_from_db()
    assert high.issued_count == 0


def test_an_administrator_approves_and_exactly_one_coupon_records_the_approver(
    marketer, admin_user, high, customer
):
    approval_id = issue(marketer, high, customer).json()["approval"]["id"]
    admin = ApiClient(admin_user)
    first = admin.post(f"/coupon-approvals/{approval_id}/approve", {"reason": "ok"})
    again = admin.post(f"/coupon-approvals/{approval_id}/approve", {})
    assert (first.status_code, again.status_code) == (200, 200)
    assert first.json()["status"] == "approved"
    assert first.json()["coupon"]["approved_by"] == "admin"
    assert again.json()["coupon"]["code"] == first.json()["coupon"]["code"]
    coupon = Coupon.objects.get()
    assert (coupon.customer, coupon.template, coupon.approved_by) == (customer, high, admin_user)
    read = ApiClient(marketer).get(f"/coupons/{coupon.code}")
    assert read.json()["approved_by"] == "admin"
    listed = ApiClient(marketer).get(f"/customers/{customer.pk}/coupons").json()
    assert [item["approved_by"] for item in listed] == ["admin"]


def test_the_same_key_answers_the_request_then_the_coupon(marketer, admin_user, high, customer):
    first = issue(marketer, high, customer, idempotency_key="crm-9")
    retry = issue(marketer, high, customer, idempotency_key="crm-9")
    assert (first.status_code, retry.status_code) == (202, 202)
    assert retry.json()["approval"]["id"] == first.json()["approval"]["id"]
    assert ApprovalRequest.objects.count() == 1
    decide_approval(admin_user, first.json()["approval"]["id"], approve=True)
    after = issue(marketer, high, customer, idempotency_key="crm-9")
    assert (after.status_code, after.json()["approved_by"]) == (200, "admin")
    assert Coupon.objects.count() == 1


def test_the_requester_cannot_approve_their_own_coupon(manager, high, customer):
    approval_id = issue(manager, high, customer).json()["approval"]["id"]
    response = ApiClient(manager).post(f"/coupon-approvals/{approval_id}/approve", {})
    assert (response.status_code, response.json()["error"]["code"]) == (403, "own_request")
    assert Coupon.objects.count() == 0
    assert ApprovalRequest.objects.get().status == "pending"


def test_a_manager_of_the_same_team_cannot_see_or_approve(manager, north_manager_2, high, customer):
    allow_other_team_managers()
    approval_id = issue(manager, high, customer).json()["approval"]["id"]
    colleague = ApiClient(north_manager_2)
    assert colleague.post(f"/coupon-approvals/{approval_id}/approve", {}).status_code == 404
    assert colleague.get(f"/coupon-approvals/{approval_id}").status_code == 404
    assert colleague.get("/coupon-approvals").json()["count"] == 0
    assert Coupon.objects.count() == 0


def test_a_manager_of_another_team_approves_where_the_settings_allow(
    manager, south_manager, high, customer
):
    approval_id = issue(manager, high, customer).json()["approval"]["id"]
    other = ApiClient(south_manager)
    assert other.post(f"/coupon-approvals/{approval_id}/approve", {}).status_code == 404
    allow_other_team_managers()
    response = other.post(f"/coupon-approvals/{approval_id}/approve", {})
    assert (response.status_code, response.json()["status"]) == (200, "approved")
    assert Coupon.objects.get().approved_by == south_manager
    # the code is a bearer credential of a customer they may not see: not shown to them
    assert response.json()["coupon"] is None
    assert other.get(f"/coupon-approvals/{approval_id}").json()["coupon"] is None
    assert other.get("/coupon-approvals?status=approved").json()["items"][0]["coupon"] is None
    requester = ApiClient(manager).get(f"/coupon-approvals/{approval_id}").json()
    assert requester["coupon"]["approved_by"] == "manager_south"


@pytest.mark.parametrize("role", ["sales", "service_agent", "analyst"])
def test_roles_that_do_not_run_the_programme_get_403(role, request, marketer, high, customer):
    approval_id = issue(marketer, high, customer).json()["approval"]["id"]
    api = ApiClient(request.getfixturevalue(role))
    assert api.get("/coupon-approvals").status_code == 403
    assert api.post(f"/coupon-approvals/{approval_id}/approve", {}).status_code == 403
    assert Coupon.objects.count() == 0


def test_another_marketer_does_not_see_the_request(marketer, high, customer):
    approval_id = issue(marketer, high, customer).json()["approval"]["id"]
    other = ApiClient(make_user("marketing_2", Role.MARKETING))
    assert other.post(f"/coupon-approvals/{approval_id}/approve", {}).status_code == 404
    assert other.get("/coupon-approvals").json()["count"] == 0
    assert Coupon.objects.count() == 0


def test_points_and_coupon_requests_are_kept_apart_in_the_api(marketer, admin_user, high, customer):
    approval_id = issue(marketer, high, customer).json()["approval"]["id"]
    admin = ApiClient(admin_user)
    assert admin.get(f"/points-approvals/{approval_id}").status_code == 404
    assert admin.post(f"/points-approvals/{approval_id}/approve", {}).status_code == 404
    assert admin.get("/points-approvals").json()["count"] == 0
    assert admin.get("/coupon-approvals").json()["count"] == 1
    assert Coupon.objects.count() == 0


def test_a_rejection_needs_a_reason_and_issues_nothing(marketer, admin_user, high, customer):
    approval_id = issue(marketer, high, customer).json()["approval"]["id"]
    admin = ApiClient(admin_user)
    no_reason = admin.post(f"/coupon-approvals/{approval_id}/reject", {"reason": " "})
    assert no_reason.status_code == 422
    rejected = admin.post(f"/coupon-approvals/{approval_id}/reject", {"reason": "太贵"})
    assert (rejected.status_code, rejected.json()["status"]) == (200, "rejected")
    late = admin.post(f"/coupon-approvals/{approval_id}/approve", {})
    assert (late.status_code, late.json()["error"]["code"]) == (409, "approval_already_decided")
    assert Coupon.objects.count() == 0


def test_an_approval_the_template_no_longer_allows_is_refused_and_stays_open(
    marketer, admin_user, high, customer
):
    approval_id = issue(marketer, high, customer).json()["approval"]["id"]
    CouponTemplate.objects.filter(pk=high.pk).update(is_active=False)
    response = ApiClient(admin_user).post(f"/coupon-approvals/{approval_id}/approve", {})
    assert (response.status_code, response.json()["error"]["code"]) == (409, "template_inactive")
    assert ApprovalRequest.objects.get().status == "pending"
    assert Coupon.objects.count() == 0


def test_within_the_limit_a_coupon_is_issued_at_once(marketer, admin_user, customer):
    small = make_template(admin_user, name="小额券", amount_off=Decimal("200.00"))
    response = issue(marketer, small, customer)
    assert (response.status_code, response.json()["approved_by"]) == (201, None)
    assert ApprovalRequest.objects.count() == 0


def test_an_administrator_issues_a_high_coupon_at_once(admin_user, high, customer):
    response = issue(admin_user, high, customer)
    assert response.status_code == 201
    assert ApprovalRequest.objects.count() == 0


# --- a percentage without a cap ---------------------------------------------------------------


def test_a_percentage_without_a_cap_needs_approval_below_any_finite_limit(
    marketer, admin_user, customer
):
    uncapped = make_template(
        admin_user,
        name="八折不封顶",
        kind="percent",
        amount_off=None,
        percent_off=Decimal("20"),
        max_discount=None,
    )
    StaffLimit.objects.filter(pk=limits_for(marketer).pk).update(coupon_face_value=1_000_000)
    response = issue(marketer, uncapped, customer)
    assert response.status_code == 202
    assert "no upper value" in response.json()["approval"]["reason"]
    assert Coupon.objects.count() == 0
    StaffLimit.objects.filter(role=Role.MARKETING).update(coupon_face_value=None)
    assert issue(marketer, uncapped, customer, idempotency_key="other").status_code == 201


# --- batches ----------------------------------------------------------------------------------


def make_segment(creator: User, customers: list[Customer]) -> Segment:
    segment = Segment.objects.create(name="高价值", kind="static", created_by=creator)
    SegmentMember.objects.bulk_create(
        SegmentMember(segment=segment, customer=member, joined_at=timezone.now())
        for member in customers
    )
    return segment


def test_a_batch_above_the_limit_waits_and_runs_on_approval(
    marketer, admin_user, sales, high, django_capture_on_commit_callbacks
):
    customers = [make_customer(sales) for _ in range(3)]
    segment = make_segment(marketer, customers)
    with django_capture_on_commit_callbacks(execute=True) as queued:
        response = ApiClient(marketer).post(
            f"/coupon-templates/{high.pk}/batches", {"segment_id": segment.pk}
        )
    assert response.status_code == 202
    body = response.json()
    assert (body["status"], body["approval"]["kind"], body["approval"]["batch_id"]) == (
        "awaiting",
        "coupon_batch",
        body["id"],
    )
    assert queued == []  # nothing was started
    assert Coupon.objects.count() == 0
    approval_id = body["approval"]["id"]
    with django_capture_on_commit_callbacks(execute=True) as started:
        approved = ApiClient(admin_user).post(f"/coupon-approvals/{approval_id}/approve", {})
    assert approved.status_code == 200
    # the batch starts once; its coupons' coupon.issued events are dispatched on their commit
    assert [callback.__qualname__.split(".")[0] for callback in started] == [
        "start_approved_batch",
        "arrange_dispatch",
    ]
    batch = CouponIssueBatch.objects.get()
    assert (batch.status, batch.issued) == ("done", 3)
    assert sorted(Coupon.objects.values_list("customer_id", flat=True)) == sorted(
        member.pk for member in customers
    )
    assert set(Coupon.objects.values_list("approved_by", flat=True)) == {admin_user.pk}
    with django_capture_on_commit_callbacks(execute=True) as again:
        ApiClient(admin_user).post(f"/coupon-approvals/{approval_id}/approve", {})
    assert again == [] and Coupon.objects.count() == 3


def test_a_rejected_batch_is_never_started(
    marketer, admin_user, customer, high, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        body = (
            ApiClient(marketer)
            .post(f"/coupon-templates/{high.pk}/batches", {"customer_ids": [customer.pk]})
            .json()
        )
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        decide_approval(admin_user, body["approval"]["id"], approve=False, reason="太贵")
    assert callbacks == []
    batch = CouponIssueBatch.objects.get()
    assert batch.status == "rejected"
    assert run_issue_batch(batch.pk).status == "rejected"  # a stray task issues nothing
    assert Coupon.objects.count() == 0


# --- alerts and pages -------------------------------------------------------------------------


def test_each_coupon_request_alerts_every_active_administrator(
    marketer, admin_user, high, customer
):
    make_user("admin_2", Role.ADMIN)
    issue(marketer, high, customer)
    rows = Notification.objects.filter(kind="coupon_approval").order_by("recipient__username")
    title = "Approval needed: coupon “大额券” for one customer"
    assert list(rows.values_list("recipient__username", "title")) == [
        ("admin", title),
        ("admin_2", title),
    ]


def test_the_pages_hold_a_high_coupon_and_approve_it_on_the_approvals_page(
    marketer, admin_user, high, customer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        page = client_for(marketer).post(
            reverse("loyalty:coupon_issue", args=[high.pk]),
            {"target": "list", "customers": str(customer.pk)},
            follow=True,
        )
    assert "the coupons await a second person&#x27;s approval" in page.content.decode()
    assert Coupon.objects.count() == 0
    approval = ApprovalRequest.objects.get()
    own = client_for(marketer).get(reverse("loyalty:approvals")).content.decode()
    assert "Waiting for approval" in own and "大额券" in own
    assert f'id="approval-{approval.pk}"' not in own  # not theirs to decide
    admin = client_for(admin_user)
    listing = admin.get(reverse("loyalty:approvals")).content.decode()
    assert f'id="approval-{approval.pk}"' in listing and "Approvals" in listing
    url = reverse("loyalty:approval_decide", args=[approval.pk, "approve"])
    with django_capture_on_commit_callbacks(execute=True):
        done = admin.post(url, {"reason": "ok"}, follow=True)
    assert "Approved: the coupons are being issued." in done.content.decode()
    coupon = Coupon.objects.get()
    assert coupon.approved_by == admin_user
    coupons = client_for(marketer).get(reverse("loyalty:coupon_customer", args=[customer.pk]))
    assert "approved by admin" in coupons.content.decode()


def test_the_list_of_coupon_requests_reads_a_fixed_number_of_queries(
    marketer, admin_user, sales, high
):
    def queries_for_list() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = ApiClient(admin_user).get("/coupon-approvals?status=approved")
        assert response.status_code == 200
        return len(captured)

    def approved_request() -> None:
        approval_id = issue(marketer, high, make_customer(sales)).json()["approval"]["id"]
        decide_approval(admin_user, approval_id, approve=True)

    approved_request()
    one = queries_for_list()
    for _ in range(3):
        approved_request()
    assert queries_for_list() == one
    listed = ApiClient(admin_user).get("/coupon-approvals?status=approved").json()
    assert listed["count"] == 4
    assert {item["coupon"]["approved_by"] for item in listed["items"]} == {"admin"}


def test_the_issuing_service_says_a_high_coupon_awaits_approval(marketer, high, customer):
    with pytest.raises(RuleViolation) as refusal:
        issue_coupon(marketer, high, customer.pk)
    assert refusal.value.code == "coupon_awaits_approval"
    assert refusal.value.details["approval_id"] == ApprovalRequest.objects.get().pk
    assert Coupon.objects.count() == 0
    assert issue_coupon(None, high, customer.pk).approved_by is None  # a programme reward
