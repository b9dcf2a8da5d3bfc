"""Coupon services: templates and their checks, issuing with its limits and keys, the discount,
redemption with every rule (each refusal changes nothing), void, expiry and refunds."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import timezone

from kehu.commerce.models import OrderStatus
from kehu.commerce.services import refund_order
from kehu.core.errors import NotAllowed, RuleViolation
from kehu.loyalty.coupons.coupon_templates import update_template
from kehu.loyalty.coupons.rules import UnknownCoupon, coupon_discount, describe_value
from kehu.loyalty.coupons.services import (
    CODE_LENGTH,
    check_coupon,
    expire_coupons,
    issue_coupon,
    redeem_coupon,
    void_coupon,
)
from kehu.loyalty.members.services import enrol_member, ensure_default_tiers
from kehu.loyalty.models import Coupon, CouponStatus, CouponTemplate, Membership
from kehu.loyalty.tests.coupon_data import (
    aware,
    make_coupon,
    make_order,
    make_template,
    template_input,
)
from tests.fixtures.records import make_customer

# --- templates --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"kind": "percent", "amount_off": None, "percent_off": Decimal("100")}, "percent_off"),
        ({"kind": "percent", "amount_off": None, "percent_off": Decimal("0")}, "percent_off"),
        (
            {"kind": "percent", "percent_off": Decimal("10"), "max_discount": Decimal("0")},
            "max_discount",
        ),
        ({"kind": "threshold", "min_spend": Decimal("20.00")}, "min_spend"),
        ({"kind": "fixed", "amount_off": None}, "amount_off"),
        ({"kind": "gift", "gift_description": "  "}, "gift_description"),
        ({"validity": "relative", "valid_days": 0}, "valid_days"),
        (
            {
                "validity": "fixed",
                "valid_from": aware(2026, 5, 1),
                "valid_until": aware(2026, 4, 1),
            },
            "valid_until",
        ),
        ({"validity": "fixed", "valid_from": None, "valid_until": aware(2026, 4, 1)}, "valid_from"),
        ({"total_limit": 0}, "total_limit"),
        ({"per_customer_limit": 0}, "per_customer_limit"),
        ({"name": "  "}, "name"),
    ],
)
def test_a_template_that_does_not_fit_its_kind_names_the_field(marketer, changes, field):
    with pytest.raises(ValidationError) as refusal:
        make_template(marketer, **changes)
    assert field in refusal.value.message_dict
    assert not CouponTemplate.objects.exists()


def test_a_template_keeps_only_the_fields_of_its_kind(marketer):
    template = make_template(
        marketer,
        kind="percent",
        amount_off=Decimal("5"),
        percent_off=Decimal("15"),
        max_discount=Decimal("50"),
        gift_description="帆布袋",
    )
    template.refresh_from_db()
    assert (template.amount_off, template.percent_off, template.max_discount) == (
        None,
        Decimal("15.00"),
        Decimal("50.00"),
    )
    assert template.gift_description == ""
    assert template.created_by == marketer
    assert describe_value(template) == "15% off, at most ¥50"


def test_only_programme_roles_create_templates(sales):
    with pytest.raises(NotAllowed):
        make_template(sales)
    assert not CouponTemplate.objects.exists()


def test_what_coupons_give_is_fixed_once_issued_but_limits_may_change(marketer, sales):
    template = make_template(marketer, total_limit=5)
    issue_coupon(marketer, template, make_customer(sales).pk)
    with pytest.raises(ValidationError) as refusal:
        update_template(marketer, template.pk, template_input(amount_off=Decimal("50")))
    assert set(refusal.value.message_dict) == {"amount_off"}
    changed = update_template(marketer, template.pk, template_input(name="新名字", total_limit=9))
    assert (changed.name, changed.total_limit, changed.amount_off) == ("新名字", 9, Decimal("20"))
    with pytest.raises(ValidationError) as refusal:
        update_template(marketer, template.pk, template_input(total_limit=0))
    assert "total_limit" in refusal.value.message_dict


# --- the discount -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "total", "discount"),
    [
        ({"kind": "fixed", "amount_off": Decimal("20")}, "100.00", "20.00"),
        ({"kind": "fixed", "amount_off": Decimal("20")}, "12.50", "12.50"),
        ({"kind": "percent", "percent_off": Decimal("15")}, "99.99", "15.00"),
        (
            {"kind": "percent", "percent_off": Decimal("15"), "max_discount": Decimal("10")},
            "99.99",
            "10.00",
        ),
        ({"kind": "percent", "percent_off": Decimal("12.5")}, "0.04", "0.01"),
        (
            {"kind": "threshold", "amount_off": Decimal("30"), "min_spend": Decimal("200")},
            "200.00",
            "30.00",
        ),
        ({"kind": "gift", "gift_description": "帆布袋"}, "300.00", "0.00"),
        ({"kind": "shipping"}, "300.00", "0.00"),
    ],
)
def test_the_discount_in_decimal(marketer, changes, total, discount):
    template = make_template(marketer, **changes)
    assert coupon_discount(template, Decimal(total)) == Decimal(discount)


# --- issuing one coupon -----------------------------------------------------------------------


def test_issue_gives_a_fresh_code_and_a_window_relative_to_issue(marketer, sales):
    template = make_template(marketer, valid_days=7)
    customer = make_customer(sales)
    now = aware(2026, 3, 1, 10, 0)
    coupon = issue_coupon(marketer, template, customer.pk, now=now)
    assert len(coupon.code) == CODE_LENGTH and coupon.code.isalnum() and coupon.code.isupper()
    assert not set(coupon.code) & set("01IO")
    assert (coupon.valid_from, coupon.valid_until) == (now, aware(2026, 3, 8, 10, 0))
    assert coupon.status == CouponStatus.ISSUED
    template.refresh_from_db()
    assert template.issued_count == 1


def test_a_fixed_window_is_the_templates(marketer, sales):
    start, end = timezone.now() - timedelta(days=1), timezone.now() + timedelta(days=9)
    template = make_template(marketer, validity="fixed", valid_from=start, valid_until=end)
    coupon = issue_coupon(marketer, template, make_customer(sales).pk)
    assert (coupon.valid_from, coupon.valid_until) == (start, end)


def test_the_same_issue_key_answers_the_first_coupon(marketer, sales):
    template = make_template(marketer)
    customer = make_customer(sales)
    first = issue_coupon(marketer, template, customer.pk, idempotency_key="crm-1")
    again = issue_coupon(marketer, template, customer.pk, idempotency_key="crm-1")
    assert again.pk == first.pk
    assert Coupon.objects.count() == 1
    template.refresh_from_db()
    assert template.issued_count == 1
    with pytest.raises(RuleViolation) as refusal:
        issue_coupon(marketer, template, make_customer(sales).pk, idempotency_key="crm-1")
    assert refusal.value.code == "idempotency_key_reused"
    assert Coupon.objects.count() == 1


def test_per_customer_limit_counts_all_but_void_coupons(marketer, sales):
    template = make_template(marketer, per_customer_limit=1)
    customer = make_customer(sales)
    first = issue_coupon(marketer, template, customer.pk)
    with pytest.raises(RuleViolation) as refusal:
        issue_coupon(marketer, template, customer.pk)
    assert refusal.value.code == "per_customer_limit"
    void_coupon(marketer, first.code, "发错了")
    issue_coupon(marketer, template, customer.pk)
    assert Coupon.objects.filter(customer=customer).count() == 2


def test_total_limit_stops_issuing_and_changes_nothing(marketer, sales):
    template = make_template(marketer, total_limit=2)
    for _ in range(2):
        issue_coupon(marketer, template, make_customer(sales).pk)
    with pytest.raises(RuleViolation) as refusal:
        issue_coupon(marketer, template, make_customer(sales).pk)
    assert refusal.value.code == "total_limit"
    template.refresh_from_db()
    assert (template.issued_count, Coupon.objects.count()) == (2, 2)


def test_a_tier_exclusive_coupon_needs_the_tier(marketer, admin_user, sales):
    tiers = ensure_default_tiers()
    template = make_template(marketer, tier_id=tiers[2].pk)  # 金卡
    stranger = make_customer(sales)
    silver = make_customer(sales)
    gold = make_customer(sales)
    for customer, tier in ((silver, tiers[1]), (gold, tiers[3])):
        enrol_member(admin_user, customer.pk)
        Membership.objects.filter(customer=customer).update(tier=tier)
    for customer in (stranger, silver):
        with pytest.raises(RuleViolation) as refusal:
            issue_coupon(marketer, template, customer.pk)
        assert refusal.value.code == "tier_too_low"
    assert issue_coupon(marketer, template, gold.pk).customer == gold
    assert Coupon.objects.count() == 1


def test_an_inactive_or_ended_template_issues_nothing(marketer, sales):
    customer = make_customer(sales)
    inactive = make_template(marketer, is_active=False)
    ended = make_template(
        marketer,
        validity="fixed",
        valid_from=timezone.now() - timedelta(days=9),
        valid_until=timezone.now() - timedelta(days=1),
    )
    for template, rule in ((inactive, "template_inactive"), (ended, "template_expired")):
        with pytest.raises(RuleViolation) as refusal:
            issue_coupon(marketer, template, customer.pk)
        assert refusal.value.code == rule
    assert not Coupon.objects.exists()


def test_issuing_needs_the_role_and_a_visible_customer(marketer, manager, sales, south_customer):
    template = make_template(marketer)
    with pytest.raises(NotAllowed):
        issue_coupon(sales, template, make_customer(sales).pk)
    with pytest.raises(Http404):
        issue_coupon(manager, template, south_customer.pk)
    assert issue_coupon(None, template, south_customer.pk).customer == south_customer
    assert Coupon.objects.count() == 1


# --- redemption -------------------------------------------------------------------------------


@pytest.fixture
def holder(sales):
    return make_customer(sales, name="王芳")


@pytest.fixture
def coupon(marketer, holder):
    # capped within marketing's coupon limit: an uncapped one would wait for approval
    template = make_template(
        marketer,
        kind="percent",
        amount_off=None,
        percent_off=Decimal("15"),
        max_discount=Decimal("100.00"),
    )
    return issue_coupon(marketer, template, holder.pk)


def test_redemption_uses_the_coupon_once_with_its_discount(sales, coupon, holder, channel):
    order = make_order(holder, channel, "88.80")
    used = redeem_coupon(sales, coupon.code.lower(), order.pk)
    assert (used.status, used.order, used.discount_amount) == (
        CouponStatus.REDEEMED,
        order,
        Decimal("13.32"),
    )
    assert used.redeemed_at is not None
    with pytest.raises(RuleViolation) as refusal:
        redeem_coupon(sales, coupon.code, make_order(holder, channel).pk)
    assert refusal.value.code == "already_used"


def test_the_same_redeem_key_answers_the_first_result(sales, coupon, holder, channel):
    order = make_order(holder, channel)
    first = redeem_coupon(sales, coupon.code, order.pk, idempotency_key="pos-77")
    again = redeem_coupon(sales, coupon.code, order.pk, idempotency_key="pos-77")
    assert (again.pk, again.discount_amount, again.redeemed_at) == (
        first.pk,
        first.discount_amount,
        first.redeemed_at,
    )
    with pytest.raises(RuleViolation) as refusal:
        redeem_coupon(sales, coupon.code, make_order(holder, channel).pk, idempotency_key="pos-77")
    assert refusal.value.code == "idempotency_key_reused"


def coupon_state(code):
    return Coupon.objects.filter(code=code).values_list("status", "order_id", "redeem_key").get()


def refused_rule(actor, code, order, **options):
    """Redeem, expecting a refusal; returns its rule after checking nothing was written."""
    before = coupon_state(code) if Coupon.objects.filter(code=code).exists() else None
    with pytest.raises(RuleViolation) as refusal:
        redeem_coupon(actor, code, order.pk, idempotency_key="k-refused", **options)
    if before is not None:
        assert coupon_state(code) == before
    assert not Coupon.objects.filter(redeem_key="k-refused").exists()
    return refusal.value.code


def test_an_unknown_code_is_its_own_rule(sales, holder, channel):
    with pytest.raises(UnknownCoupon):
        redeem_coupon(sales, "NOSUCHCODE", make_order(holder, channel).pk)
    assert refused_rule(sales, "NOSUCHCODE", make_order(holder, channel)) == "unknown_code"


def test_the_order_must_be_the_holders(sales, coupon, channel):
    other = make_customer(sales, name="李娜")
    assert refused_rule(sales, coupon.code, make_order(other, channel)) == "not_customers_coupon"


def test_not_yet_valid_and_expired(sales, coupon, holder, channel):
    order = make_order(holder, channel)
    early = coupon.valid_from - timedelta(minutes=1)
    late = coupon.valid_until + timedelta(seconds=1)
    assert refused_rule(sales, coupon.code, order, now=early) == "not_yet_valid"
    assert refused_rule(sales, coupon.code, order, now=late) == "expired"


def test_void_and_expired_coupons_are_refused(marketer, sales, coupon, holder, channel):
    order = make_order(holder, channel)
    void_coupon(marketer, coupon.code, "顾客投诉补偿重复")
    assert refused_rule(sales, coupon.code, order) == "void"
    expired = make_coupon(coupon.template, holder, status=CouponStatus.EXPIRED)
    assert refused_rule(sales, expired.code, order) == "expired"


def test_a_store_restricted_coupon_only_at_its_stores(marketer, sales, holder, channel, store):
    template = make_template(marketer, store_ids=(store.pk,))
    coupon = issue_coupon(marketer, template, holder.pk)
    online = make_order(holder, channel)
    assert refused_rule(sales, coupon.code, online) == "wrong_store"
    at_store = make_order(holder, channel, store=store)
    assert redeem_coupon(sales, coupon.code, at_store.pk).order == at_store


def test_below_the_minimum_order(marketer, sales, holder, channel):
    template = make_template(
        marketer, kind="threshold", amount_off=Decimal("30"), min_spend=Decimal("200")
    )
    coupon = issue_coupon(marketer, template, holder.pk)
    assert refused_rule(sales, coupon.code, make_order(holder, channel, "199.99")) == (
        "below_min_spend"
    )
    used = redeem_coupon(sales, coupon.code, make_order(holder, channel, "200.00").pk)
    assert used.discount_amount == Decimal("30.00")


def test_tier_checked_again_at_redemption(marketer, admin_user, sales, holder, channel):
    tiers = ensure_default_tiers()
    enrol_member(admin_user, holder.pk)
    Membership.objects.filter(customer=holder).update(tier=tiers[2])
    template = make_template(marketer, tier_id=tiers[2].pk)
    coupon = issue_coupon(marketer, template, holder.pk)
    Membership.objects.filter(customer=holder).update(tier=tiers[1])  # downgraded at review
    assert refused_rule(sales, coupon.code, make_order(holder, channel)) == "tier_too_low"


def test_one_coupon_per_order(marketer, sales, coupon, holder, channel):
    order = make_order(holder, channel)
    redeem_coupon(sales, coupon.code, order.pk)
    second = issue_coupon(marketer, make_template(marketer, name="再来一张"), holder.pk)
    assert refused_rule(sales, second.code, order) == "order_has_coupon"


def test_a_cancelled_order_takes_no_coupon(sales, coupon, holder, channel):
    order = make_order(holder, channel, status=OrderStatus.CANCELLED)
    assert refused_rule(sales, coupon.code, order) == "order_not_eligible"


def test_redemption_needs_the_counter_role_and_a_visible_order(
    marketer, south_sales, coupon, holder, channel
):
    order = make_order(holder, channel)
    with pytest.raises(NotAllowed):
        redeem_coupon(marketer, coupon.code, order.pk)
    with pytest.raises(Http404):
        redeem_coupon(south_sales, coupon.code, order.pk)
    assert coupon_state(coupon.code) == (CouponStatus.ISSUED, None, None)


def test_the_dry_run_says_what_would_happen_and_writes_nothing(sales, coupon, holder, channel):
    order = make_order(holder, channel, "200.00")
    check = check_coupon(sales, coupon.code, order.pk)
    assert (check.applies, check.discount, check.rule) == (True, Decimal("30.00"), "")
    late = check_coupon(sales, coupon.code, order.pk, now=coupon.valid_until + timedelta(days=1))
    assert (late.applies, late.discount, late.rule) == (False, Decimal("0.00"), "expired")
    assert coupon_state(coupon.code) == (CouponStatus.ISSUED, None, None)


# --- void, expiry, refunds --------------------------------------------------------------------


def test_void_needs_a_reason_and_only_unused_coupons(marketer, sales, coupon, holder, channel):
    with pytest.raises(ValidationError) as refusal:
        void_coupon(marketer, coupon.code, "   ")
    assert "reason" in refusal.value.message_dict
    redeem_coupon(sales, coupon.code, make_order(holder, channel).pk)
    with pytest.raises(RuleViolation) as refusal:
        void_coupon(marketer, coupon.code, "作废")
    assert refusal.value.code == "already_used"
    assert coupon_state(coupon.code)[0] == CouponStatus.REDEEMED


def test_void_keeps_the_reason_and_is_safe_to_repeat(marketer, coupon):
    void_coupon(marketer, coupon.code, "发错了")
    again = void_coupon(marketer, coupon.code, "another reason")
    assert (again.status, again.voided_reason) == (CouponStatus.VOID, "发错了")


def test_void_is_for_programme_roles_and_visible_coupons(sales, south_sales, marketer, coupon):
    with pytest.raises(NotAllowed):
        void_coupon(sales, coupon.code, "作废")
    manager_elsewhere = south_sales
    manager_elsewhere.role = "manager"
    manager_elsewhere.save()
    with pytest.raises(UnknownCoupon):
        void_coupon(manager_elsewhere, coupon.code, "作废")
    assert coupon_state(coupon.code)[0] == CouponStatus.ISSUED


def test_expiry_marks_only_unused_coupons_past_their_end(marketer, sales, holder, channel):
    template = make_template(marketer)
    now = timezone.now()
    past = make_coupon(template, holder, valid_until=now - timedelta(minutes=1))
    current = make_coupon(template, holder)
    used = make_coupon(template, holder, valid_until=now - timedelta(minutes=1))
    Coupon.objects.filter(pk=used.pk).update(
        status=CouponStatus.REDEEMED, order=make_order(holder, channel)
    )
    assert expire_coupons(now) == 1
    statuses = dict(Coupon.objects.values_list("pk", "status"))
    assert statuses == {
        past.pk: CouponStatus.EXPIRED,
        current.pk: CouponStatus.ISSUED,
        used.pk: CouponStatus.REDEEMED,
    }
    assert expire_coupons(now) == 0


def test_a_refund_does_not_give_a_used_coupon_back(sales, coupon, holder, channel):
    order = make_order(holder, channel, "100.00")
    redeem_coupon(sales, coupon.code, order.pk)
    refund_order(sales, order.pk, Decimal("100.00"), "退货")
    assert coupon_state(coupon.code)[:2] == (CouponStatus.REDEEMED, order.pk)
