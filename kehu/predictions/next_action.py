"""The next best action: one recommended action per customer, chosen by vectorised rules.

Rules, in priority order (the first that applies wins; ``np.select`` keeps that order):

1. ``resolve_complaint``: the customer has open complaints; no offer before they are resolved.
   kehu has no tickets yet, so the nightly refresh passes 0 open complaints for everyone.
2. ``first_purchase``: a prospect (lifecycle stage), who has never bought.
3. ``save_vip``: a valuable customer at churn level warning or critical: call within 3 days
   with a 满X减Y coupon. Valuable = VIP tier, or a predicted lifetime value among the top
   ``TOP_CLV_SHARE`` of customers (worth a call before the tier notices).
4. ``win_back``: anyone else at warning or critical: a win-back message within 7 days, coupon.
5. ``reactivate``: a churned customer (lifecycle stage) the risk score does not flag: a
   reactivation offer.
6. ``check_in``: churn level watch: a friendly message within 14 days, no discount yet.
7. ``second_purchase``: a new customer with one order: encourage the second within 14 days.
8. ``thank_loyal``: VIP or regular, active or reactivated, churn level low: thank them and
   recommend products.
9. ``none``.

The coupon is sized from the customer's average order: the threshold X is the average rounded
up to a tidy step (10 below ¥100, 50 below ¥500, 100 below ¥2,000, else 500) and the discount Y
is about 15% of X, rounded to ¥5 (at least ¥5): an average of ¥180 gives 满200减30.
The reasons are stored as data (see kehu.predictions.text for the schema).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from kehu.predictions.models import ChurnLevel, NextAction
from kehu.segments.models import LifecycleStage, ValueTier

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
TextArray = npt.NDArray[np.str_]

SAVE_VIP_DAYS = 3
WIN_BACK_DAYS = 7
CHECK_IN_DAYS = 14
SECOND_PURCHASE_DAYS = 14
TOP_CLV_SHARE = 0.05
COUPON_SHARE = 0.15
COUPON_ROUNDING = 5
# (average order below, step): the threshold is the average rounded up to this step.
COUPON_STEPS = ((100.0, 10.0), (500.0, 50.0), (2000.0, 100.0), (np.inf, 500.0))
AT_RISK = (ChurnLevel.WARNING.value, ChurnLevel.CRITICAL.value)


@dataclass(frozen=True)
class ActionInputs:
    """What the rules read, one entry per customer (all arrays aligned)."""

    value_tier: TextArray
    lifecycle_stage: TextArray
    churn_level: TextArray
    churn_risk: IntArray
    clv: FloatArray  # NaN where the models gave none
    average_order_value: FloatArray
    orders: IntArray
    open_complaints: IntArray


@dataclass(frozen=True)
class Actions:
    action: TextArray
    reasons: list[dict[str, Any]]


def next_best_actions(inputs: ActionInputs) -> Actions:
    """The action and its reason for every customer (see the module docstring for the rules)."""
    conditions, choices = zip(*rule_conditions(inputs), strict=True)
    action = np.select(list(conditions), list(choices), default=NextAction.NONE.value)
    return Actions(action=action.astype(np.str_), reasons=action_reasons(action, inputs))


def rule_conditions(inputs: ActionInputs) -> list[tuple[npt.NDArray[np.bool_], str]]:
    tier, stage, level = inputs.value_tier, inputs.lifecycle_stage, inputs.churn_level
    at_risk = np.isin(level, AT_RISK)
    valuable = (tier == ValueTier.VIP.value) | top_clv(inputs.clv)
    loyal_tier = np.isin(tier, (ValueTier.VIP.value, ValueTier.REGULAR.value))
    active = np.isin(stage, (LifecycleStage.ACTIVE.value, LifecycleStage.REACTIVATED.value))
    return [
        (inputs.open_complaints > 0, NextAction.RESOLVE_COMPLAINT.value),
        (stage == LifecycleStage.PROSPECT.value, NextAction.FIRST_PURCHASE.value),
        (valuable & at_risk, NextAction.SAVE_VIP.value),
        (at_risk, NextAction.WIN_BACK.value),
        (stage == LifecycleStage.CHURNED.value, NextAction.REACTIVATE.value),
        (level == ChurnLevel.WATCH.value, NextAction.CHECK_IN.value),
        (
            (stage == LifecycleStage.NEW.value) & (inputs.orders == 1),
            NextAction.SECOND_PURCHASE.value,
        ),
        (loyal_tier & active & (level == ChurnLevel.LOW.value), NextAction.THANK_LOYAL.value),
    ]


def top_clv(clv: FloatArray) -> npt.NDArray[np.bool_]:
    """Whether each customer's predicted CLV is among the top TOP_CLV_SHARE of known ones."""
    known = np.isfinite(clv) & (clv > 0)
    if not np.any(known):
        return np.zeros(len(clv), dtype=bool)
    cutoff = np.quantile(clv[known], 1.0 - TOP_CLV_SHARE)
    return known & (clv >= cutoff)


def coupon_for(average_order_value: FloatArray) -> tuple[IntArray, IntArray]:
    """The 满X减Y coupon of each customer: X = the average order rounded up to a tidy step,
    Y ≈ 15% of X rounded to ¥5, at least ¥5."""
    average = np.nan_to_num(np.maximum(average_order_value, 0.0), nan=0.0)
    limits = np.array([limit for limit, _step in COUPON_STEPS])
    steps = np.array([step for _limit, step in COUPON_STEPS])
    step = steps[np.searchsorted(limits, average, side="right")]
    threshold = np.maximum(np.ceil(average / step), 1.0) * step
    discount = np.rint(threshold * COUPON_SHARE / COUPON_ROUNDING) * COUPON_ROUNDING
    return threshold.astype(np.int64), np.maximum(discount, COUPON_ROUNDING).astype(np.int64)


def action_reasons(action: npt.NDArray[Any], inputs: ActionInputs) -> list[dict[str, Any]]:
    """The stored reason of each customer's action: the rule and the values its sentence uses."""
    threshold, discount = coupon_for(inputs.average_order_value)
    columns: dict[str, list[Any]] = {
        "risk": inputs.churn_risk.astype(np.int64).tolist(),
        "tier": inputs.value_tier.tolist(),
        "stage": inputs.lifecycle_stage.tolist(),
        "clv": rounded_or_none(inputs.clv),
        "coupon_threshold": threshold.tolist(),
        "coupon_discount": discount.tolist(),
        "orders": inputs.orders.astype(np.int64).tolist(),
        "open_complaints": inputs.open_complaints.astype(np.int64).tolist(),
    }
    reasons: list[dict[str, Any]] = [{} for _ in range(len(action))]
    for rule, (days, keys) in REASON_KEYS.items():
        for index in np.flatnonzero(action == rule).tolist():
            reason: dict[str, Any] = {"rule": rule}
            if days is not None:
                reason["days"] = days
            for key in keys:
                if columns[key][index] is not None:
                    reason[key] = columns[key][index]
            reasons[index] = reason
    return reasons


def rounded_or_none(values: FloatArray) -> list[float | None]:
    """Money rounded to whole yuan for the reason text; None where unknown."""
    finite = np.isfinite(values)
    rounded: list[float | None] = np.where(finite, np.round(values), 0.0).tolist()
    for index in np.flatnonzero(~finite).tolist():
        rounded[index] = None
    return rounded


COUPON = ("coupon_threshold", "coupon_discount")
# Per action: the "act within" days (None: no deadline) and the values its reason carries.
REASON_KEYS: dict[str, tuple[int | None, tuple[str, ...]]] = {
    NextAction.RESOLVE_COMPLAINT.value: (None, ("open_complaints",)),
    NextAction.FIRST_PURCHASE.value: (None, ("stage",)),
    NextAction.SAVE_VIP.value: (SAVE_VIP_DAYS, ("risk", "tier", "clv", *COUPON)),
    NextAction.WIN_BACK.value: (WIN_BACK_DAYS, ("risk", "clv", *COUPON)),
    NextAction.REACTIVATE.value: (None, ("stage", "risk", *COUPON)),
    NextAction.CHECK_IN.value: (CHECK_IN_DAYS, ("risk",)),
    NextAction.SECOND_PURCHASE.value: (SECOND_PURCHASE_DAYS, ("orders", "stage")),
    NextAction.THANK_LOYAL.value: (None, ("tier", "stage", "clv")),
    NextAction.NONE.value: (None, ()),
}
