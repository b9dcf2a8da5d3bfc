"""Streaming readers and writers for CSV and XLSX files; no Django models, no business rules.

Readers yield `(line_number, {header: text})` one row at a time, so a file of a million lines is
read in bounded memory; `Table.records` yields only the mapped columns, keyed by field name, for
the importer's hot loop. Line numbers are those a spreadsheet shows: the header is line 1.
Every problem with the file itself (not a text file, truncated workbook, empty) raises
`TabularError` with a message for people.
"""

import codecs
import csv
import io
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from operator import itemgetter
from pathlib import Path
from typing import IO, Any

from django.utils import timezone
from django.utils.translation import gettext as _

CSV = "csv"
XLSX = "xlsx"
SAMPLE_BYTES = 64 * 1024
DELIMITERS = (",", ";", "\t")
EXTRA_CELLS = "__extra_cells__"
"""Key of a row dict holding cells beyond the header (a ragged row); the importer reports it."""
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
MAX_ROW_BYTES = 4 * 1024 * 1024
"""The most text (CSV) or XML (XLSX) one row may take: a row is built whole before it is seen,
so this bounds the memory of any row, such as a line of millions of empty cells. Real rows of
a few hundred columns are a few kilobytes."""
WHITESPACE = re.compile(r"\s+")
NOT_WORD = re.compile(r"[\s_\-·.:：()（）/\\#№*]+")


class TabularError(Exception):
    """The file cannot be read as a table; the message says why, for the person who sent it."""


class LimitExceeded(TabularError):
    """The file breaks one of the import limits; the message says which and what to do."""


@dataclass
class Table:
    """An opened file: its format, encoding, delimiter and header; rows are read lazily."""

    path: Path
    file_format: str
    headers: list[str]
    encoding: str = ""
    delimiter: str = ","
    samples: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    max_rows: int = 0
    """Reading past this many rows below the header raises LimitExceeded (0: no limit)."""

    def rows(self) -> Iterator[tuple[int, dict[str, str]]]:
        """Non-blank rows as {header: text}; cells beyond the header go under EXTRA_CELLS."""
        for line, cells in self.cell_rows():
            row = row_from_cells(self.headers, cells)
            if row is not None:
                yield line, row

    def records(self, columns: Mapping[str, str]) -> Iterator[tuple[int, dict[str, str], str]]:
        """Non-blank rows as {field: text} for `columns` ({field: header}), with the text of
        any non-blank cells beyond the header ("" when there are none)."""
        return project_cells(self.cell_rows(), self.headers, columns)

    def cell_rows(self) -> Iterator[tuple[int, list[str]]]:
        """Every row's cells as text (not yet stripped), blank rows included."""
        if self.file_format == XLSX:
            rows = iterate_xlsx(self.path)
        else:
            rows = iterate_csv(self.path, self.encoding, self.delimiter)
        return limited_rows(rows, self.max_rows) if self.max_rows else rows


def limited_rows(
    rows: Iterator[tuple[int, list[str]]], max_rows: int
) -> Iterator[tuple[int, list[str]]]:
    """The rows, counted as they stream by; the first one past the limit stops the reading."""
    for line, cells in rows:
        if line - 1 > max_rows:
            raise LimitExceeded(
                _(
                    "The file has more than %(limit)d rows. "
                    "Split it into files of at most %(limit)d rows."
                )
                % {"limit": max_rows}
            )
        yield line, cells


def detect_format(file_name: str, head: bytes) -> str:
    """XLSX if the file is a zip archive (or is named .xlsx), CSV otherwise."""
    if head.startswith(b"PK\x03\x04") or file_name.lower().endswith((".xlsx", ".xlsm")):
        return XLSX
    return CSV


def detect_encoding(head: bytes) -> str:
    """UTF-8 (with or without BOM), else GB18030, which covers GBK files from Chinese Excel."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if b"\x00" in head:
        raise TabularError(_("This is not a text file. Upload a CSV or an XLSX file."))
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(head, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        codecs.getincrementaldecoder("gb18030")().decode(head, final=False)
    except UnicodeDecodeError:
        raise TabularError(
            _("The file's text encoding is not UTF-8 or GBK. Save it as “CSV UTF-8” and retry.")
        ) from None
    return "gb18030"


def looks_binary(text: str) -> bool:
    """Binary data decoded as GB18030 is full of control characters; real headers are not."""
    controls = sum(1 for character in text if ord(character) < 32 and character not in "\t\r\n")
    return controls > 0 or "\ufffd" in text


def detect_delimiter(first_line: str) -> str:
    """The delimiter that splits the header line into the most cells (comma when tied)."""
    counts = {delimiter: first_line.count(delimiter) for delimiter in DELIMITERS}
    best = max(DELIMITERS, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else ","


def normalise_header(text: Any) -> str:
    """A header as shown: BOM, surrounding and repeated whitespace removed."""
    return WHITESPACE.sub(" ", str(text or "").replace("\ufeff", "")).strip()


def header_key(text: str) -> str:
    """A header reduced for matching: lower case, without spaces and punctuation."""
    return NOT_WORD.sub("", normalise_header(text).lower())


def unique_headers(cells: Iterable[Any]) -> list[str]:
    """Normalised header names; blank ones become “Column N”, repeated ones get “(2)”."""
    headers: list[str] = []
    seen: set[str] = set()
    for index, cell in enumerate(cells, start=1):
        name = normalise_header(cell) or _("Column %(number)d") % {"number": index}
        candidate, copy = name, 2
        while candidate in seen:
            candidate, copy = f"{name} ({copy})", copy + 1
        seen.add(candidate)
        headers.append(candidate)
    return headers


def open_table(
    path: Path,
    file_name: str = "",
    sample_size: int = 5,
    *,
    max_columns: int = 0,
    check_archive: Callable[[Path], None] | None = None,
) -> Table:
    """Open a CSV or XLSX file, read its header and first rows; raise TabularError if broken.

    `check_archive` vets an XLSX archive before openpyxl opens it; a header wider than
    `max_columns` (0: no limit) raises LimitExceeded before any row is read.
    """
    with open(path, "rb") as handle:
        head = handle.read(SAMPLE_BYTES)
    if not head.strip():
        raise TabularError(_("The file is empty."))
    file_format = detect_format(file_name or path.name, head)
    if file_format == XLSX and check_archive is not None:
        check_archive(path)
    table = open_xlsx(path) if file_format == XLSX else open_csv(path, head)
    if max_columns and len(table.headers) > max_columns:
        raise LimitExceeded(
            _(
                "The file has %(count)d columns; at most %(limit)d can be imported. "
                "Delete the columns you do not import and upload it again."
            )
            % {"count": len(table.headers), "limit": max_columns}
        )
    for row in table.rows():
        table.samples.append(row)
        if len(table.samples) >= sample_size:
            break
    if not table.samples:
        raise TabularError(_("The file has a header but no rows below it."))
    return table


def open_csv(path: Path, head: bytes) -> Table:
    encoding = detect_encoding(head)
    with open(path, encoding=encoding, newline="", errors="strict") as handle:
        try:
            first_line = handle.readline()
        except UnicodeDecodeError:
            raise TabularError(_("The file's first line is not readable text.")) from None
    if looks_binary(first_line):
        raise TabularError(_("This is not a text file. Upload a CSV or an XLSX file."))
    delimiter = detect_delimiter(first_line)
    cells = next(csv.reader([first_line], delimiter=delimiter), [])
    headers = unique_headers(cells)
    if not any(normalise_header(cell) for cell in cells):
        raise TabularError(_("The first line must hold the column names, but it is blank."))
    return Table(path, CSV, headers, encoding=encoding, delimiter=delimiter)


def iterate_csv(path: Path, encoding: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    position = {"line": 0, "row_bytes": 0}
    with open(path, "rb") as handle:
        reader = csv.reader(decoded_lines(handle, encoding, position), delimiter=delimiter)
        try:
            next(reader, None)
            line = reader.line_num + 1
            for cells in reader:
                position["row_bytes"] = 0
                yield line, cells
                line = reader.line_num + 1
        except csv.Error as error:
            raise TabularError(
                _("Line %(line)d cannot be read: %(reason)s")
                % {"line": position["line"], "reason": error}
            ) from None


def decoded_lines(handle: IO[bytes], encoding: str, position: dict[str, int]) -> Iterator[str]:
    """Decode line by line, so an undecodable byte is reported with its line number.

    Splitting bytes on newlines is safe: no UTF-8 or GB18030 multi-byte character holds 0x0A.
    """
    for raw in handle:
        position["line"] += 1
        position["row_bytes"] += len(raw)
        if position["row_bytes"] > MAX_ROW_BYTES:
            raise row_too_long(position["line"])
        try:
            yield raw.decode(encoding if position["line"] == 1 else encoding.replace("-sig", ""))
        except UnicodeDecodeError:
            raise TabularError(
                _("Line %(line)d is not readable text in the file's encoding (%(encoding)s).")
                % {"line": position["line"], "encoding": encoding}
            ) from None


def row_too_long(line: int) -> LimitExceeded:
    return LimitExceeded(
        _("The row at line %(line)d is longer than %(size)d MB, more than any real row.")
        % {"line": line, "size": MAX_ROW_BYTES // (1024 * 1024)}
    )


def row_from_cells(headers: list[str], cells: list[str]) -> dict[str, str] | None:
    """Cells by header; None for a blank row; extra non-blank cells go under EXTRA_CELLS."""
    texts = [cell.strip() for cell in cells]
    if not any(texts):
        return None
    row = dict(zip(headers, texts, strict=False))
    for header in headers[len(texts) :]:
        row[header] = ""
    extra = [text for text in texts[len(headers) :] if text]
    if extra:
        row[EXTRA_CELLS] = " | ".join(extra)
    return row


def project_cells(
    cell_rows: Iterable[tuple[int, list[str]]], headers: list[str], columns: Mapping[str, str]
) -> Iterator[tuple[int, dict[str, str], str]]:
    """The rows of `Table.records`: a fast path for the common row as wide as the header."""
    names = list(columns)
    pick = cell_picker([headers.index(header) for header in columns.values()])
    width = len(headers)
    for line, cells in cell_rows:
        if not "".join(cells).strip():
            continue  # a blank row
        extra = ""
        if len(cells) > width:
            extra = " | ".join(text for text in (cell.strip() for cell in cells[width:]) if text)
        elif len(cells) < width:
            cells = cells + [""] * (width - len(cells))
        yield line, dict(zip(names, map(str.strip, pick(cells)), strict=True)), extra


def cell_picker(positions: list[int]) -> Callable[[list[str]], Iterable[str]]:
    """The cells at `positions`, in that order (itemgetter answers a bare cell for one)."""
    if len(positions) < 2:
        return lambda cells: [cells[position] for position in positions]
    return itemgetter(*positions)


def cell_text(value: Any) -> str:
    """A cell as text: whole floats without “.0” (mobiles typed as numbers), dates in ISO."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, (date, time)):
        return value.isoformat()
    return str(value).strip()


def open_xlsx(path: Path) -> Table:
    workbook = load_workbook(path)
    try:
        sheet = workbook.worksheets[0]
        bound_rows_of(sheet)
        rows = sheet.iter_rows(values_only=True, max_row=1)
        first = next(iter(rows), None)
    except LimitExceeded:
        raise row_too_long(1) from None
    except Exception as error:  # openpyxl raises many types on damaged parts
        raise TabularError(broken_workbook_message(error)) from None
    finally:
        workbook.close()
    if not first or not any(cell_text(cell) for cell in first):
        raise TabularError(_("The first row must hold the column names, but it is blank."))
    return Table(path, XLSX, unique_headers(first))


def load_workbook(path: Path) -> Any:
    """A read-only workbook; its `close()` also closes the file (opened here, so any name works)."""
    from openpyxl import load_workbook as openpyxl_load_workbook

    handle = open(path, "rb")  # noqa: SIM115 - closed with the workbook
    try:
        workbook = openpyxl_load_workbook(handle, read_only=True, data_only=True)
    except Exception as error:  # zipfile, XML and openpyxl errors on a damaged file
        handle.close()
        raise TabularError(broken_workbook_message(error)) from None
    close_workbook = workbook.close

    def close() -> None:
        close_workbook()
        handle.close()

    workbook.close = close
    if not workbook.worksheets:
        workbook.close()
        raise TabularError(_("The workbook has no sheets."))
    return workbook


def broken_workbook_message(error: Exception) -> str:
    return _("The XLSX file is damaged or incomplete (%(reason)s). Save it again and retry.") % {
        "reason": type(error).__name__
    }


def iterate_xlsx(path: Path) -> Iterator[tuple[int, list[str]]]:
    workbook = load_workbook(path)
    try:
        sheet = workbook.worksheets[0]
        source = bound_rows_of(sheet)
        rows = sheet.iter_rows(values_only=True, min_row=2)
        line = 1
        while True:
            try:
                cells = next(rows)
            except StopIteration:
                break
            except LimitExceeded:
                raise row_too_long(line + 1) from None
            except Exception as error:  # a truncated archive fails part-way through
                raise TabularError(broken_workbook_message(error)) from None
            line += 1
            source.row_done()
            yield line, [cell_text(cell) for cell in cells]
    finally:
        workbook.close()


class RowBoundedSource:
    """The sheet's XML as openpyxl reads it, refusing more than MAX_ROW_BYTES between two rows.

    openpyxl builds a whole row (every cell's XML element) before it yields it, so a row of
    millions of cells, or megabytes of other XML, would grow without end; counting the bytes
    read since the last row stops it within one read (openpyxl reads 16 KB at a time).
    """

    def __init__(self) -> None:
        self.since_row = 0

    def row_done(self) -> None:
        self.since_row = 0

    def wrap(self, stream: IO[bytes]) -> Any:
        bound = self

        class Bounded(io.RawIOBase):
            def read(self, size: int = -1) -> bytes:
                data = stream.read(size)
                bound.since_row += len(data)
                if bound.since_row > MAX_ROW_BYTES:
                    raise LimitExceeded("row too long")
                return data

            def close(self) -> None:
                stream.close()
                super().close()

        return Bounded()


def bound_rows_of(sheet: Any) -> RowBoundedSource:
    """Make a read-only sheet read its XML through a RowBoundedSource (openpyxl opens the
    source anew for each iteration through `_get_source`, a stable part of its read-only
    worksheet since 2.4)."""
    source = RowBoundedSource()
    open_source = sheet._get_source
    sheet._get_source = lambda: source.wrap(open_source())
    return source


def safe_text(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def export_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)  # the business's time, as people typed it
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return value


def stream_csv(headers: list[str], rows: Iterable[list[Any]], batch: int = 500) -> Iterator[bytes]:
    """CSV as UTF-8 with a BOM (so Excel shows Chinese correctly), in chunks of rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(headers)
    yield codecs.BOM_UTF8 + buffer.getvalue().encode("utf-8")
    buffer.seek(0)
    buffer.truncate()
    for count, row in enumerate(rows, start=1):
        writer.writerow([safe_text(export_value(value)) for value in row])
        if count % batch == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode("utf-8")


def write_csv(target: IO[bytes], headers: list[str], rows: Iterable[list[Any]]) -> None:
    for chunk in stream_csv(headers, rows):
        target.write(chunk)


def write_xlsx(target: IO[bytes] | Path, headers: list[str], rows: Iterable[list[Any]]) -> None:
    """An XLSX workbook written row by row (openpyxl write-only mode keeps memory flat)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(headers)
    for row in rows:
        cells = []
        for value in row:
            value = export_value(value)
            if isinstance(value, str):
                # openpyxl refuses control characters: data stored before input was cleaned (or
                # by a path that does not clean) must not break the export for everyone.
                value = ILLEGAL_CHARACTERS_RE.sub("", value)
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(cell.value, str):
                cell.data_type = "s"  # never let imported text become a formula
            cells.append(cell)
        sheet.append(cells)
    workbook.save(target)
