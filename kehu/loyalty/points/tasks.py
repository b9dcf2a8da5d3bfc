"""Background work of the points ledger: earning for a new order, reversing for a refund, and
the periodic jobs (bulk earning, expiry, tier review, birthday gifts, the balance check).

Every task is safe to run twice: the ledger's idempotency keys make a repeat a no-op.
"""

import logging

from django.tasks import task

from kehu.commerce.models import Order, Refund
from kehu.loyalty.members.tiers import give_birthday_points, review_tiers
from kehu.loyalty.points.bulk import earn_all_pending_orders
from kehu.loyalty.points.expiry import expire_points
from kehu.loyalty.points.refunds import reverse_pending_refunds, reverse_points_for_refund
from kehu.loyalty.points.services import check_balances, earn_for_order

logger = logging.getLogger(__name__)


@task
def earn_order_points_task(order_id: int) -> int:
    order = Order.objects.filter(pk=order_id).first()
    entry = earn_for_order(order) if order is not None else None
    return entry.points if entry is not None else 0


@task
def reverse_refund_points_task(refund_id: int) -> int:
    refund = Refund.objects.select_related("order").filter(pk=refund_id).first()
    return len(reverse_points_for_refund(refund)) if refund is not None else 0


@task
def earn_pending_orders_task() -> dict[str, object]:
    """Orders that arrived without earning (imports, a lost task) earn; refunds not yet
    reversed are."""
    report = earn_all_pending_orders()
    reversed_refunds = reverse_pending_refunds()
    return {"orders": report.orders, "points": report.points, "refunds": reversed_refunds}


@task
def expire_points_task() -> dict[str, object]:
    report = expire_points()
    return {"members": report.members, "points": report.points}


@task
def review_tiers_task() -> dict[str, object]:
    report = review_tiers()
    return {
        "reviewed": report.reviewed,
        "upgraded": report.upgraded,
        "downgraded": report.downgraded,
    }


@task
def birthday_points_task() -> int:
    return give_birthday_points()


@task
def check_balances_task() -> int:
    """The daily check that every cached balance equals its ledger; mismatches are logged as
    errors (they mean a write bypassed the ledger services)."""
    mismatches = check_balances()
    for mismatch in mismatches:
        logger.error(
            "Points balance of card %s is %s, its ledger sums to %s (unspent %s).",
            mismatch.card_number,
            mismatch.cached,
            mismatch.ledger,
            mismatch.unspent,
        )
    return len(mismatches)
