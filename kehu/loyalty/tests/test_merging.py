"""Merging two customers carries their loyalty records over: one membership moves, two fold into
one with the ledger still adding up, and coupons, referrals and group deals follow the kept
customer. A merge that fails leaves every loyalty record where it was."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from kehu.core.errors import NotAllowed
from kehu.customers.models import Customer, CustomerMerge
from kehu.customers.services import merge_customers
from kehu.loyalty.members.status import change_membership_status
from kehu.loyalty.models import (
    ApprovalKind,
    ApprovalRequest,
    Coupon,
    GroupDeal,
    GroupParticipant,
    Membership,
    MembershipPause,
    PointsEntry,
    Redemption,
    RedemptionItem,
    Referral,
    Tier,
    TierChange,
)
from kehu.loyalty.points.redemption import redeem_gift
from kehu.loyalty.points.services import award_points, check_balances
from kehu.loyalty.tests.coupon_data import make_coupon, make_template
from kehu.loyalty.tests.points_data import (  # noqa: F401 - in_english is a fixture
    assert_ledger_consistent,
    in_english,
    make_member,
    make_order,
)
from tests.fixtures.records import make_customer

# The counter acts at the north team's store (SH01), where its people work.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english", "store")]


@pytest.fixture
def kept_member(sales):
    member = make_member(sales, name="王芳")
    award_points(member, 300, source="campaign", reason="开业", idempotency_key="kept:open")
    return member


@pytest.fixture
def merged_member(sales):
    member = make_member(sales, name="王芳 (重复)")
    award_points(member, 700, source="campaign", reason="开业", idempotency_key="merged:open")
    return member


def merge(actor, kept: Customer, merged: Customer) -> CustomerMerge:
    return merge_customers(actor, kept.pk, merged.pk)


def make_deal(leader: Customer, title: str = "社区团购") -> GroupDeal:
    deal = GroupDeal.objects.create(
        title=title, leader=leader, deadline=timezone.now() + timedelta(days=1)
    )
    GroupParticipant.objects.create(
        deal=deal, customer=leader, role="leader", joined_at=timezone.now()
    )
    return deal


def refer(referrer: Membership, referee: Customer) -> Referral:
    return Referral.objects.create(
        referrer=referrer,
        referee=referee,
        code_used=referrer.referral_code,
        attributed_at=timezone.now(),
    )


# --- before: a member could not be merged -----------------------------------------------------


def test_a_merged_customers_membership_moves_to_the_kept_customer(sales, merged_member):
    kept = make_customer(sales, name="王芳")
    record = merge(sales, kept, merged_member.customer)
    membership = Membership.objects.get()
    assert (membership.pk, membership.customer_id) == (merged_member.pk, kept.pk)
    assert (membership.card_number, membership.points_balance) == (merged_member.card_number, 700)
    assert record.moved_counts["memberships"] == 1
    assert not Customer.objects.filter(pk=merged_member.customer_id).exists()
    assert check_balances() == []


def test_a_member_kept_and_a_non_member_merged_keeps_the_membership(sales, kept_member):
    merged = make_customer(sales, name="王芳")
    record = merge(sales, kept_member.customer, merged)
    assert list(Membership.objects.values_list("pk", "customer_id", "points_balance")) == [
        (kept_member.pk, kept_member.customer_id, 300)
    ]
    assert "memberships" not in record.moved_counts


# --- two members fold into one ----------------------------------------------------------------


def test_two_memberships_fold_into_the_kept_one(sales, manager, kept_member, merged_member):
    gift = RedemptionItem.objects.create(name="雨伞", points_cost=200)
    redeem_gift(sales, merged_member.customer_id, gift.pk, idempotency_key="r1")
    merged_entries = set(
        PointsEntry.objects.filter(membership=merged_member).values_list("pk", flat=True)
    )
    record = merge(sales, kept_member.customer, merged_member.customer)
    assert not Membership.objects.filter(pk=merged_member.pk).exists()
    kept = Membership.objects.get(pk=kept_member.pk)
    assert kept.points_balance == 300 + 700 - 200
    assert assert_ledger_consistent(kept) == 800
    assert check_balances() == []
    assert merged_entries <= set(kept.points_entries.values_list("pk", flat=True))
    assert Redemption.objects.get().membership_id == kept.pk
    assert kept.tier_changes.filter(reason="enrolment").count() == 2  # both histories kept
    counts = record.moved_counts
    assert (counts["memberships_folded"], counts["points"], counts["points_entries"]) == (
        1,
        500,
        2,
    )
    assert (counts["redemptions"], counts["tier_changes"]) == (1, 1)
    assert kept.card_number == kept_member.card_number
    assert record.merged_snapshot["membership"] == {
        "card_number": merged_member.card_number,
        "referral_code": merged_member.referral_code,
        "tier": "普通",
        "status": "active",
        "points_balance": 500,
        "enrolled_on": merged_member.enrolled_on.isoformat(),
    }


def test_the_folded_balance_is_spent_oldest_first(sales, kept_member, merged_member):
    gift = RedemptionItem.objects.create(name="保温杯", points_cost=900)
    merge(sales, kept_member.customer, merged_member.customer)
    redeem_gift(sales, kept_member.customer_id, gift.pk, idempotency_key="cup")
    remaining = (
        PointsEntry.objects.filter(kind="earn")
        .order_by("pk")
        .values_list("membership", "remaining")
    )
    assert list(remaining) == [(kept_member.pk, 0), (kept_member.pk, 100)]
    assert check_balances() == []


def test_the_higher_tier_and_the_earlier_enrolment_are_kept(sales, kept_member, merged_member):
    gold = Tier.objects.get(name="金卡")
    review = timezone.localdate() + timedelta(days=100)
    Membership.objects.filter(pk=merged_member.pk).update(
        tier=gold,
        tier_since=date(2025, 6, 1),
        tier_review_on=review,
        enrolled_on=date(2024, 3, 1),
    )
    merge(sales, kept_member.customer, merged_member.customer)
    kept = Membership.objects.select_related("tier").get(pk=kept_member.pk)
    assert (kept.tier, kept.tier_since, kept.tier_review_on) == (gold, date(2025, 6, 1), review)
    assert kept.enrolled_on == date(2024, 3, 1)
    change = TierChange.objects.filter(membership=kept).order_by("-changed_at", "-pk").first()
    assert (change.previous_tier.name, change.tier, change.reason, change.changed_by) == (
        "普通",
        gold,
        "manual",
        sales,
    )


def test_a_lower_merged_tier_changes_nothing(sales, kept_member, merged_member):
    silver = Tier.objects.get(name="银卡")
    Membership.objects.filter(pk=kept_member.pk).update(tier=silver)
    merge(sales, kept_member.customer, merged_member.customer)
    assert Membership.objects.get(pk=kept_member.pk).tier == silver
    assert not TierChange.objects.filter(reason="manual").exists()


def test_an_active_merged_membership_reactivates_a_frozen_kept_one(
    sales, manager, kept_member, merged_member
):
    change_membership_status(manager, kept_member.customer_id, "frozen", "出国")
    merge(sales, kept_member.customer, merged_member.customer)
    kept = Membership.objects.get(pk=kept_member.pk)
    assert kept.status == "active"
    pause = MembershipPause.objects.get()
    assert (pause.membership_id, pause.end_reason, pause.ended_by) == (kept.pk, "Merged", sales)
    assert pause.ended_at is not None


def test_a_paused_merged_membership_leaves_the_kept_status(
    sales, manager, kept_member, merged_member
):
    change_membership_status(manager, merged_member.customer_id, "frozen", "暂停")
    merge(sales, kept_member.customer, merged_member.customer)
    kept = Membership.objects.get(pk=kept_member.pk)
    assert (kept.status, kept.points_balance) == ("active", 1000)
    pauses = list(MembershipPause.objects.values_list("membership", "status", "end_reason"))
    assert pauses == [(kept.pk, "frozen", "Merged")]
    assert not MembershipPause.objects.filter(ended_at__isnull=True).exists()


def test_two_paused_memberships_keep_the_kept_ones_pause(
    sales, manager, kept_member, merged_member
):
    change_membership_status(manager, kept_member.customer_id, "cancelled", "注销")
    change_membership_status(manager, merged_member.customer_id, "frozen", "暂停")
    record = merge(sales, kept_member.customer, merged_member.customer)
    kept = Membership.objects.get(pk=kept_member.pk)
    assert (kept.status, kept.points_balance) == ("cancelled", 700)
    open_pause = MembershipPause.objects.get(ended_at__isnull=True)
    assert (open_pause.membership_id, open_pause.status) == (kept.pk, "cancelled")
    assert record.moved_counts["membership_pauses"] == 1
    assert check_balances() == []


# --- coupons, referrals, group deals ----------------------------------------------------------


def test_coupons_move_to_the_kept_customer(sales, manager, kept_member):
    merged = make_customer(sales, name="王芳")
    template = make_template(manager)
    coupons = [make_coupon(template, merged), make_coupon(template, merged, status="void")]
    make_coupon(template, kept_member.customer)
    record = merge(sales, kept_member.customer, merged)
    assert set(Coupon.objects.values_list("customer", flat=True)) == {kept_member.customer_id}
    assert set(Coupon.objects.values_list("pk", "status")) >= {
        (coupons[0].pk, "issued"),
        (coupons[1].pk, "void"),
    }
    assert record.moved_counts["coupons"] == 2


def test_referrals_made_by_the_merged_member_count_for_the_kept_one(
    sales, kept_member, merged_member
):
    newcomer = make_customer(sales, name="新客")
    refer(merged_member, newcomer)
    record = merge(sales, kept_member.customer, merged_member.customer)
    assert Referral.objects.get().referrer_id == kept_member.pk
    assert record.moved_counts["referrals_made"] == 1


def test_the_merged_customers_own_referral_moves_when_the_kept_one_has_none(sales):
    referrer = make_member(sales, name="推荐人")
    kept, merged = make_customer(sales, name="王芳"), make_customer(sales, name="王芳")
    referral = refer(referrer, merged)
    record = merge(sales, kept, merged)
    assert Referral.objects.get(pk=referral.pk).referee_id == kept.pk
    assert record.moved_counts["referral"] == 1


def test_a_second_referral_of_the_same_person_is_dropped_but_its_points_stay(sales):
    first, second = make_member(sales, name="推荐人甲"), make_member(sales, name="推荐人乙")
    kept, merged = make_customer(sales, name="王芳"), make_customer(sales, name="王芳")
    kept_referral = refer(first, kept)
    refer(second, merged)
    award_points(second, 200, source="referral", reason="推荐奖励", idempotency_key="ref:2")
    record = merge(sales, kept, merged)
    assert list(Referral.objects.values_list("pk", "referee")) == [(kept_referral.pk, kept.pk)]
    assert record.moved_counts["referrals_dropped"] == 1
    assert Membership.objects.get(pk=second.pk).points_balance == 200
    assert check_balances() == []


def test_group_deals_and_participations_follow_the_kept_customer(sales, kept_member):
    merged = make_customer(sales, name="王芳")
    led = make_deal(merged, "团长是重复客户")
    other = make_deal(make_customer(sales, name="团长"), "别人的团")
    GroupParticipant.objects.create(
        deal=other, customer=merged, role="participant", joined_at=timezone.now()
    )
    record = merge(sales, kept_member.customer, merged)
    assert GroupDeal.objects.get(pk=led.pk).leader_id == kept_member.customer_id
    rows = set(GroupParticipant.objects.values_list("deal", "customer", "role"))
    assert rows == {
        (led.pk, kept_member.customer_id, "leader"),
        (other.pk, kept_member.customer_id, "participant"),
        (other.pk, other.leader_id, "leader"),
    }
    assert (
        record.moved_counts["group_deals_led"],
        record.moved_counts["group_participations"],
    ) == (
        1,
        2,
    )


def test_both_in_the_same_deal_leaves_one_participation_with_the_leader_role_and_order(sales):
    kept, merged = make_customer(sales, name="王芳"), make_customer(sales, name="王芳")
    deal = make_deal(merged)
    order = make_order(merged, "30.00")
    GroupParticipant.objects.filter(deal=deal, customer=merged).update(order=order)
    joined = GroupParticipant.objects.get(deal=deal).joined_at
    GroupParticipant.objects.create(
        deal=deal, customer=kept, role="participant", joined_at=joined + timedelta(hours=1)
    )
    record = merge(sales, kept, merged)
    row = GroupParticipant.objects.get(deal=deal)
    assert (row.customer_id, row.role, row.order_id, row.joined_at) == (
        kept.pk,
        "leader",
        order.pk,
        joined,
    )
    assert GroupDeal.objects.get(pk=deal.pk).leader_id == kept.pk
    assert record.moved_counts["group_participations_folded"] == 1


# --- a merge that fails -----------------------------------------------------------------------


def test_a_failing_merge_leaves_the_loyalty_records_where_they_were(
    sales, kept_member, merged_member, monkeypatch
):
    def refuse(*args):
        raise RuntimeError("a later step of the merge failed")

    # fails after the loyalty records moved, inside the same transaction
    monkeypatch.setattr("kehu.customers.services.fill_blank_fields", refuse)
    with pytest.raises(RuntimeError):
        merge(sales, kept_member.customer, merged_member.customer)
    assert set(Membership.objects.values_list("customer", "points_balance")) == {
        (kept_member.customer_id, 300),
        (merged_member.customer_id, 700),
    }
    assert PointsEntry.objects.filter(membership=merged_member).count() == 1
    assert not CustomerMerge.objects.exists()


def test_a_user_who_may_not_merge_changes_no_loyalty_record(
    service_agent, kept_member, merged_member
):
    with pytest.raises(NotAllowed):
        merge(service_agent, kept_member.customer, merged_member.customer)
    assert Membership.objects.count() == 2
    assert Membership.objects.get(pk=merged_member.pk).points_balance == 700


# --- approval requests ------------------------------------------------------------------------


def test_approval_requests_follow_the_kept_customer_and_membership(
    sales, manager, kept_member, merged_member
):
    # given a coupon waiting for approval for the merged customer, and a points adjustment
    # waiting for approval on the merged membership
    coupon_request = ApprovalRequest.objects.create(
        kind=ApprovalKind.COUPON,
        customer=merged_member.customer,
        coupon_template=make_template(manager),
        reason="补偿",
        idempotency_key="merge:coupon",
        requested_by=sales,
        requested_at=timezone.now(),
    )
    points_request = ApprovalRequest.objects.create(
        kind=ApprovalKind.POINTS,
        membership=merged_member,
        points=500,
        reason="补录",
        idempotency_key="merge:points",
        requested_by=sales,
        requested_at=timezone.now(),
    )

    # when the customers are merged
    record = merge(sales, kept_member.customer, merged_member.customer)

    # then both requests wait on the kept customer's side, nothing lost
    coupon_request.refresh_from_db()
    points_request.refresh_from_db()
    assert coupon_request.customer_id == kept_member.customer_id
    assert points_request.membership_id == kept_member.pk
    assert (coupon_request.status, points_request.status) == ("pending", "pending")
    assert record.moved_counts["approval_requests"] == 1
    assert record.moved_counts["membership_approval_requests"] == 1
