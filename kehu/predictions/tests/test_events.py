"""The nightly prediction refresh records churn_warning.raised for every customer whose churn
level rises to warning or critical, in the refresh's transaction, once per rise."""

import pytest
from django.db import transaction
from django.utils import translation

from kehu.events.models import Event
from kehu.predictions.models import ChurnLevelChange, CustomerPrediction
from kehu.predictions.refresh import refresh_predictions
from kehu.predictions.store import rising
from kehu.predictions.tests.predictions_data import NOW, add_rhythm, build_crowd
from kehu.segments.refresh import refresh_all_metrics
from tests.fixtures.records import make_customer

pytestmark = pytest.mark.django_db


class Undone(Exception):
    pass


def refresh(now=NOW):
    with translation.override("en"):
        refresh_all_metrics(now)
        return refresh_predictions(now)


@pytest.fixture
def lapsed(channel, sales):
    """A crowd to fit on, and three customers who stopped buying 120 days ago."""
    build_crowd(channel)
    customers = []
    for name, amount in (("大客户", 500), ("中客户", 200), ("小客户", 50)):
        customer = make_customer(owner=sales, name=name)
        add_rhythm(customer, channel, first_days_ago=400, last_days_ago=120, gap=20, amount=amount)
        customers.append(customer)
    return customers


def warnings() -> list[Event]:
    return list(Event.objects.filter(name="churn_warning.raised").order_by("pk"))


def test_a_rise_to_warning_or_critical_records_one_event_per_customer(lapsed):
    refresh()

    raised = {
        change.customer_id: change
        for change in ChurnLevelChange.objects.filter(level__in=["warning", "critical"])
    }
    for customer in lapsed:
        assert customer.pk in raised
    events = warnings()
    assert sorted(event.customer_id for event in events) == sorted(raised)
    for event in events:
        prediction = CustomerPrediction.objects.get(customer_id=event.customer_id)
        assert event.payload == {
            "customer_id": event.customer_id,
            "level": prediction.churn_level,
            "risk": prediction.churn_risk,
        }
    assert Event.objects.exclude(name="churn_warning.raised").count() == 0

    refresh()  # the same levels again: nothing rose
    assert len(warnings()) == len(events)


def test_a_rolled_back_refresh_records_nothing(lapsed):
    with pytest.raises(Undone), transaction.atomic():
        refresh()
        assert warnings()
        raise Undone

    assert Event.objects.count() == 0


def test_only_a_rise_counts():
    rows = [
        (1, "low", "warning", 70),
        (2, "watch", "critical", 90),
        (3, "critical", "warning", 75),  # down: no event
        (4, "warning", "critical", 95),
    ]
    assert rising(rows) == [(1, "warning", 70), (2, "critical", 90), (4, "critical", 95)]


def test_a_customer_falling_from_critical_to_warning_records_nothing(lapsed):
    refresh()
    customer = lapsed[0]
    CustomerPrediction.objects.filter(customer=customer).update(churn_level="critical")
    before = len(warnings())

    refresh()

    level = CustomerPrediction.objects.get(customer=customer).churn_level
    assert level == "warning"  # fell from the critical set by hand
    assert len(warnings()) == before
