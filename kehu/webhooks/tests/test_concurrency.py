"""Workers sending at the same time: each due delivery is claimed by exactly one of them, so the
receiver gets every event once. Threads, each with its own database connection, released
together by a barrier. On PostgreSQL (`scripts/with-postgres.sh .venv/bin/pytest <this file>`)
they share the test database; the SQLite test database (an in-memory shared cache) fails table
locks at once instead of waiting, so there the same race runs against a file database in a child
process, as the production SQLite set-up (WAL, IMMEDIATE transactions) does."""

import json
import os
import subprocess
import sys
import tempfile
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.db import connection

from kehu.webhooks import services
from kehu.webhooks.models import Delivery, WebhookDeliveryStatus
from kehu.webhooks.tests.data import FakeEvent, subscribe
from kehu.webhooks.tests.receiver import Receiver

WORKERS = 8
EVENTS = 40
ROOT = Path(__file__).resolve().parents[3]
CHILD_PROGRAM = (
    "import json, django; django.setup(); "
    "from kehu.webhooks.tests.test_concurrency import child_race; "
    "print(json.dumps(child_race()))"
)


def race(admin_user, receiver: Receiver) -> dict[str, object]:
    """Queue EVENTS deliveries while no worker runs, then let WORKERS workers send at once."""
    original = services.enqueue_sending
    services.enqueue_sending = lambda: None  # the immediate backend would send on commit
    try:
        subscribe(admin_user, receiver.url)
        for _index in range(EVENTS):
            services.queue_deliveries(FakeEvent())
    finally:
        services.enqueue_sending = original
    pending = Delivery.objects.filter(status=WebhookDeliveryStatus.PENDING).count()
    barrier = threading.Barrier(WORKERS, timeout=60)

    def work(_index: int) -> int:
        try:
            barrier.wait()
            return services.send_due_deliveries()
        finally:
            connection.close()

    with ThreadPoolExecutor(WORKERS) as pool:
        sent = list(pool.map(work, range(WORKERS)))
    ids = Counter(request.headers["webhook-id"] for request in receiver.received)
    return {
        "pending": pending,
        "sent": sum(sent),
        "distinct_ids": len(ids),
        "times_each": sorted(set(ids.values())),
        "outcomes": sorted(
            {f"{status}:{attempts}" for status, attempts in Delivery.objects.values_list(
                "status", "attempts"
            )}
        ),
    }  # fmt: skip


def check(result: dict[str, object]) -> None:
    assert result["pending"] == EVENTS
    assert result["sent"] == EVENTS
    assert result["distinct_ids"] == EVENTS and result["times_each"] == [1]
    assert result["outcomes"] == ["succeeded:1"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the SQLite test below runs it")
@pytest.mark.django_db(transaction=True)
def test_parallel_workers_send_each_delivery_once(admin_user, receiver):
    check(race(admin_user, receiver))


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the PostgreSQL test above runs it")
def test_parallel_workers_send_each_delivery_once_on_an_sqlite_file():
    with tempfile.TemporaryDirectory(prefix="kehu-webhook-race-") as var_dir:
        environment = {
            **os.environ,
            "KEHU_VAR_DIR": var_dir,
            "DJANGO_SETTINGS_MODULE": "kehu.settings",
        }
        environment.pop("DATABASE_URL", None)
        completed = subprocess.run(
            [sys.executable, "-c", CHILD_PROGRAM],
            env=environment, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
    assert completed.returncode == 0, completed.stderr[-3000:]
    check(json.loads(completed.stdout.strip().splitlines()[-1]))


def child_race() -> dict[str, object]:
    """In the child: a migrated file database, an administrator, a receiver, then the race."""
    from django.conf import settings
    from django.core.management import call_command

    from kehu.accounts.roles import Role
    from kehu.webhooks.tests.receiver import start_receiver, stop_receiver
    from tests.fixtures.people import make_user

    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True
    call_command("migrate", verbosity=0)
    receiver = start_receiver()
    try:
        return race(make_user("admin", Role.ADMIN), receiver)
    finally:
        stop_receiver(receiver)
