"""The published OpenAPI document describes every operation with its own request and answer
schemas: no two schema classes share a component name (ninja would silently keep only one); the
committed docs/openapi.json is the document served."""

import json
import types
import typing
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import translation
from pydantic import BaseModel

from kehu.api import api
from kehu.web.management.commands.api_schema import current_schema_text

SCHEMA_FILE = Path(__file__).resolve().parents[1] / "docs" / "openapi.json"


def annotation_models(annotation: Any) -> Iterator[type[BaseModel]]:
    """Every pydantic model named in a type annotation (`list[X] | None` gives X)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    for argument in typing.get_args(annotation):
        yield from annotation_models(argument)
    if isinstance(annotation, types.GenericAlias):
        return


def operation_models() -> Iterator[type[BaseModel]]:
    """The schemas each operation names: its parameters, bodies and answers (not ninja's
    wrappers, which are never published under their own name)."""
    for _prefix, router in api._routers:
        for path_view in router.path_operations.values():
            for operation in path_view.operations:
                wrappers = [*operation.models, *operation.response_models.values()]
                for wrapper in wrappers:
                    if wrapper is None:
                        continue
                    for field in wrapper.model_fields.values():
                        yield from annotation_models(field.annotation)


def all_models() -> set[type[BaseModel]]:
    seen: set[type[BaseModel]] = set()
    pending = list(operation_models())
    while pending:
        model = pending.pop()
        if model in seen:
            continue
        seen.add(model)
        for field in model.model_fields.values():
            pending.extend(annotation_models(field.annotation))
    return seen


def test_no_two_schemas_of_the_api_share_a_component_name():
    # given every schema class the operations use, directly or nested
    by_name: dict[str, set[str]] = defaultdict(set)
    for model in all_models():
        by_name[model.__name__].add(f"{model.__module__}.{model.__qualname__}")

    # then each name belongs to one class
    collisions = {name: sorted(classes) for name, classes in by_name.items() if len(classes) > 1}
    assert collisions == {}


def test_the_walk_sees_the_request_bodies_of_orders_and_redemptions():
    # the collision test above is only as good as its walk: it must reach nested request bodies
    names = {model.__name__ for model in all_models()}
    assert {"OrderIn", "CustomerCreateIn", "LineIn"} <= names


def test_order_and_redemption_bodies_are_documented_with_their_own_fields():
    # given the published document
    schema = api.get_openapi_schema()
    components = schema["components"]["schemas"]

    def body_of(path: str, method: str) -> dict[str, Any]:
        reference = schema["paths"][path][method]["requestBody"]["content"]["application/json"]
        return components[reference["schema"]["$ref"].rsplit("/", 1)[1]]

    # then POST /api/orders takes lines, the member redemption a cash amount, the coupon an order
    assert "lines" in body_of("/api/orders", "post")["properties"]
    assert "cash_amount" in body_of("/api/members/{customer_id}/redeem", "post")["properties"]
    assert "order_id" in body_of("/api/coupons/{code}/redeem", "post")["properties"]


def test_served_schema_matches_the_committed_file(db):
    committed = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    with translation.override("en"):
        served = Client(headers={"accept-language": "en"}).get("/api/openapi.json").json()
    assert served == committed
    assert SCHEMA_FILE.read_text(encoding="utf-8") == current_schema_text()


def test_schema_documents_bearer_and_session_auth(db):
    schema = json.loads(current_schema_text())
    assert schema["info"]["title"] == "kehu API"
    assert set(schema["components"]["securitySchemes"]) == {
        "BearerTokenAuth",
        "BrowserSessionAuth",
    }
    assert schema["paths"]["/api/orders"]["post"]["operationId"] == "post_order"


def test_schema_check_command_fails_on_a_stale_file(tmp_path):
    from io import StringIO

    from django.core.management import CommandError, call_command

    stale = tmp_path / "openapi.json"
    stale.write_text("{}\n", encoding="utf-8")
    with pytest.raises(CommandError, match="out of date"):
        call_command("api_schema", "--check", str(stale), stdout=StringIO())
    call_command("api_schema", "--output", str(stale), stdout=StringIO())
    call_command("api_schema", "--check", str(stale), stdout=StringIO())
    assert stale.read_text(encoding="utf-8").endswith("}\n")
