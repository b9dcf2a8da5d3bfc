"""A second pair of eyes on points and coupons: adjustments above the maker's limits, and
coupons worth more than the issuer's coupon limit (for one customer or as a batch), wait here
until another person approves or rejects them, and administrators are alerted on each request
and on large or unusual adjustments. The requests are made in
kehu/loyalty/approvals/requests.py.

Who decides: an administrator, or (when the programme's settings allow it) a store manager of
another team than the requester's; never the requester. Who sees a request: those who may
decide it, and its requester; anyone else is answered 404 as for any record they may not see.

Approving writes the ledger entry in the same transaction as the decision, keyed by the request
(``approval:<id>``), with the approver in ``PointsEntry.approved_by``: approving twice writes
one entry. Taking more points than the member then has is refused and the request stays open.
Approving a coupon issues it through the issuing service (keyed ``approval:<id>``, with the
approver in ``Coupon.approved_by``): approving twice issues one coupon; a template switched off,
run out or past its end meanwhile refuses it and the request stays open. Approving a batch
starts it (its coupons record the approver); rejecting it leaves it unstarted for good.

Alerts (in-app notifications to every active administrator but the person who acted):
- an adjustment sent for approval;
- an adjustment applied of ``adjustment_alert_points`` points or more, either way;
- the ``repeat_adjustments_alert``-th adjustment of one member by one person on a business day.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.accounts.permissions import may, require
from kehu.accounts.roles import Role
from kehu.core.errors import NotAllowed, RuleViolation
from kehu.customers.queries import visible_customers
from kehu.loyalty.approvals.limits import own_adjustments
from kehu.loyalty.approvals.requests import REASON_LENGTH, alert_administrators
from kehu.loyalty.coupons.issuing import reject_batch, start_approved_batch
from kehu.loyalty.coupons.rules import check_issuable, check_tier
from kehu.loyalty.coupons.services import issue_checked
from kehu.loyalty.models import (
    ApprovalKind,
    ApprovalRequest,
    ApprovalStatus,
    Coupon,
    CouponTemplate,
    LoyaltySettings,
    Membership,
    PointsEntry,
    PointsKind,
    PointsSource,
)
from kehu.loyalty.points.services import EntryFields, add_points, lock_membership, take_points

ALERT_KIND = "points_alert"


# --- who sees and decides ---------------------------------------------------------------------


def other_team_managers_approve() -> bool:
    return LoyaltySettings.current().other_team_managers_approve


def visible_approvals(user: User) -> QuerySet[ApprovalRequest]:
    """The requests `user` may see: all for administrators; their own, and (when allowed) those
    of other teams' staff for store managers."""
    require(user, "approval.read")
    rows = ApprovalRequest.objects.select_related(
        "membership__customer",
        "requested_by",
        "decided_by",
        "entry",
        "coupon_template",
        "customer",
        "batch__segment",
        "coupon__template",
        "coupon__approved_by",
    )
    if user.is_administrator:
        return rows
    seen = Q(requested_by=user)
    if user.role == Role.MANAGER and user.team_id is not None and other_team_managers_approve():
        # ~Q over a nullable column keeps the requesters without a team
        seen |= ~Q(requested_by__team_id=user.team_id)
    return rows.filter(seen)


POINTS_KINDS = (ApprovalKind.POINTS,)
COUPON_KINDS = (ApprovalKind.COUPON, ApprovalKind.COUPON_BATCH)


def visible_approvals_of(user: User, kinds: tuple[str, ...]) -> QuerySet[ApprovalRequest]:
    """The visible requests of some kinds, for a role that may deal with those kinds."""
    if kinds == POINTS_KINDS:
        require(user, "approval.read_points")
    else:
        require(user, "approval.read_coupons")
    return visible_approvals(user).filter(kind__in=kinds)


def get_visible_approval(
    user: User, approval_id: int, kinds: tuple[str, ...] | None = None
) -> ApprovalRequest:
    rows = visible_approvals(user) if kinds is None else visible_approvals_of(user, kinds)
    approval = rows.filter(pk=approval_id).first()
    if approval is None:
        raise Http404("No approval request matches the given query.")
    return approval


def hide_unseen_coupons(user: User, approvals: list[ApprovalRequest]) -> list[ApprovalRequest]:
    """Mark each request's coupon as shown (``shown_coupon``) only when `user` may see its
    customer: a coupon code is a bearer credential, and a manager of another team who approves
    it does not see that team's customers (one query for the whole list)."""
    customer_ids = {approval.coupon.customer_id for approval in approvals if approval.coupon}
    seen = set(
        visible_customers(user).filter(pk__in=customer_ids).values_list("pk", flat=True)
        if customer_ids
        else ()
    )
    for approval in approvals:
        coupon = approval.coupon
        approval.shown_coupon = coupon if coupon and coupon.customer_id in seen else None  # type: ignore[attr-defined]
    return approvals


def may_decide(user: User, approval: ApprovalRequest) -> bool:
    """The record rule of `approval.decide` (ask `may(user, "approval.decide", approval)`):
    a second person, an administrator, or a manager of another team where allowed."""
    if approval.requested_by_id == user.pk or not user.is_active:
        return False
    if user.is_administrator:
        return True
    return (
        user.role == Role.MANAGER
        and user.team_id is not None
        and approval.requested_by.team_id != user.team_id
        and other_team_managers_approve()
    )


def pending_for(user: User) -> QuerySet[ApprovalRequest]:
    """The requests waiting for `user`'s decision, oldest first (not their own)."""
    return (
        visible_approvals(user)
        .filter(status=ApprovalStatus.PENDING)
        .exclude(requested_by=user)
        .order_by("requested_at", "pk")
    )


# --- deciding ---------------------------------------------------------------------------------


def decide_approval(
    actor: User,
    approval_id: int,
    *,
    approve: bool,
    reason: str = "",
    now: datetime.datetime | None = None,
    kinds: tuple[str, ...] | None = None,
) -> ApprovalRequest:
    """Approve (the entry is written or the coupon issued, recording `actor` as its approver;
    a batch is started) or reject a request (of one of `kinds`, when given). Deciding the same
    way again answers the request unchanged; the other way is refused."""
    approval = get_visible_approval(actor, approval_id, kinds)
    if not may(actor, "approval.decide", approval):
        raise cannot_decide(actor, approval)
    reason = reason.strip()
    if not approve and not reason:
        raise ValidationError({"reason": _("Say why the request is rejected.")})
    target = ApprovalStatus.APPROVED if approve else ApprovalStatus.REJECTED
    now = now or timezone.now()
    with transaction.atomic():
        locked = ApprovalRequest.objects.select_for_update().get(pk=approval.pk)
        if locked.status != ApprovalStatus.PENDING:
            if locked.status == target:
                return get_visible_approval(actor, locked.pk)
            raise already_decided(locked)
        locked.status, locked.decided_by, locked.decided_at = target, actor, now
        if approve:
            carry_out(locked, approval.requested_by, actor, now)
        elif locked.batch_id is not None:
            reject_batch(locked.batch)  # type: ignore[arg-type]
        locked.decision_reason = reason[:REASON_LENGTH]
        locked.save(
            update_fields=[
                "status",
                "decided_by",
                "decided_at",
                "decision_reason",
                "entry",
                "coupon",
            ]
        )
    return get_visible_approval(actor, approval.pk)


def carry_out(
    approval: ApprovalRequest, requester: User, approver: User, now: datetime.datetime
) -> None:
    """What the approval does, by kind: write the entry, issue the coupon, or start the batch
    (it runs after the commit, when its coupons find the approver on this request)."""
    if approval.kind == ApprovalKind.POINTS:
        approval.entry = write_approved_entry(approval, requester, approver, now)
    elif approval.kind == ApprovalKind.COUPON:
        approval.coupon = issue_approved_coupon(approval, approver, now)
    else:
        start_approved_batch(approval.batch)  # type: ignore[arg-type]


def issue_approved_coupon(
    approval: ApprovalRequest, approver: User, now: datetime.datetime
) -> Coupon:
    """The coupon of an approved request, keyed by the request: issued once."""
    template = CouponTemplate.objects.select_related("tier").get(
        pk=approval.coupon_template_id  # type: ignore[misc]  # a coupon request has one
    )
    check_issuable(template, now)
    check_tier(template, approval.customer_id)  # type: ignore[arg-type]
    result = issue_checked(
        template,
        approval.customer_id,  # type: ignore[arg-type]
        f"approval:{approval.pk}",
        now,
        approved_by=approver,
    )
    assert result.coupon is not None  # issue_checked always issues or refuses
    return result.coupon


def cannot_decide(actor: User, approval: ApprovalRequest) -> NotAllowed:
    if approval.requested_by_id == actor.pk:
        return NotAllowed(
            _("You cannot approve or reject your own request: a second person must."),
            code="own_request",
        )
    return NotAllowed(_("Only an administrator may decide this request."), code="not_allowed")


def already_decided(approval: ApprovalRequest) -> RuleViolation:
    return RuleViolation(
        _("This request was already %(status)s.")
        % {"status": approval.get_status_display().lower()},
        code="approval_already_decided",
    )


def write_approved_entry(
    approval: ApprovalRequest, requester: User, approver: User, now: datetime.datetime
) -> PointsEntry:
    membership = lock_membership(approval.membership_id)  # type: ignore[arg-type]
    fields = EntryFields(
        PointsKind.ADJUST,
        PointsSource.STAFF,
        approval.reason,
        f"approval:{approval.pk}",
        requester,
        approved_by=approver,
    )
    points = approval.points or 0
    if points > 0:
        return add_points(membership, points, fields, now)
    return take_points(membership, -points, fields, now)


# --- alerts -----------------------------------------------------------------------------------


def alert_after_adjustment(
    actor: User, membership: Membership, entry: PointsEntry, now: datetime.datetime
) -> None:
    """Alert the administrators on a large adjustment, or on the one that makes a person's
    adjustments of one member on one day unusually many."""
    settings = LoyaltySettings.current()
    link = reverse("loyalty:member", args=[membership.customer_id])
    card = membership.card_number
    if settings.adjustment_alert_points and abs(entry.points) >= settings.adjustment_alert_points:
        title = _("Large points adjustment: %(points)+d points for card %(card)s") % {
            "points": entry.points,
            "card": card,
        }
        body = _("By %(person)s: %(reason)s") % {"person": actor, "reason": entry.reason}
        alert_administrators(actor, ALERT_KIND, title, body, link, now)
    repeats = settings.repeat_adjustments_alert
    if repeats and own_adjustments(actor, now).filter(membership=membership).count() == repeats:
        title = _("%(count)s adjustments of card %(card)s by one person today") % {
            "count": repeats,
            "card": card,
        }
        body = _("By %(person)s; the latest: %(points)+d points, %(reason)s") % {
            "person": actor,
            "points": entry.points,
            "reason": entry.reason,
        }
        alert_administrators(actor, ALERT_KIND, title, body, link, now)
