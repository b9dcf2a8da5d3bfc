"""API for the customer archive: list, read, create, edit, tags, the pool (公海) and merges.

Every read starts from `visible_customers` / `get_visible_customer` (404 for the invisible) and
its rows come with contacts masked as on the pages; writes call one service each.
"""

import functools
from datetime import date, datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field

from kehu.accounts.api import caller
from kehu.accounts.models import User
from kehu.core.api_schemas import ErrorSchema, InputSchema, PageParams, UserRef
from kehu.customers import pool, services
from kehu.customers.creation import CreationExtraRefused, create_with_extras
from kehu.customers.models import (
    Customer,
    CustomerStatus,
    Gender,
    IncomeBand,
    SourceChannel,
)
from kehu.customers.queries import (
    CustomerFilters,
    get_visible_customer,
    search_customers,
    tags_with_counts,
)

router = Router()

SortKey = Literal[
    "name", "-name", "created", "-created", "followed_up", "-followed_up", "city", "-city"
]


class StoreRef(Schema):
    id: int
    code: str
    name: str


class CustomerOut(Schema):
    """A customer as the caller may see it: contacts masked when `contact_is_masked`."""

    id: int
    name: str
    gender: Gender
    birthday: date | None
    mobile: str = Field(description="Masked (138****1234) when contact_is_masked.")
    email: str
    wechat_id: str
    wecom_id: str
    contact_is_masked: bool
    province: str
    city: str
    district: str
    address: str = Field(
        description="The street line; `***` when contact_is_masked (province, city and "
        "district stay visible)."
    )
    occupation: str
    income_band: IncomeBand
    interests: list[str]
    source_channel: SourceChannel
    home_store: StoreRef | None
    member_number: str | None
    owner: UserRef | None
    in_pool: bool = Field(description="True when the customer has no owner (公海).")
    owned_since: datetime | None
    last_followed_up_at: datetime | None
    status: CustomerStatus
    notes: str
    custom_attributes: dict[str, Any]
    tags: list[str]
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_mobile(customer: Customer) -> str:
        return customer.display_mobile  # type: ignore[attr-defined]

    @staticmethod
    def resolve_email(customer: Customer) -> str:
        return customer.display_email  # type: ignore[attr-defined]

    @staticmethod
    def resolve_wechat_id(customer: Customer) -> str:
        return customer.display_wechat_id  # type: ignore[attr-defined]

    @staticmethod
    def resolve_wecom_id(customer: Customer) -> str:
        return customer.display_wecom_id  # type: ignore[attr-defined]

    @staticmethod
    def resolve_address(customer: Customer) -> str:
        return customer.display_address  # type: ignore[attr-defined]

    @staticmethod
    def resolve_in_pool(customer: Customer) -> bool:
        return customer.owner_id is None

    @staticmethod
    def resolve_tags(customer: Customer) -> list[str]:
        return [tag.name for tag in customer.tags.all()]


class CustomerPage(Schema):
    count: int = Field(description="How many customers match, over all pages.")
    limit: int
    offset: int
    items: list[CustomerOut]


class CustomerQuery(PageParams):
    q: str = Field(
        "",
        max_length=100,
        description="Part of the name; the member number; a mobile, email, WeChat ID or WeCom "
        "ID: any part where you see the customer's contacts, else only the whole value.",
    )
    city: str = Field("", max_length=30)
    owner: int | None = Field(None, description="Owner's user id.")
    pool: bool | None = Field(None, description="true: only the pool; false: only owned.")
    source: SourceChannel | None = None
    status: CustomerStatus | None = None
    tag: int | None = Field(None, description="Tag id.")
    store: int | None = Field(None, description="Home store id.")
    sort: SortKey = "-created"

    def to_filters(self) -> CustomerFilters:
        return CustomerFilters(
            search=self.q.strip(),
            city=self.city.strip(),
            owner_id=self.owner,
            in_pool=self.pool,
            source_channel=self.source or "",
            status=self.status or "",
            tag_id=self.tag,
            home_store_id=self.store,
            sort=self.sort,
        )


class CustomerFieldsIn(InputSchema):
    """Editable fields; the service normalises and checks them (mobile, email, store...)."""

    name: str | None = Field(None, max_length=100)
    gender: Gender | None = None
    birthday: date | None = None
    mobile: str | None = Field(None, max_length=30, description="Mainland China mobile.")
    email: str | None = Field(None, max_length=254)
    wechat_id: str | None = Field(None, max_length=64)
    wecom_id: str | None = Field(None, max_length=64)
    province: str | None = Field(None, max_length=30)
    city: str | None = Field(None, max_length=30)
    district: str | None = Field(None, max_length=30)
    address: str | None = Field(None, max_length=200)
    occupation: str | None = Field(None, max_length=50)
    income_band: IncomeBand | None = None
    interests: list[str] | None = None
    source_channel: SourceChannel | None = None
    home_store_id: int | None = None
    member_number: str | None = Field(None, max_length=32)
    status: CustomerStatus | None = None
    notes: str | None = Field(None, max_length=5000)
    custom_attributes: dict[str, str | int | float | bool | None] | None = None

    def given_fields(self) -> dict[str, Any]:
        """Only the fields the client sent, as plain JSON values for the service."""
        return self.model_dump(
            mode="json", exclude_unset=True, exclude={"tags", "allow_duplicate", "referral_code"}
        )


class CustomerUpdateIn(CustomerFieldsIn):
    """Send only the fields to change; "" or null clears a text field."""


class CustomerCreateIn(CustomerFieldsIn):
    name: str = Field(min_length=1, max_length=100)
    tags: list[str] = Field(default_factory=list, description="Tag names; new ones are created.")
    allow_duplicate: bool = Field(
        False,
        description="Create even when a customer with the same contact exists, if every match "
        "is in the pool or one you may edit; never past a customer someone else follows.",
    )
    referral_code: str = Field(
        "",
        max_length=20,
        description="The referring member's code (推荐码), if the customer was referred: the "
        "customer is created and attributed to that member together, or not at all.",
    )


class TagOut(Schema):
    id: int
    name: str
    group: str | None
    customer_count: int = Field(description="How many of the customers you see carry it.")

    @staticmethod
    def resolve_group(tag: Any) -> str | None:
        return tag.group.name if tag.group_id else None


class TagsIn(InputSchema):
    tags: list[str] = Field(description="The customer's tags afterwards; new ones are created.")


class ReleaseIn(InputSchema):
    reason: str = Field(max_length=200, description="Why the customer goes back to the pool.")


class TransferIn(InputSchema):
    owner_id: int = Field(description="User id of the new owner (salesperson or manager).")
    reason: str = Field("", max_length=200)


class MergeIn(InputSchema):
    merged_id: int = Field(description="The customer folded into this one; it is deleted.")


class MergeOut(Schema):
    kept: CustomerOut
    merged_customer_id: int
    moved_counts: dict[str, int]


def customer_as_seen_by(user: User, customer_id: int) -> Customer:
    return get_visible_customer(user, customer_id)


READ_ERRORS = {401: ErrorSchema, 404: ErrorSchema}
WRITE_ERRORS = {401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema}


@router.get(
    "/customers",
    response={200: CustomerPage, 401: ErrorSchema, 422: ErrorSchema},
    summary="List customers",
    description="The customers you may see, filtered and sorted as on the customer list page.",
)
def list_customers(request: HttpRequest, filters: Query[CustomerQuery]) -> dict[str, Any]:
    user = caller(request)
    customers = search_customers(user, filters.to_filters())
    page = list(customers[filters.offset : filters.offset + filters.limit])
    return {
        "count": customers.count(),
        "limit": filters.limit,
        "offset": filters.offset,
        "items": page,
    }


@router.get(
    "/customers/{int:customer_id}",
    response={200: CustomerOut, **READ_ERRORS},
    summary="Read a customer",
)
def read_customer(request: HttpRequest, customer_id: int) -> Customer:
    return customer_as_seen_by(caller(request), customer_id)


@router.post(
    "/customers",
    response={
        201: CustomerOut,
        401: ErrorSchema,
        403: ErrorSchema,
        409: ErrorSchema,
        422: ErrorSchema,
    },
    summary="Create a customer",
    description=(
        "A salesperson or manager becomes the owner; an admin's new customer goes to the pool. "
        "409 `duplicate_customer` when the mobile, email or name and birthday match an existing "
        "customer, unless `allow_duplicate` is true; 409 `duplicate_of_another_owner` when "
        "`allow_duplicate` meets a match someone else follows (the message names them: ask for "
        "a transfer); 409 `member_number_taken`. With a "
        "`referral_code` the customer is attributed to that member (the referral waits for the "
        "first qualifying purchase); a refused code answers 422 naming the rule "
        "(`unknown_code`, `referrer_inactive`, `self_referral`) at `referral_code`, and no "
        "customer is created."
    ),
)
def add_customer(request: HttpRequest, payload: CustomerCreateIn) -> Status[Any]:
    user = caller(request)
    create = functools.partial(
        services.create_customer,
        user,
        payload.given_fields(),
        tag_names=payload.tags,
        allow_duplicate=payload.allow_duplicate,
    )
    try:
        customer, _notes = create_with_extras(
            user, {"referral_code": payload.referral_code}, create
        )
    except CreationExtraRefused as refusal:
        return Status(422, code_refused(refusal))
    return Status(201, customer_as_seen_by(user, customer.pk))


def code_refused(refusal: CreationExtraRefused) -> dict[str, Any]:
    """The refused extra (the referral code) as a field error, its code naming the rule."""
    field = {"path": ["body", refusal.details["field"]], "message": refusal.message}
    return {"error": {"code": refusal.code, "message": refusal.message, "fields": [field]}}


@router.patch(
    "/customers/{int:customer_id}",
    response={200: CustomerOut, **WRITE_ERRORS, 422: ErrorSchema},
    summary="Edit a customer",
    description="Partial update: only the fields sent change. Tags change through /tags.",
)
def edit_customer(request: HttpRequest, customer_id: int, payload: CustomerUpdateIn) -> Customer:
    user = caller(request)
    services.update_customer(user, customer_id, payload.given_fields())
    return customer_as_seen_by(user, customer_id)


@router.get(
    "/tags",
    response={200: list[TagOut], 401: ErrorSchema},
    summary="List tags",
)
def list_tags(request: HttpRequest) -> list[Any]:
    return list(tags_with_counts(caller(request)).order_by("name"))


@router.put(
    "/customers/{int:customer_id}/tags",
    response={
        200: CustomerOut,
        401: ErrorSchema,
        403: ErrorSchema,
        404: ErrorSchema,
        422: ErrorSchema,
    },
    summary="Set a customer's tags",
    description="Replaces the customer's tags with the names given (an empty list clears them).",
)
def replace_tags(request: HttpRequest, customer_id: int, payload: TagsIn) -> Customer:
    user = caller(request)
    services.tag_customer(user, customer_id, payload.tags)
    return customer_as_seen_by(user, customer_id)


@router.post(
    "/customers/{int:customer_id}/claim",
    response={200: CustomerOut, **WRITE_ERRORS},
    summary="Claim from the pool",
    description="409 `not_in_pool` or `claim_limit_reached`; 403 for roles that may not claim.",
)
def claim(request: HttpRequest, customer_id: int) -> Customer:
    user = caller(request)
    pool.claim_customer(user, customer_id)
    return customer_as_seen_by(user, customer_id)


@router.post(
    "/customers/{int:customer_id}/release",
    response={200: CustomerOut, **WRITE_ERRORS, 422: ErrorSchema},
    summary="Release to the pool",
    description="409 `reason_required` for a blank reason, `already_in_pool`.",
)
def release(request: HttpRequest, customer_id: int, payload: ReleaseIn) -> Customer:
    user = caller(request)
    pool.release_customer(user, customer_id, payload.reason)
    return customer_as_seen_by(user, customer_id)


@router.post(
    "/customers/{int:customer_id}/transfer",
    response={200: CustomerOut, **WRITE_ERRORS, 422: ErrorSchema},
    summary="Transfer to another owner",
    description="Managers within their team, admins to anyone. 409 `invalid_owner`, `same_owner`.",
)
def transfer(request: HttpRequest, customer_id: int, payload: TransferIn) -> Customer:
    user = caller(request)
    pool.transfer_customer(user, customer_id, payload.owner_id, payload.reason)
    return customer_as_seen_by(user, customer_id)


@router.post(
    "/customers/{int:customer_id}/merge",
    response={200: MergeOut, **WRITE_ERRORS, 422: ErrorSchema},
    summary="Merge another customer into this one",
    description=(
        "Orders, interactions, tags and history of `merged_id` move to this customer, blank "
        "fields are filled from it, and it is deleted. 409 `merge_self`."
    ),
)
def merge(request: HttpRequest, customer_id: int, payload: MergeIn) -> dict[str, Any]:
    user = caller(request)
    record = services.merge_customers(user, customer_id, payload.merged_id)
    return {
        "kept": customer_as_seen_by(user, customer_id),
        "merged_customer_id": record.merged_customer_id,
        "moved_counts": record.moved_counts,
    }
