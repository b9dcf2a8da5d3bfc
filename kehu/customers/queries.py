"""Reads of the customer archive, with the one permission layer every door goes through.

Pages, the API, imports and exports all start from `visible_customers(user)`; a customer
outside it answers 404. Contact details are masked by `mask_contacts` for roles that may not
see them, and `contact_search_q` keeps search from undoing the mask: a contact field the user
sees masked on a row matches only its whole normalised value.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from kehu.accounts.models import User
from kehu.accounts.permissions import may
from kehu.accounts.roles import Role, Scope
from kehu.core import lists
from kehu.core.lists import ListFilters
from kehu.customers.models import Customer, CustomerStatus, SourceChannel, Tag
from kehu.customers.validation import MOBILE_SEPARATORS, normalise_mobile

SORTABLE_FIELDS = {
    "name": "name",
    "-name": "-name",
    "created": "created_at",
    "-created": "-created_at",
    "followed_up": "last_followed_up_at",
    "-followed_up": "-last_followed_up_at",
    "city": "city",
    "-city": "-city",
}


def visible_customers(user: User) -> QuerySet[Customer]:
    """Every customer the user may see: all; the team's and the pool; or their own and the pool.

    Each row read comes out masked for the user (`mask_for`): on a page, in the API or an
    export, nothing more is needed; such a masked row refuses to be saved over its contacts."""
    customers = Customer.objects.seen_by(user, mask_for)
    if not user.is_authenticated or not user.is_active:
        return customers.none()
    scope = user.policy.scope
    if scope == Scope.ALL:
        return customers
    if scope == Scope.TEAM:
        if user.team_id is None:
            return customers.filter(Q(owner__isnull=True) | Q(owner=user))
        return customers.filter(Q(owner__isnull=True) | Q(owner__team_id=user.team_id))
    return customers.filter(Q(owner__isnull=True) | Q(owner=user))


def get_visible_customer(user: User, customer_id: int, related: Iterable[str] = ()) -> Customer:
    """The customer if the user may see it (else 404), with its owner, home store and the
    one-to-one relations named in `related`."""
    try:
        return (
            visible_customers(user)
            .select_related("owner", "home_store", *related)
            .get(pk=customer_id)
        )
    except (Customer.DoesNotExist, ValueError, TypeError):
        raise Http404("No customer matches the given query.") from None


def pool_customers(user: User) -> QuerySet[Customer]:
    return visible_customers(user).filter(owner__isnull=True)


@dataclass(frozen=True)
class CustomerFilters(ListFilters):
    search: str = lists.search(placeholder=_("Name, mobile or member number"))
    city: str = lists.text("city", max_length=30, label=_("City"))
    owner_id: int | None = lists.record_id("owner", label=_("Owner"), empty_label=_("Anyone"))
    in_pool: bool | None = lists.yes_no(
        "pool",
        label=_("Customer pool"),
        yes=_("In the pool"),
        no=_("Has an owner"),
        empty_label=_("Both"),
    )
    source_channel: str = lists.text(
        "source", max_length=20, label=_("Source"), options=SourceChannel.choices
    )
    status: str = lists.text(
        "status", max_length=10, label=_("Status"), options=CustomerStatus.choices
    )
    tag_id: int | None = lists.record_id("tag", label=_("Tag"))
    home_store_id: int | None = lists.record_id("store", label=_("Store"))
    sort: str = lists.sort(SORTABLE_FIELDS, default="-created")


def filter_customers(
    user: User, customers: QuerySet[Customer], filters: CustomerFilters
) -> QuerySet[Customer]:
    """Narrow `customers` by the filters; the search follows what `user` may see of contacts."""
    if filters.search:
        term = filters.search.strip()
        customers = customers.filter(
            Q(name__icontains=term) | Q(member_number=term) | contact_search_q(user, term)
        )
    if filters.city:
        customers = customers.filter(city=filters.city)
    if filters.owner_id is not None:
        customers = customers.filter(owner_id=filters.owner_id)
    if filters.in_pool is not None:
        customers = customers.filter(owner__isnull=filters.in_pool)
    if filters.source_channel:
        customers = customers.filter(source_channel=filters.source_channel)
    if filters.status:
        customers = customers.filter(status=filters.status)
    if filters.tag_id is not None:
        customers = customers.filter(tags__id=filters.tag_id)
    if filters.home_store_id is not None:
        customers = customers.filter(home_store_id=filters.home_store_id)
    order = SORTABLE_FIELDS.get(filters.sort, "-created_at")
    return customers.order_by(order, "-id")


def search_customers(user: User, filters: CustomerFilters) -> QuerySet[Customer]:
    """The customer list: visible, filtered, sorted, with owner and store joined in."""
    customers = filter_customers(user, visible_customers(user), filters)
    return customers.select_related("owner", "home_store").prefetch_related("tags")


def within_scope(user: User, customer: Customer) -> bool:
    """The record rule of `customer.edit` and `customer.see_contact` (registered by the app's
    ready()): salespeople act on their own customers only, the others on every one they see."""
    return user.policy.scope != Scope.OWN or customer.owner_id == user.pk


def logs_with(user: User, customer: Customer) -> bool:
    """The record rule of `customer.log_interaction`: salespeople log on their own customers."""
    return user.role != Role.SALES or customer.owner_id == user.pk


def contact_visible_q(user: User, prefix: str = "") -> Q:
    """The rows whose contact details the user sees in full: `customer.see_contact` as a condition.

    `prefix` reaches the customer from another model (`"customer__"` from a membership).
    """
    if not user.policy.sees_contact_details:
        return Q(**{f"{prefix}pk__in": []})
    if user.policy.scope == Scope.OWN:
        return Q(**{f"{prefix}owner_id": user.pk})
    return Q()


def contact_search_q(user: User, term: str, prefix: str = "") -> Q:
    """Customers whose mobile, email, WeChat ID or WeCom ID matches a search term.

    On a row whose contacts the user sees, any part matches (as people expect of a search box).
    On a row they see masked, only the whole normalised value does (`138 1234 5678` finds
    13812345678; `1381234` finds nothing), so a series of searches cannot rebuild what the mask
    hides. Every door that searches contacts (lists, API, exports, the member list) uses this.
    """
    term = term.strip()
    if not term:
        return Q(**{f"{prefix}pk__in": []})
    return whole_contact_q(term, prefix) | (
        contact_visible_q(user, prefix) & partial_contact_q(term, prefix)
    )


def whole_contact_q(term: str, prefix: str = "") -> Q:
    """A contact field equal to the whole term, normalised as the archive stores it."""
    condition = Q(**{f"{prefix}wechat_id": term}) | Q(**{f"{prefix}wecom_id": term})
    if "@" in term:
        condition |= Q(**{f"{prefix}email": term.lower()})
    mobile = normalised_mobile_term(term)
    if mobile:
        condition |= Q(**{f"{prefix}mobile": mobile})
    return condition


def partial_contact_q(term: str, prefix: str = "") -> Q:
    """A contact field containing the term anywhere (for rows whose contacts the user sees)."""
    condition = (
        Q(**{f"{prefix}email__icontains": term})
        | Q(**{f"{prefix}wechat_id__icontains": term})
        | Q(**{f"{prefix}wecom_id__icontains": term})
    )
    digits = MOBILE_SEPARATORS.sub("", term)
    if digits:
        condition |= Q(**{f"{prefix}mobile__contains": digits})
    return condition


def normalised_mobile_term(term: str) -> str:
    """The mobile a search term spells (`+86 138-1234-5678` → 13812345678), or ""."""
    try:
        return normalise_mobile(term)
    except ValidationError:
        return ""


def mask_mobile(mobile: str) -> str:
    if len(mobile) < 7:
        return "*" * len(mobile)
    return f"{mobile[:3]}****{mobile[-4:]}"


def mask_email(email: str) -> str:
    local, _at, domain = email.partition("@")
    if not domain:
        return "***"
    return f"{local[:1]}***@{domain}"


def mask_identifier(value: str) -> str:
    return f"{value[:2]}***" if value else ""


def mask_address(address: str) -> str:
    """The street line hidden whole: province, city and district (own fields) stay visible."""
    return "***" if address else ""


def mask_for(user: User, customer: Customer) -> None:
    """Mask one customer for `user` where they may not see its contact details: the contact
    fields hold the masks (mobile, email, WeChat, WeCom, street address) and the display_
    fields the same; on a row they see, the display_ fields are the values. The one
    implementation of masking: `visible_customers` applies it to every row it returns, and
    `mask_contacts` to customers reached through another record (an order, a membership)."""
    if getattr(customer, "contact_is_masked", False):
        return  # already masked: the real values are gone from this instance
    visible = may(user, "customer.see_contact", customer)
    if not visible:
        customer.mobile = mask_mobile(customer.mobile)
        customer.email = mask_email(customer.email) if customer.email else ""
        customer.wechat_id = mask_identifier(customer.wechat_id)
        customer.wecom_id = mask_identifier(customer.wecom_id)
        customer.address = mask_address(customer.address)
    customer.display_mobile = customer.mobile
    customer.display_email = customer.email
    customer.display_wechat_id = customer.wechat_id
    customer.display_wecom_id = customer.wecom_id
    customer.display_address = customer.address
    customer.contact_is_masked = not visible


def mask_contacts(user: User, customers: Iterable[Customer]) -> None:
    """`mask_for` each of customers read through another record (an order's, a member's)."""
    for customer in customers:
        mask_for(user, customer)


def tags_with_counts(user: User) -> QuerySet[Tag]:
    visible_ids = visible_customers(user).values("pk")
    return Tag.objects.select_related("group").annotate(
        customer_count=Count("customers", filter=Q(customers__in=visible_ids))
    )


def owned_count(user: User) -> int:
    return Customer.objects.filter(owner=user).count()


def staff_assignable_by(user: User) -> QuerySet[User]:
    staff = User.objects.filter(is_active=True, role__in=[Role.SALES, Role.MANAGER])
    if user.policy.scope == Scope.TEAM:
        staff = staff.filter(team=user.team)
    return staff.order_by("username")
