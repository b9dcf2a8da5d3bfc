"""Pages of referrals and group deals: the referral report, a member's referral tree (page and
partial for the member page), group deals (list, detail with joining, create, cancel).

Reads start from the permission layer (a customer or deal outside `visible_customers` answers
404); writes are one service call through `kehu.web.outcomes.call_service`.
"""

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from kehu.accounts.models import User
from kehu.accounts.permissions import require
from kehu.customers.queries import get_visible_customer
from kehu.loyalty.models import Membership, Referral
from kehu.loyalty.referrals.queries import (
    add_rewards,
    flatten_tree,
    referral_report,
    referral_tree,
    report_chart_data,
    rewards_given,
)

SECTION = "loyalty"


def current_user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


# --- referrals --------------------------------------------------------------------------------


@require_GET
def report(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    require(user, "loyalty.manage")
    numbers = referral_report(user)
    context = {"report": numbers, "chart_data": report_chart_data(numbers), "section": SECTION}
    return render(request, "loyalty/referrals/report.html", context)


def tree_context(user: User, customer_id: int) -> dict[str, Any]:
    """What the referral tree shows: the member, who referred them (and what that gave),
    everyone below them with what each rewarded referral gave."""
    customer = get_visible_customer(user, customer_id)
    nodes = add_rewards(user, flatten_tree(referral_tree(user, customer.pk)))
    referred_by = (
        Referral.objects.select_related("referrer__customer").filter(referee=customer).first()
    )
    return {
        "customer": customer,
        "membership": Membership.objects.filter(customer=customer).first(),
        "referred_by": referred_by,
        "referred_by_reward": (
            rewards_given(user, [referred_by.pk]).get(referred_by.pk) if referred_by else None
        ),
        "referral_nodes": nodes,
        "referral_tree_loaded": True,
        "direct_count": sum(node.depth == 1 for node in nodes),
        "section": SECTION,
    }


@require_GET
def member_tree(request: HttpRequest, customer_id: int) -> HttpResponse:
    user = current_user(request)
    require(user, "referral.read")
    return render(request, "loyalty/referrals/tree.html", tree_context(user, customer_id))


@require_GET
def member_referrals(request: HttpRequest, customer_id: int) -> HttpResponse:
    """The tree as a fragment, loaded by the member page through htmx."""
    user = current_user(request)
    require(user, "referral.read")
    context = tree_context(user, customer_id)
    return render(request, "loyalty/partials/member_referrals.html", context)


# --- group deals ------------------------------------------------------------------------------
