"""The catalogue of domain events: each name, its version and the shape of its payload.

A payload carries ids and the few values a subscriber needs to act without reading kehu back
(amounts as decimal strings, codes, times as ISO 8601), never contact details or other personal
data: it is kept in the outbox, shown to administrators and sent to webhooks.
"""

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic import ValidationError as PayloadError

__all__ = ["EVENT_TYPES", "EventType", "PayloadError", "validate_payload"]


class Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OrderPosted(Payload):
    order_id: int
    external_id: str
    channel_code: str
    store_code: str = ""
    customer_id: int
    total_amount: str
    status: str
    ordered_at: str
    imported: bool = False


class OrderRefunded(Payload):
    refund_id: int
    order_id: int
    external_id: str
    customer_id: int
    amount: str
    is_return: bool
    refunded_at: str


class CustomerCreated(Payload):
    customer_id: int
    source_channel: str = ""


class CustomerUpdated(Payload):
    customer_id: int
    fields: list[str]


class CustomerMerged(Payload):
    kept_customer_id: int
    merged_customer_id: int


class MemberEnrolled(Payload):
    membership_id: int
    customer_id: int
    tier: str
    store_code: str = ""


class MemberTierChanged(Payload):
    membership_id: int
    customer_id: int
    from_tier: str
    to_tier: str


class PointsChanged(Payload):
    membership_id: int
    customer_id: int
    entry_id: int
    points: int
    balance: int
    kind: str


class CouponIssued(Payload):
    coupon_id: int
    customer_id: int
    template_id: int


class CouponRedeemed(Payload):
    coupon_id: int
    customer_id: int
    order_id: int | None = None


class ChurnWarningRaised(Payload):
    customer_id: int
    level: str
    risk: int


class SegmentMembership(Payload):
    segment_id: int
    customer_id: int


@dataclass(frozen=True)
class EventType:
    name: str
    version: int
    description: str
    payload: type[Payload]

    def validate(self, payload: dict[str, Any]) -> dict[str, Any]:
        """The payload in its stored form; raises PayloadError when it does not fit."""
        return self.payload.model_validate(payload).model_dump(mode="json")


EVENT_TYPES: dict[str, EventType] = {
    event.name: event
    for event in (
        EventType("order.posted", 1, "An order was stored (typed, posted to the API or imported).", OrderPosted),  # noqa: E501
        EventType("order.refunded", 1, "Part or all of an order was refunded.", OrderRefunded),
        EventType("customer.created", 1, "A customer was added to the archive.", CustomerCreated),
        EventType("customer.updated", 1, "A customer's archive fields changed.", CustomerUpdated),
        EventType("customer.merged", 1, "A duplicate customer was merged into another.", CustomerMerged),  # noqa: E501
        EventType("member.enrolled", 1, "A customer became a member.", MemberEnrolled),
        EventType("member.tier_changed", 1, "A member moved to another tier.", MemberTierChanged),
        EventType("points.changed", 1, "A member's points balance changed.", PointsChanged),
        EventType("coupon.issued", 1, "A coupon was issued to a customer.", CouponIssued),
        EventType("coupon.redeemed", 1, "A coupon was used.", CouponRedeemed),
        EventType("churn_warning.raised", 1, "A customer's churn warning level rose.", ChurnWarningRaised),  # noqa: E501
        EventType("segment.joined", 1, "A customer entered a saved segment.", SegmentMembership),
        EventType("segment.left", 1, "A customer left a saved segment.", SegmentMembership),
    )
}  # fmt: skip


def validate_payload(name: str, payload: dict[str, Any]) -> tuple[EventType, dict[str, Any]]:
    """The event type and the checked payload; KeyError for a name not in the catalogue."""
    try:
        event_type = EVENT_TYPES[name]
    except KeyError:
        raise KeyError(f"Unknown event {name!r}: add it to kehu/events/catalogue.py.") from None
    return event_type, event_type.validate(payload)
