"""Every page (URL name) and every API operation (operation id) kehu serves, read from the URL
resolver and the live OpenAPI schema: the list the expectation table must cover."""

import functools
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver

# URL namespaces and names the table leaves out, each for a reason.
SKIPPED_NAMESPACES = {
    "admin": "Django's admin checks is_staff itself; no role reaches it (tested by Django)",
}
SKIPPED_NAMES = {
    "set_language": "the language switch: public by design, it changes only a cookie",
}


@dataclass(frozen=True)
class Page:
    name: str  # "namespace:name"
    route: str  # the path with <converters>, for people reading a failure
    arguments: tuple[str, ...]  # the names of the path's arguments


@dataclass(frozen=True)
class Operation:
    operation_id: str
    method: str
    path: str  # the path under /api with {placeholders}


def walk(
    patterns: list, namespace: str = "", prefix: str = "", outer: tuple[str, ...] = ()
) -> list[Page]:
    """Named patterns under `patterns`, with the namespaces and path arguments of the includes
    they sit in."""
    pages = []
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        arguments = outer + tuple(pattern.pattern.regex.groupindex)
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            pages += walk(pattern.url_patterns, inner, route, arguments)
        elif isinstance(pattern, URLPattern) and pattern.name:
            pages.append(Page(namespace + pattern.name, route, arguments))
    return pages


@functools.cache
def operations() -> dict[str, Operation]:
    from kehu.api import api

    schema = api.get_openapi_schema(path_prefix="/api/")
    found = {}
    for path, items in schema["paths"].items():
        for method, operation in items.items():
            found[operation["operationId"]] = Operation(
                operation["operationId"], method.upper(), path.removeprefix("/api")
            )
    return found


@functools.cache
def pages() -> dict[str, Page]:
    """Named URL patterns, less the skipped ones and the API's operations (the API table's)."""
    operation_names = {f"api:{operation_id}" for operation_id in operations()}
    found = {}
    for page in walk(get_resolver().url_patterns):
        namespace = page.name.split(":")[0] if ":" in page.name else ""
        if namespace in SKIPPED_NAMESPACES or page.name in SKIPPED_NAMES.keys() | operation_names:
            continue
        found[page.name] = page
    return found
