"""Writes to the customer archive: create, update, tag, duplicate check and merge."""

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.accounts.permissions import may, require
from kehu.core.errors import RuleViolation
from kehu.customers.merging import merge_snapshots, run_merge_handlers
from kehu.customers.models import Customer, CustomerMerge, OwnershipAction, OwnershipChange, Tag
from kehu.customers.outbox import (
    record_customer_created,
    record_customer_merged,
    record_customer_updated,
)
from kehu.customers.queries import get_visible_customer, visible_customers
from kehu.customers.validation import clean_customer_fields, clean_one_line


@dataclass(frozen=True)
class DuplicateMatch:
    customer_id: int
    name: str
    reason: str


class DuplicateCustomer(RuleViolation):
    """A customer with the same mobile, email or name and birthday already exists."""


def find_duplicates(
    *,
    mobile: str = "",
    email: str = "",
    name: str = "",
    birthday: date | None = None,
    exclude_id: int | None = None,
) -> list[DuplicateMatch]:
    """Customers sharing a mobile, an email, or a name together with a birthday (客户查重)."""
    conditions = Q(pk__in=[])
    if mobile:
        conditions |= Q(mobile=mobile)
    if email:
        conditions |= Q(email=email)
    if name and birthday:
        conditions |= Q(name=name, birthday=birthday)
    candidates = Customer.objects.filter(conditions)
    if exclude_id is not None:
        candidates = candidates.exclude(pk=exclude_id)
    return [
        DuplicateMatch(customer.pk, customer.name, duplicate_reason(customer, mobile, email))
        for customer in candidates.only("pk", "name", "mobile", "email")[:10]
    ]


def duplicate_reason(customer: Customer, mobile: str, email: str) -> str:
    if mobile and customer.mobile == mobile:
        return _("same mobile")
    if email and customer.email == email:
        return _("same email")
    return _("same name and birthday")


def raise_if_duplicate(
    actor: User,
    fields: Mapping[str, Any],
    exclude_id: int | None = None,
    *,
    allow_duplicate: bool = False,
) -> None:
    """Refuse the change if it duplicates a customer; only matches the actor may see are named.

    `allow_duplicate` (the actor says it is a different person) passes only the matches the
    actor could take charge of: customers in the pool and customers they may edit (their own
    for a salesperson, the team's for a manager, anyone's for an administrator). A match that
    someone else follows is never passed, or a salesperson could copy a colleague's customer
    into their own list: the refusal says who follows it, so the actor can ask for a transfer.
    """
    matches = find_duplicates(
        mobile=fields.get("mobile", ""),
        email=fields.get("email", ""),
        name=fields.get("name", ""),
        birthday=fields.get("birthday"),
        exclude_id=exclude_id,
    )
    if not matches:
        return
    match_ids = [match.customer_id for match in matches]
    visible = visible_customers(actor).filter(pk__in=match_ids)
    visible_ids = set(visible.values_list("pk", flat=True))
    followers = followers_elsewhere(actor, match_ids, visible_ids)
    if allow_duplicate and not followers:
        return
    shown = [asdict(match) for match in matches if match.customer_id in visible_ids]
    raise DuplicateCustomer(
        duplicate_message(shown, followers),
        code="duplicate_of_another_owner" if allow_duplicate else "duplicate_customer",
        details={
            "matches": shown,
            "hidden_matches": len(matches) - len(shown),
            "can_force": not followers,
        },
    )


def followers_elsewhere(actor: User, match_ids: list[int], visible_ids: set[int]) -> list[str]:
    """Who follows the matches the actor could not take charge of (neither pool nor theirs)."""
    names = set()
    for customer in Customer.objects.filter(pk__in=match_ids).select_related("owner"):
        owner = customer.owner
        if owner is None or (customer.pk in visible_ids and may(actor, "customer.edit", customer)):
            continue
        names.add(owner.display_name or owner.username)
    return sorted(names)


def duplicate_message(shown: list[dict[str, Any]], followers: list[str]) -> str:
    if followers:
        return _(
            "This customer already exists and is followed by %(followers)s. Ask them or a "
            "manager to transfer the customer to you instead of creating a second record."
        ) % {"followers": "、".join(followers)}
    if shown:
        return _("Possible duplicate of customer #%(id)s %(name)s (%(reason)s).") % {
            "id": shown[0]["customer_id"],
            "name": shown[0]["name"],
            "reason": shown[0]["reason"],
        }
    return _("A customer with the same mobile, email or name and birthday already exists.")


def raise_if_member_number_taken(member_number: str | None, exclude_id: int | None) -> None:
    if member_number and (
        Customer.objects.filter(member_number=member_number).exclude(pk=exclude_id or 0).exists()
    ):
        raise RuleViolation(
            _("Member number %(number)s is already in use.") % {"number": member_number},
            code="member_number_taken",
            details={"field": "member_number"},
        )


def create_customer(
    actor: User,
    raw_fields: Mapping[str, Any],
    *,
    tag_names: Iterable[str] = (),
    allow_duplicate: bool = False,
) -> Customer:
    """Create a customer owned by the actor if they may claim customers, else placed in the pool.

    A duplicate (same mobile, email, or name and birthday) is refused; `allow_duplicate`
    creates it anyway only past matches the actor could take charge of (see
    `raise_if_duplicate`), never past a customer someone else follows.
    """
    require(actor, "customer.create")
    fields = clean_customer_fields(raw_fields, partial=False)
    raise_if_member_number_taken(fields.get("member_number"), None)
    raise_if_duplicate(actor, fields, allow_duplicate=allow_duplicate)
    with transaction.atomic():
        customer = Customer(**fields)
        if may(actor, "customer.claim"):
            customer.owner = actor
            customer.owned_since = timezone.now()
        customer.save()
        set_tags(customer, tag_names)
        if customer.owner_id:
            OwnershipChange.objects.create(
                customer=customer, action=OwnershipAction.ASSIGN, new_owner=actor, actor=actor
            )
        record_customer_created(customer)
    return customer


def update_customer(actor: User, customer_id: int, raw_fields: Mapping[str, Any]) -> Customer:
    customer = get_visible_customer(actor, customer_id)
    require(actor, "customer.edit", customer)
    fields = clean_customer_fields(raw_fields, partial=True)
    raise_if_member_number_taken(fields.get("member_number"), customer.pk)
    identity_changes = {
        key: value
        for key, value in fields.items()
        if key in {"mobile", "email"} and value and value != getattr(customer, key)
    }
    if identity_changes:
        raise_if_duplicate(actor, identity_changes, exclude_id=customer.pk)
    changed = [key for key, value in fields.items() if getattr(customer, key) != value]
    for key, value in fields.items():
        setattr(customer, key, value)
    with transaction.atomic():
        customer.save()
        record_customer_updated(customer.pk, changed)
    return customer


def set_tags(customer: Customer, tag_names: Iterable[str]) -> None:
    """Replace the customer's tags, creating tags that do not exist yet."""
    names = sorted({clean_one_line(name)[:50] for name in tag_names} - {""})
    existing = {tag.name: tag for tag in Tag.objects.filter(name__in=names)}
    missing = [Tag(name=name) for name in names if name not in existing]
    Tag.objects.bulk_create(missing, ignore_conflicts=True)
    customer.tags.set(Tag.objects.filter(name__in=names))


def tag_customer(actor: User, customer_id: int, tag_names: Iterable[str]) -> Customer:
    customer = get_visible_customer(actor, customer_id)
    require(actor, "customer.edit", customer)
    with transaction.atomic():
        before = set(customer.tags.values_list("name", flat=True))
        set_tags(customer, tag_names)
        if set(customer.tags.values_list("name", flat=True)) != before:
            record_customer_updated(customer.pk, ["tags"])
    return customer


FILLABLE_ON_MERGE = (
    "gender", "birthday", "mobile", "email", "wechat_id", "wecom_id", "province", "city",
    "district", "address", "occupation", "income_band", "home_store_id", "member_number",
)  # fmt: skip


def merge_customers(actor: User, kept_id: int, merged_id: int) -> CustomerMerge:
    """Fold one customer into another: the merged customer's orders, ownership history, tags and
    earlier merges into it move over, and so does what the other apps keep of it (their merge
    handlers, see `kehu.customers.merging`: interactions, call-backs, lifecycle and churn-level
    history, static lists, the loyalty records)."""
    if kept_id == merged_id:
        raise RuleViolation(_("A customer cannot be merged into itself."), code="merge_self")
    kept = get_visible_customer(actor, kept_id)
    merged = get_visible_customer(actor, merged_id)
    require(actor, "customer.edit", kept)
    require(actor, "customer.edit", merged)
    with transaction.atomic():
        snapshot = {**snapshot_of(merged), **merge_snapshots(merged)}
        moved = run_merge_handlers(kept, merged, actor)
        fill_blank_fields(kept, merged)
        kept.tags.add(*merged.tags.all())
        merged.delete()
        kept.save()
        record_customer_merged(kept.pk, merged_id)
        return CustomerMerge.objects.create(
            kept=kept,
            merged_into_id=kept.pk,
            merged_customer_id=merged_id,
            merged_snapshot=snapshot,
            moved_counts=moved,
            merged_by=actor,
        )


def move_customer_records(kept: Customer, merged: Customer, actor: User | None) -> dict[str, int]:
    """The customers app's own merge handler (registered first, so it runs first). Orders are
    moved here until the commerce app registers a handler of its own."""
    return {
        "orders": merged.orders.update(customer=kept),
        "ownership_changes": merged.ownership_changes.update(customer=kept),
        "tags": merged.tags.count(),
        # Earlier merges into the merged customer follow the data to the kept customer.
        "merges": merged.merges.update(kept=kept),
    }


def fill_blank_fields(kept: Customer, merged: Customer) -> None:
    for field in FILLABLE_ON_MERGE:
        if not getattr(kept, field) and getattr(merged, field):
            value = getattr(merged, field)
            if field == "member_number":
                merged.member_number = None
                merged.save(update_fields=["member_number"])
            setattr(kept, field, value)
    if not kept.notes:
        kept.notes = merged.notes
    kept.interests = sorted(set(kept.interests) | set(merged.interests))
    kept.custom_attributes = {**merged.custom_attributes, **kept.custom_attributes}


def snapshot_of(customer: Customer) -> dict[str, Any]:
    snapshot: dict[str, Any] = {}
    for field in customer._meta.concrete_fields:
        value = getattr(customer, field.attname)
        snapshot[field.attname] = value.isoformat() if hasattr(value, "isoformat") else value
    snapshot["tags"] = list(customer.tags.values_list("name", flat=True))
    return snapshot
