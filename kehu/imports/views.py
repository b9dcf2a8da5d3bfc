"""Pages of the import wizard (upload → map columns → preview → result) and the export downloads."""

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from kehu.accounts.permissions import require
from kehu.commerce.exporting import OrderExportFilters, order_export_headers, order_export_rows
from kehu.commerce.models import SalesChannel
from kehu.core.errors import DomainError, NotAllowed
from kehu.core.exports import CSV_TYPE, export_response
from kehu.customers.exporting import customer_export_headers, customer_export_rows
from kehu.customers.queries import CustomerFilters
from kehu.imports.jobs import job_with_state, request_import, request_preview
from kehu.imports.models import ImportKind, ImportMode, ImportStatus
from kehu.imports.services import (
    error_report_file,
    import_fields,
    start_import,
)


@require_http_methods(["GET", "POST"])
def start(request: HttpRequest) -> HttpResponse:
    require(request.user, "data.import")  # type: ignore[arg-type]
    errors: list[str] = []
    kind = request.POST.get("kind", request.GET.get("kind", ImportKind.CUSTOMERS))
    if request.method == "POST":
        uploaded = request.FILES.get("file")
        if uploaded is None:
            errors.append(_("Choose a CSV or XLSX file."))
        else:
            try:
                job = start_import(request.user, kind, uploaded)  # type: ignore[arg-type]
            except NotAllowed as error:
                raise PermissionDenied(error.message) from None
            except DomainError as error:
                errors.append(error.message)
            else:
                return redirect("imports:mapping", job_id=job.pk)
    context = {"kinds": ImportKind.choices, "kind": kind, "errors": errors}
    return render(request, "imports/start.html", context, status=400 if errors else 200)


@require_http_methods(["GET", "POST"])
def mapping(request: HttpRequest, job_id: int) -> HttpResponse:
    require(request.user, "data.import")  # type: ignore[arg-type]
    job = job_with_state(request.user, job_id)  # type: ignore[arg-type]
    if job.status == ImportStatus.IMPORTED or job.is_working:
        return redirect("imports:result", job_id=job.pk)
    errors: dict[str, list[str]] = {}
    general: list[str] = [job.message] if job.message else []
    chosen = dict(job.mapping)
    default_channel = job.options.get("default_channel", "")
    if request.method == "POST":
        fields = import_fields(job.kind)
        chosen = {field.name: request.POST.get(f"map_{field.name}", "") for field in fields}
        default_channel = request.POST.get("default_channel", "")
        general = []
        try:
            request_preview(
                request.user,  # type: ignore[arg-type]
                job.pk,
                chosen,
                request.POST.get("mode") or None,
                {"default_channel": default_channel},
            )
        except ValidationError as error:
            errors = error.message_dict
        except DomainError as error:
            general.append(error.message)
        else:
            return redirect("imports:result", job_id=job.pk)
    rows = [
        {
            "field": field,
            "selected": chosen.get(field.name, ""),
            "errors": errors.get(field.name, []),
        }
        for field in import_fields(job.kind)
    ]
    context = {
        "job": job,
        "rows": rows,
        "general_errors": general + errors.get("default_channel", []),
        "channels": SalesChannel.objects.order_by("code") if job.kind == ImportKind.ORDERS else [],
        "default_channel": default_channel,
        "samples": sample_table(job.headers, job.sample_rows),
    }
    status = 400 if errors or general else 200
    return render(request, "imports/mapping.html", context, status=status)


def sample_table(headers: list[str], samples: list[dict[str, Any]]) -> list[list[Any]]:
    return [
        [sample.get("line", "")] + [sample.get(header, "") for header in headers]
        for sample in samples
    ]


@require_http_methods(["GET", "POST"])
def preview(request: HttpRequest, job_id: int) -> HttpResponse:
    require(request.user, "data.import")  # type: ignore[arg-type]
    job = job_with_state(request.user, job_id)  # type: ignore[arg-type]
    if job.status == ImportStatus.UPLOADED:
        return redirect("imports:mapping", job_id=job.pk)
    if job.status == ImportStatus.IMPORTED or job.is_working:
        return redirect("imports:result", job_id=job.pk)
    errors: list[str] = []
    if request.method == "POST":
        try:
            request_import(request.user, job.pk, request.POST.get("mode") or None)  # type: ignore[arg-type]
        except ValidationError as error:
            errors = error.messages
        except DomainError as error:
            errors = [error.message]
        else:
            return redirect("imports:result", job_id=job.pk)
    fields = {field.name: field for field in import_fields(job.kind)}
    mapped = [(name, fields[name].label) for name in job.mapping if name in fields]
    context = {
        "job": job,
        "modes": ImportMode.choices,
        "errors": errors,
        "mapped": mapped,
        "samples": [
            [sample.get("line", "")] + [sample.get(name, "") for name, _label in mapped]
            for sample in job.sample_rows
        ],
    }
    return render(request, "imports/preview.html", context, status=400 if errors else 200)


def result(request: HttpRequest, job_id: int) -> HttpResponse:
    """The job's page: its progress while it works, then where the finished step leads."""
    require(request.user, "data.import")  # type: ignore[arg-type]
    job = job_with_state(request.user, job_id)  # type: ignore[arg-type]
    if job.status == ImportStatus.PREVIEWED:
        return redirect("imports:preview", job_id=job.pk)
    if job.status == ImportStatus.UPLOADED:
        return redirect("imports:mapping", job_id=job.pk)
    return render(request, "imports/result.html", {"job": job})


def progress(request: HttpRequest, job_id: int) -> HttpResponse:
    """The progress bar, polled by htmx; when the job is done, the browser goes to its page."""
    require(request.user, "data.import")  # type: ignore[arg-type]
    job = job_with_state(request.user, job_id)  # type: ignore[arg-type]
    if job.is_working:
        return render(request, "imports/partials/progress.html", {"job": job})
    response = HttpResponse(status=204)
    response["HX-Redirect"] = reverse("imports:result", args=[job.pk])
    return response


def error_report(request: HttpRequest, job_id: int) -> FileResponse:
    path = error_report_file(request.user, job_id)  # type: ignore[arg-type]
    return FileResponse(
        open(path, "rb"),
        as_attachment=True,
        filename=f"import-{job_id}-errors.csv",
        content_type=CSV_TYPE,
    )


def export_customers(request: HttpRequest) -> StreamingHttpResponse:
    require(request.user, "data.export")  # type: ignore[arg-type]
    filters = CustomerFilters.from_params(request.GET)
    rows = customer_export_rows(request.user, filters)  # type: ignore[arg-type]
    return export_response(request, "customers", customer_export_headers, rows)


def export_orders(request: HttpRequest) -> StreamingHttpResponse:
    require(request.user, "data.export")  # type: ignore[arg-type]
    filters = OrderExportFilters.from_params(request.GET)
    rows = order_export_rows(request.user, filters)  # type: ignore[arg-type]
    return export_response(request, "orders", order_export_headers, rows)
