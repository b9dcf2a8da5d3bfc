"""API for orders: list and read the orders of visible customers, post orders idempotently,
refund; and the stores the caller works at (the store codes a counter may send)."""

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field

from kehu.accounts.api import caller
from kehu.accounts.models import User
from kehu.commerce import services
from kehu.commerce.models import Order, OrderLine, OrderStatus, Refund, Store
from kehu.commerce.queries import stores_of
from kehu.core.api_schemas import ErrorSchema, InputSchema, PageParams, page_of
from kehu.customers.queries import get_visible_customer, visible_customers

router = Router()

ORDER_ERRORS = {401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema}


class OrderLineOut(Schema):
    id: int
    sku: str | None
    product_name: str
    quantity: Decimal
    unit_price: Decimal
    discount: Decimal
    amount: Decimal

    @staticmethod
    def resolve_sku(line: Any) -> str | None:
        return line.product.sku if line.product_id else None


class RefundOut(Schema):
    id: int
    order_id: int
    amount: Decimal
    reason: str
    is_return: bool
    refunded_at: datetime


class OrderOut(Schema):
    id: int
    customer_id: int
    channel: str = Field(description="Sales channel code.")
    external_id: str
    store: str | None = Field(description="Store code.")
    status: OrderStatus
    ordered_at: datetime
    total_amount: Decimal
    discount_amount: Decimal
    refunded_amount: Decimal
    created_at: datetime

    @staticmethod
    def resolve_channel(order: Order) -> str:
        return order.channel.code

    @staticmethod
    def resolve_store(order: Order) -> str | None:
        return order.store.code if order.store else None


class OrderDetailOut(OrderOut):
    lines: list[OrderLineOut]
    refunds: list[RefundOut]

    @staticmethod
    def resolve_lines(order: Order) -> list[Any]:
        return list(order.lines.all())

    @staticmethod
    def resolve_refunds(order: Order) -> list[Any]:
        return list(order.refunds.all())


class OrderPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[OrderOut]


class OrderQuery(PageParams):
    customer: int | None = Field(None, description="Only this customer's orders.")


class LineIn(InputSchema):
    product_name: str = Field(min_length=1, max_length=200)
    quantity: Decimal = Field(gt=0, max_digits=12, decimal_places=3)
    unit_price: Decimal = Field(ge=0, max_digits=12, decimal_places=2)
    discount: Decimal = Field(Decimal("0.00"), ge=0, max_digits=12, decimal_places=2)
    sku: str = Field("", max_length=64, description="Links the line to a product when known.")


class OrderIn(InputSchema):
    customer_id: int
    channel: str = Field(min_length=1, max_length=32, description="Sales channel code.")
    external_id: str = Field(
        min_length=1, max_length=64, description="The order's id in the shop system."
    )
    ordered_at: datetime = Field(description="ISO 8601; without a timezone the business's.")
    store: str = Field("", max_length=32, description="Store code.")
    status: OrderStatus = OrderStatus.COMPLETED
    lines: list[LineIn] = Field(min_length=1)

    def to_input(self) -> services.OrderInput:
        return services.OrderInput(
            customer_id=self.customer_id,
            channel_code=self.channel,
            external_id=self.external_id,
            ordered_at=self.ordered_at,
            store_code=self.store,
            status=self.status,
            lines=tuple(
                services.LineInput(
                    product_name=line.product_name,
                    quantity=line.quantity,
                    unit_price=line.unit_price,
                    discount=line.discount,
                    sku=line.sku,
                )
                for line in self.lines
            ),
        )


class RefundIn(InputSchema):
    amount: Decimal = Field(gt=0, max_digits=14, decimal_places=2)
    reason: str = Field("", max_length=200)
    is_return: bool = Field(False, description="The goods came back.")


def visible_orders(user: User) -> QuerySet[Order]:
    return Order.objects.filter(customer__in=visible_customers(user)).select_related(
        "channel", "store"
    )


def order_detail(user: User, order_id: int) -> Order:
    """The order with its lines and refunds; raises Order.DoesNotExist (404) if not visible."""
    lines = Prefetch("lines", queryset=OrderLine.objects.select_related("product").order_by("pk"))
    return visible_orders(user).prefetch_related(lines, "refunds").get(pk=order_id)


class StoreOut(Schema):
    code: str
    name: str
    city: str


@router.get(
    "/me/stores",
    response={200: list[StoreOut], 401: ErrorSchema},
    summary="The stores I work at",
    description="The active stores whose staff you are on (administrators: every active "
    "store), by code. Enrolment, redemption and refunds at any other store answer 403 "
    "`not_your_store`; a user of exactly one store may leave the store code out.",
)
def list_my_stores(request: HttpRequest) -> list[Store]:
    return list(stores_of(caller(request)))


@router.get(
    "/orders",
    response={200: OrderPage, 401: ErrorSchema, 404: ErrorSchema, 422: ErrorSchema},
    summary="List orders",
    description="Orders of the customers you may see, newest first. 404 for a `customer` you "
    "may not see.",
)
def list_orders(request: HttpRequest, filters: Query[OrderQuery]) -> dict[str, Any]:
    user = caller(request)
    orders = visible_orders(user).order_by("-ordered_at", "-id")
    if filters.customer is not None:
        customer = get_visible_customer(user, filters.customer)
        orders = orders.filter(customer=customer)
    return page_of(orders, filters)


@router.get(
    "/orders/{int:order_id}",
    response={200: OrderDetailOut, 401: ErrorSchema, 404: ErrorSchema},
    summary="Read an order with its lines and refunds",
)
def read_order(request: HttpRequest, order_id: int) -> Order:
    return order_detail(caller(request), order_id)


@router.post(
    "/orders",
    response={200: OrderDetailOut, 201: OrderDetailOut, **ORDER_ERRORS, 422: ErrorSchema},
    summary="Post an order (idempotent)",
    description=(
        "Stored once per (`channel`, `external_id`): the first post answers 201 with the new "
        "order; posting the same channel and external id again answers 200 with the order "
        "stored the first time, **unchanged** — a second payload with different lines or "
        "amounts is ignored, so the first one is kept. Only the customer's editors (owner, "
        "their manager, admin) may post new orders. 409 `unknown_channel`, `unknown_store`, "
        "`discount_too_large`."
    ),
)
def post_order(request: HttpRequest, payload: OrderIn) -> Status[Order]:
    user = caller(request)
    result = services.create_order(user, payload.to_input())
    return Status(201 if result.created else 200, order_detail(user, result.order.pk))


@router.post(
    "/orders/{int:order_id}/refunds",
    response={201: RefundOut, **ORDER_ERRORS, 422: ErrorSchema},
    summary="Refund part or all of an order",
    description="409 `invalid_refund_amount` when the refunds would exceed the order's total; "
    "403 `not_your_store` for an order of a store you do not work at (administrators refund "
    "at every store).",
)
def refund(request: HttpRequest, order_id: int, payload: RefundIn) -> Status[Refund]:
    user = caller(request)
    order = visible_orders(user).get(pk=order_id)
    created = services.refund_order(
        user, order.pk, payload.amount, payload.reason, is_return=payload.is_return
    )
    return Status(201, created)
