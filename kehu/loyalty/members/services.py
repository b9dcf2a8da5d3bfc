"""Membership: enrolment (card number, referral code, the entry tier) and the default tiers.

Tier moves (upgrade at once, downgrade only at a review after a grace period) live here too.
"""

from __future__ import annotations

import datetime
import secrets

from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.accounts.permissions import require
from kehu.commerce.models import Store
from kehu.core.errors import RuleViolation
from kehu.customers.models import Customer
from kehu.customers.queries import get_visible_customer
from kehu.loyalty.models import (
    EnrolmentChannel,
    LoyaltySettings,
    Membership,
    Tier,
    TierChange,
    TierChangeReason,
)
from kehu.loyalty.outbox import record_member_enrolled

# 普通 → 银卡 → 金卡 → 钻石: rolling 12-month spend (¥) to reach each, points multiplier, birthday
# gift. A business renames them and changes the thresholds in the programme settings.
DEFAULT_TIERS = (
    ("普通", 0, "0", "1.00", 0),
    ("银卡", 1, "1000", "1.20", 50),
    ("金卡", 2, "5000", "1.50", 200),
    ("钻石", 3, "20000", "2.00", 500),
)
REFERRAL_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread
REFERRAL_CODE_LENGTH = 8
CARD_DIGITS = 11
MAX_CODE_ATTEMPTS = 5


def ensure_default_tiers() -> list[Tier]:
    """The tiers, creating the four default ones when the programme has none yet."""
    if not Tier.objects.exists():
        Tier.objects.bulk_create(
            Tier(
                name=name,
                rank=rank,
                threshold=threshold,
                points_multiplier=multiplier,
                birthday_gift_points=gift,
            )
            for name, rank, threshold, multiplier, gift in DEFAULT_TIERS
        )
    return list(Tier.objects.order_by("rank"))


def entry_tier() -> Tier:
    return ensure_default_tiers()[0]


def enrol_member(
    actor: User,
    customer_id: int,
    *,
    channel: str = EnrolmentChannel.STORE,
    store: Store | None = None,
    enrolled_on: datetime.date | None = None,
) -> Membership:
    """Make a customer the user may see a member: a card number, a referral code of their own
    and the entry tier; at a store only the user works at (403 `not_your_store`). A customer
    is a member once: enrolling again answers the existing membership unchanged (a retried
    request is harmless)."""
    require(actor, "member.serve")
    customer = get_visible_customer(actor, customer_id)
    if store is not None:
        require(actor, "store.serve", store)
    if channel not in EnrolmentChannel.values:
        raise RuleViolation(_("Unknown enrolment channel."), code="invalid_channel")
    existing = Membership.objects.filter(customer=customer).first()
    if existing is not None:
        return existing
    return create_membership(customer, channel, store, enrolled_on, actor)


def create_membership(
    customer: Customer,
    channel: str,
    store: Store | None,
    enrolled_on: datetime.date | None,
    actor: User | None,
) -> Membership:
    """The membership row and its first tier-history entry, with fresh unique codes (a clash
    of random codes is retried; two requests for one customer leave one membership)."""
    today = enrolled_on or timezone.localdate()
    tier = entry_tier()
    for _attempt in range(MAX_CODE_ATTEMPTS):
        try:
            with transaction.atomic():
                membership = Membership.objects.create(
                    customer=customer,
                    card_number=new_card_number(),
                    referral_code=new_referral_code(),
                    enrolled_on=today,
                    channel=channel,
                    store=store,
                    tier=tier,
                    tier_since=today,
                    enrolled_by=actor,
                )
                TierChange.objects.create(
                    membership=membership,
                    tier=tier,
                    reason=TierChangeReason.ENROLMENT,
                    changed_at=timezone.now(),
                    changed_by=actor,
                )
                record_member_enrolled(membership)
                return membership
        except IntegrityError:
            existing = Membership.objects.filter(customer=customer).first()
            if existing is not None:
                return existing  # enrolled by a concurrent request meanwhile
    raise RuleViolation(_("No free card number was found; try again."), code="card_number")


def new_card_number() -> str:
    prefix = LoyaltySettings.current().card_prefix
    digits = "".join(secrets.choice("0123456789") for _ in range(CARD_DIGITS - len(prefix)))
    return prefix + digits


def new_referral_code() -> str:
    return "".join(secrets.choice(REFERRAL_ALPHABET) for _ in range(REFERRAL_CODE_LENGTH))


def membership_of(customer_id: int) -> Membership | None:
    return Membership.objects.select_related("tier").filter(customer_id=customer_id).first()


class UnknownMember(RuleViolation):
    """No membership answers the request (the customer is not a member, or no card matches);
    pages and the API answer 404 with this message."""


def not_a_member() -> UnknownMember:
    return UnknownMember(_("This customer is not a member."), code="unknown_member")


def visible_membership(actor: User, customer_id: int) -> Membership:
    """The membership of a customer the user may see; Http404 for a customer they may not
    see, UnknownMember when the customer is not a member."""
    customer = get_visible_customer(actor, customer_id)
    membership = membership_of(customer.pk)
    if membership is None:
        raise not_a_member()
    membership.customer = customer
    return membership


def visible_membership_by_card(actor: User, card_number: str) -> Membership:
    """The membership with this card number, if its customer is one the user may see (a card
    of a customer they may not see is answered like an unknown card)."""
    membership = membership_by_card(card_number)
    if membership is None:
        raise UnknownMember(
            _("No member has the card number %(card)s.") % {"card": card_number},
            code="unknown_member",
        )
    try:
        return visible_membership(actor, membership.customer_id)
    except Http404:
        raise UnknownMember(
            _("No member has the card number %(card)s.") % {"card": card_number},
            code="unknown_member",
        ) from None


def membership_by_card(card_number: str) -> Membership | None:
    return Membership.objects.select_related("tier").filter(card_number=card_number.strip()).first()
