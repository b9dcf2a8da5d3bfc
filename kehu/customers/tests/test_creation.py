"""Creation extras: a value given with a new customer that another app records, in the
creation's transaction; a refused extra leaves no customer and names its field."""

import functools

import pytest

from kehu.core.errors import RuleViolation
from kehu.customers.creation import (
    CreationExtraRefused,
    create_with_extras,
    register_creation_extra,
    unregister_creation_extra,
)
from kehu.customers.models import Customer
from kehu.customers.services import create_customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def widget_code():
    """An extra of a pretend app: code "OK" is recorded, any other refused."""
    attached = []

    def attach(actor, customer_id, code):
        if code != "OK":
            raise RuleViolation(f"Unknown widget code {code}.", code="unknown_widget")
        attached.append((actor.pk, customer_id, code))
        return f"Widget code {code} recorded."

    register_creation_extra("widget_code", attach)
    yield attached
    unregister_creation_extra("widget_code")


def creation(user):
    return functools.partial(create_customer, user, {"name": "李娜", "mobile": "13900000009"})


def test_an_extra_is_recorded_for_the_new_customer(sales, widget_code):
    customer, notes = create_with_extras(sales, {"widget_code": "OK"}, creation(sales))

    assert widget_code == [(sales.pk, customer.pk, "OK")]
    assert notes == ["Widget code OK recorded."]


def test_a_refused_extra_leaves_no_customer_and_names_its_field(sales, widget_code):
    with pytest.raises(CreationExtraRefused) as refusal:
        create_with_extras(sales, {"widget_code": "NOPE"}, creation(sales))

    assert (refusal.value.code, refusal.value.details) == (
        "unknown_widget",
        {"field": "widget_code"},
    )
    assert refusal.value.message == "Unknown widget code NOPE."
    assert not Customer.objects.exists()
    assert widget_code == []


def test_a_blank_extra_is_not_asked(sales, widget_code):
    customer, notes = create_with_extras(sales, {"widget_code": ""}, creation(sales))

    assert Customer.objects.get() == customer
    assert (notes, widget_code) == ([], [])
