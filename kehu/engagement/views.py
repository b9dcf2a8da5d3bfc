"""Logging a contact from the customer page (htmx quick-log, with a full-page fallback) and the
call-back tasks (回访): the list, planning one by hand, marking one done or cancelled."""

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from kehu.accounts.models import User
from kehu.accounts.permissions import may, require
from kehu.accounts.roles import Scope
from kehu.core.exports import export_response
from kehu.core.lists import list_context, paginate, read_list
from kehu.core.outcomes import call_service, redirect_back
from kehu.engagement.forms import FollowUpDoneForm, FollowUpPlanForm, InteractionForm
from kehu.engagement.queries import (
    FollowUpFilters,
    follow_up_export_headers,
    follow_up_export_rows,
    search_follow_ups,
)
from kehu.engagement.services import (
    cancel_follow_up,
    complete_follow_up,
    log_interaction,
    plan_follow_up,
)


@require_POST
def log(request: HttpRequest, pk: int) -> HttpResponse:
    form = InteractionForm(request.POST)
    outcome = None
    if form.is_valid():
        data = form.cleaned_data
        outcome = call_service(
            request,
            log_interaction,
            request.user,
            pk,
            channel=data["channel"],
            direction=data["direction"],
            summary=data["summary"],
            occurred_at=data["occurred_at"],
            form=form,
        )
    logged = outcome.value if outcome is not None and outcome.succeeded else None
    if request.htmx:  # type: ignore[attr-defined]
        context = {
            "customer_id": pk,
            "log_form": InteractionForm() if logged else form,
            "interaction": logged,
        }
        return render(request, "engagement/partials/quick_log_result.html", context)
    if logged:
        messages.success(request, _("The contact was logged."))
    else:
        show_form_errors(request, form)
    return redirect("customers:detail", pk=pk)


def show_form_errors(request: HttpRequest, form: forms.BaseForm) -> None:
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, str(error))


# --- call-backs (回访) ------------------------------------------------------------------------


@require_GET
def follow_up_list(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    require(user, "follow_up.use")
    today = timezone.localdate()
    filters = read_list(request, FollowUpFilters)
    page = paginate(request, search_follow_ups(user, filters, today))
    hide = ("assignee",) if user.policy.scope == Scope.OWN else ()
    context = list_context(page, filters, hide=hide) | {
        "can_export": may(user, "data.export"),
        "follow_ups": list(page.object_list),
        "today": today,
        "done_form": FollowUpDoneForm(),
        "section": "follow_ups",
    }
    return render(request, "engagement/follow_ups.html", context)


@require_GET
def follow_up_export(request: HttpRequest) -> StreamingHttpResponse:
    user: User = request.user  # type: ignore[assignment]
    require(user, "follow_up.use")
    require(request.user, "data.export")  # type: ignore[arg-type]
    filters = FollowUpFilters.from_params(request.GET)
    rows = follow_up_export_rows(user, filters, timezone.localdate())
    return export_response(request, "call-backs", follow_up_export_headers, rows)


@require_POST
def plan(request: HttpRequest, pk: int) -> HttpResponse:
    """A call-back planned by hand on the customer page."""
    form = FollowUpPlanForm(request.POST)
    if not form.is_valid():
        show_form_errors(request, form)
        return back_to_customer(request, pk)
    outcome = call_service(
        request,
        plan_follow_up,
        request.user,
        pk,
        due_on=form.cleaned_data["due_on"],
        reason=form.cleaned_data["reason"],
    )
    if outcome.succeeded:
        messages.success(request, _("The call-back was planned."))
    return back_to_customer(request, pk)


@require_POST
def complete(request: HttpRequest, follow_up_id: int) -> HttpResponse:
    form = FollowUpDoneForm(request.POST)
    if not form.is_valid():
        show_form_errors(request, form)
        return back_to_list(request)
    outcome = call_service(
        request,
        complete_follow_up,
        request.user,
        follow_up_id,
        note=form.cleaned_data["note"],
        channel=form.cleaned_data["channel"],
    )
    if outcome.succeeded:
        message = (
            _("The call-back is done and the contact was logged.")
            if form.cleaned_data["note"].strip()
            else _("The call-back is done.")
        )
        messages.success(request, message)
    return back_to_list(request)


@require_POST
def cancel(request: HttpRequest, follow_up_id: int) -> HttpResponse:
    outcome = call_service(request, cancel_follow_up, request.user, follow_up_id)
    if outcome.succeeded:
        messages.success(request, _("The call-back was cancelled."))
    return back_to_list(request)


def back_to_list(request: HttpRequest) -> HttpResponse:
    return redirect_back(request, reverse("engagement:follow_ups"))


def back_to_customer(request: HttpRequest, pk: int) -> HttpResponse:
    return redirect_back(request, reverse("customers:detail", args=[pk]))
