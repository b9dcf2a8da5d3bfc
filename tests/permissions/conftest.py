"""One business for the whole module (built once, rolled back at the end); each test runs in
its own savepoint inside it, so a write one test makes is gone for the next. Webhook URLs on
loopback are allowed for the module (the world's subscription points at a closed local port)."""

from collections.abc import Iterator

import pytest
from django.db import transaction
from django.test import override_settings

from tests.permissions.world import World, build_world


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker) -> Iterator[World]:
    outer = transaction.atomic()
    with override_settings(WEBHOOKS_ALLOW_PRIVATE_ADDRESSES=True, WEBHOOKS_TIMEOUT_SECONDS=1.0):
        with django_db_blocker.unblock():
            outer.__enter__()
            built = build_world()
        yield built
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
