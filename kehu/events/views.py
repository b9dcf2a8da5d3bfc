"""The administrator's page of events and their deliveries, with a replay for dead letters."""

from datetime import date

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from kehu.core.errors import DomainError, NotAllowed
from kehu.events.catalogue import EVENT_TYPES
from kehu.events.models import HandlerRun, RunStatus
from kehu.events.queries import RunFilters, deliveries, status_counts
from kehu.events.services import replay_run

PAGE_SIZE = 50


def day_or_none(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip()[:10]) if text.strip() else None
    except ValueError:
        return None


def filters_from(request: HttpRequest) -> RunFilters:
    query = request.GET
    name = query.get("name", "")
    return RunFilters(
        name=name if name in EVENT_TYPES else "",
        status=query.get("status", "") if query.get("status") in RunStatus.values else "",
        handler=query.get("handler", "").strip()[:100],
        day_from=day_or_none(query.get("from", "")),
        day_to=day_or_none(query.get("to", "")),
    )


@require_GET
def event_list(request: HttpRequest) -> HttpResponse:
    filters = filters_from(request)
    try:
        runs = deliveries(request.user, filters)
        counts = status_counts(request.user)
    except NotAllowed as refusal:
        raise PermissionDenied(refusal.message) from None
    page = Paginator(runs, PAGE_SIZE).get_page(request.GET.get("page"))
    handler_keys = HandlerRun.objects.order_by("handler").values_list("handler", flat=True)
    context = {
        "page": page,
        "runs": page.object_list,
        "filters": filters,
        "counts": counts,
        "event_names": list(EVENT_TYPES),
        "handlers": sorted(set(handler_keys.distinct())),
        "statuses": RunStatus.choices,
        "section": "settings",
    }
    return render(request, "events/list.html", context)


@require_POST
def replay(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        replay_run(request.user, pk)  # type: ignore[arg-type]  # signed in: a kehu User
    except NotAllowed as refusal:
        raise PermissionDenied(refusal.message) from None
    except HandlerRun.DoesNotExist:
        messages.error(request, _("This delivery no longer exists."))
    except DomainError as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(request, _("The event was queued again."))
    return redirect(request.POST.get("next") or "events:list")
