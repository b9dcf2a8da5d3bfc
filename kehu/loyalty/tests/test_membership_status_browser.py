"""The member page in a real Chromium: a manager cancels a membership through the confirmation
form, sees the forfeit warning first, and comes back to the page with the new status."""

import pytest

from kehu.loyalty.models import Membership
from kehu.loyalty.points.services import award_points
from kehu.loyalty.tests.points_data import make_member
from tests.fixtures.browser import log_in
from tests.fixtures.people import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_membership_is_cancelled_through_the_confirmation_form(page, manager, sales):
    member = make_member(sales, name="王芳")
    award_points(member, 120, source="campaign", reason="活动", idempotency_key="camp")
    log_in(page, manager.username, PASSWORD)

    page.goto(f"/loyalty/{member.customer_id}/")
    page.click("#membership-history a.danger")
    page.wait_for_url(f"**/loyalty/{member.customer_id}/status/cancelled/")
    warning = page.locator("#forfeit-warning").inner_text()
    page.fill("textarea[name=reason]", "客户要求注销")
    page.click("#status-change button[type=submit]")

    page.wait_for_url(f"**/loyalty/{member.customer_id}/")
    assert "120" in warning
    assert page.locator("#membership-status").get_attribute("data-status") == "cancelled"
    assert page.locator("#points-balance").inner_text() == "0"
    assert "客户要求注销" in page.locator("#pause-history").inner_text()
    assert Membership.objects.get(pk=member.pk).status == "cancelled"
