"""The home page, the header, the language switch and the error pages."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from kehu.engagement.models import Interaction
from tests.fixtures.records import make_customer


def test_home_without_customers_invites_to_create_one(client, sales):
    client.force_login(sales)
    response = client.get(reverse("web:home"))
    content = response.content.decode()
    assert response.context["has_customers"] is False
    assert reverse("customers:create") in content
    assert "还没有客户" in content


def test_home_counts_and_lists_customers_due_for_follow_up(client, sales, pool_customer):
    long_ago = timezone.now() - timedelta(days=26)
    due = make_customer(owner=sales, name="快到期", owned_since=long_ago)
    make_customer(
        owner=sales, name="刚跟进", owned_since=long_ago, last_followed_up_at=timezone.now()
    )
    Interaction.objects.create(
        customer=due, channel="phone", summary="留言未接", staff=sales, occurred_at=timezone.now()
    )
    client.force_login(sales)
    response = client.get(reverse("web:home"))
    context = response.context
    assert (context["customer_count"], context["pool_count"], context["contacts_this_week"]) == (
        2,
        1,
        1,
    )
    assert [c.name for c in response.context["due_for_follow_up"]] == ["快到期"]
    assert response.context["due_for_follow_up"][0].days_left == 4
    assert "留言未接" in response.content.decode()


def test_home_leaves_out_contacts_with_customers_no_longer_visible(
    client, sales, colleague_customer
):
    # The salesperson once called this customer, who now belongs to a colleague.
    Interaction.objects.create(
        customer=colleague_customer,
        channel="phone",
        summary="别人的客户",
        staff=sales,
        occurred_at=timezone.now(),
    )
    client.force_login(sales)
    assert "别人的客户" not in client.get(reverse("web:home")).content.decode()


def test_header_names_the_user_and_role_with_settings_for_admins(client, admin_user, sales):
    client.force_login(admin_user)
    content = client.get(reverse("web:home")).content.decode()
    assert "管理员" in content
    assert reverse("accounts:pool_settings") in content
    client.force_login(sales)
    content = client.get(reverse("web:home")).content.decode()
    assert "销售" in content
    assert reverse("accounts:pool_settings") not in content


def test_pages_load_htmx_from_local_static_files(client, sales):
    client.force_login(sales)
    content = client.get(reverse("web:home")).content.decode()
    assert '<script src="/static/django_htmx/htmx-2.min.js" defer></script>' in content
    assert "https://" not in content


def test_language_switch_to_english_and_back(client, sales, own_customer):
    client.force_login(sales)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert "My customers" in client.get(reverse("web:home")).content.decode()
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    assert "我的客户" in client.get(reverse("web:home")).content.decode()


def test_not_found_page_uses_the_layout(client, sales):
    client.force_login(sales)
    response = client.get("/customers/999999/")
    assert response.status_code == 404
    assert "找不到" in response.content.decode()
    assert 'class="topbar"' in response.content.decode()


def test_forbidden_page_says_why(client, analyst):
    client.force_login(analyst)
    response = client.get(reverse("customers:create"))
    assert response.status_code == 403
    assert 'class="topbar"' in response.content.decode()
