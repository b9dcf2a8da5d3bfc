"""The coupon pages: who may open them, the template list with statistics, export, the form and
its field errors, issuing with batch progress, redemption at the counter, void, and a
customer's coupons on the member page."""

import csv
import io
from decimal import Decimal

import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from kehu.loyalty.coupons.services import issue_coupon, redeem_coupon
from kehu.loyalty.models import Coupon, CouponIssueBatch, CouponStatus, CouponTemplate
from kehu.loyalty.tests.coupon_data import make_order, make_template
from kehu.segments.models import Segment, SegmentMember
from tests.fixtures.records import make_customer

HOSTILE = "<script>alert('x')</script>"


@pytest.fixture
def holder(sales):
    return make_customer(sales, name="王芳", mobile="13912345678")


@pytest.fixture
def template(marketer):
    return make_template(marketer, name="满减券", kind="fixed", amount_off=Decimal("20"))


def page_urls(template):
    return [
        reverse("loyalty:coupon_templates"),
        reverse("loyalty:coupon_template_create"),
        reverse("loyalty:coupon_template", args=[template.pk]),
        reverse("loyalty:coupon_template_edit", args=[template.pk]),
    ]


# --- who may open the pages -------------------------------------------------------------------


@pytest.mark.parametrize("role", ["sales", "service_agent", "analyst"])
def test_template_pages_are_for_programme_roles(client, request, template, role):
    client.force_login(request.getfixturevalue(role))
    for url in page_urls(template):
        assert client.get(url).status_code == 403, url


@pytest.mark.parametrize("role", ["admin_user", "manager", "marketer"])
def test_programme_roles_open_every_template_page(client, request, template, role):
    client.force_login(request.getfixturevalue(role))
    for url in page_urls(template):
        assert client.get(url).status_code == 200, url


def test_the_counter_is_for_serving_roles(client, marketer, analyst, sales, service_agent):
    url = reverse("loyalty:coupon_redeem")
    for user, status in ((marketer, 403), (analyst, 403), (sales, 200), (service_agent, 200)):
        client.force_login(user)
        assert client.get(url).status_code == status


# --- the list ---------------------------------------------------------------------------------


def used_template(marketer, sales, holder, channel, name, total, redeem=True):
    template = make_template(marketer, name=name, kind="fixed", amount_off=Decimal("10"))
    coupon = issue_coupon(marketer, template, holder.pk)
    if redeem:
        redeem_coupon(sales, coupon.code, make_order(holder, channel, total).pk)
    return template


def test_the_list_shows_statistics_sorts_and_searches(
    client, marketer, sales, holder, channel, django_assert_max_num_queries
):
    used_template(marketer, sales, holder, channel, "小额", "50.00")
    used_template(marketer, sales, holder, channel, "大额", "500.00")
    used_template(marketer, sales, holder, channel, HOSTILE, "0.00", redeem=False)
    client.force_login(marketer)
    url = reverse("loyalty:coupon_templates")
    with django_assert_max_num_queries(8):
        response = client.get(url, {"sort": "-revenue"})
    html = response.content.decode()
    assert html.index("大额") < html.index("小额")
    assert "¥500.00" in html and "100%" in html
    assert HOSTILE not in html and "&lt;script&gt;" in html
    found = client.get(url, {"q": "大"}).context["rows"]
    assert [template.name for template, _gives in found] == ["大额"]


def test_the_list_is_paginated_and_has_empty_states(client, marketer):
    client.force_login(marketer)
    url = reverse("loyalty:coupon_templates")
    assert b"no-templates" in client.get(url).content
    for number in range(27):
        make_template(marketer, name=f"券{number:02d}")
    first = client.get(url)
    assert len(first.context["rows"]) == 25 and first.context["page"].has_next()
    assert len(client.get(url, {"page": 2}).context["rows"]) == 2
    assert b"no-matches" in client.get(url, {"q": "没有这个"}).content


def test_export_lists_the_statistics(client, marketer, sales, holder, channel, analyst):
    used_template(marketer, sales, holder, channel, "大额", "500.00")
    client.force_login(marketer)
    response = client.get(reverse("loyalty:coupon_templates_export"), {"format": "csv"})
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1][0] == "大额"
    assert rows[1][4:10] == ["1", "", "1", "100.0%", "10.00", "500.00"]


# --- the form ---------------------------------------------------------------------------------


FORM = {
    "name": "国庆九折",
    "kind": "percent",
    "percent_off": "10",
    "max_discount": "30",
    "min_spend": "0",
    "validity": "fixed",
    "valid_from": "2026-10-01T00:00",
    "valid_until": "2026-10-07T23:59",
    "is_active": "on",
}


def test_the_form_creates_a_template(client, marketer, store):
    client.force_login(marketer)
    response = client.post(
        reverse("loyalty:coupon_template_create"), {**FORM, "stores": [store.pk]}
    )
    template = CouponTemplate.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("loyalty:coupon_template", args=[template.pk])
    assert (template.kind, template.percent_off, template.max_discount) == (
        "percent",
        Decimal("10"),
        Decimal("30"),
    )
    assert list(template.stores.all()) == [store]
    assert timezone.localtime(template.valid_until).strftime("%m-%d %H:%M") == "10-07 23:59"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"percent_off": "120"}, "percent_off"),
        ({"valid_until": "2026-09-01T00:00"}, "valid_until"),
        ({"kind": "threshold", "amount_off": "50", "min_spend": "40"}, "min_spend"),
    ],
)
def test_the_form_shows_the_services_message_next_to_the_field(client, marketer, changes, field):
    client.force_login(marketer)
    response = client.post(reverse("loyalty:coupon_template_create"), {**FORM, **changes})
    assert response.status_code == 400
    assert response.context["form"].errors[field]
    assert f'id="field-{field}"' in response.content.decode()
    assert not CouponTemplate.objects.exists()


def test_editing_after_issue_keeps_what_coupons_give(client, marketer, template, holder):
    issue_coupon(marketer, template, holder.pk)
    client.force_login(marketer)
    url = reverse("loyalty:coupon_template_edit", args=[template.pk])
    form = client.get(url).context["form"]
    assert form.fields["amount_off"].disabled and form.fields["kind"].disabled
    data = {"name": "改名", "kind": "percent", "amount_off": "99", "min_spend": "0"}
    data |= {"validity": "relative", "valid_days": "10", "is_active": "on"}
    assert client.post(url, data).status_code == 302
    template.refresh_from_db()
    assert (template.name, template.kind, template.amount_off, template.valid_days) == (
        "改名",
        "fixed",
        Decimal("20.00"),
        10,
    )


# --- the detail page and issuing --------------------------------------------------------------


def test_issue_to_a_segment_shows_the_finished_batch(
    client, marketer, template, sales, django_capture_on_commit_callbacks
):
    members = [make_customer(sales) for _ in range(3)]
    segment = Segment.objects.create(name="沉睡客户", kind="static", created_by=marketer)
    for customer in members:
        SegmentMember.objects.create(segment=segment, customer=customer, joined_at=timezone.now())
    client.force_login(marketer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("loyalty:coupon_issue", args=[template.pk]),
            {"target": "segment", "segment": segment.pk},
        )
    assert response.status_code == 302
    batch = CouponIssueBatch.objects.get()
    assert (batch.status, batch.issued) == ("done", 3)
    page = client.get(reverse("loyalty:coupon_template", args=[template.pk]))
    html = page.content.decode()
    assert f'id="batch-{batch.pk}" data-status="done"' in html
    assert 'hx-trigger="every 2s"' not in html
    assert page.context["template"].issued == 3
    chart = page.context["chart_data"]
    assert (len(chart["days"]), chart["issued"][-1], sum(chart["issued"])) == (30, 3, 3)
    assert chart["days"][-1] == timezone.localdate().isoformat()


def test_issue_to_a_list_by_id_and_mobile(
    client, marketer, template, holder, sales, django_capture_on_commit_callbacks
):
    other = make_customer(sales)
    client.force_login(marketer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("loyalty:coupon_issue", args=[template.pk]),
            {"target": "list", "customers": f"{holder.mobile}, {other.pk}\n"},
        )
    assert response.status_code == 302
    assert sorted(Coupon.objects.values_list("customer_id", flat=True)) == sorted(
        [holder.pk, other.pk]
    )


def test_issue_to_unknown_customers_names_them_and_issues_nothing(
    client, marketer, template, holder
):
    client.force_login(marketer)
    response = client.post(
        reverse("loyalty:coupon_issue", args=[template.pk]),
        {"target": "list", "customers": f"{holder.pk} 13800000000 abc"},
    )
    assert response.status_code == 400
    assert "abc" in str(response.context["issue_form"].errors["customers"])
    response = client.post(
        reverse("loyalty:coupon_issue", args=[template.pk]),
        {"target": "list", "customers": f"{holder.pk} 13800000000"},
    )
    assert "13800000000" in str(response.context["issue_form"].errors["customers"])
    assert not CouponIssueBatch.objects.exists() and not Coupon.objects.exists()


def test_a_running_batch_polls_its_progress(client, marketer, template):
    batch = CouponIssueBatch.objects.create(
        template=template, status="running", requested=10, issued=4, skipped=1
    )
    client.force_login(marketer)
    response = client.get(reverse("loyalty:coupon_batch", args=[batch.pk]))
    html = response.content.decode()
    assert 'hx-trigger="every 2s"' in html and 'aria-valuenow="50"' in html


# --- the counter ------------------------------------------------------------------------------


def test_check_then_confirm_uses_the_coupon_once(
    client, sales, marketer, template, holder, channel
):
    coupon = issue_coupon(marketer, template, holder.pk)
    order = make_order(holder, channel, "88.00")
    client.force_login(sales)
    url = reverse("loyalty:coupon_redeem")
    page = client.get(url, {"code": coupon.code.lower(), "order": order.external_id})
    html = page.content.decode()
    assert 'data-applies="true"' in html and "¥20.00" in html
    confirm = page.context["confirm_form"].initial
    assert Coupon.objects.get().status == CouponStatus.ISSUED  # checking writes nothing
    for _attempt in range(2):  # a double click sends the same key
        response = client.post(url, confirm, follow=True)
    assert "¥20.00" in str(next(iter(response.context["messages"])))
    used = Coupon.objects.get()
    assert (used.status, used.order, used.discount_amount) == ("redeemed", order, Decimal("20.00"))


def test_the_counter_says_which_rule_refuses(client, sales, marketer, template, holder, channel):
    coupon = issue_coupon(marketer, template, holder.pk)
    stranger_order = make_order(make_customer(sales), channel)
    client.force_login(sales)
    url = reverse("loyalty:coupon_redeem")
    refused = client.get(url, {"code": coupon.code, "order": stranger_order.external_id})
    html = refused.content.decode()
    assert 'data-rule="not_customers_coupon"' in html and 'id="confirm-redeem"' not in html
    unknown = client.get(url, {"code": "NOPE", "order": stranger_order.external_id})
    assert "No coupon has this code." in unknown.content.decode()
    no_order = client.get(url, {"code": coupon.code, "order": "POS-NONE"})
    assert no_order.context["form"].errors["order"]


def test_void_from_the_counter(client, admin_user, marketer, template, holder):
    coupon = issue_coupon(marketer, template, holder.pk)
    client.force_login(admin_user)
    url = reverse("loyalty:coupon_void", args=[coupon.code])
    client.post(url, {"reason": ""})
    assert Coupon.objects.get().status == CouponStatus.ISSUED
    response = client.post(url, {"reason": "客户退回"})
    assert response.status_code == 302
    assert Coupon.objects.values_list("status", "voided_reason").get() == ("void", "客户退回")


def test_void_needs_the_programme_role(client, sales, marketer, template, holder):
    coupon = issue_coupon(marketer, template, holder.pk)
    client.force_login(sales)
    response = client.post(reverse("loyalty:coupon_void", args=[coupon.code]), {"reason": "x"})
    assert response.status_code == 403
    assert Coupon.objects.get().status == CouponStatus.ISSUED


# --- the member page --------------------------------------------------------------------------


def test_the_member_page_partial_loads_the_customers_coupons(
    client, sales, other_sales, marketer, template, holder
):
    coupon = issue_coupon(marketer, template, holder.pk)
    loader = render_to_string("loyalty/partials/member_coupons.html", {"customer": holder})
    url = reverse("loyalty:coupon_customer", args=[holder.pk])
    assert f'hx-get="{url}"' in loader
    client.force_login(sales)
    fragment = client.get(url).content.decode()
    assert f'data-code="{coupon.code}" data-status="issued"' in fragment
    assert "loyalty:coupon_void" not in fragment and "/void/" not in fragment
    client.force_login(other_sales)
    assert client.get(url).status_code == 404


def test_an_unused_coupon_past_its_end_shows_as_expired(client, marketer, template, holder):
    coupon = issue_coupon(marketer, template, holder.pk)
    Coupon.objects.filter(pk=coupon.pk).update(valid_until=timezone.now())
    client.force_login(marketer)
    fragment = client.get(reverse("loyalty:coupon_customer", args=[holder.pk])).content.decode()
    assert 'data-status="expired"' in fragment
