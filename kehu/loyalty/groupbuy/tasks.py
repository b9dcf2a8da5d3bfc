"""The group deals' periodic job."""

from django.tasks import task

from kehu.loyalty.groupbuy.services import close_due_group_deals


@task
def close_due_group_deals_task() -> dict[str, int]:
    """Close the group deals whose deadline has passed, rewarding those that succeeded."""
    run = close_due_group_deals()
    return {"succeeded": run.succeeded, "failed": run.failed}
