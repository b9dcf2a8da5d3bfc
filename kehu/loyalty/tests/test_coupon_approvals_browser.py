"""A coupon above marketing's limit in a real Chromium: the template page holds it for
approval, an administrator approves it on the approvals page, and the customer's coupon names
them."""

from decimal import Decimal

import pytest

from kehu.loyalty.models import ApprovalRequest, Coupon
from kehu.loyalty.tests.coupon_data import make_template
from tests.fixtures.browser import log_in
from tests.fixtures.people import PASSWORD
from tests.fixtures.records import make_customer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_coupon_above_the_limit_is_approved_by_an_administrator(
    page, marketer, admin_user, sales
):
    customer = make_customer(sales, name="王芳")
    template = make_template(admin_user, name="大额券", amount_off=Decimal("500.00"))
    log_in(page, marketer.username, PASSWORD)

    page.goto(f"/loyalty/coupons/{template.pk}/")
    page.check("input[name=target][value=list]")
    page.fill("#id_customers", str(customer.pk))
    page.click("#issue-form button[type=submit]")
    page.wait_for_url(f"**/loyalty/coupons/{template.pk}/#batches")
    assert "待审批" in page.locator("#batches").inner_text()
    assert Coupon.objects.count() == 0
    approval = ApprovalRequest.objects.get()

    page.context.clear_cookies()
    log_in(page, admin_user.username, PASSWORD)
    page.goto("/loyalty/approvals/")
    row = page.locator(f"#approval-{approval.pk}")
    assert "大额券" in row.inner_text()
    row.locator("input[name=reason]").fill("已核实")
    row.locator("button.primary").click()
    page.wait_for_url("**/loyalty/approvals/")
    assert "已批准：正在发放优惠券。" in page.locator("body").inner_text()

    coupon = Coupon.objects.get()
    assert (coupon.customer_id, coupon.approved_by_id) == (customer.pk, admin_user.pk)
    page.goto(f"/loyalty/coupons/customers/{customer.pk}/")
    assert page.locator(f"[data-code='{coupon.code}'] .approved-by").inner_text() == "由 admin 批准"
