"""Staff adjustments of a member's points (积分调整): a correction up or down, with a reason,
within the maker's limits (kehu/loyalty/approvals/limits.py); above them the adjustment waits for
a second person's approval (kehu/loyalty/approvals/services.py) and nothing moves in the ledger."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.accounts.permissions import require
from kehu.core.errors import RuleViolation
from kehu.loyalty.approvals.limits import approval_needed, check_adjustment_size
from kehu.loyalty.approvals.requests import approval_with_key, request_approval
from kehu.loyalty.approvals.services import alert_after_adjustment
from kehu.loyalty.members.services import visible_membership
from kehu.loyalty.models import ApprovalRequest, Membership, PointsEntry, PointsKind, PointsSource
from kehu.loyalty.points.services import (
    EntryFields,
    add_points,
    check_same_request,
    entry_with_key,
    lock_membership,
    scoped_key,
    take_points,
)


@dataclass(frozen=True)
class Adjustment:
    """The entry written, or (``entry`` None) the request waiting for approval."""

    entry: PointsEntry | None
    created: bool  # False: the idempotency key answered an earlier adjustment
    approval: ApprovalRequest | None = None


def adjust_points(
    actor: User,
    customer_id: int,
    points: int,
    reason: str,
    *,
    idempotency_key: str,
    now: datetime.datetime | None = None,
) -> Adjustment:
    """A staff correction, up or down, with a reason; the entry records who made it (the audit).
    Taking more than the balance is refused. Above the maker's limits (per adjustment, per
    business day) it becomes a request for approval instead. The same key again answers the
    first adjustment (or request)."""
    require(actor, "points.adjust")
    membership = visible_membership(actor, customer_id)
    reason = reason.strip()
    check_adjustment(points, reason)
    now = now or timezone.now()
    key = scoped_key(actor, idempotency_key)
    with transaction.atomic():
        lock_person(actor)
        locked = lock_membership(membership.pk)
        earlier = earlier_adjustment(key, locked, points)
        if earlier is not None:
            return earlier
        why = approval_needed(actor, points, now)
        if why:
            approval = request_approval(
                actor, locked, points, reason, idempotency_key=key, why=why, now=now
            )
            return Adjustment(None, created=True, approval=approval)
        entry = write_adjustment(
            locked,
            points,
            EntryFields(PointsKind.ADJUST, PointsSource.STAFF, reason, key, actor),
            now,
        )
        alert_after_adjustment(actor, locked, entry, now)
    return Adjustment(entry, created=True)


def lock_person(actor: User) -> None:
    """One person's adjustments take turns, so the day's sum their limit reads is exact (on
    SQLite every writer takes turns anyway)."""
    User.objects.select_for_update().filter(pk=actor.pk).values_list("pk").first()


def earlier_adjustment(key: str, membership: Membership, points: int) -> Adjustment | None:
    existing = entry_with_key(key)
    if existing is not None:
        check_same_request(existing, membership, PointsKind.ADJUST, points)
        return Adjustment(existing, created=False)
    approval = approval_with_key(key)
    if approval is None:
        return None
    if approval.membership_id != membership.pk or approval.points != points:
        raise RuleViolation(
            _("This idempotency key was already used for another request."),
            code="idempotency_key_reused",
            details={"field": "idempotency_key"},
        )
    return Adjustment(approval.entry, created=False, approval=approval)


def write_adjustment(
    membership: Membership, points: int, fields: EntryFields, now: datetime.datetime
) -> PointsEntry:
    if points > 0:
        return add_points(membership, points, fields, now)
    return take_points(membership, -points, fields, now)


def check_adjustment(points: int, reason: str) -> None:
    problems = {}
    if not reason:
        problems["reason"] = _("Say why the points are adjusted.")
    if points == 0:
        problems["points"] = _("Enter a number of points other than zero.")
    if problems:
        raise ValidationError(problems)
    check_adjustment_size(points)
