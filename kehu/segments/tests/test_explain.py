import datetime
from decimal import Decimal

import pytest
from django.utils import timezone, translation

from kehu.segments.explain import explain_metrics
from kehu.segments.models import CustomerMetrics
from kehu.segments.refresh import refresh_all_metrics
from kehu.segments.tests.refresh_data import NOW, TODAY, build_shop
from tests.fixtures.records import make_customer


@pytest.fixture
def shop(channel):
    shop = build_shop(channel)
    refresh_all_metrics(NOW)
    return shop


def reasons(customer, language: str, today: datetime.date = TODAY) -> list[str]:
    with translation.override(language):
        return explain_metrics(CustomerMetrics.objects.get(customer=customer), today)


def test_dormant_customer_in_english(shop):
    later = datetime.date(2026, 5, 10)  # dan bought on 2026-02-01: 98 days before

    assert reasons(shop.dan, "en", later)[0] == (
        "Last purchase 98 days ago: dormant since 2026-05-03"
    )


def test_dormant_customer_in_chinese(shop):
    assert reasons(shop.dan, "zh-hans")[0] == "上次购买在 134 天前：自 2026-05-03 起沉默"


def test_vip_by_spending_with_the_threshold(shop):
    assert reasons(shop.bob, "en")[:2] == [
        "First purchase 1 day ago: new customer since 2026-06-14",
        "Spent ¥3,000 in 1 order: VIP (threshold ¥2,000)",
    ]
    assert reasons(shop.bob, "zh-hans")[1] == "1 笔订单共消费 ¥3,000：VIP（门槛 ¥2,000）"


def test_every_reason_of_a_regular_customer(shop):
    assert reasons(shop.alice, "en") == [
        "Last purchase 5 days ago: active since 2026-06-15",
        "Spent ¥150 in 2 orders: regular (VIP from ¥2,000)",
        "RFM scores R3 F5 M2: Loyal customers",
        "Class C: among the customers who bring the last 10% of revenue",
    ]


def test_reactivated_and_churned_customers(shop):
    assert reasons(shop.carol, "en")[0] == (
        "Came back on 2026-06-15 after 257 days without buying: reactivated"
    )
    assert reasons(shop.carol, "zh-hans")[0] == "257 天未购买后于 2026-06-15 再次购买：回流"
    assert reasons(shop.frank, "en")[0] == ("Last purchase 379 days ago: churned since 2025-11-29")


def test_prospect_has_no_scores_to_explain(shop):
    assert reasons(shop.eve, "en") == ["No purchase yet: prospect", "No purchase yet: new tier"]
    assert reasons(shop.eve, "zh-hans") == ["尚未购买：潜在客户", "尚未购买：新客"]


def test_vip_by_number_of_orders_and_money_with_cents(db):
    customer = make_customer()
    metrics = CustomerMetrics.objects.create(
        customer=customer,
        first_purchase=datetime.date(2025, 1, 1),
        last_purchase=datetime.date(2026, 6, 1),
        frequency=13,
        monetary=Decimal("1234.50"),
        value_tier="vip",
        lifecycle_stage="active",
        stage_since=datetime.date(2026, 6, 1),
        refreshed_at=timezone.now(),
    )

    with translation.override("en"):
        assert explain_metrics(metrics, TODAY)[1] == ("Ordered 13 times: VIP (threshold 12 orders)")
    metrics.value_tier = "regular"
    with translation.override("en"):
        assert explain_metrics(metrics, TODAY)[1] == (
            "Spent ¥1,234.50 in 13 orders: regular (VIP from ¥2,000)"
        )
