"""Hostile workbooks built in the tests: zip bombs, a giant shared-strings table, wide files.

Each is a real XLSX (made by openpyxl) with one part swapped for a generated one, written
in 1 MB pieces so building a bomb never holds it in memory.
"""

import zipfile
from collections.abc import Iterator
from pathlib import Path

from openpyxl import Workbook

SHEET = "xl/worksheets/sheet1.xml"
SHARED_STRINGS = "xl/sharedStrings.xml"
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
PIECE = 1024 * 1024
CONTENT_TYPES = "[Content_Types].xml"
SHARED_STRINGS_TYPE = (
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
)


def small_workbook(path: Path, headers: list[str], rows: list[list[object]]) -> Path:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def with_part(source: Path, target: Path, name: str, pieces: Iterator[bytes]) -> Path:
    """A copy of `source` whose part `name` is the concatenated `pieces` (added if missing)."""
    with (
        zipfile.ZipFile(source) as original,
        zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as result,
    ):
        for member in original.infolist():
            if member.filename == CONTENT_TYPES and name == SHARED_STRINGS:
                result.writestr(member, declare_shared_strings(original.read(member)))
            elif member.filename != name:
                result.writestr(member, original.read(member))
        with result.open(name, "w", force_zip64=True) as part:
            for piece in pieces:
                part.write(piece)
    return target


def declare_shared_strings(manifest: bytes) -> bytes:
    """The package manifest with the shared-strings part declared (openpyxl finds it so)."""
    if SHARED_STRINGS_TYPE.encode() in manifest:
        return manifest
    override = f'<Override PartName="/{SHARED_STRINGS}" ContentType="{SHARED_STRINGS_TYPE}"/>'
    return manifest.replace(b"</Types>", override.encode() + b"</Types>")


def identical_rows_sheet(unpacked_bytes: int) -> Iterator[bytes]:
    """A sheet of millions of identical rows: it packs about a thousand to one."""
    yield (
        f'<worksheet xmlns="{MAIN}"><sheetData><row>'
        '<c t="inlineStr"><is><t>姓名</t></is></c><c t="inlineStr"><is><t>手机号</t></is></c>'
        "</row>"
    ).encode()
    row = b'<row><c t="inlineStr"><is><t>x</t></is></c><c><v>13800000000</v></c></row>'
    piece = row * (PIECE // len(row))
    for _ in range(unpacked_bytes // len(piece) + 1):
        yield piece
    yield b"</sheetData></worksheet>"


def distinct_shared_strings(unpacked_bytes: int) -> Iterator[bytes]:
    """A shared-strings table of distinct strings, packed only a few times (under any ratio
    limit): what openpyxl would load whole into memory."""
    yield f'<sst xmlns="{MAIN}">'.encode()
    written, number = 0, 0
    while written < unpacked_bytes:
        piece = "".join(
            f"<si><t>{value:012x}{value * 2654435761 % 4294967296:08x}</t></si>"
            for value in range(number, number + 20000)
        ).encode()
        number += 20000
        written += len(piece)
        yield piece
    yield b"</sst>"


def zip_bomb(folder: Path, unpacked_mb: int = 600) -> Path:
    base = small_workbook(folder / "base.xlsx", ["姓名", "手机号"], [["x", "13800000000"]])
    return with_part(base, folder / "bomb.xlsx", SHEET, identical_rows_sheet(unpacked_mb * PIECE))


def shared_strings_bomb(folder: Path, unpacked_mb: int = 40) -> Path:
    base = small_workbook(folder / "base.xlsx", ["姓名", "手机号"], [["x", "13800000000"]])
    return with_part(
        base, folder / "strings.xlsx", SHARED_STRINGS, distinct_shared_strings(unpacked_mb * PIECE)
    )
