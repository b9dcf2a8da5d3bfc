"""The referral and group-deal pages: who may open them, what they show, the forms and their
refusals (which change nothing), pagination and query counts."""

import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from kehu.loyalty.groupbuy.services import join_group_deal
from kehu.loyalty.models import GroupDeal, GroupParticipant
from kehu.loyalty.referrals.services import attribute_referral, reward_pending_referrals
from kehu.loyalty.tests.referral_data import days_ago, make_deal, make_member, make_order
from tests.fixtures.records import make_customer

HOSTILE = "<script>alert('x')</script>"


@pytest.fixture
def referrals(sales, channel):
    """王芳 brought 李娜 (rewarded) and 周杰 (who had bought before: rejected)."""
    star = make_member(sales, "王芳")
    friend = make_member(sales, "李娜")
    attribute_referral(sales, friend.customer_id, star.referral_code, now=days_ago(5))
    make_order(friend.customer, channel, "100.00", ordered_at=days_ago(1))
    late = make_customer(sales, name="周杰")
    attribute_referral(sales, late.pk, star.referral_code, now=days_ago(5))
    make_order(late, channel, "10.00", ordered_at=days_ago(9))
    grandchild = make_customer(sales, name=HOSTILE)
    attribute_referral(sales, grandchild.pk, friend.referral_code, now=days_ago(2))
    reward_pending_referrals()
    return {"star": star, "friend": friend, "late": late, "grandchild": grandchild}


# --- the report -------------------------------------------------------------------------------


REPORT_ACCESS = [("admin_user", 200), ("manager", 200), ("marketer", 200), ("sales", 403),
                 ("service_agent", 403), ("analyst", 403)]  # fmt: skip


@pytest.mark.parametrize(("role", "status"), REPORT_ACCESS)
def test_only_programme_managers_open_the_report(request, client, role, status):
    client.force_login(request.getfixturevalue(role))
    assert client.get(reverse("loyalty:referrals")).status_code == status


def test_the_report_shows_counts_reasons_and_chart_data(client, manager, referrals):
    client.force_login(manager)
    response = client.get(reverse("loyalty:referrals"))
    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="count-attributed">3<' in page
    assert 'id="count-rewarded">1<' in page and 'id="count-rejected">1<' in page
    assert 'id="conversion">33%<' in page
    assert 'id="points-paid">300<' in page
    assert "Had bought before the referral" in page or "之前" in page  # English or Chinese
    data = json.loads(json.dumps(response.context["chart_data"], default=str))
    assert [item["label"] for item in data["referrers"]] == ["王芳", "李娜"]
    assert [(item["referred"], item["rewarded"]) for item in data["referrers"]] == [(2, 1), (1, 0)]
    assert 'id="referral-report-data"' in page and "loyalty/referrals.js" in page


def test_an_empty_report_explains_itself(client, manager):
    client.force_login(manager)
    page = client.get(reverse("loyalty:referrals")).content.decode()
    assert 'id="no-referrals"' in page and "referrals.js" not in page


# --- the tree ---------------------------------------------------------------------------------


def test_the_tree_page_shows_every_level_escaped(client, sales, referrals):
    client.force_login(sales)
    url = reverse("loyalty:referral_tree", args=[referrals["star"].customer_id])
    response = client.get(url)
    page = response.content.decode()
    assert response.status_code == 200
    rows = [(node.name, node.depth) for node in response.context["referral_nodes"]]
    assert rows == [("李娜", 1), (HOSTILE, 2), ("周杰", 1)]
    assert HOSTILE not in page and "&lt;script&gt;" in page
    assert 'data-depth="2"' in page


def test_the_member_partial_loads_itself_and_renders_the_tree(client, sales, referrals):
    from django.template.loader import render_to_string

    customer = referrals["friend"].customer
    shell = render_to_string("loyalty/partials/member_referrals.html", {"customer": customer})
    partial_url = reverse("loyalty:member_referrals", args=[customer.pk])
    assert f'hx-get="{partial_url}"' in shell
    client.force_login(sales)
    fragment = client.get(partial_url).content.decode()
    assert 'id="referral-tree"' in fragment and "&lt;script&gt;" in fragment
    assert "<html" not in fragment


def test_tree_of_a_customer_out_of_sight_is_404(client, south_sales, analyst, referrals):
    url = reverse("loyalty:referral_tree", args=[referrals["star"].customer_id])
    client.force_login(south_sales)
    assert client.get(url).status_code == 404
    client.force_login(analyst)
    assert client.get(url).status_code == 403


# --- group deals ------------------------------------------------------------------------------


def test_the_list_filters_by_status_and_paginates(
    client, sales, manager, django_assert_max_num_queries
):
    leader = make_customer(sales, name="团长")
    for index in range(27):
        make_deal(sales, leader, title=f"团购{index:02d}")
    GroupDeal.objects.filter(title="团购00").update(status="failed")
    client.force_login(sales)
    with django_assert_max_num_queries(8):
        first = client.get(reverse("loyalty:group_deals"))
    assert first.status_code == 200
    assert len(first.context["deals"]) == 25 and first.context["page"].paginator.count == 27
    second = client.get(reverse("loyalty:group_deals"), {"page": 2})
    assert [deal.title for deal in second.context["deals"]] == ["团购01", "团购00"]
    failed = client.get(reverse("loyalty:group_deals"), {"status": "failed"})
    assert [deal.title for deal in failed.context["deals"]] == ["团购00"]
    assert "1 / 3" in failed.content.decode()


def test_an_empty_list_and_roles_without_rights(client, sales, analyst):
    client.force_login(sales)
    assert "团购" in client.get(reverse("loyalty:group_deals")).content.decode()
    client.force_login(analyst)
    assert client.get(reverse("loyalty:group_deals")).status_code == 403
    assert client.get(reverse("loyalty:group_deal_new")).status_code == 403


def test_the_detail_shows_roles_progress_and_deadline(client, sales, channel):
    leader = make_member(sales, "团长王姐")
    deal = make_deal(sales, leader.customer)
    friend = make_customer(sales, name="邻居")
    join_group_deal(sales, deal.pk, friend.pk, order_id=make_order(friend, channel, "88.00").pk)
    client.force_login(sales)
    response = client.get(reverse("loyalty:group_deal", args=[deal.pk]))
    page = response.content.decode()
    assert [(row.name, row.role) for row in response.context["participants"]] == [
        ("团长王姐", "leader"),
        ("邻居", "participant"),
    ]
    assert 'id="deal-size">2 / 3<' in page
    assert '<progress max="3" value="2"' in page
    assert "¥88.00" in page
    assert timezone.localtime(deal.deadline).strftime("%Y-%m-%d %H:%M") in page
    assert response.context["can_join"] is True and response.context["can_cancel"] is False


def test_a_deal_out_of_sight_is_404(client, sales, south_sales):
    deal = make_deal(sales, make_customer(sales, name="团长"))
    client.force_login(south_sales)
    assert client.get(reverse("loyalty:group_deal", args=[deal.pk])).status_code == 404
    response = client.post(reverse("loyalty:group_deal_join", args=[deal.pk]), {"customer_id": 1})
    assert response.status_code == 404


def test_joining_on_the_page(client, sales, south_customer):
    deal = make_deal(sales, make_customer(sales, name="团长"))
    friend = make_customer(sales, name="邻居")
    client.force_login(sales)
    url = reverse("loyalty:group_deal_join", args=[deal.pk])
    response = client.post(url, {"customer_id": friend.pk})
    assert response.status_code == 302
    assert GroupParticipant.objects.filter(deal=deal, customer=friend).exists()
    refused = client.post(url, {"customer_id": south_customer.pk})
    assert refused.status_code == 200
    assert refused.context["join_form"].errors["customer_id"]
    expired = client.post(url, {"customer_id": friend.pk, "order_id": 999999})
    assert expired.context["join_form"].errors["order_id"]
    assert GroupParticipant.objects.filter(deal=deal).count() == 2


def test_creating_on_the_page(client, sales):
    leader = make_customer(sales, name="团长")
    client.force_login(sales)
    url = reverse("loyalty:group_deal_new")
    assert client.get(url, {"leader": leader.pk}).context["form"]["leader_customer_id"].value()
    deadline = (timezone.localtime() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    form = {
        "title": "周末水果团",
        "leader_customer_id": leader.pk,
        "deadline": deadline,
        "min_size": 4,
        "leader_bonus_points": 30,
        "participant_points_multiplier": "1.5",
    }
    response = client.post(url, form)
    deal = GroupDeal.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("loyalty:group_deal", args=[deal.pk])
    assert (deal.title, deal.min_size, deal.leader) == ("周末水果团", 4, leader)


def test_refused_creations_show_on_the_form_and_write_nothing(client, sales, south_customer):
    leader = make_customer(sales, name="团长")
    client.force_login(sales)
    url = reverse("loyalty:group_deal_new")
    past = (timezone.localtime() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    base = {"title": "团", "leader_customer_id": leader.pk, "deadline": past, "min_size": 3,
            "leader_bonus_points": 0, "participant_points_multiplier": "1"}  # fmt: skip
    late = client.post(url, base)
    assert late.status_code == 200 and late.context["form"].errors["deadline"]
    future = (timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    hidden = client.post(url, {**base, "deadline": future, "leader_customer_id": south_customer.pk})
    assert hidden.context["form"].errors["leader_customer_id"]
    sku = client.post(url, {**base, "deadline": future, "product_sku": "NOPE"})
    assert sku.context["form"].errors["product_sku"]
    assert not GroupDeal.objects.exists()


def test_cancelling_on_the_page(client, sales, manager):
    deal = make_deal(sales, make_customer(sales, name="团长"))
    url = reverse("loyalty:group_deal_cancel", args=[deal.pk])
    client.force_login(sales)
    assert client.post(url).status_code == 403
    assert GroupDeal.objects.get(pk=deal.pk).status == "open"
    client.force_login(manager)
    assert client.get(reverse("loyalty:group_deal", args=[deal.pk])).context["can_cancel"]
    response = client.post(url, follow=True)
    assert GroupDeal.objects.get(pk=deal.pk).status == "cancelled"
    assert response.context["can_cancel"] is False
    again = client.post(url, follow=True)
    assert [str(message) for message in again.context["messages"]]
