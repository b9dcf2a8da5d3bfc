"""Import jobs: upload a file, map its columns, preview (a dry run), run; and the error report.

Every pass streams the file in chunks through the row handler of the kind being imported
(`kehu.customers.importing`, `kehu.commerce.importing`). `run_import` always validates the
whole file first; in all-or-nothing mode it writes nothing unless every row is valid.
The upload is held to the limits of `kehu.imports.limits`; the dry run and the import are run
by the background task of `kehu.imports.jobs` (or by `kehu import` in its own process).
"""

import contextlib
import gc
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.accounts.permissions import require
from kehu.accounts.roles import Role
from kehu.commerce.importing import ORDER_FIELDS, OrderRowHandler
from kehu.commerce.models import SalesChannel
from kehu.core.errors import RuleViolation
from kehu.core.rows import ImportField, Result, RowError, RowHandler, RowOutcome, SourceRow
from kehu.core.tabular import LimitExceeded, Table, TabularError, open_table
from kehu.customers.importing import CUSTOMER_FIELDS, CustomerRowHandler
from kehu.imports.limits import (
    ImportLimits,
    check_copied_size,
    check_upload_size,
    check_xlsx_archive,
)
from kehu.imports.models import ImportJob, ImportKind, ImportMode, ImportStatus
from kehu.imports.reports import (
    PassReport,
    Progress,
    checking_progress,
    counts_of,
    imports_folder,
    resumed_report,
    store_report,
    writing_progress,
)

FIELDS: dict[str, tuple[ImportField, ...]] = {
    ImportKind.CUSTOMERS: CUSTOMER_FIELDS,
    ImportKind.ORDERS: ORDER_FIELDS,
}
HANDLERS: dict[str, Any] = {
    ImportKind.CUSTOMERS: CustomerRowHandler,
    ImportKind.ORDERS: OrderRowHandler,
}
SAMPLE_ROWS = 5
COPY_CHUNK = 1024 * 1024


@dataclass
class ImportPreview:
    job: ImportJob
    total: int
    counts: dict[str, int]
    errors: list[dict[str, Any]]
    sample_rows: list[dict[str, Any]]


class Rollback(Exception):
    """Raised inside the write transaction of an all-or-nothing import that found a bad row."""


def import_fields(kind: str) -> tuple[ImportField, ...]:
    if kind not in FIELDS:
        raise RuleViolation(_("Choose customers or orders."), code="invalid_kind")
    return FIELDS[kind]


def start_import(
    actor: User, kind: str, uploaded_file: Any, file_name: str | None = None
) -> ImportJob:
    """Store an uploaded file and read its columns; a broken file is refused with the reason."""
    require(actor, "data.import")
    fields = import_fields(kind)
    original_name = (file_name or getattr(uploaded_file, "name", "") or "upload").strip()
    original_name = Path(original_name).name[:255]
    suffix = ".xlsx" if original_name.lower().endswith((".xlsx", ".xlsm")) else ".csv"
    stored = imports_folder() / f"{uuid.uuid4().hex}{suffix}"
    limits = ImportLimits.from_settings()
    try:
        check_upload_size(upload_size(uploaded_file), limits)
        copy_upload(uploaded_file, stored, limits)
        table = open_table(
            stored,
            original_name,
            sample_size=SAMPLE_ROWS,
            max_columns=limits.max_columns,
            check_archive=lambda path: check_xlsx_archive(path, limits),
        )
    except TabularError as error:
        stored.unlink(missing_ok=True)
        raise file_refused(error) from None
    return ImportJob.objects.create(
        created_by=actor,
        kind=kind,
        original_name=original_name,
        stored_path=str(stored),
        file_format=table.file_format,
        encoding=table.encoding,
        delimiter=table.delimiter,
        headers=table.headers,
        mapping=suggest_mapping(fields, table.headers),
        sample_rows=[{"line": line, **row} for line, row in table.samples],
    )


def file_refused(error: TabularError) -> RuleViolation:
    code = "limit_exceeded" if isinstance(error, LimitExceeded) else "unreadable_file"
    return RuleViolation(str(error), code=code, details={"field": "file"})


def upload_size(uploaded_file: Any) -> int:
    """The size an upload declares (0 when unknown: `copy_upload` counts the bytes anyway)."""
    if isinstance(uploaded_file, (str, Path)):
        return Path(uploaded_file).stat().st_size
    return int(getattr(uploaded_file, "size", 0) or 0)


def copy_upload(uploaded_file: Any, target: Path, limits: ImportLimits | None = None) -> None:
    """Copy an uploaded file (Django UploadedFile, open file or path) without reading it whole;
    past the upload limit the copy stops with LimitExceeded."""
    if isinstance(uploaded_file, (str, Path)):
        source: Any = open(uploaded_file, "rb")  # noqa: SIM115 - closed below
        chunks: Iterable[bytes] = iter(lambda: source.read(COPY_CHUNK), b"")
    elif hasattr(uploaded_file, "chunks"):
        source, chunks = None, uploaded_file.chunks(COPY_CHUNK)
    else:
        source, chunks = None, iter(lambda: uploaded_file.read(COPY_CHUNK), b"")
    copied = 0
    try:
        with open(target, "wb") as output:
            for chunk in chunks:
                copied += len(chunk)
                if limits is not None:
                    check_copied_size(copied, limits)
                output.write(chunk)
    finally:
        if source is not None:
            source.close()


def suggest_mapping(fields: Iterable[ImportField], headers: list[str]) -> dict[str, str]:
    """For each field, the file column whose name means it (Chinese or English), if any."""
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for import_field in fields:
        for header in headers:
            if header not in used and (
                import_field.matches(header) or header_is_label(import_field, header)
            ):
                mapping[import_field.name] = header
                used.add(header)
                break
    return mapping


def header_is_label(import_field: ImportField, header: str) -> bool:
    return ImportField(import_field.name, "", aliases=(str(import_field.label),)).matches(header)


def get_import_job(actor: User, job_id: int) -> ImportJob:
    """A job its creator (or an administrator) may see; others get 404."""
    jobs = ImportJob.objects.all()
    if actor.role != Role.ADMIN:
        jobs = jobs.filter(created_by=actor)
    try:
        return jobs.get(pk=job_id)
    except (ImportJob.DoesNotExist, ValueError, TypeError):
        raise Http404("No import matches the given query.") from None


def clean_mapping(
    job: ImportJob, mapping: Mapping[str, str], options: Mapping[str, Any]
) -> dict[str, str]:
    """Keep mapped fields with a real column; raise a ValidationError naming missing fields."""
    fields = {import_field.name: import_field for import_field in import_fields(job.kind)}
    cleaned = {
        name: header for name, header in mapping.items() if name in fields and header in job.headers
    }
    errors: dict[str, list[str]] = {}
    for name, import_field in fields.items():
        if name in mapping and mapping[name] and name not in cleaned:
            errors[name] = [_("The file has no column “%(column)s”.") % {"column": mapping[name]}]
        elif (
            import_field.required
            and name not in cleaned
            and not (name == "channel" and options.get("default_channel"))
        ):
            errors[name] = [_("Choose the column for “%(field)s”.") % {"field": import_field.label}]
    channel = options.get("default_channel")
    if channel and not SalesChannel.objects.filter(code=channel).exists():
        errors["default_channel"] = [_("Unknown sales channel “%(code)s”.") % {"code": channel}]
    if errors:
        raise ValidationError(errors)
    return cleaned


def clean_mode(mode: str | None, default: str) -> str:
    mode = mode or default
    if mode not in ImportMode.values:
        raise ValidationError({"mode": [_("Choose all-or-nothing or import the valid rows.")]})
    return mode


def preview_import(
    actor: User,
    job_id: int,
    mapping: Mapping[str, str],
    mode: str | None = None,
    options: Mapping[str, Any] | None = None,
) -> ImportPreview:
    """Dry run over the whole file: what would be created, updated, unchanged or fail."""
    job = editable_job(actor, job_id)
    options = {key: value for key, value in (options or {}).items() if value}
    job.mapping = clean_mapping(job, mapping, options)
    job.options = options
    job.mode = clean_mode(mode, job.mode)
    report, _handler = run_pass(actor, job, write=False, progress=checking_progress(job))
    job.status = ImportStatus.PREVIEWED
    job.message = ""
    job.phase = ""
    store_report(job, report)
    job.save()
    return ImportPreview(
        job=job,
        total=report.total,
        counts=counts_of(report),
        errors=job.error_sample,
        sample_rows=job.sample_rows,
    )


def editable_job(actor: User, job_id: int) -> ImportJob:
    require(actor, "data.import")
    job = get_import_job(actor, job_id)
    if job.status == ImportStatus.IMPORTED:
        raise RuleViolation(
            _("This file has already been imported. Upload it again to import it again."),
            code="already_imported",
        )
    return job


def run_import(actor: User, job_id: int, mode: str | None = None) -> ImportJob:
    """Validate the whole file, then write: every valid row, or nothing if any row is bad.

    All or nothing writes in one transaction: a worker that dies half way leaves nothing. Valid
    rows are written a chunk per transaction with the job's last written line, so a run that
    died goes on after that line when run again, and its report says what was written.
    """
    job = editable_job(actor, job_id)
    job.mode = clean_mode(mode, job.mode)
    job.mapping = clean_mapping(job, job.mapping, job.options)
    resumed = resumed_report(job) if job.mode == ImportMode.VALID_ROWS else None
    validation, validator = run_pass(
        actor,
        job,
        write=False,
        progress=checking_progress(job),
        report=PassReport(imports_folder() / f"job-{job.pk}-check.csv"),
    )
    if validation.counts[Result.FAILED] and job.mode == ImportMode.ALL_OR_NOTHING:
        return finish_failed(job, validation)
    ImportJob.objects.filter(pk=job.pk).update(
        phase="writing", processed_rows=resumed.total if resumed else 0, heartbeat_at=timezone.now()
    )
    try:
        if job.mode == ImportMode.ALL_OR_NOTHING:
            with transaction.atomic():
                result, _handler = run_pass(actor, job, write=True, previous=validator)
                if result.counts[Result.FAILED]:
                    raise Rollback
        else:
            result, _handler = run_pass(
                actor,
                job,
                write=True,
                previous=validator,
                progress=writing_progress(job),
                report=resumed,
            )
    except Rollback:
        return finish_failed(job, result)
    Path(validation.report_path).unlink(missing_ok=True)
    job.status = ImportStatus.IMPORTED
    job.message = job.phase = ""
    job.committed_line = 0
    store_report(job, result)
    job.finished_at = timezone.now()
    job.save()
    return job


def finish_failed(job: ImportJob, report: PassReport) -> ImportJob:
    """All-or-nothing found bad rows: nothing was written; report them."""
    store_report(job, report)
    job.created_count = job.updated_count = job.unchanged_count = 0
    job.status = ImportStatus.FAILED
    job.phase = ""
    job.message = _("Nothing was imported: %(count)d rows have errors.") % {
        "count": report.counts[Result.FAILED]
    }
    job.finished_at = timezone.now()
    job.save()
    return job


def table_of(job: ImportJob) -> Table:
    return Table(
        Path(job.stored_path),
        job.file_format,
        list(job.headers),
        encoding=job.encoding,
        delimiter=job.delimiter or ",",
        max_rows=ImportLimits.from_settings().max_rows,
    )


def make_handler(actor: User, job: ImportJob, write: bool, previous: Any) -> RowHandler:
    handler_class = HANDLERS[job.kind]
    return handler_class(actor, dict(job.options), write=write, previous=previous)  # type: ignore[no-any-return]


def run_pass(
    actor: User,
    job: ImportJob,
    *,
    write: bool,
    previous: Any = None,
    progress: Progress | None = None,
    report: PassReport | None = None,
) -> tuple[PassReport, RowHandler]:
    """Stream the file through the handler in chunks; a broken file fails the job, not a 500.

    Writing valid rows, each chunk is one transaction together with `progress`, so the job
    always knows the last line really written. A `report` resumed from such a line skips the
    rows up to it.
    """
    report = report or PassReport(imports_folder() / f"job-{job.pk}-errors.csv")
    handler = make_handler(actor, job, write, previous)
    per_chunk = per_chunk_transaction(write and job.mode == ImportMode.VALID_ROWS)
    try:
        with garbage_collected_per_chunk():
            for chunk in chunks_of(job, report, handler.chunk_size):
                with per_chunk():
                    report.record(handler.handle(chunk))
                    if progress is not None:
                        progress(report, done_through(chunk, handler))
                gc.collect(0)
            with per_chunk():
                report.record(handler.finish())
                if progress is not None:
                    progress(report, report.last_line)
    except LimitExceeded as error:
        report.close()
        discard_upload(job, str(error))
        raise file_refused(error) from None
    except TabularError as error:
        report.close()
        raise file_refused(error) from None
    report.close()
    return report, handler


def per_chunk_transaction(enabled: bool) -> Callable[[], contextlib.AbstractContextManager[Any]]:
    return transaction.atomic if enabled else contextlib.nullcontext


def done_through(chunk: list[SourceRow], handler: RowHandler) -> int:
    """The line up to which every row has been handled: the order handler holds back the
    rows of the chunk's last order (it may go on in the next chunk)."""
    held = getattr(handler, "carry", None) or ()
    if held:
        return min(row.line for row in held) - 1
    return chunk[-1].line


def discard_upload(job: ImportJob, message: str) -> None:
    """A file past a limit is never read again: delete it and fail the job with the reason."""
    Path(job.stored_path).unlink(missing_ok=True)
    job.status = ImportStatus.FAILED
    job.message = message[:500]
    job.finished_at = timezone.now()
    job.stored_path = ""
    ImportJob.objects.filter(pk=job.pk).update(
        status=job.status, message=job.message, finished_at=job.finished_at, stored_path=""
    )


def chunks_of(job: ImportJob, report: PassReport, size: int) -> Iterator[list[SourceRow]]:
    """The file's rows mapped to field names, in lists of `size`; ragged rows are reported.
    Rows up to `report.resumed_after` were written by an earlier, interrupted run."""
    columns = {name: header for name, header in job.mapping.items() if header}
    chunk: list[SourceRow] = []
    for line, values, extra in table_of(job).records(columns):
        report.last_line = line
        if line <= report.resumed_after:
            continue
        row = SourceRow(line, values, columns)
        if len(report.samples) < SAMPLE_ROWS:
            report.samples.append({"line": line, **values})
        if extra:
            report.record([ragged_row(row, extra)])
            continue
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


@contextlib.contextmanager
def garbage_collected_per_chunk() -> Iterator[None]:
    """Pause the automatic garbage collector; the caller collects young objects per chunk.

    A chunk allocates some 100,000 short-lived objects. The automatic collector would run every
    700 allocations, scan them, promote the live ones and rescan the old generation again and
    again: a quarter of the import's time. Reference counting frees almost all of them anyway;
    the few cycles a chunk makes are all young, so `gc.collect(0)` after the chunk finds them
    and memory stays bounded.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def ragged_row(row: SourceRow, extra: str) -> RowOutcome:
    reason = _("This row has more cells than the header has columns.")
    return RowOutcome.failed(row, [RowError(row.line, "", extra, reason)])


def error_report_file(actor: User, job_id: int) -> Path:
    """The CSV of every failed row (line, column, value, reason) of the job's last pass."""
    job = get_import_job(actor, job_id)
    path = Path(job.error_report_path) if job.error_report_path else None
    if path is None or not path.exists():
        raise Http404("This import has no error report.")
    return path
