"""Reads of call-back tasks (回访), with the customers' permission layer applied.

A follow-up is seen by whoever may see its customer, narrowed by role: a salesperson sees the
ones assigned to them, a store manager those of their team, everyone who sees all customers
sees them all. Closing one needs the same sight (`get_visible_follow_up` answers 404 otherwise).
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehu.accounts.models import User
from kehu.accounts.roles import Scope
from kehu.core import lists
from kehu.core.lists import ListFilters
from kehu.customers.models import Customer
from kehu.customers.queries import visible_customers
from kehu.engagement.models import FollowUp, FollowUpStatus

STATUS_ALL = "all"
DUE_FILTERS = {
    "overdue": gettext_lazy("Overdue"),
    "today": gettext_lazy("Today"),
    "week": gettext_lazy("Within 7 days"),
}
ASSIGNEE_ME = "me"
# Without a sort chosen, open ones come soonest due first, closed ones most recently closed first.
FOLLOW_UP_SORTS = {"due": "due_on", "customer": "customer__name", "created": "created_at"}


def visible_follow_ups(user: User) -> QuerySet[FollowUp]:
    if not user.is_authenticated or not user.is_active:
        return FollowUp.objects.none()
    scope = user.policy.scope
    if scope == Scope.ALL:
        return FollowUp.objects.all()
    follow_ups = FollowUp.objects.filter(customer__in=visible_customers(user))
    if scope == Scope.TEAM and user.team_id is not None:
        return follow_ups.filter(Q(assignee=user) | Q(assignee__team_id=user.team_id))
    return follow_ups.filter(assignee=user)


def get_visible_follow_up(user: User, follow_up_id: int) -> FollowUp:
    try:
        return visible_follow_ups(user).select_related("customer").get(pk=follow_up_id)
    except (FollowUp.DoesNotExist, ValueError, TypeError):
        raise Http404("No follow-up matches the given query.") from None


@dataclass(frozen=True)
class FollowUpFilters(ListFilters):
    """The follow-up list's filters: open ones by default, due any time, anyone's I may see."""

    search: str = lists.search(placeholder=gettext_lazy("Customer name"))
    status: str = lists.choice(
        "status",
        [*FollowUpStatus.choices, (STATUS_ALL, gettext_lazy("Any status"))],
        default=FollowUpStatus.OPEN,
        label=gettext_lazy("Status"),
    )
    due: str = lists.choice(
        "due", DUE_FILTERS, label=gettext_lazy("Due"), empty_label=gettext_lazy("Any time")
    )
    assignee: str = lists.choice(
        "assignee",
        {ASSIGNEE_ME: gettext_lazy("Me")},
        label=gettext_lazy("Assignee"),
        empty_label=gettext_lazy("Everyone I may see"),
    )
    sort: str = lists.sort(FOLLOW_UP_SORTS, default="", both_directions=True)


def search_follow_ups(user: User, filters: FollowUpFilters, today: date) -> QuerySet[FollowUp]:
    """Open ones soonest due first; closed ones most recently closed first."""
    follow_ups = visible_follow_ups(user)
    if filters.search:
        follow_ups = follow_ups.filter(customer__name__icontains=filters.search)
    if filters.status != STATUS_ALL:
        follow_ups = follow_ups.filter(status=filters.status)
    if filters.due == "overdue":
        follow_ups = follow_ups.filter(status=FollowUpStatus.OPEN, due_on__lt=today)
    elif filters.due == "today":
        follow_ups = follow_ups.filter(due_on=today)
    elif filters.due == "week":
        follow_ups = follow_ups.filter(due_on__lte=today + timedelta(days=6))
    if filters.assignee == ASSIGNEE_ME:
        follow_ups = follow_ups.filter(assignee=user)
    order = ("due_on", "pk") if filters.status == FollowUpStatus.OPEN else ("-created_at", "-pk")
    if filters.sort:
        column = FOLLOW_UP_SORTS[filters.sort.removeprefix("-")]
        order = (f"-{column}" if filters.sort.startswith("-") else column, "pk")
    return (
        follow_ups.select_related("customer", "assignee")
        .annotate(is_overdue=overdue_on(today))
        .order_by(*order)
    )


def follow_up_export_headers() -> list[str]:
    return [
        _("Due on"),
        _("Customer"),
        _("Assignee"),
        _("Reason"),
        _("Source"),
        _("Status"),
        _("Closed on"),
    ]


def follow_up_export_rows(user: User, filters: FollowUpFilters, today: date) -> Iterator[list[Any]]:
    """The call-backs of the list as filtered, one row each (no contact details)."""
    for follow_up in search_follow_ups(user, filters, today).iterator(chunk_size=500):
        yield [
            follow_up.due_on,
            follow_up.customer.name,
            str(follow_up.assignee),
            follow_up.reason,
            follow_up.get_source_display(),
            follow_up.get_status_display(),
            timezone.localdate(follow_up.closed_at) if follow_up.closed_at else "",
        ]


def overdue_on(today: date) -> ExpressionWrapper:
    """True for an open call-back whose due date has passed."""
    return ExpressionWrapper(
        Q(status=FollowUpStatus.OPEN, due_on__lt=today), output_field=BooleanField()
    )


def open_follow_ups_of(customer: Customer, today: date) -> list[FollowUp]:
    """The customer's open call-backs, for the customer page (who may see the customer may see
    who is calling them back)."""
    return list(
        FollowUp.objects.filter(customer=customer, status=FollowUpStatus.OPEN)
        .select_related("assignee")
        .annotate(is_overdue=overdue_on(today))
        .order_by("due_on", "pk")
    )
