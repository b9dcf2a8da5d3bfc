"""Reads of coupons for pages, exports and the API, through the customer permission layer.

Template statistics count the coupons of the customers the user may see (as segment counts do):
issued, redeemed, the redemption rate, the discount given, the revenue on redeeming orders (net
of refunds), expired and void, all in one grouped query over templates.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import (
    Case,
    CharField,
    Count,
    DecimalField,
    F,
    FloatField,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, TruncDate
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext, pgettext_lazy

from kehu.accounts.models import User
from kehu.accounts.roles import Scope
from kehu.commerce.models import Order
from kehu.core import lists
from kehu.core.lists import ListFilters
from kehu.customers.models import Customer
from kehu.customers.queries import get_visible_customer, visible_customers
from kehu.loyalty.coupons.rules import describe_value
from kehu.loyalty.models import (
    ApprovalRequest,
    Coupon,
    CouponIssueBatch,
    CouponKind,
    CouponStatus,
    CouponTemplate,
    IssueBatchStatus,
)

ZERO = Decimal("0.00")
MONEY = DecimalField(max_digits=16, decimal_places=2)
TEMPLATE_SORTS = {
    "name": "name",
    "created": "created_at",
    "issued": "issued",
    "redeemed": "redeemed",
    "rate": "redemption_rate",
    "discount": "discount_given",
    "revenue": "revenue",
}
DEFAULT_TEMPLATE_SORT = "-created"
ACTIVITY_DAYS = 30
SKIP_REASONS = {
    "not_visible": gettext_lazy("not a customer the requester may see"),
    "tier_too_low": gettext_lazy("below the coupon's tier, or not a member"),
    "per_customer_limit": gettext_lazy("already hold the most coupons allowed each"),
    "total_limit": gettext_lazy("the template's total limit was reached"),
}
LOOKUP_CHUNK = 5000


def cents(value: Decimal | None) -> Decimal:
    """A sum as money with two decimals (SQLite hands sums back as they come)."""
    return (value or ZERO).quantize(ZERO)


# --- templates with their statistics ----------------------------------------------------------


def coupons_seen_by(user: User) -> Q:
    """A filter on a template's coupons: those of customers the user may see."""
    if user.policy.scope == Scope.ALL:
        return Q()
    return Q(coupons__customer__in=visible_customers(user).values("pk"))


def templates_with_stats(user: User) -> QuerySet[CouponTemplate]:
    """Every template with `issued`, `redeemed`, `redemption_rate`, `discount_given`, `revenue`
    (the redeeming orders' totals less their refunds), `expired` and `voided`: one query."""
    seen = coupons_seen_by(user)
    redeemed = seen & Q(coupons__status=CouponStatus.REDEEMED)
    net = F("coupons__order__total_amount") - F("coupons__order__refunded_amount")
    templates = CouponTemplate.objects.select_related("tier").annotate(
        issued=Count("coupons", filter=seen),
        redeemed=Count("coupons", filter=redeemed),
        expired=Count("coupons", filter=seen & Q(coupons__status=CouponStatus.EXPIRED)),
        voided=Count("coupons", filter=seen & Q(coupons__status=CouponStatus.VOID)),
        discount_given=Coalesce(
            Sum("coupons__discount_amount", filter=redeemed), Value(ZERO), output_field=MONEY
        ),
        revenue=Coalesce(Sum(net, filter=redeemed), Value(ZERO), output_field=MONEY),
    )
    return templates.annotate(
        redemption_rate=Case(
            When(issued=0, then=Value(0.0)),
            default=Cast(F("redeemed"), FloatField()) / Cast(F("issued"), FloatField()),
            output_field=FloatField(),
        )
    )


@dataclass(frozen=True)
class TemplateFilters(ListFilters):
    search: str = lists.search(placeholder=gettext_lazy("Template name"))
    kind: str = lists.choice("kind", CouponKind.choices, label=gettext_lazy("Kind"))
    active: str = lists.choice(
        "active",
        {"1": pgettext_lazy("coupon template", "Active"), "0": gettext_lazy("Not active")},
        label=pgettext_lazy("coupon template", "Active"),
    )
    sort: str = lists.sort(TEMPLATE_SORTS, default=DEFAULT_TEMPLATE_SORT, both_directions=True)


def search_templates(user: User, filters: TemplateFilters) -> QuerySet[CouponTemplate]:
    templates = templates_with_stats(user)
    if filters.search:
        templates = templates.filter(name__icontains=filters.search)
    if filters.kind:
        templates = templates.filter(kind=filters.kind)
    if filters.active:
        templates = templates.filter(is_active=filters.active == "1")
    descending = filters.sort.startswith("-")
    column = F(TEMPLATE_SORTS[filters.sort.lstrip("-")])
    return templates.order_by(column.desc() if descending else column.asc(), "-pk")


def template_with_stats(user: User, template_id: int) -> CouponTemplate:
    try:
        return templates_with_stats(user).prefetch_related("stores").get(pk=template_id)
    except (CouponTemplate.DoesNotExist, ValueError, TypeError):
        raise Http404("No coupon template matches the given query.") from None


def template_export_headers() -> list[str]:
    return [
        _("Template"),
        _("Kind"),
        _("Gives"),
        pgettext("coupon template", "Active"),
        _("Issued"),
        _("Total limit"),
        _("Redeemed"),
        _("Redemption rate"),
        _("Discount given (¥)"),
        _("Revenue on redeeming orders (¥)"),
        _("Expired"),
        _("Void"),
    ]


def template_export_rows(user: User, filters: TemplateFilters) -> Iterator[list[Any]]:
    for template in search_templates(user, filters).iterator(chunk_size=500):
        yield [
            template.name,
            template.get_kind_display(),
            describe_value(template),
            _("yes") if template.is_active else _("no"),
            template.issued,  # type: ignore[attr-defined]
            template.total_limit if template.total_limit is not None else "",
            template.redeemed,  # type: ignore[attr-defined]
            f"{template.redemption_rate:.1%}",  # type: ignore[attr-defined]
            cents(template.discount_given),  # type: ignore[attr-defined]
            cents(template.revenue),  # type: ignore[attr-defined]
            template.expired,  # type: ignore[attr-defined]
            template.voided,  # type: ignore[attr-defined]
        ]


def daily_activity(
    user: User, template: CouponTemplate, today: datetime | None = None
) -> dict[str, Any]:
    """Coupons issued and redeemed per day over the last 30 days, for the template's chart."""
    end = timezone.localdate(today or timezone.now())
    start = end - timedelta(days=ACTIVITY_DAYS - 1)
    coupons = template_coupons(user, template)
    issued = per_day(coupons, "issued_at", start)
    redeemed = per_day(coupons.filter(status=CouponStatus.REDEEMED), "redeemed_at", start)
    days = [start + timedelta(days=offset) for offset in range(ACTIVITY_DAYS)]
    return {
        "days": [day.isoformat() for day in days],
        "issued": [issued.get(day, 0) for day in days],
        "redeemed": [redeemed.get(day, 0) for day in days],
        "labels": {"issued": _("Issued"), "redeemed": _("Redeemed")},
    }


def per_day(coupons: QuerySet[Coupon], column: str, start: Any) -> dict[Any, int]:
    rows = (
        coupons.filter(**{f"{column}__date__gte": start})
        .annotate(day=TruncDate(column))
        .values("day")
        .annotate(count=Count("pk"))
        .order_by()
    )
    return {row["day"]: row["count"] for row in rows}


# --- coupons ----------------------------------------------------------------------------------


def with_shown_status(coupons: QuerySet[Coupon], now: datetime | None = None) -> QuerySet[Coupon]:
    """`shown_status`: an unused coupon past its end shows as expired before the nightly job
    has marked it."""
    late = Q(status=CouponStatus.ISSUED, valid_until__lt=now or timezone.now())
    return coupons.annotate(
        shown_status=Case(
            When(late, then=Value(CouponStatus.EXPIRED.value)),
            default=F("status"),
            output_field=CharField(),
        )
    )


def template_coupons(user: User, template: CouponTemplate, status: str = "") -> QuerySet[Coupon]:
    """The template's coupons held by customers the user may see, newest first."""
    coupons = Coupon.objects.filter(template=template, customer__in=visible_customers(user))
    if status in CouponStatus.values:
        coupons = coupons.filter(status=status)
    return with_shown_status(coupons.select_related("customer", "order", "approved_by"))


def customer_coupons(user: User, customer_id: int) -> tuple[Customer, QuerySet[Coupon]]:
    """A customer's coupons (404 for a customer the user may not see), unused ones first."""
    customer = get_visible_customer(user, customer_id)
    coupons = Coupon.objects.filter(customer=customer).select_related(
        "template", "order", "approved_by"
    )
    unused_first = Case(When(status=CouponStatus.ISSUED, then=Value(0)), default=Value(1))
    return customer, with_shown_status(coupons).order_by(unused_first, "-issued_at", "-pk")


def visible_coupon_detail(user: User, code: str) -> Coupon:
    coupon = (
        with_shown_status(Coupon.objects.filter(customer__in=visible_customers(user)))
        .select_related("template", "customer", "order", "approved_by")
        .filter(code=code)
        .first()
    )
    if coupon is None:
        raise Http404("No coupon matches the given query.")
    return coupon


# --- batches and the counter ------------------------------------------------------------------


def template_batches(template: CouponTemplate) -> QuerySet[CouponIssueBatch]:
    return CouponIssueBatch.objects.filter(template=template).select_related(
        "segment", "requested_by"
    )


def get_batch(batch_id: int) -> CouponIssueBatch:
    try:
        return CouponIssueBatch.objects.select_related("template", "segment").get(pk=batch_id)
    except (CouponIssueBatch.DoesNotExist, ValueError, TypeError):
        raise Http404("No issue batch matches the given query.") from None


def batch_approval(batch: CouponIssueBatch) -> ApprovalRequest | None:
    """The request for approval of a batch above its requester's coupon value limit."""
    rows = ApprovalRequest.objects.select_related(
        "coupon_template", "requested_by", "decided_by"
    ).filter(batch=batch)
    return rows.first()


def batch_report(batch: CouponIssueBatch) -> dict[str, object]:
    """The batch's stored report (JSON written by `coupon_issuing.BatchProgress`): `skipped`
    counts by reason, and `error` when it failed."""
    try:
        report = json.loads(batch.message or "{}")
    except json.JSONDecodeError:
        report = {"error": batch.message}
    return report if isinstance(report, dict) else {}


def skipped_counts(batch: CouponIssueBatch) -> dict[str, int]:
    skipped = batch_report(batch).get("skipped", {})
    if not isinstance(skipped, dict):
        return {}
    return {str(code): int(count) for code, count in skipped.items() if count}


def skip_reasons(batch: CouponIssueBatch) -> list[tuple[str, str, int]]:
    """(code, words, count) for every reason some customers were skipped."""
    return [
        (code, str(SKIP_REASONS.get(code, code)), count)
        for code, count in skipped_counts(batch).items()
    ]


def batch_error(batch: CouponIssueBatch) -> str:
    return str(batch_report(batch).get("error", ""))


def batch_is_running(batch: CouponIssueBatch) -> bool:
    return batch.status in (IssueBatchStatus.QUEUED, IssueBatchStatus.RUNNING)


def batch_percent(batch: CouponIssueBatch) -> int:
    if batch.status == IssueBatchStatus.DONE:
        return 100
    if not batch.requested:
        return 0
    return min(100, round(100 * (batch.issued + batch.skipped) / batch.requested))


def find_visible_order(user: User, text: str) -> list[Order]:
    """The orders a cashier may mean by `text`: its order number in the shop system, or
    kehu's own order id; only orders of customers the user may see."""
    text = text.strip()[:64]
    if not text:
        return []
    orders = Order.objects.filter(customer__in=visible_customers(user)).select_related(
        "customer", "store", "channel"
    )
    matches = list(orders.filter(external_id=text)[:5])
    if not matches and text.isdigit():
        matches = list(orders.filter(pk=int(text)))
    return matches


def resolve_customers(
    user: User, ids: list[int], mobiles: list[str]
) -> tuple[list[int], list[str]]:
    """The visible customers named by id or mobile number, and the entries that name none."""
    visible = visible_customers(user)
    found: set[int] = set()
    by_mobile: dict[str, int] = {}
    for start in range(0, max(len(ids), len(mobiles)), LOOKUP_CHUNK):
        found.update(
            visible.filter(pk__in=ids[start : start + LOOKUP_CHUNK]).values_list("pk", flat=True)
        )
        rows = visible.filter(mobile__in=mobiles[start : start + LOOKUP_CHUNK])
        by_mobile.update(rows.values_list("mobile", "pk"))
    unknown = [str(pk) for pk in ids if pk not in found]
    unknown += [mobile for mobile in mobiles if mobile not in by_mobile]
    return sorted(found | set(by_mobile.values())), unknown
