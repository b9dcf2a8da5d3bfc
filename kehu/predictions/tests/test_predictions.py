import datetime
import math
from decimal import Decimal

import pytest
from django.utils import translation

from kehu.commerce.models import Category, Order, OrderLine, Product
from kehu.predictions.models import (
    CustomerPrediction,
    NextAction,
    PredictionFit,
    PredictionSettings,
)
from kehu.predictions.refresh import refresh_predictions
from kehu.predictions.tests.predictions_data import (
    NOW,
    TODAY,
    add_rhythm,
    assert_no_nan,
    build_crowd,
)
from kehu.segments.nightly import refresh_segmentation
from kehu.segments.refresh import refresh_all_metrics
from tests.fixtures.records import make_customer


def refresh(now=NOW):
    with translation.override("en"):
        refresh_all_metrics(now)
        return refresh_predictions(now)


def prediction_of(customer) -> CustomerPrediction:
    return CustomerPrediction.objects.get(customer=customer)


@pytest.fixture
def crowd(channel, sales):
    return build_crowd(channel, owner=sales)


@pytest.fixture
def lapsed_vip(channel, sales, crowd):
    """Bought every 20 days for ¥300, from 400 to 120 days ago: 15 orders, silent since."""
    customer = make_customer(owner=sales, name="老客")
    add_rhythm(customer, channel, first_days_ago=400, last_days_ago=120, gap=20, amount=300)
    return customer


@pytest.fixture
def steady(channel, sales, crowd):
    """Bought every 20 days for ¥100, last 5 days ago."""
    customer = make_customer(owner=sales, name="常客")
    add_rhythm(customer, channel, first_days_ago=365, last_days_ago=5, gap=20, amount=100)
    return customer


def test_every_customer_gets_one_row_and_the_fit_is_recorded(crowd, lapsed_vip, steady):
    prospect = make_customer(name="潜在")

    report = refresh()

    assert report.customers == 43
    assert report.buyers == 42
    assert CustomerPrediction.objects.count() == 43
    assert set(report.seconds) == {
        "read", "fit", "churn", "actions", "recommend", "store", "notify"
    }  # fmt: skip
    fit = PredictionFit.objects.get()
    assert (fit.model, fit.calibration_end, fit.customers) == ("bgnbd", TODAY, 42)
    assert fit.repeat_buyers == report.repeat_buyers > 30
    assert fit.message == ""
    assert set(fit.purchase_params) == {"r", "alpha", "a", "b", "standard_errors"}
    assert set(fit.spend_params) == {"p", "q", "gamma", "standard_errors"}
    assert set(fit.purchase_params["standard_errors"]) == {"r", "alpha", "a", "b"}
    assert all(error > 0 for error in fit.purchase_params["standard_errors"].values())
    assert math.isfinite(fit.purchase_log_likelihood) and fit.purchase_log_likelihood < 0
    assert math.isfinite(fit.spend_log_likelihood)
    assert fit.fitted_at == NOW
    none = prediction_of(prospect)
    assert (none.p_alive, none.expected_purchases, none.clv) == (None, None, None)
    assert (none.churn_risk, none.churn_level, none.value_at_stake) == (0, "low", Decimal("0"))
    assert none.next_action == NextAction.FIRST_PURCHASE
    for prediction in CustomerPrediction.objects.all():
        assert_no_nan(prediction)
        assert prediction.refreshed_at == NOW


def test_a_steady_buyer_is_alive_and_a_lapsed_one_probably_gone(lapsed_vip, steady):
    refresh()

    alive, gone = prediction_of(steady), prediction_of(lapsed_vip)
    assert alive.p_alive > 0.8 > 0.5 > gone.p_alive
    assert alive.expected_purchases > gone.expected_purchases > 0
    assert alive.clv > gone.clv > 0
    # Gamma-Gamma shrinks each customer's average towards the population's.
    assert Decimal("100") < alive.expected_order_value < Decimal("300")
    assert Decimal("100") < gone.expected_order_value < Decimal("300")


def test_clv_grows_with_the_horizon_and_shrinks_with_the_discount_rate(steady):
    refresh()
    yearly = prediction_of(steady).clv
    settings = PredictionSettings.current()
    settings.clv_months = 24
    settings.save()
    refresh()
    two_years = prediction_of(steady).clv
    settings.annual_discount_rate = Decimal("0.500")
    settings.save()
    refresh()
    discounted = prediction_of(steady).clv

    assert yearly < two_years
    assert discounted < two_years


def test_expected_purchases_cover_the_horizon_in_the_settings(steady):
    refresh()
    quarter = prediction_of(steady).expected_purchases
    settings = PredictionSettings.current()
    settings.horizon_days = 30
    settings.save()
    refresh()
    month = prediction_of(steady).expected_purchases

    # Every 20 days: about 4.5 purchases in 90 days, 1.5 in 30.
    assert 3.0 < quarter < 5.5
    assert 1.0 < month < 2.0


def test_the_holdout_compares_the_last_horizon_with_a_fit_that_did_not_see_it(crowd, steady):
    refresh()

    fit = PredictionFit.objects.get()
    assert fit.holdout
    assert [set(row) for row in fit.holdout] == [
        {"frequency", "customers", "actual", "predicted"}
    ] * len(fit.holdout)
    frequencies = [row["frequency"] for row in fit.holdout]
    assert frequencies == sorted(frequencies) and frequencies[-1] <= 7
    # Everyone who had bought by 90 days ago is in one row; the steady buyer bought 5 times since.
    acquired = Order.objects.filter(ordered_at__date__lte=TODAY - datetime.timedelta(days=90))
    assert sum(row["customers"] for row in fit.holdout) == (
        acquired.values("customer").distinct().count()
    )
    assert all(row["predicted"] >= 0 and row["actual"] >= 0 for row in fit.holdout)


def test_pareto_nbd_when_the_settings_say_so(crowd):
    settings = PredictionSettings.current()
    settings.model = "paretonbd"
    settings.save()

    refresh()

    fit = PredictionFit.objects.get()
    assert fit.model == "paretonbd"
    assert set(fit.purchase_params) == {"r", "alpha", "s", "beta", "standard_errors"}
    alive = CustomerPrediction.objects.filter(p_alive__isnull=False)
    assert alive.count() == 40
    assert all(0 <= prediction.p_alive <= 1 for prediction in alive)


def test_churn_risk_levels_and_reasons_of_a_lapsed_vip(lapsed_vip):
    refresh()

    prediction = prediction_of(lapsed_vip)
    assert prediction.churn_level in ("warning", "critical")
    assert prediction.churn_risk >= 60
    reasons = prediction.churn_reasons
    points = [reason["points"] for reason in reasons]
    assert points == sorted(points, reverse=True) and min(points) >= 1
    assert sum(points) == pytest.approx(prediction.churn_risk, abs=len(points))
    by_signal = {reason["signal"]: reason for reason in reasons}
    assert set(by_signal) == {"p_alive", "overdue", "frequency_drop", "spend_drop"}
    assert by_signal["overdue"] == {
        "signal": "overdue",
        "points": 30,
        "typical_gap_days": 20.0,
        "days_since_last": 120.0,
    }
    # 15 purchase days before the recent window, over 311 days = 3.456 windows of 90 days.
    windows = (400 - 90 + 1) / 90
    assert by_signal["frequency_drop"]["orders_recent"] == 0
    assert by_signal["frequency_drop"]["orders_before"] == round(15 / windows, 2)
    assert by_signal["spend_drop"]["spend_before"] == round(4500 / windows, 2)
    # The model signal of BG/NBD is the chance of a purchase within the horizon: below P(alive).
    assert by_signal["p_alive"]["horizon_days"] == 90
    assert 0 < by_signal["p_alive"]["p_alive"] < round(prediction.p_alive, 3)


def test_value_at_stake_is_the_usual_spend_of_a_year(lapsed_vip, steady):
    refresh()

    # Lapsed: ¥4,500 over 311 days before the last 90, per 90 days, times 365 / 90.
    usual = 4500 / ((400 - 90 + 1) / 90)
    assert prediction_of(lapsed_vip).value_at_stake == Decimal(f"{usual * 365 / 90:.2f}")
    # Steady: 14 orders before the last 90 days (365 … 105 days ago) over 276 days.
    usual = 1400 / ((365 - 90 + 1) / 90)
    assert prediction_of(steady).value_at_stake == Decimal(f"{usual * 365 / 90:.2f}")


def test_a_new_customer_is_valued_on_their_spend_so_far(crowd, channel):
    newcomer = make_customer(name="新客")
    add_rhythm(newcomer, channel, first_days_ago=30, last_days_ago=10, gap=20, amount=90)

    refresh()

    assert prediction_of(newcomer).value_at_stake == Decimal(f"{180 * 365 / 90:.2f}")


def test_contacts_count_as_a_churn_signal(crowd, steady):
    from kehu.segments.tests.refresh_data import add_contact

    for days_ago in (100, 130, 160, 200, 230, 260, 300, 330):
        add_contact(steady, NOW - datetime.timedelta(days=days_ago))

    refresh()

    reasons = {reason["signal"]: reason for reason in prediction_of(steady).churn_reasons}
    assert reasons["fewer_contacts"]["contacts_recent"] == 0
    assert reasons["fewer_contacts"]["contacts_before"] > 0
    assert reasons["fewer_contacts"]["points"] == 5


def test_weights_and_thresholds_come_from_the_settings(lapsed_vip):
    settings = PredictionSettings.current()
    settings.weight_p_alive = 0
    settings.weight_overdue = 0
    settings.weight_frequency_drop = 0
    settings.weight_spend_drop = 10
    settings.weight_fewer_contacts = 0
    settings.weight_low_satisfaction = 0
    settings.weight_open_complaints = 0
    settings.critical_threshold = 100
    settings.save()

    refresh()

    prediction = prediction_of(lapsed_vip)
    assert prediction.churn_risk == 100
    assert prediction.churn_level == "critical"
    assert [reason["signal"] for reason in prediction.churn_reasons] == ["spend_drop"]


def test_the_next_best_action_is_stored_with_its_reason(lapsed_vip, steady):
    refresh()

    vip = prediction_of(lapsed_vip)
    assert vip.next_action == NextAction.SAVE_VIP
    assert vip.next_action_reason["days"] == 3
    assert vip.next_action_reason["risk"] == vip.churn_risk
    assert (
        vip.next_action_reason["coupon_threshold"],
        vip.next_action_reason["coupon_discount"],
    ) == (300, 45)
    assert prediction_of(steady).next_action == NextAction.THANK_LOYAL


def test_recommendations_from_order_lines_with_a_popularity_fallback(channel, crowd):
    fruit = Category.objects.create(name="水果")
    products = [
        Product.objects.create(sku=f"P{index}", name=f"商品{index}", category=fruit)
        for index in range(8)
    ]
    retired = Product.objects.create(sku="OLD", name="停售", category=fruit, is_active=False)
    baskets = [[0, 1], [0, 1, 2], [0, 1], [1, 2], [0, 1, 3], [0, 1], [2, 3], [0, 1, 4]]
    for customer, basket in zip(crowd, baskets * 5, strict=False):
        order = Order.objects.filter(customer=customer).first()
        for index in [*basket, 8]:
            product = retired if index == 8 else products[index]
            OrderLine.objects.create(
                order=order, product=product, product_name=product.name, quantity=1,
                unit_price=Decimal("10"), amount=Decimal("10"),
            )  # fmt: skip
    newcomer = make_customer(name="没买过")

    refresh()

    bought_zero = prediction_of(crowd[3])  # bought 1 and 2: 0 is bought with both
    assert bought_zero.recommended_products[0] == products[0].pk
    assert products[1].pk not in bought_zero.recommended_products
    assert len(bought_zero.recommended_products) <= 5
    fallback = prediction_of(newcomer).recommended_products
    assert fallback[:2] == [products[1].pk, products[0].pk]
    assert retired.pk not in fallback
    assert all(
        retired.pk not in prediction.recommended_products
        for prediction in CustomerPrediction.objects.all()
    )


def test_without_order_lines_nobody_gets_recommendations(crowd):
    refresh()

    assert not CustomerPrediction.objects.exclude(recommended_products=[]).exists()


def test_the_nightly_chain_runs_the_predictions_between_metrics_and_segments(lapsed_vip):
    with translation.override("en"):
        report = refresh_segmentation(NOW)

    assert report.predictions.customers == 41
    assert report.predictions.levels["low"] + report.predictions.levels.get("watch", 0) < 41
    assert prediction_of(lapsed_vip).next_action == NextAction.SAVE_VIP
