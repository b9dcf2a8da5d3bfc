"""API for the outbox: read the events after a cursor, so a client catches up after downtime
without losing any (administrators only)."""

from datetime import datetime
from typing import Any
from uuid import UUID

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from kehu.core.api_schemas import INT64_MAX, BoundedIntegers, ErrorSchema
from kehu.events.catalogue import EVENT_TYPES
from kehu.events.queries import events_after

router = Router()


class EventOut(Schema):
    id: int = Field(description="The event's place in the outbox: the cursor.")
    event_id: UUID = Field(description="The event's id: the same in every delivery of it.")
    name: str
    version: int
    payload: dict[str, Any]
    customer_id: int | None
    occurred_at: datetime


class EventPageOut(Schema):
    items: list[EventOut]
    next_cursor: int = Field(description="Send it as `after` to read on.")
    has_more: bool


class EventQuery(BoundedIntegers):
    after: int = Field(0, ge=0, le=INT64_MAX, description="Events with a higher id than this.")
    limit: int = Field(100, ge=1, le=1000, description="How many events to return (1–1000).")
    name: str = Field(
        "", max_length=64, description="Only events of this name: " + ", ".join(EVENT_TYPES)
    )


@router.get(
    "/events",
    response={200: EventPageOut, 401: ErrorSchema, 403: ErrorSchema, 422: ErrorSchema},
    summary="Read the domain events after a cursor",
    description="Events in the order they were recorded, from the id after `after`. Read on "
    "with `after=next_cursor` until `has_more` is false; keep the last cursor to catch up "
    "later. Administrators only.",
)
def list_events(request: HttpRequest, query: Query[EventQuery]) -> dict[str, Any]:
    actor = request.auth  # type: ignore[attr-defined]
    page = events_after(actor, query.after, query.limit, query.name)
    return {"items": page.items, "next_cursor": page.next_cursor, "has_more": page.has_more}
