"""Background work of referrals and group deals; every task is safe to run twice (a referral is
paid only while pending, a deal closes only while open, and the points use fixed keys)."""

from django.tasks import task

from kehu.commerce.models import Order
from kehu.loyalty.referrals.services import reward_pending_referrals, reward_referral_for_order


@task
def reward_pending_referrals_task() -> dict[str, int]:
    """The periodic pass over pending referrals (catches what the direct call missed)."""
    run = reward_pending_referrals()
    return {"rewarded": run.rewarded, "rejected": run.rejected, "still_pending": run.still_pending}


@task
def reward_referral_for_order_task(order_id: int) -> str:
    """After an order is posted: pay its customer's pending referral if the order qualifies."""
    order = Order.objects.filter(pk=order_id).first()
    referral = reward_referral_for_order(order) if order is not None else None
    return referral.status if referral is not None else ""
