"""The REST API under /api: one NinjaAPI, its authentication, and one JSON shape for every error.

Errors always look like ``{"error": {"code": ..., "message": ..., "fields": [{"path": [...],
"message": ...}]}}`` whether they come from request parsing, a service's ValidationError, a
DomainError, a missing record or failed authentication.
"""

import functools
import json
import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import ninja
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.urls import URLPattern, URLResolver, path, re_path, reverse
from django.utils.html import format_html, json_script
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.openapi.docs import DocsBase
from ninja.operation import Operation
from ninja.parser import Parser
from ninja.security import HttpBearer, SessionAuth

from kehu.accounts.api import router as accounts_router
from kehu.accounts.models import User
from kehu.accounts.services import authenticate_api_request
from kehu.commerce.api import router as commerce_router
from kehu.core.errors import DomainError, NotAllowed
from kehu.core.throttle import RateLimited, client_address
from kehu.customers.api import router as customers_router
from kehu.customers.services import DuplicateCustomer
from kehu.engagement.api import router as engagement_router
from kehu.events.api import router as events_router
from kehu.loyalty.approvals.api import router as loyalty_approvals_router
from kehu.loyalty.coupons.api import router as loyalty_coupons_router
from kehu.loyalty.groupbuy.api import router as loyalty_groupbuy_router
from kehu.loyalty.members.api import router as loyalty_members_router
from kehu.loyalty.points.api import router as loyalty_earning_router
from kehu.loyalty.referrals.api import router as loyalty_referrals_router
from kehu.predictions.api import router as predictions_router
from kehu.segments.api import router as segments_router
from kehu.webhooks.api import router as webhooks_router

logger = logging.getLogger(__name__)

API_DESCRIPTION = """\
The kehu CRM over HTTP: customers, tags, the customer pool, orders and interactions.

**Authentication.** Send `Authorization: Bearer <token>`; create a token with
`kehu api_token create USERNAME --name NAME`. A logged-in browser session works too (unsafe
methods then need the `X-CSRFToken` header).

**Permissions** are those of the pages: a salesperson sees their own customers and the pool, a
manager their team's, others everyone. A customer you may not see answers 404. Contact details
are masked (`138****1234`, the street line as `***`) for roles that may not see them
(`contact_is_masked` is true), and `q` matches a masked contact only on its whole value.

**Errors** are JSON of one shape: `{"error": {"code", "message", "fields": [{"path",
"message"}]}}`. 401 not authenticated, 403 not allowed, 404 not found or not visible, 409 a
business rule refused (for `duplicate_customer` with `matches`), 422 invalid input with the
field path, 429 `rate_limited` past a token's requests per minute or after too many wrong tokens
from one address (wait the `Retry-After` seconds).

**Money** is a decimal string (`"12.50"`), times are ISO 8601 with a timezone.
"""


class JsonBodyParser(Parser):
    """ninja's JSON parser, remembering when the body was not JSON so the error can say so."""

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        try:
            return super().parse_body(request)
        except ValueError:
            request.kehu_body_is_malformed = True  # type: ignore[attr-defined]
            raise


class BearerTokenAuth(HttpBearer):
    """`Authorization: Bearer <token>`, checked against the hashed tokens in accounts.ApiToken.

    Rate-limited per token, and per address for wrong tokens (RateLimited answers 429).
    """

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        return authenticate_api_request(token.strip(), client_address(request))


class BrowserSessionAuth(SessionAuth):
    """The logged-in browser session, with CSRF on unsafe methods.

    Only consulted when there is no Authorization header and the session is logged in, so an API
    client with a wrong token gets 401 rather than a CSRF failure.
    """

    def __call__(self, request: HttpRequest) -> Any:
        if "Authorization" in request.headers or not request.user.is_authenticated:
            return None
        return super().__call__(request)


SWAGGER_ASSETS = {
    "swagger-ui.css": "text/css",
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui-init.js": "text/javascript",
    "favicon.png": "image/png",
}
NINJA_STATIC_DIR = Path(ninja.__file__).resolve().parent / "static" / "ninja"


class LocalSwagger(DocsBase):
    """Swagger UI from the copy bundled in django-ninja, served by kehu itself.

    ninja's own Swagger page loads its assets from a CDN unless "ninja" is an installed app
    (and then relies on static-file serving); kehu serves the few files it needs directly.
    """

    swagger_settings = {"layout": "BaseLayout", "deepLinking": True, "validatorUrl": None}

    def render_page(self, request: HttpRequest, api: "NinjaAPI", **kwargs: Any) -> HttpResponse:
        def asset(name: str) -> str:
            return reverse(f"{api.urls_namespace}:docs-asset", kwargs={"name": name})

        page_settings = {**self.swagger_settings, "url": self.get_openapi_url(api, kwargs)}
        csrf_token = get_token(request) if request.user.is_authenticated else ""
        html = format_html(
            '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{}</title>'
            '<link rel="stylesheet" href="{}"><link rel="icon" href="{}" type="image/png">'
            '</head><body data-csrf-token="{}" data-api-csrf="{}">{}<div id="swagger-ui"></div>'
            '<script src="{}"></script><script src="{}"></script></body></html>',
            api.title,
            asset("swagger-ui.css"),
            asset("favicon.png"),
            csrf_token,
            "true" if csrf_token else "",
            json_script(page_settings, "swagger-settings"),
            asset("swagger-ui-bundle.js"),
            asset("swagger-ui-init.js"),
        )
        return HttpResponse(html)


# Python 3.13 renamed 422's phrase (RFC 9110); pin it so the schema is the same on every Python.
STATUS_DESCRIPTIONS = {"422": "Unprocessable Content"}


class KehuAPI(NinjaAPI):
    def get_openapi_operation_id(self, operation: Operation) -> str:
        """Short operation ids (`list_customers`) instead of ninja's module-qualified ones."""
        return operation.view_func.__name__

    def get_openapi_schema(self, *args: Any, **kwargs: Any) -> Any:
        schema = super().get_openapi_schema(*args, **kwargs)
        for path_item in schema["paths"].values():
            for operation in path_item.values():
                for status, response in operation.get("responses", {}).items():
                    if str(status) in STATUS_DESCRIPTIONS:
                        response["description"] = STATUS_DESCRIPTIONS[str(status)]
        return schema


api = KehuAPI(
    title="kehu API",
    version="1.0.0",
    description=API_DESCRIPTION,
    urls_namespace="api",
    auth=[BearerTokenAuth(), BrowserSessionAuth()],
    docs=LocalSwagger(),
    parser=JsonBodyParser(),
)
api.add_router("", accounts_router, tags=["me"])
api.add_router("", customers_router, tags=["customers"])
api.add_router("", commerce_router, tags=["orders"])
api.add_router("", engagement_router, tags=["interactions"])
api.add_router("", segments_router, tags=["segments"])
api.add_router("", predictions_router, tags=["segments"])
api.add_router("", loyalty_members_router, tags=["loyalty"])
api.add_router("", loyalty_approvals_router, tags=["loyalty"])
api.add_router("", loyalty_coupons_router, tags=["coupons"])
api.add_router("", loyalty_earning_router, tags=["loyalty"])
api.add_router("", loyalty_referrals_router, tags=["referrals"])
api.add_router("", loyalty_groupbuy_router, tags=["referrals"])
api.add_router("", webhooks_router, tags=["webhooks"])
api.add_router("", events_router, tags=["events"])


def error_response(
    request: HttpRequest,
    status: int,
    code: str,
    message: str,
    fields: Iterable[dict[str, Any]] = (),
    **extra: Any,
) -> HttpResponse:
    body = {"error": {"code": code, "message": message, "fields": list(fields), **extra}}
    return api.create_response(request, body, status=status)


def field_path(location: Iterable[Any]) -> list[str | int]:
    """ninja's error location, without the name of the body parameter (always `payload`)."""
    parts = list(location)
    if len(parts) >= 2 and parts[0] == "body" and parts[1] == "payload":
        del parts[1]
    return parts


def dotted_path(dotted: str) -> list[str | int]:
    """`lines.0.quantity` → ["body", "lines", 0, "quantity"]."""
    return ["body", *(int(part) if part.isdigit() else part for part in dotted.split("."))]


@api.exception_handler(NinjaValidationError)
def on_request_invalid(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    fields = [
        {"path": field_path(error.get("loc", ())), "message": str(error.get("msg", ""))}
        for error in exc.errors
    ]
    return error_response(request, 422, "invalid", _("The request is not valid."), fields)


@api.exception_handler(DjangoValidationError)
def on_service_invalid(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    if hasattr(exc, "error_dict"):
        # A dotted name is a path into the body: `rule.all.2.value` → [..., "all", 2, "value"].
        fields = [
            {"path": dotted_path(name), "message": message}
            for name, messages in exc.message_dict.items()
            for message in messages
        ]
    else:
        fields = [{"path": ["body"], "message": message} for message in exc.messages]
    return error_response(request, 422, "invalid", _("Some fields are not valid."), fields)


@api.exception_handler(DomainError)
def on_domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    if isinstance(exc, DuplicateCustomer):
        return on_duplicate(request, exc)
    field = exc.details.get("field")
    fields = [{"path": dotted_path(str(field)), "message": exc.message}] if field else []
    status = 403 if isinstance(exc, NotAllowed) else 409
    return error_response(request, status, exc.code, exc.message, fields)


def on_duplicate(request: HttpRequest, exc: DuplicateCustomer) -> HttpResponse:
    """409 with the matching customers the caller may see (the service leaves out the others)."""
    return error_response(
        request,
        409,
        exc.code,
        exc.message,
        matches=exc.details.get("matches", []),
        can_force=exc.details.get("can_force", True),
    )


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
    return error_response(request, 404, "not_found", _("Not found."))


@api.exception_handler(ObjectDoesNotExist)
def on_object_missing(request: HttpRequest, exc: Exception) -> HttpResponse:
    return on_not_found(request, exc)


@api.exception_handler(AuthenticationError)
def on_not_authenticated(request: HttpRequest, exc: Exception) -> HttpResponse:
    response = error_response(
        request,
        401,
        "not_authenticated",
        _("Send a valid API token in the header “Authorization: Bearer <token>”."),
    )
    response["WWW-Authenticate"] = 'Bearer realm="kehu"'
    return response


@api.exception_handler(RateLimited)
def on_rate_limited(request: HttpRequest, exc: RateLimited) -> HttpResponse:
    response = error_response(
        request,
        429,
        "rate_limited",
        _("Too many requests: try again in %(seconds)d seconds.") % {"seconds": exc.retry_after},
    )
    response["Retry-After"] = str(exc.retry_after)
    return response


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if getattr(request, "kehu_body_is_malformed", False):
        message = _("The request body is not valid JSON.")
        fields = [{"path": ["body"], "message": message}]
        return error_response(request, 422, "malformed_json", message, fields)
    if exc.status_code == 403:
        return error_response(
            request, 403, "csrf_failed", _("CSRF check failed: send the X-CSRFToken header.")
        )
    return error_response(request, exc.status_code, "error", str(exc))


@api.exception_handler(Exception)
def on_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    """A bug answers the JSON error shape in DEBUG too (an API client cannot read Django's
    debug page); the traceback is in the log."""
    logger.exception("API request %s %s failed", request.method, request.path)
    return error_response(request, 500, "server_error", _("Something went wrong on our side."))


def api_root(request: HttpRequest) -> JsonResponse:
    return JsonResponse(
        {"docs": reverse("api:openapi-view"), "openapi": reverse("api:openapi-json")}
    )


def docs_asset(request: HttpRequest, name: str) -> FileResponse:
    if name not in SWAGGER_ASSETS:
        raise Http404(name)
    response = FileResponse((NINJA_STATIC_DIR / name).open("rb"), content_type=SWAGGER_ASSETS[name])
    response["Cache-Control"] = "public, max-age=86400"
    return response


@csrf_exempt  # it changes nothing: any method answers the same JSON 404, not a CSRF page
@login_not_required
def unknown_endpoint(request: HttpRequest, rest: str = "") -> HttpResponse:
    body = {"error": {"code": "not_found", "message": _("No such API endpoint."), "fields": []}}
    return HttpResponse(json.dumps(body), status=404, content_type="application/json")


def with_json_method_not_allowed(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """ninja answers a wrong method with an empty 405; give it the JSON error shape too."""

    @functools.wraps(view)  # keeps ninja's csrf_exempt marker
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        if response.status_code == 405 and "json" not in response.get("Content-Type", ""):
            allowed = response.get("Allow", "")
            response = error_response(
                request, 405, "method_not_allowed", _("This endpoint does not accept that method.")
            )
            response["Allow"] = allowed
        return response

    return wrapper


def without_login_redirect(
    patterns: list[URLPattern | URLResolver],
) -> list[URLPattern | URLResolver]:
    """Exempt every API view from LoginRequiredMiddleware: the API answers 401 JSON itself."""
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            without_login_redirect(pattern.url_patterns)
        else:
            login_not_required(pattern.callback)
    return patterns


def build_urls() -> tuple[list[URLPattern | URLResolver], str, str]:
    patterns, app_name, namespace = api.urls
    patterns = [pattern for pattern in patterns if getattr(pattern, "name", "") != "api-root"]
    for pattern in patterns:
        if isinstance(pattern, URLPattern) and getattr(pattern.callback, "csrf_exempt", False):
            pattern.callback = with_json_method_not_allowed(pattern.callback)
    patterns += [
        path("", api_root, name="api-root"),
        path("docs/assets/<str:name>", docs_asset, name="docs-asset"),
        re_path(r"^(?P<rest>.*)$", unknown_endpoint),
    ]
    return without_login_redirect(patterns), app_name, namespace


api_urls = build_urls()
