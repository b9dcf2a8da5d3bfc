"""The periodic jobs and when each is due; `kehu scheduler` enqueues them."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.tasks import Task


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    interval: timedelta
    task_path: str

    def load(self) -> Task:
        from django.utils.module_loading import import_string

        return import_string(self.task_path)


PERIODIC_JOBS = (
    PeriodicJob(
        "return_neglected_customers",
        timedelta(hours=1),
        "kehu.customers.tasks.return_neglected_customers_task",
    ),
    PeriodicJob(
        "refresh_segmentation",
        timedelta(days=1),
        "kehu.segments.tasks.refresh_segmentation_task",
    ),
    PeriodicJob(
        "refresh_planner_statistics",
        timedelta(days=1),
        "kehu.core.tasks.refresh_planner_statistics_task",
    ),
    PeriodicJob(
        "loyalty_earn_pending_orders",
        timedelta(hours=1),
        "kehu.loyalty.tasks_points.earn_pending_orders_task",
    ),
    PeriodicJob(
        "loyalty_expire_points", timedelta(days=1), "kehu.loyalty.tasks_points.expire_points_task"
    ),
    PeriodicJob(
        "loyalty_review_tiers", timedelta(days=1), "kehu.loyalty.tasks_points.review_tiers_task"
    ),
    PeriodicJob(
        "loyalty_birthday_points",
        timedelta(days=1),
        "kehu.loyalty.tasks_points.birthday_points_task",
    ),
    PeriodicJob(
        "loyalty_check_balances", timedelta(days=1), "kehu.loyalty.tasks_points.check_balances_task"
    ),
    PeriodicJob(
        "expire_coupons",
        timedelta(days=1),
        "kehu.loyalty.tasks_coupons.expire_coupons_task",
    ),
    PeriodicJob(
        "reward_pending_referrals",
        timedelta(hours=1),
        "kehu.loyalty.tasks_referrals.reward_pending_referrals_task",
    ),
    PeriodicJob(
        "close_due_group_deals",
        timedelta(minutes=15),
        "kehu.loyalty.tasks_referrals.close_due_group_deals_task",
    ),
    PeriodicJob(
        "dispatch_due_events",
        timedelta(minutes=10),
        "kehu.events.tasks.dispatch_due_events_task",
    ),
)


def due_jobs(last_runs: dict[str, datetime], now: datetime) -> list[PeriodicJob]:
    return [
        job
        for job in PERIODIC_JOBS
        if job.name not in last_runs or now - last_runs[job.name] >= job.interval
    ]


def enqueue_due_jobs(
    last_runs: dict[str, datetime], now: datetime, enqueue: Callable[[Task], object] | None = None
) -> list[str]:
    """Enqueue every job that is due and record when; returns the names enqueued."""
    names = []
    for job in due_jobs(last_runs, now):
        task = job.load()
        (enqueue or (lambda t: t.enqueue()))(task)
        last_runs[job.name] = now
        names.append(job.name)
    return names
