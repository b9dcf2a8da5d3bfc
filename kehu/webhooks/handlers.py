"""How domain events reach the webhooks: one handler for every event (registered in
`WebhooksConfig.ready()`)."""

from kehu.events.registry import handles
from kehu.webhooks.services import Event, queue_deliveries


def queue_event(event: Event) -> None:
    """Handler for every domain event: a pending delivery per subscription that wants it."""
    queue_deliveries(event)


def register_handlers() -> None:
    handles("*", key="webhooks.queue")(queue_event)
