"""Earning rules: category multipliers and bonus events, the same by one order and in bulk,
the highest rule counting, and orders placed while a membership was paused never earning."""

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from kehu.commerce.models import Category, Order, OrderLine, Product, Store
from kehu.core.errors import NotAllowed
from kehu.loyalty.models import EarningRule, MembershipPause, MembershipStatus, PointsEntry
from kehu.loyalty.points.bulk import earn_all_pending_orders
from kehu.loyalty.points.earning_rules import RuleInput, rule_state, save_earning_rule
from kehu.loyalty.points.refunds import reverse_points_for_refund
from kehu.loyalty.points.services import earn_for_order
from kehu.loyalty.tests.points_data import (  # noqa: F401 - in_english is a fixture
    assert_ledger_consistent,
    in_english,
    make_member,
    make_order,
    make_refund,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english")]

ELEVEN_ELEVEN = timezone.make_aware(datetime(2026, 11, 11, 10, 0))


@pytest.fixture
def fresh_food() -> Category:
    """生鲜 with a subcategory 水果; an unrelated 日用品."""
    fresh = Category.objects.create(name="生鲜")
    Category.objects.create(name="水果", parent=fresh)
    Category.objects.create(name="日用品")
    return fresh


def product_in(category_name: str | None) -> Product:
    category = Category.objects.get(name=category_name) if category_name else None
    sku = f"SKU-{Product.objects.count() + 1}"
    return Product.objects.create(sku=sku, name=sku, category=category)


def order_with_lines(member, lines: list[tuple[str | None, str]], **order_fields) -> Order:
    """An order whose lines are (category name or None, amount); the total is their sum."""
    total = sum((Decimal(amount) for _category, amount in lines), Decimal(0))
    order = make_order(member.customer, total, **order_fields)
    for category_name, amount in lines:
        product = product_in(category_name)
        OrderLine.objects.create(
            order=order,
            product=product,
            product_name=product.name,
            quantity=1,
            unit_price=Decimal(amount),
            amount=Decimal(amount),
        )
    return order


def rule(name: str, multiplier: str, **fields) -> EarningRule:
    return EarningRule.objects.create(name=name, multiplier=Decimal(multiplier), **fields)


def earned(order: Order) -> int:
    entry = earn_for_order(order)
    return entry.points if entry else 0


def test_no_rules_earn_as_before():
    member = make_member()
    order = make_order(member.customer, "120.50")
    assert earned(order) == 120


def test_a_category_rule_covers_its_subcategories_weighted_by_line_amount(fresh_food):
    member = make_member()
    rule("生鲜三倍", "3", category=fresh_food)
    order = order_with_lines(member, [("水果", "100.00"), ("日用品", "100.00")])
    entry = earn_for_order(order)
    assert entry.points == 300 + 100
    assert entry.reason.endswith("earning rules: 生鲜三倍")


def test_a_bonus_event_counts_only_within_its_dates():
    member = make_member()
    rule("双11 双倍积分", "2", starts_on=date(2026, 11, 11), ends_on=date(2026, 11, 11))
    during = make_order(member.customer, "88.00", at=ELEVEN_ELEVEN)
    day_after = make_order(member.customer, "88.00", at=ELEVEN_ELEVEN + timedelta(days=1))
    assert (earned(during), earned(day_after)) == (176, 88)


def test_a_store_rule_counts_only_at_that_store():
    member = make_member()
    opening = Store.objects.create(code="S9", name="新店")
    rule("新店开业", "1.5", store=opening)
    assert earned(make_order(member.customer, "100.00", store=opening)) == 150
    assert earned(make_order(member.customer, "100.00")) == 100


def test_the_highest_rule_counts_and_rules_do_not_stack(fresh_food):
    member = make_member()
    rule("全场双倍", "2")
    rule("生鲜三倍", "3", category=fresh_food)
    rule("日用品半倍", "0.5", category=Category.objects.get(name="日用品"))
    order = order_with_lines(member, [("生鲜", "10.00"), ("日用品", "10.00"), (None, "10.00")])
    assert earned(order) == 30 + 20 + 20


def test_a_lower_category_multiplier_lowers_those_lines_when_nothing_else_applies():
    member = make_member()
    Category.objects.create(name="烟酒")
    rule("烟酒半倍", "0.5", category=Category.objects.get(name="烟酒"))
    order = order_with_lines(member, [("烟酒", "99.00"), (None, "1.00")])
    assert earned(order) == 50  # ⌊99 × 0.5 + 1⌋ = ⌊50.5⌋


def test_inactive_and_ended_rules_do_not_count():
    member = make_member()
    rule("停用", "5", is_active=False)
    rule("已结束", "5", ends_on=date(2020, 1, 1))
    assert earned(make_order(member.customer, "10.00")) == 10


def test_rules_multiply_with_the_tier_and_campaign_multipliers():
    member = make_member()
    member.tier.points_multiplier = Decimal("1.5")
    member.tier.save()
    rule("双倍", "2")
    entry = earn_for_order(make_order(member.customer, "33.33"), extra_multiplier=Decimal(2))
    assert entry.points == 199  # ⌊33.33 × 1.5 × 2 × 2⌋ = ⌊199.98⌋


def test_an_exact_weighted_result_is_never_rounded_a_point_down():
    # 3 lines of ¥1 at ×1, ×1, ×2: ¥3 × 4/3 = exactly 4 points; multiplying by a rounded
    # 1.333…3 first would give 3.999… and so 3
    member = make_member()
    special = Category.objects.create(name="特惠")
    rule("特惠双倍", "2", category=special)
    order = order_with_lines(member, [(None, "1.00"), (None, "1.00"), ("特惠", "1.00")])
    assert earned(order) == 4


def test_a_refund_reverses_the_boosted_points_proportionally(fresh_food):
    member = make_member()
    rule("生鲜三倍", "3", category=fresh_food)
    order = order_with_lines(member, [("生鲜", "100.00")])
    assert earned(order) == 300
    refund = make_refund(order, "50.00")
    reverse_points_for_refund(refund)
    assert assert_ledger_consistent(member) == 150


def test_bulk_earning_applies_the_same_rules_as_one_order_at_a_time(fresh_food):
    members = [make_member() for _ in range(3)]
    opening = Store.objects.create(code="S8", name="开业店")
    rule("生鲜三倍", "3", category=fresh_food)
    rule("双11", "2", starts_on=date(2026, 11, 11), ends_on=date(2026, 11, 12))
    rule("开业店", "1.25", store=opening)
    for index, member in enumerate(members):
        order_with_lines(member, [("水果", "19.90"), ("日用品", f"{7 + index}.35")])
        order_with_lines(member, [("日用品", "50.00")], at=ELEVEN_ELEVEN, store=opening)
        make_order(member.customer, "66.60", at=ELEVEN_ELEVEN - timedelta(days=3), store=opening)
        make_order(member.customer, "12.00")
    with transaction.atomic():
        for order in Order.objects.order_by("pk"):
            earn_for_order(order)
        one_by_one = sorted(PointsEntry.objects.values_list("order_id", "points", "reason"))
        transaction.set_rollback(True)
    earn_all_pending_orders(batch_size=3)
    assert sorted(PointsEntry.objects.values_list("order_id", "points", "reason")) == one_by_one
    assert [points for _order, points, _reason in one_by_one[:4]] == [
        67,
        100,
        83,
        12,
    ]  # ⌊19.9·3 + 7.35⌋, ×2 beats ×1.25, ×1.25


def pause(member, status: str, starts: datetime, ends: datetime | None) -> None:
    MembershipPause.objects.create(
        membership=member, status=status, started_at=starts, ended_at=ends, start_reason="卡丢失"
    )


@pytest.mark.parametrize("bulk", [False, True], ids=["one order", "bulk"])
def test_orders_placed_while_the_membership_was_paused_never_earn(bulk):
    member = make_member()
    now = timezone.now()
    pause(member, MembershipStatus.FROZEN, now - timedelta(days=10), now - timedelta(days=5))
    before = make_order(member.customer, "10.00", at=now - timedelta(days=11))
    during = make_order(member.customer, "20.00", at=now - timedelta(days=7))
    after = make_order(member.customer, "40.00", at=now - timedelta(days=1))
    if bulk:
        earn_all_pending_orders()
    else:
        for order in (before, during, after):
            earn_for_order(order)
    earned_orders = set(PointsEntry.objects.values_list("order_id", flat=True))
    assert earned_orders == {before.pk, after.pk}
    assert assert_ledger_consistent(member) == 50


def test_an_open_pause_stops_earning_until_it_ends():
    member = make_member()
    pause(member, MembershipStatus.CANCELLED, timezone.now() - timedelta(days=1), None)
    assert earned(make_order(member.customer, "10.00")) == 0


# --- keeping the rules ------------------------------------------------------------------------


def test_saving_a_rule_checks_every_field(manager):
    bad = RuleInput(
        name=" ",
        multiplier=Decimal("10.5"),
        category_id=999_999,
        store_id=999_999,
        starts_on=date(2026, 12, 2),
        ends_on=date(2026, 12, 1),
    )
    with pytest.raises(ValidationError) as error:
        save_earning_rule(manager, None, bad)
    assert set(error.value.message_dict) == {"name", "multiplier", "category", "store", "ends_on"}
    assert EarningRule.objects.count() == 0


def test_a_multiplier_has_at_most_two_decimals(manager):
    with pytest.raises(ValidationError) as error:
        save_earning_rule(manager, None, RuleInput("三位小数", Decimal("1.255")))
    assert error.value.message_dict["multiplier"] == ["The multiplier has at most two decimals."]


def test_only_the_programme_managers_keep_rules(sales, marketer):
    with pytest.raises(NotAllowed):
        save_earning_rule(sales, None, RuleInput("双倍", Decimal(2)))
    saved = save_earning_rule(marketer, None, RuleInput(" 双倍 ", Decimal(2)))
    assert (saved.name, saved.created_by) == ("双倍", marketer)
    changed = save_earning_rule(marketer, saved.pk, RuleInput("双倍", Decimal(2), is_active=False))
    assert (changed.pk, changed.is_active) == (saved.pk, False)


def test_rule_state_reads_the_dates():
    today = date(2026, 11, 30)
    assert rule_state(EarningRule(is_active=False), today) == "inactive"
    assert rule_state(EarningRule(starts_on=date(2026, 12, 1)), today) == "upcoming"
    assert rule_state(EarningRule(ends_on=date(2026, 11, 29)), today) == "ended"
    assert rule_state(EarningRule(ends_on=today), today) == "running"
