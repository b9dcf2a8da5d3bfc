"""Handlers of the tests' own: each run of `effect` adds a Group row, so the rows count the
effects that committed, and `calls` lists the runs (committed or not) in order."""

import uuid

import pytest
from django.contrib.auth.models import Group

from kehu.events import registry
from kehu.events.models import Event
from kehu.events.registry import handles


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, int]] = []
        self.failures: dict[int, int] = {}  # event pk → failures still to raise

    def effect(self, event: Event) -> None:
        self.calls.append((event.name, event.pk))
        Group.objects.create(name=f"effect:{event.event_id}:{uuid.uuid4().hex[:8]}")
        if self.failures.get(event.pk, 0) > 0:
            self.failures[event.pk] -= 1
            raise RuntimeError(f"handler failed on event {event.pk}")


def effects_of(event: Event) -> int:
    return Group.objects.filter(name__startswith=f"effect:{event.event_id}:").count()


@pytest.fixture
def recorder(monkeypatch):
    """A handler `tests.effect` of customer.updated, registered for the test only and as the
    only handler (the apps' own, such as the webhooks' handler of every event, stand aside)."""
    monkeypatch.setattr(registry, "_handlers", {})
    monkeypatch.setattr(registry, "_subscriptions", {})
    recorder = Recorder()
    handles("customer.updated", key="tests.effect")(recorder.effect)
    return recorder
