"""The segments' part of a customer merge (registered in `SegmentsConfig.ready()`).

Places on static lists and the lifecycle history pass to the kept customer; the metrics are
recomputed for the kept customer once the merge is committed.
"""

from django.db import transaction

from kehu.accounts.models import User
from kehu.customers.models import Customer
from kehu.segments.models import (
    LifecycleChange,
    Segment,
    SegmentKind,
    SegmentMember,
)
from kehu.segments.services import update_count
from kehu.segments.tasks import refresh_customer_metrics_task

SEGMENT_MOVES = ("segments.SegmentMember.customer", "segments.LifecycleChange.customer")
SEGMENT_DROPS = {
    "segments.CustomerMetrics.customer": (
        "recomputed for the kept customer from its orders once the merge is committed"
    ),
}


def merge_segments(kept: Customer, merged: Customer, actor: User | None) -> dict[str, int]:
    # The merged customer's history is part of the kept customer's story from now on.
    lifecycle_changes = LifecycleChange.objects.filter(customer=merged).update(customer=kept)
    static_segments = move_static_segment_memberships(merged, kept)
    transaction.on_commit(lambda: refresh_customer_metrics_task.enqueue(kept.pk))
    return {"lifecycle_changes": lifecycle_changes, "static_segments": static_segments}


def move_static_segment_memberships(source: Customer, target: Customer) -> int:
    """The merged customer's places on static lists pass to the kept customer (where the kept
    one is not on the list already, the place goes and the list's count drops); dynamic
    segments find the kept customer at their next refresh."""
    static_lists = list(Segment.objects.filter(kind=SegmentKind.STATIC, members__customer=source))
    already = SegmentMember.objects.filter(customer=target).values("segment_id")
    moved = (
        SegmentMember.objects.filter(customer=source, segment__kind=SegmentKind.STATIC)
        .exclude(segment_id__in=already)
        .update(customer=target)
    )
    SegmentMember.objects.filter(customer=source, segment__in=static_lists).delete()
    for segment in static_lists:
        update_count(segment)
    return moved
