"""The loyalty API: approvals of points adjustments and coupons above the maker's limits.
Mounted in kehu/api.py.

An adjustment above the requester's limits answers 202 with a request (see
POST /members/{customer_id}/adjust), and so does a coupon above the issuer's value limit (see
POST /coupon-templates/{template_id}/coupons and .../batches); here the second person lists,
approves and rejects them (/points-approvals and /coupon-approvals, one decision for both).
Administrators see and decide every request; a store manager sees their own requests and,
where the programme allows it, decides those of other teams' staff. Nobody decides their own
request (403 `own_request`). A request you may not see answers 404; a role that does not adjust
points (for points) or run the programme (for coupons), 403.
"""

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from kehu.accounts.api import caller
from kehu.accounts.models import User
from kehu.core.api_schemas import ErrorSchema, InputSchema, PageParams, page_of
from kehu.loyalty.approvals.services import (
    COUPON_KINDS,
    POINTS_KINDS,
    decide_approval,
    get_visible_approval,
    hide_unseen_coupons,
    visible_approvals_of,
)
from kehu.loyalty.coupons.api import CouponApprovalOut
from kehu.loyalty.members.api import ApprovalOut
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


class CouponApprovalPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[CouponApprovalOut]


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
    rows = visible_approvals_of(caller(request), POINTS_KINDS)
    if filters.status is not None:
        rows = rows.filter(status=filters.status)
    return page_of(rows.order_by("requested_at", "pk"), filters)


@router.get(
    "/points-approvals/{int:approval_id}",
    response={200: ApprovalOut, **READ_ERRORS},
    summary="Read an approval request",
)
def read_points_approval(request: HttpRequest, approval_id: int) -> ApprovalRequest:
    return get_visible_approval(caller(request), approval_id, POINTS_KINDS)


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
    return decide_approval(
        caller(request), approval_id, approve=True, reason=payload.reason, kinds=POINTS_KINDS
    )


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
    return decide_approval(
        caller(request), approval_id, approve=False, reason=payload.reason, kinds=POINTS_KINDS
    )


# --- coupons ----------------------------------------------------------------------------------


@router.get(
    "/coupon-approvals",
    response={200: CouponApprovalPage, **READ_ERRORS},
    summary="List coupons and issue batches waiting for approval (or decided ones)",
    description="Oldest first. The requests you may see: every one for administrators; your "
    "own and, where allowed, other teams' for store managers; your own for marketing.",
)
def list_coupon_approvals(request: HttpRequest, filters: Query[ApprovalFilters]) -> dict[str, Any]:
    user = caller(request)
    rows = visible_approvals_of(user, COUPON_KINDS)
    if filters.status is not None:
        rows = rows.filter(status=filters.status)
    page = page_of(rows.order_by("requested_at", "pk"), filters)
    page["items"] = hide_unseen_coupons(user, page["items"])
    return page


@router.get(
    "/coupon-approvals/{int:approval_id}",
    response={200: CouponApprovalOut, **READ_ERRORS},
    summary="Read a coupon approval request",
)
def read_coupon_approval(request: HttpRequest, approval_id: int) -> ApprovalRequest:
    user = caller(request)
    return shown(user, get_visible_approval(user, approval_id, COUPON_KINDS))


@router.post(
    "/coupon-approvals/{int:approval_id}/approve",
    response={200: CouponApprovalOut, **WRITE_ERRORS},
    summary="Approve a coupon or an issue batch: it is issued (idempotent)",
    description="A `coupon` request issues the coupon with you as `approved_by`, in one "
    "transaction with the decision; approving again answers the request unchanged (one "
    "coupon). A `coupon_batch` request starts the batch; its coupons record you as "
    "`approved_by`. 403 `own_request` for your own request, `not_allowed` when only an "
    "administrator may decide it; 409 `approval_already_decided` for a rejected request, and "
    "`template_inactive`, `template_expired`, `tier_too_low`, `per_customer_limit`, "
    "`total_limit` when the coupon can no longer be issued (the request stays open).",
)
def approve_coupon(request: HttpRequest, approval_id: int, payload: DecisionIn) -> ApprovalRequest:
    user = caller(request)
    decided = decide_approval(
        user, approval_id, approve=True, reason=payload.reason, kinds=COUPON_KINDS
    )
    return shown(user, decided)


@router.post(
    "/coupon-approvals/{int:approval_id}/reject",
    response={200: CouponApprovalOut, **WRITE_ERRORS},
    summary="Reject a coupon or an issue batch: nothing is issued (idempotent)",
    description="With a reason (422 without). A rejected batch is never started (status "
    "`rejected`). Rejecting again answers the request unchanged; 409 "
    "`approval_already_decided` for an approved request.",
)
def reject_coupon(request: HttpRequest, approval_id: int, payload: DecisionIn) -> ApprovalRequest:
    user = caller(request)
    decided = decide_approval(
        user, approval_id, approve=False, reason=payload.reason, kinds=COUPON_KINDS
    )
    return shown(user, decided)


def shown(user: User, approval: ApprovalRequest) -> ApprovalRequest:
    return hide_unseen_coupons(user, [approval])[0]
