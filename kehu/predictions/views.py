"""Prediction pages: the churn warning list (流失预警) with its export and call-back planning, the
CLV overview, the model diagnostics and the prediction settings. Every read goes through
`kehu.predictions.queries` (the permission layer); every write is one service call
through `kehu.core.outcomes.call_service`."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kehu.accounts.models import User
from kehu.accounts.permissions import may, require
from kehu.commerce.models import Store
from kehu.core.exports import export_response
from kehu.core.lists import list_context, options_of, paginate, read_list
from kehu.core.outcomes import call_service
from kehu.engagement.models import FollowUpSource
from kehu.engagement.services import MAX_FOLLOW_UPS_AT_ONCE, FollowUpPlan, plan_follow_ups
from kehu.predictions.clv_diagnostics import build_diagnostics, holdout_chart_data
from kehu.predictions.clv_overview import build_clv_overview, clv_chart_data
from kehu.predictions.forms import ChurnFollowUpForm, PredictionSettingsForm
from kehu.predictions.models import PredictionSettings
from kehu.predictions.queries import (
    OWNER_ME,
    OWNER_POOL,
    ChurnFilters,
    churn_customer_ids,
    churn_export_headers,
    churn_export_rows,
    churn_list,
    churn_owner_choices,
    describe_churn_rows,
    follow_up_reasons,
    visible_predictions,
)
from kehu.predictions.settings_service import update_prediction_settings
from kehu.segments.queries import visible_segments

# --- the churn warning list -------------------------------------------------------------------


@require_GET
def churn(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    require(user, "segment.use")
    filters = read_list(request, ChurnFilters)
    page = paginate(request, churn_list(user, filters))
    rows = describe_churn_rows(page.object_list)
    segments = visible_segments(user).select_related(None).only("pk", "name")
    options = {
        "owner": [
            (OWNER_ME, _("Me")),
            (OWNER_POOL, _("In the pool")),
            *options_of(churn_owner_choices(user)),
        ],
        "store": options_of(Store.objects.only("pk", "name"), label=lambda store: store.name),
        "segment": options_of(segments, label=lambda segment: segment.name),
    }
    context = list_context(page, filters, options) | {
        "rows": rows,
        "follow_up_form": ChurnFollowUpForm(),
        "can_plan": may(user, "follow_up.use"),
        "can_export": may(user, "data.export"),
        "has_predictions": bool(rows) or visible_predictions(user).exists(),
        "section": "churn",
    }
    return render(request, "predictions/churn.html", context)


@require_GET
def churn_export(request: HttpRequest) -> StreamingHttpResponse:
    user: User = request.user  # type: ignore[assignment]
    require(user, "segment.use")
    require(request.user, "data.export")  # type: ignore[arg-type]
    rows = churn_export_rows(user, ChurnFilters.from_params(request.GET))
    return export_response(request, "churn-warnings", churn_export_headers, rows)


@require_POST
def churn_follow_ups(request: HttpRequest) -> HttpResponse:
    """Call-back tasks for the ticked customers, or for every customer matching the filters
    (posted along as hidden fields), each with its churn summary as the reason."""
    user: User = request.user  # type: ignore[assignment]
    require(user, "segment.use")
    filters = ChurnFilters.from_params(request.POST)
    back = reverse("predictions:churn") + "?" + filters.query()
    form = ChurnFollowUpForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return redirect(back)
    customer_ids = (
        form.cleaned_data["customer"]
        if form.cleaned_data["target"] == ChurnFollowUpForm.SELECTED
        else churn_customer_ids(user, filters, MAX_FOLLOW_UPS_AT_ONCE)
    )
    outcome = call_service(
        request,
        plan_follow_ups,
        user,
        customer_ids,
        due_on=form.cleaned_data["due_on"],
        reasons=follow_up_reasons(user, customer_ids),
        default_reason=_("Churn warning"),
        source=FollowUpSource.CHURN_WARNING,
    )
    if outcome.succeeded:
        messages.success(request, plan_message(outcome.value))
    return redirect(back)


def plan_message(plan: FollowUpPlan) -> str:
    """ "Created 12 call-back tasks; 3 already had one" (and any skipped as not visible)."""
    parts = [
        ngettext(
            "Created %(count)d call-back task", "Created %(count)d call-back tasks", plan.created
        )
        % {"count": plan.created}
    ]
    if plan.already_open:
        parts.append(
            ngettext("%(count)d already had one", "%(count)d already had one", plan.already_open)
            % {"count": plan.already_open}
        )
    if plan.not_visible:
        parts.append(
            ngettext(
                "%(count)d customer you may not see was skipped",
                "%(count)d customers you may not see were skipped",
                plan.not_visible,
            )
            % {"count": plan.not_visible}
        )
    return _("; ").join(parts)


# --- CLV overview and model diagnostics -------------------------------------------------------


@require_GET
def clv(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    require(user, "segment.use")
    overview = build_clv_overview(user)
    context = {
        "overview": overview,
        "chart_data": clv_chart_data(overview) if not overview.is_empty else {},
        "prediction_settings": PredictionSettings.current(),
        "can_see_diagnostics": may(user, "prediction.see_diagnostics"),
        "can_change_settings": may(user, "settings.manage"),
        "section": "clv",
    }
    return render(request, "predictions/clv.html", context)


@require_GET
def clv_model(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    require(user, "segment.use")
    if not may(user, "prediction.see_diagnostics"):
        raise PermissionDenied(_("The model diagnostics describe every customer; ask an analyst."))
    diagnostics = build_diagnostics()
    context = {
        "diagnostics": diagnostics,
        "fit": diagnostics.fit,
        "holdout_data": holdout_chart_data(diagnostics.holdout),
        "can_change_settings": may(user, "settings.manage"),
        "section": "clv",
    }
    return render(request, "predictions/clv_model.html", context)


# --- prediction settings ----------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def prediction_settings(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    require(user, "settings.manage")
    form = PredictionSettingsForm(request.POST or None, instance=PredictionSettings.current())
    if request.method == "POST" and form.is_valid():
        outcome = call_service(
            request, update_prediction_settings, user, **form.cleaned_data, form=form
        )
        if outcome.succeeded:
            messages.success(request, _("The prediction settings were saved."))
            return redirect("predictions:prediction_settings")
    status = 400 if form.is_bound and form.errors else 200
    context = {"form": form, "section": "clv"}
    return render(request, "predictions/prediction_settings.html", context, status=status)
