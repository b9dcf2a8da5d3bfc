"""The limits every import file must keep, checked before the file is read (issue: a 5 MB XLSX
that unpacked to gigabytes held a web worker for minutes).

An XLSX file is a zip archive. Its directory states each part's unpacked size, and Python's
zipfile never yields more than that size for a part (it stops there and then fails the
checksum), so summing the directory is a safe upper bound of what reading the file can unpack —
known before a single byte is inflated. openpyxl loads every part whole except the worksheets
(read row by row), above all the shared-strings table: those parts get a smaller limit of their
own.
"""

import zipfile
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _

from kehu.core.tabular import LimitExceeded, TabularError

MB = 1024 * 1024
RATIO_FLOOR = MB
"""Parts smaller than this are not held to the compression ratio (tiny XML compresses well)."""
CONTENT_TYPES = "[Content_Types].xml"
WORKSHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"


@dataclass(frozen=True)
class ImportLimits:
    max_upload_bytes: int
    max_uncompressed_bytes: int
    max_compression_ratio: int
    max_shared_strings_bytes: int
    max_rows: int
    max_columns: int

    @classmethod
    def from_settings(cls) -> "ImportLimits":
        return cls(
            max_upload_bytes=settings.IMPORT_MAX_UPLOAD_MB * MB,
            max_uncompressed_bytes=settings.IMPORT_MAX_UNCOMPRESSED_MB * MB,
            max_compression_ratio=settings.IMPORT_MAX_COMPRESSION_RATIO,
            max_shared_strings_bytes=settings.IMPORT_MAX_SHARED_STRINGS_MB * MB,
            max_rows=settings.IMPORT_MAX_ROWS,
            max_columns=settings.IMPORT_MAX_COLUMNS,
        )


def check_upload_size(size: int, limits: ImportLimits) -> None:
    if size > limits.max_upload_bytes:
        raise LimitExceeded(
            _("The file is %(size).1f MB; at most %(limit)d MB can be imported at once.")
            % {"size": size / MB, "limit": limits.max_upload_bytes // MB}
        )


def check_copied_size(copied: int, limits: ImportLimits) -> None:
    """While copying an upload of unknown size: stop as soon as it is too big."""
    if copied > limits.max_upload_bytes:
        raise LimitExceeded(
            _("The file is larger than %(limit)d MB, the most that can be imported at once.")
            % {"limit": limits.max_upload_bytes // MB}
        )


def check_xlsx_archive(path: Path, limits: ImportLimits) -> None:
    """Refuse a workbook that would unpack to too much, before openpyxl opens it."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            worksheets = worksheet_parts(archive, members, limits)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise TabularError(
            _("The XLSX file is damaged or incomplete (%(reason)s). Save it again and retry.")
            % {"reason": "BadZipFile"}
        ) from None
    total = sum(member.file_size for member in members)
    if total > limits.max_uncompressed_bytes:
        raise LimitExceeded(
            _(
                "The XLSX file unpacks to %(size)d MB; at most %(limit)d MB can be imported. "
                "Split it or save it as CSV."
            )
            % {"size": total // MB, "limit": limits.max_uncompressed_bytes // MB}
        )
    for member in members:
        check_ratio(member, limits)
        if member.filename not in worksheets and member.file_size > limits.max_shared_strings_bytes:
            raise LimitExceeded(
                _(
                    "The XLSX file's part “%(part)s” unpacks to %(size)d MB; at most %(limit)d MB "
                    "can be read. Split the file or save it as CSV."
                )
                % {
                    "part": member.filename[:100],
                    "size": member.file_size // MB,
                    "limit": limits.max_shared_strings_bytes // MB,
                }
            )


def check_ratio(member: zipfile.ZipInfo, limits: ImportLimits) -> None:
    if member.file_size < RATIO_FLOOR:
        return
    if member.file_size > limits.max_compression_ratio * max(member.compress_size, 1):
        raise LimitExceeded(
            _(
                "The XLSX file is packed more than %(ratio)d to 1, which a real spreadsheet "
                "never is. Save it again from your spreadsheet program, or as CSV."
            )
            % {"ratio": limits.max_compression_ratio}
        )


def worksheet_parts(
    archive: zipfile.ZipFile, members: list[zipfile.ZipInfo], limits: ImportLimits
) -> set[str]:
    """Names of the parts declared as worksheets: the only parts openpyxl streams.

    openpyxl finds the shared strings by their declared type, so a part cannot be read both as
    a worksheet and as the shared strings; any other name is held to the smaller limit.
    """
    from openpyxl.xml.functions import fromstring  # defusedxml's parser when installed

    declared = next((member for member in members if member.filename == CONTENT_TYPES), None)
    if declared is None or declared.file_size > limits.max_shared_strings_bytes:
        return set()
    try:
        tree = fromstring(archive.read(declared))
    except Exception:  # a broken manifest: openpyxl will refuse the file with its reason
        return set()
    return {
        str(element.get("PartName", "")).lstrip("/")
        for element in tree
        if element.tag.endswith("Override") and element.get("ContentType") == WORKSHEET_TYPE
    }
