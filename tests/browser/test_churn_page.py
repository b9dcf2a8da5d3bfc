"""The churn warning list in a real Chromium: tick two at-risk customers, create call-back tasks
for them, find the tasks on the call-backs page, and see the prediction on a customer page."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from kehu.commerce.models import Order, Product, SalesChannel
from kehu.engagement.models import FollowUp
from kehu.predictions.models import CustomerPrediction
from tests.fixtures.browser import log_in
from tests.fixtures.people import PASSWORD
from tests.fixtures.records import make_customer

OVERDUE = {"signal": "overdue", "points": 30, "typical_gap_days": 21, "days_since_last": 64}


def at_risk(owner, name, stake, risk, products=()):
    customer = make_customer(owner=owner, name=name)
    Order.objects.create(
        customer=customer, channel=SalesChannel.objects.get_or_create(code="pos", name="门店")[0],
        external_id=f"SO-{customer.pk}", ordered_at=timezone.now() - timedelta(days=64),
        total_amount=Decimal("150.00"),
    )  # fmt: skip
    CustomerPrediction.objects.create(
        customer=customer, p_alive=0.4, expected_purchases=0.6, clv=Decimal("900"),
        expected_order_value=Decimal("150"), value_at_stake=Decimal(stake), churn_risk=risk,
        churn_level="warning", churn_reasons=[OVERDUE], warned_on=timezone.localdate(),
        next_action="check_in", next_action_reason={"rule": "check_in", "risk": risk, "days": 7},
        recommended_products=[product.pk for product in products], refreshed_at=timezone.now(),
    )  # fmt: skip
    return customer


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_select_rows_create_call_backs_and_see_them(page, sales):
    yoghurt = Product.objects.create(sku="YOG-1", name="原味酸奶")
    first = at_risk(sales, "王芳", "900", 70, products=[yoghurt])
    second = at_risk(sales, "张伟", "600", 66)
    third = at_risk(sales, "李强", "300", 62)
    log_in(page, sales.username, PASSWORD)

    page.goto("/segments/churn/")
    rows = page.locator("#churn-table tbody tr")
    assert [rows.nth(index).get_attribute("data-customer") for index in range(3)] == [
        str(first.pk),
        str(second.pk),
        str(third.pk),
    ]
    assert "21" in rows.first.locator("td.reasons").inner_text()
    page.check(f"tr[data-customer='{first.pk}'] input.row-select")
    page.check(f"tr[data-customer='{third.pk}'] input.row-select")
    with page.expect_navigation():
        page.click("#create-follow-ups")
    page.locator(".message.success").wait_for()
    due = timezone.localdate() + timedelta(days=3)
    tasks = FollowUp.objects.order_by("customer_id")
    assert [(task.customer_id, task.assignee_id, task.due_on) for task in tasks] == [
        (first.pk, sales.pk, due),
        (third.pk, sales.pk, due),
    ]

    page.click("nav a[href='/interactions/follow-ups/']")
    page.wait_for_url("**/interactions/follow-ups/")
    listed = page.locator("#follow-ups tbody tr")
    assert listed.count() == 2
    assert {listed.nth(index).get_attribute("data-customer") for index in range(2)} == {
        str(first.pk),
        str(third.pk),
    }

    page.click(f"#follow-ups >> text={first.name}")
    page.wait_for_url(f"**/customers/{first.pk}/")
    assert page.inner_text("#prediction-risk") == "70"
    assert page.inner_text("#prediction-p-alive") == "40%"
    assert "原味酸奶" in page.inner_text("#prediction-products")
    assert page.inner_text("#prediction-action").strip()
    assert page.locator("#customer-follow-ups li").count() == 1
