"""Issuing a coupon template to many customers (a list or a segment) in the background.

A batch is run in chunks: each chunk decides set-based who gets a coupon (tier, per-customer
limit, what is left of the total limit), makes the codes in one numpy step and inserts the
coupons in bulk, all in one transaction with the template locked. Every coupon carries the key
`batch:<batch>:<customer>`, so running a batch again (a retried task, a crash half way) gives
nobody a second coupon: it only finishes what is missing.

A batch of a template above the requester's coupon value limit is kept unstarted ("waiting
for approval") with a request for a second person (kehu/loyalty/approvals/services.py); the approval
starts it as it would have started, and its coupons record the approver.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from datetime import datetime

import numpy as np
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.accounts.permissions import require
from kehu.core.errors import DomainError
from kehu.customers.queries import visible_customers
from kehu.loyalty.approvals.limits import coupon_approval_needed
from kehu.loyalty.approvals.requests import request_coupon_approval
from kehu.loyalty.coupons.rules import check_issuable, coupon_window
from kehu.loyalty.coupons.services import (
    checked_key,
    fresh_codes,
    held_coupons,
    key_reused,
    locked_template,
    reserve_coupons,
)
from kehu.loyalty.models import (
    ApprovalRequest,
    ApprovalStatus,
    Coupon,
    CouponIssueBatch,
    CouponTemplate,
    IssueBatchStatus,
    Membership,
)
from kehu.loyalty.outbox import record_coupons_issued
from kehu.segments.models import Segment, SegmentMember
from kehu.segments.queries import get_visible_segment

CHUNK_SIZE = 5000  # customers decided and inserted per transaction
INSERT_BATCH_SIZE = 1000  # rows per INSERT statement
LOOKUP_CHUNK = 5000  # ids per `IN (...)`
MAX_LIST_SIZE = 100_000
MAX_CHUNK_ATTEMPTS = 3
WAITING_OR_REJECTED = (IssueBatchStatus.AWAITING_APPROVAL, IssueBatchStatus.REJECTED)


# --- asking for a batch -----------------------------------------------------------------------


def request_issue_batch(
    actor: User,
    template_id: int,
    *,
    customer_ids: Iterable[int] | None = None,
    segment_id: int | None = None,
    idempotency_key: str | None = None,
) -> CouponIssueBatch:
    """Queue issuing one coupon of the template to each customer of a list or a segment (the
    ones the user may see). Above the user's coupon value limit the batch waits for a second
    person's approval instead (``batch.approval``). The same idempotency key again answers the
    first batch."""
    require(actor, "loyalty.manage")
    template = CouponTemplate.objects.filter(pk=template_id).first()
    if template is None:
        raise Http404("No coupon template matches the given query.")
    key = checked_key(idempotency_key)
    if key and (earlier := replayed_batch(key, template.pk)) is not None:
        return earlier
    ids, segment = batch_target(actor, customer_ids, segment_id)
    now = timezone.now()
    check_issuable(template, now)
    why = coupon_approval_needed(actor, template)
    try:
        with transaction.atomic():
            batch = CouponIssueBatch.objects.create(
                template=template,
                segment=segment,
                customer_ids=ids,
                requested=len(ids) if segment is None else 0,
                idempotency_key=key or None,
                requested_by=actor,
                status=IssueBatchStatus.AWAITING_APPROVAL if why else IssueBatchStatus.QUEUED,
            )
            if why:
                request_coupon_approval(
                    actor,
                    template,
                    batch=batch,
                    idempotency_key=f"batch:{batch.pk}",
                    why=why,
                    now=now,
                )
            else:
                transaction.on_commit(lambda: enqueue_batch(batch.pk))
    except IntegrityError:
        earlier = replayed_batch(key, template.pk) if key else None
        if earlier is None:
            raise
        return earlier
    return batch


def batch_target(
    actor: User, customer_ids: Iterable[int] | None, segment_id: int | None
) -> tuple[list[int], Segment | None]:
    """Exactly one of a list of customer ids or a segment (visible to the user)."""
    if (customer_ids is None) == (segment_id is None):
        raise ValidationError(
            {"customer_ids": [_("Give either a list of customers or a segment.")]}
        )
    if segment_id is not None:
        return [], get_visible_segment(actor, segment_id)
    ids = sorted({int(customer_id) for customer_id in customer_ids or ()})
    if not ids:
        raise ValidationError({"customer_ids": [_("Give at least one customer.")]})
    if len(ids) > MAX_LIST_SIZE:
        raise ValidationError(
            {"customer_ids": [_("At most %(count)d customers at once.") % {"count": MAX_LIST_SIZE}]}
        )
    return ids, None


def replayed_batch(key: str, template_id: int) -> CouponIssueBatch | None:
    batch = CouponIssueBatch.objects.filter(idempotency_key=key).first()
    if batch is not None and batch.template_id != template_id:
        raise key_reused()
    return batch


def start_approved_batch(batch: CouponIssueBatch) -> None:
    """Queue a batch that waited for approval (call in the approval's transaction); a batch
    already started is left alone."""
    started = CouponIssueBatch.objects.filter(
        pk=batch.pk, status=IssueBatchStatus.AWAITING_APPROVAL
    ).update(status=IssueBatchStatus.QUEUED)
    if started:
        transaction.on_commit(lambda: enqueue_batch(batch.pk))


def reject_batch(batch: CouponIssueBatch) -> None:
    CouponIssueBatch.objects.filter(pk=batch.pk, status=IssueBatchStatus.AWAITING_APPROVAL).update(
        status=IssueBatchStatus.REJECTED, finished_at=timezone.now()
    )


def enqueue_batch(batch_id: int) -> None:
    from kehu.loyalty.coupons.tasks import issue_coupon_batch_task  # the task calls back here

    issue_coupon_batch_task.enqueue(batch_id)


# --- running it -------------------------------------------------------------------------------


class BatchProgress:
    """Counts of one run, written to the batch after every chunk for the progress bar."""

    def __init__(self, batch: CouponIssueBatch, requested: int, not_visible: int) -> None:
        self.batch = batch
        self.requested = requested
        self.issued = 0
        self.skipped: Counter[str] = Counter()
        if not_visible:
            self.skipped["not_visible"] = not_visible

    def add(self, issued: int, skipped: Counter[str]) -> None:
        self.issued += issued
        self.skipped.update(skipped)

    def save(self, status: str, error: str = "") -> None:
        report = {"skipped": dict(self.skipped), **({"error": error} if error else {})}
        finished_at = timezone.now() if status in ("done", "failed") else None
        CouponIssueBatch.objects.filter(pk=self.batch.pk).update(
            status=status,
            requested=self.requested,
            issued=self.issued,
            skipped=sum(self.skipped.values()),
            message=json.dumps(report, ensure_ascii=False),
            finished_at=finished_at,
        )


def run_issue_batch(
    batch_id: int, *, now: datetime | None = None, chunk_size: int = CHUNK_SIZE
) -> CouponIssueBatch:
    """Issue what the batch asks for; safe to run again (it finishes what is missing and counts
    the coupons it issued before as issued)."""
    batch = CouponIssueBatch.objects.select_related("requested_by").get(pk=batch_id)
    if batch.status in WAITING_OR_REJECTED:
        return batch  # not approved (yet): nothing may be issued
    now = now or timezone.now()
    candidates, not_visible = batch_customers(batch)
    progress = BatchProgress(batch, len(candidates) + not_visible, not_visible)
    progress.save(IssueBatchStatus.RUNNING)
    try:
        for start in range(0, len(candidates), chunk_size):
            progress.add(*issue_chunk(batch, candidates[start : start + chunk_size], now))
            progress.save(IssueBatchStatus.RUNNING)
    except DomainError as refusal:  # the template was switched off or ran out of time
        progress.save(IssueBatchStatus.FAILED, refusal.message)
    except Exception as error:
        progress.save(IssueBatchStatus.FAILED, str(error))
        raise
    else:
        progress.save(IssueBatchStatus.DONE)
    return CouponIssueBatch.objects.get(pk=batch.pk)


def batch_customers(batch: CouponIssueBatch) -> tuple[np.ndarray, int]:
    """The ids to issue to, sorted, among the customers the requester may see; and how many
    listed ids were left out as not visible (a segment's other members are simply not
    counted, as everywhere for segments)."""
    visible = visible_customers(batch.requested_by) if batch.requested_by else None
    if visible is None:
        return np.array([], dtype=np.int64), len(batch.customer_ids)
    if batch.segment_id is not None:
        members = SegmentMember.objects.filter(segment_id=batch.segment_id).values("customer_id")
        rows = visible.filter(pk__in=members).order_by("pk").values_list("pk", flat=True)
        return np.fromiter(rows.iterator(chunk_size=LOOKUP_CHUNK), dtype=np.int64), 0
    wanted = np.unique(np.asarray(batch.customer_ids, dtype=np.int64))
    found = [
        customer_id
        for start in range(0, len(wanted), LOOKUP_CHUNK)
        for customer_id in visible.filter(
            pk__in=wanted[start : start + LOOKUP_CHUNK].tolist()
        ).values_list("pk", flat=True)
    ]
    ids = np.unique(np.asarray(found, dtype=np.int64))
    return ids, len(wanted) - len(ids)


def issue_chunk(
    batch: CouponIssueBatch, customer_ids: np.ndarray, now: datetime
) -> tuple[int, Counter[str]]:
    """One chunk in one transaction; a clash of codes with a parallel writer retries it."""
    for attempt in range(MAX_CHUNK_ATTEMPTS):
        try:
            with transaction.atomic():
                return issue_chunk_locked(batch, customer_ids, now)
        except IntegrityError:
            if attempt == MAX_CHUNK_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def issue_chunk_locked(
    batch: CouponIssueBatch, customer_ids: np.ndarray, now: datetime
) -> tuple[int, Counter[str]]:
    template = locked_template(batch.template_id)
    check_issuable(template, now)
    skipped: Counter[str] = Counter()
    earlier = ids_of(Coupon.objects.filter(batch=batch), customer_ids)
    ids = np.setdiff1d(customer_ids, earlier, assume_unique=True)
    if template.tier is not None:
        members = Membership.objects.filter(tier__rank__gte=template.tier.rank)
        ids, skipped["tier_too_low"] = keep_only(ids, ids_of(members, ids))
    if template.per_customer_limit is not None:
        full = at_customer_limit(template, template.per_customer_limit, ids)
        ids, skipped["per_customer_limit"] = keep_only(ids, np.setdiff1d(ids, full))
    if template.total_limit is not None:
        room = max(template.total_limit - template.issued_count, 0)
        skipped["total_limit"] = max(len(ids) - room, 0)
        ids = ids[:room]
    insert_coupons(template, batch, ids, now)
    if not reserve_coupons(template, len(ids)):
        raise IntegrityError("the total limit moved while the template was locked")
    return len(earlier) + len(ids), +skipped  # unary + drops the zero counts


def ids_of(rows: object, customer_ids: np.ndarray) -> np.ndarray:
    """The customer ids among `customer_ids` that have a row in `rows` (a queryset with a
    customer_id column), as a sorted array."""
    found: list[int] = []
    for start in range(0, len(customer_ids), LOOKUP_CHUNK):
        chunk = customer_ids[start : start + LOOKUP_CHUNK].tolist()
        found += rows.filter(customer_id__in=chunk).values_list("customer_id", flat=True)  # type: ignore[attr-defined]
    return np.unique(np.asarray(found, dtype=np.int64))


def keep_only(ids: np.ndarray, allowed: np.ndarray) -> tuple[np.ndarray, int]:
    kept = ids[np.isin(ids, allowed, assume_unique=True)]
    return kept, len(ids) - len(kept)


def at_customer_limit(template: CouponTemplate, limit: int, customer_ids: np.ndarray) -> np.ndarray:
    """Those who already hold `limit` coupons of the template: one grouped query a chunk."""
    held = held_coupons(template).values("customer_id").annotate(held=Count("id"))
    held = held.filter(held__gte=limit)
    return ids_of(held, customer_ids)


def insert_coupons(
    template: CouponTemplate, batch: CouponIssueBatch, customer_ids: np.ndarray, now: datetime
) -> None:
    valid_from, valid_until = coupon_window(template, now)
    codes = fresh_codes(len(customer_ids))
    approver_id = batch_approver_id(batch)
    coupons = Coupon.objects.bulk_create(
        (
            Coupon(
                template_id=template.pk,
                code=code,
                customer_id=customer_id,
                valid_from=valid_from,
                valid_until=valid_until,
                issued_at=now,
                batch_id=batch.pk,
                issue_key=f"batch:{batch.pk}:{customer_id}",
                approved_by_id=approver_id,
            )
            for customer_id, code in zip(customer_ids.tolist(), codes, strict=True)
        ),
        batch_size=INSERT_BATCH_SIZE,
    )
    record_coupons_issued(coupons)


def batch_approver_id(batch: CouponIssueBatch) -> int | None:
    """Who approved the batch, for its coupons (None: it needed no approval)."""
    approvals = ApprovalRequest.objects.filter(batch=batch, status=ApprovalStatus.APPROVED)
    return approvals.values_list("decided_by_id", flat=True).first()
