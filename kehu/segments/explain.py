"""The reasons behind a customer's stage, value tier, RFM segment and ABC class, in words.

Shown on the customer page: "Last purchase 97 days ago: dormant since 2026-10-03". Sentences
are in the active language; the day counts are taken on ``today`` so that they stay true between
refreshes.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kehu.segments.models import (
    AbcClass,
    CustomerMetrics,
    LifecycleStage,
    RfmSegment,
    SegmentationSettings,
    ValueTier,
)


def explain_metrics(metrics: CustomerMetrics, today: datetime.date) -> list[str]:
    """One sentence each for the stage, the tier, the RFM segment and the ABC class."""
    thresholds = SegmentationSettings.current()
    reasons = [explain_stage(metrics, today), explain_tier(metrics, today, thresholds)]
    if metrics.rfm_segment:
        reasons.append(explain_rfm(metrics))
    if metrics.abc_class:
        reasons.append(explain_abc(metrics, thresholds))
    return reasons


def explain_stage(metrics: CustomerMetrics, today: datetime.date) -> str:
    stage = metrics.lifecycle_stage
    since = format_date(metrics.stage_since)
    if stage == LifecycleStage.PROSPECT or metrics.last_purchase is None:
        return _("No purchase yet: prospect")
    if stage == LifecycleStage.NEW and metrics.first_purchase is not None:
        days = days_between(metrics.first_purchase, today)
        return ngettext(
            "First purchase %(days)d day ago: new customer since %(since)s",
            "First purchase %(days)d days ago: new customer since %(since)s",
            days,
        ) % {"days": days, "since": since}
    if stage == LifecycleStage.REACTIVATED and metrics.previous_purchase is not None:
        gap = days_between(metrics.previous_purchase, metrics.last_purchase)
        return ngettext(
            "Came back on %(date)s after %(days)d day without buying: reactivated",
            "Came back on %(date)s after %(days)d days without buying: reactivated",
            gap,
        ) % {"date": format_date(metrics.last_purchase), "days": gap}
    days = days_between(metrics.last_purchase, today)
    return last_purchase_sentence(stage, days) % {"days": days, "since": since}


def last_purchase_sentence(stage: str, days: int) -> str:
    if stage == LifecycleStage.DORMANT:
        return ngettext(
            "Last purchase %(days)d day ago: dormant since %(since)s",
            "Last purchase %(days)d days ago: dormant since %(since)s",
            days,
        )
    if stage == LifecycleStage.CHURNED:
        return ngettext(
            "Last purchase %(days)d day ago: churned since %(since)s",
            "Last purchase %(days)d days ago: churned since %(since)s",
            days,
        )
    return ngettext(
        "Last purchase %(days)d day ago: active since %(since)s",
        "Last purchase %(days)d days ago: active since %(since)s",
        days,
    )


def explain_tier(
    metrics: CustomerMetrics, today: datetime.date, thresholds: SegmentationSettings
) -> str:
    spent = {
        "amount": format_money(metrics.monetary),
        "orders": metrics.frequency,
        "threshold": format_money(thresholds.vip_min_monetary),
    }
    if metrics.value_tier == ValueTier.VIP:
        if metrics.monetary >= thresholds.vip_min_monetary:
            return (
                ngettext(
                    "Spent %(amount)s in %(orders)d order: VIP (threshold %(threshold)s)",
                    "Spent %(amount)s in %(orders)d orders: VIP (threshold %(threshold)s)",
                    metrics.frequency,
                )
                % spent
            )
        return ngettext(
            "Ordered %(orders)d time: VIP (threshold %(count)d orders)",
            "Ordered %(orders)d times: VIP (threshold %(count)d orders)",
            metrics.frequency,
        ) % {"orders": metrics.frequency, "count": thresholds.vip_min_frequency or 0}
    if metrics.value_tier == ValueTier.NEW:
        if metrics.first_purchase is None:
            return _("No purchase yet: new tier")
        days = days_between(metrics.first_purchase, today)
        return ngettext(
            "First purchase %(days)d day ago: new tier (up to %(limit)d days)",
            "First purchase %(days)d days ago: new tier (up to %(limit)d days)",
            days,
        ) % {"days": days, "limit": thresholds.new_tier_days}
    return (
        ngettext(
            "Spent %(amount)s in %(orders)d order: regular (VIP from %(threshold)s)",
            "Spent %(amount)s in %(orders)d orders: regular (VIP from %(threshold)s)",
            metrics.frequency,
        )
        % spent
    )


def explain_rfm(metrics: CustomerMetrics) -> str:
    return _("RFM scores R%(r)s F%(f)s M%(m)s: %(segment)s") % {
        "r": metrics.r_score,
        "f": metrics.f_score,
        "m": metrics.m_score,
        "segment": RfmSegment(metrics.rfm_segment).label,
    }


def explain_abc(metrics: CustomerMetrics, thresholds: SegmentationSettings) -> str:
    a_share = Decimal(thresholds.abc_a_share)
    b_share = Decimal(thresholds.abc_b_share)
    if metrics.abc_class == AbcClass.A:
        return _("Class A: among the top customers who bring %(share)s of revenue") % {
            "share": format_share(a_share)
        }
    if metrics.abc_class == AbcClass.B:
        return _("Class B: among the customers who bring the next %(share)s of revenue") % {
            "share": format_share(b_share)
        }
    return _("Class C: among the customers who bring the last %(share)s of revenue") % {
        "share": format_share(1 - a_share - b_share)
    }


def days_between(earlier: datetime.date, later: datetime.date) -> int:
    return (later - earlier).days


def format_date(day: datetime.date | None) -> str:
    return day.isoformat() if day else "—"


def format_money(amount: Decimal | float | int) -> str:
    value = Decimal(amount)
    if value == value.to_integral_value():
        return f"¥{value:,.0f}"
    return f"¥{value:,.2f}"


def format_share(share: Decimal) -> str:
    return f"{share * 100:.0f}%"
