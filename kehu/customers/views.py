"""Customer pages: the list, the customer page (客户360), create/edit, the pool and the actions
on one customer. Every read starts from the permission layer in `kehu.customers.queries`; every
write is one service call through `kehu.core.outcomes.call_service`."""

from dataclasses import replace
from functools import partial
from typing import Any

from django.contrib import messages
from django.db.models import Count, Max, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from kehu.accounts.models import PoolPolicy, User
from kehu.accounts.permissions import may, require
from kehu.accounts.roles import Scope
from kehu.commerce.models import Store
from kehu.core.lists import list_context, options_of, paginate, read_list
from kehu.core.outcomes import call_service, redirect_back
from kehu.customers.creation import create_with_extras
from kehu.customers.forms import (
    SERVICE_TO_FORM_FIELDS,
    CustomerForm,
    MergeForm,
    NewCustomerForm,
    ReleaseForm,
    TagsForm,
    TransferForm,
    split_names,
)
from kehu.customers.models import (
    CustomAttribute,
    Customer,
    Tag,
)
from kehu.customers.panels import customer_panels, panel_relations
from kehu.customers.pool import claim_customer, release_customer, transfer_customer
from kehu.customers.queries import (
    CustomerFilters,
    get_visible_customer,
    owned_count,
    search_customers,
    staff_assignable_by,
    visible_customers,
)
from kehu.customers.services import (
    DuplicateCustomer,
    create_customer,
    find_duplicates,
    merge_customers,
    tag_customer,
    update_customer,
)


def owner_choices(user: User) -> list[User]:
    """Whose customers the owner filter offers: a salesperson only sees their own."""
    if user.policy.scope == Scope.OWN:
        return [user]
    return list(staff_assignable_by(user))


@require_GET
def customer_list(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    filters = read_list(request, CustomerFilters)
    page = paginate(request, search_customers(user, filters))
    customers = list(page.object_list)
    options = {"owner": options_of(owner_choices(user)), **pool_filter_options()}
    context = list_context(page, filters, options, customers=customers, section="customers")
    return render(request, "customers/list.html", context)


def pool_filter_options() -> dict[str, list[tuple[str, Any]]]:
    return {
        "tag": options_of(Tag.objects.only("pk", "name"), label=lambda tag: tag.name),
        "store": options_of(Store.objects.only("pk", "name"), label=lambda store: store.name),
    }


@require_GET
def customer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    customer = get_visible_customer(user, pk, related=panel_relations())
    context = detail_context(user, customer)
    panels, panel_context = customer_panels(request, customer, [*context, "panels"])
    return render(request, "customers/detail.html", {**context, **panel_context, "panels": panels})


def detail_context(user: User, customer: Customer) -> dict[str, Any]:
    """What the customer page (客户360) shows of the customer itself, in a fixed number of
    queries; the other apps' panels come from `kehu.customers.panels`."""
    orders = customer.orders.select_related("channel", "store").prefetch_related("lines")
    totals = customer.orders.aggregate(
        count=Count("pk"),
        total=Sum("total_amount"),
        refunded=Sum("refunded_amount"),
        last=Max("ordered_at"),
    )
    can_transfer = may(user, "customer.transfer")
    return {
        "customer": customer,
        "has_orders": totals["count"] > 0,
        "tags": list(customer.tags.all()),
        "attributes": attribute_values(customer),
        "ownership_changes": customer.ownership_changes.select_related(
            "previous_owner", "new_owner", "actor"
        )[:20],
        "orders": orders.order_by("-ordered_at")[:20],
        "totals": totals,
        "can_edit": may(user, "customer.edit", customer),
        "can_log": may(user, "customer.log_interaction", customer),
        "can_claim": customer.is_in_pool and may(user, "customer.claim"),
        "can_release": not customer.is_in_pool and (customer.owner_id == user.pk or can_transfer),
        "can_transfer": can_transfer,
        "tags_form": TagsForm(initial={"tags": ", ".join(tag.name for tag in customer.tags.all())}),
        "release_form": ReleaseForm(),
        "transfer_form": TransferForm(staff=staff_assignable_by(user)) if can_transfer else None,
        "section": "customers",
    }


def attribute_values(customer: Customer) -> list[tuple[str, Any]]:
    values = customer.custom_attributes or {}
    return [
        (attribute.label, values.get(attribute.key))
        for attribute in CustomAttribute.objects.all()
        if values.get(attribute.key) not in (None, "")
    ]


def customer_form_page(
    request: HttpRequest,
    form: CustomerForm,
    customer: Customer | None,
    duplicates: dict[str, Any] | None,
) -> HttpResponse:
    context = {
        "form": form,
        "customer": customer,
        "duplicates": duplicates,
        "section": "customers",
    }
    return render(request, "customers/form.html", context)


def duplicate_warning(error: Exception | None) -> dict[str, Any] | None:
    """The matches of a duplicate refusal (the service names only customers the user may see),
    and whether the user may create the customer anyway."""
    if not isinstance(error, DuplicateCustomer):
        return None
    return {
        "matches": error.details.get("matches", []),
        "hidden_matches": error.details.get("hidden_matches", 0),
        "can_force": error.details.get("can_force", True),
        "message": error.message,
    }


def customer_create(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    require(user, "customer.create")
    attributes = list(CustomAttribute.objects.all())
    form = NewCustomerForm(request.POST or None, attributes=attributes)
    if request.method != "POST" or not form.is_valid():
        return customer_form_page(request, form, None, None)
    create = partial(
        create_customer,
        user,
        form.service_fields(),
        tag_names=split_names(form.cleaned_data["tags"]),
        allow_duplicate=form.cleaned_data["allow_duplicate"],
    )
    outcome = call_service(
        request,
        create_with_extras,
        user,
        {"referral_code": form.cleaned_data["referral_code"]},
        create,
        form=form,
        field_names=SERVICE_TO_FORM_FIELDS,
    )
    if not outcome.succeeded:
        return customer_form_page(request, form, None, duplicate_warning(outcome.error))
    customer, notes = outcome.value
    messages.success(request, _("Customer %(name)s was created.") % {"name": customer.name})
    for note in notes:
        messages.info(request, note)
    return redirect("customers:detail", pk=customer.pk)


def customer_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    customer = get_visible_customer(user, pk)
    require(user, "customer.edit", customer)
    attributes = list(CustomAttribute.objects.all())
    form = CustomerForm(
        request.POST or None, initial=CustomerForm.initial_from(customer), attributes=attributes
    )
    if request.method != "POST" or not form.is_valid():
        return customer_form_page(request, form, customer, None)
    outcome = call_service(
        request,
        update_customer,
        user,
        customer.pk,
        form.service_fields(),
        form=form,
        field_names=SERVICE_TO_FORM_FIELDS,
    )
    if not outcome.succeeded:
        return customer_form_page(request, form, customer, duplicate_warning(outcome.error))
    messages.success(request, _("The changes were saved."))
    return redirect("customers:detail", pk=customer.pk)


@require_GET
def pool(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    asked = read_list(request, CustomerFilters)
    filters = replace(asked, in_pool=True)
    page = paginate(request, search_customers(user, filters))
    customers = list(page.object_list)
    context = list_context(
        page,
        filters,
        pool_filter_options(),
        hide=("owner", "pool"),
        customers=customers,
        is_filtered=replace(asked, in_pool=None).is_filtered,
        section="pool",
        **claim_quota(user),
    )
    return render(request, "customers/pool.html", context)


def claim_quota(user: User) -> dict[str, Any]:
    if not may(user, "customer.claim"):
        return {"can_claim": False}
    limit = PoolPolicy.current().claim_limit
    return {
        "can_claim": True,
        "claim_limit": limit,
        "claims_left": max(limit - owned_count(user), 0),
    }


@require_POST
def claim(request: HttpRequest, pk: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    outcome = call_service(request, claim_customer, user, pk)
    if request.htmx:  # type: ignore[attr-defined]
        customer = get_visible_customer(user, pk)  # as the user sees it now, claimed or not
        # The refusal is shown in the row itself, so it must not linger for the next page.
        row_errors = [str(message) for message in messages.get_messages(request)]
        context = {
            "customer": customer,
            "claimed": outcome.succeeded,
            "row_errors": row_errors,
            **claim_quota(user),
        }
        return render(request, "customers/partials/pool_row.html", context)
    if outcome.succeeded:
        messages.success(request, _("%(name)s is now your customer.") % {"name": outcome.value})
    return back_to_customer(request, pk)


@require_POST
def release(request: HttpRequest, pk: int) -> HttpResponse:
    form = ReleaseForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    outcome = call_service(request, release_customer, request.user, pk, reason)
    if outcome.succeeded:
        messages.success(request, _("The customer went back to the pool."))
    return back_to_customer(request, pk)


@require_POST
def transfer(request: HttpRequest, pk: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    require(user, "customer.transfer")
    form = TransferForm(request.POST, staff=staff_assignable_by(user))
    if not form.is_valid():
        messages.error(request, _("Choose the new owner from the list."))
        return back_to_customer(request, pk)
    data = form.cleaned_data
    outcome = call_service(
        request, transfer_customer, user, pk, data["new_owner"].pk, data["reason"]
    )
    if outcome.succeeded:
        messages.success(
            request, _("The customer now belongs to %(owner)s.") % {"owner": data["new_owner"]}
        )
    return back_to_customer(request, pk)


@require_POST
def edit_tags(request: HttpRequest, pk: int) -> HttpResponse:
    form = TagsForm(request.POST)
    names = split_names(form.cleaned_data["tags"]) if form.is_valid() else []
    outcome = call_service(request, tag_customer, request.user, pk, names)
    if outcome.succeeded:
        messages.success(request, _("The tags were saved."))
    return back_to_customer(request, pk)


@require_GET
def duplicates(request: HttpRequest, pk: int) -> HttpResponse:
    """Customers who may be the same person (客户查重), among those the user may see."""
    user: User = request.user  # type: ignore[assignment]
    customer = get_visible_customer(user, pk)
    matches = find_duplicates(
        mobile=customer.mobile,
        email=customer.email,
        name=customer.name,
        birthday=customer.birthday,
        exclude_id=customer.pk,
    )
    visible = visible_customers(user).filter(pk__in=[match.customer_id for match in matches])
    visible_ids = set(visible.values_list("pk", flat=True))
    context = {
        "customer": customer,
        "matches": [match for match in matches if match.customer_id in visible_ids],
        "can_edit": may(user, "customer.edit", customer),
    }
    return render(request, "customers/partials/duplicates.html", context)


@require_POST
def merge(request: HttpRequest, pk: int) -> HttpResponse:
    form = MergeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose the customer to merge."))
        return back_to_customer(request, pk)
    outcome = call_service(
        request, merge_customers, request.user, pk, form.cleaned_data["merged_id"]
    )
    if outcome.succeeded:
        messages.success(
            request,
            _("Customer #%(merged)s was merged into this one.")
            % {"merged": form.cleaned_data["merged_id"]},
        )
    return back_to_customer(request, pk)


def back_to_customer(request: HttpRequest, pk: int) -> HttpResponse:
    return redirect_back(request, reverse("customers:detail", args=[pk]))
