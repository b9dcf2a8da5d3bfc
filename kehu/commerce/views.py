"""Order pages: the orders of customers the user may see, and one order."""

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from kehu.accounts.models import User
from kehu.commerce.models import Order
from kehu.customers.queries import visible_customers

PAGE_SIZE = 25


def visible_orders(user: User) -> QuerySet[Order]:
    """Orders follow their customer: an order of a customer the user may not see is not found."""
    return Order.objects.filter(customer__in=visible_customers(user))


@require_GET
def order_list(request: HttpRequest) -> HttpResponse:
    search = request.GET.get("q", "").strip()[:64]
    orders = visible_orders(request.user).select_related(  # type: ignore[arg-type]
        "customer", "channel", "store"
    )
    if search:
        orders = orders.filter(external_id__startswith=search)
    page = Paginator(orders.order_by("-ordered_at", "-id"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {"page": page, "orders": page.object_list, "search": search, "section": "orders"}
    return render(request, "commerce/list.html", context)


@require_GET
def order_detail(request: HttpRequest, pk: int) -> HttpResponse:
    orders = visible_orders(request.user).select_related(  # type: ignore[arg-type]
        "customer", "channel", "store"
    )
    order = get_object_or_404(orders, pk=pk)
    context = {
        "order": order,
        "lines": order.lines.select_related("product"),
        "refunds": order.refunds.select_related("created_by"),
        "section": "orders",
    }
    return render(request, "commerce/detail.html", context)
