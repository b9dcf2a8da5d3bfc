"""Referral report and group deals in a real Chromium: the report draws its bar charts, and a
group deal is created through the form and lands on its page with the leader listed."""

from datetime import timedelta

import pytest
from django.utils import timezone

from kehu.loyalty.models import GroupDeal
from kehu.loyalty.referrals.services import attribute_referral, reward_pending_referrals
from kehu.loyalty.tests.referral_data import days_ago, make_member, make_order
from tests.fixtures.browser import log_in
from tests.fixtures.people import PASSWORD
from tests.fixtures.records import make_customer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_report_draws_its_charts(page, manager, sales, channel):
    star = make_member(sales, "王芳")
    for name, bought_before in (("李娜", False), ("周杰", True)):
        friend = make_customer(sales, name=name)
        attribute_referral(sales, friend.pk, star.referral_code, now=days_ago(5))
        make_order(friend, channel, "100.00", ordered_at=days_ago(9 if bought_before else 1))
    reward_pending_referrals()
    log_in(page, manager.username, PASSWORD)

    page.goto("/loyalty/referrals/")

    page.locator("[data-chart=referrers] canvas").first.wait_for()
    page.locator("[data-chart=rejections] canvas").first.wait_for()
    assert page.locator("#count-attributed").inner_text() == "2"
    assert page.locator("#count-rewarded").inner_text() == "1"


def test_a_group_deal_is_created_through_the_form(page, sales):
    leader = make_customer(sales, name="团长王姐")
    log_in(page, sales.username, PASSWORD)

    page.goto(f"/loyalty/referrals/group-deals/new/?leader={leader.pk}")
    page.fill("input[name=title]", "周末水果团")
    deadline = timezone.localtime() + timedelta(days=2)
    page.fill("input[name=deadline]", deadline.strftime("%Y-%m-%dT%H:%M"))
    page.fill("input[name=min_size]", "4")
    page.click("#group-deal-form button[type=submit]")

    page.wait_for_url("**/group-deals/*/")
    deal = GroupDeal.objects.get()
    assert page.locator("#deal-size").inner_text() == "1 / 4"
    assert "团长王姐" in page.locator("#participants").inner_text()
    assert deal.title == "周末水果团" and deal.leader == leader
