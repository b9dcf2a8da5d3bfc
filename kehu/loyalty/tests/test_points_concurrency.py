"""The points ledger under concurrency on PostgreSQL: real threads, one connection each.

50 parallel redemptions of the same points succeed once; the last gift in stock goes to one of
20 members; the same order earned 20 times in parallel earns once; the same redemption retried
in parallel is written once. SQLite serialises every writer (``BEGIN IMMEDIATE``), so these
races cannot happen there, and its in-memory test database does not wait for locks: the bench
(bench/bench_loyalty_points.py) runs parallel redemptions against a SQLite file instead.
"""

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection

from kehu.loyalty.models import PointsEntry, PointsKind, Redemption, RedemptionItem
from kehu.loyalty.points.bulk import earn_all_pending_orders
from kehu.loyalty.points.redemption import RedemptionResult, redeem_cash_offset, redeem_gift
from kehu.loyalty.points.services import award_points, earn_for_order
from kehu.loyalty.tests.points_data import assert_ledger_consistent, make_member, make_order

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("store"),  # the counter: the north team's store
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the race needs PostgreSQL's row locks"
    ),
]


def run_together(calls: list[Callable[[], Any]]) -> list[Any]:
    """Start every call at the same moment in its own thread; answers results or exceptions."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], Any]) -> Any:
        try:
            barrier.wait()
            return call()
        except Exception as error:  # returned for the test to inspect
            return error
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def codes(results: list[Any]) -> list[str]:
    return sorted(
        getattr(result, "code", repr(result)) for result in results if isinstance(result, Exception)
    )


def test_fifty_parallel_redemptions_of_the_same_points_succeed_once(sales):
    member = make_member(sales)
    award_points(member, 500, source="campaign", reason="活动", idempotency_key="camp")

    results = run_together(
        [
            lambda index=index: redeem_cash_offset(
                sales, member.customer_id, Decimal("5.00"), idempotency_key=f"pay-{index}"
            )
            for index in range(50)
        ]
    )

    assert sum(isinstance(result, RedemptionResult) for result in results) == 1
    assert codes(results) == ["insufficient_points"] * 49
    assert Redemption.objects.count() == 1
    assert assert_ledger_consistent(member) == 0


def test_the_last_gift_in_stock_goes_to_one_member(sales):
    members = [make_member(sales) for _ in range(20)]
    for member in members:
        award_points(member, 300, source="campaign", reason="活动", idempotency_key=f"c{member.pk}")
    gift = RedemptionItem.objects.create(name="保温杯", points_cost=300, stock=1)

    results = run_together(
        [
            lambda member=member: redeem_gift(
                sales, member.customer_id, gift.pk, idempotency_key=f"gift-{member.pk}"
            )
            for member in members
        ]
    )

    assert sum(isinstance(result, RedemptionResult) for result in results) == 1
    assert codes(results) == ["out_of_stock"] * 19
    gift.refresh_from_db()
    assert gift.stock == 0
    assert sorted(assert_ledger_consistent(member) for member in members) == [0] + [300] * 19


def test_one_redemption_retried_in_parallel_is_written_once(sales):
    member = make_member(sales)
    award_points(member, 1000, source="campaign", reason="活动", idempotency_key="camp")

    results = run_together(
        [
            lambda: redeem_cash_offset(
                sales, member.customer_id, Decimal("3.00"), idempotency_key="pay-once"
            )
            for _ in range(20)
        ]
    )

    assert codes(results) == []
    assert {result.redemption.pk for result in results} == {Redemption.objects.get().pk}
    assert sum(result.created for result in results) == 1
    assert assert_ledger_consistent(member) == 700


def test_the_same_order_earned_twenty_times_in_parallel_earns_once(sales):
    member = make_member(sales)
    order = make_order(member.customer, "256.00")
    calls: list[Callable[[], Any]] = [
        (lambda: earn_for_order(order)) if index % 4 else earn_all_pending_orders
        for index in range(20)
    ]

    results = run_together(calls)

    assert codes(results) == []
    assert PointsEntry.objects.filter(order=order, kind=PointsKind.EARN).count() == 1
    assert assert_ledger_consistent(member) == 256


def test_redemptions_racing_refund_reversals_and_expiry_keep_the_ledger_exact(sales):
    from kehu.loyalty.points.expiry import expire_points
    from kehu.loyalty.points.refunds import reverse_points_for_refund
    from kehu.loyalty.tests.points_data import make_refund

    member = make_member(sales)
    orders = [make_order(member.customer, "100.00") for _ in range(5)]
    for order in orders:
        earn_for_order(order)
    refunds = [make_refund(order, "50.00") for order in orders]
    calls: list[Callable[[], Any]] = [
        *(
            lambda index=index: redeem_cash_offset(
                sales, member.customer_id, Decimal("1.00"), idempotency_key=f"pay-{index}"
            )
            for index in range(10)
        ),
        *(lambda refund=refund: reverse_points_for_refund(refund) for refund in refunds),
        expire_points,
    ]

    results = run_together(calls)

    assert set(codes(results)) <= {"insufficient_points"}
    redeemed = 100 * Redemption.objects.count()
    reversed_points = -sum(
        PointsEntry.objects.filter(kind=PointsKind.REVERSE).values_list("points", flat=True)
    )
    balance = assert_ledger_consistent(member)
    assert balance == 500 - redeemed - reversed_points
    assert reversed_points == 250 or balance == 0  # a shortfall only once nothing was left
