"""Counting requests in shared windows, and which address a request comes from."""

import pytest
from django.db import connection
from django.test import RequestFactory

from kehu.core.throttle import RateLimited, client_address, count_hit, forget_hits, is_over

DATABASE_CACHE = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "kehu_cache",
    }
}


def request_from(remote: str, forwarded: str | None = None):
    headers = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **headers)


def test_without_trusted_proxies_the_forwarded_header_is_ignored(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_address(request_from("203.0.113.9", "1.2.3.4")) == "203.0.113.9"


def test_behind_one_proxy_the_address_it_appended_counts_not_the_clients_claim(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    request = request_from("127.0.0.1", "1.2.3.4, 198.51.100.7")
    assert client_address(request) == "198.51.100.7"


def test_a_forwarded_header_shorter_than_the_proxy_chain_falls_back_to_the_connection(settings):
    settings.TRUSTED_PROXY_COUNT = 2
    assert client_address(request_from("127.0.0.1", "198.51.100.7")) == "127.0.0.1"


def test_the_hit_past_the_limit_is_refused_with_the_seconds_left():
    count_hit("probe", limit=2, period=60)
    count_hit("probe", limit=2, period=60)

    with pytest.raises(RateLimited) as refused:
        count_hit("probe", limit=2, period=60)

    assert 1 <= refused.value.retry_after <= 60


def test_a_limit_of_zero_counts_nothing():
    for _hit in range(5):
        count_hit("unlimited", limit=0, period=60)
    assert is_over("unlimited", limit=1, period=60) == 0


def test_forgetting_starts_the_window_afresh():
    count_hit("locked", limit=1, period=60)
    assert is_over("locked", limit=1, period=60) > 0

    forget_hits("locked", period=60)

    assert is_over("locked", limit=1, period=60) == 0


def test_the_database_cache_made_by_migrate_holds_the_counts(db, settings):
    # The table comes from kehu.core's migration, so a fresh `kehu migrate` is enough, and every
    # web worker process reads the same rows.
    settings.CACHES = DATABASE_CACHE
    count_hit("shared", limit=2, period=60)
    count_hit("shared", limit=2, period=60)

    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM kehu_cache")
        assert cursor.fetchone()[0] == 1
    assert is_over("shared", limit=2, period=60) > 0
