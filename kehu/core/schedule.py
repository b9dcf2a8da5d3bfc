"""The periodic jobs and when each is due; `kehu scheduler` enqueues them.

A job runs either every `every` (slots aligned on whole multiples of the interval since the Unix
epoch, so an hourly job runs at :00 whenever the scheduler started) or daily `at` a time of day
in the business's time zone (settings.TIME_ZONE). KEHU_SCHEDULE overrides the table, e.g.
`KEHU_SCHEDULE="refresh_segmentation=01:30,close_due_group_deals=5m"` (HH:MM daily, or a number
of minutes `m` / hours `h`).

The state lives in the database (`ScheduledJob`, one row per job): a scheduler claims a due job
by a compare-and-set on its `next_run_at`, so a restart does not re-run what already ran, two
schedulers running at once enqueue each job once, and a job missed while no scheduler ran runs
once (not once per missed slot). A job the database has never seen is due at once.
"""

import logging
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.tasks import Task, TaskResult, TaskResultStatus
from django.utils import timezone

from kehu.core.models import ScheduledJob

logger = logging.getLogger(__name__)

MAX_ERROR_LENGTH = 2000


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    task_path: str
    every: timedelta | None = None
    at: time | None = None  # local time of day in the business's time zone

    def __post_init__(self) -> None:
        if (self.every is None) == (self.at is None):
            raise ValueError(f"periodic job {self.name}: give either every= or at=")
        if self.every is not None and self.every < timedelta(minutes=1):
            raise ValueError(f"periodic job {self.name}: run at most once a minute")

    @property
    def schedule(self) -> str:
        if self.every is not None:
            return f"every {int(self.every.total_seconds())}s"
        assert self.at is not None
        return f"daily {self.at:%H:%M}"

    def load(self) -> Task:
        from django.utils.module_loading import import_string

        return import_string(self.task_path)

    def slot_at_or_before(self, moment: datetime) -> datetime:
        """The latest time this job is scheduled for that is not after `moment`."""
        if self.every is not None:
            step = int(self.every.total_seconds())
            seconds = math.floor(moment.timestamp())
            return datetime.fromtimestamp(seconds - seconds % step, UTC)
        today = moment.astimezone(timezone.get_default_timezone()).date()
        slot = self._on(today)
        return slot if slot <= moment else self._on(today - timedelta(days=1))

    def slot_after(self, moment: datetime) -> datetime:
        """The first time this job is scheduled for that is after `moment`."""
        if self.every is not None:
            return self.slot_at_or_before(moment) + self.every
        today = moment.astimezone(timezone.get_default_timezone()).date()
        slot = self._on(today)
        return slot if slot > moment else self._on(today + timedelta(days=1))

    def _on(self, day: date) -> datetime:
        assert self.at is not None
        local = datetime.combine(day, self.at, tzinfo=timezone.get_default_timezone())
        return local.astimezone(UTC)


HOURLY = timedelta(hours=1)

# The task paths are strings so that this one table says where every periodic task lives.
PERIODIC_JOBS = (
    PeriodicJob(
        "return_neglected_customers",
        "kehu.customers.tasks.return_neglected_customers_task",
        every=HOURLY,
    ),
    PeriodicJob(
        "refresh_segmentation", "kehu.segments.tasks.refresh_segmentation_task", at=time(2, 0)
    ),
    PeriodicJob(  # after the night's refresh has rewritten the metrics
        "refresh_planner_statistics",
        "kehu.core.tasks.refresh_planner_statistics_task",
        at=time(4, 30),
    ),
    PeriodicJob(
        "loyalty_earn_pending_orders",
        "kehu.loyalty.points.tasks.earn_pending_orders_task",
        every=HOURLY,
    ),
    PeriodicJob(
        "loyalty_expire_points", "kehu.loyalty.points.tasks.expire_points_task", at=time(0, 30)
    ),
    PeriodicJob(
        "loyalty_review_tiers", "kehu.loyalty.points.tasks.review_tiers_task", at=time(3, 0)
    ),
    PeriodicJob(  # in the morning: members hear of their birthday points in waking hours
        "loyalty_birthday_points",
        "kehu.loyalty.points.tasks.birthday_points_task",
        at=time(8, 0),
    ),
    PeriodicJob(
        "loyalty_check_balances", "kehu.loyalty.points.tasks.check_balances_task", at=time(5, 0)
    ),
    PeriodicJob("expire_coupons", "kehu.loyalty.coupons.tasks.expire_coupons_task", at=time(0, 15)),
    PeriodicJob(
        "reward_pending_referrals",
        "kehu.loyalty.referrals.tasks.reward_pending_referrals_task",
        every=HOURLY,
    ),
    PeriodicJob(
        "close_due_group_deals",
        "kehu.loyalty.groupbuy.tasks.close_due_group_deals_task",
        every=timedelta(minutes=15),
    ),
    PeriodicJob(
        "send_due_webhooks",
        "kehu.webhooks.tasks.send_due_deliveries_task",
        every=timedelta(minutes=1),
    ),
    PeriodicJob(
        "dispatch_due_events",
        "kehu.events.tasks.dispatch_due_events_task",
        every=timedelta(minutes=10),
    ),
)

_OVERRIDE = re.compile(r"^(?:(?P<hour>\d{1,2}):(?P<minute>\d{2})|(?P<count>\d+)(?P<unit>[mh]))$")


def scheduled_jobs() -> tuple[PeriodicJob, ...]:
    """PERIODIC_JOBS with the times set in settings.SCHEDULE_OVERRIDES (env KEHU_SCHEDULE)."""
    overrides = parse_schedule_overrides(getattr(settings, "SCHEDULE_OVERRIDES", ""))
    return tuple(overrides.get(job.name, lambda job: job)(job) for job in PERIODIC_JOBS)


def parse_schedule_overrides(text: str) -> dict[str, Callable[[PeriodicJob], PeriodicJob]]:
    known = {job.name for job in PERIODIC_JOBS}
    overrides: dict[str, Callable[[PeriodicJob], PeriodicJob]] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, _, value = (piece.strip() for piece in item.partition("="))
        match = _OVERRIDE.match(value)
        if name not in known or not match:
            raise ImproperlyConfigured(
                f"KEHU_SCHEDULE: {item!r} is not job=HH:MM or job=<n>m / <n>h "
                f"(jobs: {', '.join(sorted(known))})"
            )
        overrides[name] = _override(item, match)
    return overrides


def _override(item: str, match: re.Match[str]) -> Callable[[PeriodicJob], PeriodicJob]:
    if match["count"]:
        unit = "minutes" if match["unit"] == "m" else "hours"
        every = timedelta(**{unit: int(match["count"])})
        if every < timedelta(minutes=1):
            raise ImproperlyConfigured(f"KEHU_SCHEDULE: {item!r} runs more than once a minute")
        return lambda job: replace(job, every=every, at=None)
    hour, minute = int(match["hour"]), int(match["minute"])
    if hour > 23 or minute > 59:
        raise ImproperlyConfigured(f"KEHU_SCHEDULE: {item!r} is not a time of day")
    return lambda job: replace(job, every=None, at=time(hour, minute))


# --- enqueueing --------------------------------------------------------------------------------


def enqueue_due_jobs(now: datetime, enqueue: Callable[[Task], object] | None = None) -> list[str]:
    """Enqueue every job that is due and that this caller claims; returns the names enqueued."""
    jobs = scheduled_jobs()
    _record_new_jobs(jobs, now)
    rows = {row.name: row for row in ScheduledJob.objects.filter(name__in=[j.name for j in jobs])}
    names = []
    for job in jobs:
        next_run_at = _follow_schedule(job, rows[job.name], now)
        if next_run_at > now:
            continue
        claimed_until = job.slot_after(now)
        if claim_job(job.name, next_run_at, claimed_until, now) and _enqueue(
            job, next_run_at, claimed_until, enqueue
        ):
            names.append(job.name)
    return names


def claim_job(
    name: str, expected_next_run_at: datetime, next_run_at: datetime, now: datetime
) -> bool:
    """Move the job's next run from `expected_next_run_at` on to `next_run_at`, if no other
    scheduler moved it first (a compare-and-set: one UPDATE, atomic on SQLite and PostgreSQL).
    The claim comes before the enqueue: a scheduler killed between the two loses that one run
    (the next slot runs the job), where enqueueing first could run it twice."""
    return (
        ScheduledJob.objects.filter(name=name, next_run_at=expected_next_run_at).update(
            next_run_at=next_run_at,
            last_enqueued_at=now,
            last_result_id="",
            last_status="",
            last_finished_at=None,
            last_error="",
        )
        == 1
    )


def _record_new_jobs(jobs: tuple[PeriodicJob, ...], now: datetime) -> None:
    # A job never seen before is due for its current slot; ignore_conflicts lets two schedulers
    # starting together both insert without an error (the unique name keeps one row).
    ScheduledJob.objects.bulk_create(
        [
            ScheduledJob(
                name=job.name, schedule=job.schedule, next_run_at=job.slot_at_or_before(now)
            )
            for job in jobs
        ],
        ignore_conflicts=True,
    )


def _follow_schedule(job: PeriodicJob, row: ScheduledJob, now: datetime) -> datetime:
    """The row's next run, moved to the job's new schedule when KEHU_SCHEDULE changed it: a run
    still ahead moves to the new schedule's next slot; a run already due stays due."""
    if row.schedule == job.schedule:
        return row.next_run_at
    next_run_at = row.next_run_at if row.next_run_at <= now else job.slot_after(now)
    ScheduledJob.objects.filter(name=job.name, schedule=row.schedule).update(
        schedule=job.schedule, next_run_at=next_run_at
    )
    return ScheduledJob.objects.get(name=job.name).next_run_at


def _enqueue(
    job: PeriodicJob,
    slot: datetime,
    claimed_until: datetime,
    enqueue: Callable[[Task], object] | None,
) -> bool:
    try:
        result = (enqueue or (lambda task: task.enqueue()))(job.load())
    except Exception as error:
        # Not enqueued: give the slot back (unless another scheduler has moved on since), so the
        # next check tries again, and say why.
        logger.exception("periodic job %s was not enqueued", job.name)
        ScheduledJob.objects.filter(name=job.name, next_run_at=claimed_until).update(
            next_run_at=slot,
            last_status=TaskResultStatus.FAILED,
            last_error=f"not enqueued: {error!r}"[:MAX_ERROR_LENGTH],
        )
        return False
    if isinstance(result, TaskResult):
        ScheduledJob.objects.filter(name=job.name).update(**_result_fields(result))
    return True


def _result_fields(result: TaskResult) -> dict[str, object]:
    error = ""
    if result.errors:
        lines = result.errors[-1].traceback.strip().splitlines()
        error = (lines[-1] if lines else result.errors[-1].exception_class_path)[:MAX_ERROR_LENGTH]
    return {
        "last_result_id": result.id[:255],
        "last_status": result.status,
        "last_finished_at": result.finished_at,
        "last_error": error,
    }


# --- reading -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class JobState:
    """One periodic job as an admin page shows it."""

    name: str
    every: timedelta | None
    at: time | None
    last_run_at: datetime | None  # when it was last enqueued
    next_run_at: datetime | None  # None: at the scheduler's next check (never run yet)
    status: str  # a TaskResultStatus value, or "" before the first run
    finished_at: datetime | None
    error: str


def job_states() -> list[JobState]:
    """Every periodic job with its last run, next run and result, in the table's order. A result
    still queued or running is read again from the task backend when the backend can."""
    rows = {row.name: row for row in ScheduledJob.objects.all()}
    return [_job_state(job, rows.get(job.name)) for job in scheduled_jobs()]


def _job_state(job: PeriodicJob, row: ScheduledJob | None) -> JobState:
    if row is None:
        return JobState(job.name, job.every, job.at, None, None, "", None, "")
    result = {
        "last_status": row.last_status,
        "last_finished_at": row.last_finished_at,
        "last_error": row.last_error,
    } | _current_result(job, row)
    return JobState(
        name=job.name,
        every=job.every,
        at=job.at,
        last_run_at=row.last_enqueued_at,
        next_run_at=row.next_run_at,
        status=str(result["last_status"]),
        finished_at=result["last_finished_at"],  # type: ignore[arg-type]
        error=str(result["last_error"]),
    )


def _current_result(job: PeriodicJob, row: ScheduledJob) -> dict[str, object]:
    unfinished = {TaskResultStatus.READY, TaskResultStatus.RUNNING}
    if not row.last_result_id or row.last_status not in unfinished:
        return {}
    try:
        task = job.load()
        if not task.get_backend().supports_get_result:
            return {}
        return _result_fields(task.get_result(row.last_result_id))
    except Exception:  # a result gone from the store, a task moved: show what the row knows
        logger.warning("no current result for periodic job %s", job.name, exc_info=True)
        return {}
