"""The predictions' part of a customer merge: the churn-level history moves to the kept
customer, beside the segments' lifecycle history."""

from datetime import date

import pytest

from kehu.customers.services import merge_customers
from kehu.predictions.models import ChurnLevelChange
from kehu.segments.models import LifecycleChange
from tests.fixtures.records import make_customer

pytestmark = pytest.mark.django_db


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
