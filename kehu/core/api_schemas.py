"""Schemas shared by every API router: the one error shape, pagination, references to people,
and the checks every request value passes (64-bit integers, strict booleans, no control
characters)."""

import types
import typing
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from ninja import Schema
from pydantic import ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from kehu.core import text

# The databases store integers in 64 bits at most: a bigger number can only be a mistake or an
# attack, and would fail deep inside the database driver.
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
NUMBER_TYPES = (int, float, Decimal)


def scalar_types(annotation: Any) -> set[Any]:
    """The types a field takes at its top level: `int | None` gives {int, NoneType}."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return scalar_types(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return set().union(*(scalar_types(argument) for argument in typing.get_args(annotation)))
    return {origin or annotation}


def item_annotation(annotation: Any) -> Any:
    """`list[int] | None` → int; None when the field is no list."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return item_annotation(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        items = [item_annotation(argument) for argument in typing.get_args(annotation)]
        return next((item for item in items if item is not None), None)
    if origin in (list, set, frozenset, tuple):
        arguments = typing.get_args(annotation)
        return arguments[0] if arguments else None
    return None


def check_in_int64(value: Any) -> None:
    if isinstance(value, int) and not isinstance(value, bool):
        if not INT64_MIN <= value <= INT64_MAX:
            raise PydanticCustomError(
                "int_out_of_range",
                "Input should be a 64-bit integer, between {min} and {max}",
                {"min": INT64_MIN, "max": INT64_MAX},
            )
    elif isinstance(value, list | set | frozenset | tuple):
        for item in value:
            check_in_int64(item)


def check_strict_type(annotation: Any, value: Any) -> None:
    """JSON has true/false and numbers: a boolean is no number, and a number no boolean."""
    kinds = scalar_types(annotation)
    is_number_field = any(kind in kinds for kind in NUMBER_TYPES)
    if isinstance(value, bool):
        if bool not in kinds and is_number_field:
            raise PydanticCustomError("int_type", "Input should be a number, not true or false")
    elif isinstance(value, NUMBER_TYPES) and bool in kinds and not is_number_field:
        raise PydanticCustomError("bool_type", "Input should be true or false, not a number")
    elif isinstance(value, list):
        item = item_annotation(annotation)
        if item is not None:
            for element in value:
                check_strict_type(item, element)


def without_control_characters(value: Any) -> Any:
    if isinstance(value, str):
        return text.without_control_characters(value)
    if isinstance(value, list):
        return [without_control_characters(item) for item in value]
    return value


class BoundedIntegers(Schema):
    """Query parameters: integers must fit in 64 bits (422 with the parameter's path)."""

    @field_validator("*", mode="after")
    @classmethod
    def integers_fit_in_64_bits(cls, value: Any) -> Any:
        check_in_int64(value)
        return value


class InputSchema(BoundedIntegers):
    """A request body: a JSON object with only the documented keys (a typo is an error, not
    silently ignored; a list or string where the object belongs is refused). Booleans and
    numbers are not interchangeable, integers fit in 64 bits, and control characters other
    than tab and line breaks are dropped from text."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def strict_and_clean(cls, value: Any, info: ValidationInfo) -> Any:
        if info.field_name is not None:
            check_strict_type(cls.model_fields[info.field_name].annotation, value)
        return without_control_characters(value)


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
    can_force: bool | None = Field(
        default=None,
        description="Only for duplicate_customer: whether `allow_duplicate` would create the "
        "customer anyway (false when someone else follows a match: ask for a transfer).",
    )


class ErrorSchema(Schema):
    error: ErrorDetail


class PageParams(BoundedIntegers):
    limit: int = Field(50, ge=1, le=200, description="How many items to return (1–200).")
    offset: int = Field(0, ge=0, le=INT64_MAX, description="How many items to skip.")


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
