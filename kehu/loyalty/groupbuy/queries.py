"""Reads of group deals, through the permission layer."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, QuerySet
from django.http import Http404

from kehu.accounts.models import User
from kehu.customers.queries import visible_customers
from kehu.loyalty.models import (
    GroupDeal,
    GroupDealStatus,
    GroupParticipant,
    GroupRole,
)
from kehu.loyalty.referrals.queries import visible_names


def visible_group_deals(user: User) -> QuerySet[GroupDeal]:
    return GroupDeal.objects.filter(leader__in=visible_customers(user))


def get_visible_group_deal(user: User, deal_id: int) -> GroupDeal:
    deal = visible_group_deals(user).select_related("leader", "product", "store")
    try:
        return deal.get(pk=deal_id)
    except (GroupDeal.DoesNotExist, ValueError, TypeError):
        raise Http404("No group deal matches the given query.") from None


def group_deals_with_sizes(user: User, status: str = "") -> QuerySet[GroupDeal]:
    """The deals the user may see with their participant count, newest first."""
    deals = visible_group_deals(user)
    if status in GroupDealStatus.values:
        deals = deals.filter(status=status)
    return (
        deals.select_related("leader", "product", "store")
        .annotate(participant_count=Count("participants"))
        .order_by("-created_at", "-pk")
    )


@dataclass(frozen=True)
class ParticipantRow:
    customer_id: int
    name: str
    is_visible: bool
    role: str
    role_label: str
    order_id: int | None
    order_total: Any
    joined_at: datetime.datetime


def group_deal_participants(user: User, deal: GroupDeal) -> list[ParticipantRow]:
    """Participants, the leader first, then by joining time; names only of visible ones."""
    participants = list(GroupParticipant.objects.filter(deal=deal).select_related("order"))
    participants.sort(key=lambda item: (item.role != GroupRole.LEADER, item.joined_at, item.pk))
    names = visible_names(user, {item.customer_id for item in participants})
    return [
        ParticipantRow(
            customer_id=item.customer_id,
            name=names.get(item.customer_id, ""),
            is_visible=item.customer_id in names,
            role=item.role,
            role_label=item.get_role_display(),
            order_id=item.order_id,
            order_total=item.order.total_amount if item.order else None,
            joined_at=item.joined_at,
        )
        for item in participants
    ]
