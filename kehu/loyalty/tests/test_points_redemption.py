"""Redemption: gifts with stock and cash offset; every refusal names its rule and writes
nothing."""

from decimal import Decimal

import pytest
from django.http import Http404

from kehu.commerce.models import Store
from kehu.core.errors import NotAllowed, RuleViolation
from kehu.loyalty.members.services import UnknownMember
from kehu.loyalty.models import (
    LoyaltySettings,
    PointsEntry,
    PointsKind,
    Redemption,
    RedemptionItem,
)
from kehu.loyalty.points.redemption import redeem_cash_offset, redeem_gift, save_gift
from kehu.loyalty.points.services import award_points
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
def member(sales):
    member = make_member(sales, name="王芳")
    award_points(member, 600, source="campaign", reason="活动", idempotency_key="camp")
    return member


@pytest.fixture
def umbrella(db):
    return RedemptionItem.objects.create(name="雨伞", points_cost=250, stock=1)


def nothing_changed(member, umbrella, stock=1) -> None:
    assert assert_ledger_consistent(member) == 600
    assert not Redemption.objects.exists()
    assert not PointsEntry.objects.filter(kind=PointsKind.REDEEM).exists()
    umbrella.refresh_from_db()
    assert umbrella.stock == stock


def test_a_gift_costs_its_points_and_one_of_its_stock(sales, member, umbrella, store):
    redemption = redeem_gift(
        sales, member.customer_id, umbrella.pk, idempotency_key="r1", store_code="SH01"
    ).redemption
    assert (redemption.points, redemption.item, redemption.store) == (250, umbrella, store)
    assert (redemption.entry.kind, redemption.entry.points) == ("redeem", -250)
    assert redemption.entry.created_by == sales
    umbrella.refresh_from_db()
    assert umbrella.stock == 0
    assert assert_ledger_consistent(member) == 350


def test_a_retried_redemption_answers_the_first(sales, member):
    gift = RedemptionItem.objects.create(name="水杯", points_cost=100)
    first = redeem_gift(sales, member.customer_id, gift.pk, idempotency_key="r1", quantity=2)
    again = redeem_gift(sales, member.customer_id, gift.pk, idempotency_key="r1", quantity=2)
    assert (again.redemption, again.created, first.created) == (first.redemption, False, True)
    assert assert_ledger_consistent(member) == 400
    assert gift.stock is None  # unlimited stays unlimited


def test_out_of_stock_is_refused_and_nothing_is_written(sales, member, umbrella):
    RedemptionItem.objects.filter(pk=umbrella.pk).update(stock=0)
    with pytest.raises(RuleViolation) as error:
        redeem_gift(sales, member.customer_id, umbrella.pk, idempotency_key="r1")
    assert error.value.code == "out_of_stock"
    assert str(error.value) == "Out of stock: “雨伞” has 0 left, needed 1."
    nothing_changed(member, umbrella, stock=0)


def test_insufficient_points_are_refused_and_nothing_is_written(sales, member, umbrella):
    with pytest.raises(RuleViolation) as error:
        redeem_gift(sales, member.customer_id, umbrella.pk, idempotency_key="r1", quantity=3)
    assert str(error.value) == "Out of stock: “雨伞” has 1 left, needed 3."
    RedemptionItem.objects.filter(pk=umbrella.pk).update(stock=5)
    with pytest.raises(RuleViolation) as error:
        redeem_gift(sales, member.customer_id, umbrella.pk, idempotency_key="r1", quantity=3)
    assert error.value.code == "insufficient_points"
    assert str(error.value) == "Insufficient points: balance 600, needed 750."
    nothing_changed(member, umbrella, stock=5)


def test_unknown_member_and_unknown_gift(sales, member, umbrella):
    stranger = make_customer(sales, name="路人")
    with pytest.raises(UnknownMember) as error:
        redeem_gift(sales, stranger.pk, umbrella.pk, idempotency_key="r1")
    assert str(error.value) == "This customer is not a member."
    with pytest.raises(RuleViolation) as error:
        redeem_gift(sales, member.customer_id, 999_999, idempotency_key="r1")
    assert error.value.code == "unknown_gift"
    nothing_changed(member, umbrella)


def test_roles_and_visibility(marketer, south_sales, member, umbrella):
    with pytest.raises(NotAllowed):
        redeem_gift(marketer, member.customer_id, umbrella.pk, idempotency_key="r1")
    with pytest.raises(Http404):
        redeem_gift(south_sales, member.customer_id, umbrella.pk, idempotency_key="r1")
    nothing_changed(member, umbrella)


def test_a_key_used_for_another_member_is_refused(sales, member, umbrella):
    other = make_member(sales, name="李娜")
    award_points(other, 600, source="campaign", reason="活动", idempotency_key="camp-2")
    redeem_gift(sales, member.customer_id, umbrella.pk, idempotency_key="r1")
    with pytest.raises(RuleViolation) as error:
        redeem_gift(sales, other.customer_id, umbrella.pk, idempotency_key="r1")
    assert error.value.code == "idempotency_key_reused"
    assert assert_ledger_consistent(other) == 600


def test_cash_offset_at_the_programme_rate(sales, member):
    order = make_order(member.customer, "30.00")
    redemption = redeem_cash_offset(
        sales, member.customer_id, Decimal("5.00"), idempotency_key="c1", order_id=order.pk
    ).redemption
    assert (redemption.points, redemption.cash_amount, redemption.order) == (
        500,
        Decimal("5.00"),
        order,
    )
    assert assert_ledger_consistent(member) == 100


def test_cash_offset_rules(sales, member, north_team):
    LoyaltySettings.objects.update_or_create(pk=1, defaults={"points_per_yuan_offset": 150})
    with pytest.raises(RuleViolation) as error:
        redeem_cash_offset(sales, member.customer_id, Decimal("0.01"), idempotency_key="c1")
    assert error.value.code == "offset_not_whole_points"
    LoyaltySettings.objects.filter(pk=1).update(points_per_yuan_offset=100)
    elsewhere = Store.objects.create(code="BJ01", name="北京店", team=north_team)
    here = Store.objects.create(code="SH02", name="上海店", team=north_team)
    sales.stores.add(elsewhere, here)  # works at both: the order's store is still the rule
    order = make_order(member.customer, "3.00", store=elsewhere)
    with pytest.raises(RuleViolation) as error:
        redeem_cash_offset(
            sales, member.customer_id, Decimal("1.00"), idempotency_key="c1",
            order_id=order.pk, store_code=here.code,
        )  # fmt: skip
    assert error.value.code == "wrong_store"
    with pytest.raises(RuleViolation) as error:
        redeem_cash_offset(
            sales, member.customer_id, Decimal("4.00"), idempotency_key="c1", order_id=order.pk
        )
    assert error.value.code == "offset_exceeds_order"
    with pytest.raises(RuleViolation) as error:
        redeem_cash_offset(
            sales, member.customer_id, Decimal("1.00"), idempotency_key="c1", store_code="NOPE"
        )
    assert error.value.code == "unknown_store"
    assert assert_ledger_consistent(member) == 600
    assert not Redemption.objects.exists()


def test_the_catalogue_is_kept_by_the_programme_roles(manager, sales):
    gift = save_gift(manager, None, name=" 帆布袋 ", points_cost=300, stock=20)
    assert (gift.name, gift.points_cost, gift.stock) == ("帆布袋", 300, 20)
    with pytest.raises(NotAllowed):
        save_gift(sales, gift.pk, name="帆布袋", points_cost=1, stock=20)
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as error:
        save_gift(manager, gift.pk, name="", points_cost=0, stock=-1)
    assert set(error.value.message_dict) == {"name", "points_cost", "stock"}
    gift.refresh_from_db()
    assert gift.points_cost == 300
