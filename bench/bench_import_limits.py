"""Hostile and large workbooks at import: the time and peak memory of refusing a zip bomb and a
giant shared-strings table, and of importing a large XLSX of customers (dry run, then import).

Each measurement runs in its own process against a fresh SQLite database, so its peak RSS is
its own; the files are built once, by `kehu/imports/tests/workbooks.py` (bombs) and openpyxl (the
large workbook). `KEHU_BENCH_SCALE=0.1` shrinks the large workbook for a quick try.
"""

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

CUSTOMERS = 100_000


def scale() -> float:
    return float(os.environ.get("KEHU_BENCH_SCALE", "1.0"))


def main() -> None:
    from kehu.imports.tests.workbooks import shared_strings_bomb, zip_bomb

    customers = max(int(CUSTOMERS * scale()), 1000)
    with tempfile.TemporaryDirectory(prefix="kehu-bench-limits-") as folder:
        files = Path(folder)
        cases = [
            ("zip bomb (sheet unpacks to 600 MB)", zip_bomb(files)),
            ("shared strings of 40 MB", shared_strings_bomb(files)),
            (f"XLSX of {customers:,} customers", customers_workbook(files, customers)),
        ]
        print("| file | size (MB) | result | seconds | peak RSS (MB) | load |")
        print("|---|---:|---|---:|---:|---:|")
        for label, path in cases:
            load = os.getloadavg()[0]
            result = json.loads(run_worker(path))
            print(
                f"| {label} | {path.stat().st_size / 2**20:.1f} | {result['result']} | "
                f"{result['seconds']:.1f} | {result['peak_rss_mb']:.0f} | {load:.1f} |",
                flush=True,
            )
    print(
        "\nSeconds: upload, dry run and import (valid rows) of the file as `kehu import` runs "
        "them; the bombs are refused at upload from the zip directory, before a byte is "
        "inflated. Peak RSS of the whole process (Django and openpyxl loaded: about 110 MB)."
    )


def customers_workbook(folder: Path, customers: int) -> Path:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(["姓名", "手机号", "城市", "备注"])
    for number in range(customers):
        sheet.append([f"客户{number}", f"139{number:08d}", "杭州", f"第 {number} 位客户"])
    path = folder / "customers.xlsx"
    workbook.save(path)
    return path


def run_worker(path: Path) -> str:
    with tempfile.TemporaryDirectory(prefix="kehu-bench-limits-db-") as var_dir:
        environment = dict(os.environ, KEHU_VAR_DIR=var_dir, DJANGO_SETTINGS_MODULE="kehu.settings")
        environment.pop("DATABASE_URL", None)
        command = [sys.executable, "-m", "bench.bench_import_limits", "import", str(path)]
        completed = subprocess.run(
            command, env=environment, capture_output=True, text=True, check=False
        )
    if completed.returncode != 0:
        raise RuntimeError(f"import failed:\n{completed.stdout}\n{completed.stderr}")
    return completed.stdout.strip().splitlines()[-1]


def import_file(path: Path) -> dict[str, Any]:
    """In the worker: a fresh database, then upload, dry run and import the file."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import translation

    from kehu.accounts.models import User
    from kehu.accounts.roles import Role
    from kehu.core.errors import DomainError
    from kehu.imports.services import preview_import, run_import, start_import

    translation.activate("en")
    call_command("migrate", verbosity=0)
    actor = User.objects.create_user(username="bench-admin", role=Role.ADMIN)  # no password
    began = time.perf_counter()
    try:
        job = start_import(actor, "customers", path, file_name=path.name)
        preview_import(actor, job.pk, job.mapping, "valid_rows")
        job = run_import(actor, job.pk)
        result = f"imported: {job.created_count:,} created, {job.failed_count} failed"
    except DomainError as refusal:
        result = f"refused: {refusal.message}"
    seconds = time.perf_counter() - began
    return {"result": result, "seconds": seconds, "peak_rss_mb": peak_rss_mb()}


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


if __name__ == "__main__":
    if sys.argv[1:2] == ["import"]:
        print(json.dumps(import_file(Path(sys.argv[2]))))
    else:
        main()
