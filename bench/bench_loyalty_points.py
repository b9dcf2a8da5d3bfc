"""Loyalty points: bulk earning on a million orders, and API redemptions under parallel load.

For SQLite (a file in a temporary KEHU_VAR_DIR) and for the PostgreSQL in DATABASE_URL when set,
a subprocess with its own Django set-up migrates and writes KEHU_BENCH_POINTS_ORDERS orders
(default 1,000,000; 2% partly refunded) of KEHU_BENCH_POINTS_ORDERS/10 members, then:

1. earns the first KEHU_BENCH_POINTS_SAMPLE orders (default 5,000) the naive way, one
   ``earn_for_order`` call per order, and the rest with ``earn_all_pending_orders`` (set-based
   bulk writes), both reported per 1,000 orders; then runs the bulk job again (nothing to do);
   then writes a tenth as many new orders with two lines each (one in a category with a ×3
   earning rule, one not) inside a ×2 bonus event, and earns them in bulk: the cost of rules;
2. sends redemption requests to POST /api/members/{id}/redeem from KEHU_BENCH_POINTS_THREADS
   threads (default 16) through Django's test client, each thread with its own connection,
   every tenth request a retry of the one before. Members hold 1,000 points and each request
   redeems 100, so many are refused: the balances must end exactly at 1,000 − 100 × the
   distinct successful redemptions, and every cached balance must equal its ledger.
"""

import os
import random
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bench._workers import report, run_on_each_database

CHUNK = 100_000
API_MEMBERS = 20
API_BALANCE = 1000
REQUESTS_PER_THREAD = 60


def main() -> None:
    orders = int(os.environ.get("KEHU_BENCH_POINTS_ORDERS", "1000000"))
    sample = int(os.environ.get("KEHU_BENCH_POINTS_SAMPLE", "5000"))
    threads = int(os.environ.get("KEHU_BENCH_POINTS_THREADS", "16"))
    doing = f"writing {orders:,} orders, earning their points and redeeming over the API"
    results = run_on_each_database(
        "bench.bench_loyalty_points", [str(orders), str(sample), str(threads)], doing
    )
    print_earning_table([row for row in results if row["kind"] == "earn"])
    print_api_table([row for row in results if row["kind"] == "api"])


def print_earning_table(rows: list[dict[str, Any]]) -> None:
    print()
    print("| database | way | orders | members | entries | seconds | ms per 1,000 orders |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for row in rows:
        per_thousand = 1000 * row["seconds"] / row["orders"] * 1000 if row["orders"] else 0.0
        print(
            f"| {row['database']} | {row['way']} | {row['orders']:,} | {row['members']:,} "
            f"| {row['entries']:,} | {row['seconds']:.2f} | {per_thousand:.1f} |"
        )
    for row in rows:
        if row["way"].startswith("bulk") and not row["balances_exact"]:
            print(f"\n{row['database']}: balances differ from the ledger after bulk earning!")


def print_api_table(rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    print()
    print(
        "| database | threads | requests | seconds | requests/s | 201 | 200 (retry) | 409 "
        "| other | balances exact |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for row in rows:
        statuses = row["statuses"]
        other = sum(count for code, count in statuses.items() if code not in {"200", "201", "409"})
        print(
            f"| {row['database']} | {row['threads']} | {row['requests']:,} | {row['seconds']:.2f} "
            f"| {row['requests'] / row['seconds']:.0f} | {statuses.get('201', 0):,} "
            f"| {statuses.get('200', 0):,} | {statuses.get('409', 0):,} | {other} "
            f"| {'yes' if row['balances_exact'] else 'NO'} |"
        )


# ---------------------------------------------------------------- worker (own Django set-up)


def worker(database: str, orders: int, sample: int, threads: int) -> None:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    started = time.monotonic()
    members = write_members_and_orders(orders)
    print(f"{database}: {orders:,} orders in {time.monotonic() - started:.0f} s", file=sys.stderr)
    for row in time_earning(orders, sample, members):
        report({"kind": "earn", "database": database, **row})
    report({"kind": "api", "database": database, **time_api_redemptions(threads)})


def write_members_and_orders(orders: int) -> int:
    """Members (one customer each) and their orders, written as plain rows."""
    import numpy as np
    from django.db import transaction
    from django.utils import timezone

    from kehu.commerce.models import ChannelKind, Order, SalesChannel
    from kehu.customers.models import Customer
    from kehu.demo.writer import datetime_text, money, reset_sequences, write_rows
    from kehu.loyalty.members.services import ensure_default_tiers
    from kehu.loyalty.models import Membership

    rng = np.random.default_rng(2024)
    members = max(orders // 10, 1)
    now = int(timezone.now().timestamp())
    channel, _created = SalesChannel.objects.get_or_create(
        code="pos", defaults={"name": "门店收银", "kind": ChannelKind.STORE}
    )
    entry_tier = ensure_default_tiers()[0]
    with transaction.atomic():
        joined = datetime_text(np.full(members, now - 400 * 86400))
        customer_rows = (
            (pk, f"会员{pk}", joined[pk - 1], joined[pk - 1]) for pk in range(1, members + 1)
        )
        write_rows(Customer, ["id", "name", "created_at", "updated_at"], customer_rows)
        write_rows(
            Membership,
            ["customer_id", "card_number", "referral_code", "enrolled_on", "channel", "tier_id",
             "tier_since"],
            ((pk, f"9{pk:010d}", f"B{pk:09d}", "2024-01-01", "store", entry_tier.pk, "2024-01-01")
             for pk in range(1, members + 1)),
        )  # fmt: skip
    for start in range(0, orders, CHUNK):
        size = min(CHUNK, orders - start)
        ids = np.arange(start + 1, start + size + 1)
        customers = rng.integers(1, members + 1, size)
        moments = datetime_text(now - rng.integers(3600, 365 * 86400, size))
        cents = rng.integers(1_000, 50_000, size)
        refunded = np.where(rng.random(size) < 0.02, cents // 3, 0)
        status = np.where(refunded > 0, "partially_refunded", "completed").tolist()
        with transaction.atomic():
            write_rows(
                Order,
                ["id", "customer_id", "channel_id", "external_id", "status", "ordered_at",
                 "total_amount", "refunded_amount", "created_at"],
                zip(ids.tolist(), customers.tolist(), [channel.pk] * size,
                    [f"B{pk:09d}" for pk in ids.tolist()], status, moments, money(cents),
                    money(refunded), moments, strict=True),
            )  # fmt: skip
            write_refunds(ids[refunded > 0], refunded[refunded > 0], moments)
    reset_sequences([Customer, Order])
    return members


def write_refunds(order_ids: Any, cents: Any, moments: list[str]) -> None:
    from kehu.commerce.models import Refund
    from kehu.demo.writer import money, write_rows

    when = moments[0]
    rows = zip(order_ids.tolist(), money(cents), strict=True)
    write_rows(
        Refund,
        ["order_id", "amount", "reason", "refunded_at"],
        ((pk, amount, "bench", when) for pk, amount in rows),
    )


def time_earning(orders: int, sample: int, members: int) -> list[dict[str, Any]]:
    from kehu.commerce.models import Order
    from kehu.loyalty.models import PointsEntry
    from kehu.loyalty.points.bulk import earn_all_pending_orders
    from kehu.loyalty.points.services import check_balances, earn_for_order

    rows = []
    started = time.perf_counter()
    for order in Order.objects.order_by("pk")[:sample].iterator():
        earn_for_order(order)
    naive_seconds = time.perf_counter() - started
    naive_entries = PointsEntry.objects.count()
    rows.append(
        {
            "way": "per order (earn_for_order)",
            "orders": sample,
            "members": members,
            "entries": naive_entries,
            "seconds": naive_seconds,
            "balances_exact": not check_balances(),
        }
    )
    ways = ["bulk (earn_all_pending_orders)", "bulk again (nothing pending)",
            "bulk, 2 lines per order, category rule + bonus event"]  # fmt: skip
    for way in ways:
        if way.endswith("bonus event"):
            write_orders_under_rules(max(orders // 10, 1), members)
        before = PointsEntry.objects.count()
        started = time.perf_counter()
        result = earn_all_pending_orders()
        seconds = time.perf_counter() - started
        exact = not check_balances()
        rows.append({"way": way, "orders": result.orders, "members": members,
                     "entries": PointsEntry.objects.count() - before, "seconds": seconds,
                     "balances_exact": exact})  # fmt: skip
    return rows


def write_orders_under_rules(count: int, members: int) -> None:
    """`count` new orders of today with two lines each, ¥ split between a product in 生鲜
    (a ×3 rule) and one without a category, all inside a ×2 bonus event."""
    from decimal import Decimal

    import numpy as np
    from django.db import transaction
    from django.db.models import Max
    from django.utils import timezone

    from kehu.commerce.models import Category, Order, OrderLine, Product, SalesChannel
    from kehu.demo.writer import datetime_text, money, reset_sequences, write_rows
    from kehu.loyalty.models import EarningRule

    rng = np.random.default_rng(2025)
    fresh = Category.objects.create(name="生鲜")
    fresh_product = Product.objects.create(sku="BENCH-FRESH", name="苹果", category=fresh)
    other_product = Product.objects.create(sku="BENCH-OTHER", name="纸巾")
    today = timezone.localdate()
    EarningRule.objects.create(name="生鲜三倍", multiplier=Decimal(3), category=fresh)
    EarningRule.objects.create(
        name="活动双倍", multiplier=Decimal(2), starts_on=today, ends_on=today
    )
    channel = SalesChannel.objects.get(code="pos")
    first_id = (Order.objects.aggregate(last=Max("pk"))["last"] or 0) + 1
    ids = np.arange(first_id, first_id + count)
    moments = datetime_text(np.full(count, int(timezone.now().timestamp()) - 60))
    fresh_cents = rng.integers(500, 20_000, count)
    other_cents = rng.integers(500, 20_000, count)
    with transaction.atomic():
        write_rows(
            Order,
            ["id", "customer_id", "channel_id", "external_id", "status", "ordered_at",
             "total_amount", "refunded_amount", "created_at"],
            zip(ids.tolist(), rng.integers(1, members + 1, count).tolist(), [channel.pk] * count,
                [f"R{pk:09d}" for pk in ids.tolist()], ["completed"] * count, moments,
                money(fresh_cents + other_cents), money(np.zeros(count, dtype=int)), moments,
                strict=True),
        )  # fmt: skip
        for product, cents in ((fresh_product, fresh_cents), (other_product, other_cents)):
            amounts = money(cents)
            write_rows(
                OrderLine,
                ["order_id", "product_id", "product_name", "quantity", "unit_price", "discount",
                 "amount"],
                ((pk, product.pk, product.name, "1", amount, "0", amount)
                 for pk, amount in zip(ids.tolist(), amounts, strict=True)),
            )  # fmt: skip
    reset_sequences([Order, OrderLine])


def time_api_redemptions(threads: int) -> dict[str, Any]:
    import logging

    from django.db import connection
    from django.test import Client

    from kehu.accounts.models import User
    from kehu.accounts.services import create_api_token
    from kehu.loyalty.models import Membership
    from kehu.loyalty.points.services import award_points, check_balances

    admin, _created = User.objects.get_or_create(
        username="bench-admin", defaults={"role": "admin", "display_name": "bench"}
    )
    _token, raw_token = create_api_token(admin, "bench")
    logging.getLogger("django.request").setLevel(logging.ERROR)  # 409s are expected here
    members = list(Membership.objects.order_by("-pk")[:API_MEMBERS])
    start_balance = {member.customer_id: member.points_balance + API_BALANCE for member in members}
    for member in members:
        award_points(member, API_BALANCE, source="campaign", reason="bench",
                     idempotency_key=f"bench-api-{member.pk}")  # fmt: skip
    successes: dict[tuple[int, str], int] = {}
    statuses: Counter[str] = Counter()
    lock = threading.Lock()
    barrier = threading.Barrier(threads)

    def run(thread: int) -> None:
        client = Client(headers={"authorization": f"Bearer {raw_token}"})
        chooser = random.Random(thread)
        key = ""
        customer_id = members[0].customer_id
        barrier.wait()
        try:
            for number in range(REQUESTS_PER_THREAD):
                if number % 10 != 9:  # every tenth request retries the one before
                    customer_id = chooser.choice(members).customer_id
                    key = f"t{thread}-{number}"
                response = client.post(
                    f"/api/members/{customer_id}/redeem",
                    {"idempotency_key": key, "cash_amount": "1.00"},
                    content_type="application/json",
                )
                with lock:
                    statuses[str(response.status_code)] += 1
                    if response.status_code in (200, 201):
                        successes[(customer_id, key)] = response.json()["points"]
        finally:
            connection.close()

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(run, range(threads)))
    seconds = time.perf_counter() - started
    spent: Counter[int] = Counter()
    for (customer_id, _key), points in successes.items():
        spent[customer_id] += points
    balances = dict(
        Membership.objects.filter(customer_id__in=start_balance).values_list(
            "customer_id", "points_balance"
        )
    )
    exact = not check_balances() and all(
        balances[customer_id] == start_balance[customer_id] - spent[customer_id]
        for customer_id in start_balance
    )
    return {"threads": threads, "requests": threads * REQUESTS_PER_THREAD, "seconds": seconds,
            "statuses": dict(statuses), "balances_exact": exact}  # fmt: skip


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "--worker":
        # production's task backend: the events earning records (points.changed, tier moves)
        # are enqueued with it for the worker to deliver, not delivered inside the timing
        os.environ["KEHU_TASK_BACKEND"] = "django_tasks_db.DatabaseBackend"
        worker(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
    else:
        main()
