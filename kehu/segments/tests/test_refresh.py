import datetime
from decimal import Decimal

import pytest
from django.forms.models import model_to_dict

from kehu.segments.models import CustomerMetrics, LifecycleChange, SegmentationSettings
from kehu.segments.refresh import refresh_all_metrics, refresh_customer_metrics
from kehu.segments.tests.refresh_data import NOW, TODAY, add_order, build_shop, local


@pytest.fixture
def shop(channel):
    return build_shop(channel)


def metrics_of(customer) -> CustomerMetrics:
    return CustomerMetrics.objects.get(customer=customer)


def all_metrics() -> dict[int, dict]:
    return {row.customer_id: model_to_dict(row) for row in CustomerMetrics.objects.all()}


def test_full_refresh_counts_every_customer(shop):
    report = refresh_all_metrics(NOW)

    assert report.customers == 6
    assert report.customers_with_orders == 5
    assert report.stage_changes == 6
    assert set(report.seconds) == {"read", "summarise", "score", "store"}
    assert CustomerMetrics.objects.count() == 6


def test_summary_skips_cancelled_and_refunded_orders_and_subtracts_refunds(shop):
    refresh_all_metrics(NOW)

    alice = metrics_of(shop.alice)
    assert (alice.frequency, alice.monetary, alice.average_order_value) == (
        2,
        Decimal("150.00"),
        Decimal("75.00"),
    )
    assert alice.first_purchase == datetime.date(2026, 5, 1)
    assert alice.last_purchase == datetime.date(2026, 6, 10)
    assert (alice.recency_days, alice.tenure_days) == (5, 45)
    assert alice.discount_share == 0.5
    dan = metrics_of(shop.dan)
    assert (dan.frequency, dan.monetary, dan.last_purchase) == (
        1,
        Decimal("400.00"),
        datetime.date(2026, 2, 1),
    )


def test_unpaid_orders_do_not_count(shop, channel):
    add_order(shop.alice, channel, local(2026, 6, 14, 10, 0), "999", status="pending")
    refresh_all_metrics(NOW)
    alice = metrics_of(shop.alice)
    assert (alice.frequency, alice.monetary, alice.last_purchase) == (
        2,
        Decimal("150.00"),
        datetime.date(2026, 6, 10),
    )


def test_the_local_day_decides_the_purchase_date(shop):
    refresh_all_metrics(NOW)

    bob = metrics_of(shop.bob)  # 23:30 in Shanghai is 15:30 UTC the same day
    assert (bob.last_purchase, bob.recency_days) == (datetime.date(2026, 6, 14), 1)
    carol = metrics_of(shop.carol)  # 00:30 in Shanghai is still yesterday in UTC
    assert carol.last_purchase == datetime.date(2026, 6, 15)
    assert carol.recency_days == 0
    assert carol.previous_purchase == datetime.date(2025, 10, 1)


def test_scores_tiers_and_stages(shop):
    refresh_all_metrics(NOW)

    expected = {
        # customer: (R, F, M, segment, ABC, tier, stage, in stage since)
        shop.alice: (3, 5, 2, "Loyal Customers", "C", "regular", "active", TODAY),
        shop.bob: (4, 2, 5, "Potential Loyalists", "A", "vip", "new", datetime.date(2026, 6, 14)),
        shop.carol: (5, 5, 3, "Champions", "B", "regular", "reactivated", TODAY),
        shop.dan: (2, 2, 4, "Hibernating", "B", "regular", "dormant", datetime.date(2026, 5, 3)),
        shop.eve: (None, None, None, "", "", "new", "prospect", TODAY),
        shop.frank: (
            1,
            2,
            1,
            "Hibernating",
            "C",
            "regular",
            "churned",
            datetime.date(2025, 11, 29),
        ),
    }
    for customer, values in expected.items():
        row = metrics_of(customer)
        assert (
            row.r_score,
            row.f_score,
            row.m_score,
            row.rfm_segment,
            row.abc_class,
            row.value_tier,
            row.lifecycle_stage,
            row.stage_since,
        ) == values, customer.name


def test_interactions_in_the_last_90_days(shop):
    refresh_all_metrics(NOW)

    assert metrics_of(shop.eve).interactions_90_days == 2
    assert metrics_of(shop.alice).interactions_90_days == 0


def test_a_customer_without_orders_is_a_prospect_without_scores(shop):
    refresh_all_metrics(NOW)

    eve = metrics_of(shop.eve)
    assert (eve.frequency, eve.monetary, eve.first_purchase, eve.recency_days) == (
        0,
        Decimal("0.00"),
        None,
        None,
    )


def test_first_refresh_records_each_stage_once_and_a_second_records_nothing(shop):
    refresh_all_metrics(NOW)
    first = LifecycleChange.objects.count()

    report = refresh_all_metrics(NOW)

    assert first == 6
    assert set(LifecycleChange.objects.values_list("previous_stage", flat=True)) == {""}
    assert report.stage_changes == 0
    assert LifecycleChange.objects.count() == 6


def test_a_stage_change_is_recorded_and_unchanged_stages_keep_their_date(shop):
    refresh_all_metrics(NOW)
    later = NOW + datetime.timedelta(days=90)  # 2026-09-13

    report = refresh_all_metrics(later)

    changes = {
        change.customer_id: (change.previous_stage, change.stage, change.changed_on)
        for change in LifecycleChange.objects.exclude(previous_stage="")
    }
    assert changes == {
        shop.alice.pk: ("active", "dormant", datetime.date(2026, 9, 13)),
        shop.bob.pk: ("new", "dormant", datetime.date(2026, 9, 13)),
        shop.dan.pk: ("dormant", "churned", datetime.date(2026, 9, 13)),
    }
    assert report.stage_changes == 3
    assert metrics_of(shop.alice).stage_since == datetime.date(2026, 9, 9)
    assert metrics_of(shop.dan).stage_since == datetime.date(2026, 8, 1)
    assert metrics_of(shop.carol).lifecycle_stage == "reactivated"
    assert metrics_of(shop.carol).stage_since == TODAY
    assert metrics_of(shop.frank).stage_since == datetime.date(2025, 11, 29)


def test_the_breakpoints_of_the_full_refresh_are_stored(shop):
    refresh_all_metrics(NOW)

    breakpoints = SegmentationSettings.current().score_breakpoints
    assert breakpoints["as_of"] == "2026-06-15"
    assert breakpoints["recency_days"] == [134.0, 5.0, 1.0, 0.0]
    assert breakpoints["frequency"] == [1.0, 2.0, 2.0, 2.0]
    assert breakpoints["monetary"] == [150.0, 280.0, 400.0, 3000.0]
    assert breakpoints["abc_minimum"] == [3000.0, 280.0]


def test_single_customer_refresh_equals_the_full_refresh(shop):
    refresh_all_metrics(NOW)
    full = all_metrics()
    CustomerMetrics.objects.all().delete()

    for customer_id in full:
        refresh_customer_metrics(customer_id, NOW)

    assert all_metrics() == full


def test_single_customer_refresh_records_a_stage_change(shop, channel):
    refresh_all_metrics(NOW)
    add_order(shop.frank, channel, local(2026, 6, 15, 9, 0), "60.00")
    refresh_customer_metrics(shop.frank.pk, NOW)

    frank = metrics_of(shop.frank)
    assert (frank.lifecycle_stage, frank.stage_since, frank.frequency) == (
        "reactivated",
        TODAY,
        2,
    )
    change = LifecycleChange.objects.filter(customer=shop.frank).first()
    assert (change.previous_stage, change.stage, change.changed_on) == (
        "churned",
        "reactivated",
        TODAY,
    )


def test_single_customer_refresh_of_a_missing_customer_writes_nothing(db):
    refresh_customer_metrics(987654, NOW)

    assert not CustomerMetrics.objects.exists()
    assert not LifecycleChange.objects.exists()


def test_refresh_of_an_empty_database(db):
    report = refresh_all_metrics(NOW)

    assert (report.customers, report.customers_with_orders, report.stage_changes) == (0, 0, 0)
