"""Earning rule pages (积分规则): the list with search, state, sort and export, and the form to
add or change a rule. Only the programme's managers see them."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from kehu.accounts.permissions import may, require
from kehu.core.exports import export_response
from kehu.core.lists import list_context, paginate, read_list
from kehu.core.outcomes import call_service
from kehu.loyalty.models import EarningRule
from kehu.loyalty.points import queries
from kehu.loyalty.points.earning_rules import save_earning_rule
from kehu.loyalty.points.forms import EarningRuleForm
from kehu.loyalty.programme.views import current_user

FIELD_NAMES = {"category_id": "category", "store_id": "store"}


@require_GET
def rule_list(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    require(user, "loyalty.manage")
    today = timezone.localdate()
    filters = read_list(request, queries.RuleFilters)
    page = paginate(request, queries.search_rules(filters, today))
    context = list_context(page, filters) | {
        "rows": [
            (rule, queries.scope_label(rule), queries.state_label(rule, today))
            for rule in page.object_list
        ],
        "can_export": may(user, "data.export"),
        "section": "loyalty",
    }
    return render(request, "loyalty/earning_rules.html", context)


@require_GET
def rule_export(request: HttpRequest) -> StreamingHttpResponse:
    require(current_user(request), "loyalty.manage")
    require(request.user, "data.export")  # type: ignore[arg-type]
    filters = queries.RuleFilters.from_params(request.GET)
    rows = queries.rule_export_rows(filters, timezone.localdate())
    return export_response(request, "earning-rules", queries.rule_export_headers, rows)


@require_http_methods(["GET", "POST"])
def rule_create(request: HttpRequest) -> HttpResponse:
    return rule_form(request, None)


@require_http_methods(["GET", "POST"])
def rule_edit(request: HttpRequest, rule_id: int) -> HttpResponse:
    return rule_form(request, get_object_or_404(EarningRule, pk=rule_id))


def rule_form(request: HttpRequest, rule: EarningRule | None) -> HttpResponse:
    user = current_user(request)
    require(user, "loyalty.manage")
    form = EarningRuleForm(request.POST or None, rule=rule)
    if request.method == "POST" and form.is_valid():
        rule_id = rule.pk if rule else None
        outcome = call_service(
            request,
            save_earning_rule,
            user,
            rule_id,
            form.to_input(),
            form=form,
            field_names=FIELD_NAMES,
        )
        if outcome.succeeded:
            messages.success(request, _("The earning rule was saved."))
            return redirect("loyalty:earning_rules")
    status = 400 if form.is_bound and form.errors else 200
    context = {"form": form, "rule": rule, "section": "loyalty"}
    return render(request, "loyalty/earning_rule_form.html", context, status=status)
