"""Referrals under concurrency on PostgreSQL: real threads, each with its own connection.

20 parallel reward calls (the direct call and the periodic job mixed) pay a referral once —
points and one coupon per side —, 20 parallel attributions of the same sign-up record one
referral, and the last coupon of a template goes to one of two referrals paid at once. SQLite
serialises every writer (`BEGIN IMMEDIATE`), so the race cannot happen there; its in-memory
test database does not wait for locks either, hence PostgreSQL only.
"""

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connection

from kehu.accounts.models import Notification
from kehu.loyalty.models import (
    Coupon,
    CouponTemplate,
    LoyaltySettings,
    Membership,
    PointsEntry,
    Referral,
)
from kehu.loyalty.referrals.services import (
    attribute_referral,
    reward_pending_referrals,
    reward_referral_for_order,
)
from kehu.loyalty.tests.coupon_data import make_template
from kehu.loyalty.tests.referral_data import balance, days_ago, make_member, make_order
from tests.fixtures.records import make_customer

PARALLEL = 20

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the race needs PostgreSQL's row locks"
    ),
]


def run_together(calls: list[Callable[[], Any]]) -> list[Any]:
    """Start every call at the same moment in its own thread; return results or exceptions."""
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


def test_twenty_parallel_rewards_pay_once(sales, channel):
    referrer = make_member(sales, "王芳")
    newcomer = make_customer(sales, name="李娜")
    attribute_referral(sales, newcomer.pk, referrer.referral_code, now=days_ago(2))
    order = make_order(newcomer, channel, "150.00", ordered_at=days_ago(1))
    calls: list[Callable[[], Any]] = [
        (lambda: reward_referral_for_order(order)) if index % 2 else reward_pending_referrals
        for index in range(PARALLEL)
    ]

    results = run_together(calls)

    assert [result for result in results if isinstance(result, Exception)] == []
    referral = Referral.objects.get()
    assert (referral.status, referral.qualifying_order_id) == ("rewarded", order.pk)
    assert PointsEntry.objects.count() == 2
    assert Membership.objects.filter(customer=newcomer).count() == 1
    assert balance(referrer) == 200
    assert balance(Membership.objects.get(customer=newcomer)) == 100


def test_twenty_parallel_rewards_give_one_coupon_per_side(sales, manager, channel):
    welcome = make_template(manager, name="新人礼")
    thanks = make_template(manager, name="推荐有礼")
    LoyaltySettings.objects.filter(pk=LoyaltySettings.current().pk).update(
        referrer_reward_coupon=thanks, referee_reward_coupon=welcome
    )
    referrer = make_member(sales, "王芳")
    newcomer = make_customer(sales, name="李娜")
    referral = attribute_referral(sales, newcomer.pk, referrer.referral_code, now=days_ago(2))
    order = make_order(newcomer, channel, "150.00", ordered_at=days_ago(1))
    calls: list[Callable[[], Any]] = [
        (lambda: reward_referral_for_order(order)) if index % 2 else reward_pending_referrals
        for index in range(PARALLEL)
    ]

    results = run_together(calls)

    assert [result for result in results if isinstance(result, Exception)] == []
    key = f"referral:{referral.referral.pk}"
    coupons = Coupon.objects.order_by("issue_key").values_list("issue_key", "customer", "template")
    assert list(coupons) == [
        (f"{key}:referee:coupon", newcomer.pk, welcome.pk),
        (f"{key}:referrer:coupon", referrer.customer_id, thanks.pk),
    ]
    issued = dict(CouponTemplate.objects.values_list("pk", "issued_count"))
    assert issued == {welcome.pk: 1, thanks.pk: 1}
    assert PointsEntry.objects.count() == 2
    assert balance(referrer) == 200


def test_the_last_coupon_goes_to_one_of_two_parallel_payments(sales, manager, channel):
    last = make_template(manager, name="最后一张", total_limit=1)
    settings = LoyaltySettings.current()
    settings.referrer_reward_coupon = last
    settings.save()
    orders = []
    for index in range(2):
        referrer = make_member(sales, f"会员{index}")
        friend = make_customer(sales, name=f"朋友{index}")
        attribute_referral(sales, friend.pk, referrer.referral_code, now=days_ago(2))
        orders.append(make_order(friend, channel, "100.00", ordered_at=days_ago(1)))

    results = run_together(
        [lambda order=order: reward_referral_for_order(order) for order in orders]
    )

    assert [result for result in results if isinstance(result, Exception)] == []
    assert list(Referral.objects.values_list("status", flat=True)) == ["rewarded", "rewarded"]
    assert Coupon.objects.count() == 1
    assert CouponTemplate.objects.get(pk=last.pk).issued_count == 1
    assert PointsEntry.objects.filter(idempotency_key__endswith=":referrer").count() == 2
    assert Notification.objects.filter(recipient=manager).count() == 1


def test_twenty_parallel_attributions_record_one_referral(sales):
    referrer = make_member(sales, "王芳")
    newcomer = make_customer(sales, name="李娜")
    calls = [
        lambda: attribute_referral(sales, newcomer.pk, referrer.referral_code)
        for _ in range(PARALLEL)
    ]

    results = run_together(calls)

    assert [result for result in results if isinstance(result, Exception)] == []
    assert Referral.objects.count() == 1
    assert {result.referral.pk for result in results} == {Referral.objects.get().pk}
    assert sum(result.created for result in results) == 1


def test_parallel_rewards_respect_the_cap(sales, channel):
    from kehu.loyalty.models import LoyaltySettings

    settings = LoyaltySettings.current()
    settings.referrals_per_referrer_cap = 3
    settings.save()
    referrer = make_member(sales, "王芳")
    orders = []
    for index in range(8):
        friend = make_customer(sales, name=f"朋友{index}")
        attribute_referral(sales, friend.pk, referrer.referral_code, now=days_ago(2))
        orders.append(make_order(friend, channel, "100.00", ordered_at=days_ago(1)))

    results = run_together(
        [lambda order=order: reward_referral_for_order(order) for order in orders]
    )

    assert [result for result in results if isinstance(result, Exception)] == []
    statuses = sorted(Referral.objects.values_list("status", flat=True))
    assert statuses == ["rejected"] * 5 + ["rewarded"] * 3
    assert balance(referrer) == 3 * 200
