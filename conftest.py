"""Registers the shared fixtures in tests/fixtures for every test in the project."""

pytest_plugins = [
    "tests.fixtures.people",
    "tests.fixtures.records",
    "tests.fixtures.browser",
]


import os  # noqa: E402

import pytest  # noqa: E402
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
