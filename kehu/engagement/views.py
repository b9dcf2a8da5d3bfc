"""Logging a contact from the customer page (htmx quick-log, with a full-page fallback)."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.engagement.forms import InteractionForm
from kehu.engagement.services import log_interaction
from kehu.web.outcomes import call_service


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
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
    return redirect("customers:detail", pk=pk)
