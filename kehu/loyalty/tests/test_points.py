"""The points ledger: earning on orders, awards, adjustments, FIFO consumption, expiry and the
balance check."""

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from kehu.core.errors import RuleViolation
from kehu.loyalty.models import Membership, PointsEntry, PointsKind, PointsSource, Tier
from kehu.loyalty.points.adjustments import adjust_points
from kehu.loyalty.points.expiry import expire_points
from kehu.loyalty.points.services import (
    award_points,
    check_balances,
    earn_for_order,
    months_after,
    order_points,
)
from kehu.loyalty.tests.points_data import (  # noqa: F401 - in_english is a fixture
    assert_ledger_consistent,
    balance_of,
    in_english,
    make_member,
    make_order,
)
from tests.fixtures.records import make_customer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english")]


def at(year: int, month: int, day: int, hour: int = 12) -> datetime:
    return timezone.make_aware(datetime(year, month, day, hour))


def test_months_after_keeps_the_day_or_takes_the_months_last():
    assert months_after(date(2025, 1, 31), 1) == date(2025, 2, 28)
    assert months_after(date(2024, 2, 29), 12) == date(2025, 2, 28)
    assert months_after(date(2025, 11, 15), 24) == date(2027, 11, 15)


def test_order_points_round_down_with_the_multipliers():
    assert order_points(Decimal("123.99"), Decimal("1"), Decimal("1.00")) == 123
    assert order_points(Decimal("100.00"), Decimal("1"), Decimal("1.50"), Decimal(2)) == 300
    assert order_points(Decimal("0.99"), Decimal("1"), Decimal("1.00")) == 0


def test_an_order_earns_once_by_the_programme_rules():
    member = make_member()
    order = make_order(member.customer, "123.45", at=at(2025, 3, 10))
    entry = earn_for_order(order)
    assert entry is not None
    assert (entry.kind, entry.points, entry.remaining) == (PointsKind.EARN, 123, 123)
    assert entry.idempotency_key == f"order:{order.pk}:earn"
    assert entry.source == PointsSource.ORDER and entry.order == order
    assert entry.expires_on == date(2027, 3, 10)
    assert earn_for_order(order) == entry
    assert PointsEntry.objects.count() == 1
    assert assert_ledger_consistent(member) == 123


def test_the_tier_multiplier_and_a_campaign_multiplier_apply():
    member = make_member()
    Membership.objects.filter(pk=member.pk).update(tier=Tier.objects.get(name="金卡"))
    order = make_order(member.customer, "100.00")
    entry = earn_for_order(order, extra_multiplier=Decimal(2))
    assert entry is not None and entry.points == 300


def test_orders_that_do_not_earn():
    member = make_member()
    stranger = make_customer(name="路人")
    assert earn_for_order(make_order(stranger, "500")) is None
    assert earn_for_order(make_order(member.customer, "500", at=at(2024, 12, 31))) is None
    assert earn_for_order(make_order(member.customer, "500", status="cancelled")) is None
    assert earn_for_order(make_order(member.customer, "0.50")) is None
    assert not PointsEntry.objects.exists()
    assert balance_of(member) == 0


def test_award_points_is_idempotent_by_key():
    member = make_member()
    first = award_points(
        member, 50, source=PointsSource.CAMPAIGN, reason="开业活动", idempotency_key="camp:1"
    )
    again = award_points(
        member, 50, source=PointsSource.CAMPAIGN, reason="开业活动", idempotency_key="camp:1"
    )
    assert again == first
    assert member.points_balance == 50
    assert assert_ledger_consistent(member) == 50


def test_award_points_refuses_nothing_or_less():
    member = make_member()
    with pytest.raises(RuleViolation) as error:
        award_points(member, 0, source=PointsSource.CAMPAIGN, reason="x", idempotency_key="k")
    assert error.value.code == "invalid_points"
    assert not PointsEntry.objects.exists()


def test_points_are_taken_from_the_soonest_to_expire_first(manager):
    member = make_member()
    older = award_points(
        member, 100, source="campaign", reason="a", idempotency_key="a", now=at(2025, 2, 1)
    )
    newer = award_points(
        member, 100, source="campaign", reason="b", idempotency_key="b", now=at(2025, 6, 1)
    )
    adjust_points(
        manager, member.customer_id, -150, "盘点差异", idempotency_key="adj:1", now=at(2025, 7, 1)
    )
    older.refresh_from_db()
    newer.refresh_from_db()
    assert (older.remaining, newer.remaining) == (0, 50)
    assert assert_ledger_consistent(member) == 50


def test_an_adjustment_needs_a_reason_and_records_who_made_it(manager):
    member = make_member()
    with pytest.raises(ValidationError) as error:
        adjust_points(manager, member.customer_id, 100, "  ", idempotency_key="adj:1")
    assert "reason" in error.value.message_dict
    result = adjust_points(manager, member.customer_id, 100, "补录积分", idempotency_key="adj:2")
    entry = result.entry
    assert result.created
    assert (entry.kind, entry.source, entry.created_by) == ("adjust", "staff", manager)
    assert entry.reason == "补录积分"


def test_taking_more_than_the_balance_is_refused_and_changes_nothing(manager):
    member = make_member()
    award_points(member, 120, source="campaign", reason="a", idempotency_key="a")
    with pytest.raises(RuleViolation) as error:
        adjust_points(manager, member.customer_id, -500, "扣除", idempotency_key="adj:1")
    assert error.value.code == "insufficient_points"
    assert str(error.value) == "Insufficient points: balance 120, needed 500."
    assert PointsEntry.objects.count() == 1
    assert assert_ledger_consistent(member) == 120


def test_the_database_forbids_a_negative_balance():
    from django.db import IntegrityError, transaction

    member = make_member()
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.filter(pk=member.pk).update(points_balance=-1)


def test_expiry_lapses_the_oldest_points_in_one_entry_per_member():
    member = make_member()
    award_points(member, 70, source="campaign", reason="a", idempotency_key="a", now=at(2025, 1, 5))
    award_points(member, 30, source="campaign", reason="b", idempotency_key="b", now=at(2025, 1, 9))
    award_points(member, 40, source="campaign", reason="c", idempotency_key="c", now=at(2025, 8, 1))
    report = expire_points(at(2027, 1, 10, 1))
    assert (report.members, report.points) == (1, 100)
    expired = PointsEntry.objects.get(kind=PointsKind.EXPIRE)
    assert (expired.points, expired.source) == (-100, "expiry")
    assert assert_ledger_consistent(member) == 40
    assert expire_points(at(2027, 1, 10, 2)).points == 0
    assert PointsEntry.objects.filter(kind=PointsKind.EXPIRE).count() == 1


def test_points_past_their_date_cannot_be_spent_before_the_job_runs(manager):
    member = make_member()
    award_points(
        member, 100, source="campaign", reason="a", idempotency_key="a", now=at(2025, 1, 5)
    )
    with pytest.raises(RuleViolation):
        adjust_points(
            manager, member.customer_id, -50, "x", idempotency_key="adj", now=at(2027, 2, 1)
        )
    assert balance_of(member) == 100  # the refused request expired nothing either
    assert not PointsEntry.objects.filter(kind=PointsKind.EXPIRE).exists()


def test_check_balances_finds_a_cache_that_drifted():
    member = make_member()
    award_points(member, 100, source="campaign", reason="a", idempotency_key="a")
    assert check_balances() == []
    Membership.objects.filter(pk=member.pk).update(points_balance=90)
    [mismatch] = check_balances()
    assert (mismatch.membership_id, mismatch.cached, mismatch.ledger, mismatch.unspent) == (
        member.pk,
        90,
        100,
        100,
    )


def test_the_check_command_reports_and_fails_on_a_mismatch(capsys):
    from django.core.management import CommandError, call_command

    member = make_member()
    award_points(member, 10, source="campaign", reason="a", idempotency_key="a")
    call_command("loyalty", "check-balances")
    assert "Every balance equals its ledger." in capsys.readouterr().out
    Membership.objects.filter(pk=member.pk).update(points_balance=11)
    with pytest.raises(CommandError):
        call_command("loyalty", "check-balances")
    assert member.card_number in capsys.readouterr().out


def test_expiry_happens_at_the_date_and_not_a_day_before():
    member = make_member()
    award_points(member, 10, source="campaign", reason="a", idempotency_key="a", now=at(2025, 3, 1))
    assert expire_points(at(2027, 2, 28)).points == 0
    assert expire_points(at(2027, 3, 1) + timedelta(hours=1)).points == 10
