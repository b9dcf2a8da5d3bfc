"""The rules of coupons: what makes a template valid, what a coupon takes off an order, and
the checks a redemption must pass. Each failed check is a `RuleViolation` whose code names the
rule (`expired`, `wrong_store`, ...), so pages and the API can say exactly what was refused."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from kehu.commerce.models import Order, OrderStatus
from kehu.core.errors import RuleViolation
from kehu.loyalty.members.services import membership_of
from kehu.loyalty.models import Coupon, CouponKind, CouponStatus, CouponTemplate, ValidityKind

CENT = Decimal("0.01")
HUNDRED = Decimal(100)
ZERO = Decimal("0.00")
# An order in these states was never paid or was wholly given back: no coupon applies to it.
ORDER_STATUSES_WITHOUT_COUPON = (OrderStatus.CANCELLED, OrderStatus.REFUNDED)


class UnknownCoupon(RuleViolation):
    """No coupon has this code (or none the user may see): the API answers 404."""


# --- templates --------------------------------------------------------------------------------


def check_template(template: CouponTemplate) -> None:
    """Raise a ValidationError naming each field that does not fit the template's kind and
    validity; an unsaved or an edited template alike."""
    errors: dict[str, list[str]] = {}
    for field, message in [*value_problems(template), *validity_problems(template)]:
        errors.setdefault(field, []).append(message)
    for field, message in limit_problems(template):
        errors.setdefault(field, []).append(message)
    if errors:
        raise ValidationError(errors)


def value_problems(template: CouponTemplate) -> list[tuple[str, str]]:
    """What the coupon gives: an amount, a percentage (with an optional cap) or a gift."""
    kind = template.kind
    problems: list[tuple[str, str]] = []
    if kind not in CouponKind.values:
        return [("kind", _("Choose what the coupon gives."))]
    if template.min_spend is None or template.min_spend < 0:
        problems.append(("min_spend", _("The minimum order cannot be negative.")))
    if kind in (CouponKind.FIXED, CouponKind.THRESHOLD) and not positive(template.amount_off):
        problems.append(("amount_off", _("Enter the amount off, more than ¥0.")))
    if kind == CouponKind.THRESHOLD and not spend_above_amount(template):
        problems.append(
            ("min_spend", _("A 满减 coupon needs a minimum order larger than the amount off."))
        )
    if kind == CouponKind.PERCENT:
        if template.percent_off is None or not ZERO < template.percent_off < HUNDRED:
            problems.append(("percent_off", _("Enter a percentage between 0 and 100.")))
        if template.max_discount is not None and template.max_discount <= 0:
            problems.append(("max_discount", _("The cap must be more than ¥0, or left empty.")))
    if kind == CouponKind.GIFT and not template.gift_description.strip():
        problems.append(("gift_description", _("Describe the gift.")))
    return problems


def validity_problems(template: CouponTemplate) -> list[tuple[str, str]]:
    if template.validity == ValidityKind.FIXED:
        if template.valid_from is None:
            return [("valid_from", _("Enter the first day the coupons may be used."))]
        if template.valid_until is None:
            return [("valid_until", _("Enter the last moment the coupons may be used."))]
        if template.valid_from >= template.valid_until:
            return [("valid_until", _("The end must be after the start."))]
        return []
    if template.validity == ValidityKind.RELATIVE:
        if template.valid_days is None or template.valid_days < 1:
            return [("valid_days", _("Enter for how many days a coupon stays valid, at least 1."))]
        return []
    return [("validity", _("Choose how long coupons stay valid."))]


def limit_problems(template: CouponTemplate) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    if template.per_customer_limit is not None and template.per_customer_limit < 1:
        problems.append(("per_customer_limit", _("At least 1, or left empty for no limit.")))
    if template.total_limit is not None and template.total_limit < max(1, template.issued_count):
        problems.append(
            (
                "total_limit",
                _("At least %(count)d: that many coupons were already issued.")
                % {"count": max(1, template.issued_count)},
            )
        )
    return problems


def spend_above_amount(template: CouponTemplate) -> bool:
    if not positive(template.amount_off):
        return True  # the amount's own message says what is wrong
    return template.min_spend is not None and template.min_spend > (template.amount_off or ZERO)


def positive(value: Decimal | None) -> bool:
    return value is not None and value > 0


def normalise_template(template: CouponTemplate) -> None:
    """Clear the fields the template's kind and validity do not use, so a switched kind does
    not keep a stale percentage or a stale window."""
    if template.kind not in (CouponKind.FIXED, CouponKind.THRESHOLD):
        template.amount_off = None
    if template.kind != CouponKind.PERCENT:
        template.percent_off = None
        template.max_discount = None
    if template.kind != CouponKind.GIFT:
        template.gift_description = ""
    if template.validity == ValidityKind.FIXED:
        template.valid_days = None
    else:
        template.valid_from = None
        template.valid_until = None


def describe_value(template: CouponTemplate) -> str:
    """What the coupon gives, in words: "¥20 off", "15% off, at most ¥50", "满 ¥200 减 ¥30"."""
    if template.kind == CouponKind.FIXED:
        return _("¥%(amount)s off") % {"amount": money(template.amount_off)}
    if template.kind == CouponKind.PERCENT:
        percent = money(template.percent_off)
        if template.max_discount is not None:
            return _("%(percent)s%% off, at most ¥%(cap)s") % {
                "percent": percent,
                "cap": money(template.max_discount),
            }
        return _("%(percent)s%% off") % {"percent": percent}
    if template.kind == CouponKind.THRESHOLD:
        return _("Spend ¥%(spend)s, save ¥%(amount)s") % {
            "spend": money(template.min_spend),
            "amount": money(template.amount_off),
        }
    if template.kind == CouponKind.GIFT:
        return _("Gift: %(gift)s") % {"gift": template.gift_description}
    return _("Free shipping")


def money(value: Decimal | None) -> str:
    """¥ amounts without trailing zeros: 20, 12.5."""
    if value is None:
        return "0"
    text = f"{value:.2f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


# --- what a coupon takes off ------------------------------------------------------------------


def coupon_discount(template: CouponTemplate, order_total: Decimal) -> Decimal:
    """The money off an order of `order_total`, never more than the order itself. A gift or
    free-shipping coupon takes nothing off the goods (its value is the gift or the delivery)."""
    total = max(order_total, ZERO)
    if template.kind in (CouponKind.FIXED, CouponKind.THRESHOLD):
        discount = template.amount_off or ZERO
    elif template.kind == CouponKind.PERCENT:
        discount = (total * (template.percent_off or ZERO) / HUNDRED).quantize(
            CENT, rounding=ROUND_HALF_UP
        )
        if template.max_discount is not None:
            discount = min(discount, template.max_discount)
    else:
        discount = ZERO
    return min(discount, total).quantize(CENT)


# --- issuing ----------------------------------------------------------------------------------


def check_issuable(template: CouponTemplate, now: datetime) -> None:
    """A template gives coupons only while active and before its fixed window has ended."""
    if not template.is_active:
        raise RuleViolation(
            _("The coupon template “%(name)s” is not active.") % {"name": template.name},
            code="template_inactive",
        )
    end = template.valid_until
    if template.validity == ValidityKind.FIXED and end is not None and end <= now:
        raise RuleViolation(
            _("The coupons of “%(name)s” expired on %(date)s; none can be issued.")
            % {"name": template.name, "date": when(end)},
            code="template_expired",
        )


def coupon_window(template: CouponTemplate, issued_at: datetime) -> tuple[datetime, datetime]:
    """When a coupon issued at `issued_at` may be used: the template's fixed dates, or from
    issue for `valid_days` days."""
    if template.validity == ValidityKind.FIXED:
        assert template.valid_from is not None and template.valid_until is not None
        return template.valid_from, template.valid_until
    return issued_at, issued_at + timedelta(days=template.valid_days or 0)


def check_tier(template: CouponTemplate, customer_id: int) -> None:
    """A tier-exclusive coupon: the holder must be a member at that tier or above."""
    tier = template.tier
    if tier is None:
        return
    membership = membership_of(customer_id)
    if membership is None or membership.tier.rank < tier.rank:
        raise RuleViolation(
            _("This coupon is only for %(tier)s members and above.") % {"tier": tier.name},
            code="tier_too_low",
        )


def per_customer_limit_reached(template: CouponTemplate, held: int) -> RuleViolation:
    return RuleViolation(
        _("This customer already has %(count)d coupon(s) of “%(name)s”, the most allowed.")
        % {"count": held, "name": template.name},
        code="per_customer_limit",
    )


def total_limit_reached(template: CouponTemplate) -> RuleViolation:
    return RuleViolation(
        _("All %(count)d coupons of “%(name)s” have been issued.")
        % {"count": template.total_limit or 0, "name": template.name},
        code="total_limit",
    )


# --- redemption -------------------------------------------------------------------------------


def check_redeemable(coupon: Coupon, order: Order, now: datetime) -> None:
    """Every rule a redemption must pass, in the order a cashier would want to hear them;
    the first that fails is raised. The final single-use guarantee is the conditional update
    in `redeem_coupon`; these checks give the reason."""
    check_state(coupon, now)
    check_holder(coupon, order)
    check_order(order)
    check_store(coupon.template, order)
    check_min_spend(coupon.template, order)
    check_tier(coupon.template, coupon.customer_id)


def check_state(coupon: Coupon, now: datetime) -> None:
    """Used, void, expired or not yet valid."""
    if coupon.status == CouponStatus.REDEEMED:
        raise already_used(coupon)
    if coupon.status == CouponStatus.VOID:
        raise RuleViolation(
            _("This coupon was voided: %(reason)s") % {"reason": coupon.voided_reason},
            code="void",
        )
    if coupon.status == CouponStatus.EXPIRED or coupon.valid_until < now:
        raise RuleViolation(
            _("This coupon expired on %(date)s.") % {"date": when(coupon.valid_until)},
            code="expired",
        )
    if coupon.valid_from > now:
        raise RuleViolation(
            _("This coupon may be used from %(date)s.") % {"date": when(coupon.valid_from)},
            code="not_yet_valid",
        )


def already_used(coupon: Coupon) -> RuleViolation:
    used_at = when(coupon.redeemed_at) if coupon.redeemed_at else "—"
    return RuleViolation(
        _("This coupon was already used (%(date)s).") % {"date": used_at}, code="already_used"
    )


def check_holder(coupon: Coupon, order: Order) -> None:
    if coupon.customer_id != order.customer_id:
        raise RuleViolation(
            _("This coupon belongs to another customer than the order's."),
            code="not_customers_coupon",
        )


def check_order(order: Order) -> None:
    if order.status in ORDER_STATUSES_WITHOUT_COUPON:
        raise RuleViolation(
            _("A cancelled or refunded order cannot take a coupon."), code="order_not_eligible"
        )
    if Coupon.objects.filter(order=order).exists():
        raise order_has_coupon()


def order_has_coupon() -> RuleViolation:
    return RuleViolation(
        _("This order already has a coupon; one coupon per order."), code="order_has_coupon"
    )


def check_store(template: CouponTemplate, order: Order) -> None:
    stores = list(template.stores.all())
    if stores and order.store_id not in {store.pk for store in stores}:
        raise RuleViolation(
            _("This coupon is valid only at: %(stores)s.")
            % {"stores": _(", ").join(store.name for store in stores)},
            code="wrong_store",
        )


def check_min_spend(template: CouponTemplate, order: Order) -> None:
    if order.total_amount < template.min_spend:
        raise RuleViolation(
            _("This coupon needs an order of at least ¥%(minimum)s; this order is ¥%(total)s.")
            % {"minimum": money(template.min_spend), "total": money(order.total_amount)},
            code="below_min_spend",
        )


def when(moment: datetime) -> str:
    return date_format(timezone.localtime(moment), "Y-m-d H:i")
