"""What one staff member may do alone with points and coupons (per role, set by an
administrator), and the checks that read it.

- A points adjustment beyond ``points_per_adjustment``, or one that takes the person's
  adjustments of the business day beyond ``points_per_day``, waits for a second person's
  approval (kehu/loyalty/approvals/services.py). Both count points either way (adding or taking).
  Adjustments approved by someone else and the points a cancellation forfeits do not count.
- A cash offset that names no order is refused above ``offset_without_order``: a larger one
  must name the order it pays for, whose total bounds it.
- A coupon worth more than ``coupon_face_value`` (its fixed amount off, or a percentage's cap;
  a percentage without a cap has no upper value and is above any finite limit) waits for a
  second person's approval, for one customer as for a batch (kehu/loyalty/approvals/services.py).
"""

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet, Sum
from django.db.models.functions import Abs
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.accounts.permissions import may
from kehu.accounts.roles import Role
from kehu.core.errors import NotAllowed, RuleViolation
from kehu.loyalty.models import CouponKind, CouponTemplate, PointsEntry, PointsKind, StaffLimit

MAX_ADJUSTMENT = 10_000_000
"""No single adjustment may be larger, whoever makes it (the API and the form say so too)."""


@dataclass(frozen=True)
class LimitValues:
    """One role's limits; None is no limit."""

    points_per_adjustment: int | None
    points_per_day: int | None
    offset_without_order: Decimal | None
    coupon_face_value: Decimal | None


NO_LIMITS = LimitValues(None, None, None, None)
# Administrators are the second pair of eyes: their adjustments are not held back (but large
# ones alert the other administrators). Roles that may not adjust get 0 (the role check comes
# first anyway).
DEFAULT_LIMITS: Mapping[str, LimitValues] = {
    Role.ADMIN: LimitValues(None, None, Decimal(5000), None),
    Role.MANAGER: LimitValues(2000, 10_000, Decimal(1000), Decimal(200)),
    Role.SALES: LimitValues(0, 0, Decimal(500), Decimal(0)),
    Role.SERVICE: LimitValues(0, 0, Decimal(500), Decimal(0)),
    Role.MARKETING: LimitValues(0, 0, Decimal(0), Decimal(200)),
    Role.ANALYST: LimitValues(0, 0, Decimal(0), Decimal(0)),
}
FIELDS = ("points_per_adjustment", "points_per_day", "offset_without_order", "coupon_face_value")


def limits_for(user: User) -> StaffLimit:
    """The limits of the user's role (a superuser counts as an administrator)."""
    role = Role.ADMIN if user.is_superuser else user.role
    defaults = DEFAULT_LIMITS.get(role, NO_LIMITS)
    limit, _created = StaffLimit.objects.get_or_create(
        role=role, defaults={name: getattr(defaults, name) for name in FIELDS}
    )
    return limit


def all_limits() -> list[StaffLimit]:
    """Every role's limits, in the order of the roles (rows made with the defaults)."""
    existing = {limit.role: limit for limit in StaffLimit.objects.all()}
    missing = [
        StaffLimit(role=role, **{name: getattr(DEFAULT_LIMITS[role], name) for name in FIELDS})
        for role in Role.values
        if role not in existing
    ]
    StaffLimit.objects.bulk_create(missing, ignore_conflicts=True)
    rows = {limit.role: limit for limit in StaffLimit.objects.all()}
    return [rows[role] for role in Role.values]


def save_staff_limits(actor: User, limits: Mapping[str, LimitValues]) -> list[StaffLimit]:
    """Set the limits of the roles given (administrators only); negative numbers are refused."""
    if not may(actor, "settings.manage"):
        raise NotAllowed(_("Only administrators may change the staff limits."))
    problems = {
        f"{role}.{name}": _("Enter zero or more; leave empty for no limit.")
        for role, values in limits.items()
        for name in FIELDS
        if (value := getattr(values, name)) is not None and value < 0
    }
    for role in set(limits) - set(Role.values):
        problems[f"{role}.role"] = _("Not a role.")
    if problems:
        raise ValidationError(problems)
    with transaction.atomic():
        all_limits()
        for role, values in limits.items():
            StaffLimit.objects.filter(role=role).update(
                **{name: getattr(values, name) for name in FIELDS}
            )
    return all_limits()


# --- points adjustments -----------------------------------------------------------------------


def business_day_bounds(now: datetime.datetime) -> tuple[datetime.datetime, datetime.datetime]:
    """The start of the business day of `now` (in the business time zone) and of the next."""
    day = timezone.localdate(now)
    start = timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
    following = timezone.make_aware(
        datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min)
    )
    return start, following


def own_adjustments(actor: User, now: datetime.datetime) -> QuerySet[PointsEntry]:
    """The adjustments `actor` made alone on the business day of `now`: those keyed by their
    own requests (``user:<id>:…``); approved ones are keyed by the approval instead."""
    start, following = business_day_bounds(now)
    return PointsEntry.objects.filter(
        kind=PointsKind.ADJUST,
        idempotency_key__startswith=f"user:{actor.pk}:",
        created_at__gte=start,
        created_at__lt=following,
    )


def adjusted_today(actor: User, now: datetime.datetime) -> int:
    """Points `actor` adjusted alone today, counted either way."""
    total = own_adjustments(actor, now).aggregate(total=Sum(Abs("points")))["total"]
    return int(total or 0)


def approval_needed(actor: User, points: int, now: datetime.datetime) -> str:
    """Why an adjustment of `points` by `actor` needs a second person's approval, or ""."""
    limit = limits_for(actor)
    size = abs(points)
    if limit.points_per_adjustment is not None and size > limit.points_per_adjustment:
        return _("%(points)s points is above your limit of %(limit)s per adjustment.") % {
            "points": size,
            "limit": limit.points_per_adjustment,
        }
    if limit.points_per_day is not None:
        done = adjusted_today(actor, now)
        if done + size > limit.points_per_day:
            return _(
                "With %(points)s more points, your adjustments today (%(done)s) would pass "
                "your daily limit of %(limit)s."
            ) % {"points": size, "done": done, "limit": limit.points_per_day}
    return ""


def check_adjustment_size(points: int) -> None:
    if abs(points) > MAX_ADJUSTMENT:
        raise ValidationError(
            {
                "points": _("At most %(limit)s points either way in one adjustment.")
                % {"limit": MAX_ADJUSTMENT}
            }
        )


# --- cash offsets and coupons -----------------------------------------------------------------


def to_fen(amount: Decimal) -> Decimal:
    return Decimal(amount).quantize(Decimal("0.01"))


def check_offset_without_order(actor: User, amount: Decimal) -> None:
    """A cash offset that names no order stays within the role's limit."""
    limit = limits_for(actor).offset_without_order
    if limit is not None and amount > limit:
        raise RuleViolation(
            _(
                "A cash offset of more than ¥%(limit)s must name the order it pays for "
                "(it can never exceed that order)."
            )
            % {"limit": to_fen(limit)},
            code="offset_needs_order",
            details={"field": "order_id", "limit": str(limit)},
        )


def coupon_face_value(template: CouponTemplate) -> Decimal | None:
    """What one coupon can take off at most, in yuan, as its template states it: the amount
    off, or a percentage's cap. None for a percentage without a cap: it has no upper value.
    A free gift and free shipping name no amount and count as 0 (they give goods, not money)."""
    if template.kind in (CouponKind.FIXED, CouponKind.THRESHOLD):
        return template.amount_off or Decimal(0)
    if template.kind == CouponKind.PERCENT:
        return template.max_discount
    return Decimal(0)


def coupon_approval_needed(actor: User, template: CouponTemplate) -> str:
    """Why a coupon of `template` issued by `actor` needs a second person's approval, or ""."""
    limit = limits_for(actor).coupon_face_value
    if limit is None:
        return ""
    value = coupon_face_value(template)
    if value is None:
        return _(
            "“%(name)s” is a percentage without a cap: it has no upper value, and your limit "
            "is ¥%(limit)s per coupon."
        ) % {"name": template.name, "limit": to_fen(limit)}
    if value > limit:
        return _("“%(name)s” is worth ¥%(value)s, above your limit of ¥%(limit)s per coupon.") % {
            "name": template.name,
            "value": to_fen(value),
            "limit": to_fen(limit),
        }
    return ""
