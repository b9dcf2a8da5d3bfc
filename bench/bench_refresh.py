"""Full refresh of the stored metrics (summary + scoring + storing) on the large demo data set.

For SQLite (in a temporary KEHU_VAR_DIR) and for the PostgreSQL in DATABASE_URL when set, a
subprocess with its own Django set-up migrates, generates the demo data (KEHU_BENCH_CUSTOMERS
customers, default 200,000) and times `refresh_all_metrics()` twice: the first run inserts every
row, the second updates them. Target: under 60 s in total on each database. On PostgreSQL it
also times the summary step both ways (pushed down to PostgreSQL, and Arrow through ADBC into
DuckDB), since the faster one is the default.
"""

import os
import statistics
import sys
import time
from typing import Any

from bench._workers import report, run_on_each_database

TARGET_SECONDS = 60.0
ROUTE_RUNS = 3


def main() -> None:
    customers = int(os.environ.get("KEHU_BENCH_CUSTOMERS", "200000"))
    doing = f"generating {customers:,} customers and timing the refresh"
    results = run_on_each_database("bench.bench_refresh", [str(customers)], doing)
    print_refresh_table([row for row in results if row["kind"] == "refresh"])
    print_route_table([row for row in results if row["kind"] == "route"])


def print_refresh_table(rows: list[dict[str, Any]]) -> None:
    print()
    print("| database | customers | orders | run | step | seconds |")
    print("|---|---:|---:|---|---|---:|")
    for row in rows:
        steps = [*row["seconds"].items(), ("**total**", row["total"])]
        for step, seconds in steps:
            print(
                f"| {row['database']} | {row['customers']:,} | {row['orders']:,} | {row['run']} "
                f"| {step} | {seconds:.2f} |"
            )
    slow = [row for row in rows if row["total"] > TARGET_SECONDS]
    for row in slow:
        print(f"\nOver the {TARGET_SECONDS:.0f} s target: {row['database']} {row['run']}.")
    if rows and not slow:
        print(f"\nEvery full refresh is under the {TARGET_SECONDS:.0f} s target.")
    for row in rows:
        print(f"{row['database']} {row['run']}: summary by {row['route']}.")


def print_route_table(rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    print("\nSummary step on PostgreSQL, both routes:\n")
    print("| route | runs | median seconds | min seconds |")
    print("|---|---:|---:|---:|")
    for row in rows:
        print(
            f"| {row['route']} | {len(row['timings'])} | {statistics.median(row['timings']):.2f} "
            f"| {min(row['timings']):.2f} |"
        )


# ---------------------------------------------------------------- worker (own Django set-up)


def worker(database: str, customers: int) -> None:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    started = time.monotonic()
    call_command("demo", customers=customers, reset=True, stdout=sys.stderr)
    print(f"{database}: demo data in {time.monotonic() - started:.0f} s", file=sys.stderr)
    counts = database_counts()
    for run in ("first (insert)", "second (update)"):
        print_result({"kind": "refresh", "database": database, "run": run, **counts, **refresh()})
    if database == "PostgreSQL":
        for route in ("arrow", "pushdown"):
            print_result({"kind": "route", **time_summary_route(route)})


def database_counts() -> dict[str, int]:
    from kehu.commerce.models import Order
    from kehu.customers.models import Customer

    return {"customers": Customer.objects.count(), "orders": Order.objects.count()}


def refresh() -> dict[str, Any]:
    from kehu.segments.refresh import refresh_all_metrics

    report = refresh_all_metrics()
    return {"seconds": report.seconds, "total": report.total_seconds, "route": report.route}


def time_summary_route(route: str) -> dict[str, Any]:
    from django.utils import timezone

    from kehu.segments.refresh_orders import summarise_orders

    timings = []
    label = route
    for _run in range(ROUTE_RUNS):
        started = time.perf_counter()
        label = summarise_orders(timezone.localdate(), route=route).route  # type: ignore[arg-type]
        timings.append(time.perf_counter() - started)
    return {"route": label, "timings": timings}


def print_result(row: dict[str, Any]) -> None:
    report(row)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--worker":
        worker(sys.argv[2], int(sys.argv[3]))
    else:
        main()
