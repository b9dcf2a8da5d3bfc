"""Helpers for the import tests: write files, start and run imports in one call."""

import csv
from pathlib import Path
from typing import Any

import pytest

from kehu.imports.models import ImportJob
from kehu.imports.services import preview_import, run_import, start_import


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def write_csv(
    folder: Path, rows: list[list[Any]], name: str = "file.csv", encoding: str = "utf-8"
) -> Path:
    path = folder / name
    with open(path, "w", encoding=encoding, newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def import_file(
    actor, kind: str, path: Path, mode: str = "valid_rows", options: dict | None = None
) -> ImportJob:
    job = start_import(actor, kind, path, file_name=path.name)
    preview_import(actor, job.pk, job.mapping, mode, options)
    return run_import(actor, job.pk)


def counts(job: ImportJob) -> tuple[int, int, int, int]:
    return (job.created_count, job.updated_count, job.unchanged_count, job.failed_count)
