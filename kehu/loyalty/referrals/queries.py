"""Reads of referrals and group deals for the pages and the API: the referral tree (one recursive
query), the programme's referral report, and group deals as a user may see them.

A group deal is visible when its leader is (``visible_customers``); inside it, and in a
referral tree, customers the user may not see are counted but shown without their name.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django.http import Http404
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.customers.queries import get_visible_customer, visible_customers
from kehu.loyalty.models import (
    Coupon,
    Membership,
    PointsEntry,
    PointsKind,
    PointsSource,
    Referral,
    ReferralStatus,
)
from kehu.loyalty.referrals.coupon_rewards import REFEREE, REFERRER, coupon_key
from kehu.loyalty.referrals.services import points_key, rejection_label

MAX_TREE_DEPTH = 5
TOP_REFERRERS = 10


def visible_names(user: User, customer_ids: set[int]) -> dict[int, str]:
    """The names of those of the customers the user may see (one query)."""
    if not customer_ids:
        return {}
    visible = visible_customers(user).filter(pk__in=customer_ids)
    return dict(visible.values_list("pk", "name"))


# --- group deals ------------------------------------------------------------------------------


# --- referrals of one customer ----------------------------------------------------------------


def referral_of(user: User, customer_id: int) -> Referral:
    """How a customer the user may see was referred; 404 when they were not."""
    customer = get_visible_customer(user, customer_id)
    referral = Referral.objects.select_related("referrer").filter(referee=customer).first()
    if referral is None:
        raise Http404("This customer was not referred.")
    return referral


def referrals_by(user: User, customer_id: int) -> QuerySet[Referral]:
    """The referrals a member made, newest first; 404 when the customer is not a member."""
    customer = get_visible_customer(user, customer_id)
    membership = Membership.objects.filter(customer=customer).first()
    if membership is None:
        raise Http404("This customer is not a member.")
    return (
        Referral.objects.filter(referrer=membership)
        .select_related("referrer")
        .order_by("-attributed_at", "-pk")
    )


@dataclass
class TreeNode:
    """One referral in a member's tree: who was brought in, at which depth (1 = directly)."""

    referral_id: int
    depth: int
    referrer_customer_id: int
    customer_id: int
    name: str = ""
    is_visible: bool = False
    status: str = ""
    status_label: str = ""
    attributed_at: datetime.datetime | None = None
    rewarded_at: datetime.datetime | None = None
    children: list[TreeNode] = field(default_factory=list)
    reward: RewardGiven | None = None


TREE_SQL = """
WITH RECURSIVE tree (referral_id, referrer_customer_id, referee_id, depth) AS (
    SELECT r.id, m.customer_id, r.referee_id, 1
    FROM {referral} r JOIN {membership} m ON m.id = r.referrer_id
    WHERE m.customer_id = %s
  UNION ALL
    SELECT r.id, m.customer_id, r.referee_id, tree.depth + 1
    FROM {referral} r
    JOIN {membership} m ON m.id = r.referrer_id
    JOIN tree ON m.customer_id = tree.referee_id
    WHERE tree.depth < %s
)
SELECT referral_id, referrer_customer_id, referee_id, depth FROM tree ORDER BY depth, referral_id
"""


def referral_edges(root_customer_id: int, max_depth: int) -> list[tuple[int, int, int, int]]:
    """(referral, referrer customer, referee, depth) of everyone below a customer, in one
    recursive query; a loop (A brought B who later "brought" A) stops at ``max_depth`` and
    each referral is kept once, at its shallowest depth."""
    sql = TREE_SQL.format(
        referral=connection.ops.quote_name(Referral._meta.db_table),
        membership=connection.ops.quote_name(Membership._meta.db_table),
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [root_customer_id, max_depth])
        rows = cursor.fetchall()
    seen: set[int] = set()
    edges = []
    for referral_id, referrer_customer_id, referee_id, depth in rows:
        if referral_id not in seen:
            seen.add(referral_id)
            edges.append((referral_id, referrer_customer_id, referee_id, depth))
    return edges


def referral_tree(user: User, customer_id: int, max_depth: int = MAX_TREE_DEPTH) -> list[TreeNode]:
    """The customers a member brought in, and whom they brought in, ``max_depth`` levels deep:
    the first level as a list of nodes with their children. Three queries whatever its size."""
    root = get_visible_customer(user, customer_id)
    edges = referral_edges(root.pk, max_depth)
    details = Referral.objects.in_bulk([edge[0] for edge in edges])
    names = visible_names(user, {edge[2] for edge in edges})
    nodes: dict[int, TreeNode] = {}
    for referral_id, referrer_customer_id, referee_id, depth in edges:
        referral = details[referral_id]
        nodes[referee_id] = TreeNode(
            referral_id=referral_id,
            depth=depth,
            referrer_customer_id=referrer_customer_id,
            customer_id=referee_id,
            name=names.get(referee_id, ""),
            is_visible=referee_id in names,
            status=referral.status,
            status_label=referral.get_status_display(),
            attributed_at=referral.attributed_at,
            rewarded_at=referral.rewarded_at,
        )
    top = []
    for node in nodes.values():
        parent = nodes.get(node.referrer_customer_id)
        if node.depth > 1 and parent is not None and parent is not node:
            parent.children.append(node)
        elif node.depth == 1:
            top.append(node)
    return top


def flatten_tree(nodes: list[TreeNode]) -> list[TreeNode]:
    """The tree in reading order (each node followed by its children), for an indented list."""
    ordered: list[TreeNode] = []
    for node in nodes:
        ordered.append(node)
        ordered.extend(flatten_tree(node.children))
    return ordered


# --- what a referral gave -------------------------------------------------------------------


@dataclass(frozen=True)
class CouponGiven:
    template_id: int
    template_name: str
    code: str  # "" when the holder is a customer the user may not see


@dataclass(frozen=True)
class RewardGiven:
    """The points and coupons a referral gave each side (nothing while it is not rewarded)."""

    referrer_points: int = 0
    referee_points: int = 0
    referrer_coupon: CouponGiven | None = None
    referee_coupon: CouponGiven | None = None


NO_REWARD = RewardGiven()


def rewards_given(user: User, referral_ids: Iterable[int]) -> dict[int, RewardGiven]:
    """What each referral gave, read back from the ledger and the coupons by their fixed
    idempotency keys: two queries whatever the number of referrals. A coupon's code is shown
    only when the user may see its holder."""
    ids = list(dict.fromkeys(referral_ids))
    if not ids:
        return {}
    sides = (REFERRER, REFEREE)
    points_keys = {points_key(pk, side): (pk, side) for pk in ids for side in sides}
    coupon_keys = {coupon_key(pk, side): (pk, side) for pk in ids for side in sides}
    points = PointsEntry.objects.filter(idempotency_key__in=list(points_keys))
    holder_visible = visible_customers(user).filter(pk=OuterRef("customer_id"))
    coupons = (
        Coupon.objects.filter(issue_key__in=list(coupon_keys))
        .select_related("template")
        .annotate(holder_visible=Exists(holder_visible))
    )
    given: dict[int, dict[str, object]] = {pk: {} for pk in ids}
    for key, amount in points.values_list("idempotency_key", "points"):
        pk, side = points_keys[key]
        given[pk][f"{side}_points"] = amount
    for coupon in coupons:
        pk, side = coupon_keys[coupon.issue_key or ""]
        code = coupon.code if coupon.holder_visible else ""  # type: ignore[attr-defined]
        given[pk][f"{side}_coupon"] = CouponGiven(coupon.template_id, coupon.template.name, code)
    return {pk: RewardGiven(**values) for pk, values in given.items()}  # type: ignore[arg-type]


def with_rewards(user: User, referrals: list[Referral]) -> list[Referral]:
    """The referrals with ``reward`` set (for the API's output), in one go."""
    rewards = rewards_given(user, [referral.pk for referral in referrals])
    for referral in referrals:
        referral.reward = rewards.get(referral.pk, NO_REWARD)  # type: ignore[attr-defined]
    return referrals


def add_rewards(user: User, nodes: list[TreeNode]) -> list[TreeNode]:
    """Set what each rewarded referral of the tree gave."""
    rewarded = [node.referral_id for node in nodes if node.status == ReferralStatus.REWARDED]
    rewards = rewards_given(user, rewarded)
    for node in nodes:
        node.reward = rewards.get(node.referral_id)
    return nodes


# --- the programme's report -------------------------------------------------------------------


@dataclass(frozen=True)
class TopReferrer:
    customer_id: int
    card_number: str
    name: str
    is_visible: bool
    referred: int
    rewarded: int


@dataclass(frozen=True)
class ReasonCount:
    reason: str
    label: str
    count: int


@dataclass(frozen=True)
class ReferralReport:
    attributed: int
    pending: int
    rewarded: int
    rejected: int
    points_paid: int
    top_referrers: list[TopReferrer]
    rejections: list[ReasonCount]
    coupons_given: int = 0

    @property
    def conversion(self) -> float | None:
        """Share of attributed referrals that were rewarded (pending → rewarded)."""
        return self.rewarded / self.attributed if self.attributed else None


def referral_report(user: User) -> ReferralReport:
    """Counts by status, rejections by reason, the top referrers, the points paid and the
    coupons given, over the whole programme; names of referrers only for those the user may
    see."""
    by_status = dict(Referral.objects.values_list("status").annotate(count=Count("pk")))
    rejections = (
        Referral.objects.filter(status=ReferralStatus.REJECTED)
        .values_list("rejected_reason")
        .annotate(count=Count("pk"))
        .order_by("-count", "rejected_reason")
    )
    paid = PointsEntry.objects.filter(source=PointsSource.REFERRAL, kind=PointsKind.EARN).aggregate(
        total=Sum("points")
    )["total"]
    return ReferralReport(
        attributed=sum(by_status.values()),
        pending=by_status.get(ReferralStatus.PENDING, 0),
        rewarded=by_status.get(ReferralStatus.REWARDED, 0),
        rejected=by_status.get(ReferralStatus.REJECTED, 0),
        points_paid=paid or 0,
        top_referrers=top_referrers(user),
        rejections=[
            ReasonCount(reason, rejection_label(reason), count) for reason, count in rejections
        ],
        coupons_given=referral_coupon_count(),
    )


def referral_coupon_count() -> int:
    """Coupons given as referral rewards (their issue key is ``referral:<id>:<side>:coupon``)."""
    keys = Q(issue_key__startswith="referral:", issue_key__endswith=":coupon")
    return Coupon.objects.filter(keys).count()


def top_referrers(user: User, limit: int = TOP_REFERRERS) -> list[TopReferrer]:
    rows = list(
        Referral.objects.values("referrer__customer_id", "referrer__card_number")
        .annotate(
            referred=Count("pk"),
            rewarded=Count("pk", filter=Q(status=ReferralStatus.REWARDED)),
        )
        .order_by("-rewarded", "-referred", "referrer__card_number")[:limit]
    )
    names = visible_names(user, {row["referrer__customer_id"] for row in rows})
    return [
        TopReferrer(
            customer_id=row["referrer__customer_id"],
            card_number=row["referrer__card_number"],
            name=names.get(row["referrer__customer_id"], ""),
            is_visible=row["referrer__customer_id"] in names,
            referred=row["referred"],
            rewarded=row["rewarded"],
        )
        for row in rows
    ]


def report_chart_data(report: ReferralReport) -> dict[str, Any]:
    """What the report's bar charts draw (read by loyalty/referrals.js through json_script)."""
    return {
        "labels": {
            "referred": _("Referred"),
            "rewarded": _("Rewarded"),
            "rejected": _("Rejected"),
        },
        "referrers": [
            {
                "label": item.name or item.card_number,
                "referred": item.referred,
                "rewarded": item.rewarded,
            }
            for item in report.top_referrers
        ],
        "rejections": [{"label": item.label, "count": item.count} for item in report.rejections],
    }
