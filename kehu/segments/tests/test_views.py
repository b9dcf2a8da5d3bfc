"""The segmentation pages: who may open them, what each role sees and counts, the builder's
preview and errors, saving, the segment page, export, thresholds and the scores on the
customer page."""

import json
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from kehu.segments.models import (
    CustomerMetrics,
    Segment,
    SegmentationSettings,
    SegmentMember,
    SegmentSnapshot,
)
from tests.fixtures.records import make_customer

HOSTILE = "<script>alert('x')</script>"
ALLOWED_ROLES = ["admin_user", "manager", "sales", "marketer", "analyst"]


def make_metrics(customer, **fields):
    values = {
        "r_score": 5, "f_score": 5, "m_score": 5, "monetary": Decimal("880.00"),
        "frequency": 4, "rfm_segment": "Champions", "abc_class": "A", "value_tier": "vip",
        "lifecycle_stage": "active", "recency_days": 3, "refreshed_at": timezone.now(),
    }  # fmt: skip
    values.update(fields)
    return CustomerMetrics.objects.create(customer=customer, **values)


def static_segment(creator, customers, name="高价值客户", **fields):
    segment = Segment.objects.create(
        name=name, kind="static", created_by=creator, member_count=len(customers), **fields
    )
    for customer in customers:
        SegmentMember.objects.create(segment=segment, customer=customer, joined_at=timezone.now())
    return segment


def page_urls(segment):
    return [
        reverse("segments:overview"),
        reverse("segments:list"),
        reverse("segments:builder"),
        reverse("segments:detail", args=[segment.pk]),
        reverse("segments:edit", args=[segment.pk]),
    ]


# --- who may open the pages -------------------------------------------------------------------


def test_customer_service_may_not_open_any_segment_page(client, service_agent, admin_user):
    segment = static_segment(admin_user, [])
    client.force_login(service_agent)
    for url in [*page_urls(segment), reverse("segments:settings")]:
        assert client.get(url).status_code == 403, url
    response = client.post(reverse("segments:preview"), {"rule": "{}"})
    assert response.status_code == 403
    response = client.post(reverse("segments:builder"), {"name": "x", "kind": "static"})
    assert response.status_code == 403
    assert Segment.objects.count() == 1


@pytest.mark.parametrize("role", ALLOWED_ROLES)
def test_every_other_role_opens_the_pages(request, client, admin_user, role):
    user = request.getfixturevalue(role)
    segment = static_segment(user, [])
    client.force_login(user)
    for url in page_urls(segment):
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("role", ["manager", "sales", "marketer", "analyst"])
def test_only_admins_change_thresholds(request, client, role):
    client.force_login(request.getfixturevalue(role))
    assert client.get(reverse("segments:settings")).status_code == 403
    assert client.post(reverse("segments:settings"), {"new_days": 1}).status_code == 403
    assert client.post(reverse("segments:refresh_metrics")).status_code == 403


def test_nav_shows_segments_to_sales_but_not_to_service(client, sales, service_agent):
    client.force_login(sales)
    assert 'href="/segments/"' in client.get(reverse("customers:list")).content.decode()
    client.force_login(service_agent)
    assert 'href="/segments/"' not in client.get(reverse("customers:list")).content.decode()


# --- the overview -----------------------------------------------------------------------------


def test_overview_counts_only_what_a_salesperson_may_see(client, sales, other_sales):
    make_metrics(make_customer(sales))
    make_metrics(make_customer(None), monetary=Decimal("20.00"))
    make_metrics(make_customer(other_sales), monetary=Decimal("99999.00"))
    client.force_login(sales)
    response = client.get(reverse("segments:overview"))
    assert response.context["overview"].customers == 2
    content = response.content.decode()
    assert '<span class="stat-value" id="scored-customers">2</span>' in content
    assert "¥900" in content
    assert "99,999" not in content and "99999" not in content
    data = json.loads(content.split('id="overview-data" type="application/json">')[1].split("<")[0])
    assert sum(cell["customers"] for cell in data["rfm"]) == 2


def test_overview_without_scores_shows_the_empty_state(client, admin_user, sales):
    make_customer(sales)
    client.force_login(admin_user)
    content = client.get(reverse("segments:overview")).content.decode()
    assert "kehu segments refresh" in content
    assert 'id="no-scores"' in content
    assert reverse("segments:refresh_metrics") in content
    client.force_login(sales)
    content = client.get(reverse("segments:overview")).content.decode()
    assert 'id="no-scores"' in content
    assert reverse("segments:refresh_metrics") not in content


def test_admin_refreshes_the_scores_now(client, admin_user, sales):
    customer = make_customer(sales)
    client.force_login(admin_user)
    response = client.post(reverse("segments:refresh_metrics"))
    assert response.status_code == 302
    assert CustomerMetrics.objects.filter(customer=customer).exists()


def test_overview_in_chinese_and_in_english(client, sales):
    make_metrics(make_customer(sales))
    client.force_login(sales)
    content = client.get(reverse("segments:overview")).content.decode()
    assert "<h1>客户细分</h1>" in content
    assert "重要价值客户" in content or "冠军客户" in content
    client.post(reverse("set_language"), {"language": "en", "next": "/segments/"})
    content = client.get(reverse("segments:overview")).content.decode()
    assert "<h1>Segmentation</h1>" in content
    assert "Champions" in content


def test_overview_has_a_fixed_number_of_queries(client, admin_user, django_assert_max_num_queries):
    for index in range(40):
        make_metrics(make_customer(None), r_score=index % 5 + 1, f_score=index % 4 + 1)
    client.force_login(admin_user)
    client.get(reverse("segments:overview"))
    with django_assert_max_num_queries(8):  # session, user, 4 aggregates
        response = client.get(reverse("segments:overview"))
    assert response.context["overview"].customers == 40


# --- saved segments ---------------------------------------------------------------------------


def test_list_counts_only_members_the_viewer_may_see(client, sales, other_sales, admin_user):
    mine, pool, theirs = make_customer(sales), make_customer(None), make_customer(other_sales)
    static_segment(admin_user, [mine, pool, theirs], name="三人")
    client.force_login(sales)
    response = client.get(reverse("segments:list"))
    assert [segment.visible_member_count for segment in response.context["segments"]] == [2]
    client.force_login(admin_user)
    response = client.get(reverse("segments:list"))
    assert [segment.visible_member_count for segment in response.context["segments"]] == [3]


def test_list_searches_and_shows_an_empty_state(client, admin_user):
    client.force_login(admin_user)
    assert "还没有分群" in client.get(reverse("segments:list")).content.decode()
    static_segment(admin_user, [], name="母婴人群")
    static_segment(admin_user, [], name="高频客户")
    response = client.get(reverse("segments:list"), {"q": "母婴"})
    assert [segment.name for segment in response.context["segments"]] == ["母婴人群"]


def test_hostile_segment_names_are_shown_escaped(client, admin_user):
    segment = static_segment(admin_user, [], name=HOSTILE, description=HOSTILE)
    client.force_login(admin_user)
    for url in (reverse("segments:list"), reverse("segments:detail", args=[segment.pk])):
        content = client.get(url).content.decode()
        assert HOSTILE not in content, url
        assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in content, url


# --- the builder ------------------------------------------------------------------------------


def test_builder_is_prefilled_from_the_rule_parameter(client, marketer):
    rule = {"all": [{"field": "r_score", "op": "eq", "value": 5}]}
    client.force_login(marketer)
    response = client.get(reverse("segments:builder"), {"rule": json.dumps(rule)})
    assert response.context["initial_rule"] == rule
    assert 'id="rule-fields"' in response.content.decode()


def test_preview_counts_visible_customers_and_masks_contacts(client, analyst, sales):
    shanghai = make_customer(sales, city="上海", mobile="13912345678")
    make_customer(None, city="杭州")
    client.force_login(analyst)
    rule = {"all": [{"field": "city", "op": "in", "value": ["上海"]}]}
    response = client.post(reverse("segments:preview"), {"rule": json.dumps(rule)})
    content = response.content.decode()
    assert response.context["preview"].count == 1
    assert 'data-count="1"' in content
    assert shanghai.name in content
    assert "13912345678" not in content


def test_preview_of_a_salesperson_leaves_out_colleagues_customers(client, sales, other_sales):
    make_customer(sales, city="上海")
    make_customer(other_sales, city="上海")
    client.force_login(sales)
    rule = {"all": [{"field": "city", "op": "eq", "value": "上海"}]}
    response = client.post(reverse("segments:preview"), {"rule": json.dumps(rule)})
    assert response.context["preview"].count == 1


def test_preview_shows_the_errors_by_path(client, sales):
    client.force_login(sales)
    rule = {"all": [{"field": "city", "op": "eq", "value": "上海"}, {"field": "age", "op": "gt"}]}
    response = client.post(reverse("segments:preview"), {"rule": json.dumps(rule)})
    assert response.status_code == 200
    assert response.context["preview"] is None
    assert list(response.context["errors"]) == ["all.1.value"]
    assert 'id="preview-errors"' in response.content.decode()


def test_preview_of_unreadable_json_is_an_error_not_a_crash(client, sales):
    client.force_login(sales)
    response = client.post(reverse("segments:preview"), {"rule": "{not json"})
    assert response.context["errors"] == {"": ["规则无法读取。"]}


def test_saving_a_segment_from_the_builder(client, marketer):
    make_customer(None, city="上海")
    client.force_login(marketer)
    rule = {"all": [{"field": "city", "op": "eq", "value": "上海"}]}
    response = client.post(
        reverse("segments:builder"),
        {"name": "上海客户", "description": "", "kind": "dynamic", "rule": json.dumps(rule)},
    )
    segment = Segment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("segments:detail", args=[segment.pk])
    assert (segment.name, segment.kind, segment.created_by) == ("上海客户", "dynamic", marketer)
    assert segment.rule == rule


def test_saving_a_bad_rule_shows_the_errors_and_saves_nothing(client, marketer):
    client.force_login(marketer)
    rule = {"all": [{"field": "age", "op": "gt", "value": "很多"}]}
    response = client.post(
        reverse("segments:builder"),
        {"name": HOSTILE, "kind": "dynamic", "rule": json.dumps(rule)},
    )
    assert response.status_code == 400
    assert Segment.objects.count() == 0
    content = response.content.decode()
    assert HOSTILE not in content
    assert response.context["initial_rule"] == rule


def test_editing_a_segment_keeps_its_id(client, admin_user):
    segment = Segment.objects.create(
        name="旧名字", kind="dynamic", created_by=admin_user,
        rule={"all": [{"field": "city", "op": "eq", "value": "上海"}]},
    )  # fmt: skip
    client.force_login(admin_user)
    response = client.post(
        reverse("segments:edit", args=[segment.pk]),
        {"name": "新名字", "kind": "dynamic", "rule": json.dumps(segment.rule)},
    )
    assert response.status_code == 302
    segment.refresh_from_db()
    assert segment.name == "新名字"


# --- one segment ------------------------------------------------------------------------------


def test_segment_page_lists_only_visible_members_masked(client, analyst, sales, other_sales):
    mine = make_customer(sales, name="王芳", mobile="13900001111")
    theirs = make_customer(other_sales, name="李娜")
    segment = static_segment(analyst, [mine, theirs])
    SegmentSnapshot.objects.create(
        segment=segment, taken_at=timezone.now(), member_count=2, joined_count=2, left_count=0
    )
    client.force_login(analyst)
    content = client.get(reverse("segments:detail", args=[segment.pk])).content.decode()
    assert "王芳" in content and "李娜" in content
    assert "13900001111" not in content
    assert 'id="trend-data"' in content
    client.force_login(sales)
    response = client.get(reverse("segments:detail", args=[segment.pk]))
    assert [customer.pk for customer in response.context["customers"]] == [mine.pk]
    assert "李娜" not in response.content.decode()
    # The snapshots count all members, so a salesperson is not shown them.
    assert response.context["last_snapshot"] is None
    assert 'id="trend-data"' not in response.content.decode()


def test_segment_page_has_few_queries(client, admin_user, django_assert_max_num_queries):
    customers = [make_customer(None, name=f"客户{index}") for index in range(30)]
    segment = static_segment(admin_user, customers)
    client.force_login(admin_user)
    url = reverse("segments:detail", args=[segment.pk])
    client.get(url)
    with django_assert_max_num_queries(10):
        response = client.get(url)
    assert len(response.context["customers"]) == 25


def test_only_creator_or_admin_may_delete(client, sales, other_sales, admin_user):
    segment = static_segment(sales, [])
    client.force_login(other_sales)
    assert client.post(reverse("segments:delete", args=[segment.pk])).status_code in (403, 404)
    assert Segment.objects.filter(pk=segment.pk).exists()
    client.force_login(admin_user)
    response = client.post(reverse("segments:delete", args=[segment.pk]))
    assert response["Location"] == reverse("segments:list")
    assert not Segment.objects.filter(pk=segment.pk).exists()


def test_export_contains_only_visible_members(client, sales, other_sales, admin_user):
    mine = make_customer(sales, name="王芳")
    theirs = make_customer(other_sales, name="李娜")
    segment = static_segment(admin_user, [mine, theirs])
    client.force_login(sales)
    response = client.get(reverse("segments:export", args=[segment.pk]), {"format": "csv"})
    content = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "王芳" in content
    assert "李娜" not in content
    response = client.get(reverse("segments:export", args=[segment.pk]), {"format": "xlsx"})
    assert response["Content-Disposition"].endswith('.xlsx"')


# --- thresholds -------------------------------------------------------------------------------


def test_admin_saves_thresholds_and_sees_errors(client, admin_user):
    client.force_login(admin_user)
    values = {
        "new_days": 20, "active_days": 60, "dormant_days": 150, "abc_a_share": "0.6",
        "abc_b_share": "0.3", "vip_min_monetary": "3000", "vip_min_frequency": "",
        "new_tier_days": 30,
    }  # fmt: skip
    response = client.post(reverse("segments:settings"), values)
    assert response.status_code == 302
    stored = SegmentationSettings.objects.get()
    assert (stored.dormant_days, stored.vip_min_frequency) == (150, None)
    response = client.post(reverse("segments:settings"), {**values, "active_days": 200})
    assert response.status_code == 400
    assert "必须少于沉默天数" in response.content.decode()
    assert SegmentationSettings.objects.get().active_days == 60


# --- the scores on the customer page ----------------------------------------------------------


def test_customer_page_shows_scores_with_reasons(client, sales, own_customer):
    make_metrics(own_customer, stage_since=timezone.localdate())
    client.force_login(sales)
    response = client.get(reverse("customers:detail", args=[own_customer.pk]))
    content = response.content.decode()
    assert 'id="scores"' in content
    assert "R5" in content and "F5" in content and "M5" in content
    assert response.context["metric_reasons"]
    assert response.context["metric_reasons"][0] in content


def test_customer_page_without_scores_says_so(client, sales, own_customer):
    client.force_login(sales)
    content = client.get(reverse("customers:detail", args=[own_customer.pk])).content.decode()
    assert "还没有评分" in content


def test_customer_page_with_scores_adds_two_queries(
    client, sales, own_customer, django_assert_max_num_queries
):
    make_metrics(own_customer)
    client.force_login(sales)
    url = reverse("customers:detail", args=[own_customer.pk])
    client.get(url)
    with django_assert_max_num_queries(16):  # the page's 14, the metrics row and the thresholds
        client.get(url)


def test_edit_and_delete_buttons_show_only_to_who_may_use_them(client, sales, other_sales):
    """A salesperson opening a colleague's saved segment sees no 编辑/删除 (they would answer
    403); its creator does, and their 编辑 opens the edit page."""
    segment = static_segment(sales, [])
    edit_url = reverse("segments:edit", args=[segment.pk])
    delete_url = reverse("segments:delete", args=[segment.pk])
    client.force_login(other_sales)
    page = client.get(reverse("segments:detail", args=[segment.pk])).content.decode()
    assert f'href="{edit_url}"' not in page
    assert f'action="{delete_url}"' not in page
    assert ">编辑</a>" not in page
    assert client.get(edit_url).status_code == 403
    client.force_login(sales)
    page = client.get(reverse("segments:detail", args=[segment.pk])).content.decode()
    assert f'<a class="button" href="{edit_url}">编辑</a>' in page
    assert f'action="{delete_url}"' in page
    assert client.get(edit_url).status_code == 200
