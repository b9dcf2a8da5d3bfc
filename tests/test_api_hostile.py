"""Hostile numbers against every API operation: an integer beyond 64 bits in any query, path or
body field answers a JSON error (422 with the field path, or 404 for a path no route matches),
never a 500. The operations are read from the published OpenAPI document, so a new one is
covered without touching this test."""

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from kehu.api import api
from tests.api_client import ApiClient, error_paths

HUGE_NUMBERS = (2**70, -(2**70))
# Numbers a 64-bit column holds but a 32-bit one (PostgreSQL integer) does not.
LARGE_NUMBERS = (2**40, -(2**40), 2**63 - 1)
DOCUMENT = api.get_openapi_schema()
COMPONENTS = DOCUMENT["components"]["schemas"]


def resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = COMPONENTS[schema["$ref"].rsplit("/", 1)[1]]
    if "allOf" in schema and len(schema["allOf"]) == 1:
        return resolve(schema["allOf"][0])
    return schema


def variants(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """The alternatives of `anyOf` (`int | None`), or the schema itself."""
    schema = resolve(schema)
    if "anyOf" in schema:
        return [resolve(option) for option in schema["anyOf"]]
    return [schema]


def takes_integer(schema: dict[str, Any]) -> bool:
    return any(option.get("type") == "integer" for option in variants(schema))


def example(schema: dict[str, Any]) -> Any:
    """A plausible value for a schema: the first enum value, 1 for numbers, an item for lists."""
    schema = next((s for s in variants(schema) if s.get("type") != "null"), {})
    if "default" in schema:
        return schema["default"]
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object":
        required = schema.get("required", [])
        return {name: example(schema["properties"][name]) for name in required}
    return {
        "integer": 1,
        "number": 1,
        "boolean": False,
        "array": [example(schema.get("items", {}))] if schema.get("items") else [],
        "string": "2026-01-01" if schema.get("format") == "date" else "x1",
    }.get(kind, "x1")


def body_integer_paths(schema: dict[str, Any], where: tuple[Any, ...] = ()) -> Iterator[tuple]:
    """Every place in a body where an integer goes: ("customer_ids", 0), ("lines", 0, "qty")."""
    for option in variants(schema):
        if option.get("type") == "integer":
            yield where
        elif option.get("type") == "array" and "items" in option:
            yield from body_integer_paths(option["items"], (*where, 0))
        elif option.get("type") == "object":
            for name, field in option.get("properties", {}).items():
                yield from body_integer_paths(field, (*where, name))


def full_body(schema: dict[str, Any]) -> Any:
    """Like example() but with every property, so that every integer has a place to go."""
    schema = next((s for s in variants(schema) if s.get("type") != "null"), {})
    if schema.get("type") == "object":
        return {name: full_body(field) for name, field in schema.get("properties", {}).items()}
    if schema.get("type") == "array" and "items" in schema:
        return [full_body(schema["items"])]
    return example(schema)


def put(body: Any, where: tuple[Any, ...], value: int) -> Any:
    if not where:
        return value
    head, *rest = where
    body[head] = put(body[head], tuple(rest), value)
    return body


def requests(numbers: tuple[int, ...]) -> Iterator[tuple[str, str, str, dict, Any, list]]:
    """(test id, method, path, query, body, the error path expected) for every integer of
    every operation."""
    for route, item in DOCUMENT["paths"].items():
        for method, operation in item.items():
            parameters = operation.get("parameters", [])
            path_values = {
                p["name"]: (1 if takes_integer(p["schema"]) else "x1")
                for p in parameters
                if p["in"] == "path"
            }
            body_schema = None
            if "requestBody" in operation:
                content = operation["requestBody"]["content"]["application/json"]
                body_schema = content["schema"]
            for number in numbers:
                for parameter in parameters:
                    if not takes_integer(parameter["schema"]):
                        continue
                    name = parameter["name"]
                    query = {name: number} if parameter["in"] == "query" else {}
                    values = {**path_values, **({name: number} if not query else {})}
                    body = full_body(body_schema) if body_schema else None
                    yield (
                        f"{method} {route} {parameter['in']}:{name}={number}",
                        method,
                        fill(route, values),
                        query,
                        body,
                        [parameter["in"], name],
                    )
                for where in body_integer_paths(body_schema) if body_schema else ():
                    body = put(full_body(body_schema), where, number)
                    yield (
                        f"{method} {route} body:{'.'.join(map(str, where))}={number}",
                        method,
                        fill(route, path_values),
                        {},
                        body,
                        ["body", *where],
                    )


def fill(route: str, values: dict[str, Any]) -> str:
    return re.sub(r"\{(\w+)\}", lambda match: str(values[match.group(1)]), route)


HOSTILE_REQUESTS = list(requests(HUGE_NUMBERS))


def test_the_walk_reaches_queries_paths_and_bodies():
    ids = [request[0] for request in HOSTILE_REQUESTS]
    assert any(" query:owner=" in one for one in ids)
    assert any(" query:offset=" in one for one in ids)
    assert any(" path:customer_id=" in one for one in ids)
    assert any(" body:customer_ids.0=" in one for one in ids)


@pytest.fixture
def callers(admin_user, sales, own_customer, store, channel, product):
    return {"admin": ApiClient(admin_user), "sales": ApiClient(sales)}


@pytest.mark.parametrize("role", ["admin", "sales"])
def test_no_integer_beyond_64_bits_reaches_a_server_error(callers, role):
    # given every operation with a huge integer in each of its integer fields in turn
    client = callers[role].client
    failures = []
    for name, method, path, query, body, error_path in HOSTILE_REQUESTS:
        # when the request is sent
        response = send(client, method, path, query, body)
        # then a query or body field answers 422 naming the field; an id in the path names no
        # record (404, or the 403/409 the role gets before any record is looked up)
        is_json = "json" in response.get("Content-Type", "")
        if error_path[0] == "path":
            if response.status_code >= 500 or not is_json:
                failures.append(f"{name}: {response.status_code}")
        elif response.status_code != 422 or not is_json:
            failures.append(f"{name}: {response.status_code}")
        else:
            paths = [field["path"] for field in response.json()["error"]["fields"]]
            if error_path[:2] not in [found[:2] for found in paths]:
                failures.append(f"{name}: 422 without the field path ({paths})")
    assert not failures, "\n".join(failures)


def send(client: Any, method: str, path: str, query: dict, body: Any) -> Any:
    if method == "get":
        return client.get(path, query)
    target = path + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")
    return getattr(client, method)(
        target, data=json.dumps(body or {}), content_type="application/json"
    )


@pytest.mark.parametrize("role", ["admin", "sales"])
def test_large_64_bit_integers_never_reach_a_server_error(callers, role):
    # given every operation with a number that fits 64 bits but not a 32-bit column
    client = callers[role].client
    failures = []
    for name, method, path, query, body, _error_path in requests(LARGE_NUMBERS):
        # when the request is sent
        response = send(client, method, path, query, body)

        # then the answer is a JSON answer of the API, never a server error
        if response.status_code >= 500 or "json" not in response.get("Content-Type", ""):
            failures.append(f"{name}: {response.status_code}")
    assert not failures, "\n".join(failures)


def test_a_boolean_is_not_taken_as_a_customer_id(admin_user):
    # given a static segment to add members to
    from kehu.segments.models import Segment

    segment = Segment.objects.create(name="List", kind="static", created_by=admin_user)

    # when the ids are booleans
    response = ApiClient(admin_user).post(
        f"/segments/{segment.pk}/members", {"customer_ids": [False]}
    )

    # then it is refused with the field path, and nothing was added
    assert response.status_code == 422
    assert error_paths(response) == [["body", "customer_ids"]]
    assert segment.members.count() == 0


def test_a_number_is_not_taken_as_a_boolean(admin_user):
    # when an earning rule is sent with is_active 0
    body = {"name": "Double", "multiplier": "2", "is_active": 0}
    response = ApiClient(admin_user).post("/earning-rules", body)

    # then it is refused with the field path, and no rule was written
    from kehu.loyalty.models import EarningRule

    assert response.status_code == 422
    assert error_paths(response) == [["body", "is_active"]]
    assert EarningRule.objects.count() == 0


def test_digits_in_a_query_string_still_parse_as_numbers(admin_user, own_customer):
    response = ApiClient(admin_user).get("/customers", {"owner": str(own_customer.owner_id)})

    assert response.status_code == 200
    assert [item["id"] for item in response.json()["items"]] == [own_customer.pk]


def test_control_characters_are_dropped_from_tag_names(sales, own_customer):
    # when a tag name carries a control character (a tab and line breaks are kept by the API
    # for multi-line text, but a tag name is one line)
    response = ApiClient(sales).put(
        f"/customers/{own_customer.pk}/tags", {"tags": ["VIP\u0001", "老客\u0000户\u007f"]}
    )

    # then the tags are stored without them
    assert response.status_code == 200
    assert sorted(own_customer.tags.values_list("name", flat=True)) == ["VIP", "老客户"]


def test_an_unexpected_error_answers_json_even_in_debug(admin_user, settings, monkeypatch):
    # given DEBUG on and a bug deep inside an operation (simulated: nothing real fails on
    # demand, so the caller lookup is replaced by one that raises)
    settings.DEBUG = True

    def broken(request):
        raise RuntimeError("a bug")

    monkeypatch.setattr("kehu.accounts.api.caller", broken)

    # when the operation is called
    response = ApiClient(admin_user).get("/me")

    # then the answer is the JSON error shape, not Django's debug page
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "server_error"


@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete"])
def test_an_unknown_api_path_answers_json_404_for_every_method(client, method):
    # given a browser client that enforces CSRF, as a real browser's requests are checked
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)

    # when any method is sent to a path that is no endpoint
    response = getattr(browser, method)("/api/no-such-thing", content_type="application/json")

    # then the answer is a JSON 404, not a CSRF or login page
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("method", ["post", "delete"])
def test_an_unknown_api_path_answers_json_404_to_a_logged_in_browser(client, sales, method):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(sales)

    response = getattr(browser, method)("/api/no-such-thing", content_type="application/json")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
