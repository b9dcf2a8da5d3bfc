"""A salesperson's day in a real Chromium: log in, find a customer, log a call, fix the mobile."""

import pytest

from kehu.customers.pool import claim_customer
from kehu.engagement.models import Interaction
from tests.fixtures.browser import log_in
from tests.fixtures.people import PASSWORD
from tests.fixtures.records import make_customer


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_log_in_find_a_customer_log_a_call_and_edit(page, sales, own_customer):
    make_customer(owner=sales, name="周杰")
    log_in(page, sales.username, PASSWORD)

    page.click("nav >> text=客户")
    page.wait_for_url("**/customers/")
    page.fill("input[name=q]", "王芳")
    page.click("form[role=search] button[type=submit]")
    page.wait_for_url("**/customers/?q=*")
    rows = page.locator("tbody tr")
    assert rows.count() == 1
    page.click("tbody >> text=王芳")
    page.wait_for_url(f"**/customers/{own_customer.pk}/")

    # A marker on the window survives only if the quick-log does not reload the page.
    page.evaluate("window.quickLogMarker = 'still here'")
    page.select_option("#quick-log select[name=channel]", "phone")
    page.fill("#quick-log textarea[name=summary]", "电话回访：客户想了解新品")
    page.click("#quick-log button[type=submit]")
    page.locator("#timeline >> text=电话回访：客户想了解新品").wait_for()
    assert page.evaluate("window.quickLogMarker") == "still here"
    assert page.input_value("#quick-log textarea[name=summary]") == ""
    assert Interaction.objects.get(customer=own_customer).channel == "phone"

    page.click("text=编辑")
    page.wait_for_url(f"**/customers/{own_customer.pk}/edit/")
    page.fill("input[name=mobile]", "12345")
    page.click("button[type=submit].primary")
    error = page.locator("#field-mobile .errorlist")
    assert "不是中国大陆手机号" in error.inner_text()
    own_customer.refresh_from_db()
    assert own_customer.mobile != "12345"

    page.fill("input[name=mobile]", "139 1234 5678")
    page.click("button[type=submit].primary")
    page.wait_for_url(f"**/customers/{own_customer.pk}/")
    assert "13912345678" in page.inner_text("main")
    own_customer.refresh_from_db()
    assert own_customer.mobile == "13912345678"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_claim_from_the_pool_updates_the_row_and_the_quota(page, sales, pool_customer):
    log_in(page, sales.username, PASSWORD)
    page.goto("/customers/pool/")
    assert "还可领取 200 个" in page.inner_text("#claim-quota")
    page.evaluate("window.poolMarker = 'still here'")
    page.click(f"#pool-customer-{pool_customer.pk} button[type=submit]")
    page.locator(f"#pool-customer-{pool_customer.pk} >> text=已领取").wait_for()
    assert "还可领取 199 个" in page.inner_text("#claim-quota")
    assert page.evaluate("window.poolMarker") == "still here"
    pool_customer.refresh_from_db()
    assert pool_customer.owner == sales


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_claiming_a_customer_someone_took_first_says_so(page, sales, other_sales, pool_customer):
    log_in(page, sales.username, PASSWORD)
    page.goto("/customers/pool/")
    claim_customer(other_sales, pool_customer.pk)
    page.click(f"#pool-customer-{pool_customer.pk} button[type=submit]")
    alert = page.locator("main .messages [role=alert]")
    alert.wait_for()
    assert "重新加载" in alert.inner_text()
    pool_customer.refresh_from_db()
    assert pool_customer.owner == other_sales
