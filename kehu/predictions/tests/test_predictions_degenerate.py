"""Data the models cannot learn from: a clear message, NULL model columns, churn still scored,
and never a NaN in the database."""

import datetime
from decimal import Decimal

from django.utils import translation

from kehu.commerce.models import Order, OrderStatus
from kehu.predictions.models import CustomerPrediction, PredictionFit
from kehu.predictions.refresh import refresh_predictions
from kehu.predictions.tests.predictions_data import (
    NOW,
    TODAY,
    add_orders,
    add_rhythm,
    assert_no_nan,
    build_crowd,
)
from kehu.segments.refresh import refresh_all_metrics
from tests.fixtures.records import make_customer

MODEL_COLUMNS = ("p_alive", "expected_purchases", "expected_order_value", "clv")


def refresh():
    with translation.override("en"):
        refresh_all_metrics(NOW)
        return refresh_predictions(NOW)


def days_ago(*days: int) -> list[datetime.date]:
    return [TODAY - datetime.timedelta(days=day) for day in days]


def model_columns(customer) -> tuple:
    return tuple(
        CustomerPrediction.objects.filter(customer=customer).values_list(*MODEL_COLUMNS).get()
    )


def assert_nothing_is_nan() -> None:
    for prediction in CustomerPrediction.objects.all():
        assert_no_nan(prediction)


def test_no_customers_at_all(db):
    report = refresh()

    fit = PredictionFit.objects.get()
    assert fit.message == (
        "No customer has bought anything yet, so there is nothing to fit the models on."
    )
    assert (fit.customers, fit.repeat_buyers, fit.purchase_params, fit.holdout) == (0, 0, {}, [])
    assert fit.purchase_log_likelihood is None
    assert report.customers == 0
    assert report.fit_message == fit.message
    assert not CustomerPrediction.objects.exists()


def test_customers_without_purchases(db):
    prospects = [make_customer(name=f"潜客{index}") for index in range(3)]

    refresh()

    assert PredictionFit.objects.get().message.startswith("No customer has bought anything yet")
    for customer in prospects:
        assert model_columns(customer) == (None, None, None, None)
    assert set(CustomerPrediction.objects.values_list("churn_risk", "churn_level")) == {(0, "low")}
    assert_nothing_is_nan()


def test_one_customer_still_gets_a_churn_risk_from_the_other_signals(channel):
    only = make_customer(name="独苗")
    add_rhythm(only, channel, first_days_ago=300, last_days_ago=150, gap=30, amount=80)

    refresh()

    fit = PredictionFit.objects.get()
    assert fit.message == (
        "Only one customer has bought anything: the models need at least two buyers."
    )
    assert (fit.customers, fit.repeat_buyers) == (1, 1)
    assert model_columns(only) == (None, None, None, None)
    prediction = CustomerPrediction.objects.get(customer=only)
    # Overdue (5 gaps: full 30 points) and both drops (10 each); no purchase model to ask.
    assert prediction.churn_risk == 50
    assert prediction.churn_level == "watch"
    assert [reason["signal"] for reason in prediction.churn_reasons] == [
        "overdue",
        "frequency_drop",
        "spend_drop",
    ]
    assert prediction.value_at_stake > 0
    assert_nothing_is_nan()


def test_no_repeat_buyers(channel):
    early = make_customer(name="早")
    recent = make_customer(name="近")
    add_orders(early, channel, days_ago(200), [120.0])
    add_orders(recent, channel, days_ago(10), [60.0])

    refresh()

    fit = PredictionFit.objects.get()
    assert fit.message == (
        "No customer has bought on two different days yet: the purchase rate cannot be estimated."
    )
    assert (fit.customers, fit.repeat_buyers) == (2, 0)
    assert model_columns(early) == model_columns(recent) == (None, None, None, None)
    # Nobody has a rhythm (no gaps): the early one only lost their usual orders and spend.
    assert CustomerPrediction.objects.get(customer=early).churn_risk == 20
    assert CustomerPrediction.objects.get(customer=recent).churn_risk == 0
    assert_nothing_is_nan()


def test_every_purchase_made_today(channel):
    buyers = [make_customer(name=f"今天{index}") for index in range(3)]
    for buyer in buyers:
        add_orders(buyer, channel, [TODAY, TODAY], [30.0, 45.0])

    refresh()

    fit = PredictionFit.objects.get()
    assert fit.message == (
        "Every purchase was made today: there is no time yet to learn a rhythm from."
    )
    assert fit.customers == 3
    for buyer in buyers:
        assert model_columns(buyer) == (None, None, None, None)
    assert set(CustomerPrediction.objects.values_list("churn_risk", flat=True)) == {0}
    assert_nothing_is_nan()


def test_zero_and_negative_amounts_fall_back_to_each_customers_own_average(channel):
    free = [make_customer(name=f"赠品{index}") for index in range(4)]
    for index, customer in enumerate(free):
        add_orders(customer, channel, days_ago(120 - index, 60, 20 + index), [0.0, 0.0, 0.0])
    refunded = make_customer(name="退款")
    add_orders(refunded, channel, days_ago(100, 50), [40.0, 40.0])
    Order.objects.filter(customer=refunded).update(
        refunded_amount=Decimal("50.00"), status=OrderStatus.PARTIALLY_REFUNDED
    )

    refresh()

    fit = PredictionFit.objects.get()
    # Five customers: the plain maximum-likelihood fit runs off, the penalised one holds.
    assert fit.message == (
        "The purchase model was unstable on this little data and was fitted with a small "
        "penalty: treat its predictions as rough. The spend model needs at least two repeat "
        "buyers with different positive spend; expected order values are each customer's own "
        "average."
    )
    assert set(fit.purchase_params) == {"r", "alpha", "a", "b", "standard_errors"}
    assert fit.spend_params == {}
    for customer in [*free, refunded]:
        p_alive, expected, order_value, clv = model_columns(customer)
        assert 0 <= p_alive <= 1
        assert expected >= 0
        assert (order_value, clv) == (Decimal("0.00"), Decimal("0.00"))
    assert CustomerPrediction.objects.get(customer=refunded).value_at_stake == Decimal("0.00")
    assert_nothing_is_nan()


def test_a_refresh_before_any_metrics_still_stores_rows(channel):
    buyer = make_customer(name="先来")
    add_orders(buyer, channel, days_ago(30), [10.0])

    with translation.override("en"):
        refresh_predictions(NOW)

    prediction = CustomerPrediction.objects.get(customer=buyer)
    assert prediction.refreshed_at == NOW
    assert prediction.next_action == "first_purchase"  # no stage yet: taken for a prospect
    assert_nothing_is_nan()


def test_zero_spenders_among_paying_customers_expect_nothing(channel):
    crowd = build_crowd(channel)
    free = make_customer(name="赠品")
    add_orders(free, channel, days_ago(90, 60, 30), [0.0, 0.0, 0.0])

    refresh()

    fit = PredictionFit.objects.get()
    assert fit.message == ""
    assert set(fit.spend_params) == {"p", "q", "gamma", "standard_errors"}
    assert model_columns(free)[2:] == (Decimal("0.00"), Decimal("0.00"))
    assert model_columns(crowd[1])[2] > 0
    assert_nothing_is_nan()
