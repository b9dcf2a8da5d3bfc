"""Merging customers: what moves besides orders and interactions (planned call-backs), and that a
merge of customers with no loyalty records is recorded as it always was."""

from datetime import date

import pytest
from django.utils import timezone

from kehu.commerce.models import Order
from kehu.customers.models import CustomerMerge
from kehu.customers.services import merge_customers
from kehu.engagement.models import FollowUp
from kehu.predictions.models import ChurnLevelChange
from kehu.segments.models import LifecycleChange
from tests.fixtures.records import make_customer

pytestmark = pytest.mark.django_db


def plan(customer, assignee, source="manual", status="open") -> FollowUp:
    return FollowUp.objects.create(
        customer=customer,
        assignee=assignee,
        due_on=date(2026, 12, 1),
        reason="回访",
        source=source,
        status=status,
    )


def test_a_merge_without_loyalty_records_counts_what_it_always_did(sales, channel):
    kept, merged = make_customer(sales, name="王芳"), make_customer(sales, name="王芳")
    Order.objects.create(
        customer=merged,
        channel=channel,
        external_id="POS-9",
        ordered_at=timezone.now(),
        total_amount="20.00",
    )
    record = merge_customers(sales, kept.pk, merged.pk)
    assert record.moved_counts == {
        "orders": 1,
        "interactions": 0,
        "follow_ups": 0,
        "ownership_changes": 0,
        "tags": 0,
        "lifecycle_changes": 0,
        "churn_level_changes": 0,
        "merges": 0,
        "static_segments": 0,
    }
    assert Order.objects.get().customer_id == kept.pk


def test_planned_call_backs_move_with_the_customer(sales):
    kept, merged = make_customer(sales, name="王芳"), make_customer(sales, name="王芳")
    kept_plan = plan(kept, sales)
    same_source = plan(merged, sales)
    churn = plan(merged, sales, source="churn_warning")
    done = plan(merged, sales, status="done")
    record = merge_customers(sales, kept.pk, merged.pk)
    rows = {
        follow_up.pk: (follow_up.customer_id, follow_up.status)
        for follow_up in FollowUp.objects.all()
    }
    assert rows == {
        kept_plan.pk: (kept.pk, "open"),
        same_source.pk: (kept.pk, "cancelled"),  # one open call-back per source
        churn.pk: (kept.pk, "open"),
        done.pk: (kept.pk, "done"),
    }
    assert FollowUp.objects.get(pk=same_source.pk).closed_at is not None
    assert record.moved_counts["follow_ups"] == 3


def test_places_on_static_lists_pass_to_the_kept_customer(sales, marketer):
    from kehu.segments.models import Segment, SegmentMember

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


def test_a_chain_of_merges_keeps_every_merge_record(sales):
    # given A merged into B
    a, b, c = (make_customer(sales, name="王芳") for _ in range(3))
    first = merge_customers(sales, b.pk, a.pk)

    # when B is merged into C
    second = merge_customers(sales, c.pk, b.pk)

    # then both records stand, follow the data to C, and say what each was merged into
    records = {
        merge.merged_customer_id: (merge.kept_id, merge.merged_into_id)
        for merge in CustomerMerge.objects.all()
    }
    assert records == {a.pk: (c.pk, b.pk), b.pk: (c.pk, c.pk)}
    assert second.moved_counts["merges"] == 1
    assert first.pk in set(CustomerMerge.objects.values_list("pk", flat=True))


def test_lifecycle_and_churn_level_history_move_to_the_kept_customer(sales):
    # given a merged customer with a lifecycle and a churn-level history
    kept, merged = make_customer(sales, name="王芳"), make_customer(sales, name="王芳")
    LifecycleChange.objects.create(
        customer=merged, previous_stage="new", stage="active", changed_on=date(2026, 10, 1)
    )
    ChurnLevelChange.objects.create(
        customer=merged, previous_level="", level="warning", risk=80, changed_on=date(2026, 11, 1)
    )

    # when it is merged
    record = merge_customers(sales, kept.pk, merged.pk)

    # then its history is the kept customer's now, nothing deleted
    assert list(LifecycleChange.objects.values_list("customer_id", "stage")) == [
        (kept.pk, "active")
    ]
    assert list(ChurnLevelChange.objects.values_list("customer_id", "level")) == [
        (kept.pk, "warning")
    ]
    assert record.moved_counts["lifecycle_changes"] == 1
    assert record.moved_counts["churn_level_changes"] == 1
