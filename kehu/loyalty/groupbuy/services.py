"""Group deals (团购): a leader gathers participants before a deadline; a periodic job closes
each deal when its deadline passes, as succeeded (participants ≥ minimum size) or failed.

On success every participant's order earns its points with the deal's multiplier
(``earn_for_order``, idempotent per order) and the leader gets the deal's bonus (``award_points``,
key ``group:<deal>:leader``). An order that already earned at the base rate when it was posted
gets the difference as a top-up entry instead (key ``group:<deal>:order:<order>``), so the
multiplier is never lost and never paid twice. Non-members earn nothing and are not enrolled:
joining a group buy is not consent to the programme; their participation and role are recorded,
so they can be segmented (and invited to enrol). Frozen or cancelled members get no leader bonus.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, F
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.accounts.permissions import require
from kehu.commerce.models import Order, OrderStatus, Product, Store
from kehu.core.errors import RuleViolation
from kehu.customers.queries import get_visible_customer
from kehu.loyalty.groupbuy.queries import get_visible_group_deal
from kehu.loyalty.models import (
    GroupDeal,
    GroupDealStatus,
    GroupParticipant,
    GroupRole,
    Membership,
    MembershipStatus,
    PointsEntry,
    PointsSource,
)
from kehu.loyalty.points.services import award_points, earn_for_order

MAX_MULTIPLIER = Decimal("99.99")
CENT = Decimal("0.01")
NOT_JOINABLE_ORDER_STATUSES = (OrderStatus.CANCELLED, OrderStatus.REFUNDED)


@dataclass(frozen=True)
class GroupDealInput:
    title: str
    leader_id: int
    deadline: datetime.datetime
    min_size: int = 3
    product_sku: str = ""
    store_code: str = ""
    leader_bonus_points: int = 0
    participant_points_multiplier: Decimal = Decimal(1)
    leader_order_id: int | None = None
    idempotency_key: str = ""


@dataclass(frozen=True)
class DealResult:
    deal: GroupDeal
    created: bool


@dataclass(frozen=True)
class JoinResult:
    participant: GroupParticipant
    created: bool


@dataclass(frozen=True)
class CloseRun:
    succeeded: int
    failed: int
    deal_ids: list[int] = field(default_factory=list)


# --- create -----------------------------------------------------------------------------------


def create_group_deal(
    actor: User, deal_input: GroupDealInput, *, now: datetime.datetime | None = None
) -> DealResult:
    """Open a group deal with its leader as the first participant. With an idempotency key, the
    same key again answers the deal created the first time, unchanged."""
    require(actor, "group_deal.run")
    if deal_input.idempotency_key:
        existing = GroupDeal.objects.filter(idempotency_key=deal_input.idempotency_key).first()
        if existing is not None:
            return DealResult(get_visible_group_deal(actor, existing.pk), created=False)
    moment = now or timezone.now()
    check_deal_fields(deal_input, moment)
    leader = get_visible_customer(actor, deal_input.leader_id)
    product = product_with_sku(deal_input.product_sku)
    store = store_with_code(deal_input.store_code)
    try:
        with transaction.atomic():
            deal = GroupDeal.objects.create(
                title=deal_input.title.strip(),
                leader=leader,
                product=product,
                store=store,
                min_size=deal_input.min_size,
                deadline=deal_input.deadline,
                leader_bonus_points=deal_input.leader_bonus_points,
                participant_points_multiplier=deal_input.participant_points_multiplier,
                idempotency_key=deal_input.idempotency_key or None,
            )
            order = checked_order(
                deal, leader.pk, deal_input.leader_order_id, field_name="leader_order_id"
            )
            GroupParticipant.objects.create(
                deal=deal, customer=leader, role=GroupRole.LEADER, order=order, joined_at=moment
            )
    except IntegrityError:
        existing = GroupDeal.objects.filter(idempotency_key=deal_input.idempotency_key).first()
        if not deal_input.idempotency_key or existing is None:
            raise
        return DealResult(get_visible_group_deal(actor, existing.pk), created=False)
    return DealResult(deal, created=True)


def check_deal_fields(deal_input: GroupDealInput, moment: datetime.datetime) -> None:
    """Every field problem at once, as the pages and the API show them."""
    errors: dict[str, list[str]] = {}
    if not deal_input.title.strip():
        errors["title"] = [_("Give the deal a title.")]
    if deal_input.min_size < 2:
        errors["min_size"] = [_("A group needs at least 2 participants.")]
    if deal_input.deadline <= moment:
        errors["deadline"] = [_("The deadline must be in the future.")]
    if deal_input.leader_bonus_points < 0:
        errors["leader_bonus_points"] = [_("Bonus points cannot be negative.")]
    multiplier = deal_input.participant_points_multiplier
    if not Decimal(0) < multiplier <= MAX_MULTIPLIER or multiplier != multiplier.quantize(CENT):
        errors["participant_points_multiplier"] = [
            _("The multiplier must be more than 0 and at most 99.99, with two decimals at most.")
        ]
    if errors:
        raise ValidationError(errors)


def product_with_sku(sku: str) -> Product | None:
    if not sku.strip():
        return None
    product = Product.objects.filter(sku=sku.strip()).first()
    if product is None:
        raise RuleViolation(
            _("Unknown product “%(sku)s”.") % {"sku": sku},
            code="unknown_product",
            details={"field": "product_sku"},
        )
    return product


def store_with_code(code: str) -> Store | None:
    if not code.strip():
        return None
    store = Store.objects.filter(code=code.strip()).first()
    if store is None:
        raise RuleViolation(
            _("Unknown store “%(code)s”.") % {"code": code},
            code="unknown_store",
            details={"field": "store"},
        )
    return store


# --- join and attach an order ----------------------------------------------------------------


def join_group_deal(
    actor: User,
    deal_id: int,
    customer_id: int,
    *,
    order_id: int | None = None,
    now: datetime.datetime | None = None,
) -> JoinResult:
    """Add a customer to an open deal before its deadline, with their order or without (post
    again with the order to attach it later). Joining again answers the existing participation;
    an order attached to a deal that already succeeded earns at once."""
    require(actor, "group_deal.run")
    get_visible_group_deal(actor, deal_id)
    customer = get_visible_customer(actor, customer_id)
    moment = now or timezone.now()
    with transaction.atomic():
        deal = GroupDeal.objects.select_for_update().get(pk=deal_id)
        existing = GroupParticipant.objects.filter(deal=deal, customer=customer).first()
        if existing is not None:
            return JoinResult(attach_order(deal, existing, order_id), created=False)
        check_open_for_joining(deal, moment)
        participant = GroupParticipant(
            deal=deal,
            customer=customer,
            role=GroupRole.PARTICIPANT,
            order=checked_order(deal, customer.pk, order_id),
            joined_at=moment,
        )
        save_participant(participant)
    return JoinResult(participant, created=True)


def check_open_for_joining(deal: GroupDeal, moment: datetime.datetime) -> None:
    if deal.status != GroupDealStatus.OPEN:
        raise RuleViolation(
            _("This group deal is %(status)s: nobody can join it any more.")
            % {"status": deal.get_status_display()},
            code="deal_not_open",
        )
    if deal.deadline <= moment:
        raise RuleViolation(
            _("The deadline of this group deal has passed."), code="deadline_passed"
        )


def attach_order(
    deal: GroupDeal, participant: GroupParticipant, order_id: int | None
) -> GroupParticipant:
    """Attach a participant's order once; the same order again changes nothing."""
    if order_id is None or participant.order_id == order_id:
        return participant
    if participant.order_id is not None:
        raise RuleViolation(
            _("This participant already has another order in the deal."),
            code="order_already_attached",
            details={"field": "order_id"},
        )
    if deal.status not in (GroupDealStatus.OPEN, GroupDealStatus.SUCCEEDED):
        raise RuleViolation(
            _("This group deal is %(status)s: orders can no longer be attached.")
            % {"status": deal.get_status_display()},
            code="deal_not_open",
        )
    participant.order = checked_order(deal, participant.customer_id, order_id)
    save_participant(participant, update_fields=["order"])
    if deal.status == GroupDealStatus.SUCCEEDED:
        earn_group_order(deal, participant.order)  # type: ignore[arg-type]
    return participant


def save_participant(participant: GroupParticipant, **options: Any) -> None:
    """Save; the same order claimed by another deal at the same moment is the usual refusal."""
    try:
        with transaction.atomic():
            participant.save(**options)
    except IntegrityError:
        raise order_taken() from None


def order_taken() -> RuleViolation:
    return RuleViolation(
        _("This order already counts in a group deal."),
        code="order_in_another_deal",
        details={"field": "order_id"},
    )


def checked_order(
    deal: GroupDeal, customer_id: int, order_id: int | None, field_name: str = "order_id"
) -> Order | None:
    """The customer's order, if it may count in this deal; a refusal names `field_name`."""
    if order_id is None:
        return None
    order = Order.objects.filter(pk=order_id, customer_id=customer_id).first()
    if order is None:
        raise RuleViolation(
            _("This customer has no order with id %(id)s.") % {"id": order_id},
            code="unknown_order",
            details={"field": field_name},
        )
    problem = order_problem(deal, order)
    if problem is not None:
        message, code = problem
        raise RuleViolation(message, code=code, details={"field": field_name})
    return order


def order_problem(deal: GroupDeal, order: Order) -> tuple[str, str] | None:
    if order.status in NOT_JOINABLE_ORDER_STATUSES:
        return _("A cancelled or refunded order cannot count in a group deal."), "order_not_valid"
    if GroupParticipant.objects.filter(order=order).exists():
        return order_taken().message, "order_in_another_deal"
    if deal.store_id is not None and order.store_id != deal.store_id:
        return _("The order was not placed at the deal's store."), "wrong_store"
    if deal.product_id is not None and not order.lines.filter(product_id=deal.product_id).exists():
        return _("The order does not contain the deal's product."), "product_not_in_order"
    return None


# --- cancel and close -------------------------------------------------------------------------


def cancel_group_deal(
    actor: User, deal_id: int, *, now: datetime.datetime | None = None
) -> GroupDeal:
    """Stop an open deal; nobody earns from it."""
    require(actor, "loyalty.manage")
    get_visible_group_deal(actor, deal_id)
    with transaction.atomic():
        deal = GroupDeal.objects.select_for_update().get(pk=deal_id)
        if deal.status != GroupDealStatus.OPEN:
            raise RuleViolation(
                _("Only an open group deal can be cancelled; this one is %(status)s.")
                % {"status": deal.get_status_display()},
                code="deal_not_open",
            )
        deal.status = GroupDealStatus.CANCELLED
        deal.closed_at = now or timezone.now()
        deal.save(update_fields=["status", "closed_at"])
    return deal


def close_due_group_deals(now: datetime.datetime | None = None) -> CloseRun:
    """The periodic job: every open deal past its deadline closes. Deals short of their minimum
    fail in one statement; each deal that succeeded closes in its own transaction with its
    rewards. Safe to run twice: only open deals change."""
    moment = now or timezone.now()
    due = GroupDeal.objects.filter(status=GroupDealStatus.OPEN, deadline__lte=moment)
    short = due.annotate(size=Count("participants")).filter(size__lt=F("min_size")).values("pk")
    failed = GroupDeal.objects.filter(pk__in=short, status=GroupDealStatus.OPEN).update(
        status=GroupDealStatus.FAILED, closed_at=moment
    )
    closed = [close_group_deal(deal_id, now=moment) for deal_id in due.values_list("pk", flat=True)]
    succeeded = [deal.pk for deal in closed if deal.status == GroupDealStatus.SUCCEEDED]
    failed += sum(deal.status == GroupDealStatus.FAILED for deal in closed)
    return CloseRun(succeeded=len(succeeded), failed=failed, deal_ids=succeeded)


def close_group_deal(deal_id: int, *, now: datetime.datetime | None = None) -> GroupDeal:
    """Close one deal whose deadline has passed, rewarding it when it succeeded. Nothing
    happens to a deal that is not open or not yet due."""
    moment = now or timezone.now()
    with transaction.atomic():
        deal = GroupDeal.objects.select_for_update().get(pk=deal_id)
        if deal.status != GroupDealStatus.OPEN or deal.deadline > moment:
            return deal
        size = GroupParticipant.objects.filter(deal=deal).count()
        succeeded = size >= deal.min_size
        deal.status = GroupDealStatus.SUCCEEDED if succeeded else GroupDealStatus.FAILED
        deal.closed_at = moment
        deal.save(update_fields=["status", "closed_at"])
        if succeeded:
            reward_group_deal(deal, moment)
    return deal


# --- rewards ----------------------------------------------------------------------------------


def reward_group_deal(deal: GroupDeal, moment: datetime.datetime) -> None:
    """Every participant's order earns, then the leader's bonus. The members' rows are locked
    first, in one statement and a fixed order, so two closings never deadlock each other."""
    members = Membership.objects.select_for_update().filter(
        customer__group_participations__deal=deal
    )
    list(members.order_by("pk").values_list("pk", flat=True))
    orders = Order.objects.filter(group_participation__deal=deal).order_by("pk")
    for order in orders:
        earn_group_order(deal, order)
    reward_leader(deal, moment)


def earn_group_order(deal: GroupDeal, order: Order) -> PointsEntry | None:
    """The order's points with the deal's multiplier; when it already earned at the base rate,
    the difference as a top-up (a multiplier below 1 takes nothing back)."""
    base = PointsEntry.objects.filter(idempotency_key=f"order:{order.pk}:earn").first()
    if base is None:
        return earn_for_order(order, extra_multiplier=deal.participant_points_multiplier)
    extra = Decimal(base.points) * (deal.participant_points_multiplier - 1)
    top_up = int(extra.to_integral_value(rounding=ROUND_FLOOR))
    if top_up <= 0 or base.membership.status != MembershipStatus.ACTIVE:
        return None  # a frozen or cancelled member earns no top-up, as no points at all
    return award_points(
        base.membership,
        top_up,
        source=PointsSource.GROUP_BUY,
        reason=_("Group deal “%(title)s”: multiplier ×%(multiplier)s")
        % {"title": deal.title, "multiplier": deal.participant_points_multiplier},
        idempotency_key=f"group:{deal.pk}:order:{order.pk}",
        order=order,
    )


def reward_leader(deal: GroupDeal, moment: datetime.datetime) -> PointsEntry | None:
    membership = Membership.objects.filter(customer_id=deal.leader_id).first()
    if deal.leader_bonus_points <= 0 or membership is None:
        return None
    if membership.status != MembershipStatus.ACTIVE:
        return None
    return award_points(
        membership,
        deal.leader_bonus_points,
        source=PointsSource.GROUP_BUY,
        reason=_("Group leader bonus: “%(title)s”") % {"title": deal.title},
        idempotency_key=f"group:{deal.pk}:leader",
        now=moment,
    )
