"""Reads of orders for their list, and who works where: the stores a user serves at, and the
one check every counter action (enrolment, points and coupon redemption, refunds) makes before
it acts at a store.

The rule: a user acts at a store only if they are on its staff (`Store.staff`, kept by
administrators in /admin/); administrators act at every store. Refused: 403 `not_your_store`.
"""

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehu.accounts.models import User
from kehu.accounts.permissions import require
from kehu.commerce.models import Order, OrderStatus, Store
from kehu.core import lists
from kehu.core.errors import NotAllowed, RuleViolation
from kehu.core.lists import ListFilters
from kehu.customers.queries import visible_customers

ORDER_SORTS = {"date": "ordered_at", "total": "total_amount"}


def visible_orders(user: User) -> QuerySet[Order]:
    """Orders follow their customer: an order of a customer the user may not see is not found."""
    return Order.objects.filter(customer__in=visible_customers(user))


@dataclass(frozen=True)
class OrderFilters(ListFilters):
    search: str = lists.search(max_length=64, placeholder=gettext_lazy("External order id"))
    channel: str = lists.text("channel", max_length=32, label=gettext_lazy("Sales channel"))
    order_status: str = lists.choice(
        "order_status", OrderStatus.choices, label=gettext_lazy("Status")
    )
    since: date | None = lists.on_date("since", label=gettext_lazy("From"))
    until: date | None = lists.on_date("until", label=gettext_lazy("Until"))
    sort: str = lists.sort(ORDER_SORTS, default="-date", both_directions=True)

    def export_params(self) -> dict[str, Any]:
        """The same orders in the order export, whose `q` searches customers instead."""
        params = self.params(search="", sort="-date")
        return {"order": self.search, **params} if self.search else params


def search_orders(user: User, filters: OrderFilters) -> QuerySet[Order]:
    """The order list: by the start of the external order id, channel, status and dates."""
    orders = visible_orders(user).select_related("customer", "channel", "store")
    if filters.search:
        orders = orders.filter(external_id__startswith=filters.search)
    if filters.channel:
        orders = orders.filter(channel__code=filters.channel)
    if filters.order_status:
        orders = orders.filter(status=filters.order_status)
    if filters.since:
        orders = orders.filter(ordered_at__date__gte=filters.since)
    if filters.until:
        orders = orders.filter(ordered_at__date__lte=filters.until)
    column = ORDER_SORTS[filters.sort.removeprefix("-")]
    order = f"-{column}" if filters.sort.startswith("-") else column
    return orders.order_by(order, "-id")


def stores_of(user: User) -> QuerySet[Store]:
    """The active stores the user may act at: every one for an administrator."""
    stores = Store.objects.filter(is_active=True).order_by("code")
    if user.is_administrator:
        return stores
    return stores.filter(staff=user)


def works_at(user: User, store: Store) -> bool:
    """The record rule of `store.serve` (registered by the app's ready()): its staff, or an
    administrator anywhere."""
    return user.is_administrator or store.staff.filter(pk=user.pk).exists()


def store_by_code(code: str) -> Store:
    store = Store.objects.filter(code=code).first()
    if store is None:
        raise RuleViolation(
            _("Unknown store “%(code)s”.") % {"code": code},
            code="unknown_store",
            details={"field": "store"},
        )
    return store


def acting_store(user: User, store_code: str, *, order_store: Store | None = None) -> Store | None:
    """The store a counter action happens at, checked against the user's stores.

    The store given by its code, else the order's store, else the user's only store; an
    administrator may act at no store in particular (None). The user must work at the given
    store and at the order's store alike (a different code is the caller's `wrong_store`).
    Anyone else with no or several stores must say which (422 on the field `store`).
    """
    store = store_by_code(store_code) if store_code else None
    for place in (store, order_store):
        if place is not None:
            require(user, "store.serve", place)
    chosen = store or order_store
    if chosen is not None or user.is_administrator:
        return chosen
    return only_store(user)


def only_store(user: User) -> Store:
    stores = list(stores_of(user)[:2])
    if len(stores) == 1:
        return stores[0]
    if not stores:
        message = _("You do not work at any store: an administrator adds you to a store's staff.")
        raise NotAllowed(message, code="not_your_store", details={"field": "store"})
    raise ValidationError(
        {"store": _("You work at several stores: choose the store you are serving at.")}
    )
