"""Programs the background-import tests run in a child process against an SQLite file, so the
parent can kill them for real (SIGKILL) or measure their memory on their own.

Run as `python -c "import django; django.setup(); from kehu.imports.tests.child import main;
main()" <scenario> <arguments>`; each scenario prints one JSON line.
"""

import csv
import json
import os
import resource
import sys
from pathlib import Path
from typing import Any

from kehu.accounts.models import User
from kehu.accounts.roles import Role
from kehu.core.errors import DomainError
from kehu.customers.models import Customer
from kehu.imports.jobs import job_with_state, request_import
from kehu.imports.models import ImportJob, ImportStatus, ImportStep
from kehu.imports.services import preview_import, start_import
from kehu.imports.tasks import run_import_job_task


def administrator() -> User:
    user = User.objects.filter(username="admin").first()
    return user or User.objects.create_user(username="admin", password="x", role=Role.ADMIN)


def prepare(rows: int, mode: str) -> dict[str, Any]:
    """A previewed customer file of `rows` rows, queued for import as the pages would."""
    path = Path(os.environ["KEHU_VAR_DIR"]) / "customers.csv"
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["姓名", "手机号", "城市"])
        writer.writerows([f"客户{n}", f"139{n:08d}", "杭州"] for n in range(rows))
    actor = administrator()
    job = start_import(actor, "customers", path, file_name=path.name)
    preview_import(actor, job.pk, job.mapping, mode)
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.QUEUED, step=ImportStep.IMPORT)
    return {"job": job.pk, "actor": actor.pk}


def run(job_id: int, actor_id: int) -> dict[str, Any]:
    """What a worker does with the queued task."""
    run_import_job_task.call(job_id, actor_id)
    return {"status": ImportJob.objects.get(pk=job_id).status}


def resume(job_id: int, actor_id: int) -> dict[str, Any]:
    """Open the job's page after the worker died, then run the import again."""
    actor = User.objects.get(pk=actor_id)
    found = job_with_state(actor, job_id)
    request_import(actor, job_id)  # the immediate backend runs it on commit
    job = ImportJob.objects.get(pk=job_id)
    return {
        "found_status": found.status,
        "found_message": found.message,
        "status": job.status,
        "created": job.created_count,
        "failed": job.failed_count,
        "customers": Customer.objects.count(),
        "distinct_names": Customer.objects.values("name").distinct().count(),
    }


def bombs(*paths: str) -> dict[str, Any]:
    """Import each hostile file; the peak memory before and after (kilobytes, Linux)."""
    import openpyxl  # noqa: F401 - loaded before the baseline, as in a warm worker

    actor = administrator()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    messages = []
    for path in paths:
        try:
            start_import(actor, "customers", path, file_name=Path(path).name)
            messages.append("")
        except DomainError as refusal:
            messages.append(refusal.message)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"messages": messages, "before_kb": before, "after_kb": after}


SCENARIOS = {"prepare": prepare, "run": run, "resume": resume, "bombs": bombs}


def main() -> None:
    from django.core.management import call_command
    from django.utils import translation

    translation.activate("en")  # the tests assert on the messages' source text
    if not (Path(os.environ["KEHU_VAR_DIR"]) / "kehu.sqlite3").exists():
        call_command("migrate", verbosity=0)
    scenario, *arguments = sys.argv[1:]
    values = [int(value) if value.isdigit() else value for value in arguments]
    print(json.dumps(SCENARIOS[scenario](*values)))  # type: ignore[operator]
