"""Background work of the outbox: dispatch new events, and everything due (retries included)."""

from django.tasks import task

from kehu.events.dispatch import dispatch


@task
def dispatch_events_task(event_ids: list[int]) -> dict[str, int]:
    """Enqueued when events commit: their deliveries, each handler in turn."""
    report = dispatch(event_ids=event_ids)
    return {"done": report.done, "failed": report.failed, "dead": report.dead}


@task
def dispatch_due_events_task() -> dict[str, int]:
    """The periodic pass: retries whose time has come, and events whose task was lost."""
    report = dispatch()
    return {"done": report.done, "failed": report.failed, "dead": report.dead}
