"""The columns of an order export: one row per order line, in the layout the import reads.

Orders are those of the customers the user may see (filtered like the customer list, and by
`since`/`until` dates, a `channel` code, an `order_status` and the start of the external
`order` id); the customer's mobile is masked as for the list.
"""

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, Self

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from kehu.accounts.models import User
from kehu.commerce.models import OrderLine, OrderStatus
from kehu.core import lists
from kehu.core.lists import ListFilters, Reading
from kehu.customers.queries import (
    CustomerFilters,
    filter_customers,
    mask_contacts,
    visible_customers,
)

EXPORT_CHUNK = 2000

ORDER_LINE_COLUMNS: list[tuple[Any, Callable[[OrderLine], Any]]] = [
    (_("Order id"), lambda line: line.order.external_id),
    (_("Sales channel code"), lambda line: line.order.channel.code),
    (_("Store code"), lambda line: line.order.store.code if line.order.store else ""),
    (_("Member number"), lambda line: line.order.customer.member_number or ""),
    (_("Customer"), lambda line: line.order.customer.name),
    (_("Mobile"), lambda line: line.order.customer.display_mobile),
    (_("Ordered at"), lambda line: line.order.ordered_at),
    (_("SKU"), lambda line: line.product.sku if line.product else ""),
    (_("Product name"), lambda line: line.product_name),
    (_("Quantity"), lambda line: line.quantity),
    (_("Unit price"), lambda line: line.unit_price),
    (_("Discount"), lambda line: line.discount),
    (_("Amount"), lambda line: line.amount),
    (_("Order status"), lambda line: line.order.get_status_display()),
]


@dataclass(frozen=True)
class OrderExportFilters(ListFilters):
    """The customer list's filters, and the orders' channel and dates."""

    customers: CustomerFilters = field(default_factory=CustomerFilters)
    order: str = lists.text("order", max_length=64)
    channel: str = lists.text("channel", max_length=32)
    order_status: str = lists.choice("order_status", OrderStatus.values)
    since: date | None = lists.on_date("since")
    until: date | None = lists.on_date("until")

    @classmethod
    def read(cls, params: Mapping[str, str]) -> Reading[Self]:
        orders = super().read(params)
        customers = CustomerFilters.read(params)
        return Reading(
            replace(orders.filters, customers=customers.filters),
            customers.ignored + orders.ignored,
        )


def exported_lines(user: User, filters: OrderExportFilters) -> QuerySet[OrderLine]:
    customers = filter_customers(user, visible_customers(user), filters.customers).order_by()
    lines = OrderLine.objects.filter(order__customer__in=customers.values("pk"))
    if filters.order:
        lines = lines.filter(order__external_id__startswith=filters.order)
    if filters.channel:
        lines = lines.filter(order__channel__code=filters.channel)
    if filters.order_status:
        lines = lines.filter(order__status=filters.order_status)
    if filters.since:
        lines = lines.filter(order__ordered_at__date__gte=filters.since)
    if filters.until:
        lines = lines.filter(order__ordered_at__date__lte=filters.until)
    return lines.select_related(
        "order__channel", "order__store", "order__customer", "product"
    ).order_by("order__ordered_at", "order_id", "id")


def order_export_headers() -> list[str]:
    return [str(header) for header, _value in ORDER_LINE_COLUMNS]


def order_export_rows(user: User, filters: OrderExportFilters) -> Iterator[list[Any]]:
    for line in exported_lines(user, filters).iterator(chunk_size=EXPORT_CHUNK):
        mask_contacts(user, [line.order.customer])
        yield [value(line) for _header, value in ORDER_LINE_COLUMNS]
