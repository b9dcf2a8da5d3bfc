"""Engagement's part of a customer merge: planned call-backs move with the customer."""

from datetime import date

import pytest

from kehu.customers.services import merge_customers
from kehu.engagement.models import FollowUp
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
