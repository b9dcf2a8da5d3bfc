"""The scheduler: slots in the business's time zone, state in the database (a restart does not
re-run, a missed window runs once), and one enqueue per slot however many schedulers run.

Two schedulers at once: threads on PostgreSQL (`scripts/with-postgres.sh .venv/bin/pytest
kehu/core/tests/test_schedule.py`); on SQLite, child processes on a file database (the test
database is an in-memory shared cache whose table locks fail at once instead of waiting)."""

import json
import os
import subprocess
import sys
import tempfile
import threading
from collections import Counter
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.db import connection
from django.tasks import TaskResultStatus, task
from django.utils import timezone

from kehu.core import schedule
from kehu.core.models import ScheduledJob
from kehu.core.schedule import (
    PERIODIC_JOBS,
    PeriodicJob,
    claim_job,
    enqueue_due_jobs,
    job_states,
    scheduled_jobs,
)
from kehu.customers.models import Customer
from tests.fixtures.records import make_customer

ROOT = Path(__file__).resolve().parents[3]
EVERY_JOB = [job.name for job in PERIODIC_JOBS]
HOURLY_JOBS = [
    "return_neglected_customers",
    "loyalty_earn_pending_orders",
    "reward_pending_referrals",
]
QUARTER_HOURLY_JOBS = ["close_due_group_deals"]
TEN_MINUTE_JOBS = ["dispatch_due_events"]
MINUTE_JOBS = ["send_due_webhooks"]
# 2026-12-07 10:05 in Shanghai (UTC+8).
MORNING = datetime(2026, 12, 7, 2, 5, tzinfo=UTC)


@pytest.fixture(autouse=True)
def shanghai(settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    settings.SCHEDULE_OVERRIDES = ""


def job(name: str) -> PeriodicJob:
    return next(job for job in scheduled_jobs() if job.name == name)


class Recorder:
    """An enqueue that only notes which task it was given."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, task) -> None:
        with self.lock:
            self.names.append(task.name)


def run(now: datetime) -> list[str]:
    return enqueue_due_jobs(now, Recorder())


# --- slots -------------------------------------------------------------------------------------


def test_a_nightly_job_falls_on_its_local_time_across_the_utc_date_boundary():
    refresh = job("refresh_segmentation")  # 02:00 in Shanghai is 18:00 UTC the day before
    assert refresh.at == time(2, 0)
    just_before = datetime(2026, 12, 7, 17, 59, 59, tzinfo=UTC)
    two_am_on_the_8th = datetime(2026, 12, 7, 18, 0, tzinfo=UTC)
    assert refresh.slot_after(just_before) == two_am_on_the_8th
    assert refresh.slot_at_or_before(just_before) == two_am_on_the_8th - timedelta(days=1)
    assert refresh.slot_at_or_before(two_am_on_the_8th) == two_am_on_the_8th
    assert refresh.slot_after(two_am_on_the_8th) == two_am_on_the_8th + timedelta(days=1)


def test_the_time_zone_setting_moves_the_nightly_slot(settings):
    settings.TIME_ZONE = "Europe/Berlin"  # UTC+1 in December
    refresh = job("refresh_segmentation")
    assert refresh.slot_after(MORNING) == datetime(2026, 12, 8, 1, 0, tzinfo=UTC)


def test_interval_slots_are_aligned_whenever_the_scheduler_started():
    quarter = job("close_due_group_deals")
    hourly = job("return_neglected_customers")
    moment = datetime(2026, 12, 7, 2, 7, 30, 123456, tzinfo=UTC)
    assert quarter.slot_at_or_before(moment) == datetime(2026, 12, 7, 2, 0, tzinfo=UTC)
    assert quarter.slot_after(moment) == datetime(2026, 12, 7, 2, 15, tzinfo=UTC)
    assert hourly.slot_after(moment) == datetime(2026, 12, 7, 3, 0, tzinfo=UTC)
    assert hourly.slot_after(datetime(2026, 12, 7, 3, 0, tzinfo=UTC)) == datetime(
        2026, 12, 7, 4, 0, tzinfo=UTC
    )


def test_a_job_has_an_interval_or_a_time_of_day_not_both():
    with pytest.raises(ValueError):
        PeriodicJob("both", "x.y", every=timedelta(hours=1), at=time(2, 0))
    with pytest.raises(ValueError):
        PeriodicJob("neither", "x.y")


def test_overrides_change_the_times(settings):
    settings.SCHEDULE_OVERRIDES = "refresh_segmentation=01:30, close_due_group_deals=5m"
    assert job("refresh_segmentation").at == time(1, 30)
    assert job("close_due_group_deals").every == timedelta(minutes=5)
    assert job("return_neglected_customers").every == timedelta(hours=1)


@pytest.mark.parametrize(
    "value",
    ["refresh_segmentation=25:00", "refresh_segmentation=2am", "no_such_job=02:00", "x", "a=0m"],
)
def test_a_bad_override_is_refused_with_its_text(settings, value):
    settings.SCHEDULE_OVERRIDES = value
    with pytest.raises(ImproperlyConfigured, match="KEHU_SCHEDULE"):
        scheduled_jobs()


# --- state in the database ---------------------------------------------------------------------


@pytest.mark.django_db
def test_each_job_is_enqueued_once_per_slot():
    assert run(MORNING) == EVERY_JOB  # a new install runs every job once
    assert run(MORNING + timedelta(seconds=30)) == []
    quarter_past = datetime(2026, 12, 7, 2, 15, tzinfo=UTC)
    assert sorted(run(quarter_past)) == sorted(QUARTER_HOURLY_JOBS + TEN_MINUTE_JOBS + MINUTE_JOBS)
    assert run(quarter_past + timedelta(seconds=59)) == []
    three = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)
    assert sorted(run(three)) == sorted(
        HOURLY_JOBS + QUARTER_HOURLY_JOBS + TEN_MINUTE_JOBS + MINUTE_JOBS
    )
    assert run(three) == []


@pytest.mark.django_db
def test_the_nightly_job_runs_at_two_in_the_night_local_time():
    run(datetime(2026, 12, 7, 10, 0, tzinfo=UTC))  # 18:00 in Shanghai: the first run
    row = ScheduledJob.objects.get(name="refresh_segmentation")
    assert row.next_run_at == datetime(2026, 12, 7, 18, 0, tzinfo=UTC)
    assert "refresh_segmentation" not in run(datetime(2026, 12, 7, 17, 59, 59, tzinfo=UTC))
    assert "refresh_segmentation" in run(datetime(2026, 12, 7, 18, 0, tzinfo=UTC))
    assert "refresh_segmentation" not in run(datetime(2026, 12, 7, 18, 1, tzinfo=UTC))
    row.refresh_from_db()
    assert row.last_enqueued_at == datetime(2026, 12, 7, 18, 0, tzinfo=UTC)
    assert row.next_run_at == datetime(2026, 12, 8, 18, 0, tzinfo=UTC)


@pytest.mark.django_db
def test_a_window_missed_while_no_scheduler_ran_runs_once():
    run(MORNING)
    three_days_later = MORNING + timedelta(days=3, hours=9)  # 19:05 in Shanghai on the 10th
    names = run(three_days_later)
    assert sorted(names) == sorted(EVERY_JOB)  # each once, not once per missed slot
    assert run(three_days_later + timedelta(seconds=30)) == []
    row = ScheduledJob.objects.get(name="refresh_segmentation")
    assert row.next_run_at == datetime(2026, 12, 10, 18, 0, tzinfo=UTC)


@pytest.mark.django_db
def test_a_restarted_scheduler_does_not_rerun_what_already_ran(monkeypatch, capsys):
    frozen = timezone.now()
    monkeypatch.setattr(timezone, "now", lambda: frozen)
    call_command("scheduler", "--once")
    first = capsys.readouterr().out
    assert all(f"enqueued {name}\n" in first for name in EVERY_JOB)
    call_command("scheduler", "--once")  # a new command: no state kept in memory
    assert capsys.readouterr().out == ""
    assert ScheduledJob.objects.filter(last_enqueued_at=frozen).count() == len(EVERY_JOB)


@pytest.mark.django_db
def test_a_claim_made_on_a_stale_read_loses():
    run(MORNING)
    hourly_at_three = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)
    # Scheduler A read the row (due at 03:00); scheduler B claims and enqueues it first.
    stale = ScheduledJob.objects.get(name="return_neglected_customers").next_run_at
    assert "return_neglected_customers" in run(hourly_at_three)
    claimed = claim_job("return_neglected_customers", stale, stale + timedelta(hours=1), MORNING)
    assert claimed is False
    row = ScheduledJob.objects.get(name="return_neglected_customers")
    assert row.last_enqueued_at == hourly_at_three
    assert row.next_run_at == datetime(2026, 12, 7, 4, 0, tzinfo=UTC)


@pytest.mark.django_db
def test_a_job_that_could_not_be_enqueued_is_tried_again(caplog):
    def broken_for_one(task):
        if task.name == "expire_coupons_task":
            raise ConnectionError("queue unavailable")

    names = enqueue_due_jobs(MORNING, broken_for_one)
    assert "expire_coupons" not in names and len(names) == len(EVERY_JOB) - 1
    row = ScheduledJob.objects.get(name="expire_coupons")
    assert row.last_status == TaskResultStatus.FAILED
    assert "queue unavailable" in row.last_error
    assert row.next_run_at <= MORNING  # still due
    assert run(MORNING + timedelta(seconds=30)) == ["expire_coupons"]
    assert run(MORNING + timedelta(seconds=50)) == []


@pytest.mark.django_db
def test_a_changed_time_takes_effect_from_the_next_run(settings):
    run(MORNING)  # refresh_segmentation next at 02:00 on the 8th (18:00 UTC on the 7th)
    settings.SCHEDULE_OVERRIDES = "refresh_segmentation=01:30"
    assert run(MORNING + timedelta(seconds=30)) == []
    row = ScheduledJob.objects.get(name="refresh_segmentation")
    assert row.next_run_at == datetime(2026, 12, 7, 17, 30, tzinfo=UTC)
    assert row.schedule == "daily 01:30"
    assert "refresh_segmentation" not in run(datetime(2026, 12, 7, 17, 29, tzinfo=UTC))
    assert "refresh_segmentation" in run(datetime(2026, 12, 7, 17, 30, tzinfo=UTC))


# --- two schedulers at once --------------------------------------------------------------------

SCHEDULERS = 6

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="threads need a server database; see the docstring"
)


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_schedulers_in_parallel_threads_enqueue_each_job_once():
    recorder = Recorder()
    barrier = threading.Barrier(SCHEDULERS, timeout=60)
    failures: list[BaseException] = []

    def scheduler() -> None:
        try:
            barrier.wait()
            enqueue_due_jobs(MORNING, recorder)
        except BaseException as error:  # reported by the assertion below
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=scheduler) for _ in range(SCHEDULERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert Counter(recorder.names) == Counter(job.load().name for job in PERIODIC_JOBS)
    assert all(count == 1 for count in Counter(recorder.names).values())


CHILD_PROCESSES = 3  # each process starts Django: kept few so the test stays quick
# A child migrates the file database, or (once every child of its round has started Django,
# counted by files in a folder) runs one scheduler at the given moment.
CHILD_PROGRAM = """
import json, os, sys, time, django
django.setup()
from datetime import datetime
from django.core.management import call_command
from kehu.core.schedule import enqueue_due_jobs
if sys.argv[1] == "migrate":
    call_command("migrate", "core", verbosity=0)  # the scheduler's table is all it needs
    print("[]")
else:
    moment, round_folder, children = sys.argv[1], sys.argv[2], int(sys.argv[3])
    open(os.path.join(round_folder, str(os.getpid())), "w").close()
    deadline = time.monotonic() + 120
    while len(os.listdir(round_folder)) < children and time.monotonic() < deadline:
        time.sleep(0.01)
    print(json.dumps(enqueue_due_jobs(datetime.fromisoformat(moment), lambda task: None)))
"""


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the PostgreSQL test above runs this")
def test_schedulers_in_parallel_processes_enqueue_each_job_once():
    with tempfile.TemporaryDirectory(prefix="kehu-scheduler-") as var_dir:
        environment = {**os.environ, "KEHU_VAR_DIR": var_dir, "KEHU_TIME_ZONE": "Asia/Shanghai"}
        environment.pop("DATABASE_URL", None)
        environment.pop("KEHU_SCHEDULE", None)
        environment["DJANGO_SETTINGS_MODULE"] = "kehu.settings"

        def start(*arguments: str) -> subprocess.Popen[str]:
            command = [sys.executable, "-c", CHILD_PROGRAM, *arguments]
            return subprocess.Popen(
                command, env=environment, cwd=ROOT, stdout=subprocess.PIPE, text=True
            )

        def outcome(child: subprocess.Popen[str]) -> list[str]:
            out, _ = child.communicate(timeout=300)
            assert child.returncode == 0
            return json.loads(out.strip().splitlines()[-1])

        assert outcome(start("migrate")) == []

        def scheduler_round(children: int) -> list[subprocess.Popen[str]]:
            folder = tempfile.mkdtemp(dir=var_dir)
            return [start(MORNING.isoformat(), folder, str(children)) for _ in range(children)]

        in_parallel = scheduler_round(CHILD_PROCESSES)
        enqueued = Counter(name for child in in_parallel for name in outcome(child))
        assert enqueued == Counter(EVERY_JOB)
        (restarted,) = scheduler_round(1)
        assert outcome(restarted) == []  # a new process: nothing that ran runs again


# --- the real command and the read side --------------------------------------------------------


@pytest.mark.django_db
def test_scheduler_once_runs_the_auto_return(sales, capsys):
    long_ago = timezone.now() - timedelta(days=90)
    customer = make_customer(owner=sales, owned_since=long_ago)
    call_command("scheduler", "--once")
    customer.refresh_from_db()
    assert customer.owner is None
    assert "return_neglected_customers" in capsys.readouterr().out


@task
def failing_task() -> None:
    raise ValueError("no data for the night")


@pytest.mark.django_db
def test_job_states_show_last_run_next_run_and_result(monkeypatch):
    jobs = (
        PeriodicJob(
            "auto_return",
            "kehu.customers.tasks.return_neglected_customers_task",
            every=schedule.HOURLY,
        ),
        PeriodicJob("nightly_failure", "kehu.core.tests.test_schedule.failing_task", at=time(2, 0)),
    )
    monkeypatch.setattr(schedule, "PERIODIC_JOBS", jobs)
    before = job_states()
    assert [(state.name, state.last_run_at, state.status) for state in before] == [
        ("auto_return", None, ""),
        ("nightly_failure", None, ""),
    ]
    assert enqueue_due_jobs(MORNING) == ["auto_return", "nightly_failure"]  # the immediate backend
    auto_return, nightly = job_states()
    assert auto_return.every == timedelta(hours=1) and auto_return.at is None
    assert auto_return.last_run_at == MORNING
    assert auto_return.next_run_at == datetime(2026, 12, 7, 3, 0, tzinfo=UTC)
    assert auto_return.status == TaskResultStatus.SUCCESSFUL and auto_return.error == ""
    assert nightly.next_run_at == datetime(2026, 12, 7, 18, 0, tzinfo=UTC)
    assert nightly.status == TaskResultStatus.FAILED
    assert nightly.error == "ValueError: no data for the night"
    assert nightly.finished_at is not None


@pytest.mark.django_db(transaction=True)  # the worker takes its own transactions
def test_job_states_read_a_queued_result_again_from_the_database_backend(settings, monkeypatch):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    jobs = (
        PeriodicJob("nightly_failure", "kehu.core.tests.test_schedule.failing_task", at=time(2, 0)),
    )
    monkeypatch.setattr(schedule, "PERIODIC_JOBS", jobs)
    enqueue_due_jobs(MORNING)
    (queued,) = job_states()
    assert queued.status == TaskResultStatus.READY and queued.finished_at is None
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)
    (done,) = job_states()
    assert done.status == TaskResultStatus.FAILED
    assert done.error == "ValueError: no data for the night"


@pytest.mark.django_db
def test_the_list_option_prints_each_job(capsys, monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: MORNING)
    call_command("scheduler", "--once")
    capsys.readouterr()
    call_command("scheduler", "--list")
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == EVERY_JOB
    segmentation = next(line for line in lines if line.startswith("refresh_segmentation"))
    assert "daily at 02:00" in segmentation
    assert "last 2026-12-07 10:05" in segmentation and "next 2026-12-08 02:00" in segmentation


def test_the_command_refuses_a_bad_schedule_with_a_message(settings):
    settings.SCHEDULE_OVERRIDES = "refresh_segmentation=nightly"
    with pytest.raises(CommandError, match="'refresh_segmentation=nightly' is not job=HH:MM"):
        call_command("scheduler", "--once")


@pytest.mark.django_db
def test_pool_command_returns_neglected_customers(sales, capsys):
    make_customer(owner=sales, owned_since=timezone.now() - timedelta(days=90))
    call_command("kehu_pool", "return-neglected")
    assert "1 customers returned" in capsys.readouterr().out
    assert Customer.objects.filter(owner__isnull=True).count() == 1
