"""Churn warnings over time: level history, the warning date, and one notification per owner."""

import datetime

import pytest
from django.utils import translation

from kehu.accounts.models import Notification
from kehu.predictions.models import ChurnLevelChange, CustomerPrediction, PredictionSettings
from kehu.predictions.refresh import refresh_predictions
from kehu.predictions.tests.predictions_data import NOW, TODAY, add_orders, add_rhythm, build_crowd
from kehu.segments.refresh import refresh_all_metrics
from tests.fixtures.people import make_user
from tests.fixtures.records import make_customer

TOMORROW = NOW + datetime.timedelta(days=1)


def refresh(now=NOW):
    with translation.override("en"):
        refresh_all_metrics(now)
        return refresh_predictions(now)


def lapsed(owner, channel, name: str, amount: float):
    """Bought every 20 days from 400 to 120 days ago: warning or critical today."""
    customer = make_customer(owner=owner, name=name)
    add_rhythm(customer, channel, first_days_ago=400, last_days_ago=120, gap=20, amount=amount)
    return customer


@pytest.fixture
def town(channel, sales, other_sales):
    build_crowd(channel)  # in the pool: their warnings notify nobody
    retired = make_user("retired", "sales")
    retired.is_active = False
    retired.save()
    return {
        "big": lapsed(sales, channel, "大客户", 500),
        "small": lapsed(sales, channel, "小客户", 50),
        "middle": lapsed(sales, channel, "中客户", 200),
        "fourth": lapsed(sales, channel, "第四位", 100),
        "colleague": lapsed(other_sales, channel, "同事的", 300),
        "pool": lapsed(None, channel, "公海的", 300),
        "orphan": lapsed(retired, channel, "离职的", 300),
        "steady": make_steady(sales, channel),
    }


def make_steady(owner, channel):
    customer = make_customer(owner=owner, name="常客")
    add_rhythm(customer, channel, first_days_ago=365, last_days_ago=5, gap=20, amount=100)
    return customer


def prediction_of(customer) -> CustomerPrediction:
    return CustomerPrediction.objects.get(customer=customer)


def test_warned_customers_get_todays_date_and_their_owner_one_notification(town, sales):
    report = refresh()

    warned = [town[name] for name in ("big", "small", "middle", "fourth", "colleague", "pool")]
    for customer in warned:
        prediction = prediction_of(customer)
        assert prediction.churn_level in ("warning", "critical")
        assert prediction.warned_on == TODAY
    assert prediction_of(town["steady"]).warned_on is None
    assert report.notifications == 2
    mine = Notification.objects.get(recipient=sales)
    assert mine.kind == "churn_warning"
    assert mine.title == "4 customers newly at risk of churning"
    assert mine.link == "/segments/churn/?owner=me"
    lines = mine.body.splitlines()
    assert [line.split(":")[0] for line in lines[:3]] == ["大客户", "中客户", "第四位"]
    assert lines[0].startswith("大客户: ¥") and "a year at stake; " in lines[0]
    assert "buys every ~20 days, silent for 120 days" in lines[0]
    assert lines[3] == "and 1 more"
    colleague = Notification.objects.get(recipient=town["colleague"].owner)
    assert colleague.title == "1 customer newly at risk of churning"
    assert colleague.body.startswith("同事的: ¥")


def test_pool_customers_and_inactive_owners_notify_nobody(town):
    refresh()

    assert Notification.objects.count() == 2
    assert prediction_of(town["pool"]).warned_on == TODAY
    assert prediction_of(town["orphan"]).warned_on == TODAY


def test_the_first_refresh_records_every_level_above_low(town):
    refresh()

    changes = ChurnLevelChange.objects.filter(customer=town["big"])
    assert list(changes.values_list("previous_level", "level", "changed_on")) == [
        ("", prediction_of(town["big"]).churn_level, TODAY)
    ]
    assert changes.get().risk == prediction_of(town["big"]).churn_risk
    assert not ChurnLevelChange.objects.filter(customer=town["steady"]).exists()
    above_low = CustomerPrediction.objects.exclude(churn_level="low").count()
    assert ChurnLevelChange.objects.count() == above_low


def test_running_twice_on_a_day_changes_and_sends_nothing_more(town):
    refresh()
    changes = ChurnLevelChange.objects.count()
    stored = {row.customer_id: row.warned_on for row in CustomerPrediction.objects.all()}

    report = refresh()

    assert (report.newly_warned, report.notifications, report.level_changes) == (0, 0, 0)
    assert ChurnLevelChange.objects.count() == changes
    assert Notification.objects.count() == 2
    assert {row.customer_id: row.warned_on for row in CustomerPrediction.objects.all()} == stored


def test_the_warning_date_is_kept_while_the_customer_stays_warned(town):
    refresh()
    refresh(TOMORROW)

    assert prediction_of(town["big"]).warned_on == TODAY
    assert Notification.objects.count() == 2


def test_a_customer_who_comes_back_drops_a_level_and_loses_the_warning(town, channel):
    refresh()
    before = prediction_of(town["big"]).churn_level
    add_orders(town["big"], channel, [TODAY], [500.0])

    refresh(TOMORROW)

    back = prediction_of(town["big"])
    assert back.warned_on is None
    assert back.churn_level in ("low", "watch")
    latest = ChurnLevelChange.objects.filter(customer=town["big"]).first()
    assert (latest.previous_level, latest.level, latest.changed_on) == (
        before,
        back.churn_level,
        TODAY + datetime.timedelta(days=1),
    )


def test_a_notify_level_of_critical_leaves_warnings_unannounced(town, sales):
    settings = PredictionSettings.current()
    settings.notify_level = "critical"
    settings.save()

    refresh()

    assert prediction_of(town["big"]).churn_level == "warning"
    town_rows = CustomerPrediction.objects.filter(customer__in=town.values())
    assert not town_rows.filter(warned_on__isnull=False).exists()
    assert not Notification.objects.exists()

    settings.critical_threshold = prediction_of(town["big"]).churn_risk
    settings.save()
    refresh()

    assert prediction_of(town["big"]).churn_level == "critical"
    assert prediction_of(town["big"]).warned_on == TODAY
    assert Notification.objects.get(recipient=sales).title == (
        "4 customers newly at risk of churning"
    )
