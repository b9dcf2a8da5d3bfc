import numpy as np
import pytest
from django.utils import translation

from kehu.predictions.next_action import ActionInputs, coupon_for, next_best_actions
from kehu.predictions.text import describe_next_action


def inputs(**columns) -> ActionInputs:
    """One customer per entry; unspecified columns are an unremarkable regular customer."""
    size = len(next(iter(columns.values())))
    defaults = {
        "value_tier": ["regular"] * size,
        "lifecycle_stage": ["active"] * size,
        "churn_level": ["low"] * size,
        "churn_risk": [10] * size,
        "clv": [500.0] * size,
        "average_order_value": [180.0] * size,
        "orders": [5] * size,
        "open_complaints": [0] * size,
    }
    merged = {**defaults, **columns}
    return ActionInputs(
        value_tier=np.array(merged["value_tier"], dtype=np.str_),
        lifecycle_stage=np.array(merged["lifecycle_stage"], dtype=np.str_),
        churn_level=np.array(merged["churn_level"], dtype=np.str_),
        churn_risk=np.array(merged["churn_risk"], dtype=np.int64),
        clv=np.array(merged["clv"], dtype=np.float64),
        average_order_value=np.array(merged["average_order_value"], dtype=np.float64),
        orders=np.array(merged["orders"], dtype=np.int64),
        open_complaints=np.array(merged["open_complaints"], dtype=np.int64),
    )


def only(columns: dict) -> tuple[str, dict]:
    actions = next_best_actions(inputs(**{key: [value] for key, value in columns.items()}))
    return str(actions.action[0]), actions.reasons[0]


def test_an_open_complaint_comes_before_everything():
    action, reason = only(
        {"open_complaints": 2, "value_tier": "vip", "churn_level": "critical", "churn_risk": 90}
    )
    assert action == "resolve_complaint"
    assert reason == {"rule": "resolve_complaint", "open_complaints": 2}


def test_a_prospect_is_invited_to_a_first_purchase():
    action, reason = only(
        {"lifecycle_stage": "prospect", "orders": 0, "clv": np.nan, "average_order_value": 0.0}
    )
    assert action == "first_purchase"
    assert reason == {"rule": "first_purchase", "stage": "prospect"}


def test_a_vip_at_risk_gets_a_call_within_three_days_and_a_coupon_sized_to_their_orders():
    action, reason = only(
        {"value_tier": "vip", "churn_level": "warning", "churn_risk": 72, "clv": 1234.4}
    )
    assert action == "save_vip"
    assert reason == {
        "rule": "save_vip",
        "days": 3,
        "risk": 72,
        "tier": "vip",
        "clv": 1234.0,
        "coupon_threshold": 200,
        "coupon_discount": 30,
    }
    with translation.override("en"):
        sentence = describe_next_action(action, reason)
    assert sentence == "VIP at risk: call within 3 days, offer a 满200减30 coupon"


def test_a_top_predicted_value_counts_as_vip_when_at_risk():
    values = [100.0] * 19 + [5000.0]
    actions = next_best_actions(
        inputs(clv=values, churn_level=["critical"] * 20, churn_risk=[85] * 20)
    )
    assert actions.action.tolist() == ["win_back"] * 19 + ["save_vip"]


def test_others_at_warning_or_critical_get_a_win_back_message():
    action, reason = only({"churn_level": "critical", "churn_risk": 88, "clv": np.nan})
    assert action == "win_back"
    assert reason == {
        "rule": "win_back",
        "days": 7,
        "risk": 88,
        "coupon_threshold": 200,
        "coupon_discount": 30,
    }


def test_a_churned_customer_not_flagged_by_the_risk_is_reactivated():
    action, reason = only({"lifecycle_stage": "churned", "churn_level": "watch", "churn_risk": 50})
    assert action == "reactivate"
    assert reason["stage"] == "churned"
    assert (reason["coupon_threshold"], reason["coupon_discount"]) == (200, 30)


def test_watch_level_gets_a_check_in():
    action, reason = only({"churn_level": "watch", "churn_risk": 45})
    assert action == "check_in"
    assert reason == {"rule": "check_in", "days": 14, "risk": 45}


def test_a_new_customer_with_one_order_is_encouraged_to_buy_again():
    action, reason = only({"lifecycle_stage": "new", "value_tier": "new", "orders": 1})
    assert action == "second_purchase"
    assert reason == {"rule": "second_purchase", "days": 14, "orders": 1, "stage": "new"}


def test_a_new_customer_with_two_orders_gets_no_second_purchase_nudge():
    action, _reason = only({"lifecycle_stage": "new", "value_tier": "new", "orders": 2})
    assert action == "none"


@pytest.mark.parametrize("tier", ["vip", "regular"])
@pytest.mark.parametrize("stage", ["active", "reactivated"])
def test_loyal_low_risk_customers_are_thanked(tier, stage):
    action, reason = only({"value_tier": tier, "lifecycle_stage": stage})
    assert action == "thank_loyal"
    assert reason == {"rule": "thank_loyal", "tier": tier, "stage": stage, "clv": 500.0}


def test_a_dormant_low_risk_customer_needs_nothing():
    action, reason = only({"lifecycle_stage": "dormant"})
    assert action == "none"
    assert reason == {"rule": "none"}


@pytest.mark.parametrize(
    ("average", "threshold", "discount"),
    [
        (0.0, 10, 5),
        (12.0, 20, 5),
        (95.0, 100, 15),
        (180.0, 200, 30),
        (480.0, 500, 75),
        (1234.0, 1300, 195),
        (3000.0, 3000, 450),
        (np.nan, 10, 5),
    ],
)
def test_coupon_threshold_is_a_tidy_step_above_the_average_and_the_discount_about_15_percent(
    average, threshold, discount
):
    thresholds, discounts = coupon_for(np.array([average]))
    assert (int(thresholds[0]), int(discounts[0])) == (threshold, discount)
