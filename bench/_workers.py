"""Running a benchmark once per database, each in a subprocess with its own Django set-up.

SQLite gets a temporary KEHU_VAR_DIR; PostgreSQL is the DATABASE_URL that `make bench` starts.
A worker reports each result as one line `BENCH-RESULT {json}` on its standard output.
"""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

RESULT_MARK = "BENCH-RESULT "
ROOT = Path(__file__).resolve().parent.parent


def run_on_each_database(module: str, arguments: list[str], doing: str) -> list[dict[str, Any]]:
    """Run `python -m MODULE --worker LABEL ARGUMENTS…` for SQLite, then for PostgreSQL if set."""
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="kehu-bench-") as var_dir:
        environment = {**os.environ, "KEHU_VAR_DIR": var_dir}
        environment.pop("DATABASE_URL", None)
        results += run_worker(module, "SQLite", environment, arguments, doing)
    if os.environ.get("DATABASE_URL"):
        results += run_worker(module, "PostgreSQL", dict(os.environ), arguments, doing)
    else:
        print("(DATABASE_URL not set: PostgreSQL skipped; `make bench` starts one.)")
    return results


def run_worker(
    module: str, label: str, environment: dict[str, str], arguments: list[str], doing: str
) -> list[dict[str, Any]]:
    print(f"{label}: {doing}…", flush=True)
    completed = subprocess.run(
        [sys.executable, "-m", module, "--worker", label, *arguments],
        env={**environment, "DJANGO_SETTINGS_MODULE": "kehu.settings"},
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        print(f"{label}: the worker failed (exit {completed.returncode}).", flush=True)
    return [
        json.loads(line[len(RESULT_MARK) :])
        for line in completed.stdout.splitlines()
        if line.startswith(RESULT_MARK)
    ]


def report(result: dict[str, Any]) -> None:
    """Called in a worker: hand one result to the parent."""
    print(RESULT_MARK + json.dumps(result), flush=True)
