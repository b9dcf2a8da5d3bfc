"""Domain events: outbox throughput, and what the event adds to an order posted to the API.

For SQLite (a file in a temporary KEHU_VAR_DIR) and for the PostgreSQL in DATABASE_URL when set,
a subprocess migrates, makes KEHU_BENCH_EVENTS_CUSTOMERS customers (default 2,000; every fourth a
member) and then:

1. writes KEHU_BENCH_EVENTS_ORDERS orders (default 20,000) as an import writes them (bulk rows,
   2,000 a transaction), once without and once with their `order.posted` events (bulk too):
   orders/s both ways, so the cost of the outbox on the write path shows;
2. dispatches those events (`kehu events dispatch`'s code: loyalty earns each member's order,
   checks the referral; segments leaves imported orders to the nightly run): events/s;
3. posts KEHU_BENCH_EVENTS_POSTS orders (default 300) to POST /api/orders through Django's test
   client with the production task backend (django_tasks_db: the dispatch is enqueued, a worker
   runs it), alternating rounds with the event and with the event switched off, same warm-up;
   the median ms per post of each, and the difference in per cent (target: under 10%).
"""

import os
import statistics
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from bench._workers import report, run_on_each_database

BATCH = 2000
ROUNDS = 6


def main() -> None:
    customers = int(os.environ.get("KEHU_BENCH_EVENTS_CUSTOMERS", "2000"))
    orders = int(os.environ.get("KEHU_BENCH_EVENTS_ORDERS", "20000"))
    posts = int(os.environ.get("KEHU_BENCH_EVENTS_POSTS", "300"))
    doing = f"writing {orders:,} orders with their events, dispatching them, posting {posts} orders"
    results = run_on_each_database(
        "bench.bench_events", [str(customers), str(orders), str(posts)], doing
    )
    print()
    print("| database | step | items | seconds | per second |")
    print("|---|---|---:|---:|---:|")
    for row in results:
        if row["kind"] == "throughput":
            print(
                f"| {row['database']} | {row['step']} | {row['items']:,} | {row['seconds']:.2f} "
                f"| {row['items'] / row['seconds']:,.0f} |"
            )
    print()
    print("| database | API order post | posts | median ms | added |")
    print("|---|---|---:|---:|---:|")
    for row in results:
        if row["kind"] == "api":
            print(
                f"| {row['database']} | without the event | {row['posts']} "
                f"| {row['without_ms']:.2f} | |"
            )
            print(
                f"| {row['database']} | with the event | {row['posts']} | {row['with_ms']:.2f} "
                f"| {row['added_percent']:+.1f}% |"
            )


def worker(database: str, customers: int, orders: int, posts: int) -> None:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    people = make_customers(customers)
    for row in time_outbox(people, orders):
        report({"database": database, "kind": "throughput", **row})
    report({"database": database, "kind": "api", **time_api_posts(people, posts)})


def make_customers(count: int) -> list[int]:
    import datetime

    from kehu.customers.models import Customer
    from kehu.loyalty.members.services import create_membership
    from kehu.loyalty.models import EnrolmentChannel

    people = Customer.objects.bulk_create(
        Customer(name=f"客户{n}", mobile=f"136{n:08d}") for n in range(count)
    )
    for person in people[::4]:
        create_membership(person, EnrolmentChannel.STORE, None, datetime.date(2025, 1, 1), None)
    return [person.pk for person in people]


def write_orders(people: list[int], count: int, code: str, with_events: bool) -> float:
    import datetime

    from django.db import transaction
    from django.utils import timezone

    from kehu.commerce.bulk import bulk_writer
    from kehu.commerce.models import ZERO, ChannelKind, SalesChannel
    from kehu.commerce.outbox import order_posted
    from kehu.events.services import record_events

    channel = SalesChannel.objects.create(code=code, name=code, kind=ChannelKind.ONLINE)
    writer = bulk_writer()
    moment = timezone.now() - datetime.timedelta(days=1)
    started = time.perf_counter()
    for start in range(0, count, BATCH):
        rows = [
            (people[n % len(people)], channel.pk, f"{code}-{n}", None, "completed", moment,
             Decimal(10 + n % 90), ZERO, ZERO, moment)
            for n in range(start, min(start + BATCH, count))
        ]  # fmt: skip
        with transaction.atomic():
            ids = writer.insert_orders(rows)
            if with_events:
                record_events([
                    order_posted(
                        order_id=order_id, external_id=row[2], channel_code=code,
                        store_code="", customer_id=row[0], total_amount=row[6], status=row[4],
                        ordered_at=row[5], imported=True,
                    )
                    for order_id, row in zip(ids, rows, strict=True)
                ])  # fmt: skip
    return time.perf_counter() - started


def time_outbox(people: list[int], count: int) -> list[dict[str, Any]]:
    from kehu.events.dispatch import dispatch
    from kehu.events.models import HandlerRun

    without = write_orders(people, count, "plain", with_events=False)
    with_events = write_orders(people, count, "events", with_events=True)
    deliveries = HandlerRun.objects.count()
    started = time.perf_counter()
    dispatched = dispatch()
    seconds = time.perf_counter() - started
    assert dispatched.done == deliveries, dispatched
    return [
        {"step": "orders written, no events", "items": count, "seconds": without},
        {"step": "orders written with their events", "items": count, "seconds": with_events},
        {
            "step": f"events dispatched ({deliveries:,} deliveries)",
            "items": count,
            "seconds": seconds,
        },
    ]


def time_api_posts(people: list[int], posts: int) -> dict[str, Any]:
    from django.test import Client

    from kehu.accounts.models import User
    from kehu.accounts.roles import Role
    from kehu.accounts.services import create_api_token
    from kehu.commerce import services
    from kehu.commerce.models import ChannelKind, SalesChannel

    SalesChannel.objects.create(code="api", name="api", kind=ChannelKind.ONLINE)
    admin = User.objects.create_user(username="bench", password="x" * 12, role=Role.ADMIN)
    _token, raw = create_api_token(admin, "bench")
    client = Client(headers={"authorization": f"Bearer {raw}"})
    numbers = iter(range(10**9))

    def post() -> float:
        number = next(numbers)
        body = {
            "customer_id": people[number % len(people)], "channel": "api",
            "external_id": f"API-{number}", "ordered_at": "2026-03-01T10:20:00+08:00",
            "lines": [{"product_name": "牛奶", "quantity": "1", "unit_price": "12.50"}],
        }  # fmt: skip
        started = time.perf_counter()
        response = client.post("/api/orders", body, content_type="application/json")
        elapsed = time.perf_counter() - started
        assert response.status_code == 201, response.content
        return elapsed

    original = services.record_order_posted

    def timed(switch_on: bool, count: int) -> list[float]:
        services.record_order_posted = original if switch_on else no_event  # type: ignore[assignment]
        try:
            return [post() for _ in range(count)]
        finally:
            services.record_order_posted = original  # type: ignore[assignment]

    timed(True, 30)  # warm-up of both paths
    timed(False, 30)
    with_times: list[float] = []
    without_times: list[float] = []
    for round_number in range(ROUNDS):
        first, second = (True, False) if round_number % 2 == 0 else (False, True)
        for switch_on in (first, second):
            (with_times if switch_on else without_times).extend(
                timed(switch_on, max(posts // ROUNDS, 1))
            )
    with_ms = statistics.median(with_times) * 1000
    without_ms = statistics.median(without_times) * 1000
    return {
        "posts": len(with_times),
        "with_ms": with_ms,
        "without_ms": without_ms,
        "added_percent": 100 * (with_ms - without_ms) / without_ms,
    }


no_event: Callable[..., None] = lambda *args, **kwargs: None  # noqa: E731


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "--worker":
        os.environ["KEHU_TASK_BACKEND"] = "django_tasks_db.DatabaseBackend"
        os.environ["KEHU_API_RATE_LIMIT"] = "0"
        worker(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
    else:
        main()
