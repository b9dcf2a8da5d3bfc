"""Import limits: the file's size, an XLSX's unpacked size, packing ratio and shared strings,
rows and columns. Each breach answers a clear message (page, service, command), keeps no
stored file and writes nothing."""

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from kehu.core.errors import RuleViolation
from kehu.customers.models import Customer
from kehu.imports.models import ImportJob, ImportStatus
from kehu.imports.services import preview_import, run_import, start_import
from kehu.imports.tests.helpers import write_csv
from kehu.imports.tests.workbooks import (
    MAIN,
    PIECE,
    SHEET,
    distinct_shared_strings,
    identical_rows_sheet,
    shared_strings_bomb,
    small_workbook,
    with_part,
)

HEADER = ["姓名", "手机号"]


def stored_files(settings) -> list[Path]:
    folder = Path(settings.MEDIA_ROOT) / "imports"
    return sorted(folder.glob("*")) if folder.exists() else []


def people(count: int) -> list[list[str]]:
    return [HEADER] + [[f"客户{number}", f"138{number:08d}"] for number in range(count)]


def refusal_of(actor, path: Path) -> RuleViolation:
    with pytest.raises(RuleViolation) as refusal:
        start_import(actor, "customers", path, file_name=path.name)
    return refusal.value


def test_an_upload_over_the_size_limit_is_refused_and_not_kept(admin_user, tmp_path, settings):
    settings.IMPORT_MAX_UPLOAD_MB = 1
    path = write_csv(tmp_path, people(60_000))
    refusal = refusal_of(admin_user, path)
    assert refusal.code == "limit_exceeded"
    assert refusal.message == (
        f"The file is {path.stat().st_size / 2**20:.1f} MB; at most 1 MB can be imported at once."
    )
    assert ImportJob.objects.count() == 0
    assert stored_files(settings) == []


def test_an_upload_of_unknown_size_stops_copying_at_the_limit(admin_user, tmp_path, settings):
    settings.IMPORT_MAX_UPLOAD_MB = 1
    stream = io.BytesIO(write_csv(tmp_path, people(60_000)).read_bytes())
    with pytest.raises(RuleViolation) as refusal:
        start_import(admin_user, "customers", stream, file_name="客户.csv")
    assert refusal.value.message == (
        "The file is larger than 1 MB, the most that can be imported at once."
    )
    assert stored_files(settings) == []


def test_the_upload_page_shows_the_size_limit_as_a_form_error(client, sales, settings):
    settings.IMPORT_MAX_UPLOAD_MB = 1
    client.force_login(sales)
    content = "姓名\n".encode() + b"a" * (2 * PIECE)
    response = client.post(
        reverse("imports:start"),
        {"kind": "customers", "file": SimpleUploadedFile("big.csv", content)},
    )
    assert response.status_code == 400
    assert '<ul class="errorlist"><li>The file is 2.0 MB; at most 1 MB' in response.text
    assert ImportJob.objects.count() == 0
    assert stored_files(settings) == []


def test_a_csv_with_ten_thousand_columns_is_refused_with_a_small_page(client, sales, settings):
    client.force_login(sales)
    header = ",".join(f"列{number}" for number in range(10_000))
    content = f"{header}\n{','.join(['x'] * 10_000)}\n".encode()
    response = client.post(
        reverse("imports:start"),
        {"kind": "customers", "file": SimpleUploadedFile("wide.csv", content)},
    )
    assert response.status_code == 400
    assert (
        "The file has 10000 columns; at most 200 can be imported. Delete the columns you do not "
        "import and upload it again." in response.text
    )
    assert len(response.content) < 20_000
    assert ImportJob.objects.count() == 0
    assert stored_files(settings) == []


def test_an_xlsx_with_ten_thousand_columns_is_refused(admin_user, tmp_path, settings):
    path = small_workbook(
        tmp_path / "wide.xlsx", [f"列{n}" for n in range(10_000)], [["x"] * 10_000]
    )
    refusal = refusal_of(admin_user, path)
    assert refusal.message.startswith("The file has 10000 columns; at most 200")
    assert stored_files(settings) == []


def test_a_file_at_the_column_limit_is_taken(admin_user, tmp_path, settings):
    settings.IMPORT_MAX_COLUMNS = 3
    path = write_csv(tmp_path, [["姓名", "手机号", "城市"], ["张三", "13800000001", "杭州"]])
    job = start_import(admin_user, "customers", path, file_name=path.name)
    assert job.headers == ["姓名", "手机号", "城市"]


def test_rows_past_the_limit_stop_the_dry_run_and_delete_the_file(admin_user, tmp_path, settings):
    settings.IMPORT_MAX_ROWS = 5
    job = start_import(admin_user, "customers", write_csv(tmp_path, people(8)), "file.csv")
    with pytest.raises(RuleViolation) as refusal:
        preview_import(admin_user, job.pk, job.mapping, "valid_rows")
    message = "The file has more than 5 rows. Split it into files of at most 5 rows."
    assert refusal.value.message == message
    job.refresh_from_db()
    assert (job.status, job.message, job.stored_path) == (ImportStatus.FAILED, message, "")
    assert stored_files(settings) == []
    assert Customer.objects.count() == 0


@pytest.mark.parametrize("mode", ["all_or_nothing", "valid_rows"])
def test_rows_past_the_limit_stop_the_import_with_nothing_written(
    admin_user, tmp_path, settings, mode
):
    job = start_import(admin_user, "customers", write_csv(tmp_path, people(8)), "file.csv")
    preview_import(admin_user, job.pk, job.mapping, mode)
    settings.IMPORT_MAX_ROWS = 5
    with pytest.raises(RuleViolation, match="more than 5 rows"):
        run_import(admin_user, job.pk)
    assert Customer.objects.count() == 0
    job.refresh_from_db()
    assert job.status == ImportStatus.FAILED
    assert stored_files(settings) == []


def test_a_file_at_the_row_limit_is_imported(admin_user, tmp_path, settings):
    settings.IMPORT_MAX_ROWS = 5
    job = start_import(admin_user, "customers", write_csv(tmp_path, people(5)), "file.csv")
    preview_import(admin_user, job.pk, job.mapping, "all_or_nothing")
    job = run_import(admin_user, job.pk)
    assert (job.status, Customer.objects.count()) == (ImportStatus.IMPORTED, 5)


def test_an_xlsx_packed_like_a_zip_bomb_is_refused_before_it_is_opened(
    admin_user, tmp_path, settings
):
    base = small_workbook(tmp_path / "base.xlsx", HEADER, [["x", "13800000000"]])
    bomb = with_part(base, tmp_path / "bomb.xlsx", SHEET, identical_rows_sheet(20 * PIECE))
    refusal = refusal_of(admin_user, bomb)
    assert refusal.code == "limit_exceeded"
    assert refusal.message == (
        "The XLSX file is packed more than 100 to 1, which a real spreadsheet never is. "
        "Save it again from your spreadsheet program, or as CSV."
    )
    assert stored_files(settings) == []


def test_an_xlsx_unpacking_past_the_limit_is_refused(admin_user, tmp_path, settings):
    settings.IMPORT_MAX_UNCOMPRESSED_MB = 2
    path = shared_strings_bomb(tmp_path, unpacked_mb=3)
    refusal = refusal_of(admin_user, path)
    assert refusal.message == (
        "The XLSX file unpacks to 3 MB; at most 2 MB can be imported. Split it or save it as CSV."
    )
    assert stored_files(settings) == []


def test_a_giant_shared_strings_table_is_refused(admin_user, tmp_path, settings):
    settings.IMPORT_MAX_SHARED_STRINGS_MB = 2
    path = shared_strings_bomb(tmp_path, unpacked_mb=3)
    refusal = refusal_of(admin_user, path)
    assert refusal.message == (
        "The XLSX file's part “xl/sharedStrings.xml” unpacks to 3 MB; at most 2 MB can be read. "
        "Split the file or save it as CSV."
    )
    assert stored_files(settings) == []


def test_shared_strings_hidden_under_a_worksheet_name_are_held_to_their_limit(
    admin_user, tmp_path, settings
):
    """The parts openpyxl loads whole are found by their declared type, not by their name."""
    settings.IMPORT_MAX_SHARED_STRINGS_MB = 2
    base = small_workbook(tmp_path / "base.xlsx", HEADER, [["x", "13800000000"]])
    hidden = "xl/worksheets/strings.xml"
    path = with_part(base, tmp_path / "hidden.xlsx", hidden, distinct_shared_strings(3 * PIECE))
    refusal = refusal_of(admin_user, path)
    assert refusal.message.startswith(f"The XLSX file's part “{hidden}” unpacks to 3 MB")


def test_a_normal_workbook_passes_the_checks(admin_user, tmp_path):
    path = small_workbook(tmp_path / "ok.xlsx", HEADER, [["张三", "13800000001"]])
    job = start_import(admin_user, "customers", path, file_name=path.name)
    assert job.headers == HEADER


def test_the_command_reports_a_limit(admin_user, tmp_path, settings):
    settings.IMPORT_MAX_COLUMNS = 1
    path = write_csv(tmp_path, people(2))
    with pytest.raises(CommandError) as error:
        call_command("kehu_import", "customers", str(path))
    assert str(error.value) == (
        "The file has 2 columns; at most 1 can be imported. Delete the columns you do not "
        "import and upload it again."
    )
    assert stored_files(settings) == []


def one_wide_row(cells: int, in_header: bool = False) -> Iterator[bytes]:
    """A sheet whose second (or first) row holds `cells` cells (openpyxl builds a row whole)."""
    header = (
        "" if in_header else '<c r="A1" t="inlineStr"><is><t>姓名</t></is></c></row><row r="2">'
    )
    yield f'<worksheet xmlns="{MAIN}"><sheetData><row r="1">{header}'.encode()
    piece = b"<c><v>1</v></c>" * 10_000
    for _ in range(cells // 10_000):
        yield piece
    yield b"</row></sheetData></worksheet>"


def test_a_csv_row_of_millions_of_empty_cells_is_refused(admin_user, tmp_path, settings):
    path = write_csv(tmp_path, people(6), name="ragged.csv")
    with open(path, "ab") as handle:
        handle.write(b"," * (5 * PIECE) + b"\n")
    job = start_import(admin_user, "customers", path, file_name=path.name)
    with pytest.raises(RuleViolation) as refusal:
        preview_import(admin_user, job.pk, job.mapping, "valid_rows")
    assert refusal.value.message == (
        "The row at line 8 is longer than 4 MB, more than any real row."
    )
    assert stored_files(settings) == []


def test_an_xlsx_row_of_400_000_cells_is_refused(admin_user, tmp_path, settings):
    settings.IMPORT_MAX_COMPRESSION_RATIO = 100_000  # let it past the ratio: the row is the test
    base = small_workbook(tmp_path / "base.xlsx", HEADER, [["x", "13800000000"]])
    path = with_part(base, tmp_path / "wide-row.xlsx", SHEET, one_wide_row(400_000))
    refusal = refusal_of(admin_user, path)  # reading the first rows finds it
    assert refusal.message == "The row at line 2 is longer than 4 MB, more than any real row."
    assert stored_files(settings) == []


def test_an_xlsx_header_of_400_000_cells_is_refused(admin_user, tmp_path, settings):
    settings.IMPORT_MAX_COMPRESSION_RATIO = 100_000
    base = small_workbook(tmp_path / "base.xlsx", HEADER, [["x", "13800000000"]])
    sheet = one_wide_row(400_000, in_header=True)
    path = with_part(base, tmp_path / "wide-header.xlsx", SHEET, sheet)
    refusal = refusal_of(admin_user, path)
    assert refusal.message == "The row at line 1 is longer than 4 MB, more than any real row."
