"""The loyalty API: approvals of points adjustments above the maker's limits. Mounted in
kehu/api.py.

An adjustment above the requester's limits answers 202 with a request (see
POST /members/{customer_id}/adjust); here the second person lists, approves and rejects them.
Administrators see and decide every request; a store manager sees their own requests and,
where the programme allows it, decides those of other teams' staff. Nobody decides their own
request (403 `own_request`). A request you may not see answers 404; a role that does not adjust
points, 403.
"""

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from kehu.accounts.api import caller
from kehu.core.api_schemas import ErrorSchema, InputSchema, PageParams, page_of
from kehu.loyalty.api_members import ApprovalOut
from kehu.loyalty.approvals import decide_approval, get_visible_approval, visible_approvals
from kehu.loyalty.models import ApprovalRequest, ApprovalStatus

router = Router()

READ_ERRORS = {401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema, 422: ErrorSchema}
WRITE_ERRORS = {**READ_ERRORS, 409: ErrorSchema}


class ApprovalFilters(PageParams):
    status: ApprovalStatus | None = Field(
        ApprovalStatus.PENDING, description="Which requests; default: those still waiting."
    )


class ApprovalPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[ApprovalOut]


class DecisionIn(InputSchema):
    reason: str = Field("", max_length=300, description="Required to reject.")


@router.get(
    "/points-approvals",
    response={200: ApprovalPage, **READ_ERRORS},
    summary="List points adjustments waiting for approval (or decided ones)",
    description="Oldest first. The requests you may see: every one for administrators; your "
    "own and, where allowed, other teams' for store managers.",
)
def list_points_approvals(request: HttpRequest, filters: Query[ApprovalFilters]) -> dict[str, Any]:
    rows = visible_approvals(caller(request))
    if filters.status is not None:
        rows = rows.filter(status=filters.status)
    return page_of(rows.order_by("requested_at", "pk"), filters)


@router.get(
    "/points-approvals/{int:approval_id}",
    response={200: ApprovalOut, **READ_ERRORS},
    summary="Read an approval request",
)
def read_points_approval(request: HttpRequest, approval_id: int) -> ApprovalRequest:
    return get_visible_approval(caller(request), approval_id)


@router.post(
    "/points-approvals/{int:approval_id}/approve",
    response={200: ApprovalOut, **WRITE_ERRORS},
    summary="Approve a points adjustment: the entry is written (idempotent)",
    description="Writes the ledger entry with you as `approved_by`, in one transaction with the "
    "decision; approving again answers the request unchanged (one entry). 403 `own_request` "
    "for your own request, `not_allowed` when only an administrator may decide it; 409 "
    "`approval_already_decided` for a rejected request, `insufficient_points` when the "
    "member no longer has the points to take (the request stays open).",
)
def approve_points_adjustment(
    request: HttpRequest, approval_id: int, payload: DecisionIn
) -> ApprovalRequest:
    return decide_approval(caller(request), approval_id, approve=True, reason=payload.reason)


@router.post(
    "/points-approvals/{int:approval_id}/reject",
    response={200: ApprovalOut, **WRITE_ERRORS},
    summary="Reject a points adjustment: nothing is written (idempotent)",
    description="With a reason (422 without). Rejecting again answers the request unchanged; "
    "409 `approval_already_decided` for an approved request.",
)
def reject_points_adjustment(
    request: HttpRequest, approval_id: int, payload: DecisionIn
) -> ApprovalRequest:
    return decide_approval(caller(request), approval_id, approve=False, reason=payload.reason)
