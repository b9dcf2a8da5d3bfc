"""Reads of saved segments, always through the customer permission layer.

Everyone signed in sees the list of segments (a rule is not secret), but the members and every
count are those of `visible_customers(user)`: a salesperson's "members" are the members they may
see, so no page, export or API call reveals customers outside their scope.
"""

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, F, IntegerField, Q, QuerySet, Value
from django.http import Http404
from django.utils.translation import gettext_lazy

from kehu.accounts.models import User
from kehu.accounts.roles import Role, Scope
from kehu.core import lists
from kehu.core.lists import ListFilters
from kehu.customers.models import Customer
from kehu.customers.queries import visible_customers
from kehu.segments.models import Segment, SegmentKind, SegmentMember


def visible_segments(user: User) -> QuerySet[Segment]:
    if not user.is_authenticated or not user.is_active:
        return Segment.objects.none()
    return Segment.objects.select_related("created_by")


def get_visible_segment(user: User, segment_id: int) -> Segment:
    try:
        return visible_segments(user).get(pk=segment_id)
    except (Segment.DoesNotExist, ValueError, TypeError):
        raise Http404("No segment matches the given query.") from None


LIST_SORTS = {
    "name": "name",
    "-name": "-name",
    "members": "visible_member_count",
    "-members": "-visible_member_count",
    "refreshed": "refreshed_at",
    "-refreshed": "-refreshed_at",
}


@dataclass(frozen=True)
class SegmentFilters(ListFilters):
    search: str = lists.search(placeholder=gettext_lazy("Search by name or description"))
    kind: str = lists.choice("kind", SegmentKind.choices, label=gettext_lazy("Kind"))
    sort: str = lists.sort(LIST_SORTS, default="name")


def search_segments(user: User, filters: SegmentFilters) -> QuerySet[Segment]:
    """Saved segments by name or description and kind, sorted, with their visible member counts."""
    segments = segments_with_counts(user)
    if filters.search:
        term = filters.search
        segments = segments.filter(Q(name__icontains=term) | Q(description__icontains=term))
    if filters.kind:
        segments = segments.filter(kind=filters.kind)
    return segments.order_by(LIST_SORTS[filters.sort], "pk")


def segments_with_counts(user: User) -> QuerySet[Segment]:
    """Segments with `visible_member_count`: how many of their members the user may see."""
    segments = visible_segments(user)
    if not user.is_authenticated or not user.is_active:
        return segments.annotate(visible_member_count=Value(0, output_field=IntegerField()))
    if user.policy.scope == Scope.ALL:
        return segments.annotate(visible_member_count=F("member_count"))
    visible_ids = visible_customers(user).values("pk")
    return segments.annotate(
        visible_member_count=Count("members", filter=Q(members__customer__in=visible_ids))
    )


def member_ids(segment: Segment) -> QuerySet[SegmentMember, Any]:
    return SegmentMember.objects.filter(segment=segment).values("customer_id")


def segment_members(user: User, segment: Segment) -> QuerySet[Customer]:
    """The members the user may see, biggest spenders first (then by id, so pages are stable)."""
    return (
        visible_customers(user)
        .filter(pk__in=member_ids(segment))
        .select_related("owner", "home_store")
        .order_by(F("metrics__monetary").desc(nulls_last=True), "pk")
    )


def segment_member_count(user: User, segment: Segment) -> int:
    return visible_customers(user).filter(pk__in=member_ids(segment)).count()


def created_it(user: User, segment: Segment) -> bool:
    """The record rule of `segment.edit` (editing, deleting and changing a list's members):
    its creator or an administrator. Ask `may(user, "segment.edit", segment)`."""
    return user.role == Role.ADMIN or segment.created_by_id == user.pk
