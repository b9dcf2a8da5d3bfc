"""Referrals (推荐奖励): a member's code brings a new customer; both are rewarded — points, a
coupon or both, as the programme's settings say — once the new customer makes a first
qualifying purchase.

"New" means no purchase before the attribution: no order in ``PURCHASE_STATUSES`` (paid,
completed, partly refunded) ordered before the referral was recorded. Pending, cancelled and
fully refunded orders are not purchases. A qualifying purchase is the referee's first purchase
ordered at or after the attribution whose total less refunds is at least
``LoyaltySettings.referral_min_order``; refunds after the reward do not take it back.

Refused attributions raise ``RuleViolation`` and write nothing. Abuse found later, when the
reward is due, is kept: the referral becomes "rejected" with a reason code (``RejectionReason``)
in ``rejected_reason``, so the report can count it.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import (
    DecimalField,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    TextChoices,
    Value,
)
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehu.accounts.models import User
from kehu.accounts.permissions import require
from kehu.commerce.models import PURCHASE_STATUSES, Order
from kehu.core.errors import RuleViolation
from kehu.customers.models import Customer
from kehu.customers.queries import get_visible_customer
from kehu.loyalty.members.services import create_membership
from kehu.loyalty.models import (
    EnrolmentChannel,
    LoyaltySettings,
    Membership,
    MembershipStatus,
    PointsSource,
    Referral,
    ReferralStatus,
)
from kehu.loyalty.points.services import award_points
from kehu.loyalty.referrals.coupon_rewards import REFEREE, REFERRER, give_referral_coupon

MONEY = DecimalField(max_digits=14, decimal_places=2)


class RejectionReason(TextChoices):
    """Why a referral was not rewarded; the code is stored in ``Referral.rejected_reason``."""

    SELF_REFERRAL = "self_referral", gettext_lazy("Self-referral (same customer or mobile)")
    ALREADY_CUSTOMER = "already_customer", gettext_lazy("Had bought before the referral")
    REFERRER_INACTIVE = "referrer_inactive", gettext_lazy("Referrer's membership not active")
    REFEREE_INACTIVE = "referee_inactive", gettext_lazy("New member's membership not active")
    CAP_REACHED = "cap_reached", gettext_lazy("Referrer's cap of rewarded referrals reached")


def rejection_label(code: str) -> str:
    """The reason in words; an unknown code (written by hand) is shown as it is."""
    return str(RejectionReason(code).label) if code in RejectionReason.values else code


@dataclass(frozen=True)
class AttributionResult:
    referral: Referral
    created: bool


@dataclass(frozen=True)
class RewardRun:
    """What one pass of the periodic job did."""

    rewarded: int
    rejected: int
    still_pending: int


def normalise_code(code: str) -> str:
    return "".join(code.split()).upper()


def attribute_referral(
    actor: User, referee_customer_id: int, code: str, *, now: datetime.datetime | None = None
) -> AttributionResult:
    """Record that a new customer signed up with a member's referral code (pending until the
    first qualifying purchase). The same referee with the same code again answers the existing
    referral unchanged, so a retried request is harmless."""
    require(actor, "member.serve")
    referee = get_visible_customer(actor, referee_customer_id)
    code = normalise_code(code)
    existing = existing_attribution(referee, code)
    if existing is not None:
        return AttributionResult(existing, created=False)
    referrer = referrer_with_code(code)
    check_not_self_referral(referrer, referee)
    moment = now or timezone.now()
    check_is_new_customer(referee, moment)
    try:
        with transaction.atomic():
            referral = Referral.objects.create(
                referrer=referrer, referee=referee, code_used=code, attributed_at=moment
            )
    except IntegrityError:
        # A concurrent request attributed the same referee first.
        existing = existing_attribution(referee, code)
        if existing is None:
            raise
        return AttributionResult(existing, created=False)
    return AttributionResult(referral, created=True)


class ReferralCodeRefused(RuleViolation):
    """The referral code given with a new customer or member was refused; the customer was not
    created (or enrolled) either. ``details["field"]`` is ``referral_code``, the forms' field."""


def with_referral[Done](
    actor: User,
    code: str,
    act: Callable[[], Done],
    customer_id_of: Callable[[Done], int],
    *,
    now: datetime.datetime | None = None,
) -> tuple[Done, Referral | None]:
    """Do `act` (the customers app's creation of a customer, or an enrolment) and attribute
    that customer to the member whose referral code they gave, in one transaction: when the
    code is refused (unknown, an inactive member's, the member's own mobile, a customer who
    bought before) nothing `act` wrote is kept and the refusal names the rule. A blank code
    only does `act`."""
    if not normalise_code(code):
        return act(), None
    with transaction.atomic():
        done = act()
        try:
            result = attribute_referral(actor, customer_id_of(done), code, now=now)
        except RuleViolation as refusal:
            raise ReferralCodeRefused(
                refusal.message, code=refusal.code, details={"field": "referral_code"}
            ) from refusal
    return done, result.referral


def existing_attribution(referee: Customer, code: str) -> Referral | None:
    """The referee's referral when it used this code; another code is refused: a customer is
    referred once."""
    existing = Referral.objects.filter(referee=referee).first()
    if existing is None or existing.code_used == code:
        return existing
    raise RuleViolation(
        _("This customer was already referred by another member."),
        code="already_referred",
        details={"field": "referee_customer_id"},
    )


def referrer_with_code(code: str) -> Membership:
    referrer = Membership.objects.select_related("customer").filter(referral_code=code).first()
    if referrer is None:
        raise RuleViolation(
            _("No member has the referral code “%(code)s”.") % {"code": code},
            code="unknown_code",
            details={"field": "code"},
        )
    if referrer.status != MembershipStatus.ACTIVE:
        raise RuleViolation(
            _("The referring member's membership is not active."),
            code="referrer_inactive",
            details={"field": "code"},
        )
    return referrer


def is_self_referral(referrer_customer: Customer, referee: Customer) -> bool:
    same_mobile = bool(referee.mobile.strip()) and (
        referee.mobile.strip() == referrer_customer.mobile.strip()
    )
    return referrer_customer.pk == referee.pk or same_mobile


def check_not_self_referral(referrer: Membership, referee: Customer) -> None:
    if is_self_referral(referrer.customer, referee):
        raise RuleViolation(
            _("A member cannot refer themselves (same customer or same mobile number)."),
            code="self_referral",
            details={"field": "code"},
        )


def purchases_before(customer_id: int, moment: datetime.datetime) -> QuerySet[Order]:
    return Order.objects.filter(
        customer_id=customer_id, status__in=PURCHASE_STATUSES, ordered_at__lt=moment
    )


def check_is_new_customer(referee: Customer, moment: datetime.datetime) -> None:
    if purchases_before(referee.pk, moment).exists():
        raise RuleViolation(
            _("Only new customers can be referred: this customer has bought before."),
            code="already_customer",
            details={"field": "referee_customer_id"},
        )


# --- the reward -------------------------------------------------------------------------------


def qualifying_orders(min_order: object) -> QuerySet[Order]:
    """Purchases at or after the attribution of the outer referral, large enough after
    refunds, earliest first (for use as a subquery over referrals)."""
    return Order.objects.filter(
        customer_id=OuterRef("referee_id"),
        status__in=PURCHASE_STATUSES,
        ordered_at__gte=OuterRef("attributed_at"),
        total_amount__gte=F("refunded_amount") + Value(min_order, output_field=MONEY),
    ).order_by("ordered_at", "pk")


def first_qualifying_orders(referrals: QuerySet[Referral]) -> list[tuple[int, int]]:
    """(referral, its first qualifying order) for those of the referrals that have one,
    earliest purchase first; one query whatever their number."""
    orders = qualifying_orders(LoyaltySettings.current().referral_min_order)
    annotated = referrals.annotate(
        first_order_id=Subquery(orders.values("pk")[:1]),
        first_order_at=Subquery(orders.values("ordered_at")[:1]),
    )
    due = annotated.filter(first_order_id__isnull=False).order_by("first_order_at", "pk")
    return list(due.values_list("pk", "first_order_id"))


def reward_referral(referral_id: int, *, now: datetime.datetime | None = None) -> Referral:
    """Pay a pending referral if its referee has made a qualifying purchase: points and coupons
    to both sides, enrolling the referee (channel "referral") if needed. Safe to call any number of
    times and from several processes: the referral row is locked and only a pending one is
    paid; the points and coupons use fixed idempotency keys besides."""
    moment = now or timezone.now()
    with transaction.atomic():
        referral = Referral.objects.select_for_update().get(pk=referral_id)
        if referral.status != ReferralStatus.PENDING:
            return referral
        due = first_qualifying_orders(Referral.objects.filter(pk=referral.pk))
        if not due:
            return referral
        order = Order.objects.select_related("store").get(pk=due[0][1])
        lock_memberships(referral)
        reason = reason_to_reject(referral)
        if reason:
            return reject_referral(referral, reason)
        return pay_referral(referral, order, moment)


def lock_memberships(referral: Referral) -> None:
    """Lock the referrer's (and the referee's) membership rows in a fixed order, so the cap
    count cannot be raced past and two rewards never deadlock each other."""
    rows = Membership.objects.select_for_update().filter(
        Q(pk=referral.referrer_id) | Q(customer_id=referral.referee_id)
    )
    list(rows.order_by("pk").values_list("pk", flat=True))


def reason_to_reject(referral: Referral) -> str:
    """The first abuse check that fails when the reward is due, or ""."""
    referrer = Membership.objects.select_related("customer").get(pk=referral.referrer_id)
    referee = Customer.objects.get(pk=referral.referee_id)
    if is_self_referral(referrer.customer, referee):
        return RejectionReason.SELF_REFERRAL
    if purchases_before(referee.pk, referral.attributed_at).exists():
        return RejectionReason.ALREADY_CUSTOMER  # an older purchase posted after attribution
    if referrer.status != MembershipStatus.ACTIVE:
        return RejectionReason.REFERRER_INACTIVE
    referee_membership = Membership.objects.filter(customer=referee).first()
    if referee_membership is not None and referee_membership.status != MembershipStatus.ACTIVE:
        return RejectionReason.REFEREE_INACTIVE
    cap = LoyaltySettings.current().referrals_per_referrer_cap
    rewarded = Referral.objects.filter(referrer=referrer, status=ReferralStatus.REWARDED)
    if rewarded.count() >= cap:
        return RejectionReason.CAP_REACHED
    return ""


def reject_referral(referral: Referral, reason: str) -> Referral:
    referral.status = ReferralStatus.REJECTED
    referral.rejected_reason = reason
    referral.save(update_fields=["status", "rejected_reason"])
    return referral


@dataclass(frozen=True)
class RewardSide:
    """What one side of a referral is given: points, a coupon, or both."""

    side: str
    membership: Membership
    points: int
    coupon_template_id: int | None
    other_name: str


def pay_referral(referral: Referral, order: Order, moment: datetime.datetime) -> Referral:
    """Give each side its points and its coupon, all in the caller's transaction (under the
    referral's lock) and each under a fixed idempotency key, so nothing is paid twice. A
    coupon whose template can no longer be issued is skipped with a notification to the
    programme's people (see `kehu.loyalty.referrals.coupon_rewards`); the points are paid
    regardless."""
    for side in reward_sides(referral, order):
        pay_side(referral, side, order, moment)
    referral.status = ReferralStatus.REWARDED
    referral.qualifying_order = order
    referral.rewarded_at = moment
    referral.save(update_fields=["status", "qualifying_order", "rewarded_at"])
    return referral


def reward_sides(referral: Referral, order: Order) -> tuple[RewardSide, RewardSide]:
    """The referrer and the referee (enrolled now, channel "referral", if not a member yet)."""
    settings = LoyaltySettings.current()
    referrer = Membership.objects.select_related("customer").get(pk=referral.referrer_id)
    referee = Customer.objects.get(pk=referral.referee_id)
    referee_membership = Membership.objects.filter(customer=referee).first()
    if referee_membership is None:
        signed_up_on = timezone.localdate(referral.attributed_at)
        referee_membership = create_membership(
            referee, EnrolmentChannel.REFERRAL, order.store, signed_up_on, None
        )
    return (
        RewardSide(
            REFERRER,
            referrer,
            settings.referrer_reward_points,
            settings.referrer_reward_coupon_id,
            referee.name,
        ),
        RewardSide(
            REFEREE,
            referee_membership,
            settings.referee_reward_points,
            settings.referee_reward_coupon_id,
            referrer.customer.name,
        ),
    )


def pay_side(referral: Referral, side: RewardSide, order: Order, moment: datetime.datetime) -> None:
    if side.points > 0:
        award_points(
            side.membership,
            side.points,
            source=PointsSource.REFERRAL,
            reason=reward_reason(side.side, side.other_name),
            idempotency_key=points_key(referral.pk, side.side),
            order=order if side.side == REFEREE else None,
            now=moment,
        )
    if side.coupon_template_id is not None:
        give_referral_coupon(
            referral, side.side, side.coupon_template_id, side.membership.customer_id, moment
        )


def points_key(referral_id: int, side: str) -> str:
    """The points entry's idempotency key: one entry per referral and side."""
    return f"referral:{referral_id}:{side}"


def reward_reason(side: str, other_name: str) -> str:
    if side == "referrer":
        return _("Referral reward: %(name)s made a first purchase") % {"name": other_name}
    return _("Welcome reward: referred by %(name)s") % {"name": other_name}


def reward_referral_for_order(order: Order) -> Referral | None:
    """The direct path after an order is posted: reward the customer's pending referral if this
    (or an earlier) order qualifies. None when the customer has no pending referral."""
    pending = Referral.objects.filter(referee_id=order.customer_id, status=ReferralStatus.PENDING)
    referral_id = pending.values_list("pk", flat=True).first()
    if referral_id is None:
        return None
    return reward_referral(referral_id)


def reward_pending_referrals(now: datetime.datetime | None = None) -> RewardRun:
    """The periodic job: reject in one statement the pending referrals whose referee had bought
    before the attribution, then pay those with a qualifying purchase, earliest purchase first
    (so a referrer's cap goes to the first friends who bought)."""
    moment = now or timezone.now()
    pending = Referral.objects.filter(status=ReferralStatus.PENDING)
    earlier_buyers = pending.filter(
        referee__orders__status__in=PURCHASE_STATUSES,
        referee__orders__ordered_at__lt=F("attributed_at"),
    ).values("pk")
    rejected_at_once = Referral.objects.filter(
        pk__in=earlier_buyers, status=ReferralStatus.PENDING
    ).update(status=ReferralStatus.REJECTED, rejected_reason=RejectionReason.ALREADY_CUSTOMER)
    due = first_qualifying_orders(Referral.objects.filter(status=ReferralStatus.PENDING))
    outcomes = [reward_referral(referral_id, now=moment).status for referral_id, _order in due]
    return RewardRun(
        rewarded=outcomes.count(ReferralStatus.REWARDED),
        rejected=rejected_at_once + outcomes.count(ReferralStatus.REJECTED),
        still_pending=Referral.objects.filter(status=ReferralStatus.PENDING).count(),
    )
