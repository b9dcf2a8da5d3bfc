import datetime
from decimal import Decimal

from django.utils import timezone

from kehu.commerce.services import LineInput, OrderInput, create_order, refund_order
from kehu.segments.models import CustomerMetrics, LifecycleChange
from kehu.segments.tasks import refresh_all_metrics_task, refresh_customer_metrics_task
from kehu.segments.tests.refresh_data import add_order


def order_input(customer, **fields) -> OrderInput:
    values = {
        "customer_id": customer.pk,
        "channel_code": "pos",
        "external_id": "A-1",
        "ordered_at": timezone.now() - datetime.timedelta(days=2),
        "lines": (LineInput("鲜牛奶", Decimal("2"), Decimal("12.50")),),
    }
    return OrderInput(**{**values, **fields})


def test_a_new_order_refreshes_its_customer_on_commit(
    sales, own_customer, channel, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        create_order(sales, order_input(own_customer))

    metrics = CustomerMetrics.objects.get(customer=own_customer)
    assert len(callbacks) == 1  # the dispatch of the order.posted event
    assert (metrics.frequency, metrics.monetary, metrics.lifecycle_stage) == (
        1,
        Decimal("25.00"),
        "new",
    )
    assert LifecycleChange.objects.filter(customer=own_customer, stage="new").count() == 1


def test_posting_the_same_order_again_enqueues_nothing(
    sales, own_customer, channel, django_capture_on_commit_callbacks
):
    create_order(sales, order_input(own_customer))

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        result = create_order(sales, order_input(own_customer))

    assert result.created is False
    assert callbacks == []


def test_a_refund_refreshes_the_customer_on_commit(
    sales, own_customer, channel, django_capture_on_commit_callbacks
):
    order = create_order(sales, order_input(own_customer)).order

    with django_capture_on_commit_callbacks(execute=True):
        refund_order(sales, order.pk, Decimal("25.00"), "退货")

    metrics = CustomerMetrics.objects.get(customer=own_customer)
    assert (metrics.frequency, metrics.monetary, metrics.lifecycle_stage) == (
        0,
        Decimal("0.00"),
        "prospect",
    )


def test_tasks_are_safe_to_run_twice(own_customer, channel):
    add_order(own_customer, channel, timezone.now() - datetime.timedelta(days=3), "40.00")

    first = refresh_all_metrics_task.call()
    second = refresh_all_metrics_task.call()
    refresh_customer_metrics_task.call(own_customer.pk)
    refresh_customer_metrics_task.call(own_customer.pk)

    assert (first["customers"], first["stage_changes"]) == (1, 1)
    assert second["stage_changes"] == 0
    assert CustomerMetrics.objects.get().frequency == 1
    assert LifecycleChange.objects.count() == 1
