"""Freezing, cancelling and reactivating a membership (冻结、注销、恢复会员).

``Membership.status`` is the current status and the ``MembershipPause`` rows are its history:
a membership that is not active has exactly one open pause, an active one has none. Both change
together, under the membership's lock, in one transaction. Cancelling forfeits the whole points
balance (one staff adjustment in the ledger); reactivating never gives those points back.
Coupons are the customer's and stay untouched.
"""

import datetime
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.accounts.permissions import require
from kehu.core.errors import RuleViolation
from kehu.loyalty.members.services import visible_membership
from kehu.loyalty.models import (
    Membership,
    MembershipPause,
    MembershipStatus,
    PointsKind,
    PointsSource,
)
from kehu.loyalty.points.services import (
    REASON_LENGTH,
    EntryFields,
    expire_due_points,
    lock_membership,
    take_points,
)

# From each status, the statuses a membership may move to. A cancelled membership is
# reactivated before it can be frozen: freezing keeps points that cancelling already took.
ALLOWED_MOVES = {
    MembershipStatus.ACTIVE: (MembershipStatus.FROZEN, MembershipStatus.CANCELLED),
    MembershipStatus.FROZEN: (MembershipStatus.ACTIVE, MembershipStatus.CANCELLED),
    MembershipStatus.CANCELLED: (MembershipStatus.ACTIVE,),
}


@dataclass(frozen=True)
class StatusChange:
    """What a status request did: ``changed`` False when the membership had that status
    already (a retried request), ``forfeited`` the points a cancellation took."""

    membership: Membership
    previous_status: str
    pause: MembershipPause | None  # the open pause now; None when active
    changed: bool
    forfeited: int = 0


def allowed_moves(status: str) -> tuple[str, ...]:
    """The statuses a membership in `status` may move to (the buttons on the member page)."""
    return tuple(str(target) for target in ALLOWED_MOVES.get(MembershipStatus(status), ()))


def open_pause(membership: Membership) -> MembershipPause | None:
    return (
        MembershipPause.objects.select_related("started_by")
        .filter(membership=membership, ended_at__isnull=True)
        .first()
    )


def change_membership_status(
    actor: User,
    customer_id: int,
    status: str,
    reason: str,
    *,
    now: datetime.datetime | None = None,
) -> StatusChange:
    """Freeze, cancel or reactivate a member, with a reason kept in the status history.
    Asking for the status it has already changes nothing and answers ``changed`` False."""
    require(actor, "member.change_status")
    membership = visible_membership(actor, customer_id)
    reason = checked_reason(reason)
    target = checked_status(status)
    now = now or timezone.now()
    with transaction.atomic():
        locked = lock_membership(membership.pk)
        previous = locked.status
        if previous == target:
            return StatusChange(locked, previous, open_pause(locked), changed=False)
        check_move(locked, target)
        end_open_pause(locked, actor, reason, now)
        pause, forfeited = start_pause(locked, target, actor, reason, now)
        locked.status = target
        locked.save(update_fields=["status"])
    locked.customer = membership.customer
    return StatusChange(locked, previous, pause, changed=True, forfeited=forfeited)


def checked_reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the membership status changes.")})
    if len(reason) > REASON_LENGTH:
        raise ValidationError(
            {"reason": _("Keep the reason within %(limit)s characters.") % {"limit": REASON_LENGTH}}
        )
    return reason


def checked_status(status: str) -> MembershipStatus:
    if status not in MembershipStatus.values:
        raise ValidationError({"status": _("Choose active, frozen or cancelled.")})
    return MembershipStatus(status)


def check_move(membership: Membership, target: str) -> None:
    if target not in allowed_moves(membership.status):
        raise RuleViolation(
            _("A %(current)s membership cannot be %(target)s; reactivate it first.")
            % {
                "current": membership.get_status_display().lower(),
                "target": MembershipStatus(target).label.lower(),
            },
            code="invalid_status_change",
            details={"field": "status", "status": membership.status},
        )


def end_open_pause(
    membership: Membership, actor: User | None, reason: str, now: datetime.datetime
) -> None:
    """Close the membership's open pause, if any (at `now`, or at its start if that is later)."""
    pause = MembershipPause.objects.filter(membership=membership, ended_at__isnull=True).first()
    if pause is None:
        return
    pause.ended_at = max(now, pause.started_at)
    pause.end_reason = reason[:REASON_LENGTH]
    pause.ended_by = actor
    pause.save(update_fields=["ended_at", "end_reason", "ended_by"])


def start_pause(
    membership: Membership, target: str, actor: User, reason: str, now: datetime.datetime
) -> tuple[MembershipPause | None, int]:
    """Open the pause a frozen or cancelled status needs (nothing for active); a cancellation
    forfeits the balance. Answers the pause and the points forfeited."""
    if target == MembershipStatus.ACTIVE:
        return None, 0
    pause = MembershipPause.objects.create(
        membership=membership,
        status=target,
        started_at=now,
        start_reason=reason,
        started_by=actor,
    )
    forfeited = 0
    if target == MembershipStatus.CANCELLED:
        forfeited = forfeit_points(membership, pause, actor, now)
    return pause, forfeited


def forfeit_points(
    membership: Membership, pause: MembershipPause, actor: User, now: datetime.datetime
) -> int:
    """Take the whole balance in one staff adjustment keyed by the pause (call under the lock).
    Points already due to expire expire first, so the entry takes only what was spendable."""
    expire_due_points(membership, now)
    balance = membership.points_balance
    if balance == 0:
        return 0
    reason = _("Membership cancelled: %(reason)s") % {"reason": pause.start_reason}
    key = f"membership-pause:{pause.pk}:forfeit"
    fields = EntryFields(PointsKind.ADJUST, PointsSource.STAFF, reason, key, actor)
    take_points(membership, balance, fields, now)
    return balance
