"""Downloads of a list as CSV or Excel: the right to export, and the streamed response every
list's export shares."""

import tempfile
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from django.core.exceptions import BadRequest, PermissionDenied
from django.http import FileResponse, HttpRequest, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core.lists import numbers_out_of_range
from kehu.core.tabular import stream_csv, write_xlsx

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def require_export_rights(request: HttpRequest) -> None:
    if not request.user.policy.can_export:  # type: ignore[union-attr]
        raise PermissionDenied(_("Your role may not export data."))


def refuse_numbers_out_of_range(params: Mapping[str, str]) -> None:
    names = numbers_out_of_range(params)
    if names:
        raise BadRequest(
            _("The filter “%(name)s” is not a number kehu can store: nothing was exported.")
            % {"name": names[0]}
        )


def export_response(
    request: HttpRequest,
    name: str,
    headers: Callable[[], list[str]],
    rows: Iterator[list[Any]],
) -> StreamingHttpResponse:
    """CSV streamed as it is written; XLSX built row by row in a temporary file, then streamed.

    A filter number no database can hold is refused (400) rather than dropped: an export the
    user filtered must never silently hold more rows than they asked for."""
    refuse_numbers_out_of_range(request.GET)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    if request.GET.get("format") == "xlsx":
        workbook = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
        write_xlsx(workbook, headers(), rows)
        workbook.seek(0)
        return FileResponse(
            workbook, as_attachment=True, filename=f"{name}-{stamp}.xlsx", content_type=XLSX_TYPE
        )
    response = StreamingHttpResponse(stream_csv(headers(), rows), content_type=CSV_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{name}-{stamp}.csv"'
    return response
