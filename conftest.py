"""Registers the shared fixtures in tests/fixtures for every test in the project."""

pytest_plugins = [
    "tests.fixtures.people",
    "tests.fixtures.records",
    "tests.fixtures.browser",
]


import os  # noqa: E402
import uuid  # noqa: E402

import pytest  # noqa: E402
from django.test import RequestFactory  # noqa: E402
from django.test.client import ClientMixin  # noqa: E402
from hypothesis import settings as hypothesis_settings  # noqa: E402

# CI replays the same examples every run (a red build is then a real regression, reproducible);
# local runs draw new examples each time and so keep looking for new failures.
hypothesis_settings.register_profile("ci", derandomize=True)
if os.environ.get("CI") == "true":
    hypothesis_settings.load_profile("ci")


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """PBKDF2 costs ~0.3 s a user; tests create many users and do not test hashing strength."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def throttle_counts_in_memory(settings):
    """Each test counts API requests from zero, in a cache of its own in memory.

    Production counts in the database cache (tested in kehu/core/tests/test_throttle.py); here
    that would carry counts from test to test and add queries to the query-count assertions.
    """
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"test-{uuid.uuid4()}",
        }
    }


@pytest.fixture(autouse=True)
def test_client_login_with_a_request(monkeypatch):
    """The test client's login() calls authenticate() without a request, which the sign-in
    lock-out refuses (it needs the address); give it one, as the sign-in form does."""
    original_login = ClientMixin.login

    def login(self, **credentials):
        credentials.setdefault("request", RequestFactory().post("/login/"))
        return original_login(self, **credentials)

    monkeypatch.setattr(ClientMixin, "login", login)
