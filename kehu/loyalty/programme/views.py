"""Programme pages: the rules and tiers (设置), the gift catalogue, and the programme's health
report with its charts. Each page checks the role flags; writes go through call_service."""

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET, require_http_methods

from kehu.accounts.models import User
from kehu.accounts.permissions import may, require
from kehu.accounts.roles import Role
from kehu.core.errors import NotAllowed
from kehu.core.outcomes import call_service
from kehu.loyalty.approvals.limits import save_staff_limits
from kehu.loyalty.members.forms import (
    GiftForm,
    StaffLimitFormSet,
    TierFormSet,
    staff_limit_initial,
    tier_initial,
)
from kehu.loyalty.members.services import ensure_default_tiers
from kehu.loyalty.models import LoyaltySettings, RedemptionItem
from kehu.loyalty.points.redemption import save_gift
from kehu.loyalty.programme.report import programme_report, report_chart_data
from kehu.loyalty.programme.services import SETTINGS_FIELDS, save_tiers, update_loyalty_settings
from kehu.loyalty.referrals.forms import ProgrammeRulesForm


def current_user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


# --- rules and tiers --------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def programme(request: HttpRequest) -> HttpResponse:
    """The rules (administrators) and the tiers (the programme's managers) on one page; each
    has its own form and save button (`action` says which was sent)."""
    user = current_user(request)
    require(user, "loyalty.manage")
    ensure_default_tiers()
    action = request.POST.get("action") if request.method == "POST" else None
    settings_form = ProgrammeRulesForm(
        request.POST if action == "settings" else None, instance=LoyaltySettings.current()
    )
    tier_forms = TierFormSet(request.POST if action == "tiers" else None, initial=tier_initial())
    if action == "settings" and settings_form.is_valid():
        changes = {name: settings_form.cleaned_data[name] for name in SETTINGS_FIELDS}
        outcome = call_service(request, update_loyalty_settings, user, changes, form=settings_form)
        if outcome.succeeded:
            messages.success(request, _("The programme's rules were saved."))
            return redirect("loyalty:programme")
    if action == "tiers" and tier_forms.is_valid() and save_tier_forms(request, user, tier_forms):
        messages.success(request, _("The tiers were saved."))
        return redirect("loyalty:programme")
    limit_forms = StaffLimitFormSet(
        request.POST if action == "limits" else None,
        initial=staff_limit_initial(),
        prefix="limits",
    )
    if action == "limits" and limit_forms.is_valid():
        limits = {form.cleaned_data["role"]: form.to_values() for form in limit_forms.forms}
        if call_service(request, save_staff_limits, user, limits).succeeded:
            messages.success(request, _("The staff limits were saved."))
            return redirect("loyalty:programme")
    if not may(user, "settings.manage"):
        for form in (settings_form, *limit_forms.forms):
            for field in form.fields.values():
                field.disabled = True
    context = {
        "settings_form": settings_form,
        "tier_forms": tier_forms,
        "limit_rows": [(Role(form["role"].value()).label, form) for form in limit_forms.forms],
        "limit_forms": limit_forms,
        "can_edit_rules": may(user, "settings.manage"),
        "section": "loyalty",
    }
    return render(request, "loyalty/programme.html", context, status=400 if action else 200)


def save_tier_forms(request: HttpRequest, user: User, tier_forms: Any) -> bool:
    """Save the tiers (a row whose name was cleared is left out: removed); put the service's
    problems, keyed ``<index>.<field>``, next to the fields of their rows."""
    rows = [form for form in tier_forms.forms if not form.is_blank()]
    try:
        save_tiers(user, [form.to_input() for form in rows])
    except NotAllowed as error:
        raise PermissionDenied(error.message) from error
    except ValidationError as error:
        for key, problems in error.message_dict.items():
            index, _dot, field = key.partition(".")
            for problem in problems:
                if index.isdigit() and field in rows[int(index)].fields:
                    rows[int(index)].add_error(field, problem)
                else:
                    messages.error(request, problem)
        return False
    return True


# --- the gift catalogue -----------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def gifts(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    require(user, "loyalty.manage")
    form = GiftForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and save_gift_form(request, user, None, form):
        messages.success(request, _("The gift was added to the catalogue."))
        return redirect("loyalty:gifts")
    context = {
        "gifts": RedemptionItem.objects.order_by("-is_active", "points_cost", "name"),
        "form": form,
        "section": "loyalty",
    }
    return render(request, "loyalty/gifts.html", context)


@require_http_methods(["GET", "POST"])
def gift_edit(request: HttpRequest, gift_id: int) -> HttpResponse:
    user = current_user(request)
    require(user, "loyalty.manage")
    gift = get_object_or_404(RedemptionItem, pk=gift_id)
    form = GiftForm(request.POST or None, instance=gift)
    if (
        request.method == "POST"
        and form.is_valid()
        and save_gift_form(request, user, gift.pk, form)
    ):
        messages.success(request, _("The gift was saved."))
        return redirect("loyalty:gifts")
    return render(
        request, "loyalty/gift_form.html", {"form": form, "gift": gift, "section": "loyalty"}
    )


def save_gift_form(request: HttpRequest, user: User, gift_id: int | None, form: GiftForm) -> bool:
    data = form.cleaned_data
    outcome = call_service(
        request,
        save_gift,
        user,
        gift_id,
        name=data["name"],
        points_cost=data["points_cost"],
        stock=data["stock"],
        is_active=data["is_active"],
        description=data["description"],
        form=form,
    )
    return outcome.succeeded


# --- the health report ------------------------------------------------------------------------


@require_GET
def report(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    require(user, "loyalty.manage")
    numbers = programme_report(user)
    labels = {
        "issued": _("Issued"),
        "redeemed": pgettext("points", "Redeemed"),
        "expired": pgettext("points", "Expired"),
        "takenBack": _("Taken back"),
        "liability": _("Liability (¥)"),
        "members": pgettext("loyalty", "Members"),
    }
    context = {
        "report": numbers,
        "chart_data": report_chart_data(numbers, labels),
        "section": "loyalty",
    }
    return render(request, "loyalty/report.html", context)
