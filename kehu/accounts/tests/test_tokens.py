from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from kehu.accounts.models import ApiToken
from kehu.accounts.services import authenticate_token, create_api_token, revoke_api_token


def test_create_stores_only_the_digest(sales):
    token, raw_token = create_api_token(sales, "  POS sync  ")
    assert raw_token.startswith("kehu_")
    assert token.digest == ApiToken.digest_of(raw_token)
    assert raw_token not in {token.digest, token.prefix, token.name}
    assert token.prefix == raw_token[:8]
    assert token.name == "POS sync"


def test_authenticate_returns_the_tokens_user(sales):
    _token, raw_token = create_api_token(sales, "POS")
    assert authenticate_token(raw_token) == sales


@pytest.mark.parametrize("raw_token", ["", "kehu_wrong", "x" * 500])
def test_authenticate_rejects_unknown_tokens(sales, raw_token):
    create_api_token(sales, "POS")
    assert authenticate_token(raw_token) is None


def test_authenticate_rejects_an_inactive_user(sales):
    _token, raw_token = create_api_token(sales, "POS")
    sales.is_active = False
    sales.save()
    assert authenticate_token(raw_token) is None


def test_last_used_is_written_at_most_once_a_minute(sales):
    token, raw_token = create_api_token(sales, "POS")
    authenticate_token(raw_token)
    token.refresh_from_db()
    first_use = token.last_used_at
    assert first_use is not None

    authenticate_token(raw_token)
    token.refresh_from_db()
    assert token.last_used_at == first_use

    long_ago = timezone.now() - timedelta(minutes=2)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=long_ago)
    authenticate_token(raw_token)
    token.refresh_from_db()
    assert token.last_used_at > long_ago


def test_revoke_deletes_the_token(sales):
    token, raw_token = create_api_token(sales, "POS")
    assert revoke_api_token(token.pk) is True
    assert authenticate_token(raw_token) is None
    assert revoke_api_token(token.pk) is False


def test_revoke_for_a_user_leaves_other_users_tokens(sales, other_sales):
    token, _raw = create_api_token(other_sales, "POS")
    assert revoke_api_token(token.pk, user=sales) is False
    assert ApiToken.objects.filter(pk=token.pk).exists()


def test_command_creates_a_token_and_prints_it_once(sales):
    output = StringIO()
    call_command("api_token", "create", sales.username, "--name", "POS", stdout=output)
    raw_token = output.getvalue().strip().splitlines()[-1]
    assert authenticate_token(raw_token) == sales
    assert ApiToken.objects.get().name == "POS"


def test_command_lists_tokens_without_their_secret(sales):
    token, raw_token = create_api_token(sales, "POS")
    output = StringIO()
    call_command("api_token", "list", stdout=output)
    listing = output.getvalue()
    assert f"{token.pk}" in listing and "POS" in listing and sales.username in listing
    assert raw_token not in listing


def test_command_revokes_a_token(sales):
    token, _raw_token = create_api_token(sales, "POS")
    call_command("api_token", "revoke", str(token.pk), stdout=StringIO())
    assert not ApiToken.objects.exists()


def test_command_refuses_an_unknown_user_or_token(db):
    with pytest.raises(CommandError):
        call_command("api_token", "create", "nobody", "--name", "POS", stdout=StringIO())
    with pytest.raises(CommandError):
        call_command("api_token", "revoke", "999", stdout=StringIO())
