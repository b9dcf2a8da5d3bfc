"""One way for every page to run a service and turn its refusals into what people see.

`NotAllowed` becomes a 403 page, a `ValidationError` becomes errors next to the form's fields,
a `RuleViolation` becomes an error message (on the form when it names a field), and `Http404`
from the permission layer passes through untouched.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme

from kehu.core.errors import DomainError, NotAllowed


@dataclass
class Outcome:
    """What a service call gave: its value, or the error that was already shown to the user."""

    value: Any = None
    error: Exception | None = None

    @property
    def succeeded(self) -> bool:
        return self.error is None


def call_service(
    request: HttpRequest,
    service: Callable[..., Any],
    *args: Any,
    form: forms.BaseForm | None = None,
    field_names: Mapping[str, str] | None = None,
    **kwargs: Any,
) -> Outcome:
    """Call `service(*args, **kwargs)`; report a refusal on `form` or as a message."""
    try:
        return Outcome(value=service(*args, **kwargs))
    except NotAllowed as error:
        raise PermissionDenied(error.message) from error
    except ValidationError as error:
        show_validation_error(request, error, form, field_names or {})
        return Outcome(error=error)
    except DomainError as error:
        field = str(error.details.get("field", ""))
        show_on_form(request, form, (field_names or {}).get(field, field), [error.message])
        return Outcome(error=error)


def show_validation_error(
    request: HttpRequest,
    error: ValidationError,
    form: forms.BaseForm | None,
    field_names: Mapping[str, str],
) -> None:
    if not hasattr(error, "error_dict"):
        show_on_form(request, form, "", error.messages)
        return
    for field, field_messages in error.message_dict.items():
        show_on_form(request, form, field_names.get(field, field), field_messages)


def show_on_form(
    request: HttpRequest, form: forms.BaseForm | None, field: str, field_messages: list[str]
) -> None:
    """Put messages next to the named field, on the form as a whole, or as page messages."""
    if form is None:
        for message in field_messages:
            messages.error(request, message)
        return
    target = field if field in form.fields else None
    for message in field_messages:
        form.add_error(target, message)


def redirect_back(request: HttpRequest, fallback: str) -> HttpResponseRedirect:
    """Back to the page the request came from (same host only), else to `fallback`."""
    referer = request.headers.get("referer", "")
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return HttpResponseRedirect(referer)
    return HttpResponseRedirect(fallback)
