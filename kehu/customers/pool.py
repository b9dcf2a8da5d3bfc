"""The customer pool (公海): claim, release, transfer, and the automatic return of neglected
customers."""

from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.accounts.models import PoolPolicy, User
from kehu.accounts.permissions import may, require
from kehu.core.errors import NotAllowed, RuleViolation
from kehu.customers.models import Customer, OwnershipAction, OwnershipChange
from kehu.customers.queries import get_visible_customer, staff_assignable_by


def record_change(
    customer: Customer,
    action: str,
    previous_owner: User | None,
    new_owner: User | None,
    actor: User | None,
    reason: str = "",
) -> None:
    OwnershipChange.objects.create(
        customer=customer,
        action=action,
        previous_owner=previous_owner,
        new_owner=new_owner,
        actor=actor,
        reason=reason,
    )


def claim_customer(actor: User, customer_id: int) -> Customer:
    """Take a customer from the pool, within the per-person claim limit."""
    require(actor, "customer.claim")
    with transaction.atomic():
        customer = get_visible_customer(actor, customer_id)
        if customer.owner_id is not None:
            raise RuleViolation(_("This customer is not in the pool any more."), code="not_in_pool")
        limit = PoolPolicy.current().claim_limit
        if Customer.objects.filter(owner=actor).count() >= limit:
            raise RuleViolation(
                _("You already own %(limit)d customers, the most allowed.") % {"limit": limit},
                code="claim_limit_reached",
            )
        now = timezone.now()
        updated = Customer.objects.filter(pk=customer.pk, owner__isnull=True).update(
            owner=actor, owned_since=now, last_followed_up_at=None
        )
        if not updated:
            raise RuleViolation(_("Someone else claimed this customer first."), code="not_in_pool")
        record_change(customer, OwnershipAction.CLAIM, None, actor, actor)
    customer.refresh_from_db()
    return customer


def release_customer(actor: User, customer_id: int, reason: str) -> Customer:
    """Put an owned customer back into the pool, with the reason why."""
    reason = (reason or "").strip()
    with transaction.atomic():
        customer = get_visible_customer(actor, customer_id)
        if not reason:
            raise RuleViolation(
                _("Say why the customer goes back to the pool."),
                code="reason_required",
                details={"field": "reason"},
            )
        if customer.owner_id is None:
            raise RuleViolation(_("This customer is already in the pool."), code="already_in_pool")
        if customer.owner_id != actor.pk and not may(actor, "customer.transfer"):
            raise NotAllowed(_("Only the owner or a manager may release."), code="not_allowed")
        previous_owner = customer.owner
        customer.owner = None
        customer.owned_since = None
        customer.save(update_fields=["owner", "owned_since", "updated_at"])
        record_change(customer, OwnershipAction.RELEASE, previous_owner, None, actor, reason[:200])
    return customer


def transfer_customer(
    actor: User, customer_id: int, new_owner_id: int, reason: str = ""
) -> Customer:
    """Give a customer to another salesperson (managers within their team, admins anyone)."""
    require(actor, "customer.transfer")
    new_owner = staff_assignable_by(actor).filter(pk=new_owner_id).first()
    if new_owner is None:
        raise RuleViolation(
            _("Choose an active salesperson or manager you may assign to."),
            code="invalid_owner",
            details={"field": "owner_id"},
        )
    with transaction.atomic():
        customer = get_visible_customer(actor, customer_id)
        if customer.owner_id == new_owner.pk:
            raise RuleViolation(_("This customer already belongs to them."), code="same_owner")
        previous_owner = customer.owner
        action = OwnershipAction.ASSIGN if previous_owner is None else OwnershipAction.TRANSFER
        customer.owner = new_owner
        customer.owned_since = timezone.now()
        customer.save(update_fields=["owner", "owned_since", "updated_at"])
        record_change(customer, action, previous_owner, new_owner, actor, (reason or "")[:200])
    return customer


def neglected_customers(now=None) -> "list[int]":
    """Ids of owned customers with no follow-up for the configured number of days."""
    policy = PoolPolicy.current()
    if not policy.is_auto_return_enabled:
        return []
    cutoff = (now or timezone.now()) - timedelta(days=policy.auto_return_days)
    stale = Customer.objects.filter(owner__isnull=False, owned_since__lt=cutoff).filter(
        Q(last_followed_up_at__isnull=True) | Q(last_followed_up_at__lt=cutoff)
    )
    return list(stale.values_list("pk", flat=True))


def return_neglected_customers(now=None, batch_size: int = 500) -> int:
    """Move neglected customers back to the pool; safe to run twice (the second run finds none)."""
    customer_ids = neglected_customers(now)
    reason = _("No follow-up for %(days)d days") % {"days": PoolPolicy.current().auto_return_days}
    for start in range(0, len(customer_ids), batch_size):
        batch = customer_ids[start : start + batch_size]
        with transaction.atomic():
            customers = list(
                Customer.objects.select_for_update()
                .filter(pk__in=batch, owner__isnull=False)
                .select_related("owner")
            )
            OwnershipChange.objects.bulk_create(
                OwnershipChange(
                    customer=customer,
                    action=OwnershipAction.AUTO_RETURN,
                    previous_owner=customer.owner,
                    reason=reason,
                )
                for customer in customers
            )
            Customer.objects.filter(pk__in=[c.pk for c in customers]).update(
                owner=None, owned_since=None
            )
    return len(customer_ids)
