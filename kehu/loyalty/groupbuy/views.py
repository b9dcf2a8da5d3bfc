"""Pages of group deals (团购): the list, a new deal, a deal with its participants, joining and
cancelling."""

from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kehu.accounts.models import User
from kehu.accounts.permissions import may, require
from kehu.core import lists
from kehu.core.lists import ListFilters, list_context, paginate, read_list
from kehu.core.outcomes import call_service
from kehu.loyalty.groupbuy.forms import GroupDealForm, JoinGroupDealForm
from kehu.loyalty.groupbuy.queries import (
    get_visible_group_deal,
    group_deal_participants,
    group_deals_with_sizes,
)
from kehu.loyalty.groupbuy.services import (
    cancel_group_deal,
    create_group_deal,
    join_group_deal,
)
from kehu.loyalty.models import GroupDeal, GroupDealStatus
from kehu.loyalty.referrals.views import SECTION, current_user


@dataclass(frozen=True)
class GroupDealFilters(ListFilters):
    status: str = lists.choice("status", GroupDealStatus.choices, label=gettext_lazy("Status"))


@require_GET
def deal_list(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    require(user, "referral.read")
    filters = read_list(request, GroupDealFilters)
    page = paginate(request, group_deals_with_sizes(user, filters.status))
    context = list_context(page, filters) | {
        "deals": list(page.object_list),
        "can_create": may(user, "group_deal.run"),
        "section": SECTION,
    }
    return render(request, "loyalty/group_deals/list.html", context)


@require_http_methods(["GET", "POST"])
def deal_new(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    if not may(user, "group_deal.run"):
        raise PermissionDenied(_("Your role may not run group deals."))
    initial = {"leader_customer_id": request.GET.get("leader", "")}
    form = GroupDealForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        outcome = call_with_customer(
            request, form, "leader_customer_id", create_group_deal, user, form.to_input()
        )
        if outcome is not None:
            messages.success(request, _("The group deal was created."))
            return redirect("loyalty:group_deal", deal_id=outcome.deal.pk)
    context = {"form": form, "section": SECTION}
    return render(request, "loyalty/group_deals/form.html", context)


def call_with_customer(
    request: HttpRequest,
    form: forms.Form,
    customer_field: str,
    service: Any,
    *args: Any,
    **kwargs: Any,
) -> Any:
    """Run the service; a refusal shows on the form, and a customer the user may not see shows
    next to the customer field instead of as a 404 page. None when refused."""
    try:
        outcome = call_service(request, service, *args, form=form, **kwargs)
    except Http404:
        form.add_error(customer_field, _("No customer with this ID among those you may see."))
        return None
    return outcome.value if outcome.succeeded else None


def detail_context(user: User, deal: GroupDeal, join_form: JoinGroupDealForm) -> dict[str, Any]:
    participants = group_deal_participants(user, deal)
    is_joinable = deal.status == GroupDealStatus.OPEN and deal.deadline > timezone.now()
    return {
        "deal": deal,
        "participants": participants,
        "size": len(participants),
        "progress": min(len(participants), deal.min_size),
        "missing": max(deal.min_size - len(participants), 0),
        "join_form": join_form,
        "can_join": may(user, "group_deal.run") and is_joinable,
        "can_attach": may(user, "group_deal.run") and deal.status == GroupDealStatus.SUCCEEDED,
        "can_cancel": may(user, "loyalty.manage") and deal.status == GroupDealStatus.OPEN,
        "deadline_passed": deal.deadline <= timezone.now(),
        "section": SECTION,
    }


@require_GET
def deal_detail(request: HttpRequest, deal_id: int) -> HttpResponse:
    user = current_user(request)
    require(user, "referral.read")
    deal = get_visible_group_deal(user, deal_id)
    context = detail_context(user, deal, JoinGroupDealForm())
    return render(request, "loyalty/group_deals/detail.html", context)


@require_POST
def deal_join(request: HttpRequest, deal_id: int) -> HttpResponse:
    user = current_user(request)
    require(user, "referral.read")
    deal = get_visible_group_deal(user, deal_id)
    form = JoinGroupDealForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        result = call_with_customer(
            request,
            form,
            "customer_id",
            join_group_deal,
            user,
            deal.pk,
            data["customer_id"],
            order_id=data["order_id"],
        )
        if result is not None:
            messages.success(request, joined_message(result.created))
            return redirect("loyalty:group_deal", deal_id=deal.pk)
    context = detail_context(user, get_visible_group_deal(user, deal_id), form)
    return render(request, "loyalty/group_deals/detail.html", context)


def joined_message(created: bool) -> str:
    if created:
        return _("The customer joined the group deal.")
    return _("The customer was already in the group deal; their order is recorded.")


@require_POST
def deal_cancel(request: HttpRequest, deal_id: int) -> HttpResponse:
    user = current_user(request)
    require(user, "referral.read")
    deal = get_visible_group_deal(user, deal_id)
    outcome = call_service(request, cancel_group_deal, user, deal.pk)
    if outcome.succeeded:
        messages.success(request, _("The group deal was cancelled."))
    return redirect("loyalty:group_deal", deal_id=deal.pk)
