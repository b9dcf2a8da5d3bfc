"""The contract between the import pipeline and the row handlers of each domain app.

A handler (customers, orders) receives chunks of `SourceRow`s — the file's cells already mapped
to field names — and answers one `RowOutcome` per row. In a dry run it writes nothing.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from django.utils.functional import Promise

from kehu.core.tabular import header_key


class Result(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    FAILED = "failed"


@dataclass(frozen=True)
class ImportField:
    """A field a file's column can be mapped to; aliases are header names that mean it."""

    name: str
    label: str | Promise
    required: bool = False
    aliases: tuple[str, ...] = ()

    def matches(self, header: str) -> bool:
        key = header_key(header)
        return bool(key) and key in {header_key(alias) for alias in (self.name, *self.aliases)}


@dataclass(frozen=True)
class RowError:
    line: int
    column: str
    value: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "column": self.column,
            "value": self.value,
            "reason": self.reason,
        }


@dataclass(slots=True)
class SourceRow:
    """One line of the file: values by field name, and the column each field came from."""

    line: int
    values: dict[str, str]
    columns: dict[str, str]

    def get(self, name: str) -> str:
        """The cell's text (readers already strip it), or "" for an unmapped field."""
        return self.values.get(name, "")

    def error(self, name: str, reason: str) -> RowError:
        """An error on a field, reported with the file's column name and the cell's value."""
        return RowError(self.line, self.columns.get(name, ""), self.values.get(name, ""), reason)


@dataclass(slots=True)
class RowOutcome:
    """What became of one row; only a failed row has errors (a million rows pass through)."""

    line: int
    result: Result
    errors: Sequence[RowError] = ()

    @classmethod
    def failed(cls, row: SourceRow, errors: Sequence[RowError]) -> "RowOutcome":
        return cls(row.line, Result.FAILED, errors)


class RowHandler(Protocol):
    """Handles chunks of rows; `write=False` (set at construction) means a dry run."""

    chunk_size: int

    def handle(self, rows: list[SourceRow]) -> list[RowOutcome]: ...

    def finish(self) -> list[RowOutcome]: ...
