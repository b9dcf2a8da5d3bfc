"""Schemas shared by every API router: the one error shape, pagination, references to people."""

from typing import Any

from django.db.models import QuerySet
from ninja import Schema
from pydantic import ConfigDict, Field


class InputSchema(Schema):
    """A request body: a JSON object with only the documented keys (a typo is an error, not
    silently ignored; a list or string where the object belongs is refused)."""

    model_config = ConfigDict(extra="forbid")


class ErrorField(Schema):
    path: list[str | int] = Field(
        description='Where the problem is, e.g. ["body", "mobile"] or ["query", "limit"].'
    )
    message: str


class DuplicateMatchOut(Schema):
    customer_id: int
    name: str
    reason: str


class ErrorDetail(Schema):
    code: str = Field(description="Stable machine-readable code, e.g. not_found, not_in_pool.")
    message: str = Field(description="Human-readable, in the request's language.")
    fields: list[ErrorField] = Field(default_factory=list)
    matches: list[DuplicateMatchOut] | None = Field(
        default=None, description="Only for duplicate_customer: the existing customers it matches."
    )


class ErrorSchema(Schema):
    error: ErrorDetail


class PageParams(Schema):
    limit: int = Field(50, ge=1, le=200, description="How many items to return (1–200).")
    offset: int = Field(0, ge=0, description="How many items to skip.")


def page_of(items: QuerySet[Any], params: PageParams) -> dict[str, Any]:
    """One page of a list answer: {count, limit, offset, items}, as every list endpoint gives."""
    return {
        "count": items.count(),
        "limit": params.limit,
        "offset": params.offset,
        "items": list(items[params.offset : params.offset + params.limit]),
    }


class UserRef(Schema):
    id: int
    username: str
    display_name: str

    @staticmethod
    def resolve_display_name(user: object) -> str:
        return str(user)
