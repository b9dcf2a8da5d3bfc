"""Group deals (团购): creating, joining and attaching orders with their rules, closing at the
deadline (success, failure, rewards exactly once), cancelling, and segmenting by role."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import timezone

from kehu.core.errors import NotAllowed, RuleViolation
from kehu.loyalty.groupbuy.services import (
    cancel_group_deal,
    close_due_group_deals,
    close_group_deal,
    create_group_deal,
    join_group_deal,
)
from kehu.loyalty.models import GroupDeal, GroupParticipant, Membership, PointsEntry
from kehu.loyalty.points.services import earn_for_order
from kehu.loyalty.tests.referral_data import (
    balance,
    deal_input,
    expire,
    ledger,
    make_deal,
    make_member,
    make_order,
)
from kehu.segments.rules import compile_rule
from tests.api_client import ApiClient
from tests.fixtures.records import make_customer


@pytest.fixture
def leader(sales):
    return make_member(sales, "团长王姐")


@pytest.fixture
def deal(sales, leader):
    return make_deal(sales, leader.customer)


def participants(deal):
    rows = GroupParticipant.objects.filter(deal=deal).order_by("joined_at", "pk")
    return list(rows.values_list("customer__name", "role", "order"))


# --- create -----------------------------------------------------------------------------------


def test_a_new_deal_has_its_leader_as_first_participant(deal, leader):
    assert (deal.status, deal.min_size, deal.leader) == ("open", 3, leader.customer)
    assert participants(deal) == [("团长王姐", "leader", None)]


def test_the_same_idempotency_key_answers_the_first_deal(sales, leader):
    first = create_group_deal(sales, deal_input(leader.customer, idempotency_key="shop-1"))
    again = create_group_deal(
        sales, deal_input(leader.customer, idempotency_key="shop-1", title="另一个")
    )
    assert (again.deal.pk, again.created, again.deal.title) == (
        first.deal.pk,
        False,
        "社区团购 鲜牛奶",
    )
    assert GroupDeal.objects.count() == 1 and GroupParticipant.objects.count() == 1


def test_field_problems_are_reported_together_and_nothing_is_written(sales, leader):
    bad = deal_input(
        leader.customer,
        title=" ",
        min_size=1,
        deadline=timezone.now() - timedelta(minutes=1),
        participant_points_multiplier=Decimal("0"),
    )
    with pytest.raises(ValidationError) as refused:
        create_group_deal(sales, bad)
    assert set(refused.value.message_dict) == {
        "title",
        "min_size",
        "deadline",
        "participant_points_multiplier",
    }
    assert not GroupDeal.objects.exists()


@pytest.mark.parametrize(
    ("changes", "code"),
    [({"product_sku": "NOPE"}, "unknown_product"), ({"store_code": "XX"}, "unknown_store")],
)
def test_unknown_product_or_store_is_refused(sales, leader, changes, code):
    with pytest.raises(RuleViolation) as refused:
        create_group_deal(sales, deal_input(leader.customer, **changes))
    assert refused.value.code == code
    assert not GroupDeal.objects.exists()


def test_the_leaders_order_may_come_with_the_deal(sales, leader, channel):
    order = make_order(leader.customer, channel)
    deal = make_deal(sales, leader.customer, leader_order_id=order.pk)
    assert participants(deal) == [("团长王姐", "leader", order.pk)]


def test_a_bad_leader_order_leaves_no_deal(sales, leader, channel, pool_customer):
    order = make_order(pool_customer, channel)
    with pytest.raises(RuleViolation) as refused:
        make_deal(sales, leader.customer, leader_order_id=order.pk)
    assert refused.value.code == "unknown_order"
    assert not GroupDeal.objects.exists()


def test_roles_and_visibility_of_creating(analyst, south_sales, leader):
    with pytest.raises(NotAllowed):
        create_group_deal(analyst, deal_input(leader.customer))
    with pytest.raises(Http404):
        create_group_deal(south_sales, deal_input(leader.customer))
    assert not GroupDeal.objects.exists()


# --- join -------------------------------------------------------------------------------------


def test_joining_twice_keeps_one_place_and_attaches_the_order_later(sales, deal, channel):
    friend = make_customer(sales, name="邻居小李")
    first = join_group_deal(sales, deal.pk, friend.pk)
    assert first.created is True and first.participant.role == "participant"
    order = make_order(friend, channel)
    again = join_group_deal(sales, deal.pk, friend.pk, order_id=order.pk)
    assert (again.created, again.participant.pk, again.participant.order) == (
        False,
        first.participant.pk,
        order,
    )
    assert join_group_deal(sales, deal.pk, friend.pk, order_id=order.pk).created is False
    assert participants(deal)[1] == ("邻居小李", "participant", order.pk)


def test_a_second_order_for_the_same_participant_is_refused(sales, deal, channel):
    friend = make_customer(sales, name="邻居小李")
    join_group_deal(sales, deal.pk, friend.pk, order_id=make_order(friend, channel).pk)
    with pytest.raises(RuleViolation) as refused:
        join_group_deal(sales, deal.pk, friend.pk, order_id=make_order(friend, channel).pk)
    assert refused.value.code == "order_already_attached"


def order_case(sales, deal, channel, store, product, case):
    """A customer and an order that breaks one rule of joining."""
    friend = make_customer(sales, name="邻居小李")
    if case == "unknown_order":
        stranger = make_customer(sales, name="路人")
        return friend, make_order(stranger, channel)
    if case == "order_in_another_deal":
        order = make_order(friend, channel)
        other = make_deal(sales, make_customer(sales, name="另一团长"))
        join_group_deal(sales, other.pk, friend.pk, order_id=order.pk)
        return friend, order
    if case == "order_not_valid":
        return friend, make_order(friend, channel, status="cancelled")
    if case == "wrong_store":
        GroupDeal.objects.filter(pk=deal.pk).update(store=store)
        return friend, make_order(friend, channel)
    GroupDeal.objects.filter(pk=deal.pk).update(product=product)
    return friend, make_order(friend, channel)


@pytest.mark.parametrize(
    "case",
    [
        "unknown_order",
        "order_in_another_deal",
        "order_not_valid",
        "wrong_store",
        "product_not_in_order",
    ],
)
def test_orders_that_may_not_count_are_refused(sales, deal, channel, store, product, case):
    friend, order = order_case(sales, deal, channel, store, product, case)
    with pytest.raises(RuleViolation) as refused:
        join_group_deal(sales, deal.pk, friend.pk, order_id=order.pk)
    assert refused.value.code == case
    assert not GroupParticipant.objects.filter(deal=deal, customer=friend).exists()


def test_an_order_at_the_deals_store_with_its_product_counts(sales, deal, channel, store, product):
    GroupDeal.objects.filter(pk=deal.pk).update(store=store, product=product)
    friend = make_customer(sales, name="邻居小李")
    order = make_order(friend, channel, product=product, store=store)
    assert join_group_deal(sales, deal.pk, friend.pk, order_id=order.pk).created is True


def test_nobody_joins_after_the_deadline_or_a_cancellation(sales, marketer, deal):
    friend = make_customer(sales, name="邻居小李")
    expire(deal)
    with pytest.raises(RuleViolation) as late:
        join_group_deal(sales, deal.pk, friend.pk)
    assert late.value.code == "deadline_passed"
    other = make_deal(sales, make_customer(sales, name="另一团长"))
    cancel_group_deal(marketer, other.pk)
    with pytest.raises(RuleViolation) as cancelled:
        join_group_deal(sales, other.pk, friend.pk)
    assert cancelled.value.code == "deal_not_open"
    assert GroupParticipant.objects.filter(customer=friend).count() == 0


def test_a_customer_the_user_may_not_see_cannot_join(sales, deal, south_customer, analyst):
    with pytest.raises(Http404):
        join_group_deal(sales, deal.pk, south_customer.pk)
    with pytest.raises(NotAllowed):
        join_group_deal(analyst, deal.pk, south_customer.pk)
    assert GroupParticipant.objects.count() == 1


# --- close ------------------------------------------------------------------------------------


@pytest.fixture
def full_deal(sales, leader, channel):
    """Leader and two members with ¥100 orders, and a non-member with an order: 4 of 3."""
    deal = make_deal(sales, leader.customer)
    join_group_deal(
        sales, deal.pk, leader.customer_id, order_id=make_order(leader.customer, channel).pk
    )
    members = [make_member(sales, name) for name in ("小张", "小刘")]
    for member in members:
        order = make_order(member.customer, channel)
        join_group_deal(sales, deal.pk, member.customer_id, order_id=order.pk)
    guest = make_customer(sales, name="非会员")
    join_group_deal(sales, deal.pk, guest.pk, order_id=make_order(guest, channel).pk)
    return {"deal": deal, "members": members, "guest": guest}


def test_a_full_deal_succeeds_and_pays_once(leader, full_deal):
    deal = full_deal["deal"]
    expire(deal)
    run = close_due_group_deals()
    assert (run.succeeded, run.failed, run.deal_ids) == (1, 0, [deal.pk])
    deal.refresh_from_db()
    assert deal.status == "succeeded" and deal.closed_at is not None
    leader_order = GroupParticipant.objects.get(deal=deal, role="leader").order_id
    assert ledger(leader) == [(f"order:{leader_order}:earn", 200), (f"group:{deal.pk}:leader", 50)]
    for member in full_deal["members"]:
        assert balance(member) == 200  # ¥100 × 1 point × tier 1.00 × deal 2.00
    assert not Membership.objects.filter(customer=full_deal["guest"]).exists()
    entries = PointsEntry.objects.count()
    assert close_due_group_deals().succeeded == 0
    assert close_group_deal(deal.pk).status == "succeeded"
    assert PointsEntry.objects.count() == entries == 4


def test_a_deal_short_of_its_minimum_fails_without_points(sales, leader, channel, deal):
    friend = make_member(sales, "小张")
    join_group_deal(
        sales, deal.pk, friend.customer_id, order_id=make_order(friend.customer, channel).pk
    )
    expire(deal)
    run = close_due_group_deals()
    assert (run.succeeded, run.failed) == (0, 1)
    deal.refresh_from_db()
    assert deal.status == "failed" and deal.closed_at is not None
    assert not PointsEntry.objects.exists()
    assert close_due_group_deals().failed == 0


def test_deals_before_their_deadline_stay_open(full_deal):
    assert close_due_group_deals().succeeded == 0
    assert close_group_deal(full_deal["deal"].pk).status == "open"
    assert not PointsEntry.objects.exists()


def test_an_order_that_earned_when_posted_gets_the_difference(sales, full_deal):
    deal = full_deal["deal"]
    member = full_deal["members"][0]
    order = GroupParticipant.objects.get(deal=deal, customer=member.customer).order
    assert earn_for_order(order).points == 100  # the base rate, as when the order was posted
    expire(deal)
    close_due_group_deals()
    assert ledger(member) == [
        (f"order:{order.pk}:earn", 100),
        (f"group:{deal.pk}:order:{order.pk}", 100),
    ]
    close_group_deal(deal.pk)
    assert balance(member) == 200


def test_a_member_frozen_after_earning_gets_no_top_up_and_the_deal_still_closes(sales, full_deal):
    deal = full_deal["deal"]
    frozen, other = full_deal["members"]
    order = GroupParticipant.objects.get(deal=deal, customer=frozen.customer).order
    assert earn_for_order(order).points == 100
    Membership.objects.filter(pk=frozen.pk).update(status="frozen")
    expire(deal)
    assert close_due_group_deals().succeeded == 1
    assert ledger(frozen) == [(f"order:{order.pk}:earn", 100)]
    assert balance(other) == 200


def test_an_order_attached_after_success_earns_at_once(sales, full_deal, channel):
    deal = full_deal["deal"]
    late = make_member(sales, "迟到的")
    join_group_deal(sales, deal.pk, late.customer_id)
    expire(deal)
    close_due_group_deals()
    assert balance(late) == 0
    order = make_order(late.customer, channel, "30.00")
    join_group_deal(sales, deal.pk, late.customer_id, order_id=order.pk)
    join_group_deal(sales, deal.pk, late.customer_id, order_id=order.pk)
    assert ledger(late) == [(f"order:{order.pk}:earn", 60)]


def test_no_leader_bonus_for_a_frozen_leader(leader, full_deal):
    Membership.objects.filter(pk=leader.pk).update(status="frozen")
    expire(full_deal["deal"])
    close_due_group_deals()
    assert not PointsEntry.objects.filter(idempotency_key__startswith="group:").exists()


# --- cancel -----------------------------------------------------------------------------------


def test_a_manager_cancels_an_open_deal_once(manager, sales, deal):
    with pytest.raises(NotAllowed):
        cancel_group_deal(sales, deal.pk)
    assert GroupDeal.objects.get(pk=deal.pk).status == "open"
    cancelled = cancel_group_deal(manager, deal.pk)
    assert cancelled.status == "cancelled" and cancelled.closed_at is not None
    with pytest.raises(RuleViolation) as again:
        cancel_group_deal(manager, deal.pk)
    assert again.value.code == "deal_not_open"
    expire(deal)
    assert close_due_group_deals().succeeded == 0
    assert GroupDeal.objects.get(pk=deal.pk).status == "cancelled"


# --- segments ---------------------------------------------------------------------------------


@pytest.fixture
def group_buyers(sales, leader, full_deal, channel):
    """A succeeded deal (王姐 leads, 小张 小刘 非会员 join) and a failed one led by 小张."""
    failed = make_deal(sales, full_deal["members"][0].customer)
    expire(full_deal["deal"])
    expire(failed)
    close_due_group_deals()
    second = make_deal(sales, full_deal["members"][1].customer, min_size=2)
    join_group_deal(sales, second.pk, leader.customer_id)
    expire(second)
    close_due_group_deals()
    make_customer(sales, name="从不团购")
    return full_deal


def names(rule):
    from kehu.customers.models import Customer

    return set(Customer.objects.filter(compile_rule(rule)).values_list("name", flat=True))


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ({"field": "group_buy_role", "op": "eq", "value": "leader"}, {"团长王姐", "小刘"}),
        (
            {"field": "group_buy_role", "op": "eq", "value": "participant"},
            {"团长王姐", "小张", "小刘", "非会员"},
        ),
        (
            {"field": "group_buy_role", "op": "ne", "value": "leader"},
            {"小张", "非会员", "从不团购"},
        ),
        (
            {"field": "group_buy_role", "op": "not_in", "value": ["leader", "participant"]},
            {"从不团购"},
        ),
        ({"field": "group_deals_joined", "op": "gte", "value": 2}, {"团长王姐", "小刘"}),
        ({"field": "group_deals_joined", "op": "eq", "value": 0}, {"从不团购"}),
    ],
)
def test_segment_rules_select_group_buyers(group_buyers, rule, expected):
    assert names(rule) == expected


def test_a_segment_preview_finds_the_leaders_end_to_end(marketer, group_buyers):
    rule = {"field": "group_buy_role", "op": "eq", "value": "leader"}
    body = ApiClient(marketer).post("/segments/preview", {"rule": rule}).json()
    assert body["count"] == 2
    assert {item["name"] for item in body["sample"]} == {"团长王姐", "小刘"}
    wrong = ApiClient(marketer).post("/segments/preview", {"rule": {**rule, "value": "boss"}})
    assert wrong.status_code == 422
