"""Dispatchers racing for real: threads, each with its own connection to PostgreSQL, dispatch
the same outbox at once. Every delivery runs once (`select_for_update(skip_locked)`), each
customer's events still reach the handler in order, and the work is shared.

Run with `scripts/with-postgres.sh .venv/bin/pytest kehu/events`. SQLite's in-memory test
database cannot take parallel writers; there `test_crash.py` races two dispatcher processes on a
file database instead.
"""

import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from kehu.events import services
from kehu.events.dispatch import DispatchReport, dispatch
from kehu.events.models import HandlerRun, RunStatus
from kehu.events.services import record_event
from kehu.events.tests.conftest import effects_of

DISPATCHERS = 4
CUSTOMERS = 200  # candidates at a time (one per customer): several chunks of 50
EVENTS_PER_CUSTOMER = 3

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="threads need a server database; see the docstring"
)


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_dispatchers_in_parallel_run_each_delivery_once_in_each_customers_order(
    recorder, monkeypatch
):
    monkeypatch.setattr(services, "enqueue_dispatch", lambda event_ids: None)
    events = [
        record_event(
            "customer.updated", {"customer_id": customer, "fields": []}, customer_id=customer
        )
        for _round in range(EVENTS_PER_CUSTOMER)
        for customer in range(1, CUSTOMERS + 1)
    ]
    original_effect = recorder.effect

    def slow_effect(event):
        original_effect(event)
        time.sleep(0.002)  # long enough for the others to try the same row

    monkeypatch.setattr(recorder, "effect", slow_effect)
    from kehu.events.registry import handles, unregister

    unregister("tests.effect")
    handles("customer.updated", key="tests.effect")(slow_effect)
    barrier = threading.Barrier(DISPATCHERS, timeout=60)

    def run(_index: int) -> DispatchReport:
        try:
            barrier.wait()
            return dispatch()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=DISPATCHERS) as pool:
        reports = list(pool.map(run, range(DISPATCHERS)))

    assert sum(report.done for report in reports) == len(events)
    assert sum(1 for report in reports if report.done) > 1  # the work was shared
    assert all(effects_of(event) == 1 for event in events)
    assert set(HandlerRun.objects.values_list("status", "attempts")) == {(RunStatus.DONE, 1)}
    order_seen: dict[int, list[int]] = defaultdict(list)
    customers = {event.pk: event.customer_id for event in events}
    for _name, event_pk in recorder.calls:
        order_seen[customers[event_pk]].append(event_pk)
    assert all(seen == sorted(seen) for seen in order_seen.values())
    assert len(recorder.calls) == len(events)
