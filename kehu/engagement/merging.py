"""Engagement's part of a customer merge: the merged customer's interactions and call-backs
move to the kept customer (registered in `EngagementConfig.ready()`)."""

from django.utils import timezone

from kehu.accounts.models import User
from kehu.customers.models import Customer
from kehu.engagement.models import FollowUp, FollowUpStatus, Interaction

MOVES = ("engagement.Interaction.customer", "engagement.FollowUp.customer")


def merge_engagement(kept: Customer, merged: Customer, actor: User | None) -> dict[str, int]:
    return {
        "interactions": Interaction.objects.filter(customer=merged).update(customer=kept),
        "follow_ups": move_follow_ups(merged, kept),
    }


def move_follow_ups(source: Customer, target: Customer) -> int:
    """Planned call-backs move with the interactions. One open call-back per source is allowed:
    where both customers have one, the merged customer's is cancelled and the kept plan stands."""
    kept_sources = FollowUp.objects.filter(customer=target, status=FollowUpStatus.OPEN).values(
        "source"
    )
    FollowUp.objects.filter(
        customer=source, status=FollowUpStatus.OPEN, source__in=kept_sources
    ).update(status=FollowUpStatus.CANCELLED, closed_at=timezone.now())
    return FollowUp.objects.filter(customer=source).update(customer=target)
