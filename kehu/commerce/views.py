"""Order pages: the orders of customers the user may see, and one order."""

from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from kehu.accounts.models import User
from kehu.accounts.permissions import may
from kehu.commerce.models import SalesChannel
from kehu.commerce.queries import OrderFilters, search_orders, visible_orders
from kehu.core.lists import list_context, paginate, read_list


@require_GET
def order_list(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    filters = read_list(request, OrderFilters)
    page = paginate(request, search_orders(user, filters))
    channels = SalesChannel.objects.only("code", "name")
    options = {"channel": [(channel.code, channel.name) for channel in channels]}
    context = list_context(
        page,
        filters,
        options,
        can_export=may(user, "data.export"),
        orders=page.object_list,
        export_query=urlencode(filters.export_params()),
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
