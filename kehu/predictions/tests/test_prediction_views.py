"""The prediction pages: the churn warning list (who sees which rows, filters, sorting, export,
planning call-backs), the CLV overview, the model diagnostics, the prediction settings and the
prediction panel of the customer page. Rows are written directly, not by the nightly job."""

import csv
import io
import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone, translation

from kehu.commerce.models import Category, Order, Product
from kehu.core.errors import NotAllowed
from kehu.engagement.models import FollowUp, FollowUpSource
from kehu.predictions.clv_overview import band_edges
from kehu.predictions.models import CustomerPrediction, PredictionFit, PredictionSettings
from kehu.predictions.settings_service import CHURN_WEIGHTS, update_prediction_settings
from kehu.segments.models import CustomerMetrics, Segment, SegmentMember
from tests.fixtures.records import make_customer

OVERDUE = {"signal": "overdue", "points": 30, "typical_gap_days": 21, "days_since_last": 64}
LOW_SCORE = {"signal": "low_satisfaction", "points": 5, "satisfaction": 2}
SAVE_VIP = {"rule": "save_vip", "days": 3, "coupon_threshold": 200, "coupon_discount": 30}


def make_prediction(customer, **fields):
    today = timezone.localdate()
    values = {
        "p_alive": 0.31, "expected_purchases": 0.84, "expected_order_value": Decimal("120.00"),
        "clv": Decimal("960.00"), "value_at_stake": Decimal("662.40"), "churn_risk": 72,
        "churn_level": "warning", "churn_reasons": [OVERDUE, LOW_SCORE],
        "warned_on": today - timedelta(days=5), "next_action": "save_vip",
        "next_action_reason": SAVE_VIP, "refreshed_at": timezone.now(),
    }  # fmt: skip
    values.update(fields)
    return CustomerPrediction.objects.create(customer=customer, **values)


def at_risk(owner, name, stake, **fields):
    customer = make_customer(owner, name=name, **fields.pop("customer_fields", {}))
    make_prediction(customer, value_at_stake=Decimal(stake), **fields)
    return customer


@pytest.fixture
def english(client):
    """Messages checked word for word are read in English, whatever the translations say."""
    client.cookies["django_language"] = "en"
    return client


def names_on(response):
    return [row.customer.name for row in response.context["rows"]]


def page_messages(response):
    return [str(message) for message in response.context["messages"]]


# --- the churn list: who sees what -------------------------------------------------------------


def test_sales_sees_only_own_and_pool_customers_at_risk(client, sales, other_sales):
    at_risk(sales, "王芳", "500")
    at_risk(None, "刘洋", "300", churn_level="critical", churn_risk=90)
    at_risk(other_sales, "李娜", "9999")
    at_risk(sales, "观察中", "800", churn_level="watch", churn_risk=45)
    at_risk(sales, "很好", "900", churn_level="low", churn_risk=10)
    client.force_login(sales)
    response = client.get(reverse("predictions:churn"))
    assert response.status_code == 200
    assert names_on(response) == ["王芳", "刘洋"]
    content = response.content.decode()
    assert "李娜" not in content and "9,999" not in content
    assert 'id="churn-count">2<' in content


def test_level_filter_includes_watch(client, sales):
    at_risk(sales, "王芳", "500")
    at_risk(sales, "观察中", "800", churn_level="watch", churn_risk=45)
    at_risk(sales, "危急", "100", churn_level="critical", churn_risk=95)
    client.force_login(sales)
    assert names_on(client.get(reverse("predictions:churn"), {"level": "watch"})) == ["观察中"]
    watch_up = client.get(reverse("predictions:churn"), {"level": "watch_up"})
    assert names_on(watch_up) == ["观察中", "王芳", "危急"]
    assert names_on(client.get(reverse("predictions:churn"), {"level": "critical"})) == ["危急"]


def test_already_churned_customers_are_left_out_unless_asked_for(client, sales):
    at_risk(sales, "还能挽留", "500")
    lost = at_risk(sales, "已流失", "900", churn_level="critical", churn_risk=95)
    CustomerMetrics.objects.create(
        customer=lost, lifecycle_stage="churned", refreshed_at=timezone.now()
    )
    client.force_login(sales)
    churn = reverse("predictions:churn")
    assert names_on(client.get(churn)) == ["还能挽留"]
    assert names_on(client.get(churn, {"stage": "all"})) == ["已流失", "还能挽留"]
    assert names_on(client.get(churn, {"stage": "churned"})) == ["已流失"]


def test_rows_show_reasons_action_and_numbers_in_words(english, sales):
    at_risk(sales, "王芳", "662.40")
    english.force_login(sales)
    response = english.get(reverse("predictions:churn"))
    row = response.context["rows"][0]
    assert row.reasons == "buys every ~21 days, silent for 64 days; last survey score 2/5"
    assert row.action == "VIP at risk: call within 3 days, offer a 满200减30 coupon"
    content = response.content.decode()
    assert row.reasons in content and row.action in content
    assert "¥662" in content and "¥960" in content
    assert (timezone.localdate() - timedelta(days=5)).isoformat() in content


def test_sorting_by_value_at_stake_risk_clv_warned_and_last_purchase(client, admin_user):
    today = timezone.localdate()
    first = at_risk(None, "甲", "100", churn_risk=90, clv=Decimal("50"), warned_on=today)
    second = at_risk(None, "乙", "300", churn_risk=65, clv=None, warned_on=today - timedelta(9))
    third = at_risk(None, "丙", "200", churn_risk=75, clv=Decimal("700"), warned_on=None)
    for customer, days in ((first, 40), (second, 10), (third, 90)):
        CustomerMetrics.objects.create(
            customer=customer, last_purchase=today - timedelta(days), refreshed_at=timezone.now()
        )
    client.force_login(admin_user)
    url = reverse("predictions:churn")
    assert names_on(client.get(url)) == ["乙", "丙", "甲"]
    assert names_on(client.get(url, {"sort": "risk"})) == ["乙", "丙", "甲"]
    assert names_on(client.get(url, {"sort": "-risk"})) == ["甲", "丙", "乙"]
    assert names_on(client.get(url, {"sort": "-clv"})) == ["丙", "甲", "乙"]
    assert names_on(client.get(url, {"sort": "warned"})) == ["乙", "甲", "丙"]
    assert names_on(client.get(url, {"sort": "-last_purchase"})) == ["乙", "甲", "丙"]
    assert names_on(client.get(url, {"sort": "nonsense"})) == ["乙", "丙", "甲"]


def test_owner_store_segment_and_name_filters(client, manager, sales, admin_user, store):
    at_risk(manager, "经理的", "100")
    at_risk(sales, "店里的", "200", customer_fields={"home_store": store})
    in_segment = at_risk(None, "分群里的", "300")
    segment = Segment.objects.create(name="高价值", kind="static", created_by=admin_user)
    SegmentMember.objects.create(segment=segment, customer=in_segment, joined_at=timezone.now())
    client.force_login(manager)
    url = reverse("predictions:churn")
    assert names_on(client.get(url, {"owner": "me"})) == ["经理的"]
    assert names_on(client.get(url, {"owner": "pool"})) == ["分群里的"]
    assert names_on(client.get(url, {"owner": str(sales.pk)})) == ["店里的"]
    assert names_on(client.get(url, {"store": store.pk})) == ["店里的"]
    assert names_on(client.get(url, {"segment": segment.pk})) == ["分群里的"]
    assert names_on(client.get(url, {"q": "经理"})) == ["经理的"]
    assert names_on(client.get(url, {"owner": "somebody", "store": "x"})) == [
        "分群里的",
        "店里的",
        "经理的",
    ]


def test_churn_list_pages_and_has_a_fixed_number_of_queries(
    client, sales, store, django_assert_max_num_queries
):
    for index in range(30):
        at_risk(sales, f"客户{index:02d}", str(1000 - index), customer_fields={"home_store": store})
    client.force_login(sales)
    url = reverse("predictions:churn")
    client.get(url)
    # session, user, count, page rows, unread notifications, stores, segments (owners: none)
    with django_assert_max_num_queries(7):
        response = client.get(url)
    assert len(response.context["rows"]) == 25
    assert names_on(client.get(url, {"page": 2})) == [f"客户{index}" for index in range(25, 30)]


def test_customer_service_may_not_open_the_churn_or_clv_pages(client, service_agent):
    client.force_login(service_agent)
    for name in ("churn", "churn_export", "clv", "clv_model"):
        assert client.get(reverse(f"predictions:{name}")).status_code == 403, name
    assert client.post(reverse("predictions:churn_follow_ups")).status_code == 403
    assert "/segments/churn/" not in client.get(reverse("web:home")).content.decode()


def test_empty_states_of_the_churn_list(client, sales):
    client.force_login(sales)
    content = client.get(reverse("predictions:churn")).content.decode()
    assert 'id="no-predictions"' in content
    at_risk(sales, "很好", "10", churn_level="low", churn_risk=5)
    content = client.get(reverse("predictions:churn")).content.decode()
    assert 'id="no-warnings"' in content
    content = client.get(reverse("predictions:churn"), {"q": "nobody"}).content.decode()
    assert 'id="no-matches"' in content


# --- export ----------------------------------------------------------------------------------


def export_rows(response):
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def test_csv_export_holds_only_visible_filtered_customers(client, sales, other_sales):
    at_risk(sales, "王芳", "500", customer_fields={"mobile": "13912345678"})
    at_risk(other_sales, "李娜", "900")
    at_risk(None, "刘洋", "300", churn_level="critical", churn_risk=88)
    at_risk(sales, "观察中", "800", churn_level="watch", churn_risk=45)
    client.force_login(sales)
    response = client.get(reverse("predictions:churn_export"), {"format": "csv"})
    rows = export_rows(response)
    assert [row[1] for row in rows[1:]] == ["王芳", "刘洋"]
    assert rows[1][2] == "13912345678"
    assert rows[1][5] == "72"
    response = client.get(reverse("predictions:churn_export"), {"format": "csv", "owner": "pool"})
    assert [row[1] for row in export_rows(response)[1:]] == ["刘洋"]


def test_export_masks_mobiles_for_analysts(client, analyst, sales):
    at_risk(sales, "王芳", "500", customer_fields={"mobile": "13912345678"})
    client.force_login(analyst)
    rows = export_rows(client.get(reverse("predictions:churn_export"), {"format": "csv"}))
    assert rows[1][2] == "139****5678"


# --- call-back tasks from the list ------------------------------------------------------------


def plan(client, customers, **fields):
    data = {"target": "selected", "customer": [customer.pk for customer in customers]}
    data["due_on"] = (timezone.localdate() + timedelta(days=3)).isoformat()
    data.update(fields)
    return client.post(reverse("predictions:churn_follow_ups"), data, follow=True)


def test_creating_call_backs_for_selected_rows(english, sales):
    mine = at_risk(sales, "王芳", "500")
    pooled = at_risk(None, "刘洋", "300")
    english.force_login(sales)
    response = plan(english, [mine, pooled])
    assert page_messages(response) == ["Created 2 call-back tasks"]
    tasks = {task.customer_id: task for task in FollowUp.objects.all()}
    assert set(tasks) == {mine.pk, pooled.pk}
    assert tasks[mine.pk].assignee == sales and tasks[pooled.pk].assignee == sales
    assert tasks[mine.pk].source == FollowUpSource.CHURN_WARNING
    assert tasks[mine.pk].due_on == timezone.localdate() + timedelta(days=3)
    assert tasks[mine.pk].reason == (
        "Churn risk 72: buys every ~21 days, silent for 64 days; last survey score 2/5"
    )
    assert tasks[mine.pk].created_by == sales


def test_pool_customers_go_to_the_actor_and_owned_ones_to_their_owner(client, manager, sales):
    owned = at_risk(sales, "王芳", "500")
    pooled = at_risk(None, "刘洋", "300")
    client.force_login(manager)
    plan(client, [owned, pooled])
    assignees = dict(FollowUp.objects.values_list("customer_id", "assignee_id"))
    assert assignees == {owned.pk: sales.pk, pooled.pk: manager.pk}


def test_a_repeated_request_creates_no_second_open_call_back(english, sales):
    first = at_risk(sales, "王芳", "500")
    second = at_risk(sales, "张伟", "400")
    english.force_login(sales)
    plan(english, [first])
    response = plan(english, [first, second])
    assert page_messages(response) == ["Created 1 call-back task; 1 already had one"]
    assert FollowUp.objects.filter(customer=first).count() == 1
    response = plan(english, [first, second])
    assert page_messages(response) == ["Created 0 call-back tasks; 2 already had one"]
    assert FollowUp.objects.count() == 2


def test_invisible_customers_get_no_call_back(english, sales, other_sales, south_sales):
    mine = at_risk(sales, "王芳", "500")
    theirs = at_risk(other_sales, "李娜", "900")
    far_away = at_risk(south_sales, "陈静", "900")
    english.force_login(sales)
    response = plan(english, [mine, theirs, far_away])
    assert page_messages(response) == [
        "Created 1 call-back task; 2 customers you may not see were skipped"
    ]
    assert list(FollowUp.objects.values_list("customer_id", flat=True)) == [mine.pk]


def test_all_matching_the_filter(english, sales, other_sales):
    critical = at_risk(sales, "危急", "500", churn_level="critical", churn_risk=91)
    at_risk(sales, "王芳", "400")
    at_risk(other_sales, "李娜", "900", churn_level="critical", churn_risk=93)
    english.force_login(sales)
    response = plan(english, [], target="all", level="critical")
    assert page_messages(response) == ["Created 1 call-back task"]
    assert list(FollowUp.objects.values_list("customer_id", flat=True)) == [critical.pk]
    assert response.redirect_chain[-1][0] == reverse("predictions:churn") + "?level=critical"


def test_no_selection_or_a_past_date_creates_nothing(english, sales):
    customer = at_risk(sales, "王芳", "500")
    english.force_login(sales)
    response = plan(english, [])
    assert page_messages(response) == ["Tick at least one customer, or choose all matching."]
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()
    response = plan(english, [customer], due_on=yesterday)
    assert page_messages(response) == ["The due date cannot be in the past."]
    assert FollowUp.objects.count() == 0


def test_roles_without_call_backs_see_no_button_and_are_refused(client, marketer, sales):
    customer = at_risk(sales, "王芳", "500")
    client.force_login(marketer)
    response = client.get(reverse("predictions:churn"))
    assert response.context["can_plan"] is False
    assert 'id="create-follow-ups"' not in response.content.decode()
    assert plan(client, [customer]).status_code == 403
    assert FollowUp.objects.count() == 0


# --- CLV overview ------------------------------------------------------------------------------


def clv_data(response):
    content = response.content.decode()
    return json.loads(content.split('id="clv-data" type="application/json">')[1].split("<")[0])


def test_clv_overview_counts_only_visible_customers(client, sales, other_sales):
    champion = at_risk(sales, "王芳", "600", clv=Decimal("1500"))
    CustomerMetrics.objects.create(
        customer=champion, rfm_segment="Champions", value_tier="vip", refreshed_at=timezone.now()
    )
    at_risk(None, "刘洋", "400", clv=Decimal("30"), churn_level="critical", churn_risk=95)
    at_risk(sales, "很好", "50", clv=Decimal("8"), churn_level="low", churn_risk=5)
    at_risk(sales, "没下单", "0", clv=None, churn_level="low", churn_risk=0)
    at_risk(other_sales, "李娜", "99999", clv=Decimal("99999"))
    client.force_login(sales)
    response = client.get(reverse("predictions:clv"))
    overview = response.context["overview"]
    assert (overview.customers, overview.customers_with_clv) == (4, 3)
    assert overview.total_clv == Decimal("1538.00")
    assert (overview.at_risk_customers, overview.value_at_risk) == (2, Decimal("1000.00"))
    assert [(band.label, band.customers) for band in overview.bands] == [
        ("¥5–10", 1),
        ("¥10–20", 0),
        ("¥20–50", 1),
        ("¥50–100", 0),
        ("¥100–200", 0),
        ("¥200–500", 0),
        ("¥500–1,000", 0),
        ("¥1,000–2,000", 1),
    ]
    segments = [(group.key, group.customers, group.value) for group in overview.risk_by_segment]
    assert segments == [("Champions", 1, Decimal("600.00")), ("", 1, Decimal("400.00"))]
    tiers = [(group.key, group.value) for group in overview.risk_by_tier]
    assert tiers == [("vip", Decimal("600.00")), ("", Decimal("400.00"))]
    levels = {group.key: group.customers for group in overview.levels}
    assert levels == {"low": 2, "watch": 0, "warning": 1, "critical": 1}
    data = clv_data(response)
    assert sum(band["customers"] for band in data["bands"]) == 3
    assert "99,999" not in response.content.decode()
    assert 'id="diagnostics-link"' not in response.content.decode()


def test_clv_overview_has_a_fixed_number_of_queries(
    client, admin_user, django_assert_max_num_queries
):
    for index in range(12):
        at_risk(None, f"客户{index}", str(index * 10), clv=Decimal(index * 100))
    client.force_login(admin_user)
    client.get(reverse("predictions:clv"))
    # session, user, levels, bands, risk groups, settings, unread notifications
    with django_assert_max_num_queries(7):
        response = client.get(reverse("predictions:clv"))
    assert response.context["overview"].customers == 12


def test_clv_overview_without_predictions(client, analyst):
    client.force_login(analyst)
    content = client.get(reverse("predictions:clv")).content.decode()
    assert 'id="no-predictions"' in content
    assert 'id="diagnostics-link"' in content


def test_band_edges_follow_one_two_five():
    assert band_edges(Decimal("0.5")) == [Decimal(1)]
    assert band_edges(Decimal("3")) == [Decimal(1), Decimal(2), Decimal(5)]
    assert band_edges(Decimal("10")) == [Decimal(value) for value in (1, 2, 5, 10, 20)]


# --- model diagnostics -------------------------------------------------------------------------


def make_fit(**fields):
    values = {
        "fitted_at": timezone.now(), "model": "bgnbd", "calibration_end": timezone.localdate(),
        "customers": 2357, "repeat_buyers": 1411,
        "purchase_params": {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426},
        "purchase_log_likelihood": -9582.43,
        "spend_params": {"p": 6.25, "q": 3.74, "gamma": 15.44}, "spend_log_likelihood": -4000.5,
        "holdout": [
            {"frequency": 0, "customers": 1411, "actual": 0.24, "predicted": 0.23},
            {"frequency": 1, "customers": 439, "actual": 0.7, "predicted": 0.85},
        ],
        "seconds": 1.8,
    }  # fmt: skip
    values.update(fields)
    return PredictionFit.objects.create(**values)


def test_diagnostics_show_the_latest_fit_with_named_parameters(client, analyst):
    make_fit(fitted_at=timezone.now() - timedelta(days=1), customers=100)
    make_fit()
    client.force_login(analyst)
    response = client.get(reverse("predictions:clv_model"))
    diagnostics = response.context["diagnostics"]
    assert diagnostics.fit.customers == 2357
    assert [(item.symbol, item.value) for item in diagnostics.purchase_parameters] == [
        ("r", 0.243),
        ("α", 4.414),
        ("a", 0.793),
        ("b", 2.426),
    ]
    assert [item.symbol for item in diagnostics.spend_parameters] == ["p", "q", "γ"]
    assert [row.frequency for row in diagnostics.holdout] == [0, 1]
    assert [fit.customers for fit in diagnostics.past_fits] == [100]
    content = response.content.decode()
    assert 'id="purchase-log-likelihood">-9582.43<' in content
    assert 'id="holdout-table"' in content and 'id="holdout-data"' in content
    assert 'id="fit-failed"' not in content
    data = json.loads(content.split('id="holdout-data" type="application/json">')[1].split("<")[0])
    assert data["predicted"] == [0.23, 0.85]


def test_a_failed_fit_says_why_and_what_to_do(client, admin_user):
    make_fit(
        purchase_params={}, spend_params={}, purchase_log_likelihood=None, holdout=[],
        message="No customer bought twice: the purchase model needs repeat buyers.",
    )  # fmt: skip
    client.force_login(admin_user)
    content = client.get(reverse("predictions:clv_model")).content.decode()
    assert 'id="fit-failed"' in content
    assert "No customer bought twice: the purchase model needs repeat buyers." in content


def test_diagnostics_empty_state_and_who_may_see_them(client, analyst, sales, manager):
    client.force_login(analyst)
    assert 'id="no-fit"' in client.get(reverse("predictions:clv_model")).content.decode()
    for user in (sales, manager):
        client.force_login(user)
        assert client.get(reverse("predictions:clv_model")).status_code == 403


# --- prediction settings -----------------------------------------------------------------------


def settings_values(**changes):
    values = {
        "model": "bgnbd", "horizon_days": 90, "clv_months": 12, "annual_discount_rate": "0.10",
        "weight_p_alive": 35, "weight_overdue": 30, "weight_frequency_drop": 10,
        "weight_spend_drop": 10, "weight_fewer_contacts": 5, "weight_low_satisfaction": 5,
        "weight_open_complaints": 5, "watch_threshold": 40, "warning_threshold": 60,
        "critical_threshold": 80, "notify_level": "warning",
    }  # fmt: skip
    values.update(changes)
    return values


def test_admin_saves_prediction_settings(client, admin_user):
    client.force_login(admin_user)
    url = reverse("predictions:prediction_settings")
    response = client.post(url, settings_values(model="paretonbd", warning_threshold=55))
    assert response.status_code == 302
    stored = PredictionSettings.current()
    assert (stored.model, stored.warning_threshold) == ("paretonbd", 55)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"warning_threshold": 40}, "warning_threshold"),
        ({"critical_threshold": 50}, "critical_threshold"),
        ({"critical_threshold": 101}, "critical_threshold"),
        ({"watch_threshold": 0}, "watch_threshold"),
        ({"annual_discount_rate": "1.2"}, "annual_discount_rate"),
        ({"horizon_days": 0}, "horizon_days"),
        ({"weight_overdue": 101}, "weight_overdue"),
        (dict.fromkeys(CHURN_WEIGHTS, 0), "weight_p_alive"),
    ],
)
def test_bad_prediction_settings_are_shown_and_nothing_is_saved(client, admin_user, changes, field):
    client.force_login(admin_user)
    response = client.post(reverse("predictions:prediction_settings"), settings_values(**changes))
    assert response.status_code == 400
    assert field in response.context["form"].errors
    stored = PredictionSettings.current()
    assert (stored.watch_threshold, stored.warning_threshold, stored.critical_threshold) == (
        40,
        60,
        80,
    )
    assert (stored.weight_p_alive, stored.horizon_days) == (35, 90)


def test_threshold_errors_name_the_rule(admin_user):
    with translation.override("en"), pytest.raises(ValidationError) as raised:
        update_prediction_settings(admin_user, warning_threshold=30)
    assert raised.value.message_dict == {
        "warning_threshold": ["Must be above the watch threshold."]
    }
    with pytest.raises(ValidationError) as raised:
        update_prediction_settings(admin_user, horizon=5)
    assert list(raised.value.message_dict) == ["horizon"]


@pytest.mark.parametrize("role", ["manager", "sales", "marketer", "analyst"])
def test_only_admins_change_prediction_settings(request, client, role):
    user = request.getfixturevalue(role)
    client.force_login(user)
    url = reverse("predictions:prediction_settings")
    assert client.get(url).status_code == 403
    assert client.post(url, settings_values(watch_threshold=10)).status_code == 403
    with pytest.raises(NotAllowed):
        update_prediction_settings(user, watch_threshold=10)
    assert PredictionSettings.current().watch_threshold == 40


# --- the customer page's prediction panel -----------------------------------------------------


@pytest.fixture
def products(db):
    category = Category.objects.create(name="乳制品")
    return [
        Product.objects.create(sku=f"P{index}", name=name, category=category)
        for index, name in enumerate(["酸奶", "奶酪", "黄油"])
    ]


def order_for(customer, channel):
    return Order.objects.create(
        customer=customer, channel=channel, external_id=f"O-{customer.pk}",
        ordered_at=timezone.now(), total_amount=Decimal("120.00"),
    )  # fmt: skip


def test_customer_page_shows_the_prediction_in_words(
    english, sales, own_customer, channel, products
):
    order_for(own_customer, channel)
    gone = products[1].pk + 1000
    make_prediction(own_customer, recommended_products=[products[2].pk, gone, products[0].pk])
    english.force_login(sales)
    response = english.get(reverse("customers:detail", args=[own_customer.pk]))
    panel = response.context["prediction_panel"]
    assert panel.p_alive_percent == 31
    assert panel.products == ("黄油", "酸奶")
    assert panel.reasons == ("buys every ~21 days, silent for 64 days", "last survey score 2/5")
    content = response.content.decode()
    assert 'id="prediction-p-alive">31%<' in content
    assert "Purchases in the next 90 days" in content
    assert "Lifetime value, 12 months" in content
    assert "¥960.00" in content
    assert 'id="prediction-risk">72<' in content
    assert "VIP at risk: call within 3 days, offer a 满200减30 coupon" in content
    assert "黄油" in content and "buys every ~21 days, silent for 64 days" in content


def test_customer_page_without_a_prediction_or_orders_says_so(
    english, sales, own_customer, channel
):
    english.force_login(sales)
    url = reverse("customers:detail", args=[own_customer.pk])
    content = english.get(url).content.decode()
    assert "No orders yet: predictions need at least one purchase." in content
    order_for(own_customer, channel)
    content = english.get(url).content.decode()
    assert "Predictions appear after the nightly refresh." in content
    other = make_customer(sales, name="新客")
    make_prediction(other, p_alive=None, clv=None, churn_reasons=[], next_action="first_purchase")
    content = english.get(reverse("customers:detail", args=[other.pk])).content.decode()
    assert 'id="no-orders"' in content
    assert "No purchase yet: send a welcome offer for a first order" in content


def test_customer_page_with_a_prediction_has_a_fixed_number_of_queries(
    client, sales, own_customer, products, django_assert_max_num_queries
):
    make_prediction(own_customer, recommended_products=[product.pk for product in products])
    client.force_login(sales)
    url = reverse("customers:detail", args=[own_customer.pk])
    client.get(url)
    # the page's 12 with scores and prediction in one query, settings, products, follow-ups,
    # unread notifications, the membership card
    with django_assert_max_num_queries(16):
        response = client.get(url)
    assert len(response.context["prediction_panel"].products) == 3


def test_customer_page_of_another_salesperson_stays_hidden(client, sales, colleague_customer):
    make_prediction(colleague_customer)
    client.force_login(sales)
    assert client.get(reverse("customers:detail", args=[colleague_customer.pk])).status_code == 404
