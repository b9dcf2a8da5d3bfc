"""Churn reasons and the next best action in words, from the codes the nightly refresh stores.

The refresh stores reasons as data, not sentences, so a page shows them in the reader's language:

``CustomerPrediction.churn_reasons`` is a list, strongest first, of
``{"signal": <one of kehu.analytics.CHURN_SIGNALS>, "points": <int risk points it added>, ...}``
with the values the sentence needs:

- ``p_alive``: ``"p_alive"`` (0..1), and ``"horizon_days"`` when the value is the chance of a
  purchase within that many days (BG/NBD) rather than the chance of still being a customer
- ``overdue``: ``"typical_gap_days"``, ``"days_since_last"``
- ``frequency_drop``: ``"orders_recent"``, ``"orders_before"`` (purchase days per 90 days)
- ``spend_drop``: ``"spend_recent"``, ``"spend_before"`` (per 90 days)
- ``fewer_contacts``: ``"contacts_recent"``, ``"contacts_before"`` (per 90 days)
- ``low_satisfaction``: ``"satisfaction"`` (1..5)
- ``open_complaints``: ``"open_complaints"``

``CustomerPrediction.next_action_reason`` is ``{"rule": <NextAction value>, ...}`` with any of
``"days"`` (act within), ``"risk"``, ``"tier"``, ``"stage"``, ``"clv"``, ``"coupon_threshold"``
and ``"coupon_discount"`` (a 满X减Y offer sized to the customer's usual order), ``"orders"``,
``"open_complaints"``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kehu.predictions.models import NextAction
from kehu.segments.models import LifecycleStage, ValueTier


def describe_churn_reasons(reasons: list[dict[str, Any]]) -> list[str]:
    """One sentence per stored reason, in the stored order; unknown signals are skipped."""
    sentences = (describe_churn_reason(reason) for reason in reasons)
    return [sentence for sentence in sentences if sentence]


def churn_summary(reasons: list[dict[str, Any]]) -> str:
    """The reasons joined into one line, as in a notification or the churn list."""
    return _("; ").join(describe_churn_reasons(reasons))


def describe_churn_reason(reason: dict[str, Any]) -> str:
    describe = CHURN_SENTENCES.get(str(reason.get("signal")))
    if describe is None:
        return ""
    try:
        return describe(reason)
    except (KeyError, TypeError, ValueError):
        return ""  # a row written by an older refresh: show nothing rather than fail the page


def p_alive_sentence(reason: dict[str, Any]) -> str:
    percent = round(float(reason["p_alive"]) * 100)
    if reason.get("horizon_days"):
        return _("the purchase model gives %(percent)d%% odds of a purchase in %(days)d days") % {
            "percent": percent,
            "days": int(reason["horizon_days"]),
        }
    return _("the purchase model gives %(percent)d%% odds they still buy here") % {
        "percent": percent
    }


def overdue_sentence(reason: dict[str, Any]) -> str:
    gap = round(float(reason["typical_gap_days"]))
    silent = round(float(reason["days_since_last"]))
    buys = ngettext("buys every ~%(gap)d day", "buys every ~%(gap)d days", gap) % {"gap": gap}
    quiet = ngettext("silent for %(days)d day", "silent for %(days)d days", silent) % {
        "days": silent
    }
    return _("%(buys)s, %(quiet)s") % {"buys": buys, "quiet": quiet}


def frequency_drop_sentence(reason: dict[str, Any]) -> str:
    return _("%(recent)s orders in the last 90 days, usually %(before)s") % {
        "recent": whole_or_one_decimal(reason["orders_recent"]),
        "before": whole_or_one_decimal(reason["orders_before"]),
    }


def spend_drop_sentence(reason: dict[str, Any]) -> str:
    return _("spent ¥%(recent)s in the last 90 days, usually ¥%(before)s") % {
        "recent": f"{float(reason['spend_recent']):,.0f}",
        "before": f"{float(reason['spend_before']):,.0f}",
    }


def fewer_contacts_sentence(reason: dict[str, Any]) -> str:
    return _("%(recent)s contacts in the last 90 days, usually %(before)s") % {
        "recent": whole_or_one_decimal(reason["contacts_recent"]),
        "before": whole_or_one_decimal(reason["contacts_before"]),
    }


def low_satisfaction_sentence(reason: dict[str, Any]) -> str:
    return _("last survey score %(score)s/5") % {
        "score": whole_or_one_decimal(reason["satisfaction"])
    }


def open_complaints_sentence(reason: dict[str, Any]) -> str:
    count = int(reason["open_complaints"])
    return ngettext("%(count)d open complaint", "%(count)d open complaints", count) % {
        "count": count
    }


CHURN_SENTENCES = {
    "p_alive": p_alive_sentence,
    "overdue": overdue_sentence,
    "frequency_drop": frequency_drop_sentence,
    "spend_drop": spend_drop_sentence,
    "fewer_contacts": fewer_contacts_sentence,
    "low_satisfaction": low_satisfaction_sentence,
    "open_complaints": open_complaints_sentence,
}


def whole_or_one_decimal(value: Any) -> str:
    number = float(value)
    return f"{number:.0f}" if abs(number - round(number)) < 0.05 else f"{number:.1f}"


def describe_next_action(action: str, reason: dict[str, Any]) -> str:
    """The recommended action with its reason, e.g. "VIP at risk: call within 3 days, offer a
    满200减30 coupon"."""
    describe = ACTION_SENTENCES.get(action)
    if describe is None:
        return str(NextAction.NONE.label)
    try:
        return describe(reason)
    except (KeyError, TypeError, ValueError):
        return str(NextAction(action).label)


def coupon_offer(reason: dict[str, Any]) -> str:
    return _("offer a 满%(threshold)s减%(discount)s coupon") % {
        "threshold": int(reason["coupon_threshold"]),
        "discount": int(reason["coupon_discount"]),
    }


def within_days(reason: dict[str, Any]) -> str:
    days = int(reason["days"])
    return ngettext("within %(days)d day", "within %(days)d days", days) % {"days": days}


def save_vip_sentence(reason: dict[str, Any]) -> str:
    return _("VIP at risk: call %(within)s, %(offer)s") % {
        "within": within_days(reason),
        "offer": coupon_offer(reason),
    }


def win_back_sentence(reason: dict[str, Any]) -> str:
    return _("Churn risk %(risk)d: send a win-back message %(within)s and %(offer)s") % {
        "risk": int(reason["risk"]),
        "within": within_days(reason),
        "offer": coupon_offer(reason),
    }


def check_in_sentence(reason: dict[str, Any]) -> str:
    return _("Slowing down (risk %(risk)d): check in by message %(within)s") % {
        "risk": int(reason["risk"]),
        "within": within_days(reason),
    }


def reactivate_sentence(reason: dict[str, Any]) -> str:
    return _("Churned: invite back with a reactivation offer, %(offer)s") % {
        "offer": coupon_offer(reason)
    }


def first_purchase_sentence(reason: dict[str, Any]) -> str:
    return _("No purchase yet: send a welcome offer for a first order")


def second_purchase_sentence(reason: dict[str, Any]) -> str:
    return _("New customer with one order: encourage a second purchase %(within)s") % {
        "within": within_days(reason)
    }


def resolve_complaint_sentence(reason: dict[str, Any]) -> str:
    count = int(reason["open_complaints"])
    return ngettext(
        "%(count)d open complaint: resolve it before any offer",
        "%(count)d open complaints: resolve them before any offer",
        count,
    ) % {"count": count}


def thank_loyal_sentence(reason: dict[str, Any]) -> str:
    tier = str(ValueTier(reason.get("tier", ValueTier.REGULAR)).label)
    stage = str(LifecycleStage(reason.get("stage", LifecycleStage.ACTIVE)).label)
    return _("%(tier)s, %(stage)s and loyal: thank them and recommend products") % {
        "tier": tier,
        "stage": stage,
    }


ACTION_SENTENCES: dict[str, Callable[[dict[str, Any]], str]] = {
    NextAction.SAVE_VIP: save_vip_sentence,
    NextAction.WIN_BACK: win_back_sentence,
    NextAction.CHECK_IN: check_in_sentence,
    NextAction.REACTIVATE: reactivate_sentence,
    NextAction.FIRST_PURCHASE: first_purchase_sentence,
    NextAction.SECOND_PURCHASE: second_purchase_sentence,
    NextAction.RESOLVE_COMPLAINT: resolve_complaint_sentence,
    NextAction.THANK_LOYAL: thank_loyal_sentence,
}
