"""Status changes under concurrency on PostgreSQL (real threads, one connection each): ten
parallel cancellations forfeit once and open one pause; a freeze racing redemptions leaves
each of them either written in full or refused with membership_not_active. SQLite serialises
every writer, so these races cannot happen there."""

from decimal import Decimal

import pytest
from django.db import connection

from kehu.loyalty.members.status import StatusChange, change_membership_status
from kehu.loyalty.models import Membership, MembershipPause, PointsEntry, Redemption
from kehu.loyalty.points.redemption import RedemptionResult, redeem_cash_offset
from kehu.loyalty.points.services import award_points
from kehu.loyalty.tests.points_data import assert_ledger_consistent, make_member
from kehu.loyalty.tests.test_points_concurrency import codes, run_together

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("store"),  # the counter: the north team's store
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the race needs PostgreSQL's row locks"
    ),
]


def test_ten_parallel_cancellations_forfeit_once(manager, sales):
    member = make_member(sales)
    award_points(member, 400, source="campaign", reason="活动", idempotency_key="camp")

    results = run_together(
        [
            lambda index=index: change_membership_status(
                manager, member.customer_id, "cancelled", f"注销 {index}"
            )
            for index in range(10)
        ]
    )

    changes = [result for result in results if isinstance(result, StatusChange)]
    assert len(changes) == 10, codes(results)
    assert sorted(change.forfeited for change in changes) == [0] * 9 + [400]
    assert sum(change.changed for change in changes) == 1
    assert MembershipPause.objects.filter(membership=member).count() == 1
    assert PointsEntry.objects.filter(kind="adjust").count() == 1
    assert assert_ledger_consistent(member) == 0


def test_a_freeze_racing_redemptions_refuses_every_later_one(manager, sales):
    member = make_member(sales)
    award_points(member, 1000, source="campaign", reason="活动", idempotency_key="camp")
    redeem = [
        lambda index=index: redeem_cash_offset(
            sales, member.customer_id, Decimal("1.00"), idempotency_key=f"pay-{index}"
        )
        for index in range(8)
    ]
    freeze = [lambda: change_membership_status(manager, member.customer_id, "frozen", "暂停")]

    results = run_together(redeem[:4] + freeze + redeem[4:])

    redeemed = [result for result in results if isinstance(result, RedemptionResult)]
    refused = codes(results)
    assert len(redeemed) + len(refused) == 8
    assert set(refused) <= {"membership_not_active"}
    assert MembershipPause.objects.filter(membership=member, ended_at__isnull=True).count() == 1
    assert Redemption.objects.count() == len(redeemed)
    assert Membership.objects.get(pk=member.pk).status == "frozen"
    assert assert_ledger_consistent(member) == 1000 - 100 * len(redeemed)
