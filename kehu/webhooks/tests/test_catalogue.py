"""A subscription offers exactly the events kehu records."""

from kehu.events.catalogue import EVENT_TYPES as RECORDED
from kehu.events.registry import handler_keys_for
from kehu.webhooks.catalogue import EVENT_NAMES


def test_the_offered_events_are_the_recorded_ones():
    assert sorted(EVENT_NAMES) == sorted(RECORDED)


def test_every_recorded_event_reaches_the_webhooks():
    for name in RECORDED:
        assert "webhooks.queue" in handler_keys_for(name)
