"""Every page and API operation, requested as every role, answers what tests/permissions/matrix.py
says; and the table has a row for every page and operation kehu serves, and no other."""

import copy

import pytest
from django.db import transaction
from django.utils import translation

from kehu.api import api
from tests.permissions.calls import call_operation, call_page
from tests.permissions.endpoints import SKIPPED_NAMES, SKIPPED_NAMESPACES, operations, pages
from tests.permissions.matrix import API, COLUMNS, KNOWN_BUGS, PAGES_GET, PAGES_POST

pytestmark = pytest.mark.django_db

REFUSALS = {401, 403, 404, 405}


def test_every_page_has_a_row_and_every_row_a_page():
    served = set(pages())
    missing, stale = (
        sorted(served - set(PAGES_GET)),
        sorted((set(PAGES_GET) | set(PAGES_POST)) - served),
    )
    routes = [f"{name} (/{pages()[name].route})" for name in missing]
    assert not missing, f"pages without a row in tests/permissions/matrix.py: {routes}"
    assert not stale, f"rows for pages that no longer exist: {stale}"


def test_every_operation_has_a_row_and_every_row_an_operation():
    served = set(operations())
    missing, stale = sorted(served - set(API)), sorted(set(API) - served)
    paths = [f"{name} ({operations()[name].method} {operations()[name].path})" for name in missing]
    assert not missing, f"API operations without a row in tests/permissions/matrix.py: {paths}"
    assert not stale, f"rows for API operations that no longer exist: {stale}"


def test_every_row_has_a_code_for_every_column_and_only_known_codes():
    rows = [*PAGES_GET.values(), *PAGES_POST.values(), *API.values()]
    for codes in rows:
        cells = codes.split()
        assert len(cells) == len(COLUMNS), codes
        assert all(cell == "ok" or cell.isdigit() for cell in cells), codes


def test_the_skips_say_why():
    assert all(reason.strip() for reason in {**SKIPPED_NAMESPACES, **SKIPPED_NAMES}.values())


PAGE_TABLE = {
    **{f"{name} GET": codes for name, codes in PAGES_GET.items()},
    **{f"{name} POST": codes for name, codes in PAGES_POST.items()},
}


def matches(response, expected: str, person: str) -> bool:
    status = response.status_code
    if expected == "ok":
        return status not in REFUSALS and status < 500
    if status != int(expected):
        return False
    return status != 302 or person != "anonymous" or response["Location"].startswith("/login/")


def check_row(endpoint: str, codes: str, call) -> None:
    """Each person in a savepoint of their own (a write of one is gone for the next); every
    cell that differs is named, and a known bug that no longer shows is named too."""
    wrong = []
    for person, expected in zip(COLUMNS, codes.split(), strict=True):
        with transaction.atomic():
            response = call(None if person == "anonymous" else person)
            transaction.set_rollback(True)
        as_expected = matches(response, expected, person)
        known_bug = KNOWN_BUGS.get((endpoint, person))
        if known_bug is None and not as_expected:
            wrong.append(f"{person}: answered {response.status_code}, the table says {expected}")
        elif known_bug is not None and as_expected:
            wrong.append(f"{person}: fixed ({known_bug}); remove it from KNOWN_BUGS")
    assert not wrong, "\n".join(wrong)


@pytest.fixture
def schema_built_once(monkeypatch):
    """ninja builds the OpenAPI schema from the routes on every request to openapi.json (over a
    second each), never from who asks: within one row it is built for real by the first request
    and a copy answers the others, which still go through every middleware and the view."""
    build = api.get_openapi_schema
    built: dict[str, object] = {}

    def once(**kwargs: object) -> object:
        key = f"{translation.get_language()} {sorted(kwargs.items())!r}"
        if key not in built:
            built[key] = build(**kwargs)
        return copy.deepcopy(built[key])

    monkeypatch.setattr(api, "get_openapi_schema", once)


@pytest.mark.parametrize("key", PAGE_TABLE)
def test_page_answers_as_the_table_says(world, schema_built_once, key):
    name, method = key.split()
    page = pages().get(name)
    assert page is not None, f"{name} has a row but is not served"
    check_row(name, PAGE_TABLE[key], lambda who: call_page(world, page, method, who))


@pytest.mark.parametrize("operation_id", API)
def test_operation_answers_as_the_table_says(world, operation_id):
    operation = operations().get(operation_id)
    assert operation is not None, f"{operation_id} has a row but is not served"

    def call(who):
        response = call_operation(world, operation, who)
        assert response["Content-Type"].startswith("application/json"), who
        if response.status_code >= 400:
            assert set(response.json()["error"]) >= {"code", "message", "fields"}, who
        return response

    check_row(operation_id, API[operation_id], call)
