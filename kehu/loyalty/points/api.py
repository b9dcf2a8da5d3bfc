"""The loyalty API: earning rules (积分规则), mounted in kehu/api.py. For the roles that run the
programme (admin, manager, marketing); a rule changed here applies to orders that earn from
then on."""

from datetime import date
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Schema, Status
from pydantic import Field

from kehu.accounts.api import caller
from kehu.accounts.permissions import require
from kehu.core.api_schemas import ErrorSchema, InputSchema, PageParams, page_of
from kehu.loyalty.models import EarningRule
from kehu.loyalty.points import queries
from kehu.loyalty.points.earning_rules import RuleInput, rule_state, save_earning_rule

router = Router()
ERRORS = {401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema, 422: ErrorSchema}


class RuleOut(Schema):
    id: int
    name: str
    multiplier: Decimal
    category_id: int | None = Field(description="Empty: the whole order.")
    store_id: int | None = Field(description="Empty: every store and channel.")
    starts_on: date | None
    ends_on: date | None
    is_active: bool
    state: str = Field(description="`running`, `upcoming`, `ended` or `inactive`, today.")

    @staticmethod
    def resolve_state(rule: EarningRule) -> str:
        return rule_state(rule, timezone.localdate())


class RulePage(Schema):
    count: int
    limit: int
    offset: int
    items: list[RuleOut]


class RuleQuery(PageParams):
    q: str = Field("", max_length=100, description="Part of the name, category or store.")
    state: str = Field("", pattern="^(|running|upcoming|ended|inactive)$")


class RuleIn(InputSchema):
    name: str = Field(min_length=1, max_length=100)
    multiplier: Decimal = Field(gt=0, le=10, max_digits=4, decimal_places=2)
    category_id: int | None = Field(None, description="Covers its subcategories too.")
    store_id: int | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    is_active: bool = True

    def to_input(self) -> RuleInput:
        return RuleInput(**self.model_dump())


@router.get(
    "/earning-rules",
    response={200: RulePage, 401: ErrorSchema, 403: ErrorSchema, 422: ErrorSchema},
    summary="List the earning rules",
    description="Newest first. Where several rules cover a purchase the highest multiplier "
    "counts; rules do not stack.",
)
def list_earning_rules(request: HttpRequest, filters: Query[RuleQuery]) -> dict[str, Any]:
    require(caller(request), "loyalty.manage")
    search = queries.RuleFilters(search=filters.q.strip(), state=filters.state)
    return page_of(queries.search_rules(search, timezone.localdate()), filters)


@router.post(
    "/earning-rules",
    response={201: RuleOut, 401: ErrorSchema, 403: ErrorSchema, 422: ErrorSchema},
    summary="Add an earning rule",
    description="A category multiplier (`category_id`), a bonus event (`starts_on`/`ends_on`), "
    "at one store (`store_id`) or all. 422 names the field that is wrong.",
)
def create_earning_rule(request: HttpRequest, payload: RuleIn) -> Status[EarningRule]:
    return Status(201, save_earning_rule(caller(request), None, payload.to_input()))


@router.put(
    "/earning-rules/{int:rule_id}",
    response={200: RuleOut, **ERRORS},
    summary="Change an earning rule",
    description="The whole rule is sent. Points already earned do not change.",
)
def update_earning_rule(request: HttpRequest, rule_id: int, payload: RuleIn) -> EarningRule:
    return save_earning_rule(caller(request), rule_id, payload.to_input())
