"""Coupons in a real Chromium: the template form shows the fields of the chosen kind, the
template page draws its chart, and a cashier checks a code against an order and confirms."""

import os
from decimal import Decimal

import pytest

from kehu.loyalty.coupons.services import issue_coupon
from kehu.loyalty.models import Coupon, CouponTemplate
from kehu.loyalty.tests.coupon_data import make_order, make_template
from tests.fixtures.browser import log_in
from tests.fixtures.people import PASSWORD
from tests.fixtures.records import make_customer


def snapshot(page, name):
    """Keep a screenshot when KEHU_SCREENSHOTS names a folder (to look at the pages)."""
    folder = os.environ.get("KEHU_SCREENSHOTS")
    if folder:
        page.screenshot(path=os.path.join(folder, f"{name}.png"), full_page=True)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_form_follows_the_kind_and_the_template_page_draws(page, marketer):
    log_in(page, marketer.username, PASSWORD)
    page.goto("/loyalty/coupons/new/")
    page.select_option("#id_kind", "percent")
    assert page.locator("#id_percent_off").is_visible()
    assert not page.locator("#id_amount_off").is_visible()
    page.select_option("#id_validity", "relative")
    assert page.locator("#id_valid_days").is_visible()
    assert not page.locator("#id_valid_from").is_visible()
    page.fill("#id_name", "会员九折")
    page.fill("#id_percent_off", "10")
    page.fill("#id_max_discount", "50")
    page.fill("#id_valid_days", "30")
    snapshot(page, "coupon-form")
    page.click("#coupon-template-form button[type=submit]")
    page.wait_for_url("**/loyalty/coupons/*/")
    template = CouponTemplate.objects.get()
    assert (template.kind, template.percent_off) == ("percent", Decimal("10"))
    page.locator("#coupon-activity canvas").first.wait_for()
    page.check("input[name=target][value=list]")
    assert page.locator("#id_customers").is_visible()
    assert not page.locator("#id_segment").is_visible()
    snapshot(page, "coupon-template")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_cashier_checks_and_confirms_a_coupon(page, service_agent, marketer, sales, channel):
    holder = make_customer(sales, name="王芳")
    template = make_template(marketer, name="满减券", kind="fixed", amount_off=Decimal("20"))
    coupon = issue_coupon(marketer, template, holder.pk)
    order = make_order(holder, channel, "128.00")
    log_in(page, service_agent.username, PASSWORD)
    page.goto("/loyalty/coupons/redeem/")
    page.fill("#id_code", coupon.code.lower())
    page.fill("#id_order", order.external_id)
    page.click("#redeem-form button[type=submit]")
    assert page.locator("#check-discount").inner_text() == "¥20.00"
    snapshot(page, "coupon-counter")
    page.click("#confirm-redeem button[type=submit]")
    page.locator(".message.success").wait_for()
    used = Coupon.objects.get()
    assert (used.status, used.order_id) == ("redeemed", order.pk)
