"""Member pages: the list, the member page, enrolment from the customer page, adjustments, the
counter, programme settings, gifts and the report — roles, results and refusals."""

import csv
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kehu.loyalty.models import (
    LoyaltySettings,
    Membership,
    PointsEntry,
    Redemption,
    RedemptionItem,
    Tier,
)
from kehu.loyalty.points.services import award_points, earn_for_order
from kehu.loyalty.tests.points_data import (  # noqa: F401 - in_english is a fixture
    assert_ledger_consistent,
    in_english,
    make_member,
    make_order,
)
from tests.fixtures.people import PASSWORD
from tests.fixtures.records import make_customer

# The counter acts at the north team's store (SH01), where its people work.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english", "store")]


def client_for(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert client.login(username=user.username, password=PASSWORD)
    return client


@pytest.fixture
def member(sales):
    member = make_member(sales, name="王芳", mobile="13912345678")
    earn_for_order(make_order(member.customer, "300.00"))
    award_points(member, 200, source="campaign", reason="开业", idempotency_key="open")
    return member


def test_the_list_searches_filters_and_stays_in_the_users_customers(sales, other_sales, member):
    make_member(other_sales, name="李娜")
    client = client_for(sales)
    page = client.get(reverse("loyalty:members")).content.decode()
    assert "王芳" in page and "李娜" not in page
    assert member.card_number in page
    for term in ("王", member.card_number[:6], "1234567"):
        found = client.get(reverse("loyalty:members"), {"q": term}).content.decode()
        assert "王芳" in found, term
    gold = Tier.objects.get(name="金卡")
    filtered = client.get(reverse("loyalty:members"), {"tier": gold.pk}).content.decode()
    assert "王芳" not in filtered and "No member matches" in filtered


def test_the_list_costs_the_same_queries_for_more_members(sales):
    client = client_for(sales)
    make_member(sales, name="甲")
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("loyalty:members"))
    for index in range(10):
        make_member(sales, name=f"会员{index}")
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("loyalty:members"))
    assert len(many) == len(few)


def test_roles_without_loyalty_may_not_see_members(analyst, member):
    assert client_for(analyst).get(reverse("loyalty:members")).status_code == 403
    url = reverse("loyalty:member", args=[member.customer_id])
    assert client_for(analyst).get(url).status_code == 403


def test_the_export_masks_contacts_like_the_page(marketer, member):
    response = client_for(marketer).get(reverse("loyalty:members_export"), {"format": "csv"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[1][:5] == [member.card_number, "王芳", "139****5678", "普通", "500"]


def test_the_member_page_shows_balance_progress_and_statement(sales, member):
    page = client_for(sales).get(reverse("loyalty:member", args=[member.customer_id]))
    text = page.content.decode()
    assert page.status_code == 200
    assert 'id="points-balance">500<' in text
    assert "¥700.00 more spent within 12 months to reach 银卡." in text
    assert 'aria-valuenow="30"' in text
    assert "开业" in text and "Order T-" in text
    assert 'id="member-coupons"' in text


def test_a_customer_the_user_may_not_see_is_not_found(other_sales, member):
    url = reverse("loyalty:member", args=[member.customer_id])
    assert client_for(other_sales).get(url).status_code == 404


def test_enrolling_from_the_customer_page(sales, marketer):
    customer = make_customer(sales, name="新客")
    client = client_for(sales)
    detail = client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert 'id="enrol-button"' in detail
    response = client.post(reverse("loyalty:enrol", args=[customer.pk]))
    assert response.status_code == 302
    membership = Membership.objects.get(customer=customer)
    assert response["Location"] == reverse("loyalty:member", args=[customer.pk])
    assert membership.channel == "store"
    detail = client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert membership.card_number in detail and 'id="enrol-button"' not in detail
    other = make_customer(sales, name="另一位")
    assert client_for(marketer).post(reverse("loyalty:enrol", args=[other.pk])).status_code == 403
    assert not Membership.objects.filter(customer=other).exists()


def test_a_manager_adjusts_with_a_reason(manager, sales, member):
    url = reverse("loyalty:adjust", args=[member.customer_id])
    response = client_for(manager).post(
        url, {"points": "-100", "reason": "退货补扣", "token": "t1"}
    )
    assert response.status_code == 302
    entry = PointsEntry.objects.get(kind="adjust")
    assert (entry.points, entry.created_by, entry.reason) == (-100, manager, "退货补扣")
    again = client_for(manager).post(url, {"points": "-100", "reason": "退货补扣", "token": "t1"})
    assert again.status_code == 302
    assert assert_ledger_consistent(member) == 400
    assert (
        client_for(sales).post(url, {"points": "5", "reason": "x", "token": "t2"}).status_code
        == 403
    )


def test_a_refused_adjustment_shows_why_and_changes_nothing(manager, member):
    url = reverse("loyalty:adjust", args=[member.customer_id])
    response = client_for(manager).post(url, {"points": "-900", "reason": "扣", "token": "t1"})
    assert response.status_code == 400
    assert "Insufficient points: balance 500, needed 900." in response.content.decode()
    response = client_for(manager).post(url, {"points": "10", "reason": "", "token": "t2"})
    assert response.status_code == 400
    assert assert_ledger_consistent(member) == 500


def test_the_counter_finds_a_member_and_redeems_a_gift_once(sales, member, store):
    gift = RedemptionItem.objects.create(name="雨伞", points_cost=300, stock=2)
    client = client_for(sales)
    page = client.get(reverse("loyalty:counter"), {"q": "13912345678"}).content.decode()
    assert 'id="counter-balance">500<' in page and "雨伞" in page
    url = reverse("loyalty:counter_redeem", args=[member.customer_id, "gift"])
    form = {"gift": gift.pk, "quantity": 1, "store": store.pk, "token": "abc"}
    first = client.post(url, form)
    client.post(url, form)  # a double click: the same token
    assert first.status_code == 302
    assert Redemption.objects.count() == 1
    gift.refresh_from_db()
    assert gift.stock == 1
    assert assert_ledger_consistent(member) == 200
    followed = client.get(first["Location"]).content.decode()
    assert "Redeemed 300 points; the balance is now 200." in followed


def test_the_counter_refuses_and_says_why(sales, member):
    gift = RedemptionItem.objects.create(name="雨伞", points_cost=300, stock=0)
    client = client_for(sales)
    url = reverse("loyalty:counter_redeem", args=[member.customer_id, "gift"])
    response = client.post(url, {"gift": gift.pk, "quantity": 1, "token": "x1"}, follow=True)
    assert "Out of stock: “雨伞” has 0 left, needed 1." in response.content.decode()
    cash = reverse("loyalty:counter_redeem", args=[member.customer_id, "cash"])
    response = client.post(cash, {"amount": "9.00", "token": "x2"}, follow=True)
    assert "Insufficient points: balance 500, needed 900." in response.content.decode()
    assert not Redemption.objects.exists()
    assert assert_ledger_consistent(member) == 500


def test_the_counter_says_when_nobody_matches(sales):
    page = client_for(sales).get(reverse("loyalty:counter"), {"q": "80000000000"})
    assert 'id="no-member"' in page.content.decode()


def test_only_administrators_change_the_rules(manager, admin_user):
    url = reverse("loyalty:programme")
    assert client_for(manager).get(url).status_code == 200
    form = {
        "action": "settings",
        "points_per_yuan": "2",
        "points_expire_months": "12",
        "points_per_yuan_offset": "100",
        "tier_basis": "spend",
        "downgrade_grace_days": "30",
        "referrer_reward_points": "200",
        "referee_reward_points": "100",
        "referral_min_order": "50",
        "referrals_per_referrer_cap": "20",
        "card_prefix": "8",
        "adjustment_alert_points": "1000",
        "repeat_adjustments_alert": "3",
    }
    client_for(manager).post(url, form)
    assert LoyaltySettings.current().points_per_yuan == 1
    assert client_for(admin_user).post(url, form).status_code == 302
    assert LoyaltySettings.current().points_per_yuan == 2


def tier_form(tiers: list[tuple]) -> dict[str, str]:
    """The tiers form as the page posts it: the existing tiers first, then new ones."""
    data = {
        "action": "tiers",
        "form-TOTAL_FORMS": str(len(tiers)),
        "form-INITIAL_FORMS": str(sum(1 for tier in tiers if tier[0])),
    }
    for index, (tier_id, name, rank, threshold, multiplier) in enumerate(tiers):
        data |= {
            f"form-{index}-tier_id": str(tier_id or ""),
            f"form-{index}-name": name,
            f"form-{index}-rank": str(rank),
            f"form-{index}-threshold": threshold,
            f"form-{index}-points_multiplier": multiplier,
            f"form-{index}-birthday_gift_points": "0",
        }
    return data


def test_tiers_must_rise_with_the_rank(manager):
    client = client_for(manager)
    client.get(reverse("loyalty:programme"))
    ids = {tier.name: tier.pk for tier in Tier.objects.all()}
    rows = [
        (ids["普通"], "普通", 0, "0", "1"),
        (ids["银卡"], "银卡", 1, "800", "1.2"),
        (ids["金卡"], "金卡", 2, "800", "1.5"),
        (ids["钻石"], "钻石", 3, "20000", "0"),
    ]
    response = client.post(reverse("loyalty:programme"), tier_form(rows))
    text = response.content.decode()
    assert response.status_code == 400
    assert "Must be more than 800, the threshold of “银卡”." in text
    assert "The multiplier must be above 0 and below 100." in text
    assert Tier.objects.get(name="银卡").threshold == Decimal("1000")
    rows[2] = (ids["金卡"], "金卡", 2, "4000", "1.5")
    rows[3] = (ids["钻石"], "钻石", 3, "20000", "2")
    rows.append((None, "黑卡", 4, "50000", "3"))
    assert client.post(reverse("loyalty:programme"), tier_form(rows)).status_code == 302
    assert list(Tier.objects.values_list("name", "threshold")) == [
        ("普通", Decimal("0")),
        ("银卡", Decimal("800")),
        ("金卡", Decimal("4000")),
        ("钻石", Decimal("20000")),
        ("黑卡", Decimal("50000")),
    ]


def test_the_gift_catalogue_page(manager, sales):
    url = reverse("loyalty:gifts")
    form = {"name": "帆布袋", "points_cost": "300", "stock": "20", "is_active": "on"}
    assert client_for(manager).post(url, form).status_code == 302
    assert RedemptionItem.objects.get().name == "帆布袋"
    assert client_for(sales).get(url).status_code == 403


def test_the_report_adds_up_the_ledger(manager, member, service_agent):
    from kehu.loyalty.points.redemption import redeem_cash_offset

    redeem_cash_offset(service_agent, member.customer_id, Decimal("1.50"), idempotency_key="k")
    page = client_for(manager).get(reverse("loyalty:report"))
    report = page.context["report"]
    assert (report.members, report.outstanding, report.liability) == (1, 350, Decimal("3.50"))
    this_month = report.months[-1]
    assert (this_month.issued, this_month.redeemed, this_month.outstanding) == (500, 150, 350)
    assert [(row.tier.name, row.members) for row in report.tiers][:2] == [("普通", 1), ("银卡", 0)]
    assert 'id="loyalty-report-data"' in page.content.decode()


def test_the_members_entry_is_in_the_navigation(sales, analyst):
    assert reverse("loyalty:members") in client_for(sales).get("/").content.decode()
    assert reverse("loyalty:members") not in client_for(analyst).get("/").content.decode()


def test_the_member_page_costs_the_same_queries_for_a_longer_statement(sales, member):
    client = client_for(sales)
    url = reverse("loyalty:member", args=[member.customer_id])
    client.get(url)
    with CaptureQueriesContext(connection) as short:
        client.get(url)
    for index in range(25):
        earn_for_order(make_order(member.customer, f"{10 + index}.00"))
    with CaptureQueriesContext(connection) as long:
        client.get(url)
    assert len(long) == len(short)


def test_enrolling_with_a_referral_code_records_the_referral(sales):
    from kehu.loyalty.models import Referral

    referrer = make_member(sales, name="老会员", mobile="13911112222")
    newcomer = make_customer(sales, name="新客", mobile="13933334444")
    client = client_for(sales)
    page = client.get(reverse("loyalty:member", args=[newcomer.pk])).content.decode()
    assert 'id="enrol-referral-code"' in page
    code = referrer.referral_code.lower()  # typed in lower case, with spaces
    response = client.post(
        reverse("loyalty:enrol", args=[newcomer.pk]), {"referral_code": f" {code[:4]} {code[4:]}"}
    )
    assert response.status_code == 302
    assert Membership.objects.filter(customer=newcomer).exists()
    referral = Referral.objects.get(referee=newcomer)
    assert (referral.referrer_id, referral.status) == (referrer.pk, "pending")
    shown = client.get(response["Location"]).content.decode()
    assert f"Referral code {referrer.referral_code} recorded" in shown


@pytest.mark.parametrize("case", ["unknown code", "bought before", "hostile"])
def test_a_refused_referral_code_enrols_nobody(sales, case):
    from kehu.loyalty.models import Referral

    referrer = make_member(sales, name="老会员", mobile="13911112222")
    newcomer = make_customer(sales, name="新客", mobile="13933334444")
    code = {
        "unknown code": "NOSUCH99",
        "bought before": referrer.referral_code,
        "hostile": "<script>alert(1)</script>" * 3,
    }[case]
    if case == "bought before":
        make_order(newcomer, "30.00")
    client = client_for(sales)
    response = client.post(
        reverse("loyalty:enrol", args=[newcomer.pk]), {"referral_code": code}, follow=True
    )
    assert not Membership.objects.filter(customer=newcomer).exists()
    assert not Referral.objects.exists()
    messages = [str(message) for message in response.context["messages"]]
    assert len(messages) == 1 and "<script>" not in response.content.decode()
    if case == "unknown code":
        assert messages == ["No member has the referral code “NOSUCH99”."]
