"""The group deals' API (团购). Mounted in kehu/api.py.

Creating a deal with the same ``idempotency_key`` and joining a deal again each answer 200
with the record stored the first time.
"""

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field

from kehu.accounts.api import caller
from kehu.accounts.models import User
from kehu.core.api_schemas import ErrorSchema, InputSchema, PageParams, page_of
from kehu.loyalty.groupbuy import services as groupbuy
from kehu.loyalty.groupbuy.queries import (
    get_visible_group_deal,
    group_deal_participants,
    group_deals_with_sizes,
)
from kehu.loyalty.models import GroupDeal, GroupDealStatus, GroupRole
from kehu.loyalty.referrals.api import READ_ERRORS, WRITE_ERRORS, reader

router = Router()


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


def deal_output(user: User, deal_id: int) -> GroupDeal:
    """The deal with its participants as the user sees them (names of visible ones only)."""
    deal = get_visible_group_deal(user, deal_id)
    rows = group_deal_participants(user, deal)
    deal.participant_rows = rows  # type: ignore[attr-defined]
    deal.participant_count = len(rows)  # type: ignore[attr-defined]
    return deal


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
