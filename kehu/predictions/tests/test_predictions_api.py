"""The predictions through their doors: a segment rule, the API and `kehu segments refresh`."""

import io

import pytest
from django.core.management import call_command
from django.utils import translation

from kehu.commerce.models import Category, Order, OrderLine, Product
from kehu.predictions.models import CustomerPrediction
from kehu.predictions.refresh import refresh_predictions
from kehu.predictions.tests.predictions_data import NOW, add_rhythm, build_crowd
from kehu.segments.models import SegmentMember
from kehu.segments.refresh import refresh_all_metrics
from kehu.segments.rules import rule_field_catalogue, validate_rule
from kehu.segments.services import create_segment
from kehu.segments.tests.rule_helpers import matching_names
from tests.api_client import ApiClient
from tests.fixtures.records import make_customer


def refresh():
    with translation.override("en"):
        refresh_all_metrics(NOW)
        return refresh_predictions(NOW)


@pytest.fixture
def shop(channel, sales, other_sales):
    build_crowd(channel)
    lapsed = make_customer(owner=sales, name="老客")
    add_rhythm(lapsed, channel, first_days_ago=400, last_days_ago=120, gap=20, amount=300)
    steady = make_customer(owner=sales, name="常客")
    add_rhythm(steady, channel, first_days_ago=365, last_days_ago=5, gap=20, amount=100)
    colleague = make_customer(owner=other_sales, name="同事的")
    add_rhythm(colleague, channel, first_days_ago=365, last_days_ago=5, gap=20, amount=100)
    return {"lapsed": lapsed, "steady": steady, "colleague": colleague}


def test_the_catalogue_has_a_predictions_group(db):
    with translation.override("en"):
        fields = {entry["key"]: entry for entry in rule_field_catalogue()}
    keys = {key for key, entry in fields.items() if entry["group"] == "predictions"}
    assert keys == {"churn_risk", "churn_level", "next_action", "clv", "p_alive", "value_at_stake"}
    assert fields["next_action"]["group_label"] == "Predictions"
    assert {choice["value"] for choice in fields["churn_level"]["choices"]} == {
        "low",
        "watch",
        "warning",
        "critical",
    }
    assert "save_vip" in {choice["value"] for choice in fields["next_action"]["choices"]}


def test_a_segment_on_the_next_action_selects_the_vips_at_risk(shop, marketer):
    refresh()
    rule = {"field": "next_action", "op": "eq", "value": "save_vip"}

    segment = create_segment(marketer, name="VIP 挽回", rule=rule, now=NOW)

    expected = set(
        CustomerPrediction.objects.filter(next_action="save_vip").values_list(
            "customer_id", flat=True
        )
    )
    assert shop["lapsed"].pk in expected
    members = set(
        SegmentMember.objects.filter(segment=segment).values_list("customer_id", flat=True)
    )
    assert members == expected
    assert segment.member_count == len(expected)


def test_rules_on_risk_value_and_missing_predictions(shop):
    refresh()
    prospect = make_customer(name="潜在")

    at_risk = {
        "all": [
            {"field": "churn_risk", "op": "gte", "value": 60},
            {"field": "value_at_stake", "op": "gt", "value": "5000"},
            {"field": "churn_level", "op": "in", "value": ["warning", "critical"]},
        ]
    }
    assert "老客" in matching_names(validate_rule(at_risk))
    assert "常客" not in matching_names(validate_rule(at_risk))
    unknown = validate_rule({"field": "clv", "op": "is_empty"})
    assert prospect.name in matching_names(unknown)
    assert "常客" not in matching_names(unknown)
    likely = validate_rule({"field": "p_alive", "op": "gt", "value": 0.8})
    assert "常客" in matching_names(likely) and "老客" not in matching_names(likely)


def test_the_api_reads_the_prediction_of_a_visible_customer(shop, sales, channel):
    tea = Product.objects.create(
        sku="TEA", name="绿茶", category=Category.objects.create(name="茶")
    )
    for order in Order.objects.all():
        OrderLine.objects.create(
            order=order, product=tea, product_name="绿茶", quantity=1, unit_price=10, amount=10
        )
    refresh()
    prediction = CustomerPrediction.objects.get(customer=shop["lapsed"])

    with translation.override("en"):
        response = ApiClient(sales).get(f"/customers/{shop['lapsed'].pk}/prediction")

    assert response.status_code == 200
    body = response.json()
    assert body["customer_id"] == shop["lapsed"].pk
    assert body["p_alive"] == pytest.approx(prediction.p_alive)
    assert body["clv"] == str(prediction.clv)
    assert body["value_at_stake"] == str(prediction.value_at_stake)
    assert (body["horizon_days"], body["clv_months"]) == (90, 12)
    assert body["churn_risk"] == prediction.churn_risk
    assert body["churn_level"] == prediction.churn_level
    assert body["next_action"] == "save_vip"
    # The API speaks the default language, zh-hans.
    assert body["next_action_text"] == "VIP 有流失风险：3 天内致电，送一张满300减45优惠券"
    overdue = next(reason for reason in body["churn_reasons"] if reason["signal"] == "overdue")
    assert overdue == {
        "signal": "overdue",
        "points": 30,
        "text": "约每 20 天购买一次，已沉默 120 天",
        "values": {"typical_gap_days": 20.0, "days_since_last": 120.0},
    }
    assert body["warned_on"] == "2026-06-15"
    assert body["recommended_products"] == [{"id": tea.pk, "sku": "TEA", "name": "绿茶"}]


def test_the_api_answers_404_for_an_invisible_customer_or_no_prediction(shop, sales):
    refresh()
    client = ApiClient(sales)

    hidden = client.get(f"/customers/{shop['colleague'].pk}/prediction")
    missing = client.get(f"/customers/{make_customer(owner=sales).pk}/prediction")

    assert (hidden.status_code, missing.status_code) == (404, 404)
    assert hidden.json()["error"]["code"] == "not_found"
    assert missing.json()["error"]["code"] == "not_found"


def test_segments_refresh_prints_the_predictions_report(shop):
    output = io.StringIO()
    with translation.override("en"):
        call_command("segments", "refresh", stdout=output)

    lines = output.getvalue().splitlines()
    predicted = next(index for index, line in enumerate(lines) if line.startswith("Predicted"))
    assert lines[predicted].startswith("Predicted 43 customers (43 buyers, ")
    assert "Churn levels: Low " in lines[predicted]
    # The command predicts as of now, long after the shop's data: the fit may add a note line.
    heading = next(
        index
        for index in range(predicted + 1, len(lines))
        if lines[index].split() == ["step", "seconds"]
    )
    assert heading - predicted <= 2
    steps = [line.rsplit(maxsplit=1)[0] for line in lines[heading + 1 :]]
    assert steps == ["read", "fit", "churn", "actions", "recommend", "store", "notify", "all steps"]
