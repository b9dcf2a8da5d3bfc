"""Limits and approvals under concurrency on PostgreSQL: real threads, one connection each.

One person's parallel adjustments of different members cannot together pass their daily limit
(their row is locked while the day's sum is read), and an approval sent many times at once
writes one entry, as a coupon approval sent many times at once issues one coupon. SQLite
serialises every writer, so these races cannot happen there.
"""

from decimal import Decimal

import pytest
from django.db import connection

from kehu.loyalty.approvals.services import decide_approval
from kehu.loyalty.coupons.services import issue_one
from kehu.loyalty.models import ApprovalRequest, Coupon, Membership, PointsEntry
from kehu.loyalty.points.adjustments import Adjustment, adjust_points
from kehu.loyalty.tests.coupon_data import make_template
from kehu.loyalty.tests.points_data import assert_ledger_consistent, make_member
from kehu.loyalty.tests.test_points_concurrency import run_together

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the race needs PostgreSQL's row locks"
    ),
]


def test_parallel_adjustments_cannot_pass_the_daily_limit_together(manager):
    members = [make_member(manager) for _ in range(10)]  # different members: different locks
    results = run_together(
        [
            lambda member=member: adjust_points(
                manager, member.customer_id, 2000, "补录", idempotency_key=f"m{member.pk}"
            )
            for member in members
        ]
    )
    assert all(isinstance(result, Adjustment) for result in results)
    written = [result for result in results if result.entry is not None]
    assert len(written) == 5  # 5 × 2000 = the manager's 10,000 a day
    assert ApprovalRequest.objects.count() == 5
    assert PointsEntry.objects.filter(kind="adjust").count() == 5


def test_an_approval_sent_many_times_at_once_writes_one_entry(manager, admin_user):
    member = make_member(manager)
    approval = adjust_points(manager, member.customer_id, 5000, "补录", idempotency_key="a")
    assert approval.approval is not None
    results = run_together(
        [lambda: decide_approval(admin_user, approval.approval.pk, approve=True) for _ in range(20)]
    )
    assert [type(result).__name__ for result in results] == ["ApprovalRequest"] * 20
    assert PointsEntry.objects.filter(kind="adjust").count() == 1
    assert Membership.objects.get(pk=member.pk).points_balance == 5000
    assert assert_ledger_consistent(member) == 5000


def test_a_coupon_approval_sent_many_times_at_once_issues_one_coupon(marketer, admin_user, manager):
    customer = make_member(manager).customer
    template = make_template(admin_user, name="大额券", amount_off=Decimal("500.00"))
    request = issue_one(marketer, template.pk, customer.pk).approval
    assert request is not None
    results = run_together(
        [lambda: decide_approval(admin_user, request.pk, approve=True) for _ in range(20)]
    )
    assert [type(result).__name__ for result in results] == ["ApprovalRequest"] * 20
    coupon = Coupon.objects.get()
    assert (coupon.customer_id, coupon.approved_by_id) == (customer.pk, admin_user.pk)
    template.refresh_from_db()
    assert template.issued_count == 1
