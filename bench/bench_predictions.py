"""The nightly predictions refresh (models, churn risk, next best action, recommendations, store,
notifications) on the large demo data set, per step.

For SQLite (in a temporary KEHU_VAR_DIR) and for the PostgreSQL in DATABASE_URL when set, a
subprocess with its own Django set-up migrates, generates the demo data (KEHU_BENCH_CUSTOMERS
customers, default 200,000) and times `refresh_predictions()` twice: the first run, after the
demo's predictions are deleted, inserts every row and warns everyone at risk; the second updates
them. Target: under 120 s for each run on each database.
"""

import os
import sys
import time
from typing import Any

from bench._workers import report, run_on_each_database

TARGET_SECONDS = 120.0


def main() -> None:
    customers = int(os.environ.get("KEHU_BENCH_CUSTOMERS", "200000"))
    doing = f"generating {customers:,} customers and timing the predictions refresh"
    rows = run_on_each_database("bench.bench_predictions", [str(customers)], doing)
    print_table(rows)


def print_table(rows: list[dict[str, Any]]) -> None:
    print()
    print("| database | customers | orders | order lines | contacts | run | step | seconds |")
    print("|---|---:|---:|---:|---:|---|---|---:|")
    for row in rows:
        sizes = (
            f"{row['customers']:,} | {row['orders']:,} | {row['order_lines']:,} "
            f"| {row['interactions']:,}"
        )
        for step, seconds in [*row["seconds"].items(), ("**total**", row["total"])]:
            print(f"| {row['database']} | {sizes} | {row['run']} | {step} | {seconds:.2f} |")
    print()
    for row in rows:
        print(
            f"{row['database']} {row['run']}: {row['buyers']:,} buyers, churn levels "
            f"{row['levels']}, {row['newly_warned']:,} newly warned, "
            f"{row['notifications']:,} notifications. {row['fit_message']}"
        )
    slow = [row for row in rows if row["total"] > TARGET_SECONDS]
    for row in slow:
        print(f"\nOver the {TARGET_SECONDS:.0f} s target: {row['database']} {row['run']}.")
    if rows and not slow:
        print(f"\nEvery predictions refresh is under the {TARGET_SECONDS:.0f} s target.")


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
    forget_predictions()
    for run in ("first (insert)", "second (update)"):
        report({"database": database, "run": run, **counts, **refresh()})
    report({"database": database, "run": "whole nightly job", **counts, **nightly()})


def database_counts() -> dict[str, int]:
    from kehu.commerce.models import Order, OrderLine
    from kehu.customers.models import Customer
    from kehu.engagement.models import Interaction

    return {
        "customers": Customer.objects.count(),
        "orders": Order.objects.count(),
        "order_lines": OrderLine.objects.count(),
        "interactions": Interaction.objects.count(),
    }


def forget_predictions() -> None:
    """Delete what the demo's own refresh stored, so the first timed run starts from nothing."""
    from django.db import connection, transaction

    from kehu.accounts.models import Notification
    from kehu.predictions.models import ChurnLevelChange, CustomerPrediction, PredictionFit

    with transaction.atomic(), connection.cursor() as cursor:
        for model in (CustomerPrediction, ChurnLevelChange, PredictionFit):
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}")
    Notification.objects.filter(kind="churn_warning").delete()


def refresh() -> dict[str, Any]:
    from kehu.predictions.refresh import refresh_predictions

    result = refresh_predictions()
    return {
        "seconds": result.seconds,
        "total": result.total_seconds,
        "buyers": result.buyers,
        "levels": result.levels,
        "newly_warned": result.newly_warned,
        "notifications": result.notifications,
        "fit_message": result.fit_message,
    }


def nightly() -> dict[str, Any]:
    """The whole nightly chain (refresh_segmentation), by stage: what "scores refresh in the
    nightly job" means to the business."""
    from kehu.segments.nightly import refresh_segmentation

    started = time.perf_counter()
    result = refresh_segmentation()
    total = time.perf_counter() - started
    metrics, predictions = result.metrics.total_seconds, result.predictions.total_seconds
    return {
        "seconds": {
            "metrics and scores": metrics,
            "predictions": predictions,
            "segments and tags": total - metrics - predictions,
        },
        "total": total,
        "buyers": result.predictions.buyers,
        "levels": result.predictions.levels,
        "newly_warned": result.predictions.newly_warned,
        "notifications": result.predictions.notifications,
        "fit_message": result.predictions.fit_message,
    }


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--worker":
        worker(sys.argv[2], int(sys.argv[3]))
    else:
        main()
