"""Referrals: attribution at sign-up and its abuse checks, the reward on the first qualifying
purchase (once, whichever path pays it), the cap per referrer, the tree and the report."""

from datetime import timedelta

import pytest
from django.http import Http404
from django.utils import timezone

from kehu.commerce.models import OrderStatus
from kehu.core.errors import NotAllowed, RuleViolation
from kehu.loyalty.models import (
    LoyaltySettings,
    Membership,
    PointsEntry,
    Referral,
)
from kehu.loyalty.referrals.queries import flatten_tree, referral_report, referral_tree
from kehu.loyalty.referrals.services import (
    attribute_referral,
    reward_pending_referrals,
    reward_referral,
    reward_referral_for_order,
)
from kehu.loyalty.tests.referral_data import balance, days_ago, ledger, make_member, make_order
from tests.fixtures.records import make_customer


@pytest.fixture
def referrer(sales):
    return make_member(sales, "王芳", mobile="13900000001")


@pytest.fixture
def newcomer(sales):
    return make_customer(sales, name="李娜", mobile="13900000002")


def attribute(actor, customer, membership, **options):
    return attribute_referral(actor, customer.pk, membership.referral_code, **options)


# --- attribution ------------------------------------------------------------------------------


def test_a_new_customer_is_attributed_pending(sales, referrer, newcomer):
    result = attribute(sales, newcomer, referrer)
    assert result.created is True
    referral = Referral.objects.get()
    assert (referral.referrer, referral.referee, referral.status) == (referrer, newcomer, "pending")
    assert referral.code_used == referrer.referral_code
    assert referral.qualifying_order is None and referral.rewarded_at is None


def test_attributing_again_with_the_same_code_answers_the_first(sales, referrer, newcomer):
    first = attribute(sales, newcomer, referrer).referral
    code = " " + referrer.referral_code.lower() + " "
    again = attribute_referral(sales, newcomer.pk, code)
    assert (again.referral.pk, again.created) == (first.pk, False)
    assert Referral.objects.count() == 1


def test_another_code_for_a_referred_customer_is_refused(sales, referrer, newcomer):
    attribute(sales, newcomer, referrer)
    other = make_member(sales, "赵敏")
    with pytest.raises(RuleViolation) as refused:
        attribute(sales, newcomer, other)
    assert refused.value.code == "already_referred"
    assert list(Referral.objects.values_list("referrer", flat=True)) == [referrer.pk]


def test_an_unknown_code_is_refused(sales, newcomer):
    with pytest.raises(RuleViolation) as refused:
        attribute_referral(sales, newcomer.pk, "NOSUCH12")
    assert refused.value.code == "unknown_code"
    assert refused.value.details == {"field": "code"}
    assert not Referral.objects.exists()


def test_a_code_of_a_frozen_membership_is_refused(sales, referrer, newcomer):
    Membership.objects.filter(pk=referrer.pk).update(status="frozen")
    with pytest.raises(RuleViolation) as refused:
        attribute(sales, newcomer, referrer)
    assert refused.value.code == "referrer_inactive"
    assert not Referral.objects.exists()


def test_a_member_cannot_refer_themselves(sales, referrer):
    with pytest.raises(RuleViolation) as refused:
        attribute(sales, referrer.customer, referrer)
    assert refused.value.code == "self_referral"
    assert not Referral.objects.exists()


def test_a_second_record_with_the_referrers_mobile_is_a_self_referral(sales, referrer):
    twin = make_customer(sales, name="王芳 (新号)", mobile=" 13900000001 ")
    with pytest.raises(RuleViolation) as refused:
        attribute(sales, twin, referrer)
    assert refused.value.code == "self_referral"
    assert not Referral.objects.exists()


def test_customers_without_a_mobile_are_not_self_referrals_of_each_other(sales):
    referrer = make_member(sales, "无号码会员", mobile="")
    newcomer = make_customer(sales, name="无号码新客", mobile="")
    assert attribute(sales, newcomer, referrer).created is True


def test_a_customer_who_bought_before_is_not_new(sales, referrer, newcomer, channel):
    make_order(newcomer, channel, "30.00", ordered_at=days_ago(3))
    with pytest.raises(RuleViolation) as refused:
        attribute(sales, newcomer, referrer)
    assert refused.value.code == "already_customer"
    assert not Referral.objects.exists()


@pytest.mark.parametrize("status", [OrderStatus.PENDING, OrderStatus.CANCELLED, "refunded"])
def test_orders_that_are_not_purchases_keep_a_customer_new(
    sales, referrer, newcomer, channel, status
):
    make_order(newcomer, channel, "30.00", ordered_at=days_ago(3), status=status)
    assert attribute(sales, newcomer, referrer).created is True


def test_roles_without_the_counter_may_not_attribute(marketer, referrer, newcomer):
    with pytest.raises(NotAllowed):
        attribute(marketer, newcomer, referrer)
    assert not Referral.objects.exists()


def test_a_customer_the_user_may_not_see_cannot_be_attributed(south_sales, referrer, newcomer):
    with pytest.raises(Http404):
        attribute(south_sales, newcomer, referrer)
    assert not Referral.objects.exists()


# --- the reward -------------------------------------------------------------------------------


def test_the_first_qualifying_purchase_rewards_both_sides(sales, referrer, newcomer, channel):
    referral = attribute(sales, newcomer, referrer, now=days_ago(2)).referral
    small = make_order(newcomer, channel, "49.99", ordered_at=days_ago(1.5))
    assert reward_referral_for_order(small).status == "pending"
    order = make_order(newcomer, channel, "50.00", ordered_at=days_ago(1))
    rewarded = reward_referral_for_order(order)
    assert rewarded.status == "rewarded" and rewarded.qualifying_order == order
    assert rewarded.rewarded_at is not None
    assert ledger(referrer) == [(f"referral:{referral.pk}:referrer", 200)]
    new_member = Membership.objects.get(customer=newcomer)
    assert new_member.channel == "referral"
    assert new_member.enrolled_on == timezone.localdate(days_ago(2))
    assert ledger(new_member) == [(f"referral:{referral.pk}:referee", 100)]
    assert (balance(referrer), balance(new_member)) == (200, 100)


def test_posting_the_qualifying_order_pays_the_referral_at_once(
    sales, referrer, newcomer, channel, django_capture_on_commit_callbacks
):
    from decimal import Decimal

    from kehu.commerce.services import LineInput, OrderInput, create_order

    referral = attribute(sales, newcomer, referrer, now=days_ago(2)).referral
    line = LineInput(product_name="咖啡豆", quantity=Decimal(1), unit_price=Decimal("88.00"))
    posted = OrderInput(newcomer.pk, channel.code, "POS-REF-1", days_ago(1), (line,))
    with django_capture_on_commit_callbacks(execute=True):
        create_order(sales, posted)
    referral.refresh_from_db()
    assert referral.status == "rewarded"  # no periodic job ran
    assert balance(referrer) == 200


def test_refunds_count_against_the_minimum(sales, referrer, newcomer, channel):
    attribute(sales, newcomer, referrer, now=days_ago(2))
    order = make_order(
        newcomer, channel, "80.00", refunded_amount="40.00", status="partially_refunded"
    )
    assert reward_referral_for_order(order).status == "pending"
    assert not PointsEntry.objects.exists()
    assert not Membership.objects.filter(customer=newcomer).exists()


def test_an_order_without_a_pending_referral_does_nothing(sales, newcomer, channel):
    order = make_order(newcomer, channel, "500.00")
    assert reward_referral_for_order(order) is None
    assert not PointsEntry.objects.exists()


def test_the_job_and_the_direct_call_pay_once(sales, referrer, newcomer, channel):
    referral = attribute(sales, newcomer, referrer, now=days_ago(2)).referral
    order = make_order(newcomer, channel, "120.00", ordered_at=days_ago(1))
    reward_referral_for_order(order)
    run = reward_pending_referrals()
    reward_referral(referral.pk)
    reward_referral_for_order(order)
    assert (run.rewarded, run.rejected, run.still_pending) == (0, 0, 0)
    assert PointsEntry.objects.count() == 2
    assert balance(referrer) == 200
    assert balance(Membership.objects.get(customer=newcomer)) == 100


def test_the_job_pays_what_the_direct_call_missed(sales, referrer, newcomer, channel):
    attribute(sales, newcomer, referrer, now=days_ago(2))
    make_order(newcomer, channel, "120.00", ordered_at=days_ago(1))
    run = reward_pending_referrals()
    assert (run.rewarded, run.rejected, run.still_pending) == (1, 0, 0)
    assert Referral.objects.get().status == "rewarded"
    assert reward_pending_referrals().rewarded == 0
    assert PointsEntry.objects.count() == 2


def test_an_earlier_purchase_posted_late_rejects_the_referral(sales, referrer, newcomer, channel):
    attribute(sales, newcomer, referrer, now=days_ago(2))
    make_order(newcomer, channel, "20.00", ordered_at=days_ago(5))
    make_order(newcomer, channel, "200.00", ordered_at=days_ago(1))
    run = reward_pending_referrals()
    assert (run.rewarded, run.rejected) == (0, 1)
    referral = Referral.objects.get()
    assert (referral.status, referral.rejected_reason) == ("rejected", "already_customer")
    assert not PointsEntry.objects.exists()


def test_a_referrer_frozen_before_the_reward_is_rejected(sales, referrer, newcomer, channel):
    attribute(sales, newcomer, referrer, now=days_ago(2))
    Membership.objects.filter(pk=referrer.pk).update(status="frozen")
    order = make_order(newcomer, channel, "200.00", ordered_at=days_ago(1))
    referral = reward_referral_for_order(order)
    assert (referral.status, referral.rejected_reason) == ("rejected", "referrer_inactive")
    assert not PointsEntry.objects.exists()


def test_a_new_member_already_frozen_is_rejected(sales, referrer, newcomer, channel):
    attribute(sales, newcomer, referrer, now=days_ago(2))
    from kehu.loyalty.members.services import enrol_member

    enrol_member(sales, newcomer.pk)
    Membership.objects.filter(customer=newcomer).update(status="frozen")
    referral = reward_referral_for_order(make_order(newcomer, channel, "200.00"))
    assert (referral.status, referral.rejected_reason) == ("rejected", "referee_inactive")
    assert not PointsEntry.objects.exists()


def test_rewards_stop_at_the_cap_but_referrals_stay_recorded(sales, referrer, channel):
    settings = LoyaltySettings.current()
    settings.referrals_per_referrer_cap = 2
    settings.save()
    friends = [make_customer(sales, name=f"朋友{index}") for index in range(3)]
    for index, friend in enumerate(friends):
        attribute(sales, friend, referrer, now=days_ago(5))
        make_order(friend, channel, "100.00", ordered_at=days_ago(3 - index))
    run = reward_pending_referrals()
    assert (run.rewarded, run.rejected, run.still_pending) == (2, 1, 0)
    statuses = dict(Referral.objects.values_list("referee", "status"))
    assert [statuses[friend.pk] for friend in friends] == ["rewarded", "rewarded", "rejected"]
    last = Referral.objects.get(referee=friends[2])
    assert last.rejected_reason == "cap_reached" and last.qualifying_order is None
    assert balance(referrer) == 400
    assert not Membership.objects.filter(customer=friends[2]).exists()


# --- the tree and the report ------------------------------------------------------------------


@pytest.fixture
def family(sales, channel):
    """A(王) brought B and C; B brought D; D brought E: three levels below A."""
    a = make_member(sales, "王一")
    b = make_member(sales, "王二")
    c = make_customer(sales, name="王三")
    attribute(sales, b.customer, a, now=days_ago(40))
    attribute(sales, c, a, now=days_ago(40))
    d = make_member(sales, "王四")
    attribute(sales, d.customer, b, now=days_ago(20))
    e = make_customer(sales, name="王五")
    attribute(sales, e, d, now=days_ago(10))
    return {"a": a.customer, "b": b.customer, "c": c, "d": d.customer, "e": e}


def test_the_tree_holds_three_levels(sales, family, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):
        top = referral_tree(sales, family["a"].pk)
        rows = [(node.name, node.depth) for node in flatten_tree(top)]
    assert rows == [("王二", 1), ("王四", 2), ("王五", 3), ("王三", 1)]
    b_node = top[0]
    assert [child.name for child in b_node.children] == ["王四"]
    assert [child.name for child in b_node.children[0].children] == ["王五"]
    assert all(node.status == "pending" for node in flatten_tree(top))


def test_the_tree_can_start_lower_and_stop_early(sales, family):
    assert [n.name for n in flatten_tree(referral_tree(sales, family["b"].pk))] == ["王四", "王五"]
    shallow = flatten_tree(referral_tree(sales, family["a"].pk, max_depth=2))
    assert [(node.name, node.depth) for node in shallow] == [("王二", 1), ("王四", 2), ("王三", 1)]


def test_the_tree_hides_names_the_user_may_not_see(sales, other_sales, family):
    from kehu.customers.models import Customer

    Customer.objects.filter(pk=family["d"].pk).update(owner=other_sales)
    nodes = flatten_tree(referral_tree(sales, family["a"].pk))
    assert [(node.name, node.is_visible) for node in nodes] == [
        ("王二", True),
        ("", False),
        ("王五", True),
        ("王三", True),
    ]


def test_a_referral_loop_ends(sales):
    first = make_member(sales, "甲")
    second = make_member(sales, "乙")
    attribute(sales, second.customer, first, now=days_ago(5))
    attribute(sales, first.customer, second, now=days_ago(4))
    rows = [
        (node.name, node.depth) for node in flatten_tree(referral_tree(sales, first.customer_id))
    ]
    assert rows == [("乙", 1), ("甲", 2)]


def test_the_report_counts_conversions_rejections_and_points(sales, channel):
    star = make_member(sales, "推荐达人")
    other = make_member(sales, "普通会员")
    buyers = [make_customer(sales, name=f"新客{index}") for index in range(3)]
    for buyer in buyers:
        attribute(sales, buyer, star, now=days_ago(5))
        make_order(buyer, channel, "100.00", ordered_at=days_ago(1))
    waiting = make_customer(sales, name="还没买")
    attribute(sales, waiting, other, now=days_ago(5))
    late = make_customer(sales, name="老客")
    attribute(sales, late, other, now=days_ago(5))
    make_order(late, channel, "10.00", ordered_at=days_ago(9))
    reward_pending_referrals()

    report = referral_report(sales)

    assert (report.attributed, report.pending, report.rewarded, report.rejected) == (5, 1, 3, 1)
    assert report.conversion == pytest.approx(0.6)
    assert report.points_paid == 3 * (200 + 100)
    assert [(item.reason, item.count) for item in report.rejections] == [("already_customer", 1)]
    assert [(item.name, item.referred, item.rewarded) for item in report.top_referrers] == [
        ("推荐达人", 3, 3),
        ("普通会员", 2, 0),
    ]


def test_an_empty_report(sales):
    report = referral_report(sales)
    assert (report.attributed, report.conversion, report.points_paid) == (0, None, 0)
    assert report.top_referrers == [] and report.rejections == []


def test_attribution_time_defaults_to_now(sales, referrer, newcomer):
    before = timezone.now()
    referral = attribute(sales, newcomer, referrer).referral
    assert before <= referral.attributed_at <= timezone.now() + timedelta(seconds=1)
