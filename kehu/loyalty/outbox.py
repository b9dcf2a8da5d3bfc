"""The events the loyalty app records, in the transaction of the change they report:
`member.enrolled`, `member.tier_changed` (tiers by name), `points.changed` (one per ledger entry,
with the balance after it), `coupon.issued` and `coupon.redeemed`. Bulk jobs record theirs with
one `record_events` call per batch."""

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from kehu.events.services import NewEvent, record_event, record_events
from kehu.loyalty.models import Coupon, Membership, PointsEntry, Tier


def record_member_enrolled(membership: Membership) -> None:
    payload = {
        "membership_id": membership.pk,
        "customer_id": membership.customer_id,
        "tier": membership.tier.name,
        "store_code": membership.store.code if membership.store is not None else "",
    }
    record_event("member.enrolled", payload, customer_id=membership.customer_id)


def tier_changed(membership_id: int, customer_id: int, before: Tier, after: Tier) -> NewEvent:
    payload = {
        "membership_id": membership_id,
        "customer_id": customer_id,
        "from_tier": before.name,
        "to_tier": after.name,
    }
    return NewEvent("member.tier_changed", payload, customer_id)


def record_tier_changed(membership: Membership, before: Tier, after: Tier) -> None:
    record_events([tier_changed(membership.pk, membership.customer_id, before, after)])


def record_tier_moves(
    moves: Sequence[tuple[int, Tier, Any]], before: Mapping[int, Tier], customers: Mapping[int, int]
) -> None:
    """A bulk job's moves: (membership id, new tier, value); `before` and `customers` map the
    membership id to its tier before the move and its customer."""
    record_events([
        tier_changed(membership_id, customers[membership_id], before[membership_id], tier)
        for membership_id, tier, _value in moves
    ])  # fmt: skip


def points_changed(
    entry_id: int, membership_id: int, customer_id: int, points: int, balance: int, kind: str
) -> NewEvent:
    payload = {
        "membership_id": membership_id,
        "customer_id": customer_id,
        "entry_id": entry_id,
        "points": int(points),
        "balance": int(balance),
        "kind": str(kind),
    }
    return NewEvent("points.changed", payload, customer_id)


def record_points_changed(membership: Membership, entry: PointsEntry) -> None:
    """One entry written by the services, once the cached balance has moved."""
    record_events([
        points_changed(entry.pk, membership.pk, membership.customer_id, entry.points,
                       membership.points_balance, entry.kind)
    ])  # fmt: skip


def record_entries_written(
    rows: Iterable[tuple[int, int, str, int]], members: Mapping[int, tuple[int, int]]
) -> None:
    """Entries of a bulk job, (entry id, membership id, kind, points) in the order they were
    written; `members` maps each membership id to (customer id, balance before these entries).
    The balance of each event is the balance after its entry."""
    balances = {pk: balance for pk, (_customer, balance) in members.items()}
    new_events = []
    for entry_id, membership_id, kind, points in rows:
        balances[membership_id] += points
        new_events.append(
            points_changed(entry_id, membership_id, members[membership_id][0], points,
                           balances[membership_id], kind)
        )  # fmt: skip
    record_events(new_events)


def coupon_issued(coupon: Coupon) -> NewEvent:
    payload = {
        "coupon_id": coupon.pk,
        "customer_id": coupon.customer_id,
        "template_id": coupon.template_id,
    }
    return NewEvent("coupon.issued", payload, coupon.customer_id)


def record_coupons_issued(coupons: Iterable[Coupon]) -> None:
    record_events([coupon_issued(coupon) for coupon in coupons])


def record_coupon_redeemed(coupon: Coupon, order_id: int | None) -> None:
    payload = {"coupon_id": coupon.pk, "customer_id": coupon.customer_id, "order_id": order_id}
    record_event("coupon.redeemed", payload, customer_id=coupon.customer_id)
