"""The merge handlers: every record of every installed app that points at a customer is looked
after by one (moved, or dropped for a stated reason), and a handler runs inside the merge's
transaction, before the merged customer is deleted."""

import pytest
from django.apps import apps
from django.db import models
from django.db.models.fields.related import RelatedField

from kehu.core.errors import RuleViolation
from kehu.customers.merging import declared_fields, merge_handlers, register_merge_handler
from kehu.customers.merging import unregister_merge_handler as unregister
from kehu.customers.models import Customer, CustomerMerge
from kehu.customers.services import merge_customers
from tests.fixtures.records import make_customer


def fields_pointing_at_customers() -> dict[str, RelatedField]:
    """Every foreign key, one-to-one and many-to-many to `customers.Customer`, by
    `app_label.Model.field`."""
    found = {}
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if isinstance(field, RelatedField) and field.related_model is Customer:
                found[f"{model._meta.label}.{field.name}"] = field
    return found


def test_every_field_pointing_at_a_customer_is_looked_after_by_a_merge_handler():
    # a new foreign key to the customer needs a merge handler that moves it or says why the
    # merged customer's rows may go with it
    forgotten = sorted(set(fields_pointing_at_customers()) - set(declared_fields()))
    assert forgotten == [], f"No merge handler moves or drops: {', '.join(forgotten)}"


def test_the_walk_sees_the_fields_of_every_app():
    found = set(fields_pointing_at_customers())
    assert {
        "customers.OwnershipChange.customer",
        "commerce.Order.customer",
        "engagement.FollowUp.customer",
        "segments.SegmentMember.customer",
        "loyalty.Membership.customer",
    } <= found


def test_every_declared_field_exists_and_points_at_a_customer():
    stale = sorted(set(declared_fields()) - set(fields_pointing_at_customers()))
    assert stale == []


def test_only_rows_deleted_with_the_customer_are_dropped_and_each_drop_says_why():
    found = fields_pointing_at_customers()
    for handler in merge_handlers():
        for name, reason in handler.drops.items():
            assert found[name].remote_field.on_delete is models.CASCADE, name
            assert reason.strip(), name


def test_no_field_is_claimed_twice():
    claims = [name for handler in merge_handlers() for name in (*handler.moves, *handler.drops)]
    assert len(claims) == len(set(claims))


@pytest.fixture
def widget_handler():
    """A handler of a pretend app, registered for one test."""
    calls = []

    def move(kept, merged, actor):
        calls.append((kept.pk, merged.pk, Customer.objects.filter(pk=merged.pk).exists(), actor))
        return {"widgets": 2}

    register_merge_handler("widgets", move, snapshot=lambda merged: {"colour": merged.name})
    yield calls
    unregister("widgets")


@pytest.mark.django_db
def test_a_handler_moves_before_the_merged_customer_is_deleted(sales, widget_handler):
    kept, merged = make_customer(sales, name="王芳"), make_customer(sales, name="王芳二")

    record = merge_customers(sales, kept.pk, merged.pk)

    assert widget_handler == [(kept.pk, merged.pk, True, sales)]
    assert record.moved_counts["widgets"] == 2
    assert record.merged_snapshot["widgets"] == {"colour": "王芳二"}
    assert not Customer.objects.filter(pk=merged.pk).exists()


@pytest.fixture
def refusing_handler():
    def refuse(kept, merged, actor):
        merged.ownership_changes.update(customer=kept)
        raise RuleViolation("The widgets cannot be merged.", code="widgets_refused")

    register_merge_handler("refusing", refuse)
    yield
    unregister("refusing")


@pytest.mark.django_db
def test_a_refusing_handler_rolls_the_whole_merge_back(sales, channel, refusing_handler):
    kept, merged = make_customer(sales, name="王芳"), make_customer(sales, name="王芳")
    merged.orders.create(
        channel=channel, external_id="POS-1", ordered_at="2026-01-01T10:00Z", total_amount="20.00"
    )
    merged.ownership_changes.create(action="assign", new_owner=sales, actor=sales)

    with pytest.raises(RuleViolation):
        merge_customers(sales, kept.pk, merged.pk)

    assert Customer.objects.filter(pk=merged.pk).exists()
    assert merged.orders.count() == 1
    assert merged.ownership_changes.count() == 1
    assert not CustomerMerge.objects.exists()
