"""The coupon half of a referral reward (推荐奖励优惠券): which templates may be one, issuing it to
each side exactly once, and what happens when a chosen template can no longer give coupons.

A template chosen in the settings may stop giving coupons before a referral is paid: switched
off, past the end of its fixed dates, every coupon issued, the holder's per-customer limit
reached. The referral is still paid its points — they are what the customer was promised, and
holding the whole reward back for a coupon the business stopped would punish the customer for
it. The coupon is skipped, never silently: everyone who runs the programme gets a notification
naming the referral, the side and the rule in the way, so that someone can give a coupon by hand
or choose another template.
"""

from __future__ import annotations

import datetime

from django.db.models import F, Q, QuerySet, Subquery
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from kehu.accounts.models import User
from kehu.accounts.notifications import NewNotification, notify
from kehu.accounts.roles import ROLE_POLICIES
from kehu.core.errors import RuleViolation
from kehu.loyalty.coupons.rules import check_issuable, describe_value, total_limit_reached
from kehu.loyalty.coupons.services import issue_coupon
from kehu.loyalty.models import (
    Coupon,
    CouponTemplate,
    Membership,
    Referral,
    Tier,
    ValidityKind,
)

NOTIFICATION_KIND = "referral_coupon_skipped"
REFERRER, REFEREE = "referrer", "referee"


def coupon_key(referral_id: int, side: str) -> str:
    """The coupon's idempotency key: one coupon per referral and side, whoever pays it."""
    return f"referral:{referral_id}:{side}:coupon"


# --- which templates may be a reward ----------------------------------------------------------


def reward_templates(now: datetime.datetime) -> QuerySet[CouponTemplate]:
    """Templates that can give a coupon now to any member: active, not past the end of their
    fixed dates, not all issued, and not reserved for a tier above the entry one (the new
    member starts there)."""
    entry_tier = Tier.objects.order_by("rank").values("pk")[:1]
    ended = Q(validity=ValidityKind.FIXED, valid_until__lte=now)
    all_issued = Q(total_limit__isnull=False, issued_count__gte=F("total_limit"))
    return (
        CouponTemplate.objects.filter(is_active=True)
        .exclude(ended | all_issued)
        .filter(Q(tier__isnull=True) | Q(tier=Subquery(entry_tier)))
        .order_by("name", "pk")
    )


def reward_template_problem(template: CouponTemplate, now: datetime.datetime) -> str:
    """Why the template cannot be a referral reward now, in words; "" when it can."""
    try:
        check_issuable(template, now)
    except RuleViolation as refusal:
        return refusal.message
    if template.total_limit is not None and template.issued_count >= template.total_limit:
        return total_limit_reached(template).message
    if not reward_templates(now).filter(pk=template.pk).exists():
        return _("“%(name)s” is only for higher tiers; choose a coupon every member may hold.") % {
            "name": template.name
        }
    return ""


def template_label(template: CouponTemplate) -> str:
    """How a template is offered in the settings: its name and what it gives."""
    return f"{template.name} · {describe_value(template)}"


# --- giving the coupon ------------------------------------------------------------------------


def give_referral_coupon(
    referral: Referral, side: str, template_id: int, customer_id: int, now: datetime.datetime
) -> Coupon | None:
    """Issue the side's coupon inside the referral's payment; None when the template refused
    (the programme's people are notified, the caller pays the points regardless).

    The fixed idempotency key makes a second payment of the same referral answer the first
    coupon; the referral row lock held by the caller makes sure there is no second payment."""
    try:
        template = CouponTemplate.objects.get(pk=template_id)
        return issue_coupon(
            None, template, customer_id, idempotency_key=coupon_key(referral.pk, side), now=now
        )
    except (RuleViolation, Http404, CouponTemplate.DoesNotExist) as refusal:
        notify_coupon_skipped(referral, side, template_id, refusal_text(refusal), now)
        return None


def refusal_text(refusal: Exception) -> str:
    if isinstance(refusal, RuleViolation):
        return refusal.message
    return _("The coupon template was deleted.")


def notify_coupon_skipped(
    referral: Referral, side: str, template_id: int, reason: str, now: datetime.datetime
) -> int:
    """One notification to each active user whose role runs the programme, linking to the
    template; the referral is named by its number and the referrer's card (not by customer
    names, which some recipients may not see)."""
    template = CouponTemplate.objects.filter(pk=template_id).first()
    values = {
        "referral": referral.pk,
        "card": Membership.objects.get(pk=referral.referrer_id).card_number,
        "name": template.name if template else f"#{template_id}",
        "reason": reason,
    }
    title = _("Referral coupon not given: “%(name)s”") % values
    body = "\n".join((skipped_message(side) % values, _(FOLLOW_UP)))
    link = reverse("loyalty:coupon_template", args=[template_id]) if template else ""
    notifications = [
        NewNotification(
            recipient_id=user_id, kind=NOTIFICATION_KIND, title=title, body=body, link=link
        )
        for user_id in programme_runner_ids()
    ]
    return notify(notifications, now)


FOLLOW_UP = gettext_noop(
    "The rest of the reward was paid. Give a coupon by hand if you wish, and check the coupon "
    "chosen in the programme settings."
)


def skipped_message(side: str) -> str:
    if side == REFERRER:
        return _(
            "Referral #%(referral)s (referrer's card %(card)s): the referrer did not get the "
            "coupon “%(name)s”. %(reason)s"
        )
    return _(
        "Referral #%(referral)s (referrer's card %(card)s): the new member did not get the "
        "coupon “%(name)s”. %(reason)s"
    )


def programme_runner_ids() -> list[int]:
    """Active users whose role runs the loyalty programme (coupon templates and settings)."""
    roles = [role for role, policy in ROLE_POLICIES.items() if policy.can_manage_loyalty]
    users = User.objects.filter(is_active=True).filter(Q(role__in=roles) | Q(is_superuser=True))
    return list(users.order_by("pk").values_list("pk", flat=True))
