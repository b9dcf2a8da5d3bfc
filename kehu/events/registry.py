"""Who handles which event: each app registers plain functions `handler(event) -> None` from its
`event_handlers.py`, imported in its `AppConfig.ready()`.

    @handles("order.posted", key="loyalty.earn_for_order")
    def earn_for_order(event: Event) -> None: ...

The key names the handler in the outbox (`HandlerRun.handler`): keep it stable, since a pending
delivery finds its handler by it. "*" subscribes to every event.
"""

from collections.abc import Callable
from typing import TYPE_CHECKING

from kehu.events.catalogue import EVENT_TYPES

if TYPE_CHECKING:
    from kehu.events.models import Event

Handler = Callable[["Event"], None]

_handlers: dict[str, Handler] = {}
_subscriptions: dict[str, list[str]] = {}


def handles(event_name: str, *, key: str) -> Callable[[Handler], Handler]:
    if event_name != "*" and event_name not in EVENT_TYPES:
        raise KeyError(f"Unknown event {event_name!r}: add it to kehu/events/catalogue.py.")

    def register(handler: Handler) -> Handler:
        existing = _handlers.get(key)
        if existing is not None and existing is not handler:
            same_function = (existing.__module__, existing.__qualname__) == (
                handler.__module__,
                handler.__qualname__,
            )
            if not same_function:  # a module imported twice registers the same function again
                raise ValueError(f"Two event handlers share the key {key!r}.")
        _handlers[key] = handler
        keys = _subscriptions.setdefault(event_name, [])
        if key not in keys:
            keys.append(key)
        return handler

    return register


def handler_keys_for(event_name: str) -> list[str]:
    """The keys of the handlers of `event_name`, those of "*" included, each once."""
    keys = [*_subscriptions.get(event_name, ()), *_subscriptions.get("*", ())]
    return list(dict.fromkeys(keys))


def handler_for(key: str) -> Handler | None:
    return _handlers.get(key)


def unregister(key: str) -> None:
    """Remove a handler (tests register handlers of their own)."""
    _handlers.pop(key, None)
    for keys in _subscriptions.values():
        if key in keys:
            keys.remove(key)
