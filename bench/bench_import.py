"""Import throughput and memory: 1,000,000 order lines through `run_import`, on SQLite and
PostgreSQL, compared with django-import-export on a smaller sample.

Each measurement runs in its own process (so its peak RSS is the import's own) against a fresh
database: a temporary SQLite file, and the PostgreSQL server of `make bench` (DATABASE_URL) when
there is one. `KEHU_BENCH_SCALE=0.02` shrinks every size for a quick try.
"""

import csv
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

LINES = 1_000_000
LINES_PER_ORDER = 4
CUSTOMERS = 50_000
COMPARISON_LINES = 20_000
HEADER = ["订单号", "渠道", "门店", "会员号", "下单时间", "SKU", "商品名称", "数量", "单价", "优惠"]
PRODUCTS = [
    (f"SKU-{number:04d}", f"商品 {number}", Decimal(5 + number % 90)) for number in range(400)
]


def scale() -> float:
    return float(os.environ.get("KEHU_BENCH_SCALE", "1.0"))


def main() -> None:
    factor = scale()
    lines = max(int(LINES * factor), 1000)
    customers = max(int(CUSTOMERS * factor), 100)
    comparison = max(int(COMPARISON_LINES * factor), 400)
    databases = [("SQLite", None)]
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        databases.append(("PostgreSQL", os.environ["DATABASE_URL"]))
    print("| database | tool | rows | seconds | rows/s | peak RSS (MB) | load |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for label, url in databases:
        for size in (lines // 5, lines):
            show(label, "kehu run_import (valid rows)", measure(url, "kehu", size, customers))
        show(
            label,
            "django-import-export (sample)",
            measure(url, "import_export", comparison, customers),
        )
    print(
        "\nkehu validates the whole file, then writes it (two streaming passes, chunks of 8,000 "
        "lines); Python's memory stays flat, and on SQLite the peak RSS also holds the page "
        "cache, which grows with the database up to the app's PRAGMA cache_size (64 MB) and "
        "stops there. django-import-export imports the distinct orders, then the lines, with "
        "its default settings. “load” is the machine's 1-minute load average when the import "
        "started: on a busy machine the times are longer."
    )


def show(database: str, tool: str, result: dict[str, Any]) -> None:
    rows, seconds = result["rows"], result["seconds"]
    print(
        f"| {database} | {tool} | {rows:,} | {seconds:.1f} | {rows / seconds:,.0f} | "
        f"{result['peak_rss_mb']:.0f} | {result['load']:.1f} |",
        flush=True,
    )


def measure(database_url: str | None, tool: str, lines: int, customers: int) -> dict[str, Any]:
    """Prepare a fresh database and file in one process, then import in another."""
    with tempfile.TemporaryDirectory(prefix="kehu-bench-import-") as folder:
        environment = dict(os.environ, KEHU_VAR_DIR=folder, DJANGO_SETTINGS_MODULE="kehu.settings")
        if database_url:
            environment["DATABASE_URL"] = database_url
        else:
            environment.pop("DATABASE_URL", None)
        arguments = [str(lines), str(customers), folder]
        run_worker(environment, "prepare", tool, arguments)
        load = os.getloadavg()[0]
        result = json.loads(run_worker(environment, "import", tool, arguments))
        return {**result, "load": load}


def run_worker(environment: dict[str, str], step: str, tool: str, arguments: list[str]) -> str:
    command = [sys.executable, "-m", "bench.bench_import", step, tool, *arguments]
    completed = subprocess.run(
        command, env=environment, capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{step} failed:\n{completed.stdout}\n{completed.stderr}")
    return completed.stdout.strip().splitlines()[-1] if completed.stdout.strip() else ""


def setup_django() -> None:
    import django

    django.setup()


def prepare(lines: int, customers: int, folder: Path) -> None:
    """Empty database with staff, a channel, stores, products and customers; write the file."""
    setup_django()
    from django.core.management import call_command

    from kehu.accounts.models import User
    from kehu.accounts.roles import Role
    from kehu.commerce.models import ChannelKind, Product, SalesChannel, Store
    from kehu.customers.models import Customer

    call_command("flush", interactive=False, verbosity=0) if "DATABASE_URL" in os.environ else None
    call_command("migrate", verbosity=0)
    User.objects.create_user(username="bench-admin", password="x", role=Role.ADMIN)  # noqa: S106
    SalesChannel.objects.create(code="pos", name="门店收银", kind=ChannelKind.STORE)
    Store.objects.bulk_create(
        Store(code=f"S{number:02d}", name=f"门店 {number}") for number in range(20)
    )
    Product.objects.bulk_create(
        Product(sku=sku, name=name, price=price) for sku, name, price in PRODUCTS
    )
    Customer.objects.bulk_create(
        (
            Customer(
                name=f"客户{number}", member_number=f"M{number:07d}", mobile=f"139{number:08d}"
            )
            for number in range(customers)
        ),
        batch_size=2000,
    )
    write_order_lines(folder / "orders.csv", lines, customers)


def write_order_lines(path: Path, lines: int, customers: int) -> None:
    generator = random.Random(7)
    start = datetime(2023, 1, 1, 9, 0)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for number in range(lines):
            order = number // LINES_PER_ORDER
            member = (
                f"M{generator.randrange(customers) if number % LINES_PER_ORDER == 0 else 0:07d}"
            )
            if number % LINES_PER_ORDER == 0:
                current = (member, start + timedelta(minutes=order * 2))
            sku, name, price = PRODUCTS[generator.randrange(len(PRODUCTS))]
            writer.writerow([
                f"BENCH-{order:08d}", "pos", f"S{order % 20:02d}", current[0],
                current[1].strftime("%Y-%m-%d %H:%M:%S"), sku, name,
                generator.randint(1, 3), price, "1.00" if number % 7 == 0 else "",
            ])  # fmt: skip


def import_with_kehu(lines: int, folder: Path) -> dict[str, Any]:
    setup_django()
    from kehu.accounts.models import User
    from kehu.imports.services import run_import, start_import

    actor = User.objects.get(username="bench-admin")
    began = time.perf_counter()
    job = start_import(actor, "orders", folder / "orders.csv", file_name="orders.csv")
    job = run_import(actor, job.pk, mode="valid_rows")
    seconds = time.perf_counter() - began
    if job.failed_count or job.created_count != lines:
        raise RuntimeError(
            f"unexpected counts: {job.created_count} created, {job.error_sample[:3]}"
        )
    return {"rows": lines, "seconds": seconds, "peak_rss_mb": peak_rss_mb()}


def import_with_import_export(lines: int, folder: Path) -> dict[str, Any]:
    setup_django()
    import tablib
    from import_export import fields, resources, widgets

    from kehu.commerce.models import Order, OrderLine, SalesChannel
    from kehu.customers.models import Customer

    class OrderResource(resources.ModelResource):
        customer = fields.Field(
            "customer", "会员号", widgets.ForeignKeyWidget(Customer, "member_number")
        )
        channel = fields.Field("channel", "渠道", widgets.ForeignKeyWidget(SalesChannel, "code"))

        class Meta:
            model = Order
            import_id_fields = ("external_id",)
            fields = ("external_id", "customer", "channel", "ordered_at", "total_amount")

    class OrderLineResource(resources.ModelResource):
        order = fields.Field("order", "订单号", widgets.ForeignKeyWidget(Order, "external_id"))

        class Meta:
            model = OrderLine
            fields = ("id", "order", "product_name", "quantity", "unit_price", "discount", "amount")

    orders, order_lines = import_export_datasets(tablib, folder / "orders.csv")
    began = time.perf_counter()
    for resource_class, dataset in ((OrderResource, orders), (OrderLineResource, order_lines)):
        result = resource_class().import_data(dataset, dry_run=False, raise_errors=True)
        if result.has_errors():
            raise RuntimeError("django-import-export reported errors")
    seconds = time.perf_counter() - began
    return {"rows": lines, "seconds": seconds, "peak_rss_mb": peak_rss_mb()}


def import_export_datasets(tablib: Any, path: Path) -> tuple[Any, Any]:
    """The same file as two tables, the shape django-import-export needs: orders, then lines."""
    orders: dict[str, list[Any]] = {}
    lines = tablib.Dataset(
        headers=["id", "订单号", "product_name", "quantity", "unit_price", "discount", "amount"]
    )
    with open(path, encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            discount = Decimal(row["优惠"] or 0)
            amount = Decimal(row["数量"]) * Decimal(row["单价"]) - discount
            order = orders.setdefault(
                row["订单号"],
                [row["订单号"], row["会员号"], "pos", row["下单时间"], Decimal(0)],
            )
            order[4] += amount
            lines.append(
                ["", row["订单号"], row["商品名称"], row["数量"], row["单价"], discount, amount]
            )
    order_table = tablib.Dataset(
        headers=["external_id", "会员号", "渠道", "ordered_at", "total_amount"]
    )
    for order in orders.values():
        order_table.append(order)
    return order_table, lines


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker(argv: list[str]) -> None:
    step, tool, lines, customers, folder = (
        argv[0],
        argv[1],
        int(argv[2]),
        int(argv[3]),
        Path(argv[4]),
    )
    if step == "prepare":
        prepare(lines, customers, folder)
        return
    measure_import = import_with_kehu if tool == "kehu" else import_with_import_export
    print(json.dumps(measure_import(lines, folder)))


if __name__ == "__main__":
    worker(sys.argv[1:])
