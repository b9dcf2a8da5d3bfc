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
from kehu.core.errors import NotAllowed, RuleViolation
from kehu.customers.models import Customer, CustomerMerge, OwnershipAction, OwnershipChange, Tag
from kehu.customers.queries import get_visible_customer, may_edit, visible_customers
from kehu.customers.validation import clean_customer_fields, clean_one_line
from kehu.engagement.models import FollowUpStatus
from kehu.loyalty.merging import membership_snapshot, merge_loyalty
from kehu.segments.models import Segment, SegmentKind, SegmentMember
from kehu.segments.services import update_count
from kehu.segments.tasks import refresh_customer_metrics_task


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
    actor: User, fields: Mapping[str, Any], exclude_id: int | None = None
) -> None:
    """Refuse the change if it duplicates a customer; only matches the actor may see are named."""
    matches = find_duplicates(
        mobile=fields.get("mobile", ""),
        email=fields.get("email", ""),
        name=fields.get("name", ""),
        birthday=fields.get("birthday"),
        exclude_id=exclude_id,
    )
    if not matches:
        return
    visible_ids = set(
        visible_customers(actor)
        .filter(pk__in=[match.customer_id for match in matches])
        .values_list("pk", flat=True)
    )
    shown = [asdict(match) for match in matches if match.customer_id in visible_ids]
    if shown:
        message = _("Possible duplicate of customer #%(id)s %(name)s (%(reason)s).") % {
            "id": shown[0]["customer_id"],
            "name": shown[0]["name"],
            "reason": shown[0]["reason"],
        }
    else:
        message = _("A customer with the same mobile, email or name and birthday already exists.")
    raise DuplicateCustomer(
        message,
        code="duplicate_customer",
        details={"matches": shown, "hidden_matches": len(matches) - len(shown)},
    )


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
    """Create a customer owned by the actor if they are a salesperson, else placed in the pool."""
    if not actor.policy.can_edit_customers:
        raise NotAllowed(_("Your role may not create customers."), code="not_allowed")
    fields = clean_customer_fields(raw_fields, partial=False)
    raise_if_member_number_taken(fields.get("member_number"), None)
    if not allow_duplicate:
        raise_if_duplicate(actor, fields)
    with transaction.atomic():
        customer = Customer(**fields)
        if actor.policy.can_claim:
            customer.owner = actor
            customer.owned_since = timezone.now()
        customer.save()
        set_tags(customer, tag_names)
        if customer.owner_id:
            OwnershipChange.objects.create(
                customer=customer, action=OwnershipAction.ASSIGN, new_owner=actor, actor=actor
            )
    return customer


def update_customer(actor: User, customer_id: int, raw_fields: Mapping[str, Any]) -> Customer:
    customer = get_visible_customer(actor, customer_id)
    if not may_edit(actor, customer):
        raise NotAllowed(_("You may not edit this customer."), code="not_allowed")
    fields = clean_customer_fields(raw_fields, partial=True)
    raise_if_member_number_taken(fields.get("member_number"), customer.pk)
    identity_changes = {
        key: value
        for key, value in fields.items()
        if key in {"mobile", "email"} and value and value != getattr(customer, key)
    }
    if identity_changes:
        raise_if_duplicate(actor, identity_changes, exclude_id=customer.pk)
    for key, value in fields.items():
        setattr(customer, key, value)
    customer.save()
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
    if not may_edit(actor, customer):
        raise NotAllowed(_("You may not edit this customer."), code="not_allowed")
    set_tags(customer, tag_names)
    return customer


FILLABLE_ON_MERGE = (
    "gender", "birthday", "mobile", "email", "wechat_id", "wecom_id", "province", "city",
    "district", "address", "occupation", "income_band", "home_store_id", "member_number",
)  # fmt: skip


def merge_customers(actor: User, kept_id: int, merged_id: int) -> CustomerMerge:
    """Fold one customer into another: orders, interactions, call-backs, tags, history and the
    loyalty records (membership, points, coupons, referrals, group deals) move over."""
    if kept_id == merged_id:
        raise RuleViolation(_("A customer cannot be merged into itself."), code="merge_self")
    kept = get_visible_customer(actor, kept_id)
    merged = get_visible_customer(actor, merged_id)
    if not (may_edit(actor, kept) and may_edit(actor, merged)):
        raise NotAllowed(_("You may not edit both customers."), code="not_allowed")
    with transaction.atomic():
        snapshot = snapshot_of(merged)
        membership = membership_snapshot(merged)
        if membership is not None:
            snapshot["membership"] = membership
        moved = move_related_records(merged, kept)
        moved.update(merge_loyalty(kept, merged, actor))
        static_lists = static_segments_of(merged)
        moved["static_segments"] = move_static_segment_memberships(merged, kept)
        fill_blank_fields(kept, merged)
        kept.tags.add(*merged.tags.all())
        merged.delete()
        for segment in static_lists:
            update_count(segment)
        kept.save()
        transaction.on_commit(lambda: refresh_customer_metrics_task.enqueue(kept.pk))
        return CustomerMerge.objects.create(
            kept=kept,
            merged_customer_id=merged_id,
            merged_snapshot=snapshot,
            moved_counts=moved,
            merged_by=actor,
        )


def move_related_records(source: Customer, target: Customer) -> dict[str, int]:
    return {
        "orders": source.orders.update(customer=target),
        "interactions": source.interactions.update(customer=target),
        "follow_ups": move_follow_ups(source, target),
        "ownership_changes": source.ownership_changes.update(customer=target),
        "tags": source.tags.count(),
    }


def move_follow_ups(source: Customer, target: Customer) -> int:
    """Planned call-backs move with the interactions. One open call-back per source is allowed:
    where both customers have one, the merged customer's is cancelled and the kept plan stands."""
    kept_sources = target.follow_ups.filter(status=FollowUpStatus.OPEN).values("source")
    source.follow_ups.filter(status=FollowUpStatus.OPEN, source__in=kept_sources).update(
        status=FollowUpStatus.CANCELLED, closed_at=timezone.now()
    )
    return source.follow_ups.update(customer=target)


def static_segments_of(customer: Customer) -> list[Segment]:
    return list(Segment.objects.filter(kind=SegmentKind.STATIC, members__customer=customer))


def move_static_segment_memberships(source: Customer, target: Customer) -> int:
    """The merged customer's places on static lists pass to the kept customer (where the kept
    one is not on the list already); dynamic segments find the kept customer at their next
    refresh."""
    already = SegmentMember.objects.filter(customer=target).values("segment_id")
    return (
        SegmentMember.objects.filter(customer=source, segment__kind=SegmentKind.STATIC)
        .exclude(segment_id__in=already)
        .update(customer=target)
    )


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
