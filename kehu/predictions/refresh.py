"""The nightly predictions refresh: purchase and spend models, churn risk, next best action and
product recommendations for every customer, stored in bulk, with warnings to the owners.

Steps (each timed in the report): read the purchases and contacts as Arrow once and the stored
tiers and stages; fit the models and predict (predictions_fit); score the churn risk
(predictions_churn); choose the next best action (next_action); recommend products
(predictions_recommend); store every row set-based and keep the level history
(predictions_store); notify each owner of their newly warned customers (predictions_notify).
Safe to run twice: rows are upserted and a customer is warned once while they stay warned.
"""

from __future__ import annotations

import datetime
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.predictions.churn import score_churn
from kehu.predictions.fit import FitOutcome, fit_and_predict
from kehu.predictions.models import ChurnLevel, PredictionFit, PredictionSettings
from kehu.predictions.next_action import ActionInputs, next_best_actions
from kehu.predictions.notify import notify_owners
from kehu.predictions.read import purchases_until, read_contacts, stored_metrics
from kehu.predictions.recommend import recommend_products
from kehu.predictions.store import (
    PredictionColumns,
    prediction_rows,
    store_predictions,
)
from kehu.segments.refresh import all_customer_ids


@dataclass
class PredictionReport:
    """What a predictions refresh did, and how long each step took."""

    customers: int = 0
    buyers: int = 0
    repeat_buyers: int = 0
    fit_message: str = ""
    holdout_message: str = ""
    levels: dict[str, int] = field(default_factory=dict)
    actions: dict[str, int] = field(default_factory=dict)
    level_changes: int = 0
    newly_warned: int = 0
    notifications: int = 0
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def total_seconds(self) -> float:
        return sum(self.seconds.values())

    def summary_lines(self) -> list[str]:
        """The refresh in words, for `kehu segments refresh`."""
        levels = ", ".join(
            f"{ChurnLevel(level).label} {self.levels.get(level, 0):,}" for level in ChurnLevel
        )
        lines = [
            _(
                "Predicted %(customers)s customers (%(buyers)s buyers, %(repeat)s repeat "
                "buyers). Churn levels: %(levels)s; %(warned)s newly warned, "
                "%(notifications)s owners notified."
            )
            % {
                "customers": f"{self.customers:,}",
                "buyers": f"{self.buyers:,}",
                "repeat": f"{self.repeat_buyers:,}",
                "levels": levels,
                "warned": f"{self.newly_warned:,}",
                "notifications": f"{self.notifications:,}",
            }
        ]
        if self.fit_message:
            lines.append(self.fit_message)
        return lines

    @contextmanager
    def timed(self, step: str) -> Iterator[None]:
        started = time.perf_counter()
        yield
        self.seconds[step] = self.seconds.get(step, 0.0) + time.perf_counter() - started


def refresh_predictions(now: datetime.datetime | None = None) -> PredictionReport:
    """Predict, score and store every customer as of ``now`` (see the module docstring)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    settings = PredictionSettings.current()
    report = PredictionReport()
    with report.timed("read"):
        orders = purchases_until(today)
        customer_ids = all_customer_ids()  # after the orders, so every buyer is among them
        contacts = read_contacts()
        metrics = stored_metrics(customer_ids)
    with report.timed("fit"):
        predicted, fit = fit_and_predict(
            orders, customer_ids, today, settings, metrics.average_order_value
        )
    with report.timed("churn"):
        churn = score_churn(orders, contacts, customer_ids, today, predicted.activity, settings)
    with report.timed("actions"):
        actions = next_best_actions(
            ActionInputs(
                value_tier=metrics.value_tier,
                lifecycle_stage=metrics.lifecycle_stage,
                churn_level=churn.level,
                churn_risk=churn.risk,
                clv=predicted.clv,
                average_order_value=metrics.average_order_value,
                orders=metrics.orders,
                # kehu has no tickets yet: no customer has an open complaint.
                open_complaints=np.zeros(len(customer_ids), dtype=np.int64),
            )
        )
    with report.timed("recommend"):
        products = recommend_products(customer_ids, orders)
    columns = PredictionColumns(
        customer_id=customer_ids,
        p_alive=predicted.p_alive,
        expected_purchases=predicted.expected_purchases,
        expected_order_value=predicted.expected_order_value,
        clv=predicted.clv,
        value_at_stake=churn.value_at_stake,
        churn_risk=churn.risk,
        churn_level=churn.level,
        churn_reasons=churn.reasons,
        next_action=actions.action,
        next_action_reason=actions.reasons,
        recommended_products=products,
    )
    with transaction.atomic():
        with report.timed("store"):
            rows = prediction_rows(columns, settings.notify_level, today, now)
            stored = store_predictions(rows, today)
            save_fit(fit, now, report.seconds["fit"])
        with report.timed("notify"):
            report.notifications = notify_owners(
                stored.newly_warned, customer_ids, churn.value_at_stake, churn.reasons, now
            )
    report.customers = len(customer_ids)
    report.buyers = fit.customers
    report.repeat_buyers = fit.repeat_buyers
    report.fit_message = fit.message
    report.holdout_message = fit.holdout_message
    report.levels = dict(Counter(churn.level.tolist()))
    report.actions = dict(Counter(actions.action.tolist()))
    report.level_changes = stored.level_changes
    report.newly_warned = len(stored.newly_warned)
    return report


def save_fit(fit: FitOutcome, now: datetime.datetime, seconds: float) -> PredictionFit:
    return PredictionFit.objects.create(
        fitted_at=now,
        model=fit.model,
        calibration_end=fit.calibration_end,
        customers=fit.customers,
        repeat_buyers=fit.repeat_buyers,
        purchase_params=fit.purchase_params,
        purchase_log_likelihood=fit.purchase_log_likelihood,
        spend_params=fit.spend_params,
        spend_log_likelihood=fit.spend_log_likelihood,
        holdout=fit.holdout,
        message=fit.message,
        seconds=round(seconds, 3),
    )
