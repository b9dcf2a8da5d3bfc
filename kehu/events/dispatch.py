"""The dispatcher: hands each pending delivery to its handler, at least once.

Deliveries run in small chunks, each one transaction that holds their rows
(`select_for_update(skip_locked)` on PostgreSQL; SQLite has one writer at a time) and marks
them done, so a handler's database effect and its "done" commit together: a dispatcher killed
half way leaves its chunk pending and the chunk's effects undone, and two dispatchers never run
the same delivery at once. A failing handler's writes are rolled back (a savepoint) and the
delivery waits `EVENTS_RETRY_SECONDS * 2**(n-1)` before attempt n+1; after
`EVENTS_MAX_ATTEMPTS` it is parked as a dead letter.

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
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone

from kehu.events.models import HandlerRun, RunStatus
from kehu.events.registry import handler_for

logger = logging.getLogger(__name__)

BATCH_SIZE = 500
CHUNK_SIZE = 50  # deliveries per transaction: a killed dispatcher redoes at most these
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
    """Run due deliveries until none is left (or about `limit` have been tried); `event_ids`
    keeps to the deliveries of those events (the task enqueued when they were recorded)."""
    started = time.monotonic()
    report = DispatchReport()
    wanted = list(event_ids) if event_ids is not None else None
    tried = 0
    previous: list[int] = []
    while limit is None or tried < limit:
        batch = list(due_runs(timezone.now(), wanted).values_list("pk", flat=True)[:BATCH_SIZE])
        if not batch or batch == previous:
            break  # nothing due, or all of it held by another dispatcher since the last look
        skipped_before = report.skipped
        for start in range(0, len(batch), CHUNK_SIZE):
            chunk = batch[start : start + CHUNK_SIZE]
            run_chunk(chunk, report)
            tried += len(chunk)
            if limit is not None and tried >= limit:
                break
        previous = batch if report.skipped - skipped_before == len(batch) else []
    report.seconds = time.monotonic() - started
    return report


def locked_runs(run_ids: list[int]) -> list[HandlerRun]:
    """Those deliveries still due that nobody holds, held for this transaction."""
    runs = HandlerRun.objects.select_related("event")
    if connection.features.has_select_for_update_skip_locked:
        runs = runs.select_for_update(skip_locked=True, of=("self",))
    return list(
        runs.filter(
            pk__in=run_ids, status=RunStatus.PENDING, next_attempt_at__lte=timezone.now()
        ).order_by("event_id", "handler")
    )


def run_chunk(run_ids: list[int], report: DispatchReport) -> None:
    """A few deliveries in one transaction (fewer commits), each handler in a savepoint of
    its own; they commit together with their done marks, or not at all."""
    with transaction.atomic():
        runs = locked_runs(run_ids)
        report.skipped += len(run_ids) - len(runs)
        done: list[int] = []
        for run in runs:
            if run_handler(run, report):
                done.append(run.pk)
                report.handlers[run.handler] = report.handlers.get(run.handler, 0) + 1
        if done:
            HandlerRun.objects.filter(pk__in=done).update(
                status=RunStatus.DONE,
                attempts=F("attempts") + 1,
                finished_at=timezone.now(),
                last_error="",
            )
            report.done += len(done)


def run_handler(run: HandlerRun, report: DispatchReport) -> bool:
    """Whether the handler succeeded; a failure is noted on the delivery, its writes undone."""
    handler = handler_for(run.handler)
    try:
        if handler is None:
            raise LookupError(f"No handler is registered under {run.handler!r}.")
        with transaction.atomic():  # a savepoint: a failure undoes the handler's writes
            handler(run.event)
    except Exception as error:
        note_failure(run, error, report)
        return False
    return True


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
