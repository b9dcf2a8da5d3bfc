"""A worker killed in the middle of an import, for real: the task runs in a child process on an
SQLite file database and the test sends it SIGKILL half way through writing (what the kernel's
out-of-memory killer or a lost container does to a worker). Nothing of an all-or-nothing import
is left; a valid-rows import keeps whole chunks, says how far it got, and goes on from there.
Also: a zip bomb and a giant shared-strings table cost a worker no memory (measured in a child
with getrusage).
"""

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from kehu.imports.tests.workbooks import shared_strings_bomb, zip_bomb

ROOT = Path(__file__).resolve().parents[3]
PROGRAM = "import django; django.setup(); from kehu.imports.tests.child import main; main()"
ROWS = 3000
WAIT_SECONDS = 240


@pytest.fixture(scope="module")
def migrated(tmp_path_factory) -> Path:
    """One migrated SQLite file for the module (migrating takes some seconds)."""
    folder = tmp_path_factory.mktemp("migrated")
    subprocess.run(
        [sys.executable, "-c", PROGRAM, "bombs"],
        env=child_environment(folder),
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=WAIT_SECONDS,
    )
    return folder / "kehu.sqlite3"


@pytest.fixture
def var_dir(migrated, tmp_path) -> Path:
    folder = tmp_path / "var"
    folder.mkdir()
    shutil.copyfile(migrated, folder / "kehu.sqlite3")
    return folder


def child_environment(var_dir: Path) -> dict[str, str]:
    environment = {
        **os.environ,
        "KEHU_VAR_DIR": str(var_dir),
        "DJANGO_SETTINGS_MODULE": "kehu.settings",
    }
    environment.pop("DATABASE_URL", None)
    environment.pop("KEHU_TASK_BACKEND", None)
    return environment


def child(var_dir: Path, *arguments: object) -> dict[str, Any]:
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


def start_child(var_dir: Path, *arguments: object) -> subprocess.Popen[str]:
    """The import's worker, to be killed. The events its rows record are another worker's job
    (as in production), so it does not dispatch them inline on each chunk's commit."""
    environment = child_environment(var_dir)
    environment["KEHU_TASK_BACKEND"] = "django.tasks.backends.dummy.DummyBackend"
    return subprocess.Popen(
        [sys.executable, "-c", PROGRAM, *map(str, arguments)],
        env=environment,
        cwd=ROOT,
        text=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def job_state(var_dir: Path, job_id: int) -> dict[str, Any]:
    with sqlite3.connect(var_dir / "kehu.sqlite3", timeout=30) as database:
        database.row_factory = sqlite3.Row
        row = database.execute(
            "SELECT status, phase, committed_line, created_count FROM imports_importjob "
            "WHERE id = ?",
            [job_id],
        ).fetchone()
        customers = database.execute("SELECT count(*) FROM customers_customer").fetchone()[0]
    return {**dict(row), "customers": customers}


def kill_when(process: subprocess.Popen[str], var_dir: Path, job_id: int, ready: Any) -> dict:
    """SIGKILL the worker as soon as `ready(state)`; the state it was killed in."""
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        state = job_state(var_dir, job_id)
        assert process.poll() is None, f"the import ended before it was killed: {state}"
        if ready(state):
            process.send_signal(signal.SIGKILL)
            process.wait()
            return state
        time.sleep(0.05)
    process.kill()
    raise AssertionError("the import never got there")


def test_a_worker_killed_while_writing_all_or_nothing_leaves_nothing(var_dir):
    queued = child(var_dir, "prepare", ROWS, "all_or_nothing")
    worker = start_child(var_dir, "run", queued["job"], queued["actor"])
    writing_since: list[float] = []

    def one_second_into_writing(state: dict) -> bool:
        if state["phase"] == "writing" and not writing_since:
            writing_since.append(time.monotonic())
        return bool(writing_since) and time.monotonic() - writing_since[0] > 1.0

    killed_in = kill_when(worker, var_dir, queued["job"], one_second_into_writing)
    assert killed_in["status"] == "running"
    after = job_state(var_dir, queued["job"])
    assert after["customers"] == 0  # the transaction died with the worker
    resumed = child(var_dir, "resume", queued["job"], queued["actor"])
    assert resumed["found_status"] == "failed"
    assert resumed["found_message"] == (
        "The work stopped before the end (its worker ended); nothing was imported. Run it again."
    )
    assert (resumed["status"], resumed["created"], resumed["failed"]) == ("imported", ROWS, 0)
    assert resumed["customers"] == resumed["distinct_names"] == ROWS


def test_a_worker_killed_while_writing_valid_rows_keeps_whole_chunks_and_goes_on(var_dir):
    queued = child(var_dir, "prepare", ROWS, "valid_rows")
    worker = start_child(var_dir, "run", queued["job"], queued["actor"])
    kill_when(worker, var_dir, queued["job"], lambda state: state["committed_line"] >= 600)
    after = job_state(var_dir, queued["job"])
    # every chunk is committed with its last line: the rows written are exactly those up to it
    assert after["customers"] == after["created_count"] == after["committed_line"] - 1
    assert 0 < after["customers"] < ROWS
    resumed = child(var_dir, "resume", queued["job"], queued["actor"])
    assert resumed["found_status"] == "failed"
    assert resumed["found_message"] == (
        f"The import stopped before the end (its worker ended). Every row up to line "
        f"{after['committed_line']} was handled: {after['customers']} created, 0 updated. Run "
        f"the import again to go on from line {after['committed_line'] + 1}."
    )
    assert (resumed["status"], resumed["created"], resumed["failed"]) == ("imported", ROWS, 0)
    assert resumed["customers"] == resumed["distinct_names"] == ROWS


def test_zip_bombs_are_refused_in_bounded_memory(var_dir, tmp_path):
    """A 2 MB workbook unpacking to 600 MB and one with a 40 MB shared-strings table (each
    would take openpyxl well over a gigabyte) are refused from the zip directory alone."""
    bomb = zip_bomb(tmp_path)
    strings = shared_strings_bomb(tmp_path)
    measured = child(var_dir, "bombs", bomb, strings)
    assert measured["messages"] == [
        "The XLSX file unpacks to 600 MB; at most 500 MB can be imported. "
        "Split it or save it as CSV.",
        "The XLSX file's part “xl/sharedStrings.xml” unpacks to 40 MB; at most 32 MB can be "
        "read. Split the file or save it as CSV.",
    ]
    assert measured["after_kb"] - measured["before_kb"] < 20 * 1024, measured
