"""Fit the purchase model (BG/NBD or Pareto/NBD) and the Gamma-Gamma spend model on everyone's
purchases and predict per customer; check the purchase model on a holdout period.

Time runs in weeks (the calibration summary of kehu.analytics, up to today): the horizon of the
expected purchases is ``horizon_days / 7`` weeks, and the CLV adds ``clv_months`` monthly steps
of 30.44 days, each discounted at the monthly rate equivalent to ``annual_discount_rate``.

When the data cannot support a model (no buyers, one buyer, no repeat buyers, every purchase
today, no positive spend), the fit says why in ``message`` and its predictions are NaN, which the
store writes as NULL: a page shows "not enough data" instead of a made-up number.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from django.utils.translation import gettext as _

from kehu.predictions.models import PredictionModel, PredictionSettings

if TYPE_CHECKING:
    import pyarrow as pa

    from kehu.analytics import BetaGeoModel, GammaGammaModel, ParetoNBDModel

FloatArray = npt.NDArray[np.float64]
PERIOD = "week"
PERIOD_DAYS = 7.0
MONTH_DAYS = 365.25 / 12
HOLDOUT_LARGEST_FREQUENCY = 7
# The L2 penalty of a refit when the plain fit runs off on few customers (lifetimes' advice:
# 0.001-0.1); small enough to leave a real data set's parameters nearly where they were.
FEW_DATA_PENALIZER = 0.01
# Exceptions a fit on odd data may raise: the library's checks, and the optimiser's numbers.
FIT_ERRORS = (ValueError, ArithmeticError, np.linalg.LinAlgError)


@dataclass(frozen=True)
class ModelPredictions:
    """Per customer, aligned with the refresh's customer ids; NaN where there is no prediction."""

    p_alive: FloatArray
    expected_purchases: FloatArray
    expected_order_value: FloatArray
    clv: FloatArray
    # The churn risk's model signal: the chance of a purchase within the horizon (BG/NBD), or
    # P(alive) (Pareto/NBD). BG/NBD's P(alive) is 1 for every one-time buyer and near 1 for
    # everyone when the history is short, so it cannot tell them apart; the purchase chance
    # ranks churners better on Online Retail and the demo (kehu.analytics._churn_evaluation).
    activity: FloatArray

    @classmethod
    def unknown(cls, size: int) -> ModelPredictions:
        return cls(*(np.full(size, np.nan) for _ in range(5)))


@dataclass
class FitOutcome:
    """What one nightly fit learned, for a PredictionFit row."""

    model: str
    calibration_end: datetime.date
    customers: int = 0
    repeat_buyers: int = 0
    purchase_params: dict[str, Any] = field(default_factory=dict)
    purchase_log_likelihood: float | None = None
    spend_params: dict[str, Any] = field(default_factory=dict)
    spend_log_likelihood: float | None = None
    holdout: list[dict[str, float]] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    holdout_message: str = ""

    @property
    def message(self) -> str:
        return " ".join(self.messages)


@dataclass(frozen=True)
class Calibration:
    """The weekly calibration summary as numpy columns (buyers up to the calibration end)."""

    customer_id: npt.NDArray[np.int64]
    frequency: FloatArray
    recency: FloatArray
    age: FloatArray
    monetary_value: FloatArray

    @classmethod
    def from_summary(cls, summary: pa.Table) -> Calibration:
        def column(name: str) -> FloatArray:
            values: FloatArray = summary[name].to_numpy(zero_copy_only=False).astype(np.float64)
            return values

        ids = summary["customer_id"].to_numpy(zero_copy_only=False).astype(np.int64)
        return cls(ids, *(column(name) for name in ("frequency", "recency", "T", "monetary_value")))

    @property
    def history(self) -> tuple[FloatArray, FloatArray, FloatArray]:
        return self.frequency, self.recency, self.age

    def among(self, customer_ids: npt.NDArray[np.int64]) -> Calibration:
        """Only the buyers in ``customer_ids`` (a customer merged away meanwhile drops out)."""
        known = np.isin(self.customer_id, customer_ids)
        if np.all(known):
            return self
        return Calibration(
            self.customer_id[known],
            self.frequency[known],
            self.recency[known],
            self.age[known],
            self.monetary_value[known],
        )


def fit_and_predict(
    orders: pa.Table,
    customer_ids: npt.NDArray[np.int64],
    today: datetime.date,
    settings: PredictionSettings,
    fallback_order_value: FloatArray,
) -> tuple[ModelPredictions, FitOutcome]:
    """Fit on the purchases up to ``today`` and predict every customer in ``customer_ids``.

    ``orders`` has ``customer_id``, ``purchase_date`` and ``amount``. ``fallback_order_value``
    (aligned with ``customer_ids``) is each customer's own average order, used where the spend
    model cannot apply.
    """
    outcome = FitOutcome(model=settings.model, calibration_end=today)
    calibration = Calibration.from_summary(calibration_summary_of(orders, today))
    calibration = calibration.among(customer_ids)
    outcome.customers = len(calibration.customer_id)
    outcome.repeat_buyers = int(np.sum(calibration.frequency > 0))
    predictions = ModelPredictions.unknown(len(customer_ids))
    problem = purchase_data_problem(calibration)
    if problem:
        outcome.messages.append(problem)
        return predictions, outcome
    try:
        purchase_model, note = fit_purchase_model(settings, calibration)
    except FIT_ERRORS as error:
        outcome.messages.append(
            _("The purchase model could not be fitted: %(error)s") % {"error": error}
        )
        return predictions, outcome
    if note:
        outcome.messages.append(note)
    outcome.purchase_params = parameters_of(purchase_model)
    outcome.purchase_log_likelihood = finite_or_none(purchase_model.log_likelihood_)
    positions = np.searchsorted(customer_ids, calibration.customer_id)
    order_value = spend_predictions(calibration, fallback_order_value[positions], outcome)
    predicted = predict_buyers(purchase_model, calibration, order_value, settings)
    outcome.holdout, outcome.holdout_message = holdout_rows(orders, today, settings)
    return spread(predicted, positions, len(customer_ids)), outcome


def calibration_summary_of(
    orders: pa.Table, calibration_end: datetime.date, **options: Any
) -> pa.Table:
    """kehu.analytics' weekly calibration summary of the Arrow purchases, run by DuckDB."""
    import ibis

    from kehu.analytics import calibration_summary

    return calibration_summary(
        ibis.memtable(orders.select(["customer_id", "purchase_date", "amount"])),
        calibration_end=calibration_end,
        period=PERIOD,
        customer_column="customer_id",
        date_column="purchase_date",
        amount_column="amount",
        **options,
    )


def purchase_data_problem(calibration: Calibration) -> str:
    """Why the purchase model cannot be fitted on this data, in words; "" when it can."""
    buyers = len(calibration.customer_id)
    if buyers == 0:
        return _("No customer has bought anything yet, so there is nothing to fit the models on.")
    if buyers == 1:
        return _("Only one customer has bought anything: the models need at least two buyers.")
    if not np.any(calibration.age > 0):
        return _("Every purchase was made today: there is no time yet to learn a rhythm from.")
    if not np.any(calibration.frequency > 0):
        return _(
            "No customer has bought on two different days yet: the purchase rate cannot be "
            "estimated."
        )
    return ""


def fit_purchase_model(
    settings: PredictionSettings, calibration: Calibration
) -> tuple[BetaGeoModel | ParetoNBDModel, str]:
    """The purchase model chosen in the settings, fitted, and a note if it needed a penalty.

    On few customers the maximum-likelihood estimate can run off to huge parameters whose
    predictions overflow (NaN); it is then refitted with a small L2 penalty, which keeps the
    parameters finite, and the note says the predictions are rough.
    """
    model = purchase_model_for(settings.model).fit(*calibration.history)
    if predicts_finite(model, calibration, settings):
        return model, ""
    model = purchase_model_for(settings.model, FEW_DATA_PENALIZER).fit(*calibration.history)
    if predicts_finite(model, calibration, settings):
        return model, _(
            "The purchase model was unstable on this little data and was fitted with a small "
            "penalty: treat its predictions as rough."
        )
    raise ValueError(_("it found no stable parameters for this data"))


def predicts_finite(
    model: BetaGeoModel | ParetoNBDModel, calibration: Calibration, settings: PredictionSettings
) -> bool:
    with np.errstate(all="ignore"):
        p_alive = model.probability_alive(*calibration.history)
        expected = model.expected_purchases(
            settings.horizon_days / PERIOD_DAYS, *calibration.history
        )
    return bool(np.all(np.isfinite(p_alive)) and np.all(np.isfinite(expected)))


def purchase_model_for(name: str, penalizer: float = 0.0) -> BetaGeoModel | ParetoNBDModel:
    from kehu.analytics import BetaGeoModel, ParetoNBDModel

    if name == PredictionModel.PARETONBD:
        return ParetoNBDModel(penalizer=penalizer)
    return BetaGeoModel(penalizer=penalizer)


def spend_predictions(
    calibration: Calibration, fallback: FloatArray, outcome: FitOutcome
) -> FloatArray:
    """Expected order value of each buyer in the calibration summary.

    Gamma-Gamma where it applies: buyers with repeat purchases of positive mean value get its
    conditional expectation, one-day buyers its population mean. Repeat buyers whose repeat
    purchases came to zero or less (refunds, free samples), and everyone when the spend model
    cannot be fitted, get their own average order (never below 0).
    """
    own_average = np.maximum(np.nan_to_num(fallback, nan=0.0), 0.0)
    spend_model, problem = fit_spend_model(calibration)
    if spend_model is None:
        outcome.messages.append(problem)
        return own_average
    outcome.spend_params = parameters_of(spend_model)
    outcome.spend_log_likelihood = finite_or_none(spend_model.log_likelihood_)
    usable = (calibration.frequency == 0) | (calibration.monetary_value > 0)
    frequency = np.where(usable, calibration.frequency, 0.0)
    monetary = np.where(usable, calibration.monetary_value, 0.0)
    expected = spend_model.expected_average_value(frequency, monetary)
    return np.where(usable & np.isfinite(expected), expected, own_average)


def fit_spend_model(calibration: Calibration) -> tuple[GammaGammaModel | None, str]:
    """The Gamma-Gamma model fitted on repeat buyers with positive spend, or why not."""
    from kehu.analytics import GammaGammaModel

    spenders = (calibration.frequency > 0) & (calibration.monetary_value > 0)
    values = calibration.monetary_value[spenders]
    if len(values) < 2 or np.all(values == values[0]):
        return None, _(
            "The spend model needs at least two repeat buyers with different positive spend; "
            "expected order values are each customer's own average."
        )
    try:
        model = GammaGammaModel().fit(calibration.frequency[spenders], values)
    except FIT_ERRORS as error:
        return None, _(
            "The spend model could not be fitted (%(error)s); expected order values are each "
            "customer's own average."
        ) % {"error": error}
    if model.params_["q"] <= 1:
        return None, _(
            "The spend model found order values too spread out to average (q ≤ 1); expected "
            "order values are each customer's own average."
        )
    return model, ""


def predict_buyers(
    model: BetaGeoModel | ParetoNBDModel,
    calibration: Calibration,
    order_value: FloatArray,
    settings: PredictionSettings,
) -> ModelPredictions:
    """The four predictions of each buyer in the calibration summary (NaN where not finite)."""
    from kehu.analytics import BetaGeoModel, customer_lifetime_value, purchase_probability

    history = calibration.history
    horizon = settings.horizon_days / PERIOD_DAYS
    with np.errstate(all="ignore"):
        p_alive = model.probability_alive(*history)
        expected = model.expected_purchases(horizon, *history)
        activity = (
            purchase_probability(model, horizon, *history)
            if isinstance(model, BetaGeoModel)
            else p_alive
        )
        clv = customer_lifetime_value(
            model,
            *history,
            order_value,
            steps=max(int(settings.clv_months), 1),
            step_length=MONTH_DAYS / PERIOD_DAYS,
            discount_rate=monthly_rate(float(settings.annual_discount_rate)),
        )
    return ModelPredictions(
        p_alive=finite_or_nan(np.clip(p_alive, 0.0, 1.0)),
        expected_purchases=finite_or_nan(np.maximum(expected, 0.0)),
        expected_order_value=finite_or_nan(order_value),
        clv=finite_or_nan(clv),
        activity=finite_or_nan(np.clip(activity, 0.0, 1.0)),
    )


def monthly_rate(annual_rate: float) -> float:
    """The monthly discount rate that compounds to ``annual_rate`` over twelve months."""
    return float((1.0 + annual_rate) ** (1.0 / 12.0) - 1.0)


def holdout_rows(
    orders: pa.Table, today: datetime.date, settings: PredictionSettings
) -> tuple[list[dict[str, float]], str]:
    """Fit on the purchases up to ``horizon_days`` ago and compare with the last
    ``horizon_days``: mean predicted and actual repeat purchases by calibration frequency.

    Returns the rows and, when the check cannot run (a shop younger than the horizon), why.
    """
    from kehu.analytics import holdout_comparison

    calibration_end = today - datetime.timedelta(days=settings.horizon_days)
    summary = calibration_summary_of(orders, calibration_end, holdout_end=today)
    calibration = Calibration.from_summary(summary)
    problem = purchase_data_problem(calibration)
    if problem:
        return [], problem
    try:
        model, _note = fit_purchase_model(settings, calibration)
        with np.errstate(all="ignore"):
            table = holdout_comparison(model, summary, largest_frequency=HOLDOUT_LARGEST_FREQUENCY)
    except FIT_ERRORS as error:
        return [], str(error)
    return holdout_table_rows(table), ""


def holdout_table_rows(table: pa.Table) -> list[dict[str, float]]:
    rows = []
    for row in table.to_pylist():
        predicted = float(row["predicted"])
        rows.append(
            {
                "frequency": int(row["frequency"]),
                "customers": int(row["customers"]),
                "actual": round(float(row["actual"]), 4),
                "predicted": round(predicted, 4) if np.isfinite(predicted) else 0.0,
            }
        )
    return rows


def spread(
    predicted: ModelPredictions, positions: npt.NDArray[np.intp], size: int
) -> ModelPredictions:
    """Buyers' predictions placed at their rows among all customers; NaN for the others."""

    def placed(values: FloatArray) -> FloatArray:
        column = np.full(size, np.nan)
        column[positions] = values
        return column

    return ModelPredictions(
        p_alive=placed(predicted.p_alive),
        expected_purchases=placed(predicted.expected_purchases),
        expected_order_value=placed(predicted.expected_order_value),
        clv=placed(predicted.clv),
        activity=placed(predicted.activity),
    )


def parameters_of(model: Any) -> dict[str, Any]:
    """A fitted model's parameters, with their standard errors beside them where finite (the
    diagnostics page shows both; a fit on very few customers may leave them undefined)."""
    errors = getattr(model, "standard_errors_", {}) or {}
    return {
        **{name: float(value) for name, value in model.params_.items()},
        "standard_errors": {name: finite_or_none(value) for name, value in errors.items()},
    }


def finite_or_nan(values: FloatArray) -> FloatArray:
    array = np.asarray(values, dtype=np.float64)
    return np.where(np.isfinite(array), array, np.nan)


def finite_or_none(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None
