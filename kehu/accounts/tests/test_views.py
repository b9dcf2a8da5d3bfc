"""Sign-in, sign-out and the customer-pool settings page."""

from django.urls import reverse

from kehu.accounts.models import PoolPolicy
from tests.fixtures.people import PASSWORD


def test_login_page_is_open_to_anonymous_visitors(client, db):
    response = client.get(reverse("accounts:login"))
    assert response.status_code == 200
    assert 'name="username"' in response.content.decode()


def test_login_with_the_right_password_goes_home(client, sales):
    response = client.post(
        reverse("accounts:login"), {"username": "sales_north", "password": PASSWORD}
    )
    assert response["Location"] == reverse("web:home")
    assert client.get(reverse("web:home")).status_code == 200


def test_login_with_a_wrong_password_shows_an_error(client, sales):
    response = client.post(reverse("accounts:login"), {"username": "sales_north", "password": "x"})
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert "_auth_user_id" not in client.session


def test_login_follows_next(client, sales):
    response = client.post(
        reverse("accounts:login") + "?next=/customers/",
        {"username": "sales_north", "password": PASSWORD, "next": "/customers/"},
    )
    assert response["Location"] == "/customers/"


def test_logout_needs_post(client, sales):
    client.force_login(sales)
    assert client.get(reverse("accounts:logout")).status_code == 405
    response = client.post(reverse("accounts:logout"))
    assert response["Location"] == reverse("accounts:login")
    assert client.get(reverse("web:home")).status_code == 302


def test_admin_changes_the_pool_policy(client, admin_user):
    client.force_login(admin_user)
    data = {"claim_limit": 50, "auto_return_days": 14}
    response = client.post(reverse("accounts:pool_settings"), data)
    assert response.status_code == 302
    policy = PoolPolicy.current()
    assert (policy.claim_limit, policy.auto_return_days, policy.is_auto_return_enabled) == (
        50,
        14,
        False,
    )


def test_pool_policy_rejects_zero_days(client, admin_user):
    client.force_login(admin_user)
    data = {"claim_limit": 50, "auto_return_days": 0, "is_auto_return_enabled": "on"}
    response = client.post(reverse("accounts:pool_settings"), data)
    assert response.status_code == 200
    assert "auto_return_days" in response.context["form"].errors
    assert PoolPolicy.current().auto_return_days == 30


def test_manager_cannot_change_the_pool_policy(client, manager):
    client.force_login(manager)
    response = client.post(reverse("accounts:pool_settings"), {"claim_limit": 1})
    assert response.status_code == 403
    assert PoolPolicy.current().claim_limit == 200
