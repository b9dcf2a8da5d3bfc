"""Coupons at scale: issuing 100,000 coupons to a segment, and redemption through the API under
parallel load.

For SQLite (in a temporary KEHU_VAR_DIR) and for the PostgreSQL in DATABASE_URL when set, a
subprocess with its own Django set-up migrates, creates KEHU_BENCH_COUPONS customers (default
100,000) in one static segment and times:

1. issuing a template to the segment as one background batch (`run_issue_batch`: set-based
   limits, codes made in one numpy step, bulk inserts), against a naive loop of `issue_coupon`
   per customer on 2,000 customers, scaled to the same count;
2. redeeming KEHU_BENCH_REDEMPTIONS coupons (default 2,000) through POST
   /api/coupons/{code}/redeem from KEHU_BENCH_THREADS threads (default 8, each with its own
   connection), each thread redeeming distinct coupons against their holders' orders, then the
   same requests again (a retrying shop system: each answers the first result). Afterwards it
   checks that every coupon was used exactly once, on its own order.
"""

import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

from bench._workers import report, run_on_each_database

NAIVE_CUSTOMERS = 2000


def main() -> None:
    coupons = int(os.environ.get("KEHU_BENCH_COUPONS", "100000"))
    redemptions = int(os.environ.get("KEHU_BENCH_REDEMPTIONS", "2000"))
    threads = int(os.environ.get("KEHU_BENCH_THREADS", "8"))
    doing = f"issuing {coupons:,} coupons and redeeming {redemptions:,} through the API"
    arguments = [str(coupons), str(redemptions), str(threads)]
    results = run_on_each_database("bench.bench_loyalty_coupons", arguments, doing)
    print_issue_table([row for row in results if row["kind"] == "issue"])
    print_redeem_table([row for row in results if row["kind"] == "redeem"])


def print_issue_table(rows: list[dict[str, Any]]) -> None:
    print()
    print("| database | how | customers | coupons issued | seconds | coupons/s |")
    print("|---|---|---:|---:|---:|---:|")
    for row in rows:
        print(
            f"| {row['database']} | {row['how']} | {row['customers']:,} | {row['issued']:,} "
            f"| {row['seconds']:.2f} | {row['issued'] / row['seconds']:,.0f} |"
        )
    by_database: dict[str, dict[str, Any]] = {}
    for row in rows:
        by_database.setdefault(row["database"], {})[row["how"]] = row
    for database, pair in by_database.items():
        batch, naive = pair.get("segment batch (bulk)"), pair.get("issue_coupon loop")
        if batch and naive:
            naive_rate = naive["issued"] / naive["seconds"]
            scaled = batch["issued"] / naive_rate
            print(
                f"{database}: the per-coupon loop would take {scaled:,.0f} s for "
                f"{batch['issued']:,} coupons ({scaled / batch['seconds']:.0f}× the batch)."
            )


def print_redeem_table(rows: list[dict[str, Any]]) -> None:
    print()
    print("| database | requests | threads | pass | seconds | requests/s | each coupon used once |")
    print("|---|---:|---:|---|---:|---:|---|")
    for row in rows:
        print(
            f"| {row['database']} | {row['requests']:,} | {row['threads']} | {row['pass']} "
            f"| {row['seconds']:.2f} | {row['requests'] / row['seconds']:,.0f} "
            f"| {'yes' if row['used_once'] else 'NO'} |"
        )


# ---------------------------------------------------------------- worker (own Django set-up)


def worker(database: str, coupons: int, redemptions: int, threads: int) -> None:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    people = make_people()
    started = time.monotonic()
    customer_ids, segment_id = make_segment(coupons)
    print(
        f"{database}: {coupons:,} customers in {time.monotonic() - started:.0f} s", file=sys.stderr
    )
    batch_row = time_segment_batch(people["marketer"], segment_id)
    report({"kind": "issue", "database": database, "customers": coupons, **batch_row})
    naive_row = time_naive_loop(people["marketer"], customer_ids[:NAIVE_CUSTOMERS])
    report({"kind": "issue", "database": database, "customers": NAIVE_CUSTOMERS, **naive_row})
    for row in time_api_redemption(people["cashier"], redemptions, threads):
        report({"kind": "redeem", "database": database, "threads": threads, **row})


def make_people() -> dict[str, Any]:
    from kehu.accounts.models import User
    from kehu.accounts.roles import Role

    def user(name: str, role: str) -> Any:
        return User.objects.create_user(username=name, password=None, role=role)

    return {
        "marketer": user("bench-marketing", Role.MARKETING),
        "cashier": user("bench-service", Role.SERVICE),
    }


def make_segment(count: int) -> tuple[list[int], int]:
    """`count` customers (in the pool) and a static segment holding them all."""
    from django.utils import timezone

    from kehu.customers.models import Customer
    from kehu.segments.models import Segment, SegmentMember

    Customer.objects.bulk_create(
        (Customer(name=f"顾客{number}") for number in range(count)), batch_size=5000
    )
    ids = list(Customer.objects.order_by("pk").values_list("pk", flat=True))
    segment = Segment.objects.create(name="bench", kind="static", member_count=len(ids))
    now = timezone.now()
    SegmentMember.objects.bulk_create(
        (SegmentMember(segment=segment, customer_id=pk, joined_at=now) for pk in ids),
        batch_size=5000,
    )
    return ids, segment.pk


def bench_template(actor: Any, name: str) -> Any:
    from kehu.loyalty.coupons.coupon_templates import TemplateInput, create_template

    template_input = TemplateInput(
        name=name, kind="fixed", amount_off=Decimal("10"), valid_days=30, per_customer_limit=1
    )
    return create_template(actor, template_input)


def time_segment_batch(actor: Any, segment_id: int) -> dict[str, Any]:
    from kehu.loyalty.coupons.issuing import run_issue_batch
    from kehu.loyalty.models import CouponIssueBatch

    template = bench_template(actor, "bench segment batch")
    batch = CouponIssueBatch.objects.create(
        template=template, segment_id=segment_id, requested_by=actor
    )
    started = time.perf_counter()
    done = run_issue_batch(batch.pk)
    seconds = time.perf_counter() - started
    assert done.status == "done", done.message
    return {"how": "segment batch (bulk)", "issued": done.issued, "seconds": seconds}


def time_naive_loop(actor: Any, customer_ids: list[int]) -> dict[str, Any]:
    from kehu.loyalty.coupons.services import issue_coupon

    template = bench_template(actor, "bench naive loop")
    started = time.perf_counter()
    for customer_id in customer_ids:
        issue_coupon(actor, template, customer_id)
    seconds = time.perf_counter() - started
    return {"how": "issue_coupon loop", "issued": len(customer_ids), "seconds": seconds}


def time_api_redemption(cashier: Any, count: int, threads: int) -> list[dict[str, Any]]:
    """Redeem `count` coupons of the segment batch through the API from `threads` threads,
    then send every request again; check each coupon was used once, on its own order."""
    from kehu.accounts.services import create_api_token

    work = redemption_work(count)
    _token, raw_token = create_api_token(cashier, "bench")
    rows = []
    for label in ("first", "retry (same key)"):
        started = time.perf_counter()
        statuses = send_in_threads(work, raw_token, threads)
        seconds = time.perf_counter() - started
        assert statuses == {200: len(work)}, statuses
        rows.append(
            {"pass": label, "requests": len(work), "seconds": seconds, "used_once": used_once(work)}
        )
    return rows


def redemption_work(count: int) -> list[tuple[str, int, str]]:
    """(code, order id, idempotency key) for `count` coupons, one new order per holder."""
    from django.utils import timezone

    from kehu.commerce.models import ChannelKind, Order, SalesChannel
    from kehu.loyalty.models import Coupon

    channel = SalesChannel.objects.create(code="bench-pos", name="bench", kind=ChannelKind.STORE)
    coupons = list(
        Coupon.objects.filter(template__name="bench segment batch")
        .order_by("pk")
        .values_list("code", "customer_id")[:count]
    )
    now = timezone.now()
    Order.objects.bulk_create(
        (
            Order(
                customer_id=customer_id,
                channel=channel,
                external_id=f"B-{code}",
                ordered_at=now,
                total_amount=Decimal("88.00"),
            )
            for code, customer_id in coupons
        ),
        batch_size=2000,
    )
    orders = dict(Order.objects.filter(channel=channel).values_list("external_id", "pk"))
    return [(code, orders[f"B-{code}"], f"bench:{code}") for code, _customer in coupons]


def send_in_threads(
    work: list[tuple[str, int, str]], raw_token: str, threads: int
) -> dict[int, int]:
    from django.db import connection

    statuses: dict[int, int] = {}
    lock = threading.Lock()

    def send(share: list[tuple[str, int, str]]) -> None:
        from django.test import Client

        client = Client(headers={"authorization": f"Bearer {raw_token}"})
        try:
            for code, order_id, key in share:
                response = client.post(
                    f"/api/coupons/{code}/redeem",
                    {"order_id": order_id, "idempotency_key": key},
                    content_type="application/json",
                )
                with lock:
                    statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(send, [work[index::threads] for index in range(threads)]))
    return statuses


def used_once(work: list[tuple[str, int, str]]) -> bool:
    from kehu.loyalty.models import Coupon

    codes = [code for code, _order, _key in work]
    used = dict(
        Coupon.objects.filter(code__in=codes, status="redeemed").values_list("code", "order_id")
    )
    expected = {code: order_id for code, order_id, _key in work}
    return used == expected and len(set(used.values())) == len(work)


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "--worker":
        worker(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
    else:
        main()
