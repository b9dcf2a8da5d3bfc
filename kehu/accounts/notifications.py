"""In-app notifications: write many at once (a nightly job), read and mark them read (a page)."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import timezone

from kehu.accounts.models import Notification, User

BATCH_SIZE = 2_000


@dataclass(frozen=True)
class NewNotification:
    recipient_id: int
    kind: str
    title: str
    body: str = ""
    link: str = ""


def notify(notifications: Iterable[NewNotification], now: datetime.datetime | None = None) -> int:
    """Store the notifications in bulk; returns how many were written."""
    created_at = now or timezone.now()
    rows = [
        Notification(
            recipient_id=item.recipient_id,
            kind=item.kind,
            title=item.title[:200],
            body=item.body,
            link=item.link[:300],
            created_at=created_at,
        )
        for item in notifications
    ]
    Notification.objects.bulk_create(rows, batch_size=BATCH_SIZE)
    return len(rows)


def notifications_for(user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user)


def unread_count(user: User) -> int:
    return notifications_for(user).filter(read_at__isnull=True).count()


def mark_read(user: User, notification_ids: Iterable[int] | None = None) -> int:
    """Mark the user's own notifications read (all unread ones when no ids are given)."""
    unread = notifications_for(user).filter(read_at__isnull=True)
    if notification_ids is not None:
        unread = unread.filter(pk__in=list(notification_ids))
    return unread.update(read_at=timezone.now())
