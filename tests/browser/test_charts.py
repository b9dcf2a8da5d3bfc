"""Chart pages in a real Chromium, drawn by the one loader in web/kehu.js: the CLV overview and
the loyalty programme report (the segment overview and referral report have their own tests)."""

import pytest

from kehu.loyalty.points.services import award_points
from kehu.loyalty.tests.points_data import make_member
from kehu.predictions.tests.test_prediction_views import at_risk
from tests.fixtures.browser import log_in
from tests.fixtures.people import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_clv_overview_draws_its_charts(page, manager, sales):
    at_risk(sales, "王芳", "662.40")
    at_risk(sales, "李娜", "90.00", churn_level="watch", churn_risk=45)
    log_in(page, manager.username, PASSWORD)
    page.goto("/segments/clv/")
    for chart in ("bands", "levels"):
        page.locator(f"[data-chart={chart}] canvas").first.wait_for()


def test_the_programme_report_draws_its_charts(page, manager, sales):
    member = make_member(sales, name="王芳")
    award_points(member, 300, source="campaign", reason="开业", idempotency_key="open")
    log_in(page, manager.username, PASSWORD)
    page.goto("/loyalty/report/")
    for chart in ("points", "tiers"):
        page.locator(f"[data-chart={chart}] canvas").first.wait_for()
