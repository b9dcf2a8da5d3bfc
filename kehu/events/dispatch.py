"""The dispatcher: hands each pending delivery to its handler, at least once.

Each delivery runs in one transaction that holds its row (`select_for_update(skip_locked)` on
PostgreSQL; SQLite has one writer at a time) and marks it done, so a handler's database effect
and its "done" commit together: a dispatcher killed half way leaves the delivery pending and its
effect undone, and two dispatchers never run the same delivery at once. A failing handler's
effect is rolled back (a savepoint) and the delivery waits `EVENTS_RETRY_SECONDS * 2**(n-1)`
before attempt n+1; after `EVENTS_MAX_ATTEMPTS` it is parked as a dead letter.

A customer's events reach each handler in the order they were recorded: a delivery waits while
an earlier one of the same handler and customer is pending. Dead letters do not hold the
customer's later events back (one bad event must not stop a customer's points for good).
"""

import logging
import time
import traceback
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from kehu.events.models import HandlerRun, RunStatus
from kehu.events.registry import handler_for

logger = logging.getLogger(__name__)

BATCH_SIZE = 500
ERROR_LENGTH = 4000


@dataclass
class DispatchReport:
    done: int = 0
    failed: int = 0
    dead: int = 0
    skipped: int = 0
    seconds: float = 0.0
    handlers: dict[str, int] = field(default_factory=dict)

    def add(self, other: "DispatchReport") -> None:
        self.done += other.done
        self.failed += other.failed
        self.dead += other.dead
        self.skipped += other.skipped
        for key, count in other.handlers.items():
            self.handlers[key] = self.handlers.get(key, 0) + count


def max_attempts() -> int:
    return int(getattr(settings, "EVENTS_MAX_ATTEMPTS", 8))


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff: the base delay doubled for each failure so far, at most a day."""
    base = float(getattr(settings, "EVENTS_RETRY_SECONDS", 30))
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), 86_400))


def due_runs(now: datetime, event_ids: Iterable[int] | None = None) -> QuerySet[HandlerRun]:
    """Pending deliveries whose time has come and that no earlier pending delivery of the same
    handler and customer holds back, oldest event first."""
    earlier = HandlerRun.objects.filter(
        status=RunStatus.PENDING,
        handler=OuterRef("handler"),
        customer_id=OuterRef("customer_id"),
        event_id__lt=OuterRef("event_id"),
    )
    runs = HandlerRun.objects.filter(status=RunStatus.PENDING, next_attempt_at__lte=now).filter(
        Q(customer_id__isnull=True) | ~Exists(earlier)
    )
    if event_ids is not None:
        runs = runs.filter(event_id__in=list(event_ids))
    return runs.order_by("event_id", "handler")


def dispatch(*, event_ids: Iterable[int] | None = None, limit: int | None = None) -> DispatchReport:
    """Run due deliveries until none is left (or `limit` have been tried); `event_ids` keeps
    to the deliveries of those events (the task enqueued when they were recorded)."""
    started = time.monotonic()
    report = DispatchReport()
    wanted = list(event_ids) if event_ids is not None else None
    tried = 0
    while limit is None or tried < limit:
        batch = list(due_runs(timezone.now(), wanted).values_list("pk", flat=True)[:BATCH_SIZE])
        if not batch:
            break
        skipped_before = report.skipped
        for run_id in batch:
            run_one(run_id, report)
            tried += 1
            if limit is not None and tried >= limit:
                break
        if report.skipped - skipped_before == len(batch):
            break  # every one is being run by another dispatcher
    report.seconds = time.monotonic() - started
    return report


def locked_run(run_id: int) -> HandlerRun | None:
    """The delivery, held for this transaction, if it is still due and nobody holds it."""
    runs = HandlerRun.objects.select_related("event")
    if connection.features.has_select_for_update_skip_locked:
        runs = runs.select_for_update(skip_locked=True, of=("self",))
    return runs.filter(
        pk=run_id, status=RunStatus.PENDING, next_attempt_at__lte=timezone.now()
    ).first()


def run_one(run_id: int, report: DispatchReport) -> None:
    with transaction.atomic():
        run = locked_run(run_id)
        if run is None:
            report.skipped += 1
            return
        handler = handler_for(run.handler)
        try:
            if handler is None:
                raise LookupError(f"No handler is registered under {run.handler!r}.")
            with transaction.atomic():  # a savepoint: a failure undoes the handler's writes
                handler(run.event)
        except Exception as error:
            note_failure(run, error, report)
            return
        run.status = RunStatus.DONE
        run.attempts += 1
        run.finished_at = timezone.now()
        run.last_error = ""
        run.save(update_fields=["status", "attempts", "finished_at", "last_error"])
        report.done += 1
        report.handlers[run.handler] = report.handlers.get(run.handler, 0) + 1


def note_failure(run: HandlerRun, error: Exception, report: DispatchReport) -> None:
    run.attempts += 1
    run.last_error = "".join(traceback.format_exception(error))[-ERROR_LENGTH:]
    now = timezone.now()
    if run.attempts >= max_attempts():
        run.status = RunStatus.DEAD
        run.finished_at = now
        report.dead += 1
        logger.error(
            "Event %s: handler %s failed %d times; parked as a dead letter.",
            run.event.event_id, run.handler, run.attempts,
        )  # fmt: skip
    else:
        run.next_attempt_at = now + retry_delay(run.attempts)
        report.failed += 1
        logger.warning(
            "Event %s: handler %s failed (attempt %d): %s",
            run.event.event_id, run.handler, run.attempts, error,
        )  # fmt: skip
    run.save(update_fields=["status", "attempts", "last_error", "next_attempt_at", "finished_at"])


def dispatch_forever(*, idle_seconds: float = 1.0, stop: "StopFlag | None" = None) -> None:
    """`kehu events dispatch --loop`: dispatch, sleep while nothing is due, again."""
    while stop is None or not stop.is_set:
        report = dispatch()
        if report.done + report.failed + report.dead == 0:
            time.sleep(idle_seconds)


class StopFlag:
    def __init__(self) -> None:
        self.is_set = False
