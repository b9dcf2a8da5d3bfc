"""Response times of the customer list and the customer page on the large demo data set.

For SQLite (in a temporary KEHU_VAR_DIR) and for the PostgreSQL in DATABASE_URL when set, a
subprocess with its own Django set-up migrates, generates the demo data
(KEHU_BENCH_CUSTOMERS customers, default 200,000) and times the pages through Django's test
client, logged in as an administrator and as a salesperson. Prints one Markdown table; for any
page slower than the 150 ms target it also prints the slowest query and its plan.
"""

import os
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from bench._workers import report, run_on_each_database

TARGET_MS = 150.0
LIST_RUNS = 20
DETAIL_CUSTOMERS = 50


def main() -> None:
    customers = int(os.environ.get("KEHU_BENCH_CUSTOMERS", "200000"))
    doing = f"generating {customers:,} customers and timing pages"
    results = run_on_each_database("bench.bench_pages", [str(customers)], doing)
    print_table(results)


def print_table(results: list[dict[str, Any]]) -> None:
    print()
    print(
        "| database | customers | orders | page | user role | runs | median ms | p95 ms | queries |"
    )
    print("|---|---:|---:|---|---|---:|---:|---:|---:|")
    for row in results:
        if row.get("note"):
            print(f"| {row['database']} | | | {row['page']} | | | | | {row['note']} |")
            continue
        print(
            f"| {row['database']} | {row['customers']:,} | {row['orders']:,} | {row['page']} "
            f"| {row['role']} | {row['runs']} | {row['median_ms']:.1f} | {row['p95_ms']:.1f} "
            f"| {row['queries']} |"
        )
    slow = [row for row in results if row.get("median_ms", 0) > TARGET_MS]
    for row in slow:
        print(
            f"\nSlow: {row['database']} {row['page']} as {row['role']} "
            f"(median {row['median_ms']:.0f} ms). Slowest query ({row['slowest_ms']:.0f} ms):\n"
            f"    {row['slowest_sql'][:600]}\n  Plan:\n    " + "\n    ".join(row["plan"])
        )
    if results and not slow:
        print(f"\nEvery page is under the {TARGET_MS:.0f} ms median target.")


# ---------------------------------------------------------------- worker (own Django set-up)


def worker(database: str, customers: int) -> None:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    started = time.monotonic()
    call_command("demo", customers=customers, reset=True, stdout=sys.stderr)
    print(f"{database}: demo data in {time.monotonic() - started:.0f} s", file=sys.stderr)
    for row in measure_everything():
        report({"database": database, **row})


def measure_everything() -> list[dict[str, Any]]:
    from django.test import Client
    from django.urls import NoReverseMatch, reverse

    from kehu.accounts.models import User
    from kehu.commerce.models import Order
    from kehu.customers.models import Customer

    counts = {"customers": Customer.objects.count(), "orders": Order.objects.count()}
    rows = []
    for role, username in (("admin", "admin"), ("sales", "sales1")):
        user = User.objects.get(username=username)
        client = Client()
        client.force_login(user)
        try:
            list_url = reverse("customers:list")
            cases = page_cases(client, list_url, user)
        except NoReverseMatch:
            cases = query_function_cases(user)
        cases += api_cases(client, user)
        for page, requests in cases:
            rows.append({**counts, "role": role, "page": page, **time_requests(requests)})
    return rows


Request = Callable[[], Any]


def page_cases(client: Any, list_url: str, user: Any) -> list[tuple[str, list[Request]]]:
    from django.urls import reverse

    details = [reverse("customers:detail", args=[pk]) for pk in sample_visible_ids(user)]
    return [
        ("customer list", repeat(lambda: get_ok(client, list_url))),
        ("customer list ?q=张", repeat(lambda: get_ok(client, list_url, {"q": "张"}))),
        ("customer list page 100", repeat(lambda: get_ok(client, list_url, {"page": "100"}))),
        (
            f"customer page ×{len(details)}",
            [lambda url=url: get_ok(client, url) for url in details],
        ),
    ]


def api_cases(client: Any, user: Any) -> list[tuple[str, list[Request]]]:
    if client.get("/api/customers", {"limit": 1}).status_code == 404:
        return [("/api/customers", [])]
    details = [f"/api/customers/{pk}" for pk in sample_visible_ids(user)]
    return [
        ("API /api/customers", repeat(lambda: get_ok(client, "/api/customers", {"limit": 25}))),
        (
            "API /api/customers?q=张",
            repeat(lambda: get_ok(client, "/api/customers", {"limit": 25, "q": "张"})),
        ),
        (
            "API /api/customers offset 2475",
            repeat(lambda: get_ok(client, "/api/customers", {"limit": 25, "offset": 2475})),
        ),
        (
            f"API /api/customers/id ×{len(details)}",
            [lambda url=url: get_ok(client, url) for url in details],
        ),
    ]


def query_function_cases(user: Any) -> list[tuple[str, list[Request]]]:
    """Before the pages exist: the queries the pages are built on."""
    from django.core.paginator import Paginator

    from kehu.customers.queries import (
        CustomerFilters,
        get_visible_customer,
        mask_contacts,
        search_customers,
    )

    def list_page(params: dict[str, str], number: int) -> None:
        paginator = Paginator(search_customers(user, CustomerFilters.from_params(params)), 25)
        page = paginator.get_page(number)
        customers = list(page.object_list)
        mask_contacts(user, customers)

    def customer_page(pk: int) -> None:
        customer = get_visible_customer(user, pk)
        list(customer.orders.order_by("-ordered_at")[:20])
        list(customer.interactions.all()[:20])
        list(customer.tags.all())

    ids = sample_visible_ids(user)
    return [
        ("search_customers + count (no page yet)", repeat(lambda: list_page({}, 1))),
        ("search_customers ?q=张 (no page yet)", repeat(lambda: list_page({"q": "张"}, 1))),
        ("search_customers page 100 (no page yet)", repeat(lambda: list_page({}, 100))),
        (
            f"get_visible_customer + orders ×{len(ids)} (no page yet)",
            [lambda pk=pk: customer_page(pk) for pk in ids],
        ),
    ]


def sample_visible_ids(user: Any) -> list[int]:
    import random

    from kehu.customers.queries import visible_customers

    ids = list(visible_customers(user).values_list("pk", flat=True))
    return random.Random(42).sample(ids, min(DETAIL_CUSTOMERS, len(ids)))


def repeat(request: Request) -> list[Request]:
    return [request] * LIST_RUNS


def get_ok(client: Any, url: str, params: dict[str, Any] | None = None) -> None:
    response = client.get(url, params or {})
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} {params} answered {response.status_code}")


def time_requests(requests: list[Request]) -> dict[str, Any]:
    if not requests:
        return {"note": "endpoint not found, skipped"}
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    requests[0]()  # warm caches and the code path once
    with CaptureQueriesContext(connection) as captured:
        requests[0]()
    queries = list(captured.captured_queries)  # read now: the next request clears the log
    timings = []
    for request in requests:
        started = time.perf_counter()
        request()
        timings.append((time.perf_counter() - started) * 1000)
    slowest = max(queries, key=lambda query: float(query["time"]), default=None)
    return {
        "runs": len(timings),
        "median_ms": statistics.median(timings),
        "p95_ms": percentile(timings, 95),
        "queries": len(queries),
        "slowest_ms": float(slowest["time"]) * 1000 if slowest else 0.0,
        "slowest_sql": slowest["sql"] if slowest else "",
        "plan": explain(slowest["sql"]) if slowest else [],
    }


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share / 100 * (len(ordered) - 1)))]


def explain(sql: str) -> list[str]:
    from django.db import connection

    prefix = "EXPLAIN QUERY PLAN" if connection.vendor == "sqlite" else "EXPLAIN ANALYZE"
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"{prefix} {sql}")
            return [" ".join(str(part) for part in row) for row in cursor.fetchall()]
    except Exception as error:  # the captured SQL is for reading; it may not re-run as is
        return [f"(no plan: {error})"]


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--worker":
        worker(sys.argv[2], int(sys.argv[3]))
    else:
        main()
