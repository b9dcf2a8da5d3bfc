"""The loyalty API: coupons. Mounted in kehu/api.py.

Templates with their statistics, issuing to a customer or (in the background) to a list or a
segment, and at the counter: check a code against an order, redeem it, void it. Writes a shop
system may retry take `idempotency_key` in the body: the same key again answers the first
result and changes nothing. An unknown code answers 404 `unknown_code`; a rule in the way 409
with the rule's name as the code (`expired`, `already_used`, `wrong_store`, ...). A code of a
customer the caller may not see answers exactly like an unknown code. Checking and redeeming
on an order of a store need the caller to work at that store (403 `not_your_store`).
"""

import functools
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field

from kehu.accounts.api import caller
from kehu.accounts.permissions import require
from kehu.core.api_schemas import ErrorSchema, InputSchema, PageParams, page_of
from kehu.loyalty.coupons import queries
from kehu.loyalty.coupons.coupon_templates import (
    TemplateInput,
    create_template,
    store_ids_for_codes,
)
from kehu.loyalty.coupons.issuing import request_issue_batch
from kehu.loyalty.coupons.rules import UnknownCoupon, describe_value
from kehu.loyalty.coupons.services import (
    check_coupon,
    issue_one,
    redeem_coupon,
    visible_coupon,
    void_coupon,
)
from kehu.loyalty.models import (
    ApprovalKind,
    ApprovalRequest,
    ApprovalStatus,
    Coupon,
    CouponIssueBatch,
    CouponKind,
    CouponStatus,
    CouponTemplate,
    IssueBatchStatus,
    ValidityKind,
)

router = Router()

KEY_DESCRIPTION = (
    "Optional. Send the same key when retrying: the first result is answered and nothing "
    "changes. A key already used for a different request answers 409 `idempotency_key_reused`."
)
RULES_DESCRIPTION = (
    "409 names the rule that failed: `not_customers_coupon`, `not_yet_valid`, `expired`, "
    "`already_used`, `void`, `wrong_store`, `below_min_spend`, `tier_too_low`, "
    "`order_has_coupon`, `order_not_eligible`, `idempotency_key_reused`."
)
READ_ERRORS = {401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema}
WRITE_ERRORS = {**READ_ERRORS, 409: ErrorSchema, 422: ErrorSchema}


class TemplateOut(Schema):
    id: int
    name: str
    kind: CouponKind
    description: str = Field(description="What the coupon gives, in words.")
    amount_off: Decimal | None
    percent_off: Decimal | None
    max_discount: Decimal | None
    min_spend: Decimal
    gift_description: str
    validity: ValidityKind
    valid_from: datetime | None
    valid_until: datetime | None
    valid_days: int | None
    per_customer_limit: int | None
    total_limit: int | None
    issued_count: int = Field(description="Coupons issued in all (what the total limit counts).")
    stores: list[str] = Field(description="Store codes; empty: every store and channel.")
    tier_id: int | None
    is_active: bool
    created_at: datetime
    issued: int = Field(description="Coupons of customers you may see.")
    redeemed: int
    redemption_rate: float = Field(description="redeemed / issued, 0–1.")
    discount_given: Decimal
    revenue: Decimal = Field(description="Totals of the redeeming orders, less their refunds.")
    expired: int
    voided: int

    @staticmethod
    def resolve_description(template: CouponTemplate) -> str:
        return describe_value(template)

    @staticmethod
    def resolve_stores(template: CouponTemplate) -> list[str]:
        return [store.code for store in template.stores.all()]

    @staticmethod
    def resolve_discount_given(template: CouponTemplate) -> Decimal:
        return queries.cents(template.discount_given)  # type: ignore[attr-defined]

    @staticmethod
    def resolve_revenue(template: CouponTemplate) -> Decimal:
        return queries.cents(template.revenue)  # type: ignore[attr-defined]


class TemplatePage(Schema):
    count: int
    limit: int
    offset: int
    items: list[TemplateOut]


class TemplateQuery(PageParams):
    q: str = Field("", max_length=100, description="Part of the name.")
    kind: CouponKind | None = None
    active: bool | None = None


class TemplateIn(InputSchema):
    name: str = Field(min_length=1, max_length=100)
    kind: CouponKind
    amount_off: Decimal | None = Field(None, ge=0, max_digits=10, decimal_places=2)
    percent_off: Decimal | None = Field(None, max_digits=5, decimal_places=2)
    max_discount: Decimal | None = Field(None, max_digits=10, decimal_places=2)
    min_spend: Decimal = Field(Decimal("0.00"), max_digits=10, decimal_places=2)
    gift_description: str = Field("", max_length=200)
    validity: ValidityKind = ValidityKind.RELATIVE
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    valid_days: int | None = Field(None, ge=0, le=3650)
    per_customer_limit: int | None = Field(None, ge=0, le=1_000_000)
    total_limit: int | None = Field(None, ge=0, le=100_000_000)
    stores: list[str] = Field(default_factory=list, max_length=500, description="Store codes.")
    tier_id: int | None = Field(None, description="Only members of this tier and above.")
    is_active: bool = True

    def to_input(self) -> TemplateInput:
        values = self.model_dump(exclude={"stores"})
        return TemplateInput(**values, store_ids=store_ids_for_codes(self.stores))


class CouponOut(Schema):
    id: int
    code: str
    template_id: int
    template_name: str
    description: str = Field(description="What the coupon gives, in words.")
    customer_id: int
    status: CouponStatus
    valid_from: datetime
    valid_until: datetime
    issued_at: datetime
    redeemed_at: datetime | None
    order_id: int | None
    discount_amount: Decimal | None
    gift_description: str = Field(description="The gift a gift coupon gives.")
    voided_reason: str
    approved_by: str | None = Field(
        description="Username of the second person who approved a coupon above its issuer's "
        "value limit; empty otherwise."
    )

    @staticmethod
    def resolve_template_name(coupon: Coupon) -> str:
        return coupon.template.name

    @staticmethod
    def resolve_approved_by(coupon: Coupon) -> str | None:
        return coupon.approved_by.username if coupon.approved_by else None

    @staticmethod
    def resolve_description(coupon: Coupon) -> str:
        return describe_value(coupon.template)

    @staticmethod
    def resolve_gift_description(coupon: Coupon) -> str:
        return coupon.template.gift_description


class IssueIn(InputSchema):
    customer_id: int
    idempotency_key: str | None = Field(None, max_length=120, description=KEY_DESCRIPTION)


class BatchIn(InputSchema):
    segment_id: int | None = Field(None, description="Every member of the segment you may see.")
    customer_ids: list[int] | None = Field(None, max_length=100_000)
    idempotency_key: str | None = Field(None, max_length=120, description=KEY_DESCRIPTION)


class CouponApprovalOut(Schema):
    id: int
    kind: ApprovalKind = Field(description="`coupon` for one customer, `coupon_batch` for a batch.")
    template_id: int
    template_name: str
    customer_id: int | None = Field(description="The customer of a `coupon` request.")
    batch_id: int | None = Field(description="The batch of a `coupon_batch` request.")
    reason: str = Field(description="Why the request needs approval.")
    status: ApprovalStatus
    requested_by: str = Field(description="Username of the staff member who asked.")
    requested_at: datetime
    decided_by: str | None = Field(description="Username of the approver or rejecter.")
    decided_at: datetime | None
    decision_reason: str
    coupon: CouponOut | None = Field(
        description="The coupon issued on approval (empty for a customer you may not see)."
    )

    @staticmethod
    def resolve_coupon(approval: ApprovalRequest) -> Coupon | None:
        return getattr(approval, "shown_coupon", None)

    @staticmethod
    def resolve_template_id(approval: ApprovalRequest) -> int:
        return approval.coupon_template_id  # type: ignore[return-value]

    @staticmethod
    def resolve_template_name(approval: ApprovalRequest) -> str:
        return approval.coupon_template.name if approval.coupon_template else ""

    @staticmethod
    def resolve_requested_by(approval: ApprovalRequest) -> str:
        return approval.requested_by.username

    @staticmethod
    def resolve_decided_by(approval: ApprovalRequest) -> str | None:
        return approval.decided_by.username if approval.decided_by else None


class PendingCouponOut(Schema):
    approval: CouponApprovalOut


class BatchOut(Schema):
    id: int
    template_id: int
    segment_id: int | None
    status: IssueBatchStatus
    requested: int
    issued: int
    skipped: int
    skipped_reasons: dict[str, int] = Field(
        description="Skipped customers by reason: `not_visible`, `tier_too_low`, "
        "`per_customer_limit`, `total_limit`."
    )
    error: str = Field(description="Why a failed batch stopped.")
    created_at: datetime
    finished_at: datetime | None
    approval: CouponApprovalOut | None = Field(
        description="The request for approval of a batch above your coupon value limit."
    )

    @staticmethod
    def resolve_approval(batch: CouponIssueBatch) -> ApprovalRequest | None:
        return queries.batch_approval(batch)

    @staticmethod
    def resolve_skipped_reasons(batch: CouponIssueBatch) -> dict[str, int]:
        return queries.skipped_counts(batch)

    @staticmethod
    def resolve_error(batch: CouponIssueBatch) -> str:
        return queries.batch_error(batch)


class CouponOrderIn(InputSchema):
    order_id: int


class CouponRedeemIn(InputSchema):
    order_id: int
    idempotency_key: str | None = Field(None, max_length=120, description=KEY_DESCRIPTION)


class CheckOut(Schema):
    code: str
    order_id: int
    applies: bool = Field(description="Whether redeeming now would succeed.")
    discount: Decimal = Field(description="Money off the order (0 for gift and shipping).")
    gift_description: str
    rule: str | None = Field(description="The rule that would refuse it, when it would not apply.")
    message: str


class VoidIn(InputSchema):
    reason: str = Field(min_length=1, max_length=200)


def unknown_code_not_found(view: Callable[..., Any]) -> Callable[..., Any]:
    """An unknown coupon code is a missing resource (404 `unknown_code`), not a rule (409)."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        try:
            return view(request, *args, **kwargs)
        except UnknownCoupon as error:
            body = {"error": {"code": error.code, "message": error.message, "fields": []}}
            return Status(404, body)

    return wrapper


# --- templates --------------------------------------------------------------------------------


@router.get(
    "/coupon-templates",
    response={200: TemplatePage, 401: ErrorSchema, 403: ErrorSchema, 422: ErrorSchema},
    summary="List coupon templates with their statistics",
    description="Newest first. For the roles that run the programme (admin, manager, marketing).",
)
def list_coupon_templates(request: HttpRequest, filters: Query[TemplateQuery]) -> dict[str, Any]:
    user = caller(request)
    require(user, "loyalty.manage")
    templates = queries.templates_with_stats(user).prefetch_related("stores")
    if filters.q:
        templates = templates.filter(name__icontains=filters.q)
    if filters.kind:
        templates = templates.filter(kind=filters.kind)
    if filters.active is not None:
        templates = templates.filter(is_active=filters.active)
    templates = templates.order_by("-created_at", "-pk")
    return page_of(templates, filters)


@router.post(
    "/coupon-templates",
    response={201: TemplateOut, 401: ErrorSchema, 403: ErrorSchema, 422: ErrorSchema},
    summary="Create a coupon template",
    description="A percentage needs 0 < `percent_off` < 100 (a `max_discount` cap is optional); "
    "满减 (`threshold`) needs `min_spend` above `amount_off`; `fixed` validity needs "
    "`valid_from` < `valid_until`, `relative` needs `valid_days` ≥ 1. 422 names the field.",
)
def create_coupon_template(request: HttpRequest, payload: TemplateIn) -> Status[CouponTemplate]:
    user = caller(request)
    template = create_template(user, payload.to_input())
    return Status(201, queries.template_with_stats(user, template.pk))


@router.get(
    "/coupon-templates/{int:template_id}",
    response={200: TemplateOut, **READ_ERRORS},
    summary="Read a coupon template with its statistics",
)
def read_coupon_template(request: HttpRequest, template_id: int) -> CouponTemplate:
    user = caller(request)
    require(user, "loyalty.manage")
    return queries.template_with_stats(user, template_id)


# --- issuing ----------------------------------------------------------------------------------


@router.post(
    "/coupon-templates/{int:template_id}/coupons",
    response={200: CouponOut, 201: CouponOut, 202: PendingCouponOut, **WRITE_ERRORS},
    summary="Issue a coupon to a customer (idempotent)",
    description="201 with the new coupon; 200 with the first coupon when the idempotency key "
    "was seen before. **Above your role's coupon value limit** (the amount off, or a "
    "percentage's cap; a percentage without a cap is above any limit; set by an "
    "administrator) nothing is issued: 202 with the approval request, which an administrator "
    "(or, where allowed, a store manager of another team) approves or rejects at "
    "/coupon-approvals; the coupon is issued on approval, with `approved_by`. A retry with the "
    "same key answers 202 with the request while it waits, 200 with the coupon once approved. "
    "Administrators are alerted of each request. 404 for a customer you may not see. 409 "
    "`template_inactive`, `template_expired`, `tier_too_low`, `per_customer_limit`, "
    "`total_limit`, `idempotency_key_reused`.",
)
def issue_coupon_to_customer(
    request: HttpRequest, template_id: int, payload: IssueIn
) -> Status[Any]:
    result = issue_one(
        caller(request),
        template_id,
        payload.customer_id,
        idempotency_key=payload.idempotency_key,
    )
    if result.coupon is None:
        return Status(202, {"approval": result.approval})
    return Status(201 if result.created else 200, result.coupon)


@router.post(
    "/coupon-templates/{int:template_id}/batches",
    response={202: BatchOut, **WRITE_ERRORS},
    summary="Issue to a list of customers or a segment, in the background",
    description="Send exactly one of `segment_id` and `customer_ids`. Each customer you may see "
    "gets one coupon unless a limit stops it (counted by reason in `skipped_reasons`). Answers "
    "202 with the batch; follow it with GET /coupon-batches/{batch_id}. **Above your role's "
    "coupon value limit** the batch is not started: its status is `awaiting` and `approval` "
    "is the request, which a second person approves (the batch then starts, its coupons with "
    "`approved_by`) or rejects (status `rejected`, nothing issued) at /coupon-approvals. The "
    "same idempotency key again answers the first batch.",
)
def issue_coupon_batch(
    request: HttpRequest, template_id: int, payload: BatchIn
) -> Status[CouponIssueBatch]:
    batch = request_issue_batch(
        caller(request),
        template_id,
        customer_ids=payload.customer_ids,
        segment_id=payload.segment_id,
        idempotency_key=payload.idempotency_key,
    )
    return Status(202, queries.get_batch(batch.pk))


@router.get(
    "/coupon-batches/{int:batch_id}",
    response={200: BatchOut, **READ_ERRORS},
    summary="Read an issue batch: status and counts",
)
def read_coupon_batch(request: HttpRequest, batch_id: int) -> CouponIssueBatch:
    require(caller(request), "loyalty.manage")
    return queries.get_batch(batch_id)


# --- coupons ----------------------------------------------------------------------------------


@router.get(
    "/coupons/{code}",
    response={200: CouponOut, **READ_ERRORS},
    summary="Read a coupon by its code",
    description="404 `unknown_code` for a code that does not exist or belongs to a customer you "
    "may not see.",
)
@unknown_code_not_found
def read_coupon(request: HttpRequest, code: str) -> Coupon:
    user = caller(request)
    require(user, "coupon.read")
    return visible_coupon(user, code)


@router.get(
    "/customers/{int:customer_id}/coupons",
    response={200: list[CouponOut], **READ_ERRORS},
    summary="A customer's coupons",
    description="Unused first, then newest first.",
)
def list_customer_coupons(request: HttpRequest, customer_id: int) -> list[Coupon]:
    user = caller(request)
    require(user, "coupon.read")
    _customer, coupons = queries.customer_coupons(user, customer_id)
    return list(coupons)


@router.post(
    "/coupons/{code}/check",
    response={
        200: CheckOut,
        401: ErrorSchema,
        403: ErrorSchema,
        404: ErrorSchema,
        422: ErrorSchema,
    },
    summary="Check a coupon against an order (dry run)",
    description="Whether redeeming it on the order now would succeed and the discount; when "
    "not, `rule` names the rule in the way. Nothing is written. 404 `unknown_code` for a code "
    "that does not exist or belongs to a customer you may not see; 403 `not_your_store` for an "
    "order of a store you do not work at.",
)
@unknown_code_not_found
def check_coupon_for_order(
    request: HttpRequest, code: str, payload: CouponOrderIn
) -> dict[str, Any]:
    check = check_coupon(caller(request), code, payload.order_id)
    return {
        "code": check.coupon.code,
        "order_id": check.order.pk,
        "applies": check.applies,
        "discount": check.discount,
        "gift_description": check.coupon.template.gift_description,
        "rule": check.rule or None,
        "message": check.message,
    }


@router.post(
    "/coupons/{code}/redeem",
    response={200: CouponOut, **WRITE_ERRORS},
    summary="Redeem a coupon on an order (single use, idempotent)",
    description="Marks the coupon used on the order with its discount, once: of parallel "
    "requests one succeeds and the others get 409 `already_used`. The same idempotency key "
    "(or the same coupon on the same order) again answers the first redemption, also when "
    "sent many times at once. 404 `unknown_code` as for the check; 403 `not_your_store` for an "
    "order of a store you do not work at. " + RULES_DESCRIPTION,
)
@unknown_code_not_found
def redeem_coupon_code(request: HttpRequest, code: str, payload: CouponRedeemIn) -> Coupon:
    return redeem_coupon(
        caller(request), code, payload.order_id, idempotency_key=payload.idempotency_key
    )


@router.post(
    "/coupons/{code}/void",
    response={200: CouponOut, **WRITE_ERRORS},
    summary="Void an unused coupon",
    description="With a reason; voiding a void coupon again answers it unchanged. 409 "
    "`already_used` or `expired` for a coupon that can no longer be voided.",
)
@unknown_code_not_found
def void_coupon_code(request: HttpRequest, code: str, payload: VoidIn) -> Coupon:
    return void_coupon(caller(request), code, payload.reason)
