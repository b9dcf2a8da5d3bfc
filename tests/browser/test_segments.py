"""Segmentation in a real Chromium: the overview's heat map, building a two-condition segment
with its live preview, saving it and landing on its page."""

from decimal import Decimal

import pytest
from django.utils import timezone

from kehu.segments.models import CustomerMetrics, Segment
from tests.fixtures.browser import log_in
from tests.fixtures.people import PASSWORD
from tests.fixtures.records import make_customer


def scored_customer(owner, city, recency_score, monetary):
    customer = make_customer(owner=owner, city=city)
    CustomerMetrics.objects.create(
        customer=customer, r_score=recency_score, f_score=3, m_score=3,
        monetary=Decimal(monetary), frequency=2, rfm_segment="Need Attention",
        abc_class="B", refreshed_at=timezone.now(),
    )  # fmt: skip
    return customer


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_overview_builder_preview_save_and_detail(page, marketer):
    scored_customer(None, "上海", 5, "900")
    scored_customer(None, "上海", 2, "100")
    scored_customer(None, "杭州", 5, "500")
    log_in(page, marketer.username, PASSWORD)

    page.click("nav >> text=客户细分")
    page.wait_for_url("**/segments/")
    page.locator("#rfm-chart canvas").first.wait_for()
    assert page.locator("#scored-customers").inner_text() == "3"

    page.goto("/segments/new/")
    condition = page.locator(".rule-condition").first
    condition.locator("select.condition-field").select_option("city")
    page.locator(".rule-condition").first.locator("input.condition-value").fill("上海")
    page.wait_for_function("() => document.querySelector('#preview-count')?.dataset.count === '2'")

    page.click(".rule-group .add-condition")
    second = page.locator(".rule-condition").nth(1)
    second.locator("select.condition-field").select_option("r_score")
    second = page.locator(".rule-condition").nth(1)
    second.locator("select.condition-operator").select_option("gte")
    page.locator(".rule-condition").nth(1).locator("input.condition-value").fill("4")
    page.wait_for_function("() => document.querySelector('#preview-count')?.dataset.count === '1'")

    page.fill("input[name=name]", "上海近期客户")
    page.click("#save-segment")
    page.wait_for_url("**/segments/*/")
    segment = Segment.objects.get()
    assert segment.rule == {
        "all": [
            {"field": "city", "op": "eq", "value": "上海"},
            {"field": "r_score", "op": "gte", "value": 4},
        ]
    }
    assert page.locator("h1").inner_text().startswith("上海近期客户")
    assert page.locator("#member-count").inner_text() == "1"
