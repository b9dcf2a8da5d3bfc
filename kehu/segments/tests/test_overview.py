"""The numbers of the segmentation overview: grid, Pareto curve, classes, tiers, stages and
movements, counted only over the customers the viewer may see."""

from datetime import date, timedelta
from decimal import Decimal

import numpy as np
from django.utils import timezone

from kehu.analytics import DEFAULT_SEGMENT_MAP
from kehu.segments.models import CustomerMetrics, LifecycleChange
from kehu.segments.overview import build_overview, downsampled_curve, overview_chart_data
from tests.fixtures.records import make_customer

TODAY = date(2026, 3, 10)


def make_metrics(customer, **fields):
    values = {
        "r_score": 3, "f_score": 3, "m_score": 3, "monetary": Decimal("100.00"),
        "frequency": 1, "rfm_segment": "Need Attention", "abc_class": "C",
        "value_tier": "regular", "lifecycle_stage": "active", "refreshed_at": timezone.now(),
    }  # fmt: skip
    values.update(fields)
    return CustomerMetrics.objects.create(customer=customer, **values)


def cell(overview, recency, frequency):
    return next(
        item
        for item in overview.rfm_cells
        if (item.recency_score, item.frequency_score) == (recency, frequency)
    )


def test_grid_has_25_named_cells_with_counts_and_revenue(admin_user, sales):
    make_metrics(make_customer(sales), r_score=5, f_score=5, monetary=Decimal("300.50"))
    make_metrics(make_customer(sales), r_score=5, f_score=5, monetary=Decimal("99.50"))
    make_metrics(make_customer(None), r_score=1, f_score=2, monetary=Decimal("10"))
    overview = build_overview(admin_user, TODAY)
    assert len(overview.rfm_cells) == 25
    assert [(item.recency_score, item.frequency_score) for item in overview.rfm_cells][:2] == [
        (1, 1),
        (1, 2),
    ]
    champions = cell(overview, 5, 5)
    assert (champions.customers, champions.revenue) == (2, Decimal("400.00"))
    assert champions.segment == DEFAULT_SEGMENT_MAP[(5, 5)] == "Champions"
    assert cell(overview, 1, 2).customers == 1
    assert cell(overview, 3, 3).customers == 0
    assert overview.customers == 3
    assert overview.revenue == Decimal("410.00")


def test_salesperson_counts_only_own_and_pool_customers(sales, other_sales, south_sales):
    make_metrics(make_customer(sales), abc_class="A", monetary=Decimal("500"))
    make_metrics(make_customer(None), abc_class="B", monetary=Decimal("50"))
    make_metrics(make_customer(other_sales), abc_class="A", monetary=Decimal("7000"))
    make_metrics(make_customer(south_sales), abc_class="A", monetary=Decimal("9000"))
    overview = build_overview(sales, TODAY)
    assert overview.customers == 2
    assert overview.revenue == Decimal("550")
    assert {item.key: item.customers for item in overview.abc_classes} == {"A": 1, "B": 1, "C": 0}
    assert sum(item.customers for item in overview.rfm_cells) == 2
    assert overview.pareto[-1] == (1.0, 1.0)


def test_manager_counts_the_team_and_the_pool(manager, sales, south_sales):
    make_metrics(make_customer(sales))
    make_metrics(make_customer(None))
    make_metrics(make_customer(south_sales))
    assert build_overview(manager, TODAY).customers == 2


def test_tiers_and_funnel_list_every_value_in_order(admin_user):
    make_metrics(make_customer(None), value_tier="vip", lifecycle_stage="dormant")
    make_metrics(make_customer(None), value_tier="vip", lifecycle_stage="active")
    make_metrics(make_customer(None), value_tier="new", lifecycle_stage="new")
    overview = build_overview(admin_user, TODAY)
    assert [(item.key, item.customers) for item in overview.value_tiers] == [
        ("vip", 2), ("regular", 0), ("new", 1),
    ]  # fmt: skip
    assert [item.key for item in overview.lifecycle_stages] == [
        "prospect", "new", "active", "dormant", "churned", "reactivated",
    ]  # fmt: skip
    assert [item.customers for item in overview.lifecycle_stages] == [0, 1, 1, 1, 0, 0]


def test_pareto_curve_is_cumulative_share_from_the_biggest_spender(admin_user):
    for amount in ("600", "300", "100", "0"):
        make_metrics(make_customer(None), monetary=Decimal(amount))
    overview = build_overview(admin_user, TODAY)
    assert overview.pareto == [(0.0, 0.0), (0.25, 0.6), (0.5, 0.9), (0.75, 1.0), (1.0, 1.0)]


def test_pareto_curve_is_thinned_to_200_points():
    amounts = np.sort(np.random.default_rng(1).pareto(1.5, 10_000))[::-1]
    curve = downsampled_curve(amounts, 200)
    assert len(curve) == 200
    assert curve[0] == (0.0, 0.0)
    assert curve[-1] == (1.0, 1.0)
    shares = [share for _customers, share in curve]
    assert shares == sorted(shares)


def test_no_metrics_is_the_empty_state(admin_user):
    make_customer(None)
    overview = build_overview(admin_user, TODAY)
    assert overview.is_empty
    assert overview.last_refreshed_at is None
    assert overview.pareto == []


def test_movements_count_changes_of_the_last_7_days_for_visible_customers(sales, other_sales):
    mine, theirs = make_customer(sales), make_customer(other_sales)
    make_metrics(mine)
    for customer, days_ago in ((mine, 0), (mine, 6), (mine, 7), (theirs, 1)):
        LifecycleChange.objects.create(
            customer=customer, previous_stage="active", stage="dormant",
            changed_on=TODAY - timedelta(days=days_ago),
        )  # fmt: skip
    LifecycleChange.objects.create(
        customer=mine, previous_stage="", stage="new", changed_on=TODAY - timedelta(days=2)
    )
    overview = build_overview(sales, TODAY)
    assert [(m.previous_stage, m.stage, m.customers) for m in overview.movements] == [
        ("active", "dormant", 2),
    ]
    assert overview.movement_total == 2


def test_overview_runs_four_queries(admin_user, django_assert_num_queries):
    for index in range(30):
        make_metrics(make_customer(None), r_score=index % 5 + 1, f_score=index % 3 + 1)
    with django_assert_num_queries(4):
        build_overview(admin_user, TODAY)


def test_chart_links_open_the_builder_with_the_cell_as_rule(admin_user):
    make_metrics(make_customer(None), r_score=2, f_score=4)
    data = overview_chart_data(build_overview(admin_user, TODAY))
    cell_data = next(item for item in data["rfm"] if (item["recency"], item["frequency"]) == (2, 4))
    assert cell_data["customers"] == 1
    assert cell_data["link"].startswith("/segments/new/?rule=")
    assert "r_score" in cell_data["link"] and "f_score" in cell_data["link"]
