"""Segmentation pages (客户细分): the overview charts, saved segments, the builder with its live
preview, one segment's members and trend, its export, and the thresholds. Every read starts
from the permission layer (`visible_customers`, `visible_segments`); every write is one service
call through `kehu.core.outcomes.call_service`."""

from collections.abc import Iterator, Mapping
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kehu.accounts.models import User
from kehu.accounts.permissions import may, require
from kehu.accounts.roles import Scope
from kehu.core.exports import export_response
from kehu.core.lists import list_context, paginate, read_list
from kehu.core.outcomes import call_service
from kehu.segments.exporting import export_segment_rows
from kehu.segments.forms import (
    SegmentationSettingsForm,
    SegmentForm,
    describe_rule,
    parse_rule,
)
from kehu.segments.models import Segment, SegmentationSettings, SegmentKind, SegmentSnapshot
from kehu.segments.nightly import refresh_segmentation
from kehu.segments.overview import build_overview, overview_chart_data, trend_chart_data
from kehu.segments.queries import (
    SegmentFilters,
    get_visible_segment,
    search_segments,
    segment_members,
)
from kehu.segments.rules import rule_field_catalogue
from kehu.segments.services import (
    MAX_LIST_CHANGE,
    add_to_static_segment,
    create_segment,
    delete_segment,
    preview_segment,
    refresh_segment_now,
    update_segment,
)
from kehu.segments.settings_service import update_segmentation_settings

SAMPLE_SIZE = 10
TREND_SNAPSHOTS = 60


# --- the overview -----------------------------------------------------------------------------


@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    require(user, "segment.use")
    numbers = build_overview(user, timezone.localdate())
    context = {
        "overview": numbers,
        "chart_data": overview_chart_data(numbers),
        "can_refresh": may(user, "settings.manage"),
        "section": "segments",
    }
    return render(request, "segments/overview.html", context)


@require_POST
def refresh_metrics(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    require(user, "settings.manage")
    outcome = call_service(request, refresh_segmentation)
    if outcome.succeeded:
        messages.success(request, _("The scores were refreshed."))
    return redirect("segments:overview")


# --- saved segments ---------------------------------------------------------------------------


@require_GET
def segment_list(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    require(user, "segment.use")
    filters = read_list(request, SegmentFilters)
    page = paginate(request, search_segments(user, filters))
    context = list_context(page, filters, segments=list(page.object_list), section="segments")
    return render(request, "segments/list.html", context)


# --- the builder ------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def builder(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    require(user, "segment.use")
    initial = {"kind": SegmentKind.DYNAMIC, "rule": request.GET.get("rule", "")}
    form = SegmentForm(request.POST or None, initial=initial)
    rule_errors: dict[str, list[str]] = {}
    if request.method == "POST" and form.is_valid():
        outcome = call_service(
            request, save_new_segment, user, form.cleaned_data, form=form, field_names=RULE_PATHS
        )
        if outcome.succeeded:
            messages.success(request, _("The segment was saved."))
            return redirect("segments:detail", segment_id=outcome.value.pk)
        rule_errors = rule_paths_of(outcome.error)
    return builder_page(request, form, None, rule_errors)


@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest, segment_id: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    require(user, "segment.use")
    segment = get_visible_segment(user, segment_id)
    require(user, "segment.edit", segment)
    initial = {
        "name": segment.name,
        "description": segment.description,
        "kind": segment.kind,
        "rule": segment.rule,
    }
    form = SegmentForm(request.POST or None, initial=initial, kind_fixed=True)
    rule_errors: dict[str, list[str]] = {}
    if request.method == "POST" and form.is_valid():
        fields = editable_fields(form.cleaned_data, segment)
        outcome = call_service(
            request, update_segment, user, segment.pk, **fields, form=form, field_names=RULE_PATHS
        )
        if outcome.succeeded:
            messages.success(request, _("The changes were saved."))
            return redirect("segments:detail", segment_id=segment.pk)
        rule_errors = rule_paths_of(outcome.error)
    return builder_page(request, form, segment, rule_errors)


class RulePaths(Mapping[str, str]):
    """Puts every rule error (`rule.all.2.value`) on the form's hidden rule field; the builder
    shows each next to its condition from `rule_paths_of`."""

    def __getitem__(self, key: str) -> str:
        if key == "rule" or key.startswith("rule."):
            return "rule"
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(["rule"])

    def __len__(self) -> int:
        return 1


RULE_PATHS = RulePaths()


def rule_paths_of(error: Exception | None) -> dict[str, list[str]]:
    """The rule's errors by their path inside the rule (`all.2.value`; "" for the whole)."""
    if not isinstance(error, ValidationError) or not hasattr(error, "error_dict"):
        return {}
    return {
        key.removeprefix("rule").removeprefix("."): messages
        for key, messages in error.message_dict.items()
        if key == "rule" or key.startswith("rule.")
    }


def has_conditions(rule: dict[str, Any]) -> bool:
    return any(rule.get(kind) for kind in ("all", "any", "not"))


def save_new_segment(user: User, data: dict[str, Any]) -> Segment:
    """A dynamic segment keeps its rule; a static list is filled once with today's matches."""
    fields = {"name": data["name"], "description": data["description"], "kind": data["kind"]}
    if data["kind"] != SegmentKind.STATIC:
        return create_segment(user, **fields, rule=data["rule"])
    with transaction.atomic():
        matches = (
            preview_segment(user, data["rule"], sample_size=MAX_LIST_CHANGE).sample
            if has_conditions(data["rule"])
            else []
        )
        segment = create_segment(user, **fields, rule=None)
        add_to_static_segment(user, segment.pk, [customer.pk for customer in matches])
    return segment


def editable_fields(data: dict[str, Any], segment: Segment) -> dict[str, Any]:
    """The kind never changes, and a static list has no rule."""
    fields = {"name": data["name"], "description": data["description"]}
    if segment.kind == SegmentKind.DYNAMIC:
        fields["rule"] = data["rule"]
    return fields


def builder_page(
    request: HttpRequest,
    form: SegmentForm,
    segment: Segment | None,
    rule_errors: dict[str, list[str]],
) -> HttpResponse:
    if not rule_errors and form.is_bound and "rule" in form.errors:
        rule_errors = {"": [str(message) for message in form.errors["rule"]]}
    context = {
        "form": form,
        "segment": segment,
        "rule_fields": rule_field_catalogue(),
        "builder_texts": builder_texts(),
        "initial_rule": initial_rule(form),
        "rule_errors": rule_errors,
        "section": "segments",
    }
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "segments/builder.html", context, status=status)


def builder_texts() -> dict[str, str]:
    """The words builder.js shows, in the active language."""
    return {
        "match": _("Match"),
        "mode_all": _("All of these"),
        "mode_any": _("Any of these"),
        "mode_none": _("None of these"),
        "add_condition": _("+ Condition"),
        "add_group": _("+ Group"),
        "remove_group": _("Remove group"),
        "remove_condition": _("Remove condition"),
        "empty_group": _("No conditions: add one."),
        "field": _("Field"),
        "operator": _("Operator"),
        "value": _("Value"),
        "and": _("and"),
        "in_the_last": _("in the last"),
        "days": _("days"),
        "at_least": _("at least"),
        "times": _("times"),
        "comma_separated": _("Separate values with commas"),
    }


def initial_rule(form: SegmentForm) -> Any:
    """The rule to draw: the one posted, the one of `?rule=`, or the saved one; {} if unreadable."""
    value = form.data.get("rule") if form.is_bound else form.initial.get("rule")
    if isinstance(value, dict):
        return value
    try:
        return parse_rule(value or "")
    except ValidationError:
        return {}


@require_POST
def preview(request: HttpRequest) -> HttpResponse:
    """The live count and sample of the builder (an htmx partial), or the rule's errors."""
    user: User = request.user  # type: ignore[assignment]
    require(user, "segment.use")
    context: dict[str, Any] = {"errors": {}, "preview": None}
    try:
        rule = parse_rule(request.POST.get("rule", ""))
        context["preview"] = preview_segment(user, rule, sample_size=SAMPLE_SIZE)
    except ValidationError as error:
        context["errors"] = rule_paths_of(error) or {"": error.messages}
    return render(request, "segments/partials/preview.html", context)


# --- one segment ------------------------------------------------------------------------------


@require_GET
def detail(request: HttpRequest, segment_id: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    require(user, "segment.use")
    segment = get_visible_segment(user, segment_id)
    page = paginate(request, segment_members(user, segment))
    customers = list(page.object_list)
    snapshots = whole_segment_snapshots(user, segment)
    context = {
        "segment": segment,
        "page": page,
        "customers": customers,
        "last_snapshot": snapshots[0] if snapshots else None,
        "trend_data": trend_chart_data(reversed(snapshots)),
        "rule_words": describe_rule(segment.rule),
        "section": "segments",
    }
    return render(request, "segments/detail.html", context)


def whole_segment_snapshots(user: User, segment: Segment) -> list[SegmentSnapshot]:
    """Snapshots count every customer, so only users who may see everyone are shown them."""
    if user.policy.scope != Scope.ALL:
        return []
    return list(segment.snapshots.order_by("-taken_at")[:TREND_SNAPSHOTS])


@require_POST
def refresh(request: HttpRequest, segment_id: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    require(user, "segment.use")
    outcome = call_service(request, refresh_segment_now, user, segment_id)
    if outcome.succeeded:
        messages.success(request, _("The segment was refreshed."))
    return redirect("segments:detail", segment_id=segment_id)


@require_POST
def delete(request: HttpRequest, segment_id: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    require(user, "segment.use")
    segment = get_visible_segment(user, segment_id)
    outcome = call_service(request, delete_segment, user, segment.pk)
    if not outcome.succeeded:
        return redirect("segments:detail", segment_id=segment.pk)
    messages.success(request, _("The segment %(name)s was deleted.") % {"name": segment.name})
    return redirect("segments:list")


@require_GET
def export(request: HttpRequest, segment_id: int) -> StreamingHttpResponse:
    user: User = request.user  # type: ignore[assignment]
    require(user, "segment.use")
    require(request.user, "data.export")  # type: ignore[arg-type]
    segment = get_visible_segment(user, segment_id)
    headers, rows = export_segment_rows(user, segment)
    return export_response(request, f"segment-{segment.pk}", lambda: headers, rows)


# --- thresholds -------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def thresholds(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    require(user, "settings.manage")
    form = SegmentationSettingsForm(request.POST or None, instance=SegmentationSettings.current())
    if request.method == "POST" and form.is_valid():
        outcome = call_service(
            request, update_segmentation_settings, user, **form.cleaned_data, form=form
        )
        if outcome.succeeded:
            messages.success(request, _("The segmentation settings were saved."))
            return redirect("segments:settings")
    status = 400 if form.is_bound and form.errors else 200
    context = {"form": form, "section": "segments"}
    return render(request, "segments/settings.html", context, status=status)
