"""The programme's health: points issued, redeemed, expired and taken back by month, the points
still outstanding and what they would cost as cash offset (the liability), and how members
spread over the tiers. Grouped in the database; only the few monthly rows reach Python."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Case, Count, IntegerField, Q, QuerySet, Sum, Value, When
from django.db.models.functions import TruncMonth
from django.utils import timezone

from kehu.accounts.models import User
from kehu.accounts.roles import Scope
from kehu.loyalty.members.queries import visible_members
from kehu.loyalty.models import (
    LoyaltySettings,
    Membership,
    MembershipStatus,
    PointsEntry,
    PointsKind,
    Tier,
)

CENT = Decimal("0.01")


@dataclass(frozen=True)
class MonthRow:
    month: datetime.date
    issued: int
    redeemed: int
    expired: int
    taken_back: int  # refund reversals and staff deductions
    outstanding: int  # at the month's end
    liability: Decimal  # ¥ at the cash-offset rate


@dataclass(frozen=True)
class TierRow:
    tier: Tier
    members: int
    points: int


@dataclass(frozen=True)
class ProgrammeReport:
    members: int
    active_members: int
    outstanding: int
    liability: Decimal
    offset_rate: int
    months: list[MonthRow]
    tiers: list[TierRow]


def members_in_view(user: User) -> QuerySet[Membership]:
    members = Membership.objects.all()
    if user.policy.scope != Scope.ALL:
        members = visible_members(user)
    return members


def month_starts(today: datetime.date, months: int) -> list[datetime.date]:
    first = today.replace(day=1)
    starts = []
    for _ in range(months):
        starts.append(first)
        first = (first - datetime.timedelta(days=1)).replace(day=1)
    return starts[::-1]


def entry_kind_column() -> Case:
    """The report's column for an entry: what added points counts as issued."""
    return Case(
        When(points__gt=0, then=Value("issued")),
        When(kind=PointsKind.REDEEM, then=Value("redeemed")),
        When(kind=PointsKind.EXPIRE, then=Value("expired")),
        default=Value("taken_back"),
    )


def programme_report(
    user: User, today: datetime.date | None = None, months: int = 12
) -> ProgrammeReport:
    today = today or timezone.localdate()
    members = members_in_view(user)
    rate = LoyaltySettings.current().points_per_yuan_offset
    starts = month_starts(today, months)
    window_start = timezone.make_aware(datetime.datetime.combine(starts[0], datetime.time.min))
    entries = PointsEntry.objects.filter(membership__in=members.values("pk"))
    before = entries.filter(created_at__lt=window_start).aggregate(total=Sum("points"))["total"]
    totals = monthly_totals(entries.filter(created_at__gte=window_start))
    outstanding = before or 0
    rows = []
    for start in starts:
        month = totals.get(start, {})
        outstanding += month.get("net", 0)
        rows.append(
            MonthRow(
                month=start,
                issued=month.get("issued", 0),
                redeemed=-month.get("redeemed", 0),
                expired=-month.get("expired", 0),
                taken_back=-month.get("taken_back", 0),
                outstanding=outstanding,
                liability=liability(outstanding, rate),
            )
        )
    counts = members.aggregate(
        members=Count("pk"),
        active=Count("pk", filter=Q(status=MembershipStatus.ACTIVE)),
        points=Sum("points_balance"),
    )
    current = counts["points"] or 0
    return ProgrammeReport(
        members=counts["members"],
        active_members=counts["active"],
        outstanding=current,
        liability=liability(current, rate),
        offset_rate=rate,
        months=rows,
        tiers=tier_distribution(members),
    )


def monthly_totals(entries: QuerySet[PointsEntry]) -> dict[datetime.date, dict[str, int]]:
    """{month start: {column: signed points, "net": all}} in one grouped query."""
    rows = (
        entries.annotate(month=TruncMonth("created_at"), column=entry_kind_column())
        .values("month", "column")
        .annotate(points=Sum("points", output_field=IntegerField()))
        .order_by()
    )
    totals: dict[datetime.date, dict[str, int]] = {}
    for row in rows:
        month = row["month"]
        day = month.date() if isinstance(month, datetime.datetime) else month
        bucket = totals.setdefault(day, {"net": 0})
        bucket[row["column"]] = bucket.get(row["column"], 0) + row["points"]
        bucket["net"] += row["points"]
    return totals


def liability(points: int, rate: int) -> Decimal:
    return (Decimal(points) / rate).quantize(CENT)


def tier_distribution(members: QuerySet[Membership]) -> list[TierRow]:
    counts = {
        row["tier"]: row
        for row in members.order_by()
        .values("tier")
        .annotate(members=Count("pk"), points=Sum("points_balance"))
    }
    empty = {"members": 0, "points": 0}
    return [
        TierRow(
            tier,
            counts.get(tier.pk, empty)["members"],
            counts.get(tier.pk, empty)["points"] or 0,
        )
        for tier in Tier.objects.order_by("rank")
    ]


def report_chart_data(report: ProgrammeReport, labels: dict[str, str]) -> dict[str, object]:
    """The numbers the charts draw, for a json_script block."""
    return {
        "labels": labels,
        "months": [row.month.strftime("%Y-%m") for row in report.months],
        "issued": [row.issued for row in report.months],
        "redeemed": [row.redeemed for row in report.months],
        "expired": [row.expired for row in report.months],
        "takenBack": [row.taken_back for row in report.months],
        "liability": [float(row.liability) for row in report.months],
        "tiers": [{"label": row.tier.name, "members": row.members} for row in report.tiers],
    }
