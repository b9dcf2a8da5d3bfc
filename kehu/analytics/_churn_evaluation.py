"""How well the churn warning predicts churn, measured on a time split against a recency rule.

The customers are everyone who bought on or before the cutoff; a customer churned when they made
no purchase in the following ``horizon_days``. The risk is computed as of the cutoff with a
BG/NBD fitted on the data up to the cutoff, so nothing after the cutoff leaks into it. The
recency rule (flag whoever has not bought for ``t`` days) is scored at its best-F1 threshold and
at the threshold that flags as many customers as the warning, so the comparison is fair;
average precision compares the two rankings over every threshold at once.

Measured with the default weights and signal shapes, untuned (bench/bench_churn.py, horizon and
window 90 days), average precision of the risk against recency: Online Retail at 2011-06-01
0.672 against 0.665 and at 2011-09-01 0.613 against 0.600; 50,000 demo customers 0.948 against
0.934; CDNOW at 1997-09-30 0.923 against 0.930 (recency is hard to beat there: 83 % of that
cohort never comes back). That is with P(a purchase within the horizon) as the model signal.
With BG/NBD P(alive) instead, the risk loses to recency on Online Retail (0.572 against 0.600
at 2011-09-01): the fit sees almost no dropout there and P(alive) is 1 for every one-time buyer
(half of the customers), so the warning (risk >= 60) flags nobody. The purchase probability on
its own ranks better than the weighted risk everywhere (0.628 at 2011-09-01): the other signals
are there to explain and to act on, not to rank.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import numpy.typing as npt

from kehu.analytics._bgnbd import BetaGeoModel
from kehu.analytics._churn import ChurnWeights, churn_inputs, churn_risk, purchase_probability
from kehu.analytics._clv import calibration_summary, period_days
from kehu.analytics._fitting import FloatArray
from kehu.analytics._sources import duckdb_connection

if TYPE_CHECKING:
    import pyarrow as pa

ModelSignal = Literal["purchase_probability", "p_alive"]
MODEL_SIGNALS: tuple[str, ...] = ("purchase_probability", "p_alive")
RULE_COLUMNS: tuple[str, ...] = (
    "rule",
    "threshold",
    "flagged",
    "precision",
    "recall",
    "f1",
    "average_precision",
)


@dataclass(frozen=True)
class ChurnRuleScore:
    """One flagging rule: flag customers whose score is at least ``threshold``."""

    rule: str
    threshold: float
    flagged: int
    precision: float
    recall: float
    f1: float
    average_precision: float


@dataclass(frozen=True)
class ChurnEvaluation:
    """The customers evaluated, how many churned, and one score per rule.

    Rules: ``risk_warning`` (risk at or above the warning threshold), ``risk_best_f1``,
    ``recency_same_flagged`` (days since the last purchase, with the threshold that flags about
    as many customers as the warning), ``recency_best_f1`` and, for reference, the purchase
    model alone: ``p_alive_best_f1`` (1 − P(alive)) and ``purchase_probability_best_f1``
    (1 − P(a purchase within the horizon)).
    """

    customers: int
    churned: int
    rules: tuple[ChurnRuleScore, ...]

    @property
    def churn_rate(self) -> float:
        return self.churned / self.customers if self.customers else 0.0

    def rule(self, name: str) -> ChurnRuleScore:
        for score in self.rules:
            if score.rule == name:
                return score
        raise KeyError(name)

    def to_table(self) -> pa.Table:
        """The rules as an Arrow table with :data:`RULE_COLUMNS`."""
        import pyarrow as pa

        return pa.table(
            {column: [getattr(score, column) for score in self.rules] for column in RULE_COLUMNS}
        )


def evaluate_churn_warning(
    orders: pa.Table,
    cutoff: datetime.date,
    *,
    horizon_days: int = 90,
    window_days: int = 90,
    warning_threshold: int = 60,
    model_signal: ModelSignal = "purchase_probability",
    period: str = "week",
    weights: ChurnWeights | None = None,
    contacts: pa.Table | None = None,
) -> ChurnEvaluation:
    """Score the churn warning at ``cutoff`` against who actually stopped buying.

    ``orders`` and ``contacts`` are those of :func:`~kehu.analytics.churn_inputs`; the contacts
    must not depend on what happened after the cutoff. A BG/NBD is fitted on the purchases up
    to the cutoff (in ``period`` units) and gives the model signal passed to
    :func:`~kehu.analytics.churn_risk` as ``p_alive``: ``"purchase_probability"`` (P(a purchase
    within the horizon), :func:`~kehu.analytics.purchase_probability`) or ``"p_alive"``
    (P(alive)). ``weights`` default to :class:`~kehu.analytics.ChurnWeights`'s defaults.

    Examples
    --------
    >>> import pyarrow as pa
    >>> days = [datetime.date(2024, 1, 1) + datetime.timedelta(days=7 * k) for k in range(30)]
    >>> orders = pa.table({"customer_id": [1] * 30 + [2] * 3 + [3] * 20,
    ...     "date": days + days[:3] + days[:20], "amount": [10.0] * 53})
    >>> result = evaluate_churn_warning(orders, datetime.date(2024, 5, 31), horizon_days=30,
    ...     window_days=30)
    >>> result.customers, result.churned
    (3, 2)
    >>> recency = result.rule("recency_best_f1")
    >>> recency.threshold, recency.flagged, recency.precision, recency.recall
    (18.0, 2, 1.0, 1.0)
    """
    if horizon_days < 1:
        raise ValueError("horizon_days must be 1 or more.")
    if model_signal not in MODEL_SIGNALS:
        raise ValueError(f"model_signal must be one of {MODEL_SIGNALS}, not {model_signal!r}.")
    summary = _calibration(orders, cutoff, horizon_days, period)
    signals = _model_signals(summary, horizon_days / period_days(period))
    ids = summary["customer_id"].to_numpy(zero_copy_only=False).astype(np.int64)
    inputs = churn_inputs(
        orders, cutoff, customer_ids=ids, contacts=contacts, window_days=window_days
    )
    result = churn_risk(inputs, signals[model_signal], weights or ChurnWeights())
    risk = result.risk.astype(np.float64)
    churned = summary["holdout_frequency"].to_numpy(zero_copy_only=False) == 0
    warning = _at_threshold("risk_warning", risk, churned, float(warning_threshold))
    rules = (
        warning,
        _best_f1("risk_best_f1", risk, churned),
        _same_flagged("recency_same_flagged", inputs.days_since_last, churned, warning.flagged),
        _best_f1("recency_best_f1", inputs.days_since_last, churned),
        *(_best_f1(f"{name}_best_f1", 1.0 - signal, churned) for name, signal in signals.items()),
    )
    return ChurnEvaluation(customers=len(ids), churned=int(churned.sum()), rules=rules)


def _model_signals(summary: pa.Table, horizon: float) -> dict[str, FloatArray]:
    """Both model signals of a BG/NBD fitted on the calibration summary."""
    history = [
        summary[name].to_numpy(zero_copy_only=False) for name in ("frequency", "recency", "T")
    ]
    model = BetaGeoModel().fit(*history)
    return {
        "p_alive": model.probability_alive(*history),
        "purchase_probability": purchase_probability(model, horizon, *history),
    }


def average_precision(score: FloatArray, positive: npt.NDArray[np.bool_]) -> float:
    """Σ (Rₖ − Rₖ₋₁) Pₖ over the distinct score thresholds, highest first (ties flagged together).

    Examples
    --------
    >>> average_precision(np.array([3.0, 2.0, 1.0]), np.array([True, False, True]))
    0.8333333333333333
    """
    flagged, hits = _curve(score, positive)
    if hits.size == 0 or hits[-1] == 0:
        return 0.0
    recall = hits / hits[-1]
    precision = hits / flagged
    return float(np.sum(np.diff(recall, prepend=0.0) * precision))


def _calibration(
    orders: pa.Table, cutoff: datetime.date, horizon_days: int, period: str
) -> pa.Table:
    import ibis

    connection = duckdb_connection()
    table = connection.create_view("orders", ibis.memtable(orders), overwrite=True)
    return calibration_summary(
        table,
        calibration_end=cutoff,
        period=period,
        holdout_end=cutoff + datetime.timedelta(days=horizon_days),
    )


def _curve(
    score: FloatArray, positive: npt.NDArray[np.bool_]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Flagged and true positives at each distinct threshold, highest score first."""
    order = np.argsort(-score, kind="stable")
    ordered = score[order]
    hits = np.cumsum(positive[order])
    last_of_tie = np.append(np.flatnonzero(np.diff(ordered) != 0), len(ordered) - 1)
    if len(ordered) == 0:
        last_of_tie = last_of_tie[:0]
    return last_of_tie + 1, hits[last_of_tie]


def _thresholds(score: FloatArray) -> FloatArray:
    ordered = -np.sort(-score)
    last_of_tie = np.append(np.flatnonzero(np.diff(ordered) != 0), len(ordered) - 1)
    thresholds: FloatArray = ordered[last_of_tie]
    return thresholds


def _at_threshold(
    name: str, score: FloatArray, positive: npt.NDArray[np.bool_], threshold: float
) -> ChurnRuleScore:
    score = np.nan_to_num(score, nan=-np.inf)
    flagged_mask = score >= threshold
    flagged = int(flagged_mask.sum())
    hits = int((flagged_mask & positive).sum())
    total = int(positive.sum())
    precision = hits / flagged if flagged else 0.0
    recall = hits / total if total else 0.0
    f1 = 2 * hits / (flagged + total) if flagged + total else 0.0
    return ChurnRuleScore(
        rule=name,
        threshold=threshold,
        flagged=flagged,
        precision=precision,
        recall=recall,
        f1=f1,
        average_precision=average_precision(score, positive),
    )


def _best_f1(name: str, score: FloatArray, positive: npt.NDArray[np.bool_]) -> ChurnRuleScore:
    score = np.nan_to_num(score, nan=-np.inf)
    flagged, hits = _curve(score, positive)
    f1 = 2 * hits / (flagged + positive.sum())
    best = float(_thresholds(score)[int(np.argmax(f1))]) if len(f1) else np.inf
    return _at_threshold(name, score, positive, best)


def _same_flagged(
    name: str, score: FloatArray, positive: npt.NDArray[np.bool_], target: int
) -> ChurnRuleScore:
    """The threshold whose flagged count is closest to ``target`` (ties keep scores together)."""
    score = np.nan_to_num(score, nan=-np.inf)
    flagged, _hits = _curve(score, positive)
    if len(flagged) == 0:
        return _at_threshold(name, score, positive, np.inf)
    index = int(np.argmin(np.abs(flagged - target)))
    return _at_threshold(name, score, positive, float(_thresholds(score)[index]))
