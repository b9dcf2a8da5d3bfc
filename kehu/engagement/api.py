"""API for the interaction timeline (沟通记录) of a customer: read it, log a contact."""

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field

from kehu.accounts.api import caller
from kehu.core.api_schemas import ErrorSchema, InputSchema, PageParams, UserRef, page_of
from kehu.customers.queries import get_visible_customer
from kehu.engagement import services
from kehu.engagement.models import Direction, Interaction, InteractionChannel

router = Router()


class InteractionOut(Schema):
    id: int
    customer_id: int
    channel: InteractionChannel
    direction: Direction
    summary: str
    staff: UserRef | None
    occurred_at: datetime
    created_at: datetime


class InteractionPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[InteractionOut]


class InteractionIn(InputSchema):
    channel: InteractionChannel
    summary: str = Field(min_length=1, max_length=2000)
    direction: Direction = Direction.OUTBOUND
    occurred_at: datetime | None = Field(None, description="Defaults to now; not in the future.")


@router.get(
    "/customers/{int:customer_id}/interactions",
    response={200: InteractionPage, 401: ErrorSchema, 404: ErrorSchema, 422: ErrorSchema},
    summary="A customer's interactions, newest first",
)
def list_interactions(
    request: HttpRequest, customer_id: int, page: Query[PageParams]
) -> dict[str, Any]:
    customer = get_visible_customer(caller(request), customer_id)
    interactions = customer.interactions.select_related("staff").order_by("-occurred_at", "-id")
    return page_of(interactions, page)


@router.post(
    "/customers/{int:customer_id}/interactions",
    response={
        201: InteractionOut,
        401: ErrorSchema,
        403: ErrorSchema,
        404: ErrorSchema,
        422: ErrorSchema,
    },
    summary="Log an interaction",
    description="An outbound contact counts as a follow-up of the customer. A salesperson logs "
    "only on their own customers (403 for a pool customer: claim it first).",
)
def add_interaction(
    request: HttpRequest, customer_id: int, payload: InteractionIn
) -> Status[Interaction]:
    interaction = services.log_interaction(
        caller(request),
        customer_id,
        channel=payload.channel,
        summary=payload.summary,
        direction=payload.direction,
        occurred_at=payload.occurred_at,
    )
    return Status(201, interaction)
