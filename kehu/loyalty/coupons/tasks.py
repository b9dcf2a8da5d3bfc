"""Background work of coupons: running an issue batch, and the periodic expiry. Both are safe
to run twice (a batch finishes only what is missing; expiry changes only unused coupons past
their end)."""

from django.tasks import task

from kehu.loyalty.coupons.issuing import run_issue_batch
from kehu.loyalty.coupons.services import expire_coupons


@task
def issue_coupon_batch_task(batch_id: int) -> dict[str, object]:
    batch = run_issue_batch(batch_id)
    return {"status": batch.status, "issued": batch.issued, "skipped": batch.skipped}


@task
def expire_coupons_task() -> int:
    """Unused coupons past their end become expired; returns how many."""
    return expire_coupons()
