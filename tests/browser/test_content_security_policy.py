"""The main pages work in Chromium under kehu's Content-Security-Policy, with no violation.

A violation shows up as a console message and a `securitypolicyviolation` event; both are
collected, so a page that needs an inline script, eval or an inline style element fails here.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from kehu.loyalty.points.services import award_points
from kehu.loyalty.tests.points_data import make_member
from kehu.segments.models import Segment, SegmentSnapshot
from kehu.segments.tests.test_views import static_segment
from tests.fixtures.browser import log_in
from tests.fixtures.people import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

COLLECT_VIOLATIONS = """
window.kehuCspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.kehuCspViolations.push(event.violatedDirective + " " + event.blockedURI);
});
"""


def test_the_main_pages_run_under_the_content_security_policy(page, admin_user, sales):
    member = make_member(sales, name="王芳")
    award_points(member, 300, source="campaign", reason="开业", idempotency_key="open")
    segment = static_segment(admin_user, [member.customer])
    for days_ago, members in ((2, 0), (1, 1)):
        SegmentSnapshot.objects.create(
            segment=segment,
            taken_at=timezone.now() - timedelta(days=days_ago),
            member_count=members,
            joined_count=members,
            left_count=0,
        )
    console = []
    page.on("console", lambda message: console.append(message.text))
    page.on("pageerror", lambda error: console.append(f"page error: {error}"))
    page.add_init_script(COLLECT_VIOLATIONS)
    log_in(page, admin_user.username, PASSWORD)
    pages = {
        "/": "main",
        "/customers/": "main table",
        f"/customers/{member.customer_id}/": "main h1",
        f"/segments/{segment.pk}/": "[data-chart] canvas",
        f"/loyalty/{member.customer_id}/": "main h1",
        "/api/docs": "#swagger-ui .opblock",
    }
    violations = {}
    for path, ready in pages.items():
        response = page.goto(path)
        policy = response.headers["content-security-policy"]
        page.locator(ready).first.wait_for()
        page.wait_for_load_state("networkidle")
        violations[path] = page.evaluate("window.kehuCspViolations")
        assert "script-src 'self'" in policy, path
        assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0], path

    assert violations == {path: [] for path in pages}
    assert [text for text in console if "Content Security Policy" in text] == []
    assert [text for text in console if text.startswith("page error")] == []


def test_a_confirmation_still_asks_without_inline_handlers(page, admin_user):
    segment = static_segment(admin_user, [])
    questions = []

    def answer(dialog):
        questions.append(dialog.message)
        dialog.dismiss() if len(questions) == 1 else dialog.accept()

    page.on("dialog", answer)
    log_in(page, admin_user.username, PASSWORD)
    page.goto(f"/segments/{segment.pk}/")
    page.click("button.danger")
    page.wait_for_timeout(300)
    assert Segment.objects.filter(pk=segment.pk).exists()

    page.click("button.danger")
    page.wait_for_url(lambda url: f"/segments/{segment.pk}/" not in url)

    assert len(questions) == 2
    assert not Segment.objects.filter(pk=segment.pk).exists()
