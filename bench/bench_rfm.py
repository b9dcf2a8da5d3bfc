"""Per-customer RFM summary on 1M, 10M and 50M synthetic transactions: kehu against a plain
pandas group-by and lifetimes' `summary_data_from_transaction_data`.

The transactions are generated with numpy straight into Parquet files (in chunks, so memory stays
bounded), ten lines per customer on average, one to three lines per order. Each tool then reads
the same file in its own process so that its peak RSS (ru_maxrss) is its own: kehu runs the Ibis
summary in DuckDB over the file; pandas reads the file and groups; lifetimes reads it and
summarises. A baseline is skipped at a size where its previous measurement, scaled linearly,
predicts more than 10 minutes or more than 80 % of the machine's memory. `KEHU_BENCH_SCALE=0.01`
shrinks every size for a quick try.
"""

import datetime
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SIZES = (1_000_000, 10_000_000, 50_000_000)
LINES_PER_CUSTOMER = 10
CHUNK_ROWS = 2_000_000
START = datetime.datetime(2023, 1, 1)
DAYS = 730
AS_OF = datetime.date(2025, 1, 1)
TOOLS = ("kehu", "pandas", "lifetimes")
TIME_LIMIT_SECONDS = 600
MEMORY_SHARE_LIMIT = 0.8


def scale() -> float:
    return float(os.environ.get("KEHU_BENCH_SCALE", "1.0"))


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--worker":
        run_worker(sys.argv[2], Path(sys.argv[3]))
        return
    sizes = [max(int(size * scale()), 10_000) for size in SIZES]
    print("| rows | customers | tool | seconds | peak RSS (MB) | time vs kehu |")
    print("|---:|---:|---|---:|---:|---:|", flush=True)
    last: dict[str, tuple[int, dict[str, float]]] = {}
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="kehu-bench-rfm-") as folder:
        for rows in sizes:
            path = Path(folder) / f"transactions_{rows}.parquet"
            generate(path, rows)
            kehu_seconds = None
            for tool in TOOLS:
                reason = too_big(last.get(tool), rows)
                if reason:
                    notes.append(f"{tool} at {rows:,} rows skipped: {reason}.")
                    print(f"| {rows:,} | {rows // LINES_PER_CUSTOMER:,} | {tool} | skipped | | |")
                    continue
                result = measure(tool, path)
                last[tool] = (rows, result)
                if tool == "kehu":
                    kehu_seconds = result["seconds"]
                ratio = f"{result['seconds'] / kehu_seconds:.1f}×" if kehu_seconds else ""
                print(
                    f"| {rows:,} | {int(result['customers']):,} | {tool} | "
                    f"{result['seconds']:.2f} | {result['peak_mb']:,.0f} | {ratio} |",
                    flush=True,
                )
            path.unlink()
    print(
        "\nSeconds: reading the Parquet file and computing one row per customer (imports "
        "excluded); peak RSS of the whole worker process. kehu: DuckDB over the file "
        f"({os.cpu_count()} cores); pandas and lifetimes are single-threaded. lifetimes counts "
        "repeat purchase days rather than distinct orders (its own definition)."
    )
    for note in notes:
        print(f"- {note}")


def generate(path: Path, rows: int) -> None:
    """Write ``rows`` transaction lines in chunks: orders of 1–3 lines, random customers."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet

    random = np.random.default_rng(rows)
    customers = max(rows // LINES_PER_CUSTOMER, 1)
    start = np.datetime64(START, "us")
    schema = pa.schema(
        [
            ("customer_id", pa.int64()),
            ("order_id", pa.int64()),
            ("date", pa.timestamp("us")),
            ("amount", pa.float64()),
        ]
    )
    written = 0
    next_order = 0
    with pyarrow.parquet.ParquetWriter(path, schema) as writer:
        while written < rows:
            size = min(CHUNK_ROWS, rows - written)
            orders = size  # every order has at least one line, so there are enough
            lines = random.integers(1, 4, size=orders)
            order_index = np.repeat(np.arange(orders), lines)[:size]
            customer = random.integers(0, customers, size=orders)[order_index]
            seconds = random.integers(0, DAYS * 86_400, size=orders)[order_index]
            columns = {
                "customer_id": customer,
                "order_id": next_order + order_index,
                "date": start + seconds.astype("timedelta64[s]"),
                "amount": np.round(random.gamma(2.0, 30.0, size=size), 2),
            }
            writer.write_table(pa.table(columns, schema=schema))
            written += size
            next_order += int(order_index[-1]) + 1


def too_big(previous: tuple[int, dict[str, float]] | None, rows: int) -> str:
    """Why a tool should not run at ``rows``, judged from its previous size; '' to run it."""
    if previous is None:
        return ""
    previous_rows, result = previous
    factor = rows / previous_rows
    seconds = result["seconds"] * factor
    peak_mb = result["peak_mb"] * factor
    memory_mb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**20
    if seconds > TIME_LIMIT_SECONDS:
        return f"about {seconds:,.0f} s predicted from {previous_rows:,} rows"
    if peak_mb > MEMORY_SHARE_LIMIT * memory_mb:
        return f"about {peak_mb:,.0f} MB predicted, the machine has {memory_mb:,.0f} MB"
    return ""


def measure(tool: str, path: Path) -> dict[str, float]:
    completed = subprocess.run(
        [sys.executable, "-m", "bench.bench_rfm", "--worker", tool, str(path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=TIME_LIMIT_SECONDS * 2,
        cwd=Path(__file__).resolve().parents[1],
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{tool} failed:\n{completed.stderr[-3000:]}")
    result: dict[str, float] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def run_worker(tool: str, path: Path) -> None:
    summarise = {"kehu": kehu_summary, "pandas": pandas_summary, "lifetimes": lifetimes_summary}
    function = summarise[tool]
    function(None)  # import the libraries before the clock starts
    started = time.perf_counter()
    customers = function(path)
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mb": peak_mb, "customers": customers}))


def kehu_summary(path: Path | None) -> int:
    from kehu.analytics import summary_from_file

    if path is None:
        from kehu.analytics import summary_from_arrow

        # Load the DuckDB backend and Ibis' compiler, as the imports of the others are excluded.
        summary_from_arrow({"customer_id": [1], "order_id": [1], "date": [AS_OF], "amount": [1.0]})
        return 0
    summary = summary_from_file(path, as_of=AS_OF, date_column="date")
    return int(summary.num_rows)


def pandas_summary(path: Path | None) -> int:
    import pandas

    if path is None:
        return 0
    frame = pandas.read_parquet(path)
    frame["day"] = frame["date"].dt.normalize()
    summary = frame.groupby("customer_id").agg(
        first_purchase=("day", "min"),
        last_purchase=("day", "max"),
        frequency=("order_id", "nunique"),
        monetary=("amount", "sum"),
    )
    as_of = pandas.Timestamp(AS_OF)
    summary["recency_days"] = (as_of - summary["last_purchase"]).dt.days
    summary["tenure_days"] = (as_of - summary["first_purchase"]).dt.days
    summary["average_order_value"] = summary["monetary"] / summary["frequency"]
    return len(summary)


def lifetimes_summary(path: Path | None) -> int:
    import pandas
    from lifetimes.utils import summary_data_from_transaction_data

    if path is None:
        return 0
    frame = pandas.read_parquet(path)
    summary = summary_data_from_transaction_data(
        frame,
        "customer_id",
        "date",
        monetary_value_col="amount",
        observation_period_end=pandas.Timestamp(AS_OF),
        freq="D",
    )
    return len(summary)


if __name__ == "__main__":
    main()
