"""Member pages (会员): the list with its export, one member (balance, tier progress, statement,
coupons, status history), enrolment from the customer page, staff adjustments, freezing,
cancelling and reactivating, and redemption at the counter.
Reads start at the permission layer; every write is one service call through call_service."""

from decimal import Decimal
from functools import partial
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kehu.accounts.models import User
from kehu.accounts.permissions import may, require
from kehu.commerce.queries import stores_of
from kehu.core.exports import export_response
from kehu.core.lists import list_context, options_of, paginate, read_list
from kehu.core.outcomes import call_service, redirect_back
from kehu.customers.models import Customer
from kehu.customers.queries import get_visible_customer, mask_contacts
from kehu.loyalty.approvals.limits import limits_for
from kehu.loyalty.approvals.services import visible_approvals
from kehu.loyalty.members.counter import enrol_customer
from kehu.loyalty.members.forms import (
    AdjustForm,
    CashOffsetForm,
    GiftRedeemForm,
    MembershipStatusForm,
)
from kehu.loyalty.members.queries import (
    MemberFilters,
    counter_matches,
    member_export_headers,
    member_export_rows,
    search_members,
    statement,
    statement_export_headers,
    statement_export_rows,
    tier_progress,
)
from kehu.loyalty.members.services import UnknownMember, membership_of, visible_membership
from kehu.loyalty.members.status import StatusChange, allowed_moves, change_membership_status
from kehu.loyalty.models import (
    ApprovalRequest,
    ApprovalStatus,
    EnrolmentChannel,
    LoyaltySettings,
    Membership,
    MembershipStatus,
    Tier,
)
from kehu.loyalty.points.adjustments import Adjustment, adjust_points
from kehu.loyalty.points.redemption import redeem_cash_offset, redeem_gift
from kehu.loyalty.referrals.services import with_referral

STATEMENT_PAGE_SIZE = 20


REFERRAL_CODE_INPUT_LENGTH = 20  # longer than any code: the service says it is unknown


def current_user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


# --- the list ---------------------------------------------------------------------------------


@require_GET
def member_list(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    require(user, "member.read")
    filters = read_list(request, MemberFilters)
    page = paginate(request, search_members(user, filters))
    members = list(page.object_list)
    mask_contacts(user, [member.customer for member in members])
    tiers = Tier.objects.order_by("rank")
    options = {"tier": options_of(tiers, label=lambda tier: tier.name)}
    context = list_context(page, filters, options) | {
        "members": members,
        "can_export": may(user, "data.export"),
        "can_serve": may(user, "member.serve"),
        "can_manage": may(user, "loyalty.manage"),
        "section": "loyalty",
    }
    return render(request, "loyalty/members.html", context)


@require_GET
def member_export(request: HttpRequest) -> StreamingHttpResponse:
    user = current_user(request)
    require(user, "member.read")
    require(request.user, "data.export")  # type: ignore[arg-type]
    filters = MemberFilters.from_params(request.GET)
    return export_response(  # type: ignore[return-value]
        request, "members", member_export_headers, member_export_rows(user, filters)
    )


# --- one member -------------------------------------------------------------------------------


@require_GET
def member_detail(request: HttpRequest, customer_id: int) -> HttpResponse:
    user = current_user(request)
    require(user, "member.read")
    customer = get_visible_customer(user, customer_id)
    mask_contacts(user, [customer])
    membership = membership_of(customer.pk)
    if membership is None:
        context = {
            "customer": customer,
            "can_enrol": may(user, "member.serve"),
            "enrol_stores": list(stores_of(user)),
            "enrol_store_code": home_store_code(user, customer),
        }
        return render(request, "loyalty/member.html", {**context, "section": "loyalty"})
    membership.customer = customer
    return render(request, "loyalty/member.html", member_context(request, user, membership))


def member_context(
    request: HttpRequest, user: User, membership: Membership, adjust_form: AdjustForm | None = None
) -> dict[str, Any]:
    """Everything the member page shows, in a fixed number of queries."""
    page = paginate(request, statement(membership), STATEMENT_PAGE_SIZE)
    can_adjust = may(user, "points.adjust")
    can_change_status = may(user, "member.change_status")
    return {
        "customer": membership.customer,
        "membership": membership,
        "progress": tier_progress(membership),
        "page": page,
        "entries": list(page.object_list),
        "tier_changes": membership.tier_changes.select_related("previous_tier", "tier")[:10],
        "redemptions": membership.redemptions.select_related("item", "order", "store")[:10],
        "adjust_form": (adjust_form or AdjustForm()) if can_adjust else None,
        "adjust_limits": limits_for(user) if can_adjust else None,
        "pending_approvals": pending_of(user, membership) if can_adjust else [],
        "pauses": membership.pauses.select_related("started_by", "ended_by")[:20],
        "status_moves": allowed_moves(membership.status) if can_change_status else (),
        "can_serve": may(user, "member.serve"),
        "can_export": may(user, "data.export"),
        "section": "loyalty",
    }


def home_store_code(user: User, customer: Customer) -> str:
    """Enrol at the customer's home store when the user works there; else the service picks
    the user's only store (or asks which)."""
    home = customer.home_store
    return home.code if home is not None and may(user, "store.serve", home) else ""


@require_POST
def enrol(request: HttpRequest, customer_id: int) -> HttpResponse:
    user = current_user(request)
    customer = get_visible_customer(user, customer_id)
    store_code = request.POST.get("store", "")[:32] or home_store_code(user, customer)
    enrolment = partial(
        enrol_customer, user, customer.pk, channel=EnrolmentChannel.STORE, store_code=store_code
    )
    code = request.POST.get("referral_code", "")[:REFERRAL_CODE_INPUT_LENGTH]
    outcome = call_service(
        request, with_referral, user, code, enrolment, lambda _enrolment: customer.pk
    )
    if not outcome.succeeded:
        return redirect_back(request, reverse("customers:detail", args=[customer.pk]))
    enrolled, referral = outcome.value
    if enrolled.created:
        messages.success(
            request,
            _("%(name)s is now a member, card number %(card)s.")
            % {"name": customer.name, "card": enrolled.membership.card_number},
        )
    if referral is not None:
        messages.info(
            request,
            _(
                "Referral code %(code)s recorded: both sides are rewarded after the first "
                "qualifying purchase."
            )
            % {"code": referral.code_used},
        )
    return redirect("loyalty:member", customer_id=customer.pk)


@require_POST
def adjust(request: HttpRequest, customer_id: int) -> HttpResponse:
    user = current_user(request)
    require(user, "member.read")
    membership = member_or_404(user, customer_id)
    form = AdjustForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        outcome = call_service(
            request,
            adjust_points,
            user,
            customer_id,
            data["points"],
            data["reason"],
            idempotency_key=data["token"],
            form=form,
        )
        if outcome.succeeded:
            messages.success(request, adjustment_message(outcome.value))
            return redirect("loyalty:member", customer_id=customer_id)
    membership.refresh_from_db()
    context = member_context(request, user, membership, adjust_form=form)
    return render(request, "loyalty/member.html", context, status=400)


def pending_of(user: User, membership: Membership) -> list[ApprovalRequest]:
    """The member's adjustments waiting for approval that the user may see."""
    waiting = visible_approvals(user).filter(membership=membership, status=ApprovalStatus.PENDING)
    return list(waiting.order_by("requested_at", "pk"))


def adjustment_message(adjustment: Adjustment) -> str:
    if adjustment.entry is None:
        return _(
            "Above your limit: the adjustment was sent for approval. The points move once a "
            "second person approves it."
        )
    return _("The points were adjusted.")


@require_http_methods(["GET", "POST"])
def change_status(request: HttpRequest, customer_id: int, status: str) -> HttpResponse:
    """Confirm freezing, cancelling or reactivating with a reason; back to the member page."""
    user = current_user(request)
    require(user, "member.change_status")
    if status not in MembershipStatus.values:
        raise Http404(status)
    membership = member_or_404(user, customer_id)
    form = MembershipStatusForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        reason = form.cleaned_data["reason"]
        outcome = call_service(
            request, change_membership_status, user, customer_id, status, reason, form=form
        )
        if outcome.succeeded:
            messages.success(request, status_message(outcome.value))
            return redirect("loyalty:member", customer_id=customer_id)
    context = {
        "customer": membership.customer,
        "membership": membership,
        "target": status,
        "target_label": MembershipStatus(status).label,
        "form": form,
        "section": "loyalty",
    }
    code = 400 if request.method == "POST" else 200
    return render(request, "loyalty/member_status.html", context, status=code)


def status_message(change: StatusChange) -> str:
    membership = change.membership
    if not change.changed:
        return _("The membership was %(status)s already; nothing changed.") % {
            "status": membership.get_status_display().lower()
        }
    if membership.status == MembershipStatus.FROZEN:
        return _(
            "The membership is frozen: no points are earned or redeemed until it is reactivated."
        )
    if membership.status == MembershipStatus.CANCELLED:
        return ngettext(
            "The membership is cancelled; %(points)s point was forfeited.",
            "The membership is cancelled; %(points)s points were forfeited.",
            change.forfeited,
        ) % {"points": change.forfeited}
    return _("The membership is active again.")


def member_or_404(user: User, customer_id: int) -> Membership:
    """The membership of a visible customer; 404 for a customer who is not a member."""
    try:
        return visible_membership(user, customer_id)
    except UnknownMember as error:
        raise Http404(error.message) from None


@require_GET
def statement_export(request: HttpRequest, customer_id: int) -> StreamingHttpResponse:
    user = current_user(request)
    require(user, "member.read")
    require(request.user, "data.export")  # type: ignore[arg-type]
    membership = member_or_404(user, customer_id)
    name = f"points-{membership.card_number}"
    return export_response(  # type: ignore[return-value]
        request, name, statement_export_headers, statement_export_rows(membership)
    )


# --- the counter ------------------------------------------------------------------------------


@require_GET
def counter(request: HttpRequest) -> HttpResponse:
    """Find a member by card number or mobile, then redeem a gift or a cash offset."""
    user = current_user(request)
    require(user, "member.serve")
    term = request.GET.get("q", "").strip()[:30]
    matches = counter_matches(user, term)
    chosen = request.GET.get("member", "")
    selected = next((m for m in matches if str(m.customer_id) == chosen), None)
    if selected is None and len(matches) == 1:
        selected = matches[0]
    context: dict[str, Any] = {
        "term": term,
        "matches": matches,
        "selected": selected,
        "section": "loyalty",
    }
    if selected is not None:
        stores = stores_of(user)
        context["gift_form"] = GiftRedeemForm(stores=stores)
        context["offset_form"] = CashOffsetForm(customer_id=selected.customer_id, stores=stores)
        context["offset_value"] = offset_value(selected.points_balance)
    return render(request, "loyalty/counter.html", context)


@require_http_methods(["POST"])
def counter_redeem(request: HttpRequest, customer_id: int, kind: str) -> HttpResponse:
    user = current_user(request)
    require(user, "member.serve")
    if kind not in ("gift", "cash"):
        raise Http404(kind)
    membership = member_or_404(user, customer_id)
    back = reverse("loyalty:counter") + "?" + urlencode({"q": membership.card_number})
    outcome = None
    if kind == "gift":
        gift_form = GiftRedeemForm(request.POST, stores=stores_of(user))
        if gift_form.is_valid():
            data = gift_form.cleaned_data
            outcome = call_service(
                request,
                redeem_gift,
                user,
                customer_id,
                data["gift"].pk,
                idempotency_key=data["token"],
                quantity=data["quantity"],
                store_code=data["store"].code if data["store"] else "",
            )
        else:
            show_form_errors(request, gift_form)
    else:
        offset_form = CashOffsetForm(request.POST, customer_id=customer_id, stores=stores_of(user))
        if offset_form.is_valid():
            data = offset_form.cleaned_data
            outcome = call_service(
                request,
                redeem_cash_offset,
                user,
                customer_id,
                data["amount"],
                idempotency_key=data["token"],
                order_id=data["order"].pk if data["order"] else None,
                store_code=data["store"].code if data["store"] else "",
            )
        else:
            show_form_errors(request, offset_form)
    if outcome is not None and outcome.succeeded:
        membership.refresh_from_db()
        messages.success(
            request,
            _("Redeemed %(points)s points; the balance is now %(balance)s.")
            % {"points": outcome.value.redemption.points, "balance": membership.points_balance},
        )
    return redirect(back)


def offset_value(points: int) -> Decimal:
    """What a balance is worth as cash offset, at the programme's rate."""
    return (Decimal(points) / LoyaltySettings.current().points_per_yuan_offset).quantize(
        Decimal("0.01")
    )


def show_form_errors(request: HttpRequest, form: Any) -> None:
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        for error in errors:
            messages.error(request, f"{label}: {error}" if label else error)
