"""The dry run and the import run as background tasks: the pages queue them, show a progress bar
polled by htmx, and find a job whose worker died."""

import socket
import subprocess
import sys
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from kehu.core.errors import RuleViolation
from kehu.customers.models import Customer
from kehu.imports.jobs import request_import, run_job, this_worker
from kehu.imports.models import ImportJob, ImportStatus, ImportStep
from kehu.imports.services import preview_import, start_import
from kehu.imports.tests.helpers import write_csv

MAPPING = {"map_name": "姓名", "map_mobile": "手机号"}


@pytest.fixture
def uploaded(sales, tmp_path) -> ImportJob:
    rows = [["姓名", "手机号"]] + [[f"客户{n}", f"138{n:08d}"] for n in range(10)]
    path = write_csv(tmp_path, rows)
    return start_import(sales, "customers", path, file_name=path.name)


@pytest.fixture
def previewed(sales, uploaded) -> ImportJob:
    preview_import(sales, uploaded.pk, uploaded.mapping, "valid_rows")
    uploaded.refresh_from_db()
    return uploaded


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_the_dry_run_is_queued_and_its_page_follows_it(
    client, sales, uploaded, django_capture_on_commit_callbacks
):
    client.force_login(sales)
    with django_capture_on_commit_callbacks() as queued:
        response = client.post(reverse("imports:mapping", args=[uploaded.pk]), MAPPING)
    assert response.url == reverse("imports:result", args=[uploaded.pk])
    uploaded.refresh_from_db()
    assert (uploaded.status, uploaded.step) == (ImportStatus.QUEUED, ImportStep.PREVIEW)
    page = client.get(response.url)
    progress_url = reverse("imports:progress", args=[uploaded.pk])
    assert f'hx-get="{progress_url}" hx-trigger="every 1s"' in page.text
    assert "Waiting for a worker to start…" in page.text
    for callback in queued:
        callback()
    done = client.get(progress_url)
    assert done.status_code == 204
    assert done["HX-Redirect"] == reverse("imports:result", args=[uploaded.pk])
    assert client.get(done["HX-Redirect"]).url == reverse("imports:preview", args=[uploaded.pk])


def test_the_progress_bar_shows_the_rows_written_of_the_total(client, sales, previewed):
    ImportJob.objects.filter(pk=previewed.pk).update(
        status=ImportStatus.RUNNING,
        step=ImportStep.IMPORT,
        phase="writing",
        processed_rows=4,
        worker=this_worker(),
    )
    client.force_login(sales)
    partial = client.get(reverse("imports:progress", args=[previewed.pk]))
    assert partial.status_code == 200
    assert '<progress max="100" value="40"' in partial.text
    assert "Writing the rows…" in partial.text
    assert "4 of 10 rows" in partial.text


def test_the_import_is_queued_and_runs_in_the_task(
    client, sales, previewed, django_capture_on_commit_callbacks
):
    client.force_login(sales)
    with django_capture_on_commit_callbacks() as queued:
        response = client.post(
            reverse("imports:preview", args=[previewed.pk]), {"mode": "valid_rows"}
        )
    assert response.url == reverse("imports:result", args=[previewed.pk])
    assert Customer.objects.count() == 0
    for callback in queued:
        callback()
    previewed.refresh_from_db()
    assert (previewed.status, previewed.created_count) == (ImportStatus.IMPORTED, 10)
    assert Customer.objects.count() == 10


def test_a_task_run_twice_imports_once(sales, previewed, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        request_import(sales, previewed.pk)
    run_job(previewed.pk, sales.pk)
    previewed.refresh_from_db()
    assert (previewed.status, previewed.created_count) == (ImportStatus.IMPORTED, 10)
    assert Customer.objects.count() == 10


def test_a_queued_job_cannot_be_queued_again(sales, previewed, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():
        request_import(sales, previewed.pk)
    with pytest.raises(RuleViolation) as refusal:
        request_import(sales, previewed.pk)
    assert refusal.value.message == "This file is being worked on; wait until it is done."


def test_a_job_whose_worker_process_is_gone_is_failed_on_its_page(client, sales, previewed):
    ImportJob.objects.filter(pk=previewed.pk).update(
        status=ImportStatus.RUNNING,
        step=ImportStep.IMPORT,
        mode="all_or_nothing",
        worker=f"{socket.gethostname()}:{dead_pid()}",
    )
    client.force_login(sales)
    page = client.get(reverse("imports:result", args=[previewed.pk]))
    assert (
        "The work stopped before the end (its worker ended); nothing was imported. Run it again."
        in page.text
    )
    previewed.refresh_from_db()
    assert previewed.status == ImportStatus.FAILED
    assert (previewed.created_count, previewed.updated_count) == (0, 0)  # not the dry run's


def test_a_dead_dry_run_goes_back_to_the_mapping(client, sales, uploaded):
    ImportJob.objects.filter(pk=uploaded.pk).update(
        status=ImportStatus.RUNNING,
        step=ImportStep.PREVIEW,
        worker=f"{socket.gethostname()}:{dead_pid()}",
    )
    client.force_login(sales)
    response = client.get(reverse("imports:result", args=[uploaded.pk]))
    assert response.url == reverse("imports:mapping", args=[uploaded.pk])
    mapping = client.get(response.url)
    assert "The work stopped before the end (its worker ended)" in mapping.text


def test_a_job_on_another_host_is_stale_only_after_the_timeout(client, sales, previewed, settings):
    settings.IMPORT_STALE_AFTER_SECONDS = 600
    running = {"status": ImportStatus.RUNNING, "step": ImportStep.IMPORT, "worker": "elsewhere:1"}
    ImportJob.objects.filter(pk=previewed.pk).update(
        **running, heartbeat_at=timezone.now() - timedelta(seconds=500)
    )
    client.force_login(sales)
    client.get(reverse("imports:result", args=[previewed.pk]))
    assert ImportJob.objects.get(pk=previewed.pk).status == ImportStatus.RUNNING
    ImportJob.objects.filter(pk=previewed.pk).update(
        heartbeat_at=timezone.now() - timedelta(seconds=700)
    )
    client.get(reverse("imports:result", args=[previewed.pk]))
    assert ImportJob.objects.get(pk=previewed.pk).status == ImportStatus.FAILED


def test_a_limit_hit_in_the_task_fails_the_job_with_its_message(
    sales, previewed, settings, django_capture_on_commit_callbacks
):
    settings.IMPORT_MAX_ROWS = 5
    with django_capture_on_commit_callbacks(execute=True):
        request_import(sales, previewed.pk)
    previewed.refresh_from_db()
    assert previewed.status == ImportStatus.FAILED
    assert previewed.message == (
        "The file has more than 5 rows. Split it into files of at most 5 rows."
    )
    assert Customer.objects.count() == 0
