"""Merging customers: a merge of customers with no loyalty records is recorded as it always was,
and earlier merge records follow the data. What the other apps move is tested in their own
tests/test_merging.py; tests/test_merge_handlers.py checks that every record pointing at a
customer is looked after."""

import pytest
from django.utils import timezone

from kehu.commerce.models import Order
from kehu.customers.models import CustomerMerge
from kehu.customers.services import merge_customers
from tests.fixtures.records import make_customer

pytestmark = pytest.mark.django_db


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
