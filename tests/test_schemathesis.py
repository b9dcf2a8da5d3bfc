"""schemathesis against the running app (WSGI, in-process): for every operation of the published
document, generated requests as an administrator and as a salesperson never get a server error,
and every answer matches the document (status code, content type and body schema).

Each operation runs as one test in its own rolled-back transaction, with a bounded number of
examples so the whole run stays around a minute (KEHU_SCHEMATHESIS_EXAMPLES=100 for a deeper
search by hand); under CI=true the examples are the same every
run (conftest.py loads the derandomized hypothesis profile)."""

import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from kehu.accounts.services import create_api_token

EXAMPLES_PER_OPERATION = int(os.environ.get("KEHU_SCHEMATHESIS_EXAMPLES", "8"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

# Django's WSGI handler, not kehu.wsgi: that module refuses the development key outside
# development, and the tests run with it.
schema = schemathesis.openapi.from_wsgi("/api/openapi.json", get_wsgi_application())


@pytest.fixture
def connection_kept_open():
    """The WSGI handler closes the database connection after each request; inside a test that
    would end the test's transaction (on PostgreSQL). Django's own test client also
    disconnects it."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def tokens(
    connection_kept_open, admin_user, sales, own_customer, pool_customer, store, channel, product
):
    """Bearer tokens of an administrator and a salesperson, with a few records to find."""
    return {
        "admin": create_api_token(admin_user, "schemathesis")[1],
        "sales": create_api_token(sales, "schemathesis")[1],
    }


@pytest.mark.schemathesis
@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_the_api_keeps_the_promises_of_its_document(case, tokens):
    for token in tokens.values():
        case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)
