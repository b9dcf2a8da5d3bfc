"""The approvals page: points adjustments and coupons above their maker's limits, waiting for
a second person (approve or reject, with a reason), and the requests the user made. Rules live
in kehu/loyalty/approvals/services.py."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from kehu.accounts.models import User
from kehu.accounts.permissions import may
from kehu.core.errors import NotAllowed
from kehu.core.outcomes import call_service
from kehu.loyalty.approvals.services import (
    decide_approval,
    pending_for,
    visible_approvals,
)
from kehu.loyalty.members.forms import DecisionForm
from kehu.loyalty.models import ApprovalKind, ApprovalRequest

OWN_REQUESTS_SHOWN = 20


def current_user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


@require_GET
def approvals(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    try:
        waiting = list(pending_for(user))
    except NotAllowed as error:
        raise PermissionDenied(error.message) from error
    own = visible_approvals(user).filter(requested_by=user)[:OWN_REQUESTS_SHOWN]
    context = {
        "waiting": [(approval, may(user, "approval.decide", approval)) for approval in waiting],
        "own_requests": list(own),
        "section": "approvals",
    }
    return render(request, "loyalty/approvals.html", context)


@require_POST
def decide(request: HttpRequest, approval_id: int, decision: str) -> HttpResponse:
    if decision not in ("approve", "reject"):
        raise Http404(decision)
    user = current_user(request)
    form = DecisionForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    approve = decision == "approve"
    outcome = call_service(
        request, decide_approval, user, approval_id, approve=approve, reason=reason
    )
    if outcome.succeeded:
        messages.success(request, decision_message(outcome.value, approve))
    return redirect("loyalty:approvals")


def decision_message(approval: ApprovalRequest, approve: bool) -> str:
    if not approve:
        if approval.kind == ApprovalKind.POINTS:
            return _("Rejected: nothing moved.")
        return _("Rejected: no coupon was issued.")
    if approval.kind == ApprovalKind.POINTS:
        return _("Approved: the points were adjusted.")
    if approval.kind == ApprovalKind.COUPON:
        return _("Approved: the coupon was issued.")
    return _("Approved: the coupons are being issued.")
