"""The events commerce records: `order.posted` for every order however it came in (typed, the
API, an import) and `order.refunded` for every refund, in the transaction that stores them."""

from datetime import UTC, datetime
from decimal import Decimal

from kehu.commerce.models import Order, Refund
from kehu.events.services import NewEvent, record_event, record_events


def order_posted(
    *,
    order_id: int,
    external_id: str,
    channel_code: str,
    store_code: str,
    customer_id: int,
    total_amount: Decimal,
    status: str,
    ordered_at: datetime,
    imported: bool,
) -> NewEvent:
    payload = {
        "order_id": order_id,
        "external_id": external_id,
        "channel_code": channel_code,
        "store_code": store_code,
        "customer_id": customer_id,
        "total_amount": str(total_amount),
        "status": str(status),
        "ordered_at": ordered_at.astimezone(UTC).isoformat(),
        "imported": imported,
    }
    return NewEvent("order.posted", payload, customer_id)


def record_order_posted(order: Order, channel_code: str, store_code: str) -> None:
    record_events([
        order_posted(
            order_id=order.pk, external_id=order.external_id, channel_code=channel_code,
            store_code=store_code, customer_id=order.customer_id,
            total_amount=order.total_amount, status=order.status, ordered_at=order.ordered_at,
            imported=False,
        )
    ])  # fmt: skip


def record_order_refunded(order: Order, refund: Refund) -> None:
    payload = {
        "refund_id": refund.pk,
        "order_id": order.pk,
        "external_id": order.external_id,
        "customer_id": order.customer_id,
        "amount": str(refund.amount),
        "is_return": refund.is_return,
        "refunded_at": refund.refunded_at.astimezone(UTC).isoformat(),
    }
    record_event("order.refunded", payload, customer_id=order.customer_id)
