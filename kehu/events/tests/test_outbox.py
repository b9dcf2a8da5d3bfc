"""The outbox: an event exists iff its transaction committed; deliveries run once, in each
customer's order, are retried with backoff, parked as dead letters and replayed."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from kehu.core.errors import NotAllowed, RuleViolation
from kehu.events.catalogue import EVENT_TYPES, PayloadError
from kehu.events.dispatch import dispatch
from kehu.events.models import Event, HandlerRun, RunStatus
from kehu.events.services import record_event, replay_run
from kehu.events.tests.conftest import effects_of

pytestmark = pytest.mark.django_db


def updated(customer_id: int = 1) -> Event:
    return record_event(
        "customer.updated",
        {"customer_id": customer_id, "fields": ["name"]},
        customer_id=customer_id,
    )


def test_an_event_recorded_in_a_rolled_back_transaction_does_not_exist(recorder):
    with pytest.raises(RuntimeError), transaction.atomic():
        updated()
        raise RuntimeError("the change fails")

    assert Event.objects.count() == 0
    assert HandlerRun.objects.count() == 0
    assert dispatch().done == 0
    assert recorder.calls == []


def test_an_event_committed_reaches_its_handler_on_commit(
    recorder, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        event = updated()

    run = HandlerRun.objects.get(event=event)
    assert (run.handler, run.status, run.attempts) == ("tests.effect", RunStatus.DONE, 1)
    assert effects_of(event) == 1
    assert event.version == EVENT_TYPES["customer.updated"].version
    assert event.payload == {"customer_id": 1, "fields": ["name"]}


def test_a_payload_that_does_not_fit_the_catalogue_writes_nothing():
    with pytest.raises(PayloadError):
        record_event("customer.updated", {"customer_id": "not a number", "fields": []})
    with pytest.raises(PayloadError):
        record_event("customer.updated", {"customer_id": 1, "fields": [], "mobile": "13812345678"})
    with pytest.raises(KeyError):
        record_event("customer.renamed", {"customer_id": 1})

    assert Event.objects.count() == 0


def test_dispatching_twice_runs_the_effect_once(recorder):
    event = updated()

    first, second = dispatch(), dispatch()

    assert (first.done, second.done) == (1, 0)
    assert effects_of(event) == 1
    assert recorder.calls == [("customer.updated", event.pk)]


def test_a_failing_handler_is_retried_with_backoff_then_parked_then_replayed(
    recorder, settings, admin_user
):
    settings.EVENTS_MAX_ATTEMPTS = 3
    settings.EVENTS_RETRY_SECONDS = 30
    event = updated()
    recorder.failures[event.pk] = 3
    run = HandlerRun.objects.get(event=event)
    delays = []
    for _attempt in range(3):
        before = timezone.now()
        dispatch()
        run.refresh_from_db()
        delays.append(run.next_attempt_at - before)
        HandlerRun.objects.filter(pk=run.pk).update(next_attempt_at=timezone.now())

    assert run.status == RunStatus.DEAD
    assert run.attempts == 3
    assert "handler failed on event" in run.last_error
    assert timedelta(seconds=29) < delays[0] <= timedelta(seconds=31)
    assert timedelta(seconds=59) < delays[1] <= timedelta(seconds=61)
    assert effects_of(event) == 0  # each failed attempt's writes were rolled back
    assert dispatch().done == 0  # a dead letter waits for a person

    replay_run(admin_user, run.pk)
    dispatch()

    run.refresh_from_db()
    assert (run.status, run.attempts) == (RunStatus.DONE, 1)
    assert effects_of(event) == 1


def test_a_failure_waits_for_its_time_before_the_next_attempt(recorder):
    event = updated()
    recorder.failures[event.pk] = 1

    dispatch()
    dispatch()

    run = HandlerRun.objects.get(event=event)
    assert (run.status, run.attempts) == (RunStatus.PENDING, 1)
    assert len(recorder.calls) == 1


def test_only_administrators_replay_and_only_dead_letters(recorder, manager, admin_user):
    event = updated()
    run = HandlerRun.objects.get(event=event)
    with pytest.raises(RuleViolation):
        replay_run(admin_user, run.pk)
    HandlerRun.objects.filter(pk=run.pk).update(status=RunStatus.DEAD)
    with pytest.raises(NotAllowed):
        replay_run(manager, run.pk)
    assert HandlerRun.objects.get(pk=run.pk).status == RunStatus.DEAD


def test_a_customers_later_event_waits_for_the_earlier_one(recorder):
    first = updated(customer_id=7)
    second = updated(customer_id=7)
    other = updated(customer_id=8)
    recorder.failures[first.pk] = 1

    dispatch()

    assert recorder.calls == [("customer.updated", first.pk), ("customer.updated", other.pk)]
    assert HandlerRun.objects.get(event=second).status == RunStatus.PENDING

    HandlerRun.objects.filter(event=first).update(next_attempt_at=timezone.now())
    dispatch()

    assert recorder.calls[2:] == [("customer.updated", first.pk), ("customer.updated", second.pk)]
    assert effects_of(first) == effects_of(second) == effects_of(other) == 1


def test_a_dead_letter_does_not_hold_the_customers_later_events_back(recorder, settings):
    settings.EVENTS_MAX_ATTEMPTS = 1
    first = updated(customer_id=7)
    second = updated(customer_id=7)
    recorder.failures[first.pk] = 1

    dispatch()

    assert HandlerRun.objects.get(event=first).status == RunStatus.DEAD
    assert HandlerRun.objects.get(event=second).status == RunStatus.DONE


def test_a_delivery_whose_handler_is_gone_is_retried_then_parked(settings):
    settings.EVENTS_MAX_ATTEMPTS = 1
    event = updated()
    HandlerRun.objects.create(event=event, handler="tests.removed", customer_id=1)

    dispatch()

    run = HandlerRun.objects.get(event=event, handler="tests.removed")
    assert run.status == RunStatus.DEAD
    assert "No handler is registered" in run.last_error


def test_with_the_database_task_backend_the_dispatch_task_commits_with_the_event(settings):
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    with pytest.raises(RuntimeError), transaction.atomic():
        updated()
        raise RuntimeError("the change fails")
    assert DBTaskResult.objects.count() == 0

    with transaction.atomic():
        event = updated()

    task = DBTaskResult.objects.get()
    assert task.task_path == "kehu.events.tasks.dispatch_events_task"
    assert task.args_kwargs["args"] == [[event.pk]]
