"""Workers sending at the same time: each due delivery is claimed by exactly one of them, so the
receiver gets every event once. Threads, each with its own database connection, released
together by a barrier; on PostgreSQL (`scripts/with-postgres.sh .venv/bin/pytest <this file>`),
since the SQLite test database (an in-memory shared cache) fails table locks at once instead of
waiting. The claim itself (one conditional UPDATE) is tested on both in test_sending.py."""

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from kehu.webhooks import services
from kehu.webhooks.models import Delivery, WebhookDeliveryStatus
from kehu.webhooks.tests.data import FakeEvent, subscribe

WORKERS = 8
EVENTS = 40
on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="threads need a server database; see the docstring"
)


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_parallel_workers_send_each_delivery_once(admin_user, receiver, monkeypatch):
    # given deliveries queued while no worker runs (the immediate task backend would send
    # them on commit, one by one)
    monkeypatch.setattr(services, "enqueue_sending", lambda: None)
    subscribe(admin_user, receiver.url)
    for _index in range(EVENTS):
        services.queue_deliveries(FakeEvent())
    assert Delivery.objects.filter(status=WebhookDeliveryStatus.PENDING).count() == EVENTS
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
    assert sum(sent) == EVENTS
    assert len(ids) == EVENTS and set(ids.values()) == {1}
    assert set(Delivery.objects.values_list("status", "attempts")) == {
        (WebhookDeliveryStatus.SUCCEEDED, 1)
    }
