"""Group deals under concurrency on PostgreSQL: closing jobs and joins racing each other (real
threads, one connection each). See test_referrals_concurrency.py for why PostgreSQL only."""

import pytest
from django.db import connection

from kehu.loyalty.groupbuy.services import close_due_group_deals, close_group_deal, join_group_deal
from kehu.loyalty.models import GroupDeal, GroupParticipant, PointsEntry
from kehu.loyalty.tests.referral_data import balance, expire, make_deal, make_member, make_order
from kehu.loyalty.tests.test_referrals_concurrency import PARALLEL, run_together
from tests.fixtures.records import make_customer

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the race needs PostgreSQL's row locks"
    ),
]


def test_twenty_parallel_closings_reward_once(sales, channel):
    leader = make_member(sales, "团长王姐")
    deal = make_deal(sales, leader.customer, min_size=3)
    members = [make_member(sales, f"团员{index}") for index in range(3)]
    for member in members:
        order = make_order(member.customer, channel)
        join_group_deal(sales, deal.pk, member.customer_id, order_id=order.pk)
    expire(deal)
    calls = [
        close_due_group_deals if index % 2 else (lambda: close_group_deal(deal.pk))
        for index in range(PARALLEL)
    ]

    results = run_together(calls)

    assert [result for result in results if isinstance(result, Exception)] == []
    assert GroupDeal.objects.get(pk=deal.pk).status == "succeeded"
    assert PointsEntry.objects.count() == 4  # three orders and the leader's bonus
    assert [balance(member) for member in members] == [200, 200, 200]
    assert balance(leader) == 50


def test_twenty_parallel_joins_of_one_customer_keep_one_place(sales):
    deal = make_deal(sales, make_customer(sales, name="团长"))
    friend = make_customer(sales, name="邻居")

    results = run_together(
        [lambda: join_group_deal(sales, deal.pk, friend.pk) for _ in range(PARALLEL)]
    )

    assert [result for result in results if isinstance(result, Exception)] == []
    assert GroupParticipant.objects.filter(deal=deal, customer=friend).count() == 1
    assert sum(result.created for result in results) == 1


def test_one_order_raced_into_two_deals_counts_in_one(sales, channel):
    first = make_deal(sales, make_customer(sales, name="团长甲"))
    second = make_deal(sales, make_customer(sales, name="团长乙"))
    friend = make_customer(sales, name="邻居")
    order = make_order(friend, channel)

    results = run_together(
        [
            lambda deal=deal: join_group_deal(sales, deal.pk, friend.pk, order_id=order.pk)
            for deal in [first, second] * (PARALLEL // 2)
        ]
    )

    refusals = [result for result in results if isinstance(result, Exception)]
    assert {getattr(error, "code", repr(error)) for error in refusals} == {"order_in_another_deal"}
    assert len(refusals) == PARALLEL // 2
    assert GroupParticipant.objects.filter(customer=friend).count() == 1
    assert GroupParticipant.objects.filter(order=order).count() == 1
