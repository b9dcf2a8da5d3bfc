"""Coupon pages: templates with their statistics (list, export, create, edit, detail with the
issue form and batch progress), redemption at the counter, void, and a customer's coupons for
the member page. Reads go through `kehu.loyalty.coupons.queries`; every write is one service
call through `kehu.core.outcomes.call_service`."""

import secrets
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kehu.accounts.models import User
from kehu.accounts.permissions import may, require
from kehu.core.exports import export_response
from kehu.core.lists import list_context, paginate, read_list
from kehu.core.outcomes import call_service, redirect_back
from kehu.loyalty.coupons import queries
from kehu.loyalty.coupons.coupon_templates import create_template, update_template
from kehu.loyalty.coupons.forms import (
    TEMPLATE_FIELD_NAMES,
    ConfirmRedeemForm,
    CouponTemplateForm,
    IssueForm,
    RedeemForm,
    VoidForm,
    split_tokens,
)
from kehu.loyalty.coupons.issuing import request_issue_batch
from kehu.loyalty.coupons.rules import describe_value
from kehu.loyalty.coupons.services import check_coupon, redeem_coupon, void_coupon
from kehu.loyalty.models import (
    Coupon,
    CouponIssueBatch,
    CouponStatus,
    CouponTemplate,
    IssueBatchStatus,
)
from kehu.segments.queries import visible_segments

MEMBER_PAGE_COUPONS = 50
SECTION = "loyalty"


def current_user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def status_label(coupon: Coupon) -> str:
    """The status as shown: an unused coupon past its end reads "expired" at once."""
    return str(CouponStatus(coupon.shown_status).label)  # type: ignore[attr-defined]


# --- templates --------------------------------------------------------------------------------


@require_GET
def template_list(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    require(user, "loyalty.manage")
    filters = read_list(request, queries.TemplateFilters)
    page = paginate(request, queries.search_templates(user, filters))
    rows = [(template, describe_value(template)) for template in page.object_list]
    context = list_context(page, filters) | {
        "rows": rows,
        "can_export": may(user, "data.export"),
        "can_redeem": may(user, "member.serve"),
        "section": SECTION,
    }
    return render(request, "loyalty/coupons/templates.html", context)


@require_GET
def template_export(request: HttpRequest) -> StreamingHttpResponse:
    user = current_user(request)
    require(user, "loyalty.manage")
    require(request.user, "data.export")  # type: ignore[arg-type]
    filters = queries.TemplateFilters.from_params(request.GET)
    rows = queries.template_export_rows(user, filters)
    return export_response(request, "coupon-templates", queries.template_export_headers, rows)


@require_http_methods(["GET", "POST"])
def template_create(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    require(user, "loyalty.manage")
    form = CouponTemplateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        outcome = call_service(
            request,
            create_template,
            user,
            form.to_input(),
            form=form,
            field_names=TEMPLATE_FIELD_NAMES,
        )
        if outcome.succeeded:
            messages.success(request, _("The coupon template was created."))
            return redirect("loyalty:coupon_template", outcome.value.pk)
    return render_template_form(request, form, None)


@require_http_methods(["GET", "POST"])
def template_edit(request: HttpRequest, template_id: int) -> HttpResponse:
    user = current_user(request)
    require(user, "loyalty.manage")
    template = queries.template_with_stats(user, template_id)
    locked = Coupon.objects.filter(template=template).exists()
    form = CouponTemplateForm(request.POST or None, instance=template, terms_locked=locked)
    if request.method == "POST" and form.is_valid():
        outcome = call_service(
            request,
            update_template,
            user,
            template.pk,
            form.to_input(),
            form=form,
            field_names=TEMPLATE_FIELD_NAMES,
        )
        if outcome.succeeded:
            messages.success(request, _("The coupon template was saved."))
            return redirect("loyalty:coupon_template", template.pk)
    return render_template_form(request, form, template)


def render_template_form(
    request: HttpRequest, form: CouponTemplateForm, template: CouponTemplate | None
) -> HttpResponse:
    status = 400 if form.is_bound and form.errors else 200
    context = {"form": form, "template": template, "section": SECTION}
    return render(request, "loyalty/coupons/template_form.html", context, status=status)


@require_GET
def template_detail(request: HttpRequest, template_id: int) -> HttpResponse:
    user = current_user(request)
    require(user, "loyalty.manage")
    template = queries.template_with_stats(user, template_id)
    return render(
        request,
        "loyalty/coupons/template_detail.html",
        detail_context(request, user, template, issue_form(user)),
    )


def issue_form(user: User, data: object = None) -> IssueForm:
    segments = visible_segments(user).select_related(None).only("pk", "name")
    return IssueForm(data, segments=segments)  # type: ignore[arg-type]


def detail_context(
    request: HttpRequest, user: User, template: CouponTemplate, form: IssueForm
) -> dict[str, object]:
    status = request.GET.get("status", "")
    coupons = paginate(request, queries.template_coupons(user, template, status))
    batches = list(queries.template_batches(template)[:10])
    return {
        "template": template,
        "description": describe_value(template),
        "stores": list(template.stores.all()),
        "issue_form": form,
        "batches": [batch_row(batch) for batch in batches],
        "page": coupons,
        "coupon_rows": [(coupon, status_label(coupon)) for coupon in coupons.object_list],
        "status": status if status in CouponStatus.values else "",
        "statuses": CouponStatus.choices,
        "chart_data": queries.daily_activity(user, template),
        "section": SECTION,
    }


def batch_row(batch: CouponIssueBatch) -> dict[str, object]:
    return {
        "batch": batch,
        "percent": queries.batch_percent(batch),
        "is_running": queries.batch_is_running(batch),
        "reasons": queries.skip_reasons(batch),
        "error": queries.batch_error(batch),
    }


@require_POST
def issue(request: HttpRequest, template_id: int) -> HttpResponse:
    """Queue issuing to a segment or a list; the detail page then shows the batch's progress."""
    user = current_user(request)
    require(user, "loyalty.manage")
    template = queries.template_with_stats(user, template_id)
    form = issue_form(user, request.POST)
    target = issue_target(user, form)
    if target is not None:
        outcome = call_service(request, request_issue_batch, user, template.pk, **target, form=form)
        if outcome.succeeded:
            messages.success(request, issue_message(outcome.value))
            return redirect(reverse("loyalty:coupon_template", args=[template.pk]) + "#batches")
    context = detail_context(request, user, template, form)
    return render(request, "loyalty/coupons/template_detail.html", context, status=400)


def issue_message(batch: CouponIssueBatch) -> str:
    if batch.status == IssueBatchStatus.AWAITING_APPROVAL:
        return _(
            "Above your coupon limit: the coupons await a second person's approval and are "
            "issued once it is given."
        )
    return _("Issuing has started; the progress is shown below.")


def issue_target(user: User, form: IssueForm) -> dict[str, Any] | None:
    """The service's arguments from the form: a segment, or the customers its list names."""
    if not form.is_valid():
        return None
    if form.cleaned_data["target"] == IssueForm.SEGMENT:
        return {"segment_id": form.cleaned_data["segment"].pk}
    ids, unknown = queries.resolve_customers(user, *split_tokens(form.cleaned_data["tokens"]))
    if unknown:
        form.add_error(
            "customers",
            _("Not found among your customers: %(entries)s") % {"entries": ", ".join(unknown[:10])},
        )
        return None
    return {"customer_ids": ids}


@require_GET
def batch_progress(request: HttpRequest, batch_id: int) -> HttpResponse:
    """One batch's row, polled by the detail page while the batch runs."""
    require(current_user(request), "loyalty.manage")
    batch = queries.get_batch(batch_id)
    return render(request, "loyalty/coupons/batch_row.html", {"row": batch_row(batch)})


# --- at the counter ---------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def redeem(request: HttpRequest) -> HttpResponse:
    """Enter a code and an order: see what the coupon would take off, then confirm."""
    user = current_user(request)
    require(user, "member.serve")
    if request.method == "POST":
        return confirm_redemption(request, user)
    form = RedeemForm(request.GET if "code" in request.GET else None)
    context: dict[str, object] = {"form": form, "section": SECTION}
    if form.is_valid():
        context.update(counter_check(request, user, form))
    return render(request, "loyalty/coupons/redeem.html", context)


def counter_check(request: HttpRequest, user: User, form: RedeemForm) -> dict[str, object]:
    """The dry run for the entered code and order, or the reason it cannot be run."""
    orders = queries.find_visible_order(user, form.cleaned_data["order"])
    if len(orders) != 1:
        message = (
            _("No order of your customers has this number.")
            if not orders
            else _("Several orders have this number; enter kehu's order id instead.")
        )
        form.add_error("order", message)
        return {}
    outcome = call_service(
        request, check_coupon, user, form.cleaned_data["code"], orders[0].pk, form=form
    )
    if not outcome.succeeded:
        return {}
    check = outcome.value
    confirm = ConfirmRedeemForm(
        initial={
            "code": check.coupon.code,
            "order_id": check.order.pk,
            "idempotency_key": f"counter:{secrets.token_urlsafe(16)}",
        }
    )
    return {"check": check, "confirm_form": confirm, "can_void": may(user, "loyalty.manage")}


def confirm_redemption(request: HttpRequest, user: User) -> HttpResponse:
    form = ConfirmRedeemForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The redemption could not be read; enter the code again."))
        return redirect("loyalty:coupon_redeem")
    data = form.cleaned_data
    outcome = call_service(
        request,
        redeem_coupon,
        user,
        data["code"],
        data["order_id"],
        idempotency_key=data["idempotency_key"],
    )
    if outcome.succeeded:
        coupon = outcome.value
        messages.success(
            request,
            _("Coupon %(code)s used on order %(order)s: ¥%(discount)s off.")
            % {
                "code": coupon.code,
                "order": coupon.order.external_id,
                "discount": coupon.discount_amount,
            },
        )
    return redirect("loyalty:coupon_redeem")


@require_POST
def void(request: HttpRequest, code: str) -> HttpResponse:
    user = current_user(request)
    require(user, "loyalty.manage")
    form = VoidForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    outcome = call_service(request, void_coupon, user, code, reason)
    if outcome.succeeded:
        messages.success(request, _("Coupon %(code)s was voided.") % {"code": outcome.value.code})
    return redirect_back(request, reverse("loyalty:coupon_templates"))


# --- the member page --------------------------------------------------------------------------


@require_GET
def customer_coupons(request: HttpRequest, customer_id: int) -> HttpResponse:
    """A customer's coupons with their status, as a fragment for the member page."""
    user = current_user(request)
    require(user, "coupon.read")
    customer, coupons = queries.customer_coupons(user, customer_id)
    context = {
        "coupons_loaded": True,
        "coupon_customer": customer,
        "coupons": [
            (coupon, describe_value(coupon.template), status_label(coupon))
            for coupon in coupons[:MEMBER_PAGE_COUPONS]
        ],
        "can_void": may(user, "loyalty.manage"),
        "can_redeem": may(user, "member.serve"),
    }
    return render(request, "loyalty/partials/member_coupons.html", context)
