"""Import jobs in the background: the dry run and the import are queued as tasks, so no web
request reads a whole file; the pages follow the job's state and progress.

A job is queued → running → previewed / imported / failed. A running job names its worker
(host and process); a job found running whose process is gone (or, on another host, with no
sign of life for `IMPORT_STALE_AFTER_SECONDS`) is failed with what it had written, and can be
run again: all or nothing had written nothing (one transaction), valid rows go on after the
last line written.
"""

import logging
import os
import socket
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.core.errors import DomainError, RuleViolation
from kehu.imports.models import ImportJob, ImportMode, ImportStatus, ImportStep
from kehu.imports.services import (
    clean_mapping,
    clean_mode,
    editable_job,
    get_import_job,
    preview_import,
    run_import,
)

logger = logging.getLogger(__name__)


def request_preview(
    actor: User,
    job_id: int,
    mapping: Mapping[str, str],
    mode: str | None = None,
    options: Mapping[str, Any] | None = None,
) -> ImportJob:
    """Check the mapping now (errors go back to the form) and queue the dry run."""
    job = queueable_job(actor, job_id)
    options = {key: value for key, value in (options or {}).items() if value}
    job.mapping = clean_mapping(job, mapping, options)
    job.options = options
    job.mode = clean_mode(mode, job.mode)
    return queue(actor, job, ImportStep.PREVIEW)


def request_import(actor: User, job_id: int, mode: str | None = None) -> ImportJob:
    """Queue the import of a previewed file (or the rest of one whose worker died)."""
    job = queueable_job(actor, job_id)
    if job.status == ImportStatus.UPLOADED:
        raise RuleViolation(_("Preview the import first."), code="not_previewed")
    job.mode = clean_mode(mode, job.mode)
    return queue(actor, job, ImportStep.IMPORT)


def queueable_job(actor: User, job_id: int) -> ImportJob:
    job = editable_job(actor, job_id)
    if job.is_working:
        raise RuleViolation(_("This file is being worked on; wait until it is done."), code="busy")
    if not (job.stored_path and Path(job.stored_path).is_file()):
        raise RuleViolation(
            _("The file of this import is gone. Upload it again."), code="file_gone"
        )
    return job


def queue(actor: User, job: ImportJob, step: str) -> ImportJob:
    job.status = ImportStatus.QUEUED
    job.step = step
    job.phase = job.message = job.worker = ""
    job.processed_rows = job.committed_line if step == ImportStep.IMPORT else 0
    job.heartbeat_at = timezone.now()
    with transaction.atomic():
        job.save()
        transaction.on_commit(lambda: enqueue_job(job.pk, actor.pk))
    return job


def enqueue_job(job_id: int, actor_id: int) -> None:
    from kehu.imports.tasks import run_import_job_task  # the task calls back here

    run_import_job_task.enqueue(job_id, actor_id)


def run_job(job_id: int, actor_id: int) -> None:
    """The task: run the queued step; a job already done (a repeated task) is left alone."""
    claimed = ImportJob.objects.filter(pk=job_id, status=ImportStatus.QUEUED).update(
        status=ImportStatus.RUNNING, worker=this_worker(), heartbeat_at=timezone.now()
    )
    if not claimed:
        return
    job = ImportJob.objects.get(pk=job_id)
    actor = User.objects.get(pk=actor_id)
    try:
        if job.step == ImportStep.PREVIEW:
            preview_import(actor, job.pk, job.mapping, job.mode, job.options)
        else:
            run_import(actor, job.pk, job.mode)
    except ValidationError as error:
        fail_job(job_id, " ".join(error.messages))
    except DomainError as error:
        fail_job(job_id, error.message)
    except Exception:
        logger.exception("import job %s failed", job_id)
        fail_job(job_id, _("The import stopped on an unexpected error; it has been logged."))
        raise


def fail_job(job_id: int, message: str) -> None:
    job = ImportJob.objects.get(pk=job_id)
    ImportJob.objects.filter(pk=job_id).exclude(status=ImportStatus.IMPORTED).update(
        status=ImportStatus.FAILED,
        phase="",
        message=message[:500],
        finished_at=timezone.now(),
        **written_counts(job),
    )


def written_counts(job: ImportJob) -> dict[str, int]:
    """An import that wrote nothing shows no created or updated rows (not the dry run's)."""
    if job.step == ImportStep.IMPORT and not job.committed_line:
        return {"created_count": 0, "updated_count": 0, "unchanged_count": 0}
    return {}


def this_worker() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def job_with_state(actor: User, job_id: int) -> ImportJob:
    """The job as its page shows it; a running job whose worker is gone is failed first."""
    job = get_import_job(actor, job_id)
    if job.status == ImportStatus.RUNNING and worker_is_gone(job):
        fail_stale_job(job)
        job.refresh_from_db()
    return job


def worker_is_gone(job: ImportJob) -> bool:
    """The job's worker process no longer runs. Workers that share a host name must share the
    process table too (one machine or one container), or the check would see their living
    processes as gone: give each container its own host name."""
    host, _separator, pid = job.worker.rpartition(":")
    if host == socket.gethostname() and pid.isdigit():
        return not process_is_alive(int(pid))
    quiet_since = job.heartbeat_at or job.created_at
    return timezone.now() - quiet_since > timedelta(seconds=settings.IMPORT_STALE_AFTER_SECONDS)


def process_is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, but another user's
        return True
    return True


def fail_stale_job(job: ImportJob) -> None:
    """Say what the dead worker left: nothing, or the valid rows up to a line."""
    if job.step == ImportStep.IMPORT and job.mode == ImportMode.VALID_ROWS and job.committed_line:
        message = _(
            "The import stopped before the end (its worker ended). Every row up to line "
            "%(line)d was handled: %(created)d created, %(updated)d updated. Run the import "
            "again to go on from line %(next)d."
        ) % {
            "line": job.committed_line,
            "created": job.created_count,
            "updated": job.updated_count,
            "next": job.committed_line + 1,
        }
    else:
        message = _(
            "The work stopped before the end (its worker ended); nothing was imported. "
            "Run it again."
        )
    status = ImportStatus.FAILED if job.step == ImportStep.IMPORT else ImportStatus.UPLOADED
    ImportJob.objects.filter(pk=job.pk, status=ImportStatus.RUNNING).update(
        status=status, phase="", message=message, finished_at=timezone.now(), **written_counts(job)
    )
