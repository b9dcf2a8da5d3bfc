"""The loyalty API: referrals and group deals (团购). Mounted in kehu/api.py.

Writes a shop system may retry are idempotent: attributing the same referee with the same code,
creating a deal with the same ``idempotency_key`` and joining a deal again each answer 200 with
the record stored the first time.
"""

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import Field

from kehu.accounts.api import caller
from kehu.accounts.models import User
from kehu.accounts.permissions import may
from kehu.core.api_schemas import ErrorSchema, InputSchema, PageParams, page_of
from kehu.core.errors import NotAllowed
from kehu.loyalty.groupbuy import services as groupbuy
from kehu.loyalty.models import GroupDeal, GroupDealStatus, GroupRole, Referral, ReferralStatus
from kehu.loyalty.referrals import services as referrals
from kehu.loyalty.referrals.queries import (
    NO_REWARD,
    CouponGiven,
    RewardGiven,
    get_visible_group_deal,
    group_deal_participants,
    group_deals_with_sizes,
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


class GroupDealIn(InputSchema):
    title: str = Field(min_length=1, max_length=120)
    leader_customer_id: int
    deadline: datetime = Field(description="ISO 8601; without a timezone the business's.")
    min_size: int = Field(3, ge=2, le=100000, description="Participants needed, leader included.")
    product_sku: str = Field("", max_length=64)
    store: str = Field("", max_length=32, description="Store code.")
    leader_bonus_points: int = Field(0, ge=0, le=10_000_000)
    participant_points_multiplier: Decimal = Field(
        Decimal(1), gt=0, le=Decimal("99.99"), max_digits=4, decimal_places=2
    )
    leader_order_id: int | None = Field(None, description="The leader's own order, if any.")
    idempotency_key: str = Field(
        "", max_length=120, description="The same key again answers the deal created first."
    )

    def to_input(self) -> groupbuy.GroupDealInput:
        return groupbuy.GroupDealInput(
            title=self.title,
            leader_id=self.leader_customer_id,
            deadline=self.deadline,
            min_size=self.min_size,
            product_sku=self.product_sku,
            store_code=self.store,
            leader_bonus_points=self.leader_bonus_points,
            participant_points_multiplier=self.participant_points_multiplier,
            leader_order_id=self.leader_order_id,
            idempotency_key=self.idempotency_key,
        )


class JoinIn(InputSchema):
    customer_id: int
    order_id: int | None = Field(
        None, description="The customer's order; post again with it to attach it later."
    )


class ParticipantOut(Schema):
    customer_id: int
    name: str = Field(description="Empty for customers you may not see.")
    role: GroupRole
    order_id: int | None
    joined_at: datetime


class GroupDealOut(Schema):
    id: int
    title: str
    leader_customer_id: int
    product_sku: str | None
    store: str | None = Field(description="Store code.")
    min_size: int
    participant_count: int
    deadline: datetime
    status: GroupDealStatus
    leader_bonus_points: int
    participant_points_multiplier: Decimal
    created_at: datetime
    closed_at: datetime | None

    @staticmethod
    def resolve_leader_customer_id(deal: GroupDeal) -> int:
        return deal.leader_id

    @staticmethod
    def resolve_product_sku(deal: GroupDeal) -> str | None:
        return deal.product.sku if deal.product else None

    @staticmethod
    def resolve_store(deal: GroupDeal) -> str | None:
        return deal.store.code if deal.store else None


class GroupDealDetailOut(GroupDealOut):
    participants: list[ParticipantOut] = Field(description="The leader first.")

    @staticmethod
    def resolve_participants(deal: GroupDeal) -> list[Any]:
        return list(deal.participant_rows)  # type: ignore[attr-defined]


class GroupDealPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[GroupDealOut]


class GroupDealQuery(PageParams):
    status: GroupDealStatus | None = Field(None, description="Only deals in this state.")


def reader(request: HttpRequest) -> User:
    """The caller, if their role sees referrals and group deals (403 otherwise)."""
    user = caller(request)
    if not may(user, "referral.read"):
        raise NotAllowed(_("Your role may not see referrals or group deals."), code="not_allowed")
    return user


def reward_of(referral: Referral) -> RewardGiven:
    """What the referral gave, set by `with_rewards` before the output is made."""
    return getattr(referral, "reward", NO_REWARD)


def deal_output(user: User, deal_id: int) -> GroupDeal:
    """The deal with its participants as the user sees them (names of visible ones only)."""
    deal = get_visible_group_deal(user, deal_id)
    rows = group_deal_participants(user, deal)
    deal.participant_rows = rows  # type: ignore[attr-defined]
    deal.participant_count = len(rows)  # type: ignore[attr-defined]
    return deal


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


@router.get(
    "/group-deals",
    response={200: GroupDealPage, 401: ErrorSchema, 403: ErrorSchema, 422: ErrorSchema},
    summary="List group deals",
    description="Deals whose leader you may see, newest first.",
)
def list_group_deals(request: HttpRequest, filters: Query[GroupDealQuery]) -> dict[str, Any]:
    deals = group_deals_with_sizes(reader(request), filters.status or "")
    return page_of(deals, filters)


@router.get(
    "/group-deals/{int:deal_id}",
    response={200: GroupDealDetailOut, **READ_ERRORS},
    summary="Read a group deal with its participants",
)
def read_group_deal(request: HttpRequest, deal_id: int) -> GroupDeal:
    return deal_output(reader(request), deal_id)


@router.post(
    "/group-deals",
    response={200: GroupDealDetailOut, 201: GroupDealDetailOut, **WRITE_ERRORS},
    summary="Create a group deal (idempotent with a key)",
    description="The leader becomes the first participant. 404 for a leader you may not see; "
    "409 `unknown_product`, `unknown_store`, `unknown_order` and the order rules of joining; "
    "422 for a deadline in the past or a bad multiplier.",
)
def create_group_deal(request: HttpRequest, payload: GroupDealIn) -> Status[GroupDeal]:
    user = caller(request)
    result = groupbuy.create_group_deal(user, payload.to_input())
    return Status(201 if result.created else 200, deal_output(user, result.deal.pk))


@router.post(
    "/group-deals/{int:deal_id}/participants",
    response={200: GroupDealDetailOut, 201: GroupDealDetailOut, **WRITE_ERRORS},
    summary="Join a group deal, or attach a participant's order (idempotent)",
    description="201 when the customer joined, 200 when they already had (an `order_id` not "
    "attached yet is attached then). 409 `deal_not_open`, `deadline_passed`, `unknown_order`, "
    "`order_already_attached`, `order_in_another_deal`, `order_not_valid`, `wrong_store`, "
    "`product_not_in_order`.",
)
def join_group_deal(request: HttpRequest, deal_id: int, payload: JoinIn) -> Status[GroupDeal]:
    user = caller(request)
    result = groupbuy.join_group_deal(user, deal_id, payload.customer_id, order_id=payload.order_id)
    return Status(201 if result.created else 200, deal_output(user, deal_id))


@router.post(
    "/group-deals/{int:deal_id}/cancel",
    response={200: GroupDealDetailOut, **READ_ERRORS, 409: ErrorSchema},
    summary="Cancel an open group deal",
    description="Programme managers only. 409 `deal_not_open` once it closed.",
)
def cancel_group_deal(request: HttpRequest, deal_id: int) -> GroupDeal:
    user = caller(request)
    groupbuy.cancel_group_deal(user, deal_id)
    return deal_output(user, deal_id)
