"""What loyalty does when commerce records an order or a refund: earn the order's points at
once (however the order came in), pay the customer's pending referral, reverse the points of a
refund. Each is keyed in the ledger (`order:<id>:earn`, `refund:<id>:reverse`, one reward per
referral), so a delivery run twice changes nothing twice."""

from kehu.commerce.models import Order, Refund
from kehu.events.models import Event
from kehu.events.registry import handles
from kehu.loyalty.points.refunds import reverse_points_for_refund
from kehu.loyalty.points.services import earn_for_order
from kehu.loyalty.referrals.services import reward_referral_for_order


def posted_order(event: Event) -> Order | None:
    """The order as it is now (a merge may have moved it to another customer since)."""
    return Order.objects.filter(pk=event.payload["order_id"]).first()


@handles("order.posted", key="loyalty.earn_points")
def earn_points_for_posted_order(event: Event) -> None:
    order = posted_order(event)
    if order is not None:
        earn_for_order(order)


@handles("order.posted", key="loyalty.reward_referral")
def reward_referral_for_posted_order(event: Event) -> None:
    order = posted_order(event)
    if order is not None:
        reward_referral_for_order(order)


@handles("order.refunded", key="loyalty.reverse_refund_points")
def reverse_points_for_refunded_order(event: Event) -> None:
    refund = Refund.objects.select_related("order").filter(pk=event.payload["refund_id"]).first()
    if refund is not None:
        reverse_points_for_refund(refund)
