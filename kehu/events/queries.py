"""Reads of the outbox: the events after a cursor (the API), and the administrator's list of
deliveries with filters."""

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from kehu.core.errors import NotAllowed
from kehu.events.models import Event, HandlerRun, RunStatus


def require_administrator(actor: Any) -> None:
    """Events show every customer's activity: administrators only (a kehu.accounts.User)."""
    if not actor.policy.can_manage_settings:
        raise NotAllowed(_("Only administrators may see the events."), code="not_allowed")


@dataclass(frozen=True)
class EventPage:
    items: list[Event]
    next_cursor: int
    has_more: bool


def events_after(actor: Any, after: int, limit: int, name: str = "") -> EventPage:
    """Events with an id above `after`, in id order; `next_cursor` is the `after` of the next
    page (the same cursor when there is nothing new)."""
    require_administrator(actor)
    events = Event.objects.filter(pk__gt=after).order_by("pk")
    if name:
        events = events.filter(name=name)
    items = list(events[: limit + 1])
    has_more = len(items) > limit
    items = items[:limit]
    return EventPage(items, items[-1].pk if items else after, has_more)


@dataclass(frozen=True)
class RunFilters:
    name: str = ""
    status: str = ""
    handler: str = ""
    day_from: date | None = None
    day_to: date | None = None


def deliveries(actor: Any, filters: RunFilters) -> QuerySet[HandlerRun]:
    """Deliveries newest event first, with their event (for the administrator's page)."""
    require_administrator(actor)
    runs = HandlerRun.objects.select_related("event").order_by("-event_id", "handler")
    if filters.name:
        runs = runs.filter(event__name=filters.name)
    if filters.status in RunStatus.values:
        runs = runs.filter(status=filters.status)
    if filters.handler:
        runs = runs.filter(handler=filters.handler)
    if filters.day_from:
        runs = runs.filter(event__occurred_at__date__gte=filters.day_from)
    if filters.day_to:
        runs = runs.filter(event__occurred_at__date__lte=filters.day_to)
    return runs


def status_counts(actor: Any) -> dict[str, int]:
    require_administrator(actor)
    counts = dict.fromkeys(RunStatus.values, 0)
    for status in RunStatus.values:
        counts[status] = HandlerRun.objects.filter(status=status).count()
    return counts
