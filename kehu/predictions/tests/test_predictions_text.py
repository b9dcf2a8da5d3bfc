"""The stored churn reasons and next best action, in words, in both languages."""

from django.utils import translation

from kehu.predictions.text import (
    churn_summary,
    describe_churn_reasons,
    describe_next_action,
)

LAPSED = [
    {"signal": "overdue", "points": 30, "typical_gap_days": 21.0, "days_since_last": 64.0},
    {"signal": "p_alive", "points": 20, "p_alive": 0.314, "horizon_days": 90},
    {"signal": "low_satisfaction", "points": 3, "satisfaction": 2.0},
    {"signal": "open_complaints", "points": 3, "open_complaints": 1},
]


def test_churn_reasons_read_as_the_issue_asks():
    with translation.override("en"):
        assert describe_churn_reasons(LAPSED) == [
            "buys every ~21 days, silent for 64 days",
            "the purchase model gives 31% odds of a purchase in 90 days",
            "last survey score 2/5",
            "1 open complaint",
        ]


def test_churn_summary_in_chinese():
    with translation.override("zh-hans"):
        assert churn_summary(LAPSED[:1]) == "约每 21 天购买一次，已沉默 64 天"


def test_pareto_signal_is_worded_as_still_a_customer():
    reason = {"signal": "p_alive", "points": 12, "p_alive": 0.4}
    with translation.override("en"):
        assert describe_churn_reasons([reason]) == [
            "the purchase model gives 40% odds they still buy here"
        ]


def test_unknown_or_broken_reasons_are_skipped_not_fatal():
    broken = [{"signal": "overdue", "points": 5}, {"signal": "astrology", "points": 9}]
    assert describe_churn_reasons(broken) == []


def test_next_action_for_a_vip_at_risk():
    reason = {"rule": "save_vip", "days": 3, "coupon_threshold": 200, "coupon_discount": 30}
    with translation.override("en"):
        assert describe_next_action("save_vip", reason) == (
            "VIP at risk: call within 3 days, offer a 满200减30 coupon"
        )
    with translation.override("zh-hans"):
        assert describe_next_action("save_vip", reason) == (
            "VIP 有流失风险：3 天内致电，送一张满200减30优惠券"
        )


def test_next_action_without_its_values_falls_back_to_the_label():
    with translation.override("en"):
        assert describe_next_action("win_back", {}) == "Win back with a coupon"
        assert describe_next_action("none", {}) == "No action needed"
