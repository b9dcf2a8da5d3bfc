"""Registers the shared fixtures in tests/fixtures for every test in the project."""

pytest_plugins = [
    "tests.fixtures.people",
    "tests.fixtures.records",
    "tests.fixtures.browser",
]


import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """PBKDF2 costs ~0.3 s a user; tests create many users and do not test hashing strength."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
