"""Property: for any sequence of earn, redeem, expire (time passing), refund and adjust, the
balance equals the ledger sum and the unspent points, never goes negative, and matches a plain
Python model of the rules (FIFO by expiry, proportional refunds that never overdraw).

Each generated sequence runs inside a savepoint that is rolled back after it, so examples do
not see each other's members.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_FLOOR, Decimal

import pytest
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from kehu.accounts.roles import Role
from kehu.commerce.models import Store
from kehu.core.errors import RuleViolation
from kehu.loyalty.approvals.limits import limits_for
from kehu.loyalty.models import Membership, PointsEntry, StaffLimit, Tier
from kehu.loyalty.points.adjustments import adjust_points
from kehu.loyalty.points.expiry import expire_points
from kehu.loyalty.points.redemption import redeem_cash_offset
from kehu.loyalty.points.refunds import reverse_points_for_refund
from kehu.loyalty.points.services import earn_for_order, months_after
from kehu.loyalty.tests.points_data import make_member, make_order, make_refund
from tests.fixtures.people import make_user

EXPIRE_MONTHS = 24
START = datetime(2025, 1, 10, 10, 0)


@dataclass
class Lot:
    """Points added by one entry, as the model sees them."""

    pk: int
    expires_on: date
    remaining: int


@dataclass
class OrderState:
    order_id: int
    total: Decimal
    earned: int
    lot_pk: int | None
    refunded: Decimal = Decimal(0)


@dataclass
class LedgerModel:
    lots: dict[int, Lot] = field(default_factory=dict)

    @property
    def balance(self) -> int:
        return sum(lot.remaining for lot in self.lots.values())

    def expire(self, today: date) -> None:
        for lot in self.lots.values():
            if lot.expires_on <= today:
                lot.remaining = 0

    def take(self, points: int, first: int | None = None) -> None:
        order = sorted(self.lots.values(), key=lambda lot: (lot.expires_on, lot.pk))
        if first is not None:
            order = [self.lots[first], *(lot for lot in order if lot.pk != first)]
        for lot in order:
            used = min(points, lot.remaining)
            lot.remaining -= used
            points -= used
        assert points == 0

    def would_expire(self, today: date) -> int:
        return sum(lot.remaining for lot in self.lots.values() if lot.expires_on <= today)


def floor_share(points: int, amount: Decimal, total: Decimal) -> int:
    return int((points * amount / total).to_integral_value(rounding=ROUND_FLOOR))


class PointsLedgerMachine(RuleBasedStateMachine):
    @initialize()
    def open_a_member(self) -> None:
        self.savepoint = transaction.atomic()
        self.savepoint.__enter__()
        self.staff = make_user("machine-manager", Role.MANAGER)
        self.staff.stores.add(Store.objects.create(code="M01", name="机器店"))  # the counter
        self.member = make_member(self.staff)
        # the ledger is under test here, not the staff limits (test_points_approvals.py)
        limits_for(self.staff)
        StaffLimit.objects.filter(role=Role.MANAGER).update(
            points_per_adjustment=None, points_per_day=None
        )
        Tier.objects.update(points_multiplier=1)  # the tiers' own effect is tested elsewhere
        self.now = timezone.make_aware(START)
        self.model = LedgerModel()
        self.orders: list[OrderState] = []
        self.sequence = 0

    def teardown(self) -> None:
        if hasattr(self, "savepoint"):
            transaction.set_rollback(True)
            self.savepoint.__exit__(None, None, None)

    @property
    def today(self) -> date:
        return timezone.localdate(self.now)

    def next_key(self) -> str:
        self.sequence += 1
        return f"machine:{self.sequence}"

    @rule(cents=st.integers(min_value=1, max_value=300_000))
    def earn(self, cents: int) -> None:
        total = Decimal(cents) / 100
        order = make_order(self.member.customer, total, at=self.now)
        entry = earn_for_order(order, now=self.now)
        points = int(total.to_integral_value(rounding=ROUND_FLOOR))
        if points == 0:
            assert entry is None
            self.orders.append(OrderState(order.pk, total, 0, None))
            return
        assert entry is not None and entry.points == points
        expires_on = months_after(self.today, EXPIRE_MONTHS)
        self.model.lots[entry.pk] = Lot(entry.pk, expires_on, points)
        self.orders.append(OrderState(order.pk, total, points, entry.pk))

    @precondition(lambda self: self.orders)
    @rule(index=st.integers(min_value=0), share=st.integers(min_value=1, max_value=100))
    def earn_again(self, index: int, share: int) -> None:
        state = self.orders[index % len(self.orders)]
        from kehu.commerce.models import Order

        before = PointsEntry.objects.count()
        earn_for_order(Order.objects.get(pk=state.order_id), now=self.now)
        assert PointsEntry.objects.count() == before

    @rule(points=st.integers(min_value=1, max_value=3000))
    def redeem(self, points: int) -> None:
        enough = self.model.balance - self.model.would_expire(self.today) >= points
        try:
            redeem_cash_offset(
                self.staff,
                self.member.customer_id,
                Decimal(points) / 100,
                idempotency_key=self.next_key(),
                now=self.now,
            )
        except RuleViolation as error:
            assert not enough and error.code == "insufficient_points"
            return
        assert enough
        self.model.expire(self.today)
        self.model.take(points)

    @rule(points=st.integers(min_value=-3000, max_value=3000).filter(bool))
    def adjust(self, points: int) -> None:
        enough = self.model.balance - self.model.would_expire(self.today) >= -points
        try:
            entry = adjust_points(
                self.staff,
                self.member.customer_id,
                points,
                "校正",
                idempotency_key=self.next_key(),
                now=self.now,
            ).entry
        except RuleViolation:
            assert points < 0 and not enough
            return
        assert points > 0 or enough
        if points > 0:
            expires_on = months_after(self.today, EXPIRE_MONTHS)
            self.model.lots[entry.pk] = Lot(entry.pk, expires_on, points)
        else:
            self.model.expire(self.today)
            self.model.take(-points)

    @precondition(lambda self: any(o.refunded < o.total for o in self.orders))
    @rule(index=st.integers(min_value=0), percent=st.integers(min_value=1, max_value=100))
    def refund(self, index: int, percent: int) -> None:
        open_orders = [o for o in self.orders if o.refunded < o.total]
        state = open_orders[index % len(open_orders)]
        left = state.total - state.refunded
        amount = max(Decimal("0.01"), (left * percent / 100).quantize(Decimal("0.01")))
        amount = min(amount, left)
        from kehu.commerce.models import Order

        self.now += timedelta(seconds=1)
        order = Order.objects.get(pk=state.order_id)
        refund = make_refund(order, amount, at=self.now)
        reverse_points_for_refund(refund, now=self.now)
        if state.lot_pk is not None:
            wanted = floor_share(state.earned, state.refunded + amount, state.total) - floor_share(
                state.earned, state.refunded, state.total
            )
            self.model.expire(self.today)
            self.model.take(min(wanted, self.model.balance), first=state.lot_pk)
        state.refunded += amount

    @rule(days=st.integers(min_value=1, max_value=400))
    def time_passes(self, days: int) -> None:
        self.now += timedelta(days=days)
        expire_points(self.now)
        self.model.expire(self.today)

    @invariant()
    def balance_is_the_ledger_and_the_model(self) -> None:
        if not hasattr(self, "member"):
            return
        sums = PointsEntry.objects.filter(membership=self.member).aggregate(
            points=Sum("points"), remaining=Sum("remaining")
        )
        balance = Membership.objects.get(pk=self.member.pk).points_balance
        assert balance >= 0
        assert balance == (sums["points"] or 0) == (sums["remaining"] or 0)
        assert balance == self.model.balance
        stored = dict(
            PointsEntry.objects.filter(pk__in=self.model.lots).values_list("pk", "remaining")
        )
        assert stored == {pk: lot.remaining for pk, lot in self.model.lots.items()}


@pytest.mark.django_db
def test_any_sequence_keeps_the_balance_equal_to_the_ledger():
    run_state_machine_as_test(
        PointsLedgerMachine,
        settings=settings(
            max_examples=60,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
