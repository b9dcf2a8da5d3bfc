"""What segmentation does when an order or a refund is recorded: refresh that customer's
metrics and scores at once. Imported orders wait for the nightly refresh, as before: an import
brings thousands of orders, and one refresh of everyone is cheaper than one per order."""

from kehu.events.models import Event
from kehu.events.registry import handles
from kehu.segments.refresh import refresh_customer_metrics


@handles("order.posted", key="segments.refresh_metrics")
def refresh_metrics_after_order(event: Event) -> None:
    if not event.payload.get("imported") and event.customer_id is not None:
        refresh_customer_metrics(event.customer_id)


@handles("order.refunded", key="segments.refresh_metrics_after_refund")
def refresh_metrics_after_refund(event: Event) -> None:
    if event.customer_id is not None:
        refresh_customer_metrics(event.customer_id)
