"""`kehu import customers|orders FILE`: the same import as the web wizard, from the shell."""

import json
import shutil
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from kehu.core.errors import DomainError
from kehu.imports.commands import acting_user
from kehu.imports.models import ImportJob, ImportStatus
from kehu.imports.services import preview_import, run_import, start_import


class Command(BaseCommand):
    help = "Import customers or order lines from a CSV or XLSX file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=["customers", "orders"])
        parser.add_argument("file")
        parser.add_argument(
            "--mapping",
            default="auto",
            help='"auto" (match column names) or JSON {"field": "column", ...}',
        )
        parser.add_argument(
            "--mode", choices=["all-or-nothing", "valid-rows"], default="all-or-nothing"
        )
        parser.add_argument("--dry-run", action="store_true", help="Only report; write nothing.")
        parser.add_argument(
            "--as", dest="username", help="Import as this user (default: an admin)."
        )
        parser.add_argument(
            "--channel", default="", help="Sales channel code for rows without one."
        )
        parser.add_argument("--errors", help="Write the error report (CSV) to this file.")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = acting_user(options["username"])
        mode = options["mode"].replace("-", "_")
        try:
            job = start_import(actor, options["kind"], options["file"], file_name=options["file"])
            mapping = (
                job.mapping if options["mapping"] == "auto" else parse_mapping(options["mapping"])
            )
            preview_import(actor, job.pk, mapping, mode, {"default_channel": options["channel"]})
            if not options["dry_run"]:
                job = run_import(actor, job.pk)
            else:
                job.refresh_from_db()
        except ValidationError as error:
            raise CommandError(
                "; ".join(f"{k}: {' '.join(v)}" for k, v in error.message_dict.items())
            ) from None
        except DomainError as error:
            raise CommandError(error.message) from None
        self.report(job, options)

    def report(self, job: ImportJob, options: dict[str, Any]) -> None:
        label = "dry run" if options["dry_run"] else job.get_status_display()
        self.stdout.write(
            f"{job.original_name}: {label}; rows {job.total_rows}, created {job.created_count}, "
            f"updated {job.updated_count}, unchanged {job.unchanged_count}, "
            f"failed {job.failed_count}"
        )
        for error in job.error_sample[:20]:
            self.stdout.write(
                f"  line {error['line']} [{error['column']}] {error['value']!r}: {error['reason']}"
            )
        if options["errors"] and job.error_report_path:
            shutil.copyfile(job.error_report_path, options["errors"])
            self.stdout.write(f"Error report: {options['errors']}")
        if job.status == ImportStatus.FAILED:
            raise CommandError(job.message)


def parse_mapping(text: str) -> dict[str, str]:
    try:
        mapping = json.loads(text)
    except json.JSONDecodeError as error:
        raise CommandError(f"--mapping is not JSON: {error}") from None
    if not isinstance(mapping, dict):
        raise CommandError('--mapping must be a JSON object like {"name": "姓名"}')
    return {str(key): str(value) for key, value in mapping.items()}
