"""The outbox survives a dispatcher killed for real. 10,000 orders are written as an import
writes them (with their `order.posted` events); dispatcher processes (`kehu events dispatch`)
run them and are killed with SIGKILL twice during dispatch — the second time while another
dispatcher runs beside it — and restarted. Afterwards every order of a member earned exactly
once, every handler ran its effect once per event, and nothing is left pending or dead.

On SQLite the children share a migrated file database; on PostgreSQL
(`scripts/with-postgres.sh .venv/bin/pytest -m crash kehu/events`) they use the test database.
Run on its own with `-m crash`. A webhook subscription to `order.posted` points at a loopback
HTTP receiver: once the dispatchers are done, a sender delivers what they queued, and the
receiver must have got every event id at least once (duplicates allowed, none missing).
"""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[3]
PROGRAM = "import django; django.setup(); from kehu.events.tests.crash_child import main; main()"
ORDERS = 10_000
CUSTOMERS = 2_000
# loyalty.earn_points, loyalty.reward_referral, segments.refresh_metrics, webhooks.queue and
# crash.effect
HANDLERS = 5
WAIT_SECONDS = 600

pytestmark = [pytest.mark.crash]


def child_environment(var_dir: Path) -> dict[str, str]:
    environment = {
        **os.environ,
        "KEHU_VAR_DIR": str(var_dir),
        "DJANGO_SETTINGS_MODULE": "kehu.settings",
        # Nothing dispatches on commit: only the dispatcher processes the test starts and kills.
        "KEHU_TASK_BACKEND": "django.tasks.backends.dummy.DummyBackend",
        "KEHU_WEBHOOKS_ALLOW_PRIVATE_ADDRESSES": "true",  # the receiver is on loopback
    }
    if connection.vendor == "postgresql":
        settings = connection.settings_dict
        environment["DATABASE_URL"] = (
            f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}"
        )
    else:
        environment.pop("DATABASE_URL", None)
    return environment


def run_child(var_dir: Path, *arguments: object) -> dict[str, Any]:
    completed = subprocess.run(
        [sys.executable, "-c", PROGRAM, *map(str, arguments)],
        env=child_environment(var_dir),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=WAIT_SECONDS,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(completed.stdout.strip().splitlines()[-1])


def start_dispatcher(var_dir: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", PROGRAM, "dispatch"],
        env=child_environment(var_dir),
        cwd=ROOT,
        text=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def done_runs(var_dir: Path) -> int:
    query = "SELECT count(*) FROM events_handlerrun WHERE status = 'done'"
    if connection.vendor == "postgresql":
        import psycopg

        settings = connection.settings_dict
        with psycopg.connect(
            host=settings["HOST"], port=settings["PORT"], user=settings["USER"],
            dbname=settings["NAME"], autocommit=True,
        ) as database:  # fmt: skip
            row = database.execute(query).fetchone()
    else:
        with sqlite3.connect(var_dir / "kehu.sqlite3", timeout=30) as database:
            row = database.execute(query).fetchone()
    return int(row[0]) if row else 0


def kill_at(process: subprocess.Popen[str], var_dir: Path, done: int) -> int:
    """SIGKILL the dispatcher once `done` deliveries are done; how many were done then."""
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        count = done_runs(var_dir)
        if process.poll() is not None:
            raise AssertionError(f"the dispatcher ended before it was killed ({count} done)")
        if count >= done:
            process.send_signal(signal.SIGKILL)
            process.wait()
            return count
        time.sleep(0.05)
    process.kill()
    raise AssertionError("the dispatcher never got there")


def check_everything_delivered(after: dict[str, Any]) -> None:
    assert after["events"] == ORDERS
    assert after["runs"] == {"done": ORDERS * HANDLERS}
    assert len(after["effects"]) == ORDERS  # every event's effect is there ...
    assert set(after["effects"].values()) == {1}  # ... once
    assert set(after["effects"]) == set(after["event_ids"])
    assert after["earned_orders"] == after["earn_entries"] == after["member_orders"]
    assert after["balance_mismatches"] == 0
    assert after["attempts_above_one"] == 0  # a killed attempt left no trace, not even a count


@pytest.fixture
def var_dir(tmp_path) -> Path:
    return tmp_path


class Receiver(BaseHTTPRequestHandler):
    """A webhook receiver on loopback: notes the id of every delivery and answers 204."""

    received: list[str]

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.received.append(self.headers["webhook-id"])
        self.send_response(204)
        self.end_headers()

    def log_message(self, *arguments: object) -> None:
        pass


@pytest.fixture
def receiver():
    received: list[str] = []
    handler = type("CountingReceiver", (Receiver,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hooks", received
    server.shutdown()
    server.server_close()


@pytest.mark.django_db(transaction=True)
def test_dispatchers_killed_twice_lose_nothing_and_double_nothing(var_dir, receiver):
    receiver_url, received = receiver
    prepared = run_child(var_dir, "prepare", ORDERS, CUSTOMERS, receiver_url)
    assert prepared == {"orders": ORDERS, "runs": ORDERS * HANDLERS}
    total = ORDERS * HANDLERS

    first = start_dispatcher(var_dir)
    killed_first_at = kill_at(first, var_dir, total // 5)
    second, beside = start_dispatcher(var_dir), start_dispatcher(var_dir)
    killed_second_at = kill_at(second, var_dir, total // 2)
    assert beside.wait(timeout=WAIT_SECONDS) == 0, beside.stderr.read()[-3000:]  # type: ignore[union-attr]
    last = start_dispatcher(var_dir)
    assert last.wait(timeout=WAIT_SECONDS) == 0, last.stderr.read()[-3000:]  # type: ignore[union-attr]

    assert 0 < killed_first_at < killed_second_at < total
    after = run_child(var_dir, "check")
    check_everything_delivered(after)

    assert run_child(var_dir, "send") == {"deliveries": {"succeeded": ORDERS}}
    assert set(received) == set(after["event_ids"])  # every event at least once, same ids
