"""The earning rule pages and API: who may use them, the list with search, state, sort and
export, the form's field errors, and the API's answers."""

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from kehu.commerce.models import Category
from kehu.loyalty.models import EarningRule
from tests.api_client import ApiClient

HOSTILE = "<script>alert('x')</script>"


@pytest.fixture
def rules(db) -> list[EarningRule]:
    today = timezone.localdate()
    fresh = Category.objects.create(name="生鲜")
    return [
        EarningRule.objects.create(name="生鲜三倍", multiplier=Decimal(3), category=fresh),
        EarningRule.objects.create(
            name="双12 双倍", multiplier=Decimal(2), starts_on=today + timedelta(days=12)
        ),
        EarningRule.objects.create(
            name="国庆", multiplier=Decimal("1.5"), ends_on=today - timedelta(days=30)
        ),
        EarningRule.objects.create(name=HOSTILE, multiplier=Decimal(2), is_active=False),
    ]


def listed(response) -> list[str]:
    return [row.name for row, _scope, _state in response.context["rows"]]


@pytest.mark.parametrize("role", ["sales", "service_agent", "analyst"])
def test_the_pages_are_for_the_programme_roles(client, request, rules, role):
    client.force_login(request.getfixturevalue(role))
    for url in (
        reverse("loyalty:earning_rules"),
        reverse("loyalty:earning_rule_create"),
        reverse("loyalty:earning_rule", args=[rules[0].pk]),
    ):
        assert client.get(url).status_code == 403, url


def test_the_list_shows_scope_state_and_escapes_names(client, marketer, rules):
    client.force_login(marketer)
    response = client.get(reverse("loyalty:earning_rules"))
    html = response.content.decode()
    assert response.status_code == 200
    assert HOSTILE not in html and "&lt;script&gt;" in html
    states = {row.name: state for row, _scope, state in response.context["rows"]}
    assert states == {
        "生鲜三倍": "Running",
        "双12 双倍": "Upcoming",
        "国庆": "Ended",
        HOSTILE: "Not active",
    }
    scopes = {row.name: scope for row, scope, _state in response.context["rows"]}
    assert (scopes["生鲜三倍"], scopes["国庆"]) == ("生鲜", "Whole order")


def test_the_list_searches_filters_and_sorts(client, marketer, rules):
    client.force_login(marketer)
    url = reverse("loyalty:earning_rules")
    assert listed(client.get(url, {"q": "生鲜"})) == ["生鲜三倍"]
    assert listed(client.get(url, {"state": "upcoming"})) == ["双12 双倍"]
    assert listed(client.get(url, {"state": "running"})) == ["生鲜三倍"]
    by_multiplier = listed(client.get(url, {"sort": "-multiplier"}))
    assert by_multiplier[0] == "生鲜三倍" and by_multiplier[-1] == "国庆"


def test_an_empty_list_says_what_to_do(client, marketer):
    client.force_login(marketer)
    html = client.get(reverse("loyalty:earning_rules")).content.decode()
    assert 'id="no-rules"' in html and "double points" in html


def test_the_export_has_every_filtered_rule(client, manager, rules):
    client.force_login(manager)
    response = client.get(reverse("loyalty:earning_rules_export"), {"state": "running"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][:3] == ["Rule", "Points multiplier", "Applies to"]
    assert rows[1:] == [["生鲜三倍", "3.00", "生鲜", "Every store", "", "", "Running"]]


def test_the_form_adds_a_rule(client, marketer):
    client.force_login(marketer)
    fresh = Category.objects.create(name="生鲜")
    response = client.post(
        reverse("loyalty:earning_rule_create"),
        {
            "name": "双11 生鲜",
            "multiplier": "2.5",
            "category": fresh.pk,
            "starts_on": "2026-11-11",
            "ends_on": "2026-11-11",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    rule = EarningRule.objects.get()
    assert (rule.multiplier, rule.category, rule.starts_on) == (
        Decimal("2.5"),
        fresh,
        date(2026, 11, 11),
    )
    assert rule.created_by == marketer


def test_the_form_puts_errors_next_to_fields_and_saves_nothing(client, marketer):
    client.force_login(marketer)
    response = client.post(
        reverse("loyalty:earning_rule_create"),
        {"name": "倒着", "multiplier": "11", "starts_on": "2026-12-02", "ends_on": "2026-12-01"},
    )
    assert response.status_code == 400
    assert "multiplier" in response.context["form"].errors
    response = client.post(
        reverse("loyalty:earning_rule_create"),
        {"name": "倒着", "multiplier": "2", "starts_on": "2026-12-02", "ends_on": "2026-12-01"},
    )
    assert response.status_code == 400
    assert response.context["form"].errors["ends_on"] == [
        "The rule must end on or after the day it starts."
    ]
    assert not EarningRule.objects.exists()


def test_editing_shows_the_rule_and_saves_changes(client, manager, rules):
    client.force_login(manager)
    url = reverse("loyalty:earning_rule", args=[rules[1].pk])
    html = client.get(url).content.decode()
    assert 'value="双12 双倍"' in html
    assert f'value="{rules[1].starts_on:%Y-%m-%d}"' in html  # what a date input accepts
    response = client.post(url, {"name": "双12 双倍", "multiplier": "2"})  # is_active unticked
    assert response.status_code == 302
    rules[1].refresh_from_db()
    assert (rules[1].is_active, rules[1].starts_on) == (False, None)


# --- API --------------------------------------------------------------------------------------


def test_the_api_lists_adds_and_changes_rules(marketer, rules):
    api = ApiClient(marketer)
    listing = api.get("/earning-rules", {"state": "ended"}).json()
    assert (listing["count"], listing["items"][0]["name"]) == (1, "国庆")
    created = api.post("/earning-rules", {"name": "会员日", "multiplier": "2", "store_id": None})
    assert created.status_code == 201
    body = created.json()
    assert (body["multiplier"], body["state"]) == ("2", "running")
    changed = api.put(
        f"/earning-rules/{body['id']}", {"name": "会员日", "multiplier": "3", "is_active": False}
    )
    assert (changed.status_code, changed.json()["state"]) == (200, "inactive")
    assert EarningRule.objects.get(pk=body["id"]).multiplier == Decimal(3)


def test_the_api_refuses_bad_rules_naming_the_field(marketer):
    api = ApiClient(marketer)
    too_big = api.post("/earning-rules", {"name": "十一倍", "multiplier": "11"})
    unknown = api.post("/earning-rules", {"name": "无类", "multiplier": "2", "category_id": 999})
    typo = api.post("/earning-rules", {"name": "拼错", "multiplier": "2", "mutliplier": "3"})
    assert [too_big.status_code, unknown.status_code, typo.status_code] == [422, 422, 422]
    assert unknown.json()["error"]["fields"][0]["path"][-1] == "category"
    assert api.put("/earning-rules/999", {"name": "无", "multiplier": "2"}).status_code == 404
    assert not EarningRule.objects.exists()


def test_the_api_is_for_the_programme_roles(sales, rules):
    api = ApiClient(sales)
    assert api.get("/earning-rules").status_code == 403
    assert api.post("/earning-rules", {"name": "偷偷", "multiplier": "9"}).status_code == 403
    assert EarningRule.objects.count() == len(rules)
