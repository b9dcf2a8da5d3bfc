"""Sign-in lock-out after wrong passwords, its unlock, the password rules and API rate limits."""

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from kehu.accounts.models import User
from kehu.accounts.services import create_api_token
from tests.fixtures.people import PASSWORD


def sign_in(client: Client, username: str, password: str, address: str = "10.0.0.1"):
    return client.post(
        reverse("accounts:login"),
        {"username": username, "password": password},
        REMOTE_ADDR=address,
    )


def is_signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_thirty_wrong_passwords_then_the_right_one_does_not_sign_in(client, sales):
    for _attempt in range(30):
        sign_in(client, "sales_north", "wrong-password")

    response = sign_in(client, "sales_north", PASSWORD)

    assert response.status_code == 429
    assert not is_signed_in(client)


def test_the_fifth_wrong_password_locks_and_the_fourth_does_not(client, sales):
    for _attempt in range(4):
        assert sign_in(client, "sales_north", "wrong-password").status_code == 200
    assert sign_in(client, "sales_north", PASSWORD).status_code == 302

    client.logout()
    for _attempt in range(5):
        sign_in(client, "sales_north", "wrong-password")
    assert sign_in(client, "sales_north", PASSWORD).status_code == 429


def test_an_account_locked_from_one_address_is_locked_from_every_address(client, sales):
    for attempt in range(5):
        sign_in(client, "sales_north", "wrong-password", address=f"10.0.1.{attempt}")

    response = sign_in(client, "sales_north", PASSWORD, address="10.9.9.9")

    assert response.status_code == 429
    assert not is_signed_in(client)


def test_an_address_that_tried_many_accounts_is_locked_for_every_account(client, sales, manager):
    for attempt in range(5):
        sign_in(client, f"guess-{attempt}", "wrong-password", address="10.0.2.1")

    locked = sign_in(client, "manager_north", PASSWORD, address="10.0.2.1")
    elsewhere = sign_in(Client(), "manager_north", PASSWORD, address="10.0.2.2")

    assert locked.status_code == 429
    assert elsewhere.status_code == 302


def test_the_lock_out_page_says_what_happened_in_chinese(client, sales):
    for _attempt in range(5):
        sign_in(client, "sales_north", "wrong-password")

    page = sign_in(client, "sales_north", PASSWORD).content.decode()

    assert "登录已锁定" in page
    assert "15 分钟" in page
    assert "管理员" in page


def test_the_lock_out_page_says_what_happened_in_english(client, sales):
    client.cookies["django_language"] = "en"
    for _attempt in range(5):
        sign_in(client, "sales_north", "wrong-password")

    response = sign_in(client, "sales_north", PASSWORD)

    page = response.content.decode()
    assert "Sign-in locked" in page
    assert "locked for 15 minutes" in page
    assert "ask an administrator to unlock" in page
    assert response["Retry-After"] == "900"


def test_an_administrator_unlocks_an_account_in_the_back_office(client, sales, admin_user):
    for _attempt in range(5):
        sign_in(client, "sales_north", "wrong-password")
    back_office = Client()
    back_office.force_login(admin_user)

    response = back_office.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "unlock_sign_in", "_selected_action": [sales.pk]},
    )

    assert response.status_code == 302
    assert not AccessAttempt.objects.filter(username="sales_north").exists()
    assert sign_in(client, "sales_north", PASSWORD).status_code == 302


def test_the_unlock_command_unlocks_an_account_and_an_address(client, sales):
    for attempt in range(5):
        sign_in(client, f"guess-{attempt}", "wrong-password", address="10.0.3.1")
    for _attempt in range(5):
        sign_in(client, "sales_north", "wrong-password", address="10.0.3.2")

    call_command("unlock", "sales_north", "--address", "10.0.3.1", stdout=None)

    assert not AccessAttempt.objects.exists()
    assert sign_in(client, "sales_north", PASSWORD, address="10.0.3.1").status_code == 302


def test_a_successful_sign_in_of_ones_own_does_not_clear_failures_on_another_account(
    client, sales, other_sales
):
    for _attempt in range(4):
        sign_in(client, "sales_north_2", "wrong-password", address="10.0.4.1")
    sign_in(client, "sales_north", PASSWORD, address="10.0.4.1")
    client.logout()

    sign_in(Client(), "sales_north_2", "wrong-password", address="10.0.4.2")

    assert sign_in(Client(), "sales_north_2", PASSWORD, address="10.0.4.3").status_code == 429


@pytest.mark.parametrize("password", ["short-pw1", "password1234", "12345678901"])
def test_weak_passwords_are_refused(db, password):
    with pytest.raises(ValidationError):
        validate_password(password, User(username="someone"))


def test_a_ten_character_uncommon_password_is_accepted(db):
    validate_password("kehu-Zq7x!", User(username="someone"))


# --- the API ----------------------------------------------------------------------------------


def api_get(raw_token: str, address: str = "10.1.0.1"):
    return Client().get(
        "/api/me", headers={"authorization": f"Bearer {raw_token}"}, REMOTE_ADDR=address
    )


def test_a_token_past_its_rate_limit_gets_429_with_retry_after(sales, settings):
    settings.API_RATE_LIMIT_PER_MINUTE = 3
    _token, raw_token = create_api_token(sales, "pos")
    statuses = [api_get(raw_token).status_code for _request in range(3)]

    response = api_get(raw_token)

    assert statuses == [200, 200, 200]
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    error = response.json()["error"]
    assert error["code"] == "rate_limited"
    assert error["fields"] == []
    assert error["message"]


def test_one_tokens_limit_does_not_hold_back_another_token(sales, settings):
    settings.API_RATE_LIMIT_PER_MINUTE = 2
    _first, busy = create_api_token(sales, "busy")
    _second, other = create_api_token(sales, "other")
    for _request in range(3):
        api_get(busy)

    assert api_get(other).status_code == 200


def test_the_default_limit_is_600_a_minute(settings):
    assert settings.API_RATE_LIMIT_PER_MINUTE == 600


def test_wrong_tokens_from_one_address_are_throttled_even_before_a_right_one(sales, settings):
    settings.API_TOKEN_FAILURE_LIMIT = 5
    _token, raw_token = create_api_token(sales, "pos")
    statuses = [api_get(f"kehu_guess{attempt}").status_code for attempt in range(5)]

    guessed = api_get(raw_token)

    assert statuses == [401] * 5
    assert guessed.status_code == 429
    assert guessed.json()["error"]["code"] == "rate_limited"
    assert int(guessed["Retry-After"]) > 60
    assert api_get(raw_token, address="10.1.0.2").status_code == 200


def test_the_unlock_command_clears_an_address_locked_for_wrong_tokens(sales, settings):
    settings.API_TOKEN_FAILURE_LIMIT = 2
    _token, raw_token = create_api_token(sales, "pos")
    for attempt in range(2):
        api_get(f"kehu_guess{attempt}")

    call_command("unlock", "--address", "10.1.0.1", stdout=None)

    assert api_get(raw_token).status_code == 200


def test_a_failed_sign_in_is_recorded_without_the_password(client, sales):
    sign_in(client, "sales_north", "wrong-password-typed")

    attempt = AccessAttempt.objects.get()
    assert attempt.failures_since_start == 1
    assert "wrong-password-typed" not in attempt.post_data
