"""The loyalty API: members and points. Mounted in kehu/api.py.

Enrol a customer, read a member by customer id or card number, earn for a stored order, redeem
(a gift or a cash offset), adjust by hand, freeze, cancel or reactivate, read the points
statement and the gift catalogue.

**Retries.** Enrolling and earning are idempotent by nature (one membership per customer, one
earning per order). Asking for the status a membership has already changes nothing. Redeeming and
adjusting take `idempotency_key` in the body: the same key
again answers 200 with the first result and changes nothing; keys are scoped to the calling
user. A key already used for a different request answers 409 `idempotency_key_reused`.
**Errors.** A customer you may not see answers 404 `not_found`; a visible customer who is not a
member, or an unknown card, 404 `unknown_member`; a rule in the way 409 naming it
(`insufficient_points`, `out_of_stock`, `wrong_store`, ...). A refused request changes nothing.
**Stores.** Enrolling at a store and redeeming happen at a store the caller works at (the
`store` code, the order's store, or the caller's only store; administrators anywhere): another
store answers 403 `not_your_store`, and a caller of several stores who sends none 422 on `store`.
"""

import functools
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Self

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field, model_validator

from kehu.accounts.api import caller
from kehu.accounts.permissions import require
from kehu.core.api_schemas import ErrorSchema, InputSchema, PageParams, page_of
from kehu.loyalty.approvals.limits import MAX_ADJUSTMENT
from kehu.loyalty.members.counter import earn_points_for_order, enrol_customer
from kehu.loyalty.members.queries import statement, tier_progress
from kehu.loyalty.members.services import (
    UnknownMember,
    visible_membership,
    visible_membership_by_card,
)
from kehu.loyalty.members.status import change_membership_status
from kehu.loyalty.models import (
    ApprovalStatus,
    EnrolmentChannel,
    Membership,
    MembershipStatus,
    PointsKind,
    PointsSource,
    Redemption,
    RedemptionItem,
    TierBasis,
)
from kehu.loyalty.points.adjustments import adjust_points
from kehu.loyalty.points.redemption import redeem_cash_offset, redeem_gift

router = Router()

READ_ERRORS = {401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema}
WRITE_ERRORS = {**READ_ERRORS, 409: ErrorSchema, 422: ErrorSchema}
KEY_DESCRIPTION = (
    "Required. Send the same key when retrying: the first result is answered (200) and nothing "
    "changes. Scoped to you; a key used for a different request answers 409 "
    "`idempotency_key_reused`."
)


class TierOut(Schema):
    id: int
    name: str
    rank: int
    threshold: Decimal
    points_multiplier: Decimal


class MemberOut(Schema):
    customer_id: int
    customer_name: str
    card_number: str
    status: MembershipStatus
    channel: EnrolmentChannel
    enrolled_on: date
    points_balance: int
    tier: TierOut
    tier_since: date
    tier_review_on: date | None = Field(description="A downgrade can only happen at a review.")
    tier_basis: TierBasis
    qualifying_value: Decimal = Field(
        description="Rolling 12-month spend (¥) or points earned, by `tier_basis`."
    )
    next_tier: TierOut | None
    to_next_tier: Decimal | None = Field(description="Still needed to reach `next_tier`.")
    referral_code: str


class EntryOut(Schema):
    id: int
    kind: PointsKind
    points: int = Field(description="Signed: earnings add, redemptions and expiry take.")
    remaining: int = Field(description="For entries that add points: how many are unspent.")
    expires_on: date | None
    source: PointsSource
    reason: str
    order_id: int | None
    created_by: str | None = Field(description="Username of the staff member, if any.")
    approved_by: str | None = Field(
        description="Username of the second person who approved an adjustment above the "
        "maker's limit; empty otherwise."
    )
    created_at: datetime

    @staticmethod
    def resolve_created_by(entry: Any) -> str | None:
        return entry.created_by.username if entry.created_by_id else None

    @staticmethod
    def resolve_approved_by(entry: Any) -> str | None:
        return entry.approved_by.username if entry.approved_by_id else None


class StatementEntryOut(EntryOut):
    balance_after: int


class StatementPage(Schema):
    count: int
    limit: int
    offset: int
    balance: int
    items: list[StatementEntryOut]


class EarnIn(InputSchema):
    order_id: int
    extra_multiplier: Decimal = Field(
        Decimal(1), gt=0, le=10, description="A campaign's multiplier on top of the tier's."
    )


class EarnOut(Schema):
    earned: bool = Field(description="False: the order earns nothing (too small, ...).")
    entry: EntryOut | None
    balance: int


class EnrolIn(InputSchema):
    customer_id: int
    channel: EnrolmentChannel = EnrolmentChannel.API
    store: str = Field("", max_length=32, description="Store code where the member enrolled.")


class RedeemIn(InputSchema):
    """Send `gift_id` (and `quantity`) for a gift, or `cash_amount` (and maybe `order_id`) for
    a cash offset at the programme's rate."""

    idempotency_key: str = Field(min_length=1, max_length=100, description=KEY_DESCRIPTION)
    gift_id: int | None = None
    quantity: int = Field(1, ge=1, le=100)
    cash_amount: Decimal | None = Field(None, gt=0, max_digits=12, decimal_places=2)
    order_id: int | None = Field(None, description="The member's order the offset pays for.")
    store: str = Field("", max_length=32, description="Store code of the counter.")

    @model_validator(mode="after")
    def one_kind(self) -> Self:
        if (self.gift_id is None) == (self.cash_amount is None):
            raise ValueError("Send exactly one of gift_id and cash_amount.")
        return self


class RedemptionOut(Schema):
    id: int
    gift_id: int | None = Field(description="Empty for a cash offset.")
    gift_name: str | None
    quantity: int
    points: int
    cash_amount: Decimal
    order_id: int | None
    store: str | None = Field(description="Store code.")
    created_at: datetime
    balance: int = Field(description="The member's balance now.")

    @staticmethod
    def resolve_gift_id(redemption: Any) -> int | None:
        return redemption.item_id  # type: ignore[no-any-return]

    @staticmethod
    def resolve_gift_name(redemption: Any) -> str | None:
        return redemption.item.name if redemption.item_id else None

    @staticmethod
    def resolve_store(redemption: Any) -> str | None:
        return redemption.store.code if redemption.store_id else None


class AdjustIn(InputSchema):
    idempotency_key: str = Field(min_length=1, max_length=100, description=KEY_DESCRIPTION)
    points: int = Field(
        ge=-MAX_ADJUSTMENT,
        le=MAX_ADJUSTMENT,
        description="Positive adds, negative takes (never below zero). Above your role's limits "
        "(per adjustment, per day) the adjustment waits for a second person's approval.",
    )
    reason: str = Field(min_length=1, max_length=300)


class AdjustOut(Schema):
    entry: EntryOut
    balance: int


class ApprovalOut(Schema):
    id: int
    customer_id: int
    card_number: str
    customer_name: str
    points: int = Field(description="Signed: positive adds, negative takes.")
    reason: str
    status: ApprovalStatus
    requested_by: str = Field(description="Username of the staff member who asked.")
    requested_at: datetime
    decided_by: str | None = Field(description="Username of the approver or rejecter.")
    decided_at: datetime | None
    decision_reason: str
    entry: EntryOut | None = Field(description="The ledger entry written on approval.")

    @staticmethod
    def resolve_customer_id(approval: Any) -> int:
        return approval.membership.customer_id  # type: ignore[no-any-return]

    @staticmethod
    def resolve_card_number(approval: Any) -> str:
        return approval.membership.card_number  # type: ignore[no-any-return]

    @staticmethod
    def resolve_customer_name(approval: Any) -> str:
        return approval.membership.customer.name  # type: ignore[no-any-return]

    @staticmethod
    def resolve_requested_by(approval: Any) -> str:
        return approval.requested_by.username  # type: ignore[no-any-return]

    @staticmethod
    def resolve_decided_by(approval: Any) -> str | None:
        return approval.decided_by.username if approval.decided_by_id else None


class PendingAdjustmentOut(Schema):
    approval: ApprovalOut
    balance: int = Field(description="The member's balance, unchanged.")


class StatusIn(InputSchema):
    status: MembershipStatus = Field(description="The status the membership should have.")
    reason: str = Field(min_length=1, max_length=300, description="Kept in the status history.")


class PauseOut(Schema):
    id: int
    status: MembershipStatus
    started_at: datetime
    reason: str
    started_by: str | None = Field(description="Username of the staff member.")

    @staticmethod
    def resolve_reason(pause: Any) -> str:
        return pause.start_reason  # type: ignore[no-any-return]

    @staticmethod
    def resolve_started_by(pause: Any) -> str | None:
        return pause.started_by.username if pause.started_by_id else None


class StatusOut(Schema):
    customer_id: int
    card_number: str
    status: MembershipStatus
    changed: bool = Field(description="False: the membership had this status already.")
    forfeited_points: int = Field(description="Points the cancellation took; 0 otherwise.")
    points_balance: int
    pause: PauseOut | None = Field(
        description="The freeze or cancellation in force; empty when active."
    )


class GiftOut(Schema):
    id: int
    name: str
    points_cost: int
    stock: int | None = Field(description="Empty: unlimited.")
    description: str


def unknown_member_not_found(view: Callable[..., Any]) -> Callable[..., Any]:
    """No such member is a missing resource (404 `unknown_member`), not a rule (409)."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        try:
            return view(request, *args, **kwargs)
        except UnknownMember as error:
            body = {"error": {"code": error.code, "message": error.message, "fields": []}}
            return Status(404, body)

    return wrapper


def member_out(membership: Membership) -> dict[str, Any]:
    progress = tier_progress(membership)
    return {
        "customer_id": membership.customer_id,
        "customer_name": membership.customer.name,
        "card_number": membership.card_number,
        "status": membership.status,
        "channel": membership.channel,
        "enrolled_on": membership.enrolled_on,
        "points_balance": membership.points_balance,
        "tier": membership.tier,
        "tier_since": membership.tier_since,
        "tier_review_on": membership.tier_review_on,
        "tier_basis": progress.basis,
        "qualifying_value": progress.value,
        "next_tier": progress.next_tier,
        "to_next_tier": progress.still_needed,
        "referral_code": membership.referral_code,
    }


def fresh_balance(membership_id: int) -> int:
    return Membership.objects.values_list("points_balance", flat=True).get(pk=membership_id)


# --- members ----------------------------------------------------------------------------------


@router.post(
    "/members",
    response={200: MemberOut, 201: MemberOut, **WRITE_ERRORS},
    summary="Enrol a customer as a member (idempotent)",
    description="201 with the new membership (a card number, the entry tier); 200 with the "
    "existing one when the customer is a member already. 404 for a customer you may not see; "
    "409 `unknown_store`; 403 `not_your_store` at a store you do not work at (channel `store` "
    "without a store code: your only store, else 422 on `store`).",
)
def enrol(request: HttpRequest, payload: EnrolIn) -> Status[dict[str, Any]]:
    user = caller(request)
    result = enrol_customer(
        user, payload.customer_id, channel=payload.channel, store_code=payload.store
    )
    membership = visible_membership(user, result.membership.customer_id)
    return Status(201 if result.created else 200, member_out(membership))


@router.get(
    "/members/{int:customer_id}",
    response={200: MemberOut, **READ_ERRORS},
    summary="Read a member by customer id",
    description="Balance, tier and the way to the next tier. 404 `unknown_member` when the "
    "customer is not a member.",
)
@unknown_member_not_found
def read_member(request: HttpRequest, customer_id: int) -> dict[str, Any]:
    user = caller(request)
    require(user, "member.read")
    return member_out(visible_membership(user, customer_id))


@router.get(
    "/members/by-card/{card_number}",
    response={200: MemberOut, **READ_ERRORS},
    summary="Read a member by card number",
    description="404 `unknown_member` for a card nobody you may see holds.",
)
@unknown_member_not_found
def read_member_by_card(request: HttpRequest, card_number: str) -> dict[str, Any]:
    user = caller(request)
    require(user, "member.read")
    return member_out(visible_membership_by_card(user, card_number))


# --- points -----------------------------------------------------------------------------------


@router.post(
    "/members/{int:customer_id}/earn",
    response={200: EarnOut, 201: EarnOut, **WRITE_ERRORS},
    summary="Earn points for one of the member's orders (idempotent per order)",
    description="¥1 = the programme's points per yuan × the tier's multiplier × "
    "`extra_multiplier`, rounded down. 201 when points were earned now; 200 when the order "
    "had earned already (the first earning) or earns nothing (`earned` false). 409 "
    "`order_not_members`, `membership_not_active`.",
)
@unknown_member_not_found
def earn(request: HttpRequest, customer_id: int, payload: EarnIn) -> Status[dict[str, Any]]:
    user = caller(request)
    result = earn_points_for_order(
        user, customer_id, payload.order_id, extra_multiplier=payload.extra_multiplier
    )
    membership = visible_membership(user, customer_id)
    body = {
        "earned": result.entry is not None,
        "entry": result.entry,
        "balance": membership.points_balance,
    }
    return Status(201 if result.created else 200, body)


@router.post(
    "/members/{int:customer_id}/redeem",
    response={200: RedemptionOut, 201: RedemptionOut, **WRITE_ERRORS},
    summary="Redeem points for a gift or a cash offset (idempotent by key)",
    description="Points are taken oldest first. 409 `insufficient_points` (the message says "
    "the balance and what was needed), `out_of_stock`, `unknown_gift`, "
    "`offset_not_whole_points`, `offset_exceeds_order`, `offset_needs_order` (a cash offset "
    "without `order_id` above your role's limit: name the order it pays for), "
    "`order_not_members`, "
    "`order_not_payable`, `wrong_store`, `unknown_store`, `store_closed`, "
    "`membership_not_active`, `idempotency_key_reused`. 403 `not_your_store` when you do not "
    "work at the `store` or at the order's store; without either, your only store is used (422 "
    "on `store` when you work at several).",
)
@unknown_member_not_found
def redeem(request: HttpRequest, customer_id: int, payload: RedeemIn) -> Status[Redemption]:
    user = caller(request)
    if payload.gift_id is not None:
        result = redeem_gift(
            user,
            customer_id,
            payload.gift_id,
            idempotency_key=payload.idempotency_key,
            quantity=payload.quantity,
            store_code=payload.store,
        )
    else:
        assert payload.cash_amount is not None  # the schema's validator saw to it
        result = redeem_cash_offset(
            user,
            customer_id,
            payload.cash_amount,
            idempotency_key=payload.idempotency_key,
            order_id=payload.order_id,
            store_code=payload.store,
        )
    redemption = result.redemption
    redemption.balance = fresh_balance(redemption.membership_id)  # type: ignore[attr-defined]
    return Status(201 if result.created else 200, redemption)


@router.post(
    "/members/{int:customer_id}/adjust",
    response={200: AdjustOut, 201: AdjustOut, 202: PendingAdjustmentOut, **WRITE_ERRORS},
    summary="Adjust a member's points by hand (idempotent by key)",
    description="Administrators and store managers only; the entry records who and why. 201 "
    "with the entry. **Above your role's limits** (points per adjustment, or your adjustments "
    "of the business day in all, counted either way; set by an administrator) nothing moves: "
    "202 with the approval request, which an administrator (or, where allowed, a store "
    "manager of another team) approves or rejects at /points-approvals; the entry is written "
    "on approval. A retry with the same key answers 200 with the entry, or 202 with the "
    "request while it waits. Administrators are alerted of large or repeated adjustments. "
    "409 `insufficient_points` when taking more than the balance; 422 without a reason or "
    f"beyond ±{MAX_ADJUSTMENT:,} points.",
)
@unknown_member_not_found
def adjust(request: HttpRequest, customer_id: int, payload: AdjustIn) -> Status[dict[str, Any]]:
    user = caller(request)
    result = adjust_points(
        user,
        customer_id,
        payload.points,
        payload.reason,
        idempotency_key=payload.idempotency_key,
    )
    if result.entry is None:
        assert result.approval is not None  # no entry: the adjustment waits for approval
        membership_id = result.approval.membership_id
        assert membership_id is not None  # a points request names its membership
        return Status(202, {"approval": result.approval, "balance": fresh_balance(membership_id)})
    body = {"entry": result.entry, "balance": fresh_balance(result.entry.membership_id)}
    return Status(201 if result.created else 200, body)


@router.post(
    "/members/{int:customer_id}/status",
    response={200: StatusOut, **WRITE_ERRORS},
    summary="Freeze, cancel or reactivate a membership (idempotent)",
    description="Administrators and store managers only; the reason is kept in the status "
    "history. A frozen or cancelled member earns and redeems nothing; cancelling forfeits the "
    "whole balance (one adjustment in the statement), and reactivating does not give it back. "
    "Asking for the current status answers 200 with `changed` false. 409 "
    "`invalid_status_change` (a cancelled membership is reactivated before it is frozen); "
    "422 without a reason.",
)
@unknown_member_not_found
def change_status(request: HttpRequest, customer_id: int, payload: StatusIn) -> dict[str, Any]:
    result = change_membership_status(caller(request), customer_id, payload.status, payload.reason)
    membership = result.membership
    return {
        "customer_id": membership.customer_id,
        "card_number": membership.card_number,
        "status": membership.status,
        "changed": result.changed,
        "forfeited_points": result.forfeited,
        "points_balance": membership.points_balance,
        "pause": result.pause,
    }


@router.get(
    "/members/{int:customer_id}/statement",
    response={200: StatementPage, **READ_ERRORS, 422: ErrorSchema},
    summary="A member's points statement",
    description="Entries newest first, each with the balance after it.",
)
@unknown_member_not_found
def read_statement(
    request: HttpRequest, customer_id: int, page: Query[PageParams]
) -> dict[str, Any]:
    user = caller(request)
    require(user, "member.read")
    membership = visible_membership(user, customer_id)
    entries = statement(membership)
    return {**page_of(entries, page), "balance": membership.points_balance}


@router.get(
    "/redemption-gifts",
    response={200: list[GiftOut], 401: ErrorSchema, 403: ErrorSchema},
    summary="The gift catalogue",
    description="Active gifts, cheapest first.",
)
def list_gifts(request: HttpRequest) -> list[RedemptionItem]:
    require(caller(request), "member.read")
    return list(RedemptionItem.objects.filter(is_active=True).order_by("points_cost", "name"))
