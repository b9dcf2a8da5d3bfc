"""Asking for a second person's approval: the request rows (a points adjustment, a coupon for
one customer, an issue batch) and the alert every active administrator gets for each. The
decisions are in kehu/loyalty/approvals/services.py; this module depends on no writer of points or
coupons, so those writers can ask for approval without an import cycle."""

from __future__ import annotations

import datetime

from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.accounts.notifications import NewNotification, notify
from kehu.accounts.roles import Role
from kehu.customers.models import Customer
from kehu.loyalty.models import (
    ApprovalKind,
    ApprovalRequest,
    CouponIssueBatch,
    CouponTemplate,
    Membership,
)

REASON_LENGTH = 300
APPROVAL_KIND = "points_approval"
COUPON_APPROVAL_KIND = "coupon_approval"


def approval_with_key(idempotency_key: str) -> ApprovalRequest | None:
    return ApprovalRequest.objects.filter(idempotency_key=idempotency_key).first()


def request_approval(
    actor: User,
    membership: Membership,
    points: int,
    reason: str,
    *,
    idempotency_key: str,
    why: str,
    now: datetime.datetime,
) -> ApprovalRequest:
    """Keep an adjustment for a second person (call in the adjustment's transaction); nothing
    moves in the ledger. The administrators are told at once."""
    approval = ApprovalRequest.objects.create(
        kind=ApprovalKind.POINTS,
        membership=membership,
        points=points,
        reason=reason[:REASON_LENGTH],
        idempotency_key=idempotency_key,
        requested_by=actor,
        requested_at=now,
    )
    title = _("Approval needed: %(points)+d points for card %(card)s") % {
        "points": points,
        "card": membership.card_number,
    }
    body = _("Requested by %(person)s: %(reason)s (%(why)s)") % {
        "person": actor,
        "reason": approval.reason,
        "why": why,
    }
    alert_administrators(actor, APPROVAL_KIND, title, body, reverse("loyalty:approvals"), now)
    return approval


def request_coupon_approval(
    actor: User,
    template: CouponTemplate,
    *,
    customer: Customer | None = None,
    batch: CouponIssueBatch | None = None,
    idempotency_key: str,
    why: str,
    now: datetime.datetime,
) -> ApprovalRequest:
    """Keep a coupon for one customer (or a batch, left unstarted) for a second person; nothing
    is issued. The administrators are told at once."""
    approval = ApprovalRequest.objects.create(
        kind=ApprovalKind.COUPON if batch is None else ApprovalKind.COUPON_BATCH,
        coupon_template=template,
        customer=customer,
        batch=batch,
        reason=why[:REASON_LENGTH],
        idempotency_key=idempotency_key,
        requested_by=actor,
        requested_at=now,
    )
    if batch is None:
        title = _("Approval needed: coupon “%(name)s” for one customer") % {"name": template.name}
    else:
        title = _("Approval needed: coupon “%(name)s” for a list or segment") % {
            "name": template.name
        }
    body = _("Requested by %(person)s (%(why)s)") % {"person": actor, "why": why}
    alert_administrators(
        actor, COUPON_APPROVAL_KIND, title, body, reverse("loyalty:approvals"), now
    )
    return approval


# --- alerts -----------------------------------------------------------------------------------


def administrators() -> QuerySet[User]:
    return User.objects.filter(is_active=True).filter(Q(role=Role.ADMIN) | Q(is_superuser=True))


def alert_administrators(
    actor: User, kind: str, title: str, body: str, link: str, now: datetime.datetime
) -> int:
    recipients = administrators().exclude(pk=actor.pk).values_list("pk", flat=True)
    return notify(
        (NewNotification(pk, kind, title, body, link) for pk in recipients.order_by("pk")), now
    )
