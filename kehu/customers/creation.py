"""Extras given with a new customer that another app records (a member's referral code).

The customer form and API take the extra's field; the app that understands it registers, from
its ``AppConfig.ready()``, a function ``attach(actor, customer_id, value)`` that records it for
the customer just created and answers a line for the user (or None). The creation and every
extra happen in one transaction: when an extra is refused, nothing is kept and the refusal
names the extra's field.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from django.db import transaction

from kehu.accounts.models import User
from kehu.core.errors import RuleViolation
from kehu.customers.models import Customer

type Attach = Callable[[User, int, str], str | None]


class CreationExtraRefused(RuleViolation):
    """An extra given with a new customer was refused, so the customer was not created either.
    The code and message are the refusing rule's; ``details["field"]`` is the extra's field."""


@dataclass(frozen=True)
class CreationExtra:
    field: str
    attach: Attach


_extras: dict[str, CreationExtra] = {}


def register_creation_extra(field: str, attach: Attach) -> CreationExtra:
    extra = CreationExtra(field, attach)
    _extras[field] = extra
    return extra


def unregister_creation_extra(field: str) -> CreationExtra | None:
    return _extras.pop(field, None)


def create_with_extras(
    actor: User, values: Mapping[str, str], create: Callable[[], Customer]
) -> tuple[Customer, list[str]]:
    """Create the customer (`create`, the customers app's own service call) and attach the
    extras given (blank ones are skipped); answers the customer and the lines for the user."""
    given = [(extra, values[extra.field]) for extra in _extras.values() if values.get(extra.field)]
    if not given:
        return create(), []
    with transaction.atomic():
        customer = create()
        notes = [note for extra, value in given if (note := attach(actor, customer, extra, value))]
    return customer, notes


def attach(actor: User, customer: Customer, extra: CreationExtra, value: str) -> str | None:
    try:
        return extra.attach(actor, customer.pk, value)
    except RuleViolation as refusal:
        raise CreationExtraRefused(
            refusal.message, code=refusal.code, details={"field": extra.field}
        ) from refusal
