"""Points expiry: points not spent by their expiry date lapse, oldest first (FIFO).

The nightly job takes members in batches; for each member it writes one EXPIRE entry for the
sum of what lapsed and sets those entries' ``remaining`` to zero, all under the members' locks.
Running it twice changes nothing the second time (nothing due is left unspent).
"""

import datetime
import time
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Max, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.loyalty.models import PointsEntry, PointsKind, PointsSource
from kehu.loyalty.points.ledger_writer import (
    add_to_balances,
    chunks,
    insert_entries,
    lock_memberships,
    new_entry_ids,
)

BATCH_SIZE = 2000


@dataclass
class ExpiryReport:
    members: int = 0
    points: int = 0
    seconds: float = 0.0


def due_entries(
    membership_ids: list[int] | tuple[int, ...], today: datetime.date
) -> QuerySet[PointsEntry]:
    return PointsEntry.objects.filter(
        membership_id__in=membership_ids, expires_on__lte=today, remaining__gt=0
    )


def expire_members(
    membership_ids: list[int] | tuple[int, ...], today: datetime.date, now: datetime.datetime
) -> int:
    """Expire what is due for these (already locked) members; answers the points expired."""
    lapsed = (
        due_entries(membership_ids, today)
        .order_by()
        .values("membership_id")
        .annotate(points=Sum("remaining"), last_entry=Max("pk"))
    )
    rows = [(row["membership_id"], row["points"], row["last_entry"]) for row in lapsed]
    if not rows:
        return 0
    reason = _("Points earned before %(date)s reached their expiry date.") % {"date": today}
    ids = new_entry_ids(len(rows))
    insert_entries(
        [
            (entry_id, membership_id, PointsKind.EXPIRE, -points, 0, None, PointsSource.EXPIRY,
             reason, None, None, f"expire:{membership_id}:{today}:{last_entry}", None, now)
            for entry_id, (membership_id, points, last_entry) in zip(ids, rows, strict=True)
        ]
    )  # fmt: skip
    due_entries(membership_ids, today).update(remaining=0)
    add_to_balances({membership_id: -points for membership_id, points, _last in rows})
    return sum(points for _member, points, _last in rows)


def members_with_due_points(today: datetime.date) -> list[int]:
    return sorted(
        PointsEntry.objects.filter(expires_on__lte=today, remaining__gt=0)
        .order_by()
        .values_list("membership_id", flat=True)
        .distinct()
    )


def expire_points(now: datetime.datetime | None = None) -> ExpiryReport:
    """The periodic job: every member's points past their expiry date lapse."""
    started = time.monotonic()
    now = now or timezone.now()
    today = timezone.localdate(now)
    report = ExpiryReport()
    for batch in chunks(members_with_due_points(today), BATCH_SIZE):
        with transaction.atomic():
            locked = lock_memberships(batch)
            report.points += expire_members(locked, today, now)
            report.members += len(locked)
    report.seconds = time.monotonic() - started
    return report
