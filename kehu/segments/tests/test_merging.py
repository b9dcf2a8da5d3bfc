"""The segments' part of a customer merge: places on static lists and the lifecycle history move
to the kept customer, and its metrics are recomputed once the merge is committed (the
churn-level history: kehu/predictions/tests/test_merging.py)."""

from decimal import Decimal

import pytest
from django.utils import timezone

from kehu.commerce.models import Order
from kehu.customers.services import merge_customers
from kehu.segments.models import (
    CustomerMetrics,
    Segment,
    SegmentMember,
)
from tests.fixtures.records import make_customer

pytestmark = pytest.mark.django_db


def test_places_on_static_lists_pass_to_the_kept_customer(sales, marketer):
    kept, merged = make_customer(sales, name="王芳"), make_customer(sales, name="王芳")
    other = make_customer(sales, name="李娜")
    only_merged = Segment.objects.create(name="试吃名单", kind="static", member_count=2)
    both = Segment.objects.create(name="VIP 名单", kind="static", member_count=2)
    dynamic = Segment.objects.create(name="高消费", kind="dynamic", member_count=1)
    for segment, customers in ((only_merged, [merged, other]), (both, [kept, merged])):
        for customer in customers:
            SegmentMember.objects.create(
                segment=segment, customer=customer, joined_at=timezone.now()
            )
    SegmentMember.objects.create(segment=dynamic, customer=merged, joined_at=timezone.now())
    record = merge_customers(sales, kept.pk, merged.pk)
    assert record.moved_counts["static_segments"] == 1
    members = sorted(SegmentMember.objects.values_list("segment__name", "customer_id"))
    assert members == sorted([("试吃名单", kept.pk), ("试吃名单", other.pk), ("VIP 名单", kept.pk)])
    counts = dict(Segment.objects.values_list("name", "member_count"))
    assert counts == {
        "试吃名单": 2,
        "VIP 名单": 1,
        "高消费": 1,
    }  # a dynamic one waits for its refresh


def test_the_kept_customers_metrics_are_recomputed_once_the_merge_is_committed(
    sales, channel, django_capture_on_commit_callbacks
):
    # given a merged customer with an order and a kept one without metrics yet
    kept, merged = make_customer(sales, name="王芳"), make_customer(sales, name="王芳")
    Order.objects.create(
        customer=merged,
        channel=channel,
        external_id="POS-7",
        ordered_at=timezone.now(),
        total_amount="30.00",
    )

    # when they are merged, nothing is recomputed before the commit
    with django_capture_on_commit_callbacks(execute=False) as queued:
        merge_customers(sales, kept.pk, merged.pk)
    assert not CustomerMetrics.objects.filter(customer=kept).exists()

    # then, committed, the kept customer's metrics count the merged customer's order
    for callback in queued:
        callback()
    metrics = CustomerMetrics.objects.get(customer=kept)
    assert (metrics.frequency, metrics.monetary) == (1, Decimal("30.00"))
