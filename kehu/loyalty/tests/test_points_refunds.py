"""Refunds and points: the order's points go back in proportion, never below zero, once per
refund; points that paid part of the order come back."""

from decimal import Decimal

import pytest

from kehu.commerce.services import refund_order
from kehu.loyalty.models import PointsEntry, PointsKind, PointsSource
from kehu.loyalty.points.redemption import redeem_cash_offset
from kehu.loyalty.points.refunds import (
    refunds_not_reversed,
    reverse_pending_refunds,
    reverse_points_for_refund,
    share_between,
)
from kehu.loyalty.points.services import award_points, earn_for_order
from kehu.loyalty.tests.points_data import (  # noqa: F401 - in_english is a fixture
    assert_ledger_consistent,
    in_english,
    make_member,
    make_order,
    make_refund,
)

# The counter acts at the north team's store (SH01), where its people work.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english", "store")]


def test_shares_telescope_to_exactly_the_points_earned():
    total = Decimal("99.99")
    parts = [Decimal("33.33"), Decimal("33.33"), Decimal("33.33")]
    shares = []
    before = Decimal(0)
    for part in parts:
        shares.append(share_between(97, before, before + part, total))
        before += part
    assert shares == [32, 32, 33]
    assert sum(shares) == 97


def test_a_partial_refund_reverses_its_share_and_the_rest_reverses_the_rest():
    member = make_member()
    order = make_order(member.customer, "200.00")
    earn_for_order(order)
    first = make_refund(order, "60.00")
    [reversal] = reverse_points_for_refund(first)
    assert (reversal.kind, reversal.points, reversal.source) == ("reverse", -60, "order")
    assert reversal.idempotency_key == f"refund:{first.pk}:reverse"
    assert reversal.reverses.idempotency_key == f"order:{order.pk}:earn"
    assert assert_ledger_consistent(member) == 140
    second = make_refund(order, "140.00")
    reverse_points_for_refund(second)
    assert assert_ledger_consistent(member) == 0


def test_reversing_a_refund_twice_changes_nothing():
    member = make_member()
    order = make_order(member.customer, "100.00")
    earn_for_order(order)
    refund = make_refund(order, "100.00")
    first = reverse_points_for_refund(refund)
    assert reverse_points_for_refund(refund) == first
    assert PointsEntry.objects.filter(kind=PointsKind.REVERSE).count() == 1
    assert assert_ledger_consistent(member) == 0


def test_spent_points_are_not_clawed_back_below_zero(service_agent):
    """The rule: reverse what is left, the order's own points first, and say what was not."""
    member = make_member()
    order = make_order(member.customer, "100.00")
    earn_for_order(order)
    redeem_cash_offset(
        service_agent, member.customer_id, Decimal("0.80"), idempotency_key="pay-1"
    )  # 80 points at 100 points per ¥1
    [reversal] = reverse_points_for_refund(make_refund(order, "100.00"))
    assert reversal.points == -20
    assert "20 of 100 points reversed; 80 already spent" in reversal.reason
    assert assert_ledger_consistent(member) == 0


def test_other_points_cover_a_reversal_once_the_orders_own_are_spent(service_agent):
    member = make_member()
    award_points(member, 500, source="campaign", reason="活动", idempotency_key="camp")
    order = make_order(member.customer, "100.00")
    earn_for_order(order)
    [reversal] = reverse_points_for_refund(make_refund(order, "50.00"))
    assert reversal.points == -50
    earned = PointsEntry.objects.get(kind=PointsKind.EARN, order=order)
    assert earned.remaining == 50  # taken from the order's own points first
    assert assert_ledger_consistent(member) == 550


def test_a_refund_made_before_earning_is_reversed_when_the_order_earns():
    member = make_member()
    order = make_order(member.customer, "100.00")
    refund = make_refund(order, "25.00")
    assert reverse_points_for_refund(refund) == []  # nothing earned yet, nothing written
    earned = earn_for_order(order)
    assert earned is not None and earned.points == 100
    reversal = PointsEntry.objects.get(idempotency_key=f"refund:{refund.pk}:reverse")
    assert reversal.points == -25
    assert assert_ledger_consistent(member) == 75


def test_points_that_paid_for_the_order_come_back_with_the_refund(service_agent):
    member = make_member()
    award_points(member, 1500, source="campaign", reason="活动", idempotency_key="camp")
    order = make_order(member.customer, "100.00")
    redeem_cash_offset(
        service_agent,
        member.customer_id,
        Decimal("10.00"),
        idempotency_key="pay-1",
        order_id=order.pk,
    )
    earned = earn_for_order(order)
    assert earned is not None and earned.points == 90  # points do not earn points
    entries = reverse_points_for_refund(make_refund(order, "100.00"))
    assert [(e.points, e.source) for e in entries] == [(-90, "order"), (1000, "redemption")]
    assert assert_ledger_consistent(member) == 1500


def test_the_refund_service_reverses_points_on_commit(
    admin_user, django_capture_on_commit_callbacks
):
    member = make_member()
    order = make_order(member.customer, "80.00")
    earn_for_order(order)
    with django_capture_on_commit_callbacks(execute=True):
        refund = refund_order(admin_user, order.pk, Decimal("40.00"), "质量问题")
    reversal = PointsEntry.objects.get(idempotency_key=f"refund:{refund.pk}:reverse")
    assert reversal.points == -40
    assert assert_ledger_consistent(member) == 40


def test_the_job_finds_refunds_not_yet_reversed():
    member = make_member()
    order = make_order(member.customer, "100.00")
    earn_for_order(order)
    refund = make_refund(order, "10.00")
    assert list(refunds_not_reversed()) == [refund]
    assert reverse_pending_refunds() == 1
    assert list(refunds_not_reversed()) == []
    assert reverse_pending_refunds() == 0
    assert assert_ledger_consistent(member) == 90
    assert PointsEntry.objects.filter(source=PointsSource.ORDER).count() == 2
