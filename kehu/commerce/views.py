"""Order pages: the orders of customers the user may see, and one order."""

from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from kehu.accounts.models import User
from kehu.commerce.models import OrderStatus, SalesChannel
from kehu.commerce.queries import OrderFilters, search_orders, visible_orders
from kehu.core.lists import list_context, paginate, read_list


@require_GET
def order_list(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    filters = read_list(request, OrderFilters)
    page = paginate(request, search_orders(user, filters))
    context = list_context(
        page,
        filters,
        orders=page.object_list,
        export_query=urlencode(filters.export_params()),
        channels=SalesChannel.objects.only("code", "name"),
        statuses=OrderStatus.choices,
        section="orders",
    )
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
