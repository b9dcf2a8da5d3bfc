"""When two customers are merged, their loyalty records follow the kept customer.

``merge_loyalty`` is loyalty's merge handler (registered in ``LoyaltyConfig.ready()``):
``merge_customers`` runs it inside its transaction, before it deletes the merged customer; it
moves everything that points at the merged customer with PROTECT and answers counts for
``CustomerMerge.moved_counts``. Raising here rolls the whole merge back.

Two memberships become one: the ledger, redemptions, tier and status history and the
referrals made move to the kept membership and its balance grows by the merged one's, so
balance = ledger sum still holds. The higher tier, the earlier enrolment and an active status
win; the kept card number and referral code stay.
"""

import datetime
from collections import Counter
from typing import Any

from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.customers.models import Customer
from kehu.loyalty.members.status import end_open_pause
from kehu.loyalty.models import (
    ApprovalRequest,
    Coupon,
    GroupDeal,
    GroupParticipant,
    GroupRole,
    Membership,
    MembershipPause,
    MembershipStatus,
    PointsEntry,
    Redemption,
    Referral,
    TierChange,
    TierChangeReason,
)
from kehu.loyalty.outbox import record_tier_changed
from kehu.loyalty.points.services import lock_membership


def merge_loyalty(kept: Customer, merged: Customer, actor: User | None) -> dict[str, int]:
    """Move the merged customer's loyalty records to the kept customer; answers what moved
    (only the non-zero counts, so a merge of customers without loyalty records is recorded as
    before)."""
    now = timezone.now()
    counts: Counter[str] = Counter()
    counts.update(merge_memberships(kept, merged, actor, now))
    counts["coupons"] += Coupon.objects.filter(customer=merged).update(customer=kept)
    counts["group_deals_led"] += GroupDeal.objects.filter(leader=merged).update(leader=kept)
    # A coupon waiting for approval for the merged customer is issued to the kept one.
    counts["approval_requests"] += ApprovalRequest.objects.filter(customer=merged).update(
        customer=kept
    )
    counts.update(merge_participations(kept, merged))
    counts.update(merge_referee_referral(kept, merged))
    return {name: count for name, count in counts.items() if count}


# --- memberships ------------------------------------------------------------------------------


def membership_snapshot(customer: Customer) -> dict[str, Any] | None:
    """The merged customer's membership as it was, for the merge's record (its card number
    and code are gone once it is folded into the kept membership)."""
    membership = Membership.objects.filter(customer=customer).select_related("tier").first()
    if membership is None:
        return None
    return {
        "card_number": membership.card_number,
        "referral_code": membership.referral_code,
        "tier": membership.tier.name,
        "status": membership.status,
        "points_balance": membership.points_balance,
        "enrolled_on": membership.enrolled_on.isoformat(),
    }


def merge_memberships(
    kept: Customer, merged: Customer, actor: User | None, now: datetime.datetime
) -> dict[str, int]:
    """A merged customer's membership moves over; two memberships fold into the kept one."""
    ids = sorted(
        Membership.objects.filter(customer__in=[kept, merged]).values_list("pk", flat=True)
    )
    locked = {membership.customer_id: membership for membership in map(lock_membership, ids)}
    source = locked.get(merged.pk)
    if source is None:
        return {}
    target = locked.get(kept.pk)
    if target is None:
        Membership.objects.filter(pk=source.pk).update(customer=kept)
        return {"memberships": 1}
    return fold_membership(target, source, actor, now)


def fold_membership(
    target: Membership, source: Membership, actor: User | None, now: datetime.datetime
) -> dict[str, int]:
    """Fold `source` into `target` (both locked) and delete it."""
    end_open_pause(source, actor, _("Merged"), now)
    resolve_status(target, source, actor, now)
    counts = move_membership_records(source, target)
    move_higher_tier(target, source, actor, now)
    Membership.objects.filter(pk=target.pk).update(
        points_balance=F("points_balance") + source.points_balance,
        enrolled_on=min(target.enrolled_on, source.enrolled_on),
    )
    Membership.objects.filter(pk=source.pk).update(points_balance=0)
    source.delete()
    return {"memberships_folded": 1, "points": source.points_balance, **counts}


def resolve_status(
    target: Membership, source: Membership, actor: User | None, now: datetime.datetime
) -> None:
    """The kept membership's status stands, except that an active merged one makes a frozen
    or cancelled kept one active again (its pause closes)."""
    if target.status == MembershipStatus.ACTIVE or source.status != MembershipStatus.ACTIVE:
        return
    end_open_pause(target, actor, _("Merged"), now)
    target.status = MembershipStatus.ACTIVE
    target.save(update_fields=["status"])


def move_membership_records(source: Membership, target: Membership) -> dict[str, int]:
    """The ledger and the histories move as they are: entries keep their keys, dates and
    unspent points, so the FIFO order and expiry of every point are unchanged. Referrals the
    merged member made count for the kept one (for the cap too)."""
    return {
        "points_entries": PointsEntry.objects.filter(membership=source).update(membership=target),
        "redemptions": Redemption.objects.filter(membership=source).update(membership=target),
        "tier_changes": TierChange.objects.filter(membership=source).update(membership=target),
        "membership_pauses": MembershipPause.objects.filter(membership=source).update(
            membership=target
        ),
        "referrals_made": Referral.objects.filter(referrer=source).update(referrer=target),
        # Points adjustments (waiting or decided) belong to the ledger they were asked for.
        "membership_approval_requests": ApprovalRequest.objects.filter(membership=source).update(
            membership=target
        ),
    }


def move_higher_tier(
    target: Membership, source: Membership, actor: User | None, now: datetime.datetime
) -> None:
    """Keep the higher tier; taking the merged one's, also take when it was reached and when
    it is reviewed, and say so in the tier history."""
    if source.tier.rank <= target.tier.rank:
        return
    TierChange.objects.create(
        membership=target,
        previous_tier=target.tier,
        tier=source.tier,
        reason=TierChangeReason.MANUAL,
        changed_at=now,
        changed_by=actor,
    )
    record_tier_changed(target, target.tier, source.tier)
    target.tier = source.tier
    target.tier_since, target.tier_review_on = source.tier_since, source.tier_review_on
    target.save(update_fields=["tier", "tier_since", "tier_review_on"])


# --- group deals and referrals ----------------------------------------------------------------


def merge_participations(kept: Customer, merged: Customer) -> dict[str, int]:
    """The merged customer's group-deal participations move to the kept customer.

    A person joins a deal once (``group_participant_once``): where both customers joined the
    same deal, the kept customer's row stays and takes over what only the merged one had: the
    leader role, the earlier joining time and, when it has none, the merged row's order. If
    both rows carry an order, the merged row's order stays the kept customer's order (orders
    moved already) but is no longer linked to the deal; its points were earned already.
    """
    shared = GroupParticipant.objects.filter(
        customer=merged, deal__participants__customer=kept
    ).select_related("deal")
    folded = 0
    for duplicate in shared:
        fold_participation(kept, duplicate)
        folded += 1
    moved = GroupParticipant.objects.filter(customer=merged).update(customer=kept)
    return {"group_participations": moved, "group_participations_folded": folded}


def fold_participation(kept: Customer, duplicate: GroupParticipant) -> None:
    """Fold the merged customer's row into the kept customer's row of the same deal."""
    row = GroupParticipant.objects.get(deal=duplicate.deal, customer=kept)
    order = row.order or duplicate.order
    if duplicate.role == GroupRole.LEADER:
        row.role = GroupRole.LEADER
    row.joined_at = min(row.joined_at, duplicate.joined_at)
    duplicate.delete()  # first: the order is linked to one participation at most
    row.order = order
    row.save(update_fields=["role", "joined_at", "order"])


def merge_referee_referral(kept: Customer, merged: Customer) -> dict[str, int]:
    """A customer is referred once: the merged customer's referral moves over when the kept
    customer has none, else it is deleted (points it paid stay in the ledger). A referral that
    becomes a self-referral stays; the reward check rejects it as one."""
    referral = Referral.objects.filter(referee=merged).first()
    if referral is None:
        return {}
    if Referral.objects.filter(referee=kept).exists():
        referral.delete()
        return {"referrals_dropped": 1}
    Referral.objects.filter(pk=referral.pk).update(referee=kept)
    return {"referral": 1}
