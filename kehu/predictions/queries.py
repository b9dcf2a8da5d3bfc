"""Reads of the stored predictions (churn risk, CLV, next best action) for the prediction pages.

Every read starts from `visible_customers(user)`, so the churn list, its export, the totals and
the customer page only ever show customers the user may see. Rows come with their reasons and
recommended action already in words (`kehu.predictions.text`), so a template only
prints them.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import F, OrderBy, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehu.accounts.models import User
from kehu.accounts.roles import Scope
from kehu.commerce.models import Product
from kehu.core import lists
from kehu.core.lists import ListFilters, optional_int
from kehu.customers.models import Customer
from kehu.customers.queries import mask_contacts, staff_assignable_by, visible_customers
from kehu.predictions.models import ChurnLevel, CustomerPrediction, PredictionSettings
from kehu.predictions.text import (
    churn_summary,
    describe_churn_reasons,
    describe_next_action,
)
from kehu.segments.models import CustomerMetrics, LifecycleStage, SegmentMember

AT_RISK_LEVELS = (ChurnLevel.WARNING, ChurnLevel.CRITICAL)
LEVEL_FILTERS: dict[str, tuple[str, ...]] = {
    "": AT_RISK_LEVELS,
    "critical": (ChurnLevel.CRITICAL,),
    "warning": (ChurnLevel.WARNING,),
    "watch": (ChurnLevel.WATCH,),
    "watch_up": (ChurnLevel.WATCH, *AT_RISK_LEVELS),
}
LEVEL_FILTER_LABELS = {
    "": gettext_lazy("Warning and critical"),
    "critical": ChurnLevel.CRITICAL.label,
    "warning": ChurnLevel.WARNING.label,
    "watch": ChurnLevel.WATCH.label,
    "watch_up": gettext_lazy("Watch, warning and critical"),
}
# An early warning is about customers who may still be kept: by default the list leaves out
# those whose lifecycle stage is already churned (win-back campaigns reach them instead).
STAGE_NOT_CHURNED = ""
STAGE_ALL = "all"
STAGE_CHURNED = "churned"
STAGE_FILTER_LABELS = {
    STAGE_NOT_CHURNED: gettext_lazy("Not yet churned"),
    STAGE_ALL: gettext_lazy("All stages"),
    STAGE_CHURNED: gettext_lazy("Already churned"),
}
DEFAULT_CHURN_SORT = "-stake"
CHURN_SORTS: dict[str, OrderBy] = {
    "stake": F("value_at_stake").asc(),
    "-stake": F("value_at_stake").desc(),
    "risk": F("churn_risk").asc(),
    "-risk": F("churn_risk").desc(),
    "clv": F("clv").asc(nulls_last=True),
    "-clv": F("clv").desc(nulls_last=True),
    "warned": F("warned_on").asc(nulls_last=True),
    "-warned": F("warned_on").desc(nulls_last=True),
    "last_purchase": F("last_purchase").asc(nulls_last=True),
    "-last_purchase": F("last_purchase").desc(nulls_last=True),
}
OWNER_ME = "me"
OWNER_POOL = "pool"
EXPORT_CHUNK = 2000


def visible_predictions(user: User) -> QuerySet[CustomerPrediction]:
    """The prediction rows of the customers the user may see."""
    customers = visible_customers(user)
    if not customers.query.where:
        # Everyone is visible: no IN (SELECT …) to slow down every grouped query.
        return CustomerPrediction.objects.all()
    return CustomerPrediction.objects.filter(customer__in=customers)


# --- the churn warning list (流失预警) ----------------------------------------------------------


@dataclass(frozen=True)
class ChurnFilters(ListFilters):
    """The churn list's filters, read from the query string; wrong values fall back to none."""

    search: str = lists.search(placeholder=gettext_lazy("Customer name"))
    level: str = lists.choice("level", LEVEL_FILTER_LABELS, label=gettext_lazy("Churn level"))
    stage: str = lists.choice(
        "stage", STAGE_FILTER_LABELS, default=STAGE_NOT_CHURNED, label=gettext_lazy("Lifecycle")
    )
    owner: str = lists.choice(
        "owner",
        {OWNER_ME: gettext_lazy("Me"), OWNER_POOL: gettext_lazy("In the pool")},
        accepts=lists.is_record_id,
        label=gettext_lazy("Owner"),
        empty_label=gettext_lazy("Anyone"),
    )
    store_id: int | None = lists.record_id("store", label=gettext_lazy("Store"))
    segment_id: int | None = lists.record_id("segment", label=gettext_lazy("Segment"))
    sort: str = lists.sort(CHURN_SORTS, default=DEFAULT_CHURN_SORT)


def churn_list(user: User, filters: ChurnFilters) -> QuerySet[CustomerPrediction]:
    """At-risk customers the user may see, filtered and sorted, with what each row shows."""
    predictions = visible_predictions(user).filter(churn_level__in=LEVEL_FILTERS[filters.level])
    predictions = filter_by_stage(predictions, filters.stage)
    predictions = filter_by_owner(predictions, user, filters.owner)
    if filters.store_id is not None:
        predictions = predictions.filter(customer__home_store_id=filters.store_id)
    if filters.segment_id is not None:
        members = SegmentMember.objects.filter(segment_id=filters.segment_id)
        predictions = predictions.filter(customer_id__in=members.values("customer_id"))
    if filters.search:
        predictions = predictions.filter(customer__name__icontains=filters.search)
    return (
        predictions.select_related("customer__owner", "customer__home_store")
        .annotate(last_purchase=F("customer__metrics__last_purchase"))
        .order_by(CHURN_SORTS[filters.sort], "customer_id")
    )


def filter_by_stage(
    predictions: QuerySet[CustomerPrediction], stage: str
) -> QuerySet[CustomerPrediction]:
    churned = LifecycleStage.CHURNED
    if stage == STAGE_NOT_CHURNED:
        return predictions.exclude(customer__metrics__lifecycle_stage=churned)
    if stage == STAGE_CHURNED:
        return predictions.filter(customer__metrics__lifecycle_stage=churned)
    return predictions


def filter_by_owner(
    predictions: QuerySet[CustomerPrediction], user: User, owner: str
) -> QuerySet[CustomerPrediction]:
    if owner == OWNER_ME:
        return predictions.filter(customer__owner=user)
    if owner == OWNER_POOL:
        return predictions.filter(customer__owner__isnull=True)
    if owner:
        return predictions.filter(customer__owner_id=int(owner))
    return predictions


def churn_owner_choices(user: User) -> list[User]:
    """Whose customers the owner filter offers: a salesperson has only "me" and "pool"."""
    if user.policy.scope == Scope.OWN:
        return []
    return list(staff_assignable_by(user))


def churn_customer_ids(user: User, filters: ChurnFilters, limit: int) -> list[int]:
    """The ids of the customers matching the filters ("all matching"), at most `limit` + 1 so
    the caller can tell when there are too many."""
    ids = churn_list(user, filters).values_list("customer_id", flat=True)
    return list(ids[: limit + 1])


@dataclass(frozen=True)
class ChurnRow:
    """One line of the churn list, with its reasons and recommended action in words."""

    prediction: CustomerPrediction
    customer: Customer
    reasons: str
    action: str
    last_purchase: date | None


def describe_churn_rows(predictions: Iterable[CustomerPrediction]) -> list[ChurnRow]:
    return [
        ChurnRow(
            prediction=prediction,
            customer=prediction.customer,
            reasons=churn_summary(prediction.churn_reasons or []),
            action=describe_next_action(prediction.next_action, prediction.next_action_reason),
            last_purchase=getattr(prediction, "last_purchase", None),
        )
        for prediction in predictions
    ]


def churn_export_headers() -> list[str]:
    return [
        _("Customer ID"),
        _("Name"),
        _("Mobile"),
        _("Owner"),
        _("Home store"),
        _("Churn risk"),
        _("Churn level"),
        _("Reasons"),
        _("Value at stake"),
        _("Predicted lifetime value"),
        _("Probability still active"),
        _("Recommended action"),
        _("Warned on"),
        _("Last purchase"),
    ]


def churn_export_rows(user: User, filters: ChurnFilters) -> Iterator[list[Any]]:
    """The filtered churn list, one row at a time, mobiles masked as the permission layer says."""
    predictions = churn_list(user, filters).iterator(chunk_size=EXPORT_CHUNK)
    for prediction in predictions:
        customer = prediction.customer
        mask_contacts(user, [customer])
        yield [
            customer.pk,
            customer.name,
            customer.display_mobile,  # type: ignore[attr-defined]
            customer.owner.username if customer.owner else "",
            customer.home_store.code if customer.home_store else "",
            prediction.churn_risk,
            prediction.get_churn_level_display(),
            churn_summary(prediction.churn_reasons or []),
            prediction.value_at_stake,
            prediction.clv if prediction.clv is not None else "",
            round(prediction.p_alive, 3) if prediction.p_alive is not None else "",
            describe_next_action(prediction.next_action, prediction.next_action_reason),
            prediction.warned_on or "",
            getattr(prediction, "last_purchase", None) or "",
        ]


def follow_up_reasons(user: User, customer_ids: Iterable[int]) -> dict[int, str]:
    """The churn summary of each visible customer, as the reason of a call-back task."""
    rows = (
        visible_predictions(user)
        .filter(customer_id__in=list(customer_ids))
        .values_list("customer_id", "churn_risk", "churn_reasons")
    )
    reasons = {}
    for customer_id, risk, churn_reasons in rows:
        summary = churn_summary(churn_reasons or [])
        text = _("Churn risk %(risk)d") % {"risk": risk}
        reasons[customer_id] = f"{text}: {summary}" if summary else text
    return reasons


# --- the prediction panel of the customer page --------------------------------------------------


@dataclass(frozen=True)
class PredictionPanel:
    """What the customer page shows of a customer's prediction, already in words."""

    prediction: CustomerPrediction | None
    horizon_days: int
    clv_months: int
    p_alive_percent: int | None = None
    reasons: tuple[str, ...] = ()
    action: str = ""
    products: tuple[str, ...] = ()


def stored_scores(customer: Customer) -> tuple[CustomerMetrics | None, CustomerPrediction | None]:
    """The customer's metrics and prediction rows in one query (either may not exist yet). The
    customer must already have passed the permission layer."""
    row = (
        Customer.objects.select_related("metrics", "prediction")
        .only("pk", "metrics", "prediction")
        .get(pk=customer.pk)
    )
    return getattr(row, "metrics", None), getattr(row, "prediction", None)


def prediction_panel(prediction: CustomerPrediction | None) -> PredictionPanel:
    """The prediction in words, with the settings it was made with (one query) and the names of
    the recommended products (one more, only when there are some)."""
    if prediction is None:
        return PredictionPanel(prediction=None, horizon_days=0, clv_months=0)
    settings = PredictionSettings.current()
    return PredictionPanel(
        prediction=prediction,
        horizon_days=settings.horizon_days,
        clv_months=settings.clv_months,
        p_alive_percent=round(prediction.p_alive * 100) if prediction.p_alive is not None else None,
        reasons=tuple(describe_churn_reasons(prediction.churn_reasons or [])),
        action=describe_next_action(prediction.next_action, prediction.next_action_reason),
        products=tuple(product_names(prediction.recommended_products or [])),
    )


def product_names(product_ids: list[Any]) -> list[str]:
    """Names in the recommended order; products deleted since the refresh are left out."""
    ids = [value for value in (optional_int(str(item)) for item in product_ids) if value]
    if not ids:
        return []
    names = dict(Product.objects.filter(pk__in=ids).values_list("pk", "name"))
    return [names[product_id] for product_id in ids if product_id in names]
