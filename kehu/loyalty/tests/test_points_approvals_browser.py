"""An adjustment above a manager's limit in a real Chromium: the member page sends it for
approval, an administrator approves it on the approvals page, and the statement names them."""

import pytest

from kehu.loyalty.models import ApprovalRequest, Membership
from kehu.loyalty.points.services import award_points
from kehu.loyalty.tests.points_data import make_member
from tests.fixtures.browser import log_in
from tests.fixtures.people import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_adjustment_above_the_limit_is_approved_by_an_administrator(page, manager, admin_user):
    member = make_member(manager, name="王芳")
    award_points(member, 3000, source="campaign", reason="活动", idempotency_key="camp")
    log_in(page, manager.username, PASSWORD)

    page.goto(f"/loyalty/{member.customer_id}/")
    page.fill("#adjust input[name=points]", "5000")
    page.fill("#adjust input[name=reason]", "补录大额积分")
    page.click("#adjust button[type=submit]")
    page.wait_for_url(f"**/loyalty/{member.customer_id}/")
    assert Membership.objects.get(pk=member.pk).points_balance == 3000
    approval = ApprovalRequest.objects.get()

    page.context.clear_cookies()
    log_in(page, admin_user.username, PASSWORD)
    page.goto("/loyalty/approvals/")
    row = page.locator(f"#approval-{approval.pk}")
    assert "补录大额积分" in row.inner_text()
    row.locator("input[name=reason]").fill("已核实")
    row.locator("button.primary").click()
    page.wait_for_url("**/loyalty/approvals/")
    assert "暂无待您审批的申请" in page.locator("#waiting").inner_text()

    page.goto(f"/loyalty/{member.customer_id}/")
    assert page.locator("#statement .approved-by").first.inner_text() == "由 admin 批准"
    assert Membership.objects.get(pk=member.pk).points_balance == 8000
