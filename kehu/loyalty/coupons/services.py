"""Coupons (优惠券): issuing one coupon, redemption against an order, void and expiry.

Money is right under concurrency and retries:

- a coupon is used once: the redemption is one conditional UPDATE (`... WHERE status =
  'issued'`), so of many parallel requests exactly one wins and the others hear "already used";
- an order takes at most one coupon (a unique column), whatever the requests race;
- the total limit is a counter moved by one conditional UPDATE (`issued_count + n <=
  total_limit`) in the same transaction as the coupons it counts;
- issuing and redeeming take an idempotency key: the same key again answers the first result.

A refund does not give a used coupon back: the coupon was spent on the order, as is the common
practice of shops (and the only safe one when part of the goods are kept); the template's
revenue then counts the order net of the refund.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import numpy as np
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.accounts.permissions import require
from kehu.commerce.models import Order
from kehu.core.errors import RuleViolation
from kehu.customers.models import Customer
from kehu.customers.queries import get_visible_customer, visible_customers
from kehu.loyalty.approvals.limits import coupon_approval_needed
from kehu.loyalty.approvals.requests import approval_with_key, request_coupon_approval
from kehu.loyalty.coupons.rules import (
    UnknownCoupon,
    already_used,
    check_issuable,
    check_redeemable,
    check_state,
    check_tier,
    coupon_discount,
    coupon_window,
    order_has_coupon,
    per_customer_limit_reached,
    total_limit_reached,
)
from kehu.loyalty.models import ApprovalRequest, Coupon, CouponStatus, CouponTemplate
from kehu.loyalty.outbox import record_coupon_redeemed, record_coupons_issued

ZERO = Decimal("0.00")
CODE_ALPHABET = np.frombuffer(b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789", dtype=np.uint8)  # no 0O1I
CODE_LENGTH = 12  # 32**12 ≈ 10**18 codes: guessing one is hopeless, a clash is checked anyway
CODE_CHECK_CHUNK = 5000  # codes per `IN (...)` when checking for clashes
MAX_CODE_ROUNDS = 10
MAX_KEY_LENGTH = 120


# --- codes ------------------------------------------------------------------------------------


def random_codes(count: int) -> list[str]:
    """`count` random codes from the operating system's randomness, made in one numpy step:
    each byte's low 5 bits pick one of the 32 letters (256 is a multiple of 32: no bias)."""
    if count <= 0:
        return []
    letters = CODE_ALPHABET[np.frombuffer(os.urandom(count * CODE_LENGTH), np.uint8) & 31]
    return letters.reshape(count, CODE_LENGTH).view(f"S{CODE_LENGTH}").ravel().astype(str).tolist()


def fresh_codes(count: int) -> list[str]:
    """`count` distinct codes that no coupon has yet. Clashes (among themselves or with stored
    codes) are drawn again; the unique column stays the last word under concurrency."""
    codes: list[str] = []
    for _round in range(MAX_CODE_ROUNDS):
        wanted = count - len(codes)
        if wanted == 0:
            return codes
        chosen = set(codes)
        candidates = [code for code in dict.fromkeys(random_codes(wanted)) if code not in chosen]
        taken = stored_codes(candidates)
        codes += [code for code in candidates if code not in taken]
    raise RuleViolation(_("No free coupon codes were found; try again."), code="no_free_codes")


def stored_codes(codes: list[str]) -> set[str]:
    taken: set[str] = set()
    for start in range(0, len(codes), CODE_CHECK_CHUNK):
        chunk = codes[start : start + CODE_CHECK_CHUNK]
        taken.update(Coupon.objects.filter(code__in=chunk).values_list("code", flat=True))
    return taken


def normalise_code(text: str) -> str:
    """What a cashier types: any case, with spaces or dashes between groups."""
    return "".join(text.split()).replace("-", "").upper()[:20]


# --- rights -----------------------------------------------------------------------------------


# --- the template lock and counter ----------------------------------------------------------


def locked_template(template_id: int) -> CouponTemplate:
    """The template row, locked until the transaction ends: issues of one template take turns,
    so the per-customer and total limits are checked against what is really there."""
    rows = CouponTemplate.objects.select_for_update(of=("self",)).select_related("tier")
    try:
        return rows.get(pk=template_id)
    except CouponTemplate.DoesNotExist:
        raise Http404("No coupon template matches the given query.") from None


def reserve_coupons(template: CouponTemplate, count: int) -> bool:
    """Count `count` more coupons against the template, in one conditional UPDATE that succeeds
    only while the total limit leaves room: two requests cannot both take the last coupon."""
    if count <= 0:
        return True
    rows = CouponTemplate.objects.filter(pk=template.pk).filter(
        Q(total_limit__isnull=True) | Q(issued_count__lte=F("total_limit") - count)
    )
    return rows.update(issued_count=F("issued_count") + count) == 1


# --- issuing one coupon -----------------------------------------------------------------------


@dataclass(frozen=True)
class IssueResult:
    """The coupon issued, or (``coupon`` None) the request waiting for approval."""

    coupon: Coupon | None
    created: bool  # False: the idempotency key answered the first coupon (or request)
    approval: ApprovalRequest | None = None


def issue_coupon(
    actor: User | None,
    template: CouponTemplate,
    customer_id: int,
    *,
    idempotency_key: str | None = None,
    now: datetime | None = None,
) -> Coupon:
    """Give one customer a coupon of `template`. `actor` None is the programme itself (a
    referral reward): no role, visibility or value-limit check. For a caller that needs the
    coupon at once: above the staff member's value limit the request is kept for approval and
    this answers 409 `coupon_awaits_approval`. The same idempotency key again answers the
    coupon issued the first time and changes nothing."""
    result = issue_one(actor, template.pk, customer_id, idempotency_key=idempotency_key, now=now)
    if result.coupon is None:
        raise RuleViolation(
            _("The coupon is above your limit and waits for a second person's approval."),
            code="coupon_awaits_approval",
            details={"approval_id": result.approval.pk if result.approval else None},
        )
    return result.coupon


def issue_one(
    actor: User | None,
    template_id: int,
    customer_id: int,
    *,
    idempotency_key: str | None = None,
    now: datetime | None = None,
) -> IssueResult:
    """`issue_coupon`, saying whether the coupon is new (the API answers 201 or 200). Above
    the staff member's value limit (kehu/loyalty/approvals/limits.py) nothing is issued: the
    coupon waits for a second person's approval (the API answers 202 with the request)."""
    now = now or timezone.now()
    customer = issue_target(actor, customer_id)
    template = CouponTemplate.objects.select_related("tier").filter(pk=template_id).first()
    if template is None:
        raise Http404("No coupon template matches the given query.")
    key = checked_key(idempotency_key)
    if key and (earlier := replayed_issue(key, template.pk, customer.pk)) is not None:
        return IssueResult(earlier, created=False)
    if key and (waiting := replayed_request(key, template.pk, customer.pk)) is not None:
        return IssueResult(waiting.coupon, created=False, approval=waiting)
    check_issuable(template, now)
    check_tier(template, customer.pk)
    why = coupon_approval_needed(actor, template) if actor is not None else ""
    if actor is not None and why:
        return IssueResult(None, True, hold_for_approval(actor, template, customer, key, why, now))
    return issue_checked(template, customer.pk, key, now)


def issue_checked(
    template: CouponTemplate,
    customer_id: int,
    key: str,
    now: datetime,
    *,
    approved_by: User | None = None,
) -> IssueResult:
    """Issue a coupon whose template, customer and issuer were checked: the limits of the
    template are checked under its lock (also used by an approval, with its approver)."""
    try:
        with transaction.atomic():
            return issue_locked(template.pk, customer_id, key, now, approved_by)
    except IntegrityError:
        earlier = replayed_issue(key, template.pk, customer_id) if key else None
        if earlier is None:
            raise
        return IssueResult(earlier, created=False)


def hold_for_approval(
    actor: User,
    template: CouponTemplate,
    customer: Customer,
    key: str,
    why: str,
    now: datetime,
) -> ApprovalRequest:
    """The request for a coupon above the issuer's limit; a parallel retry with the same key
    answers the request the first one made."""
    request_key = f"coupon:{key}" if key else f"coupon:once:{uuid.uuid4().hex}"
    try:
        with transaction.atomic():
            return request_coupon_approval(
                actor, template, customer=customer, idempotency_key=request_key, why=why, now=now
            )
    except IntegrityError:
        earlier = replayed_request(key, template.pk, customer.pk) if key else None
        if earlier is None:
            raise
        return earlier


def replayed_request(key: str, template_id: int, customer_id: int) -> ApprovalRequest | None:
    approval = approval_with_key(f"coupon:{key}")
    if approval is None:
        return None
    if (approval.coupon_template_id, approval.customer_id) != (template_id, customer_id):
        raise key_reused()
    return approval


def issue_target(actor: User | None, customer_id: int) -> Customer:
    if actor is None:
        customer = Customer.objects.filter(pk=customer_id).first()
        if customer is None:
            raise Http404("No customer matches the given query.")
        return customer
    require(actor, "loyalty.manage")
    return get_visible_customer(actor, customer_id)


def issue_locked(
    template_id: int,
    customer_id: int,
    key: str,
    now: datetime,
    approved_by: User | None = None,
) -> IssueResult:
    template = locked_template(template_id)
    if key and (earlier := replayed_issue(key, template.pk, customer_id)) is not None:
        return IssueResult(earlier, created=False)  # a parallel request with the key won
    check_issuable(template, now)
    if template.per_customer_limit is not None:
        held = held_coupons(template).filter(customer_id=customer_id).count()
        if held >= template.per_customer_limit:
            raise per_customer_limit_reached(template, held)
    if not reserve_coupons(template, 1):
        raise total_limit_reached(template)
    valid_from, valid_until = coupon_window(template, now)
    coupon = Coupon.objects.create(
        template=template,
        code=fresh_codes(1)[0],
        customer_id=customer_id,
        valid_from=valid_from,
        valid_until=valid_until,
        issued_at=now,
        issue_key=key or None,
        approved_by=approved_by,
    )
    record_coupons_issued([coupon])
    return IssueResult(coupon, created=True)


def held_coupons(template: CouponTemplate) -> QuerySet[Coupon]:
    """The coupons that count against the per-customer limit: all but voided ones (a coupon
    voided by mistake may be replaced)."""
    return Coupon.objects.filter(template=template).exclude(status=CouponStatus.VOID)


def checked_key(key: str | None) -> str:
    key = (key or "").strip()
    if len(key) > MAX_KEY_LENGTH:
        raise ValidationError(
            {"idempotency_key": [_("At most %(count)d characters.") % {"count": MAX_KEY_LENGTH}]}
        )
    return key


def replayed_issue(key: str, template_id: int, customer_id: int) -> Coupon | None:
    coupon = Coupon.objects.filter(issue_key=key).first()
    if coupon is None:
        return None
    if (coupon.template_id, coupon.customer_id) != (template_id, customer_id):
        raise key_reused()
    return coupon


def key_reused() -> RuleViolation:
    return RuleViolation(
        _("This idempotency key was already used for a different request."),
        code="idempotency_key_reused",
        details={"field": "idempotency_key"},
    )


# --- redemption -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CouponCheck:
    """A dry run: would the coupon apply to the order, for how much, or which rule fails."""

    coupon: Coupon
    order: Order
    applies: bool
    discount: Decimal
    rule: str = ""
    message: str = ""


def visible_order(actor: User, order_id: int) -> Order:
    orders = Order.objects.filter(customer__in=visible_customers(actor)).select_related("store")
    try:
        return orders.get(pk=order_id)
    except (Order.DoesNotExist, ValueError, TypeError):
        raise Http404("No order matches the given query.") from None


def counter_order(actor: User, order_id: int) -> Order:
    """The order a coupon is checked or used on: one the user may see, of a store the user
    works at (whatever store the counter says it is; an order of no store is online)."""
    order = visible_order(actor, order_id)
    if order.store is not None:
        require(actor, "store.serve", order.store)
    return order


def coupon_by_code(code: str) -> Coupon:
    coupon = (
        Coupon.objects.select_related("template__tier", "customer", "order", "approved_by")
        .prefetch_related("template__stores")
        .filter(code=normalise_code(code))
        .first()
    )
    if coupon is None:
        raise UnknownCoupon(_("No coupon has this code."), code="unknown_code")
    return coupon


def check_coupon(
    actor: User, code: str, order_id: int, *, now: datetime | None = None
) -> CouponCheck:
    """Would a redemption of `code` on the order succeed now? Nothing is written."""
    require(actor, "member.serve")
    order = counter_order(actor, order_id)
    coupon = visible_coupon(actor, code)  # another's code answers like an unknown one
    try:
        check_redeemable(coupon, order, now or timezone.now())
    except RuleViolation as refusal:
        return CouponCheck(coupon, order, False, ZERO, refusal.code, refusal.message)
    return CouponCheck(coupon, order, True, coupon_discount(coupon.template, order.total_amount))


def redeem_coupon(
    actor: User,
    code: str,
    order_id: int,
    *,
    idempotency_key: str | None = None,
    now: datetime | None = None,
) -> Coupon:
    """Use a coupon on an order, once. Every rule is checked first (each refusal names its
    rule); then one conditional UPDATE marks it used, so of parallel requests one wins. The
    same idempotency key again (or the same coupon on the same order) answers that first use."""
    require(actor, "member.serve")
    now = now or timezone.now()
    order = counter_order(actor, order_id)
    key = checked_key(idempotency_key)
    if key and (earlier := replayed_redemption(key, code, order)) is not None:
        return earlier
    coupon = visible_coupon(actor, code)
    if coupon.status == CouponStatus.REDEEMED and coupon.order_id == order.pk:
        return coupon
    try:
        check_redeemable(coupon, order, now)
    except RuleViolation:
        # An identical request may have used the coupon since it was read (the order then
        # "has a coupon"): answer that first result, not the rule it now breaks.
        if (earlier := earlier_result(coupon.code, order, key)) is not None:
            return earlier
        raise
    discount = coupon_discount(coupon.template, order.total_amount)
    if not mark_redeemed(coupon, order, discount, key, now):
        return lost_race(coupon, order, key, now)
    coupon.status, coupon.order, coupon.redeemed_at = CouponStatus.REDEEMED, order, now
    coupon.discount_amount, coupon.redeem_key = discount, key or None
    return coupon


def mark_redeemed(coupon: Coupon, order: Order, discount: Decimal, key: str, now: datetime) -> bool:
    """The single-use guarantee: only a coupon still unused and unexpired changes."""
    try:
        with transaction.atomic():
            updated = Coupon.objects.filter(
                pk=coupon.pk, status=CouponStatus.ISSUED, valid_until__gte=now
            ).update(
                status=CouponStatus.REDEEMED,
                order=order,
                redeemed_at=now,
                discount_amount=discount,
                redeem_key=key or None,
            )
            if updated == 1:
                record_coupon_redeemed(coupon, order.pk)
    except IntegrityError:
        return False  # the order took another coupon, or the key was used meanwhile
    return updated == 1


def lost_race(coupon: Coupon, order: Order, key: str, now: datetime) -> Coupon:
    """Another request changed the coupon or the order between the checks and the update:
    answer its result if it was this very request retried, else the rule now in the way."""
    if (earlier := earlier_result(coupon.code, order, key)) is not None:
        return earlier
    current = coupon_by_code(coupon.code)
    if current.status == CouponStatus.REDEEMED:
        raise already_used(current)
    check_state(current, now)
    raise order_has_coupon()


def earlier_result(code: str, order: Order, key: str) -> Coupon | None:
    """The first redemption this request repeats: the same key, or this coupon on this order."""
    if key and (earlier := replayed_redemption(key, code, order)) is not None:
        return earlier
    current = coupon_by_code(code)
    if current.status == CouponStatus.REDEEMED and current.order_id == order.pk:
        return current
    return None


def replayed_redemption(key: str, code: str, order: Order) -> Coupon | None:
    coupon = Coupon.objects.filter(redeem_key=key).first()
    if coupon is None:
        return None
    if coupon.code != normalise_code(code) or coupon.order_id != order.pk:
        raise key_reused()
    return coupon_by_code(coupon.code)


# --- void and expiry --------------------------------------------------------------------------


def visible_coupon(actor: User, code: str) -> Coupon:
    """A coupon of a customer the user may see; any other code is unknown to them."""
    coupon = coupon_by_code(code)
    if not visible_customers(actor).filter(pk=coupon.customer_id).exists():
        raise UnknownCoupon(_("No coupon has this code."), code="unknown_code")
    return coupon


def void_coupon(actor: User, code: str, reason: str) -> Coupon:
    """Cancel an unused coupon, with the reason kept. Voiding a void coupon again changes
    nothing; a used or expired one cannot be voided."""
    require(actor, "loyalty.manage")
    reason = " ".join(reason.split())[:200]
    if not reason:
        raise ValidationError({"reason": [_("Say why the coupon is voided.")]})
    coupon = visible_coupon(actor, code)
    if coupon.status == CouponStatus.VOID:
        return coupon
    updated = Coupon.objects.filter(pk=coupon.pk, status=CouponStatus.ISSUED).update(
        status=CouponStatus.VOID, voided_reason=reason
    )
    current = coupon_by_code(coupon.code)
    if not updated and current.status != CouponStatus.VOID:
        check_state(current, timezone.now())
    return current


def expire_coupons(now: datetime | None = None) -> int:
    """Mark every unused coupon past its end as expired, in one statement; returns how many.
    Redemption checks the end itself, so a coupon is never usable late if this job is."""
    stale = Coupon.objects.filter(status=CouponStatus.ISSUED, valid_until__lt=now or timezone.now())
    return stale.update(status=CouponStatus.EXPIRED)
