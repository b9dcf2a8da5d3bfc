"""Background work of the segments app: refresh one customer's metrics, or everyone's (with
the predictions, segments and tags: the nightly job).

All are safe to run twice: they recompute from the orders and upsert, a stage or churn level
change is recorded only when the stored one differs, and a warned customer is notified once.
"""

from django.tasks import task

from kehu.segments.nightly import refresh_segmentation
from kehu.segments.refresh import refresh_all_metrics, refresh_customer_metrics


@task
def refresh_customer_metrics_task(customer_id: int) -> None:
    refresh_customer_metrics(customer_id)


@task
def refresh_all_metrics_task() -> dict[str, object]:
    report = refresh_all_metrics()
    return {
        "customers": report.customers,
        "customers_with_orders": report.customers_with_orders,
        "stage_changes": report.stage_changes,
        "seconds": report.seconds,
    }


@task
def refresh_segmentation_task() -> dict[str, object]:
    """The nightly job: scores, predictions, then saved segments, then automatic tags."""
    report = refresh_segmentation()
    return {
        "customers": report.metrics.customers,
        "churn_levels": report.predictions.levels,
        "newly_warned": report.predictions.newly_warned,
        "fit_message": report.predictions.fit_message,
        "segments_refreshed": report.segments_refreshed,
        "tag_changes": report.tag_changes,
    }
