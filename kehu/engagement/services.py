"""Writes to the interaction timeline and the call-back tasks (回访) planned on it."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.accounts.permissions import may, require
from kehu.core.errors import RuleViolation
from kehu.customers.models import Customer
from kehu.customers.queries import get_visible_customer, visible_customers
from kehu.customers.validation import clean_choice, clean_text
from kehu.engagement.models import (
    Direction,
    FollowUp,
    FollowUpSource,
    FollowUpStatus,
    Interaction,
    InteractionChannel,
)
from kehu.engagement.queries import get_visible_follow_up

# One request plans at most this many call-backs: enough for a day's churn list, small enough
# to stay one quick transaction (and one IN list every database accepts).
MAX_FOLLOW_UPS_AT_ONCE = 5_000
REASON_LENGTH = 500


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
    require(actor, "customer.log_interaction", customer)
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


# --- call-back tasks (回访) -------------------------------------------------------------------


@dataclass(frozen=True)
class FollowUpPlan:
    """What `plan_follow_ups` did: tasks created, customers that already had an open one of the
    same source, and ids that were not customers the user may see (nothing made for those)."""

    created: int
    already_open: int
    not_visible: int


def plan_follow_ups(
    actor: User,
    customer_ids: Iterable[int],
    *,
    due_on: date,
    reasons: Mapping[int, str] | None = None,
    default_reason: str = "",
    source: str = FollowUpSource.MANUAL,
    today: date | None = None,
) -> FollowUpPlan:
    """Plan one open call-back per customer and source, for the customer's owner (or the actor,
    for a pool customer or one whose owner has left), in one transaction. Customers the actor
    may not see are counted and skipped; so are those that already have an open call-back from
    this source."""
    require(actor, "follow_up.use")
    wanted = sorted(set(customer_ids))
    check_plan(wanted, due_on, today or timezone.localdate(), source)
    with transaction.atomic():
        assignees = {
            customer_id: owner_id if owner_id and owner_is_active else actor.pk
            for customer_id, owner_id, owner_is_active in visible_customers(actor)
            .filter(pk__in=wanted)
            .values_list("pk", "owner_id", "owner__is_active")
        }
        already_open = set(
            FollowUp.objects.filter(
                customer_id__in=list(assignees), source=source, status=FollowUpStatus.OPEN
            ).values_list("customer_id", flat=True)
        )
        new_tasks = [
            FollowUp(
                customer_id=customer_id,
                assignee_id=assignees[customer_id],
                due_on=due_on,
                reason=reason_for(customer_id, reasons or {}, default_reason),
                source=source,
                created_by=actor,
            )
            for customer_id in sorted(assignees)
            if customer_id not in already_open
        ]
        # A second request racing this one meets the one-open-per-source constraint and is
        # ignored rather than failing the whole batch.
        FollowUp.objects.bulk_create(new_tasks, ignore_conflicts=True)
    return FollowUpPlan(
        created=len(new_tasks),
        already_open=len(already_open),
        not_visible=len(wanted) - len(assignees),
    )


def check_plan(customer_ids: list[int], due_on: date, today: date, source: str) -> None:
    if source not in FollowUpSource.values:
        raise ValidationError({"source": [_("Unknown source of a call-back.")]})
    if due_on < today:
        raise ValidationError({"due_on": [_("The due date cannot be in the past.")]})
    if not customer_ids:
        raise RuleViolation(_("Choose at least one customer."), code="no_customers")
    if len(customer_ids) > MAX_FOLLOW_UPS_AT_ONCE:
        raise RuleViolation(
            _("At most %(limit)s call-backs can be planned at once; narrow the filter.")
            % {"limit": f"{MAX_FOLLOW_UPS_AT_ONCE:,}"},
            code="too_many",
        )


def reason_for(customer_id: int, reasons: Mapping[int, str], default_reason: str) -> str:
    text = " ".join(str(reasons.get(customer_id) or default_reason).split())
    return text[: REASON_LENGTH - 1] + "…" if len(text) > REASON_LENGTH else text


def plan_follow_up(
    actor: User, customer_id: int, *, due_on: date, reason: str, today: date | None = None
) -> FollowUp:
    """Plan a call-back by hand from the customer page; refused when one is already open."""
    customer = get_visible_customer(actor, customer_id)
    text = clean_text(reason, REASON_LENGTH)
    if not text:
        raise ValidationError({"reason": [_("Write why the customer should be called back.")]})
    plan = plan_follow_ups(actor, [customer.pk], due_on=due_on, default_reason=text, today=today)
    if not plan.created:
        raise RuleViolation(
            _("This customer already has an open call-back planned by hand."), code="already_open"
        )
    return FollowUp.objects.get(
        customer=customer, source=FollowUpSource.MANUAL, status=FollowUpStatus.OPEN
    )


def complete_follow_up(
    actor: User, follow_up_id: int, *, note: str = "", channel: str = InteractionChannel.PHONE
) -> FollowUp:
    """Mark a call-back done; a note is logged on the customer's timeline as the contact."""
    with transaction.atomic():
        follow_up = open_follow_up(actor, follow_up_id)
        if note.strip():
            if not may(actor, "customer.log_interaction", follow_up.customer):
                raise RuleViolation(
                    _("Claim this customer before logging contacts with them."),
                    code="not_allowed",
                    details={"field": "note"},
                )
            log_interaction(actor, follow_up.customer_id, channel=channel, summary=note)
        return close_follow_up(follow_up, FollowUpStatus.DONE)


def cancel_follow_up(actor: User, follow_up_id: int) -> FollowUp:
    with transaction.atomic():
        return close_follow_up(open_follow_up(actor, follow_up_id), FollowUpStatus.CANCELLED)


def open_follow_up(actor: User, follow_up_id: int) -> FollowUp:
    require(actor, "follow_up.use")
    follow_up = get_visible_follow_up(actor, follow_up_id)
    follow_up = (
        FollowUp.objects.select_for_update(of=("self",))
        .select_related("customer")
        .get(pk=follow_up.pk)
    )
    if follow_up.status != FollowUpStatus.OPEN:
        raise RuleViolation(_("This call-back is already closed."), code="already_closed")
    return follow_up


def close_follow_up(follow_up: FollowUp, status: str) -> FollowUp:
    follow_up.status = status
    follow_up.closed_at = timezone.now()
    follow_up.save(update_fields=["status", "closed_at"])
    return follow_up
