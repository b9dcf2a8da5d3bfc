"""Bulk earning: the same ledger as earning order by order, set-based, and idempotent."""

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from kehu.commerce.models import Order
from kehu.loyalty.models import (
    GroupDeal,
    GroupParticipant,
    GroupRole,
    Membership,
    MembershipStatus,
    PointsEntry,
    Tier,
    TierChange,
)
from kehu.loyalty.points.bulk import earn_all_pending_orders
from kehu.loyalty.points.redemption import redeem_cash_offset
from kehu.loyalty.points.services import award_points, earn_for_order
from kehu.loyalty.tests.points_data import (  # noqa: F401 - in_english is a fixture
    assert_ledger_consistent,
    in_english,
    make_member,
    make_order,
    make_refund,
)
from tests.fixtures.records import make_customer

# The counter acts at the north team's store (SH01), where its people work.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english", "store")]


def ledger_rows() -> set[tuple]:
    """The ledger without ids and times, to compare two ways of writing it."""
    return set(
        PointsEntry.objects.values_list(
            "membership_id",
            "kind",
            "points",
            "remaining",
            "expires_on",
            "source",
            "reason",
            "order_id",
            "reverses__idempotency_key",
            "idempotency_key",
        )
    )


def build_history(service_agent) -> list[Membership]:
    """Members with plain, refunded, partly refunded, pre-enrolment, cancelled and offset
    orders; a frozen member; a customer who is not a member; an order in an open group deal."""
    now = timezone.now()
    first, second, frozen = make_member(), make_member(), make_member()
    make_order(first.customer, "100.00", at=now - timedelta(days=40))
    partly = make_order(first.customer, "55.50", at=now - timedelta(days=30))
    make_refund(partly, "20.00")
    make_refund(partly, "10.50")
    fully = make_order(first.customer, "10.00", at=now - timedelta(days=20))
    make_refund(fully, "10.00")
    make_order(first.customer, "999.00", at=timezone.make_aware(datetime(2024, 6, 1)))
    make_order(first.customer, "70.00", status="cancelled")
    award_points(second, 2000, source="campaign", reason="活动", idempotency_key="camp")
    paid_with_points = make_order(second.customer, "1300.00", at=now - timedelta(days=3))
    redeem_cash_offset(
        service_agent,
        second.customer_id,
        Decimal("12.00"),
        idempotency_key="pay",
        order_id=paid_with_points.pk,
    )
    make_order(frozen.customer, "300.00")
    Membership.objects.filter(pk=frozen.pk).update(status=MembershipStatus.FROZEN)
    make_order(make_customer(name="路人"), "88.00")
    in_group = make_order(second.customer, "66.00")
    deal = GroupDeal.objects.create(title="拼团", leader=second.customer, deadline=now)
    GroupParticipant.objects.create(
        deal=deal, customer=second.customer, role=GroupRole.LEADER, order=in_group, joined_at=now
    )
    return [first, second, frozen]


def test_bulk_earning_writes_the_same_ledger_as_earning_order_by_order(service_agent):
    build_history(service_agent)
    with transaction.atomic():
        for order in Order.objects.exclude(group_participation__isnull=False).order_by("pk"):
            earn_for_order(order)
        one_by_one = ledger_rows()
        transaction.set_rollback(True)
    report = earn_all_pending_orders(batch_size=2)
    assert ledger_rows() == one_by_one
    assert (report.orders, report.points, report.reversals) == (3, 100 + 55 + 1288, 2)


def test_bulk_earning_balances_reversals_and_tiers(service_agent):
    first, second, frozen = build_history(service_agent)
    earn_all_pending_orders()
    assert (
        assert_ledger_consistent(first) == 100 + 55 - 19 - 11
    )  # ⌊55·20/55.5⌋, then ⌊55·30.5/55.5⌋ − 19
    assert assert_ledger_consistent(second) == 2000 - 1200 + 1288
    assert assert_ledger_consistent(frozen) == 0
    second.refresh_from_db()
    assert second.tier == Tier.objects.get(name="银卡")  # ¥1,300 in 12 months
    assert TierChange.objects.filter(membership=second, reason="upgrade").count() == 1


def test_bulk_earning_twice_earns_nothing_twice(service_agent):
    build_history(service_agent)
    earn_all_pending_orders()
    before = ledger_rows()
    report = earn_all_pending_orders()
    assert (report.orders, report.points) == (0, 0)
    assert ledger_rows() == before


def test_dating_by_order_puts_the_entries_at_the_purchase():
    member = make_member()
    ordered_at = timezone.now() - timedelta(days=100)
    order = make_order(member.customer, "10.00", at=ordered_at)
    earn_all_pending_orders(date_entries_by_order=True)
    assert PointsEntry.objects.get(order=order).created_at == ordered_at


def history_crossing_tiers(seed: int) -> list[Membership]:
    """Members whose orders (some refunded) carry them over one or two tier thresholds
    (银卡 at 1,000, 金卡 at 5,000) in the middle of their history."""
    import random

    chooser = random.Random(seed)
    now = timezone.now()
    members = [make_member() for _ in range(6)]
    award_points(members[0], 900, source="campaign", reason="活动", idempotency_key="c0")
    for member in members:
        for number in range(chooser.randint(2, 7)):
            amount = Decimal(chooser.randint(5_000, 300_000)) / 100
            order = make_order(member.customer, amount, at=now - timedelta(days=200 - 20 * number))
            if chooser.random() < 0.3:
                make_refund(order, (amount / 3).quantize(Decimal("0.01")))
    return members


@pytest.mark.parametrize("basis", ["spend", "points"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_bulk_earning_moves_members_up_mid_run_as_order_by_order_does(basis, seed):
    from kehu.loyalty.models import LoyaltySettings

    LoyaltySettings.objects.update_or_create(pk=1, defaults={"tier_basis": basis})
    members = history_crossing_tiers(seed)
    tiers_of = lambda: list(  # noqa: E731
        Membership.objects.filter(pk__in=[m.pk for m in members])
        .order_by("pk")
        .values_list("tier__name", flat=True)
    )
    with transaction.atomic():
        for order in Order.objects.order_by("pk"):
            earn_for_order(order)
        one_by_one = (ledger_rows(), tiers_of())
        transaction.set_rollback(True)
    report = earn_all_pending_orders(batch_size=3)
    assert (ledger_rows(), tiers_of()) == one_by_one
    assert "银卡" in one_by_one[1] or "金卡" in one_by_one[1]  # the histories do cross
    assert report.upgraded == sum(tier != "普通" for tier in one_by_one[1])
    for member in members:
        assert_ledger_consistent(member)
