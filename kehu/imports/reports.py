"""What a pass over an import file found (counts, first errors, the error report file), and
how a job keeps it: progress after every chunk, the report of a run resumed after its last
written line."""

import csv
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core.rows import Result, RowError, RowOutcome
from kehu.imports.models import ImportJob

ERROR_SAMPLE_SIZE = 100


@dataclass
class PassReport:
    """What one pass over the file found: counts per result, the first errors, all in a file."""

    report_path: Path
    counts: Counter = field(default_factory=Counter)
    errors: list[RowError] = field(default_factory=list)
    samples: list[dict[str, Any]] = field(default_factory=list)
    resumed_after: int = 0
    last_line: int = 1
    _writer: Any = None
    _handle: IO[str] | None = None

    def record(self, outcomes: list[RowOutcome]) -> None:
        self.counts.update(outcome.result for outcome in outcomes)
        for outcome in outcomes:
            for error in outcome.errors:
                if len(self.errors) < ERROR_SAMPLE_SIZE:
                    self.errors.append(error)
                self.write_error(error)

    def write_error(self, error: RowError) -> None:
        if self._writer is None:
            if self.resumed_after and self.report_path.exists():  # go on after the kept lines
                self._handle = open(self.report_path, "a", encoding="utf-8", newline="")  # noqa: SIM115
                self._writer = csv.writer(self._handle)
            else:
                self._handle = open(self.report_path, "w", encoding="utf-8-sig", newline="")  # noqa: SIM115
                self._writer = csv.writer(self._handle)
                self._writer.writerow([_("Line"), _("Column"), _("Value"), _("Reason")])
        self._writer.writerow([error.line, error.column, error.value, error.reason])

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
        elif self.report_path.exists() and not self.counts[Result.FAILED]:
            self.report_path.unlink()

    @property
    def total(self) -> int:
        return sum(self.counts.values())


Progress = Callable[[PassReport, int], None]
"""Told after each chunk: the report so far and the line up to which every row is done."""


def imports_folder() -> Path:
    folder = Path(settings.MEDIA_ROOT) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def resumed_report(job: ImportJob) -> PassReport | None:
    """The write report of a valid-rows run that died after writing up to
    `job.committed_line`: its counts and errors so far; None when there is none."""
    if not job.committed_line:
        return None
    report = PassReport(
        imports_folder() / f"job-{job.pk}-errors.csv", resumed_after=job.committed_line
    )
    report.counts.update(
        {
            Result.CREATED: job.created_count,
            Result.UPDATED: job.updated_count,
            Result.UNCHANGED: job.unchanged_count,
            Result.FAILED: job.failed_count,
        }
    )
    report.errors = [
        RowError(**error) for error in job.error_sample if error["line"] <= job.committed_line
    ]
    keep_errors_through(report.report_path, job.committed_line)
    return report


def keep_errors_through(path: Path, line: int) -> None:
    """Drop from an error report the lines past `line` (their chunk was never committed)."""
    if not path.exists():
        return
    kept = path.with_suffix(".kept")
    with (
        open(path, encoding="utf-8-sig", newline="") as source,
        open(kept, "w", encoding="utf-8-sig", newline="") as target,
    ):
        rows = csv.reader(source)
        writer = csv.writer(target)
        writer.writerow(next(rows, []))
        for row in rows:
            if row and row[0].isdigit() and int(row[0]) <= line:
                writer.writerow(row)
    kept.replace(path)


def checking_progress(job: ImportJob) -> Progress:
    """Rows checked so far, for the progress bar (no transaction is open: others see it)."""

    def record(report: PassReport, line: int) -> None:
        ImportJob.objects.filter(pk=job.pk).update(
            phase="checking", processed_rows=report.total, heartbeat_at=timezone.now()
        )

    return record


def writing_progress(job: ImportJob) -> Progress:
    """Rows written so far and the last line written, committed with the chunk's rows."""

    def record(report: PassReport, line: int) -> None:
        ImportJob.objects.filter(pk=job.pk).update(
            processed_rows=report.total,
            committed_line=line,
            created_count=report.counts[Result.CREATED],
            updated_count=report.counts[Result.UPDATED],
            unchanged_count=report.counts[Result.UNCHANGED],
            failed_count=report.counts[Result.FAILED],
            error_sample=[error.as_dict() for error in report.errors],
            heartbeat_at=timezone.now(),
        )

    return record


def store_report(job: ImportJob, report: PassReport) -> None:
    job.total_rows = job.processed_rows = report.total
    job.created_count = report.counts[Result.CREATED]
    job.updated_count = report.counts[Result.UPDATED]
    job.unchanged_count = report.counts[Result.UNCHANGED]
    job.failed_count = report.counts[Result.FAILED]
    job.error_sample = [error.as_dict() for error in report.errors]
    job.sample_rows = report.samples
    job.error_report_path = str(report.report_path) if report.counts[Result.FAILED] else ""


def counts_of(report: PassReport) -> dict[str, int]:
    return {result.value: report.counts[result] for result in Result}
