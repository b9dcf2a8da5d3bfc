"""Writing to the outbox, and the administrator's replay of a dead letter.

`record_event` writes in the caller's transaction, so an event exists if and only if the change
it reports committed; dispatch is enqueued on commit.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core.errors import NotAllowed, RuleViolation
from kehu.events.bulk import insert_events
from kehu.events.catalogue import validate_payload
from kehu.events.models import Event, HandlerRun, RunStatus
from kehu.events.registry import handler_keys_for


class Actor(Protocol):
    """A signed-in user (kehu.accounts.User): events sit below accounts, so only its shape."""

    @property
    def policy(self) -> Any: ...


@dataclass(frozen=True)
class NewEvent:
    name: str
    payload: dict[str, Any]
    customer_id: int | None = None


def record_event(name: str, payload: dict[str, Any], *, customer_id: int | None = None) -> Event:
    """Write one event and a pending delivery per handler; dispatch once the caller commits."""
    event_type, checked = validate_payload(name, payload)
    now = timezone.now()
    with transaction.atomic(savepoint=False):  # in the caller's transaction, no savepoint
        written = insert_events(
            [(name, event_type.version, checked, customer_id)], {name: handler_keys_for(name)}, now
        )[0]
    arrange_dispatch([written.pk])
    return Event(
        pk=written.pk,
        event_id=written.event_id,
        name=name,
        version=event_type.version,
        payload=checked,
        customer_id=customer_id,
        occurred_at=now,
    )


def record_events(new_events: Sequence[NewEvent]) -> list[int]:
    """Write many events at once (an import's chunk of orders) in the caller's transaction;
    answer their ids. Dispatch is enqueued once the caller commits."""
    if not new_events:
        return []
    rows = []
    for new in new_events:
        event_type, payload = validate_payload(new.name, new.payload)
        rows.append((new.name, event_type.version, payload, new.customer_id))
    keys = {name: handler_keys_for(name) for name in {new.name for new in new_events}}
    with transaction.atomic(savepoint=False):
        event_ids = [written.pk for written in insert_events(rows, keys, timezone.now())]
    arrange_dispatch(event_ids)
    return event_ids


def arrange_dispatch(event_ids: list[int]) -> None:
    """Have the events dispatched once the caller's transaction commits. A task backend that
    keeps its queue in this database gets the task in the same transaction (it commits with the
    events, and costs no commit of its own); any other gets it on commit."""
    if tasks_live_in_the_database():
        enqueue_dispatch(event_ids)
    else:
        transaction.on_commit(lambda: enqueue_dispatch(event_ids))


def tasks_live_in_the_database() -> bool:
    from django.tasks import task_backends

    return type(task_backends["default"]).__module__.startswith("django_tasks_db")


def enqueue_dispatch(event_ids: list[int]) -> None:
    from kehu.events.tasks import dispatch_events_task

    dispatch_events_task.enqueue(event_ids)


def replay_run(actor: Actor, run_id: int) -> HandlerRun:
    """Put a dead letter back in the queue: its handler runs it again at once."""
    if not actor.policy.can_manage_settings:
        raise NotAllowed(_("Only administrators may replay events."), code="not_allowed")
    with transaction.atomic():
        run = HandlerRun.objects.select_for_update().get(pk=run_id)
        if run.status != RunStatus.DEAD:
            raise RuleViolation(
                _("Only a dead letter can be replayed."), code="not_dead", details={}
            )
        run.status = RunStatus.PENDING
        run.attempts = 0
        run.next_attempt_at = timezone.now()
        run.finished_at = None
        run.save(update_fields=["status", "attempts", "next_attempt_at", "finished_at"])
        event_id = run.event_id
        transaction.on_commit(lambda: enqueue_dispatch([event_id]))
    return run
