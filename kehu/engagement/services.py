"""Writes to the interaction timeline."""

from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.core.errors import NotAllowed
from kehu.customers.models import Customer
from kehu.customers.queries import get_visible_customer, may_log_interaction
from kehu.customers.validation import clean_choice, clean_text
from kehu.engagement.models import Direction, Interaction, InteractionChannel


def log_interaction(
    actor: User,
    customer_id: int,
    *,
    channel: str,
    summary: str,
    direction: str = Direction.OUTBOUND,
    occurred_at: datetime | None = None,
) -> Interaction:
    """Record a contact on the customer's timeline; an outbound one counts as a follow-up."""
    customer = get_visible_customer(actor, customer_id)
    if not may_log_interaction(actor, customer):
        raise NotAllowed(
            _("Claim this customer before logging contacts with them."), code="not_allowed"
        )
    fields = clean_interaction_fields(channel, direction, summary, occurred_at)
    with transaction.atomic():
        interaction = Interaction.objects.create(customer=customer, staff=actor, **fields)
        last = customer.last_followed_up_at
        if last is None or fields["occurred_at"] > last:
            Customer.objects.filter(pk=customer.pk).update(
                last_followed_up_at=fields["occurred_at"]
            )
    return interaction


def clean_interaction_fields(
    channel: str, direction: str, summary: str, occurred_at: datetime | None
) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    for field, value, choices in (
        ("channel", channel, InteractionChannel),
        ("direction", direction, Direction),
    ):
        try:
            cleaned[field] = clean_choice(value, choices)
        except ValidationError as error:
            errors[field] = error.messages
    try:
        cleaned["summary"] = clean_text(summary, 2000)
        if not cleaned["summary"]:
            errors["summary"] = [_("Write what was said.")]
    except ValidationError as error:
        errors["summary"] = error.messages
    moment = occurred_at or timezone.now()
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    if moment > timezone.now() + timedelta(minutes=5):
        errors["occurred_at"] = [_("The time cannot be in the future.")]
    cleaned["occurred_at"] = moment
    if errors:
        raise ValidationError(errors)
    return cleaned
