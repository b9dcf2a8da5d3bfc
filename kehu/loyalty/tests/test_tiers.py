"""Tiers: upgrade at once on earning, downgrade only at the review after the grace period,
history of every move, birthday gifts once a year."""

from datetime import date, datetime, timedelta

import pytest
from django.utils import timezone

from kehu.customers.models import Customer
from kehu.loyalty.members.tiers import give_birthday_points, review_tiers, upgrade_if_qualified
from kehu.loyalty.models import (
    LoyaltySettings,
    Membership,
    PointsEntry,
    Tier,
    TierBasis,
    TierChange,
)
from kehu.loyalty.points.services import award_points, earn_for_order
from kehu.loyalty.tests.points_data import (  # noqa: F401 - in_english is a fixture
    assert_ledger_consistent,
    in_english,
    make_member,
    make_order,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english")]


def at(year: int, month: int, day: int) -> datetime:
    return timezone.make_aware(datetime(year, month, day, 12))


def tier_of(member: Membership) -> str:
    return Membership.objects.get(pk=member.pk).tier.name


def test_crossing_a_threshold_upgrades_at_once_with_history():
    member = make_member()
    earn_for_order(make_order(member.customer, "999.99"))
    assert tier_of(member) == "普通"
    earn_for_order(make_order(member.customer, "0.01"))  # earns nothing: moves nothing
    assert tier_of(member) == "普通"
    earn_for_order(make_order(member.customer, "10.00"))
    member.refresh_from_db()
    assert member.tier.name == "银卡"
    assert member.tier_review_on == timezone.localdate() + timedelta(days=365)
    change = TierChange.objects.get(membership=member, reason="upgrade")
    assert (change.previous_tier.name, change.tier.name) == ("普通", "银卡")
    assert str(change.qualifying_value) == "1010.00"


def test_a_big_purchase_jumps_straight_to_the_tier_it_reaches():
    member = make_member()
    earn_for_order(make_order(member.customer, "25000.00"))
    assert tier_of(member) == "钻石"


def test_the_points_basis_counts_points_earned_in_twelve_months():
    LoyaltySettings.objects.update_or_create(pk=1, defaults={"tier_basis": TierBasis.POINTS})
    member = make_member()
    award_points(member, 999, source="campaign", reason="a", idempotency_key="a")
    assert tier_of(member) == "普通"
    award_points(member, 1, source="campaign", reason="b", idempotency_key="b")
    assert tier_of(member) == "银卡"


def test_spend_outside_the_rolling_year_does_not_count():
    member = make_member()
    make_order(member.customer, "3000.00", at=timezone.now() - timedelta(days=366))
    earn_for_order(make_order(member.customer, "10.00"))
    assert tier_of(member) == "普通"


def gold_member_reviewed_on(review_on: date) -> Membership:
    member = make_member()
    Membership.objects.filter(pk=member.pk).update(
        tier=Tier.objects.get(name="金卡"), tier_review_on=review_on
    )
    return member


def test_no_downgrade_before_the_grace_period_has_passed():
    member = gold_member_reviewed_on(date(2026, 3, 1))
    make_order(member.customer, "1500.00", at=at(2026, 2, 1))
    report = review_tiers(at(2026, 3, 30))  # 29 days after the review: grace is 30
    assert report.reviewed == 0
    assert tier_of(member) == "金卡"


def test_the_review_moves_down_to_the_tier_still_reached():
    member = gold_member_reviewed_on(date(2026, 3, 1))
    make_order(member.customer, "1500.00", at=at(2026, 2, 1))
    report = review_tiers(at(2026, 3, 31))
    assert (report.reviewed, report.downgraded, report.upgraded) == (1, 1, 0)
    member.refresh_from_db()
    assert member.tier.name == "银卡"
    assert member.tier_since == date(2026, 3, 31)
    assert member.tier_review_on == date(2027, 3, 31)
    change = TierChange.objects.get(membership=member, reason="downgrade")
    assert (change.previous_tier.name, change.tier.name) == ("金卡", "银卡")
    assert review_tiers(at(2026, 4, 1)).reviewed == 0


def test_purchases_in_the_grace_period_keep_the_tier():
    member = gold_member_reviewed_on(date(2026, 3, 1))
    make_order(member.customer, "5200.00", at=at(2026, 3, 20))
    report = review_tiers(at(2026, 3, 31))
    assert (report.reviewed, report.downgraded) == (1, 0)
    member.refresh_from_db()
    assert member.tier.name == "金卡"
    assert member.tier_review_on == date(2027, 3, 31)
    assert not TierChange.objects.filter(membership=member, reason="downgrade").exists()


def test_the_entry_tier_has_no_review():
    member = make_member()
    assert member.tier_review_on is None
    assert upgrade_if_qualified(member, timezone.now()) is None


def test_birthday_points_once_per_member_per_year():
    member = make_member(birthday=date(1990, 5, 20))
    Membership.objects.filter(pk=member.pk).update(tier=Tier.objects.get(name="金卡"))
    make_member(birthday=date(1990, 5, 21))
    assert give_birthday_points(at(2026, 5, 20)) == 1
    assert give_birthday_points(at(2026, 5, 20)) == 0
    entry = PointsEntry.objects.get(source="birthday")
    assert (entry.points, entry.idempotency_key) == (200, f"birthday:{member.pk}:2026")
    assert assert_ledger_consistent(member) == 200
    assert give_birthday_points(at(2027, 5, 20)) == 1


def test_a_leap_day_birthday_is_celebrated_on_the_28th_in_other_years():
    member = make_member(birthday=date(2000, 2, 29))
    Membership.objects.filter(pk=member.pk).update(tier=Tier.objects.get(name="银卡"))
    assert give_birthday_points(at(2027, 2, 28)) == 1
    assert give_birthday_points(at(2028, 2, 28)) == 0
    assert give_birthday_points(at(2028, 2, 29)) == 1
    assert Customer.objects.count() == 1
