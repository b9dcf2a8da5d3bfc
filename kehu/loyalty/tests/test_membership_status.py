"""Freezing, cancelling and reactivating a membership: the service's moves and refusals, the
ledger after a cancellation, redemption and earning while paused, the member page's history and
confirmation form, and the API route — roles, retries and nothing written when refused."""

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kehu.accounts.roles import Role
from kehu.core.errors import NotAllowed, RuleViolation
from kehu.loyalty.members.counter import earn_points_for_order
from kehu.loyalty.members.services import UnknownMember
from kehu.loyalty.members.status import allowed_moves, change_membership_status
from kehu.loyalty.models import (
    Membership,
    MembershipPause,
    PointsEntry,
    Redemption,
    RedemptionItem,
)
from kehu.loyalty.points.redemption import redeem_cash_offset, redeem_gift
from kehu.loyalty.points.services import award_points, check_balances, earn_for_order
from kehu.loyalty.tests.points_data import (  # noqa: F401 - in_english is a fixture
    assert_ledger_consistent,
    balance_of,
    in_english,
    make_member,
    make_order,
)
from tests.api_client import ApiClient
from tests.fixtures.people import PASSWORD, make_user
from tests.fixtures.records import make_customer

# The counter acts at the north team's store (SH01), where its people work.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english", "store")]

HOSTILE = '<script>alert("x")</script>'


@pytest.fixture
def member(sales):
    member = make_member(sales, name="王芳")
    award_points(member, 500, source="campaign", reason="开业", idempotency_key="open")
    return member


def state_of(member: Membership) -> tuple:
    """Everything a status request could write."""
    return (
        Membership.objects.filter(pk=member.pk).values_list("status", "points_balance").get(),
        list(MembershipPause.objects.order_by("pk").values_list("pk", "status", "ended_at")),
        list(PointsEntry.objects.order_by("pk").values_list("pk", "points", "remaining")),
    )


def assert_status_agrees(member: Membership) -> str:
    """An open pause exists exactly when the membership is not active, with its status."""
    status = Membership.objects.values_list("status", flat=True).get(pk=member.pk)
    open_pauses = list(
        MembershipPause.objects.filter(membership=member, ended_at__isnull=True).values_list(
            "status", flat=True
        )
    )
    assert open_pauses == ([] if status == "active" else [status])
    return status


# --- the service ------------------------------------------------------------------------------


def test_freezing_opens_a_pause_and_reactivating_closes_it(manager, member):
    frozen_at = timezone.now()
    change = change_membership_status(
        manager, member.customer_id, "frozen", "  出国半年  ", now=frozen_at
    )
    assert (change.changed, change.previous_status, change.forfeited) == (True, "active", 0)
    assert assert_status_agrees(member) == "frozen"
    pause = MembershipPause.objects.get(membership=member)
    assert (pause.status, pause.start_reason, pause.started_by, pause.started_at) == (
        "frozen",
        "出国半年",
        manager,
        frozen_at,
    )
    assert change.pause == pause
    back_at = frozen_at + timedelta(days=180)
    change = change_membership_status(manager, member.customer_id, "active", "回国", now=back_at)
    assert (change.changed, change.previous_status, change.pause) == (True, "frozen", None)
    assert assert_status_agrees(member) == "active"
    pause.refresh_from_db()
    assert (pause.ended_at, pause.end_reason, pause.ended_by) == (back_at, "回国", manager)
    assert balance_of(member) == 500  # freezing keeps the points


def test_asking_for_the_current_status_again_changes_nothing(admin_user, member):
    first = change_membership_status(admin_user, member.customer_id, "frozen", "暂停")
    before = state_of(member)
    again = change_membership_status(admin_user, member.customer_id, "frozen", "重复的请求")
    assert (again.changed, again.previous_status, again.pause) == (False, "frozen", first.pause)
    assert state_of(member) == before
    change_membership_status(admin_user, member.customer_id, "active", "恢复")
    before = state_of(member)
    active = change_membership_status(admin_user, member.customer_id, "active", "再次恢复")
    assert (active.changed, active.pause) == (False, None)
    assert state_of(member) == before


def test_cancelling_forfeits_the_balance_in_one_staff_adjustment(manager, member):
    change = change_membership_status(manager, member.customer_id, "cancelled", "客户要求注销")
    assert change.forfeited == 500
    assert assert_status_agrees(member) == "cancelled"
    entry = PointsEntry.objects.get(membership=member, points__lt=0)
    pause = MembershipPause.objects.get(membership=member)
    assert (entry.kind, entry.source, entry.points, entry.created_by) == (
        "adjust",
        "staff",
        -500,
        manager,
    )
    assert entry.reason == "Membership cancelled: 客户要求注销"
    assert entry.idempotency_key == f"membership-pause:{pause.pk}:forfeit"
    assert assert_ledger_consistent(member) == 0
    assert check_balances() == []


def test_cancelling_expires_due_points_before_forfeiting_the_rest(manager, member):
    long_ago = timezone.now() - timedelta(days=3 * 365)
    award_points(
        member, 80, source="campaign", reason="旧活动", idempotency_key="old", now=long_ago
    )
    change = change_membership_status(manager, member.customer_id, "cancelled", "注销")
    assert change.forfeited == 500
    kinds = sorted(PointsEntry.objects.filter(points__lt=0).values_list("kind", "points"))
    assert kinds == [("adjust", -500), ("expire", -80)]
    assert assert_ledger_consistent(member) == 0
    assert check_balances() == []


def test_cancelling_an_empty_balance_writes_no_entry(manager, sales):
    member = make_member(sales, name="空账户")
    change = change_membership_status(manager, member.customer_id, "cancelled", "注销")
    assert (change.changed, change.forfeited) == (True, 0)
    assert not PointsEntry.objects.filter(membership=member).exists()
    assert assert_status_agrees(member) == "cancelled"


def test_frozen_then_cancelled_closes_the_freeze_and_opens_a_cancellation(manager, member):
    change_membership_status(manager, member.customer_id, "frozen", "暂停")
    change = change_membership_status(manager, member.customer_id, "cancelled", "决定注销")
    assert (change.previous_status, change.forfeited) == ("frozen", 500)
    pauses = [
        (pause.status, pause.end_reason, pause.ended_at is None)
        for pause in MembershipPause.objects.filter(membership=member).order_by("pk")
    ]
    assert pauses == [("frozen", "决定注销", False), ("cancelled", "", True)]
    assert assert_status_agrees(member) == "cancelled"


def test_reactivating_a_cancelled_membership_gives_no_points_back(manager, member):
    change_membership_status(manager, member.customer_id, "cancelled", "注销")
    entries = PointsEntry.objects.count()
    change = change_membership_status(manager, member.customer_id, "active", "重新入会")
    assert (change.changed, change.forfeited) == (True, 0)
    assert assert_status_agrees(member) == "active"
    assert PointsEntry.objects.count() == entries
    assert assert_ledger_consistent(member) == 0
    award_points(member, 30, source="campaign", reason="回归", idempotency_key="back")
    assert balance_of(member) == 30


def test_a_cancelled_membership_is_reactivated_before_it_can_be_frozen(manager, member):
    assert allowed_moves("cancelled") == ("active",)
    assert set(allowed_moves("active")) == {"frozen", "cancelled"}
    assert set(allowed_moves("frozen")) == {"active", "cancelled"}
    change_membership_status(manager, member.customer_id, "cancelled", "注销")
    before = state_of(member)
    with pytest.raises(RuleViolation) as caught:
        change_membership_status(manager, member.customer_id, "frozen", "冻结")
    assert caught.value.code == "invalid_status_change"
    assert caught.value.message == ("A cancelled membership cannot be frozen; reactivate it first.")
    assert state_of(member) == before


@pytest.mark.parametrize(
    ("reason", "message"),
    [
        ("", "Say why the membership status changes."),
        ("   \n ", "Say why the membership status changes."),
        ("长" * 301, "Keep the reason within 300 characters."),
    ],
)
def test_a_reason_is_required_and_limited(manager, member, reason, message):
    before = state_of(member)
    with pytest.raises(ValidationError) as caught:
        change_membership_status(manager, member.customer_id, "frozen", reason)
    assert caught.value.message_dict == {"reason": [message]}
    assert state_of(member) == before


def test_a_reason_of_exactly_300_characters_is_kept_whole(manager, member):
    change_membership_status(manager, member.customer_id, "cancelled", " " + "长" * 300 + " ")
    assert MembershipPause.objects.get().start_reason == "长" * 300
    entry = PointsEntry.objects.get(kind="adjust")
    assert len(entry.reason) == 300  # the ledger's reason field is 300 long too


def test_an_unknown_status_is_refused(manager, member):
    with pytest.raises(ValidationError) as caught:
        change_membership_status(manager, member.customer_id, "deleted", "试试")
    assert list(caught.value.message_dict) == ["status"]


@pytest.mark.parametrize("role", ["sales", "service_agent", "marketer", "analyst"])
def test_only_administrators_and_managers_change_memberships(request, member, role):
    before = state_of(member)
    with pytest.raises(NotAllowed):
        change_membership_status(request.getfixturevalue(role), member.customer_id, "frozen", "x")
    assert state_of(member) == before


def test_a_customer_outside_the_users_customers_is_not_found(manager, south_sales):
    south_member = make_member(south_sales, name="陈静")
    with pytest.raises(Http404):
        change_membership_status(manager, south_member.customer_id, "frozen", "冻结")
    newcomer = make_customer(None, name="新客")
    with pytest.raises(UnknownMember):
        change_membership_status(manager, newcomer.pk, "frozen", "冻结")
    assert not MembershipPause.objects.exists()


# --- the other paths respect the status -------------------------------------------------------


def test_nothing_is_redeemed_while_frozen(manager, sales, member):
    gift = RedemptionItem.objects.create(name="雨伞", points_cost=100, stock=5)
    change_membership_status(manager, member.customer_id, "frozen", "暂停")
    before = state_of(member)
    with pytest.raises(RuleViolation) as caught:
        redeem_gift(sales, member.customer_id, gift.pk, idempotency_key="g1")
    assert caught.value.code == "membership_not_active"
    assert caught.value.message == (
        "The membership is not active (Frozen): points cannot be earned or redeemed."
    )
    with pytest.raises(RuleViolation) as caught:
        redeem_cash_offset(sales, member.customer_id, Decimal("1.00"), idempotency_key="c1")
    assert caught.value.code == "membership_not_active"
    assert state_of(member) == before
    assert (Redemption.objects.count(), RedemptionItem.objects.get().stock) == (0, 5)
    change_membership_status(manager, member.customer_id, "active", "恢复")
    assert redeem_gift(sales, member.customer_id, gift.pk, idempotency_key="g1").created
    assert balance_of(member) == 400


def test_no_points_are_awarded_while_frozen_but_a_retried_award_answers_the_first(manager, member):
    change_membership_status(manager, member.customer_id, "frozen", "暂停")
    before = state_of(member)
    with pytest.raises(RuleViolation) as caught:
        award_points(member, 50, source="campaign", reason="双11", idempotency_key="d11")
    assert caught.value.code == "membership_not_active"
    assert state_of(member) == before
    retried = award_points(member, 500, source="campaign", reason="开业", idempotency_key="open")
    assert (retried.points, state_of(member)) == (500, before)


def test_no_order_earns_while_frozen_or_cancelled(manager, sales, member):
    for status in ("frozen", "cancelled"):
        change_membership_status(manager, member.customer_id, status, "暂停")
        order = make_order(member.customer, "100.00")
        assert earn_for_order(order) is None
        with pytest.raises(RuleViolation) as caught:
            earn_points_for_order(sales, member.customer_id, order.pk)
        assert caught.value.code == "membership_not_active"
    assert not PointsEntry.objects.filter(kind="earn", order__isnull=False).exists()


# --- pages ------------------------------------------------------------------------------------


def client_for(user, **options) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en", **options)
    assert client.login(username=user.username, password=PASSWORD)
    return client


def status_url(member: Membership, status: str) -> str:
    return reverse("loyalty:member_status", args=[member.customer_id, status])


def test_the_member_page_shows_the_status_history_and_the_buttons(manager, member):
    change_membership_status(manager, member.customer_id, "frozen", "出国")
    page = client_for(manager).get(reverse("loyalty:member", args=[member.customer_id]))
    html = page.content.decode()
    assert 'id="membership-status" data-status="frozen">Frozen</span>' in html
    assert 'id="pause-history"' in html and "出国" in html and "still in force" in html
    assert status_url(member, "active") in html
    assert status_url(member, "cancelled") in html
    assert status_url(member, "frozen") not in html


def test_the_buttons_are_only_for_roles_that_may_change_memberships(sales, member):
    html = client_for(sales).get(reverse("loyalty:member", args=[member.customer_id])).content
    html = html.decode()
    assert 'data-status="active">Active</span>' in html
    assert "Active since enrolment: never frozen or cancelled." in html
    assert status_url(member, "frozen") not in html
    assert client_for(sales).get(status_url(member, "frozen")).status_code == 403
    assert client_for(sales).post(status_url(member, "frozen"), {"reason": "x"}).status_code == 403
    assert assert_status_agrees(member) == "active"


def test_cancelling_warns_how_many_points_are_forfeited(manager, member):
    html = client_for(manager).get(status_url(member, "cancelled")).content.decode()
    assert "Cancelling forfeits the whole balance: 500 points." in html
    assert "Unused coupons stay with the customer." in html
    assert 'name="reason"' in html and "csrfmiddlewaretoken" in html


def test_confirming_with_a_reason_changes_the_status_and_says_so(manager, member):
    client = client_for(manager)
    response = client.post(status_url(member, "cancelled"), {"reason": "注销"}, follow=True)
    assert response.redirect_chain == [(reverse("loyalty:member", args=[member.customer_id]), 302)]
    assert "The membership is cancelled; 500 points were forfeited." in response.content.decode()
    assert assert_status_agrees(member) == "cancelled"
    page = client.get(status_url(member, "active")).content.decode()
    assert "Reactivating does not give back the points forfeited at cancellation" in page
    response = client.post(status_url(member, "active"), {"reason": "回来了"}, follow=True)
    assert "The membership is active again." in response.content.decode()
    response = client.post(status_url(member, "active"), {"reason": "又点了一次"}, follow=True)
    assert "The membership was active already; nothing changed." in response.content.decode()
    assert balance_of(member) == 0


def test_the_form_needs_a_reason_and_a_refused_move_is_shown(manager, member):
    client = client_for(manager)
    before = state_of(member)
    response = client.post(status_url(member, "frozen"), {"reason": "  "})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert state_of(member) == before
    change_membership_status(manager, member.customer_id, "cancelled", "注销")
    response = client.post(status_url(member, "frozen"), {"reason": "冻结"})
    assert response.status_code == 400
    assert "cannot be frozen; reactivate it first." in response.content.decode()
    assert client.get(status_url(member, "deleted")).status_code == 404


def test_the_form_is_refused_without_the_csrf_token(manager, member):
    client = client_for(manager, enforce_csrf_checks=True)
    assert client.post(status_url(member, "frozen"), {"reason": "冻结"}).status_code == 403
    assert assert_status_agrees(member) == "active"


def test_hostile_reasons_are_shown_as_text(manager, member):
    change_membership_status(manager, member.customer_id, "frozen", HOSTILE)
    change_membership_status(manager, member.customer_id, "active", HOSTILE)
    html = client_for(manager).get(reverse("loyalty:member", args=[member.customer_id]))
    html = html.content.decode()
    assert HOSTILE not in html
    assert html.count("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;") == 2


def test_a_manager_cannot_reach_another_teams_member(manager, south_sales):
    south_member = make_member(south_sales, name="陈静")
    client = client_for(manager)
    assert client.get(status_url(south_member, "frozen")).status_code == 404
    assert client.post(status_url(south_member, "frozen"), {"reason": "x"}).status_code == 404
    assert assert_status_agrees(south_member) == "active"


# --- the API ----------------------------------------------------------------------------------

API_ROLES = [
    ("admin_user", 200),
    ("manager", 200),
    ("sales", 403),
    ("other_sales", 403),
    ("south_sales", 403),
    ("service_agent", 403),
    ("marketer", 403),
    ("analyst", 403),
]


def api_path(member: Membership) -> str:
    return f"/members/{member.customer_id}/status"


@pytest.mark.parametrize(("role", "expected"), API_ROLES)
def test_api_roles(request, member, role, expected):
    before = state_of(member)
    response = ApiClient(request.getfixturevalue(role)).post(
        api_path(member), {"status": "frozen", "reason": "暂停"}
    )
    assert response.status_code == expected, response.content
    if expected >= 400:
        assert response.json()["error"]["code"] == "not_allowed"
    assert (state_of(member) != before) is (expected == 200)


def test_api_answers_the_membership_and_its_pause(manager, member):
    api = ApiClient(manager)
    response = api.post(api_path(member), {"status": "cancelled", "reason": "注销"})
    assert response.status_code == 200
    body = response.json()
    pause = MembershipPause.objects.get()
    assert body == {
        "customer_id": member.customer_id,
        "card_number": member.card_number,
        "status": "cancelled",
        "changed": True,
        "forfeited_points": 500,
        "points_balance": 0,
        "pause": {
            "id": pause.pk,
            "status": "cancelled",
            "started_at": body["pause"]["started_at"],
            "reason": "注销",
            "started_by": "manager_north",
        },
    }
    started_at = datetime.fromisoformat(body["pause"]["started_at"])
    assert abs(started_at - pause.started_at) < timedelta(milliseconds=1)  # JSON keeps ms
    again = api.post(api_path(member), {"status": "cancelled", "reason": "重试"}).json()
    assert (again["changed"], again["forfeited_points"], again["pause"]["id"]) == (
        False,
        0,
        pause.pk,
    )
    active = api.post(api_path(member), {"status": "active", "reason": "恢复"}).json()
    assert (active["status"], active["pause"], active["points_balance"]) == ("active", None, 0)


def test_api_refusals_change_nothing(manager, member, south_sales):
    api = ApiClient(manager)
    before = state_of(member)
    response = api.post(api_path(member), {"status": "frozen", "reason": " "})
    assert response.status_code == 422
    assert response.json()["error"]["fields"][0]["path"] == ["body", "reason"]
    response = api.post(api_path(member), {"status": "frozen"})
    assert response.status_code == 422
    response = api.post(api_path(member), {"status": "gone", "reason": "x"})
    assert response.status_code == 422
    response = api.post(api_path(member), {"status": "frozen", "reason": "x", "extra": 1})
    assert response.status_code == 422
    assert state_of(member) == before
    newcomer = make_customer(None, name="新客")
    response = api.post(f"/members/{newcomer.pk}/status", {"status": "frozen", "reason": "x"})
    assert (response.status_code, response.json()["error"]["code"]) == (404, "unknown_member")
    south_member = make_member(south_sales, name="陈静")
    response = api.post(api_path(south_member), {"status": "frozen", "reason": "x"})
    assert (response.status_code, response.json()["error"]["code"]) == (404, "not_found")
    change_membership_status(manager, member.customer_id, "cancelled", "注销")
    before = state_of(member)
    response = api.post(api_path(member), {"status": "frozen", "reason": "x"})
    assert (response.status_code, response.json()["error"]["code"]) == (
        409,
        "invalid_status_change",
    )
    assert state_of(member) == before


def test_api_without_a_token_answers_401(member):
    response = ApiClient().post(api_path(member), {"status": "frozen", "reason": "x"})
    assert (response.status_code, response.json()["error"]["code"]) == (401, "not_authenticated")
    assert assert_status_agrees(member) == "active"


def test_a_manager_of_another_team_gets_404_from_the_api(member, south_team):
    south_manager = make_user("manager_south", Role.MANAGER, south_team)
    response = ApiClient(south_manager).post(api_path(member), {"status": "frozen", "reason": "x"})
    assert response.status_code == 404
    assert assert_status_agrees(member) == "active"
