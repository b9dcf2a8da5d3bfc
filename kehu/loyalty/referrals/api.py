"""The loyalty API: referrals and group deals (团购). Mounted in kehu/api.py.

Writes a shop system may retry are idempotent: attributing the same referee with the same code,
creating a deal with the same ``idempotency_key`` and joining a deal again each answer 200 with
the record stored the first time.
"""

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import Field

from kehu.accounts.api import caller
from kehu.accounts.models import User
from kehu.accounts.permissions import may
from kehu.core.api_schemas import ErrorSchema, InputSchema, PageParams
from kehu.core.errors import NotAllowed
from kehu.loyalty.models import Referral, ReferralStatus
from kehu.loyalty.referrals import services as referrals
from kehu.loyalty.referrals.queries import (
    NO_REWARD,
    CouponGiven,
    RewardGiven,
    referral_of,
    referrals_by,
    with_rewards,
)

router = Router()

READ_ERRORS = {401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema}
WRITE_ERRORS = {**READ_ERRORS, 409: ErrorSchema, 422: ErrorSchema}


class CouponGivenOut(Schema):
    template_id: int
    template_name: str
    code: str = Field(description="Empty when you may not see the coupon's holder.")


class ReferralOut(Schema):
    id: int
    referrer_customer_id: int
    referrer_card_number: str
    referee_customer_id: int
    code_used: str
    status: ReferralStatus
    rejected_reason: str = Field(
        description="Why it was not rewarded: self_referral, already_customer, "
        "referrer_inactive, referee_inactive or cap_reached; empty otherwise."
    )
    rejected_reason_text: str = Field(description="The reason in the request's language.")
    qualifying_order_id: int | None
    attributed_at: datetime
    rewarded_at: datetime | None
    referrer_points: int = Field(description="Points the referrer was given (0 until rewarded).")
    referee_points: int = Field(description="Points the new member was given.")
    referrer_coupon: CouponGivenOut | None = Field(
        description="The coupon the referrer was given; null when none was."
    )
    referee_coupon: CouponGivenOut | None = Field(
        description="The coupon the new member was given; null when none was."
    )

    @staticmethod
    def resolve_referrer_points(referral: Referral) -> int:
        return reward_of(referral).referrer_points

    @staticmethod
    def resolve_referee_points(referral: Referral) -> int:
        return reward_of(referral).referee_points

    @staticmethod
    def resolve_referrer_coupon(referral: Referral) -> CouponGiven | None:
        return reward_of(referral).referrer_coupon

    @staticmethod
    def resolve_referee_coupon(referral: Referral) -> CouponGiven | None:
        return reward_of(referral).referee_coupon

    @staticmethod
    def resolve_referrer_customer_id(referral: Referral) -> int:
        return referral.referrer.customer_id

    @staticmethod
    def resolve_referrer_card_number(referral: Referral) -> str:
        return referral.referrer.card_number

    @staticmethod
    def resolve_referee_customer_id(referral: Referral) -> int:
        return referral.referee_id

    @staticmethod
    def resolve_rejected_reason_text(referral: Referral) -> str:
        return (
            referrals.rejection_label(referral.rejected_reason) if referral.rejected_reason else ""
        )


class ReferralPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[ReferralOut]


class ReferralIn(InputSchema):
    referee_customer_id: int = Field(description="The new customer who signed up.")
    code: str = Field(min_length=1, max_length=12, description="The referring member's code.")


def reader(request: HttpRequest) -> User:
    """The caller, if their role sees referrals and group deals (403 otherwise)."""
    user = caller(request)
    if not may(user, "referral.read"):
        raise NotAllowed(_("Your role may not see referrals or group deals."), code="not_allowed")
    return user


def reward_of(referral: Referral) -> RewardGiven:
    """What the referral gave, set by `with_rewards` before the output is made."""
    return getattr(referral, "reward", NO_REWARD)


# --- referrals --------------------------------------------------------------------------------


@router.post(
    "/referrals",
    response={200: ReferralOut, 201: ReferralOut, **WRITE_ERRORS},
    summary="Attribute a new customer to a referring member (idempotent)",
    description="At sign-up, before the customer's first purchase. The same referee and code "
    "again answer 200 with the referral stored the first time. 404 for a customer you may not "
    "see; 409 `unknown_code`, `referrer_inactive`, `self_referral` (same customer or mobile), "
    "`already_customer` (bought before), `already_referred` (by another code).",
)
def attribute_referral(request: HttpRequest, payload: ReferralIn) -> Status[Referral]:
    result = referrals.attribute_referral(
        caller(request), payload.referee_customer_id, payload.code
    )
    referral = Referral.objects.select_related("referrer").get(pk=result.referral.pk)
    with_rewards(caller(request), [referral])
    return Status(201 if result.created else 200, referral)


@router.get(
    "/customers/{int:customer_id}/referral",
    response={200: ReferralOut, **READ_ERRORS},
    summary="Read how a customer was referred",
    description="With the points and coupons the referral gave each side once rewarded. 404 "
    "when the customer was not referred or you may not see them.",
)
def read_referral(request: HttpRequest, customer_id: int) -> Referral:
    user = reader(request)
    return with_rewards(user, [referral_of(user, customer_id)])[0]


@router.get(
    "/customers/{int:customer_id}/referrals",
    response={200: ReferralPage, **READ_ERRORS, 422: ErrorSchema},
    summary="List a member's referrals",
    description="The customers the member referred, newest first. 404 when the customer is "
    "not a member or you may not see them.",
)
def list_member_referrals(
    request: HttpRequest, customer_id: int, page: Query[PageParams]
) -> dict[str, Any]:
    user = reader(request)
    made = referrals_by(user, customer_id)
    return {
        "count": made.count(),
        "limit": page.limit,
        "offset": page.offset,
        "items": with_rewards(user, list(made[page.offset : page.offset + page.limit])),
    }


# --- group deals ------------------------------------------------------------------------------
