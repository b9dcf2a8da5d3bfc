"""Points are money: staff adjustments within per-role limits, a second person's approval above
them, alerts to the administrators, cash offsets bounded by their order, and coupons of high
value waiting for approval (kehu/loyalty/tests/test_coupon_approvals.py has the rest)."""

import itertools
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from kehu.accounts.models import Notification, Team, User
from kehu.accounts.roles import Role
from kehu.core.errors import NotAllowed
from kehu.loyalty.approvals.services import decide_approval
from kehu.loyalty.models import (
    ApprovalRequest,
    LoyaltySettings,
    Membership,
    PointsEntry,
    Redemption,
)
from kehu.loyalty.points.adjustments import adjust_points
from kehu.loyalty.points.services import award_points
from kehu.loyalty.tests.coupon_data import make_template
from kehu.loyalty.tests.points_data import (  # noqa: F401 - in_english is a fixture
    assert_ledger_consistent,
    in_english,
    make_member,
    make_order,
)
from tests.api_client import ApiClient
from tests.fixtures.people import PASSWORD, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english")]


@pytest.fixture
def member(manager) -> Membership:
    member = make_member(manager, name="王芳")
    award_points(member, 3000, source="campaign", reason="活动", idempotency_key="camp")
    return member


@pytest.fixture
def north_manager_2(north_team) -> User:
    return make_user("manager_north_2", Role.MANAGER, north_team)


@pytest.fixture
def south_manager(south_team) -> User:
    return make_user("manager_south", Role.MANAGER, south_team)


def balance(member: Membership) -> int:
    return Membership.objects.get(pk=member.pk).points_balance


def adjust(api: ApiClient, member: Membership, points: int, key: str = "k1"):
    return api.post(
        f"/members/{member.customer_id}/adjust",
        {"idempotency_key": key, "points": points, "reason": "补录"},
    )


def client_for(user: User) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert client.login(username=user.username, password=PASSWORD)
    return client


# --- the hard ceiling -------------------------------------------------------------------------


@pytest.mark.parametrize("points", [999_999_999_999, -999_999_999_999, 2**70, 10_000_001])
def test_an_absurd_adjustment_answers_422_and_changes_nothing(manager, admin_user, member, points):
    for user in (manager, admin_user):
        response = adjust(ApiClient(user), member, points)
        assert response.status_code == 422
        assert response.json()["error"]["fields"][0]["path"][-1] == "points"
    assert balance(member) == 3000
    assert PointsEntry.objects.filter(kind="adjust").count() == 0
    assert ApprovalRequest.objects.count() == 0


def test_the_service_and_the_form_refuse_an_absurd_adjustment_too(admin_user, member):
    with pytest.raises(ValidationError) as refusal:
        adjust_points(admin_user, member.customer_id, 999_999_999_999, "x", idempotency_key="a")
    assert "points" in refusal.value.message_dict
    page = client_for(admin_user).post(
        reverse("loyalty:adjust", args=[member.customer_id]),
        {"points": "999999999999", "reason": "x", "token": "t1"},
    )
    assert page.status_code == 400
    assert "Ensure this value is less than or equal to 10000000." in page.content.decode()
    assert balance(member) == 3000


# --- above the limit: a request for approval --------------------------------------------------


def test_above_the_limit_the_adjustment_waits_for_approval(manager, member):
    response = adjust(ApiClient(manager), member, 5000)
    assert response.status_code == 202
    body = response.json()
    assert (body["balance"], body["approval"]["status"], body["approval"]["points"]) == (
        3000,
        "pending",
        5000,
    )
    assert (body["approval"]["requested_by"], body["approval"]["entry"]) == ("manager_north", None)
    assert balance(member) == 3000
    assert PointsEntry.objects.filter(kind="adjust").count() == 0
    retry = adjust(ApiClient(manager), member, 5000)
    assert (retry.status_code, retry.json()["approval"]["id"]) == (202, body["approval"]["id"])
    assert ApprovalRequest.objects.count() == 1


def test_within_the_limit_the_adjustment_is_written_at_once(manager, member):
    response = adjust(ApiClient(manager), member, 2000)
    assert response.status_code == 201
    assert response.json()["entry"]["approved_by"] is None
    assert balance(member) == 5000
    assert ApprovalRequest.objects.count() == 0


def test_taking_points_counts_against_the_limit_too(manager, member):
    assert adjust(ApiClient(manager), member, -2500).status_code == 202
    assert balance(member) == 3000


def test_an_administrator_approves_and_the_entry_records_the_approver(manager, admin_user, member):
    approval_id = adjust(ApiClient(manager), member, 5000).json()["approval"]["id"]
    admin = ApiClient(admin_user)
    response = admin.post(f"/points-approvals/{approval_id}/approve", {"reason": "已核实"})
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["decided_by"], body["decision_reason"]) == (
        "approved",
        "admin",
        "已核实",
    )
    assert (body["entry"]["points"], body["entry"]["created_by"]) == (5000, "manager_north")
    assert body["entry"]["approved_by"] == "admin"
    assert balance(member) == 8000
    again = admin.post(f"/points-approvals/{approval_id}/approve", {})
    assert (again.status_code, again.json()["entry"]["id"]) == (200, body["entry"]["id"])
    assert PointsEntry.objects.filter(kind="adjust").count() == 1
    assert assert_ledger_consistent(member) == 8000
    statement = ApiClient(manager).get(f"/members/{member.customer_id}/statement").json()
    assert statement["items"][0]["approved_by"] == "admin"
    page = client_for(manager).get(reverse("loyalty:member", args=[member.customer_id]))
    assert "approved by admin" in page.content.decode()
    retry = adjust(ApiClient(manager), member, 5000)  # the request's key now answers the entry
    assert (retry.status_code, retry.json()["entry"]["approved_by"]) == (200, "admin")


def test_the_requester_cannot_approve_their_own_request(manager, admin_user, member):
    approval_id = adjust(ApiClient(manager), member, 5000).json()["approval"]["id"]
    response = ApiClient(manager).post(f"/points-approvals/{approval_id}/approve", {})
    assert (response.status_code, response.json()["error"]["code"]) == (403, "own_request")
    assert balance(member) == 3000
    assert ApprovalRequest.objects.get().status == "pending"
    # an administrator's own request needs another administrator as well
    request = adjust_points(admin_user, member.customer_id, 1, "x", idempotency_key="a")
    assert request.entry is not None  # administrators have no limit by default


def test_a_manager_of_the_same_team_cannot_approve(manager, north_manager_2, member):
    LoyaltySettings.objects.filter(pk=LoyaltySettings.current().pk).update(
        other_team_managers_approve=True
    )
    approval_id = adjust(ApiClient(manager), member, 5000).json()["approval"]["id"]
    colleague = ApiClient(north_manager_2)
    assert colleague.post(f"/points-approvals/{approval_id}/approve", {}).status_code == 404
    assert colleague.get(f"/points-approvals/{approval_id}").status_code == 404
    assert colleague.get("/points-approvals").json()["count"] == 0
    assert balance(member) == 3000
    assert ApprovalRequest.objects.get().status == "pending"


def test_a_manager_of_another_team_approves_only_where_the_settings_allow(
    manager, south_manager, member
):
    approval_id = adjust(ApiClient(manager), member, 5000).json()["approval"]["id"]
    other = ApiClient(south_manager)
    assert other.post(f"/points-approvals/{approval_id}/approve", {}).status_code == 404
    assert balance(member) == 3000
    LoyaltySettings.objects.filter(pk=LoyaltySettings.current().pk).update(
        other_team_managers_approve=True
    )
    assert other.get("/points-approvals").json()["count"] == 1
    response = other.post(f"/points-approvals/{approval_id}/approve", {})
    assert (response.status_code, response.json()["entry"]["approved_by"]) == (
        200,
        "manager_south",
    )
    assert balance(member) == 8000


@pytest.mark.parametrize("role", ["sales", "service_agent", "marketer", "analyst"])
def test_roles_that_do_not_adjust_points_get_403(role, request, manager, member):
    approval_id = adjust(ApiClient(manager), member, 5000).json()["approval"]["id"]
    api = ApiClient(request.getfixturevalue(role))
    assert api.get("/points-approvals").status_code == 403
    assert api.post(f"/points-approvals/{approval_id}/approve", {}).status_code == 403
    page = client_for(request.getfixturevalue(role))
    if role == "marketer":  # the page lists marketing's own coupon requests, not this one
        listing = page.get(reverse("loyalty:approvals"))
        assert f'id="approval-{approval_id}"' not in listing.content.decode()
        url = reverse("loyalty:approval_decide", args=[approval_id, "approve"])
        assert page.post(url, {"reason": "ok"}).status_code == 404
    else:
        assert page.get(reverse("loyalty:approvals")).status_code == 403
    assert balance(member) == 3000


def test_a_rejection_needs_a_reason_and_moves_nothing(manager, admin_user, member):
    approval_id = adjust(ApiClient(manager), member, 5000).json()["approval"]["id"]
    admin = ApiClient(admin_user)
    assert admin.post(f"/points-approvals/{approval_id}/reject", {}).status_code == 422
    response = admin.post(f"/points-approvals/{approval_id}/reject", {"reason": "无依据"})
    assert (response.status_code, response.json()["status"]) == (200, "rejected")
    late = admin.post(f"/points-approvals/{approval_id}/approve", {})
    assert (late.status_code, late.json()["error"]["code"]) == (409, "approval_already_decided")
    assert balance(member) == 3000
    assert PointsEntry.objects.filter(kind="adjust").count() == 0


def test_an_approval_that_takes_more_than_the_balance_is_refused_and_stays_open(
    manager, admin_user, member
):
    approval = adjust_points(manager, member.customer_id, -2500, "扣除", idempotency_key="t")
    assert approval.approval is not None
    adjust_points(admin_user, member.customer_id, -1000, "扣除", idempotency_key="t2")
    response = ApiClient(admin_user).post(f"/points-approvals/{approval.approval.pk}/approve", {})
    assert (response.status_code, response.json()["error"]["code"]) == (409, "insufficient_points")
    assert ApprovalRequest.objects.get().status == "pending"
    assert balance(member) == 2000


# --- the daily limit --------------------------------------------------------------------------


def test_the_daily_limit_sums_a_persons_adjustments_either_way(manager, admin_user, member):
    for index, points in enumerate([2000, -2000, 2000, 2000, 2000]):
        result = adjust_points(
            manager, member.customer_id, points, "x", idempotency_key=f"d{index}"
        )
        assert result.entry is not None
    assert balance(member) == 9000
    over = adjust_points(manager, member.customer_id, 1, "x", idempotency_key="over")
    assert (over.entry, over.approval.points) == (None, 1)
    assert balance(member) == 9000
    decide_approval(admin_user, over.approval.pk, approve=True)
    assert balance(member) == 9001
    # the approved one does not count against the day: the next is still held back
    again = adjust_points(manager, member.customer_id, 1, "x", idempotency_key="again")
    assert again.entry is None


def test_the_limits_are_set_by_an_administrator(manager, admin_user, member):
    url = reverse("loyalty:programme")
    form = limits_form(manager=("100", "", "", ""))
    assert client_for(manager).post(url, form).status_code == 403
    assert client_for(admin_user).post(url, form).status_code == 302
    assert adjust_points(manager, member.customer_id, 101, "x", idempotency_key="a").entry is None
    assert adjust_points(manager, member.customer_id, 100, "x", idempotency_key="b").entry
    bad = client_for(admin_user).post(url, limits_form(manager=("-1", "", "", "")))
    assert bad.status_code == 400


def test_the_alert_settings_refuse_absurd_numbers(admin_user):
    form = {
        "action": "settings",
        "points_per_yuan": "1",
        "points_expire_months": "24",
        "points_per_yuan_offset": "100",
        "tier_basis": "spend",
        "downgrade_grace_days": "30",
        "referrer_reward_points": "200",
        "referee_reward_points": "100",
        "referral_min_order": "50",
        "referrals_per_referrer_cap": "20",
        "card_prefix": "8",
        "adjustment_alert_points": "99999999999999999999",
        "repeat_adjustments_alert": "2",
        "other_team_managers_approve": "on",
    }
    page = client_for(admin_user).post(reverse("loyalty:programme"), form)
    assert page.status_code == 400
    assert 'has-error" id="field-adjustment_alert_points"' in page.content.decode()
    assert LoyaltySettings.current().other_team_managers_approve is False
    form["adjustment_alert_points"] = "10000001"  # past the form, the service refuses it
    page = client_for(admin_user).post(reverse("loyalty:programme"), form)
    assert "Enter a number from 0 to 10000000." in page.content.decode()
    form["adjustment_alert_points"] = "500"
    assert client_for(admin_user).post(reverse("loyalty:programme"), form).status_code == 302
    saved = LoyaltySettings.current()
    assert (saved.adjustment_alert_points, saved.repeat_adjustments_alert) == (500, 2)
    assert saved.other_team_managers_approve is True


def limits_form(**rows: tuple[str, str, str, str]) -> dict[str, str]:
    data = {"action": "limits", "limits-TOTAL_FORMS": "6", "limits-INITIAL_FORMS": "6"}
    roles = ["admin", "manager", "sales", "service", "marketing", "analyst"]
    for index, role in enumerate(roles):
        values = rows.get(role, ("", "", "", ""))
        data |= {
            f"limits-{index}-role": role,
            f"limits-{index}-points_per_adjustment": values[0],
            f"limits-{index}-points_per_day": values[1],
            f"limits-{index}-offset_without_order": values[2],
            f"limits-{index}-coupon_face_value": values[3],
        }
    return data


# --- pages ------------------------------------------------------------------------------------


def test_the_member_page_says_the_adjustment_waits_for_approval(manager, member):
    page = client_for(manager).post(
        reverse("loyalty:adjust", args=[member.customer_id]),
        {"points": "5000", "reason": "补录", "token": "t1"},
        follow=True,
    )
    html = page.content.decode()
    assert "Above your limit: the adjustment was sent for approval." in html
    assert 'id="pending-approvals"' in html and "+5,000 · 补录" in html
    assert balance(member) == 3000


def test_the_approvals_page_lists_requests_and_decides_them(manager, admin_user, member):
    empty = client_for(admin_user).get(reverse("loyalty:approvals"))
    assert "Nothing is waiting for your approval." in empty.content.decode()
    approval = adjust_points(manager, member.customer_id, 5000, "补录", idempotency_key="p")
    admin = client_for(admin_user)
    listing = admin.get(reverse("loyalty:approvals")).content.decode()
    assert f'id="approval-{approval.approval.pk}"' in listing
    assert ">Approvals<" in listing  # in the menu
    own = client_for(manager).get(reverse("loyalty:approvals")).content.decode()
    assert f'id="approval-{approval.approval.pk}"' not in own  # not theirs to decide
    assert "Waiting for approval" in own  # but listed among their requests
    url = reverse("loyalty:approval_decide", args=[approval.approval.pk, "approve"])
    response = admin.post(url, {"reason": "ok"}, follow=True)
    assert "Approved: the points were adjusted." in response.content.decode()
    assert balance(member) == 8000
    assert PointsEntry.objects.get(kind="adjust").approved_by == admin_user


def test_a_request_of_another_team_is_not_found_on_the_page(manager, north_manager_2, member):
    approval = adjust_points(manager, member.customer_id, 5000, "补录", idempotency_key="p")
    url = reverse("loyalty:approval_decide", args=[approval.approval.pk, "approve"])
    assert client_for(north_manager_2).post(url, {"reason": ""}).status_code == 404
    assert balance(member) == 3000


# --- alerts -----------------------------------------------------------------------------------


@pytest.fixture
def admins(admin_user) -> list[User]:
    second = make_user("admin_2", Role.ADMIN)
    retired = make_user("admin_retired", Role.ADMIN)
    retired.is_active = False
    retired.save()
    return [admin_user, second]


def alerts(kind: str) -> list[tuple[str, str]]:
    rows = Notification.objects.filter(kind=kind).order_by("recipient__username")
    return list(rows.values_list("recipient__username", "title"))


def test_a_request_for_approval_alerts_every_active_administrator(manager, admins, member):
    adjust_points(manager, member.customer_id, 5000, "补录", idempotency_key="p")
    card = member.card_number
    title = f"Approval needed: +5000 points for card {card}"
    assert alerts("points_approval") == [("admin", title), ("admin_2", title)]


def test_a_large_adjustment_alerts_the_administrators_but_a_small_one_does_not(
    manager, admins, member
):
    adjust_points(manager, member.customer_id, 999, "补录", idempotency_key="small")
    assert alerts("points_alert") == []
    adjust_points(manager, member.customer_id, -1000, "扣除", idempotency_key="large")
    title = f"Large points adjustment: -1000 points for card {member.card_number}"
    assert alerts("points_alert") == [("admin", title), ("admin_2", title)]


def test_an_administrators_own_large_adjustment_alerts_the_others(admins, member):
    adjust_points(admins[0], member.customer_id, 50_000, "补录", idempotency_key="large")
    assert [name for name, _title in alerts("points_alert")] == ["admin_2"]


def test_repeated_adjustments_of_one_member_alert_once(manager, admins, member):
    for index in range(4):
        adjust_points(manager, member.customer_id, 10, "补录", idempotency_key=f"r{index}")
    title = f"3 adjustments of card {member.card_number} by one person today"
    assert alerts("points_alert") == [("admin", title), ("admin_2", title)]


# --- cash offsets -----------------------------------------------------------------------------


@pytest.fixture
def sales_member(sales, store) -> Membership:
    """A member of the salesperson's, served at the north team's store (where its staff work)."""
    member = make_member(sales, name="李娜")
    award_points(member, 3000, source="campaign", reason="活动", idempotency_key="camp-sales")
    return member


def redeem_cash(api: ApiClient, member: Membership, amount: str, **extra):
    body = {"idempotency_key": f"cash-{amount}-{extra}", "cash_amount": amount, **extra}
    return api.post(f"/members/{member.customer_id}/redeem", body)


AMOUNTS = ["9999999999.00", "6000.00"]


def test_a_huge_cash_offset_without_an_order_is_refused(sales, manager, admin_user, sales_member):
    award_points(sales_member, 10**9, source="campaign", reason="x", idempotency_key="huge")
    # ¥6000 is 600,000 points, well within the balance: only the missing order stops it
    for user, amount in itertools.product((sales, manager, admin_user), AMOUNTS):
        response = redeem_cash(ApiClient(user), sales_member, amount)
        assert (response.status_code, response.json()["error"]["code"]) == (
            409,
            "offset_needs_order",
        )
        assert response.json()["error"]["fields"][0]["path"][-1] == "order_id"
    assert Redemption.objects.count() == 0
    assert balance(sales_member) == 10**9 + 3000


def test_a_small_cash_offset_without_an_order_still_works(sales, sales_member):
    response = redeem_cash(ApiClient(sales), sales_member, "5.00")
    assert (response.status_code, response.json()["points"]) == (201, 500)


def test_a_cash_offset_never_exceeds_its_order(sales, sales_member):
    order = make_order(sales_member.customer, "20.00")
    api = ApiClient(sales)
    first = redeem_cash(api, sales_member, "15.00", order_id=order.pk)
    assert first.status_code == 201
    over = redeem_cash(api, sales_member, "5.01", order_id=order.pk)
    assert (over.status_code, over.json()["error"]["code"]) == (409, "offset_exceeds_order")
    assert Redemption.objects.count() == 1
    assert balance(sales_member) == 1500


# --- coupons of high value --------------------------------------------------------------------


def test_a_coupon_above_the_roles_value_waits_for_staff_and_is_issued_by_an_admin(
    marketer, admin_user, manager, member
):
    template = make_template(admin_user, name="大额券", amount_off=Decimal("500.00"))
    capped = make_template(
        admin_user,
        name="八折封顶800",
        kind="percent",
        amount_off=None,
        percent_off=Decimal("20"),
        max_discount=Decimal("800.00"),
    )
    customer_id = member.customer_id
    for user in (marketer, manager):
        api = ApiClient(user)
        for high in (template, capped):
            single = api.post(f"/coupon-templates/{high.pk}/coupons", {"customer_id": customer_id})
            assert (single.status_code, single.json()["approval"]["status"]) == (202, "pending")
            batch = api.post(
                f"/coupon-templates/{high.pk}/batches", {"customer_ids": [customer_id]}
            )
            assert (batch.status_code, batch.json()["status"]) == (202, "awaiting")
    assert template.coupons.count() == capped.coupons.count() == 0
    assert ApprovalRequest.objects.filter(kind="coupon").count() == 4
    assert ApprovalRequest.objects.filter(kind="coupon_batch").count() == 4
    response = ApiClient(admin_user).post(
        f"/coupon-templates/{template.pk}/coupons", {"customer_id": customer_id}
    )
    assert response.status_code == 201
    small = make_template(admin_user, name="小额券", amount_off=Decimal("20.00"))
    assert (
        ApiClient(marketer)
        .post(f"/coupon-templates/{small.pk}/coupons", {"customer_id": customer_id})
        .status_code
        == 201
    )


def test_denying_the_right_is_not_found_for_unknown_requests(admin_user):
    with pytest.raises(NotAllowed):
        decide_approval(make_user("s", Role.SALES, Team.objects.create(name="t")), 1, approve=True)
    assert ApiClient(admin_user).get("/points-approvals/999999").status_code == 404
