"""Reads of members for the pages, the API and exports: the list with its filters, one member's
tier progress and points statement. Every read starts at the permission layer."""

import datetime
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import F, Q, QuerySet, Sum, Window
from django.utils import timezone
from django.utils.translation import gettext_lazy, pgettext_lazy

from kehu.accounts.models import User
from kehu.core import lists
from kehu.core.lists import ListFilters
from kehu.customers.queries import (
    contact_search_q,
    mask_contacts,
    normalised_mobile_term,
    visible_customers,
)
from kehu.loyalty.members.tiers import ordered_tiers, qualifying_values
from kehu.loyalty.models import LoyaltySettings, Membership, MembershipStatus, PointsEntry, Tier

MEMBER_SORTS = {
    "card": "card_number",
    "-card": "-card_number",
    "name": "customer__name",
    "-name": "-customer__name",
    "balance": "points_balance",
    "-balance": "-points_balance",
    "tier": "tier__rank",
    "-tier": "-tier__rank",
    "enrolled": "enrolled_on",
    "-enrolled": "-enrolled_on",
}
DEFAULT_SORT = "-enrolled"


def visible_members(user: User) -> QuerySet[Membership]:
    """Memberships of the customers the user may see."""
    return Membership.objects.filter(customer__in=visible_customers(user)).select_related(
        "customer", "tier"
    )


@dataclass(frozen=True)
class MemberFilters(ListFilters):
    search: str = lists.search(placeholder=gettext_lazy("Name, card number or mobile"))
    tier_id: int | None = lists.record_id("tier", label=pgettext_lazy("loyalty", "Tier"))
    status: str = lists.text(
        "status", max_length=10, label=gettext_lazy("Status"), options=MembershipStatus.choices
    )
    sort: str = lists.sort(MEMBER_SORTS, default=DEFAULT_SORT)


def search_members(user: User, filters: MemberFilters) -> QuerySet[Membership]:
    """The member list: by name, card number or mobile; tier; status; sorted."""
    members = visible_members(user)
    if filters.search:
        term = filters.search
        members = members.filter(
            Q(customer__name__icontains=term)
            | Q(card_number__startswith=term)
            | contact_search_q(user, term, prefix="customer__")
        )
    if filters.tier_id is not None:
        members = members.filter(tier_id=filters.tier_id)
    if filters.status:
        members = members.filter(status=filters.status)
    return members.order_by(MEMBER_SORTS[filters.sort], "-pk")


def counter_matches(user: User, term: str) -> list[Membership]:
    """At the counter: the members whose card number or mobile is exactly `term`."""
    term = term.strip()
    if not term:
        return []
    mobile = normalised_mobile_term(term) or term
    members = list(
        visible_members(user).filter(Q(card_number=term) | Q(customer__mobile=mobile))[:10]
    )
    mask_contacts(user, [member.customer for member in members])
    return members


# --- one member -------------------------------------------------------------------------------


@dataclass(frozen=True)
class TierProgress:
    """Where a member stands: this tier, the next, the qualifying value and the way there."""

    tier: Tier
    next_tier: Tier | None
    basis: str
    value: Decimal
    percent: int  # 0–100 of the way from this tier's threshold to the next one's

    @property
    def still_needed(self) -> Decimal | None:
        if self.next_tier is None:
            return None
        return max(self.next_tier.threshold - self.value, Decimal(0))


def tier_progress(membership: Membership, today: datetime.date | None = None) -> TierProgress:
    today = today or timezone.localdate()
    basis = LoyaltySettings.current().tier_basis
    customers = {membership.pk: membership.customer_id}
    value = qualifying_values(customers, basis, today).get(membership.pk, Decimal(0))
    tiers = ordered_tiers()
    higher = [tier for tier in tiers if tier.rank > membership.tier.rank]
    next_tier = higher[0] if higher else None
    percent = 100
    if next_tier is not None:
        start = membership.tier.threshold
        span = next_tier.threshold - start
        share = (value - start) * 100 / span if span > 0 else Decimal(100)
        percent = int(max(Decimal(0), min(Decimal(100), share)))
    return TierProgress(membership.tier, next_tier, basis, value, percent)


def statement(membership: Membership) -> QuerySet[PointsEntry]:
    """The member's entries, newest first, each with the balance after it."""
    running = Window(Sum("points"), order_by=[F("created_at").asc(), F("pk").asc()])
    return (
        PointsEntry.objects.filter(membership=membership)
        .select_related("order", "created_by", "approved_by")
        .annotate(balance_after=running)
        .order_by("-created_at", "-pk")
    )


# --- exports ----------------------------------------------------------------------------------


def member_export_headers() -> list[str]:
    from django.utils.translation import gettext as _
    from django.utils.translation import pgettext

    return [
        _("Card number"),
        _("Name"),
        _("Mobile"),
        pgettext("loyalty", "Tier"),
        _("Points balance"),
        _("Status"),
        _("Enrolled on"),
        _("Enrolment channel"),
    ]


def member_export_rows(user: User, filters: MemberFilters) -> Iterator[list[Any]]:
    """The member list as rows, contacts masked as on the page, read in chunks."""
    members = search_members(user, filters)
    for start in range(0, members.count(), 2000):
        chunk = list(members[start : start + 2000])
        mask_contacts(user, [member.customer for member in chunk])
        for member in chunk:
            yield [
                member.card_number,
                member.customer.name,
                member.customer.display_mobile,
                member.tier.name,
                member.points_balance,
                member.get_status_display(),
                member.enrolled_on,
                member.get_channel_display(),
            ]


def statement_export_headers() -> list[str]:
    from django.utils.translation import gettext as _

    return [
        _("Date"),
        _("Kind"),
        _("Points"),
        _("Balance after"),
        _("Source"),
        _("Reason"),
        _("Order"),
        _("Expires on"),
        _("By"),
        _("Approved by"),
    ]


def statement_export_rows(membership: Membership) -> Iterator[list[Any]]:
    for entry in statement(membership).iterator(chunk_size=2000):
        yield [
            timezone.localtime(entry.created_at).strftime("%Y-%m-%d %H:%M"),
            entry.get_kind_display(),
            entry.points,
            entry.balance_after,  # type: ignore[attr-defined]
            entry.get_source_display(),
            entry.reason,
            entry.order.external_id if entry.order else "",
            entry.expires_on or "",
            str(entry.created_by) if entry.created_by else "",
            str(entry.approved_by) if entry.approved_by else "",
        ]
