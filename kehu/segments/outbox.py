"""The events the segments app records, in the transaction of the change: `segment.joined` and
`segment.left` for every customer added to or removed from a segment (a dynamic segment's
refresh, a static list's edit), written in batches: one `record_events` per batch of members."""

from collections.abc import Sequence

from kehu.events.services import NewEvent, record_events


def record_membership_changes(name: str, segment_id: int, customer_ids: Sequence[int]) -> None:
    """`name` is segment.joined or segment.left; `customer_ids` one batch of members."""
    record_events([
        NewEvent(name, {"segment_id": segment_id, "customer_id": customer_id}, customer_id)
        for customer_id in customer_ids
    ])  # fmt: skip
