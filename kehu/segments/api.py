"""API for segments (分群): the rule catalogue, preview, saved segments, members, static lists.
The stored prediction of one customer is in kehu/predictions/api.py.

Members and every count are those the caller may see (`visible_customers`), contacts masked as
on the pages. A rule's problems answer 422 with the path inside the rule, e.g.
`["body", "rule", "all", 2, "value"]`.
"""

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field

from kehu.accounts.api import caller
from kehu.accounts.models import User
from kehu.accounts.permissions import may
from kehu.core.api_schemas import ErrorSchema, InputSchema, PageParams, UserRef
from kehu.customers.api import CustomerOut, CustomerPage
from kehu.segments import services
from kehu.segments.models import Segment, SegmentKind
from kehu.segments.queries import (
    get_visible_segment,
    segment_member_count,
    segment_members,
    segments_with_counts,
)
from kehu.segments.rules import rule_field_catalogue

router = Router()

RULE_DESCRIPTION = (
    "A rule: a condition `{field, op, value, days?, min_count?}` or a group `{all: [...]}`, "
    "`{any: [...]}`, `{not: {...}}`; see GET /segments/fields for fields and operators."
)


class SegmentOut(Schema):
    id: int
    name: str
    description: str
    kind: SegmentKind
    rule: dict[str, Any]
    created_by: UserRef | None
    created_at: datetime
    updated_at: datetime
    refreshed_at: datetime | None
    member_count: int = Field(description="Members you may see (as of the last refresh).")
    can_edit: bool = Field(description="Whether you may edit, delete or change its members.")

    @staticmethod
    def resolve_member_count(segment: Any) -> int:
        return int(segment.visible_member_count)


class SegmentIn(InputSchema):
    name: str = Field(min_length=1, max_length=100)
    description: str = Field("", max_length=2000)
    kind: SegmentKind = SegmentKind.DYNAMIC
    rule: dict[str, Any] | None = Field(None, description=RULE_DESCRIPTION)


class SegmentUpdateIn(InputSchema):
    """Send only what changes. A new rule re-selects the members at once."""

    name: str | None = Field(None, min_length=1, max_length=100)
    description: str | None = Field(None, max_length=2000)
    rule: dict[str, Any] | None = Field(None, description=RULE_DESCRIPTION)


class PreviewIn(InputSchema):
    rule: dict[str, Any] = Field(description=RULE_DESCRIPTION)
    sample_size: int = Field(20, ge=0, le=100)


class PreviewOut(Schema):
    count: int = Field(description="How many of the customers you may see the rule selects.")
    sample: list[CustomerOut] = Field(description="The biggest spenders among them.")


class MembersIn(InputSchema):
    customer_ids: list[int] = Field(max_length=10000)


class MembersChangedOut(Schema):
    changed: int = Field(description="How many were added or removed.")
    member_count: int = Field(description="Members you may see now.")


class OperatorOut(Schema):
    key: str
    label: str


class ChoiceOut(Schema):
    value: str | int
    label: str


class RuleFieldOut(Schema):
    key: str = Field(description="`custom.<key>` for custom attributes.")
    label: str
    group: str = Field(description="profile, behaviour, scores, predictions or purchases.")
    group_label: str
    value_type: str = Field(
        description="text, number, money, date, days, choice, boolean, tags, list, store, user, "
        "product or category."
    )
    operators: list[OperatorOut]
    choices: list[ChoiceOut]
    needs_days: bool = Field(description="The condition needs `days`: a window back from now.")
    has_min_count: bool = Field(description="The condition takes `min_count` (default 1).")


def segment_as_seen_by(user: User, segment_id: int) -> Segment:
    get_visible_segment(user, segment_id)  # 404 in the one shape for every door
    segment = segments_with_counts(user).get(pk=segment_id)
    segment.can_edit = may(user, "segment.edit", segment)  # type: ignore[attr-defined]
    return segment


def visible_count(user: User, segment_id: int) -> int:
    return segment_member_count(user, get_visible_segment(user, segment_id))


READ_ERRORS = {401: ErrorSchema, 404: ErrorSchema}
WRITE_ERRORS = {401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema, 422: ErrorSchema}
LIST_ERRORS = {**WRITE_ERRORS, 409: ErrorSchema}


@router.get(
    "/segments/fields",
    response={200: list[RuleFieldOut], 401: ErrorSchema},
    summary="Fields and operators a rule may use",
)
def list_rule_fields(request: HttpRequest) -> list[dict[str, Any]]:
    return rule_field_catalogue()


@router.get(
    "/segments",
    response={200: list[SegmentOut], 401: ErrorSchema},
    summary="List segments",
    description="Every saved segment; `member_count` counts only the members you may see.",
)
def list_segments(request: HttpRequest) -> list[Segment]:
    user = caller(request)
    segments = list(segments_with_counts(user))
    for segment in segments:
        segment.can_edit = may(user, "segment.edit", segment)  # type: ignore[attr-defined]
    return segments


@router.post(
    "/segments/preview",
    response={200: PreviewOut, 401: ErrorSchema, 422: ErrorSchema},
    summary="Preview a rule",
    description="How many customers a rule selects among those you may see, and a sample.",
)
def preview(request: HttpRequest, payload: PreviewIn) -> dict[str, Any]:
    result = services.preview_segment(caller(request), payload.rule, payload.sample_size)
    return {"count": result.count, "sample": result.sample}


@router.get(
    "/segments/{int:segment_id}",
    response={200: SegmentOut, **READ_ERRORS},
    summary="Read a segment",
)
def read_segment(request: HttpRequest, segment_id: int) -> Segment:
    return segment_as_seen_by(caller(request), segment_id)


@router.post(
    "/segments",
    response={201: SegmentOut, 401: ErrorSchema, 403: ErrorSchema, 422: ErrorSchema},
    summary="Save a segment",
    description="A dynamic segment needs a rule and gets its members at once; a static list "
    "starts empty. 403 for roles that may not manage segments.",
)
def add_segment(request: HttpRequest, payload: SegmentIn) -> Status[Segment]:
    user = caller(request)
    segment = services.create_segment(
        user,
        name=payload.name,
        description=payload.description,
        kind=payload.kind,
        rule=payload.rule,
    )
    return Status(201, segment_as_seen_by(user, segment.pk))


@router.patch(
    "/segments/{int:segment_id}",
    response={200: SegmentOut, **WRITE_ERRORS},
    summary="Edit a segment",
    description="Only its creator or an administrator (403 otherwise).",
)
def edit_segment(request: HttpRequest, segment_id: int, payload: SegmentUpdateIn) -> Segment:
    user = caller(request)
    services.update_segment(user, segment_id, **payload.model_dump(exclude_unset=True))
    return segment_as_seen_by(user, segment_id)


@router.delete(
    "/segments/{int:segment_id}",
    response={204: None, 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema},
    summary="Delete a segment",
    description="Only its creator or an administrator (403 otherwise).",
)
def remove_segment(request: HttpRequest, segment_id: int) -> Status[None]:
    services.delete_segment(caller(request), segment_id)
    return Status(204, None)


@router.get(
    "/segments/{int:segment_id}/members",
    response={200: CustomerPage, **READ_ERRORS, 422: ErrorSchema},
    summary="List a segment's members",
    description="The members you may see, biggest spenders first, contacts masked as on pages.",
)
def list_members(request: HttpRequest, segment_id: int, page: Query[PageParams]) -> dict[str, Any]:
    user = caller(request)
    members = segment_members(user, get_visible_segment(user, segment_id))
    items = list(members.prefetch_related("tags")[page.offset : page.offset + page.limit])
    return {"count": members.count(), "limit": page.limit, "offset": page.offset, "items": items}


@router.post(
    "/segments/{int:segment_id}/refresh",
    response={200: SegmentOut, **READ_ERRORS, 403: ErrorSchema, 409: ErrorSchema},
    summary="Refresh a dynamic segment now",
    description="Re-evaluates the rule over all customers. 409 `is_static` for a static list, "
    "`rule_outdated` when the rule names something deleted since.",
)
def refresh(request: HttpRequest, segment_id: int) -> Segment:
    user = caller(request)
    services.refresh_segment_now(user, segment_id)
    return segment_as_seen_by(user, segment_id)


@router.post(
    "/segments/{int:segment_id}/members",
    response={200: MembersChangedOut, **LIST_ERRORS},
    summary="Add customers to a static list",
    description="Customers you may not see are ignored. 409 `not_static` for a dynamic segment.",
)
def add_members(request: HttpRequest, segment_id: int, payload: MembersIn) -> dict[str, int]:
    user = caller(request)
    changed = services.add_to_static_segment(user, segment_id, payload.customer_ids)
    return {"changed": changed, "member_count": visible_count(user, segment_id)}


@router.post(
    "/segments/{int:segment_id}/members/remove",
    response={200: MembersChangedOut, **LIST_ERRORS},
    summary="Remove customers from a static list",
    description="Customers you may not see are ignored. 409 `not_static` for a dynamic segment.",
)
def remove_members(request: HttpRequest, segment_id: int, payload: MembersIn) -> dict[str, int]:
    user = caller(request)
    changed = services.remove_from_static_segment(user, segment_id, payload.customer_ids)
    return {"changed": changed, "member_count": visible_count(user, segment_id)}
