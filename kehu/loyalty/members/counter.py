"""Points actions on one member as the counter and the shop system ask for them: enrol, and earn
for a stored order, each checked against the user's role and the customers they may see."""

from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.accounts.permissions import require
from kehu.commerce.models import Order, Store
from kehu.commerce.queries import acting_store
from kehu.core.errors import RuleViolation
from kehu.customers.queries import get_visible_customer
from kehu.loyalty.members.services import enrol_member, membership_of, visible_membership
from kehu.loyalty.models import EnrolmentChannel, Membership, PointsEntry
from kehu.loyalty.points.services import earn_for_order, earn_key, entry_with_key, require_active

MAX_EXTRA_MULTIPLIER = Decimal(10)


@dataclass(frozen=True)
class Enrolment:
    membership: Membership
    created: bool  # False: the customer was a member already


def enrol_customer(
    actor: User, customer_id: int, *, channel: str = EnrolmentChannel.API, store_code: str = ""
) -> Enrolment:
    """Enrol a customer by id, at a store given by its code; enrolling twice is harmless."""
    require(actor, "member.serve")
    get_visible_customer(actor, customer_id)  # 404 comes before a wrong store code
    store = enrolment_store(actor, channel, store_code)
    was_member = membership_of(customer_id) is not None
    membership = enrol_member(actor, customer_id, channel=channel, store=store)
    return Enrolment(membership, created=not was_member)


def enrolment_store(actor: User, channel: str, store_code: str) -> Store | None:
    """The store of an enrolment at the counter (or wherever a store code is sent): one the
    user works at, their only store when none is sent. Other channels happen at no store."""
    if store_code or channel == EnrolmentChannel.STORE:
        return acting_store(actor, store_code)
    return None


@dataclass(frozen=True)
class Earning:
    entry: PointsEntry | None  # None: the order earns nothing (too small, before enrolment)
    created: bool


def earn_points_for_order(
    actor: User, customer_id: int, order_id: int, *, extra_multiplier: Decimal = Decimal(1)
) -> Earning:
    """Earn a member's points for one of their stored orders (a campaign may multiply them);
    once per order, so a retried request answers the first earning."""
    require(actor, "member.serve")
    membership = visible_membership(actor, customer_id)
    if not Decimal(0) < extra_multiplier <= MAX_EXTRA_MULTIPLIER:
        raise ValidationError(
            {"extra_multiplier": _("The extra multiplier must be above 0 and at most 10.")}
        )
    order = Order.objects.filter(pk=order_id, customer_id=membership.customer_id).first()
    if order is None:
        raise RuleViolation(
            _("Order %(id)s is not this member's.") % {"id": order_id},
            code="order_not_members",
            details={"field": "order_id"},
        )
    existing = entry_with_key(earn_key(order.pk))
    if existing is not None:
        return Earning(existing, created=False)
    require_active(membership)
    entry = earn_for_order(order, extra_multiplier=extra_multiplier, actor=actor)
    return Earning(entry, created=entry is not None)
