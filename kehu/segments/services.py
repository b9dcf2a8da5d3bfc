"""Writes of segments: preview, save, edit, delete, refresh the members of a rule, static lists.

Rule errors come back as a ValidationError whose keys are `rule` (the rule as a whole) or
`rule.<path>` (`rule.all.2.value`), next to `name`, `description` and `kind`.
"""

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.accounts.permissions import require
from kehu.core.errors import RuleViolation
from kehu.customers.models import Customer
from kehu.customers.queries import visible_customers
from kehu.segments.models import Segment, SegmentKind, SegmentMember, SegmentSnapshot
from kehu.segments.outbox import record_membership_changes
from kehu.segments.queries import get_visible_segment
from kehu.segments.rules import compile_rule, validate_rule

logger = logging.getLogger(__name__)

SAMPLE_IDS = 20
BATCH = 2000
MAX_LIST_CHANGE = 10000
EDITABLE_FIELDS = ("name", "description", "rule")


@dataclass(frozen=True)
class SegmentPreview:
    count: int
    sample: list[Customer]


@contextmanager
def rule_errors_under_rule() -> Iterator[None]:
    """Re-key a rule's ValidationError (`all.2.value`) as the segment's (`rule.all.2.value`)."""
    try:
        yield
    except ValidationError as error:
        raise ValidationError(
            {
                "rule" if path == NON_FIELD_ERRORS else f"rule.{path}": messages
                for path, messages in error.message_dict.items()
            }
        ) from None


def compiled(rule: Any, now: datetime | None = None) -> Q:
    with rule_errors_under_rule():
        return compile_rule(rule, now=now)


def preview_segment(
    actor: User, rule: Any, sample_size: int = 20, now: datetime | None = None
) -> SegmentPreview:
    """How many of the customers the actor may see the rule selects, and the biggest spenders."""
    customers = visible_customers(actor).filter(compiled(rule, now))
    sample = list(
        customers.select_related("owner", "home_store")
        .prefetch_related("tags")
        .order_by(F("metrics__monetary").desc(nulls_last=True), "pk")[: max(sample_size, 0)]
    )
    return SegmentPreview(count=customers.count(), sample=sample)


def managed_segment(actor: User, segment_id: int) -> Segment:
    """The segment (404 if unknown), if the actor may change it (its creator or an admin)."""
    segment = get_visible_segment(actor, segment_id)
    require(actor, "segment.use")
    require(actor, "segment.edit", segment)
    return segment


def cleaned_fields(fields: dict[str, Any], kind: str) -> dict[str, Any]:
    """Name, description and rule checked together, so every problem is reported at once."""
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    if "name" in fields:
        name = str(fields["name"] or "").strip()
        if not name or len(name) > 100:
            errors["name"] = [_("Enter a name of 1 to 100 characters.")]
        cleaned["name"] = name
    if "description" in fields:
        description = str(fields["description"] or "").strip()
        if len(description) > 2000:
            errors["description"] = [_("Enter at most 2000 characters.")]
        cleaned["description"] = description
    if "rule" in fields:
        if kind == SegmentKind.STATIC and fields["rule"]:
            errors["rule"] = [_("A static list has no rule: add customers to it instead.")]
        elif kind == SegmentKind.DYNAMIC:
            try:
                with rule_errors_under_rule():
                    cleaned["rule"] = validate_rule(fields["rule"])
            except ValidationError as error:
                errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    return cleaned


def create_segment(
    actor: User,
    *,
    name: str,
    description: str = "",
    kind: str = SegmentKind.DYNAMIC,
    rule: Any = None,
    now: datetime | None = None,
) -> Segment:
    """Save a segment; a dynamic one gets its members at once."""
    require(actor, "segment.use")
    if kind not in SegmentKind.values:
        raise ValidationError({"kind": [_("Choose dynamic or static.")]})
    fields = cleaned_fields({"name": name, "description": description, "rule": rule}, kind)
    with transaction.atomic():
        segment = Segment.objects.create(kind=kind, created_by=actor, **fields)
        if kind == SegmentKind.DYNAMIC:
            refresh_segment(segment.pk, now=now)
    segment.refresh_from_db()
    return segment


def update_segment(
    actor: User, segment_id: int, now: datetime | None = None, **fields: Any
) -> Segment:
    """Change name, description or rule; a changed rule re-selects the members at once."""
    segment = managed_segment(actor, segment_id)
    unknown = sorted(set(fields) - set(EDITABLE_FIELDS))
    if unknown:
        raise ValidationError({key: [_("This cannot be changed.")] for key in unknown})
    cleaned = cleaned_fields(fields, segment.kind)
    with transaction.atomic():
        for key, value in cleaned.items():
            setattr(segment, key, value)
        segment.save()
        if "rule" in cleaned and segment.kind == SegmentKind.DYNAMIC:
            refresh_segment(segment.pk, now=now)
    segment.refresh_from_db()
    return segment


def delete_segment(actor: User, segment_id: int) -> None:
    managed_segment(actor, segment_id).delete()


def refresh_segment(segment_id: int, now: datetime | None = None) -> SegmentSnapshot | None:
    """Evaluate a dynamic segment over all customers and record who joined and left.

    Returns None for a static list, an unknown id, or a rule that no longer compiles (a custom
    attribute or category it named was deleted): its members stay as they were.
    """
    now = now or timezone.now()
    with transaction.atomic():
        segment = Segment.objects.select_for_update().filter(pk=segment_id).first()
        if segment is None or segment.kind != SegmentKind.DYNAMIC:
            return None
        try:
            rule = compile_rule(segment.rule, now=now)
        except ValidationError as error:
            logger.warning("Segment %s has a rule that no longer applies: %s", segment_id, error)
            return None
        matched = set(Customer.objects.filter(rule).values_list("pk", flat=True))
        current = set(segment.members.values_list("customer_id", flat=True))
        joined, left = sorted(matched - current), sorted(current - matched)
        add_members(segment, joined, now)
        remove_members(segment, left)
        Segment.objects.filter(pk=segment.pk).update(member_count=len(matched), refreshed_at=now)
        return SegmentSnapshot.objects.create(
            segment=segment,
            taken_at=now,
            member_count=len(matched),
            joined_count=len(joined),
            left_count=len(left),
            joined_sample=joined[:SAMPLE_IDS],
            left_sample=left[:SAMPLE_IDS],
        )


def refresh_segment_now(actor: User, segment_id: int) -> SegmentSnapshot:
    """A refresh someone asked for (any role that manages segments may ask)."""
    segment = get_visible_segment(actor, segment_id)
    require(actor, "segment.use")
    if segment.kind != SegmentKind.DYNAMIC:
        raise RuleViolation(_("A static list has no rule to refresh."), code="is_static")
    snapshot = refresh_segment(segment.pk)
    if snapshot is None:
        raise RuleViolation(
            _("The rule names something that no longer exists: edit the rule."),
            code="rule_outdated",
        )
    return snapshot


def refresh_all_segments(now: datetime | None = None) -> int:
    """Refresh every dynamic segment; returns how many were refreshed."""
    now = now or timezone.now()
    ids = Segment.objects.filter(kind=SegmentKind.DYNAMIC).values_list("pk", flat=True)
    return sum(refresh_segment(segment_id, now=now) is not None for segment_id in list(ids))


def add_members(segment: Segment, customer_ids: list[int], now: datetime) -> None:
    SegmentMember.objects.bulk_create(
        (SegmentMember(segment=segment, customer_id=pk, joined_at=now) for pk in customer_ids),
        batch_size=BATCH,
        ignore_conflicts=True,
    )
    for start in range(0, len(customer_ids), BATCH):
        record_membership_changes("segment.joined", segment.pk, customer_ids[start : start + BATCH])


def remove_members(segment: Segment, customer_ids: list[int]) -> None:
    for start in range(0, len(customer_ids), BATCH):
        chunk = customer_ids[start : start + BATCH]
        SegmentMember.objects.filter(segment=segment, customer_id__in=chunk).delete()
        record_membership_changes("segment.left", segment.pk, chunk)


def static_list(actor: User, segment_id: int) -> Segment:
    segment = managed_segment(actor, segment_id)
    if segment.kind != SegmentKind.STATIC:
        raise RuleViolation(
            _("Members of a dynamic segment follow its rule; only static lists are edited."),
            code="not_static",
        )
    return segment


def visible_ids(actor: User, customer_ids: Iterable[Any]) -> set[int]:
    """The given ids of customers the actor may see; others are ignored, never revealed."""
    wanted = {int(pk) for pk in customer_ids if isinstance(pk, int) and not isinstance(pk, bool)}
    if len(wanted) > MAX_LIST_CHANGE:
        raise ValidationError(
            {
                "customer_ids": [
                    _("At most %(limit)d customers at once.") % {"limit": MAX_LIST_CHANGE}
                ]
            }
        )
    return set(visible_customers(actor).filter(pk__in=wanted).values_list("pk", flat=True))


def add_to_static_segment(actor: User, segment_id: int, customer_ids: Iterable[Any]) -> int:
    """Add customers the actor may see to a static list; returns how many were new."""
    segment = static_list(actor, segment_id)
    with transaction.atomic():
        present = set(segment.members.values_list("customer_id", flat=True))
        new = sorted(visible_ids(actor, customer_ids) - present)
        add_members(segment, new, timezone.now())
        update_count(segment)
    return len(new)


def remove_from_static_segment(actor: User, segment_id: int, customer_ids: Iterable[Any]) -> int:
    """Remove customers the actor may see from a static list; returns how many were removed."""
    segment = static_list(actor, segment_id)
    with transaction.atomic():
        present = set(segment.members.values_list("customer_id", flat=True))
        gone = sorted(visible_ids(actor, customer_ids) & present)
        remove_members(segment, gone)
        update_count(segment)
    return len(gone)


def update_count(segment: Segment) -> None:
    count = segment.members.count()
    Segment.objects.filter(pk=segment.pk).update(member_count=count)
    segment.member_count = count
