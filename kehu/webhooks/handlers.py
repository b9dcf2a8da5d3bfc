"""How domain events reach the webhooks: one handler for every event, registered with the
event dispatcher when the events app is installed."""

import importlib.util

from kehu.webhooks.services import Event, queue_deliveries


def queue_event(event: Event) -> None:
    """Handler for every domain event: a pending delivery per subscription that wants it."""
    queue_deliveries(event)


def register_handlers() -> None:
    if importlib.util.find_spec("kehu.events") is None:  # not in this tree yet
        return
    from kehu.events.registry import handles

    handles("*", key="webhooks.queue")(queue_event)
