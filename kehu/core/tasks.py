"""Project-wide background jobs; each is safe to run twice."""

from django.tasks import task

from kehu.core.maintenance import refresh_planner_statistics


@task
def refresh_planner_statistics_task() -> None:
    refresh_planner_statistics()
