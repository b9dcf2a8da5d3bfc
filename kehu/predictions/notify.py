"""Tell each owner about their newly warned customers: one in-app notification per owner per
refresh, the count in the title and the few with the most value at stake in the body."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kehu.accounts.notifications import NewNotification, notify
from kehu.predictions.store import NewlyWarned
from kehu.predictions.text import churn_summary

NOTIFICATION_KIND = "churn_warning"
CHURN_LIST_LINK = "/segments/churn/?owner=me"
LISTED_IN_NOTIFICATION = 3


def notify_owners(
    newly_warned: Sequence[NewlyWarned],
    customer_ids: npt.NDArray[np.int64],
    value_at_stake: npt.NDArray[np.float64],
    reasons: Sequence[list[dict[str, Any]]],
    now: datetime.datetime,
) -> int:
    """One notification per owner listing their newly warned customers; returns how many.

    ``value_at_stake`` and ``reasons`` are aligned with ``customer_ids`` (the refresh's rows).
    """
    by_owner: dict[int, list[NewlyWarned]] = defaultdict(list)
    for warned in newly_warned:
        by_owner[warned.owner_id].append(warned)
    rows = np.searchsorted(customer_ids, [warned.customer_id for warned in newly_warned])
    row_of = dict(zip((warned.customer_id for warned in newly_warned), rows.tolist(), strict=True))
    notifications = [
        owner_notification(owner_id, customers, row_of, value_at_stake, reasons)
        for owner_id, customers in sorted(by_owner.items())
    ]
    return notify(notifications, now)


def owner_notification(
    owner_id: int,
    customers: list[NewlyWarned],
    row_of: dict[int, int],
    value_at_stake: npt.NDArray[np.float64],
    reasons: Sequence[list[dict[str, Any]]],
) -> NewNotification:
    count = len(customers)
    ranked = sorted(
        customers, key=lambda warned: (-value_at_stake[row_of[warned.customer_id]], warned.name)
    )
    lines = [
        customer_line(
            warned.name,
            float(value_at_stake[row_of[warned.customer_id]]),
            reasons[row_of[warned.customer_id]],
        )
        for warned in ranked[:LISTED_IN_NOTIFICATION]
    ]
    if count > LISTED_IN_NOTIFICATION:
        more = count - LISTED_IN_NOTIFICATION
        lines.append(ngettext("and %(count)d more", "and %(count)d more", more) % {"count": more})
    title = ngettext(
        "%(count)d customer newly at risk of churning",
        "%(count)d customers newly at risk of churning",
        count,
    ) % {"count": count}
    return NewNotification(
        recipient_id=owner_id,
        kind=NOTIFICATION_KIND,
        title=title,
        body="\n".join(lines),
        link=CHURN_LIST_LINK,
    )


def customer_line(name: str, value: float, reasons: list[dict[str, Any]]) -> str:
    return _("%(name)s: ¥%(value)s a year at stake; %(reasons)s") % {
        "name": name,
        "value": f"{value:,.0f}",
        "reasons": churn_summary(reasons),
    }
