"""The BG/NBD purchase model (Fader, Hardie & Lee 2005, "Counting your customers the easy way").

While alive a customer buys at a Poisson rate λ ~ Gamma(r, α); after each purchase they drop out
with probability p ~ Beta(a, b). Inputs are the calibration summary: x repeat purchases, recency
t_x (time of the last purchase since the first) and age T, in any one time unit.
"""

from __future__ import annotations

from typing import Any, Self

import numpy as np
import numpy.typing as npt

from kehu.analytics._bgnbd_fit import BetaGeoFitData
from kehu.analytics._fitting import (
    FloatArray,
    NotFittedError,
    as_vector,
    check_purchase_history,
    distinct_rows,
    frequency_levels,
    maximise,
    standard_errors,
)

BGNBD_PARAMETERS: tuple[str, ...] = ("r", "alpha", "a", "b")


def bgnbd_log_likelihood(
    params: FloatArray,
    x: FloatArray,
    t_x: FloatArray,
    T: FloatArray,
    levels: tuple[FloatArray, npt.NDArray[np.intp]] | None = None,
) -> FloatArray:
    """Each customer's log-likelihood, in log space (gammaln, betaln and logaddexp).

    ``levels`` is ``frequency_levels(x)``, passed by the optimiser so that it is computed once.
    """
    from scipy.special import betaln, gammaln

    r, alpha, a, b = params
    values, inverse = frequency_levels(x) if levels is None else levels
    per_level = gammaln(r + values) - gammaln(r) + betaln(a, b + values) - betaln(a, b)
    with np.errstate(invalid="ignore", divide="ignore"):
        dropout_level = np.where(values > 0, np.log(a) - np.log(b + values - 1), -np.inf)
    rate = r + x
    still_alive = -rate * np.log(alpha + T)
    dropped = dropout_level[inverse] - rate * np.log(alpha + t_x)
    result: FloatArray = per_level[inverse] + r * np.log(alpha) + np.logaddexp(still_alive, dropped)
    return result


def bgnbd_gradient(
    params: FloatArray,
    x: FloatArray,
    t_x: FloatArray,
    T: FloatArray,
    levels: tuple[FloatArray, npt.NDArray[np.intp]] | None = None,
) -> FloatArray:
    """Derivatives of each customer's log-likelihood by r, α, a, b (4 × customers).

    The likelihood is e^A (e^B + e^C); with w = e^C / (e^B + e^C) its gradient is
    ∇A + (1 − w) ∇B + w ∇C, with digamma functions for the gamma and beta terms.
    """
    from scipy.special import digamma

    r, alpha, a, b = params
    values, inverse = frequency_levels(x) if levels is None else levels
    with np.errstate(invalid="ignore", divide="ignore"):
        dropout_level = np.where(values > 0, np.log(a) - np.log(b + values - 1), -np.inf)
        inverse_b = np.where(values > 0, 1 / (b + values - 1), 0.0)
    rate = r + x
    log_age = np.log(alpha + T)
    log_recency = np.log(alpha + t_x)
    still_alive = -rate * log_age
    dropped = dropout_level[inverse] - rate * log_recency
    weight = np.exp(dropped - np.logaddexp(still_alive, dropped))
    alive_weight = 1.0 - weight
    d_r_level = digamma(r + values) - digamma(r)
    d_a_level = digamma(a + b) - digamma(a + b + values)
    d_b_level = digamma(b + values) - digamma(b) + d_a_level
    d_r = d_r_level[inverse] + np.log(alpha) - alive_weight * log_age - weight * log_recency
    d_alpha = r / alpha - rate * (alive_weight / (alpha + T) + weight / (alpha + t_x))
    d_a = d_a_level[inverse] + weight / a
    d_b = d_b_level[inverse] - weight * inverse_b[inverse]
    return np.vstack([d_r, d_alpha, d_a, d_b])


def _purchases_if_alive(
    params: tuple[float, float, float, float], x: FloatArray, age: FloatArray, horizon: FloatArray
) -> FloatArray:
    """(a+b+x−1)/(a−1)·[1 − ((α+T)/(α+T+t))^(r+x)·2F1(r+x, b+x; a+b+x−1; z)], z = t/(α+T+t).

    Equation 10 of the paper without its P(alive) factor. Euler's transformation 2F1(A, B; C; z)
    = (1−z)^(C−A−B)·2F1(C−A, C−B; C; z), with 1 − z = (α+T)/(α+T+t), turns the product into
    ((α+T)/(α+T+t))^(a−1)·2F1(a+b−1−r, a−1; a+b+x−1; z): the direct form overflows to 0·∞
    (NaN) for frequent buyers over long horizons, this one has no parameter growing with x.
    """
    from scipy.special import hyp2f1

    r, alpha, a, b = params
    log_ratio = -np.log1p(horizon / (alpha + age))
    z = horizon / (alpha + age + horizon)
    power = (a - 1) * log_ratio
    series = hyp2f1(a + b - 1 - r, a - 1, a + b + x - 1, z)
    bracket = -np.expm1(power) - np.exp(power) * (series - 1)
    result: FloatArray = (a + b + x - 1) / (a - 1) * bracket
    return result


class BetaGeoModel:
    """BG/NBD estimator with scikit-learn's conventions.

    Parameters
    ----------
    penalizer
        L2 penalty on the parameters (per customer, as in ``lifetimes``); 0 is the plain
        maximum-likelihood fit.

    Attributes set by :meth:`fit`: ``params_`` (dict r, alpha, a, b), ``log_likelihood_``,
    ``standard_errors_`` (dict, from the inverse Hessian) and ``n_customers_``.

    Examples
    --------
    >>> model = BetaGeoModel().fit([2, 1, 0, 0, 3], [30.4, 1.7, 0, 0, 20.0], [38.9] * 5)
    >>> sorted(model.params_)
    ['a', 'alpha', 'b', 'r']
    """

    name = "bgnbd"

    def __init__(self, penalizer: float = 0.0) -> None:
        self.penalizer = penalizer

    def fit(self, frequency: Any, recency: Any, T: Any) -> Self:
        """Fit by maximum likelihood on the calibration summary; returns ``self``."""
        history = check_purchase_history(frequency, recency, T, for_fitting=True)
        (x, t_x, age), weights = distinct_rows(*history)

        data = BetaGeoFitData(x, t_x, age, weights)

        def log_likelihood(params: FloatArray) -> FloatArray:
            return bgnbd_log_likelihood(params, x, t_x, age, data.levels)

        params, total = maximise(
            log_likelihood,
            (1.0, 1.0, 1.0, 1.0),
            weights=weights,
            penalizer=self.penalizer,
            value_and_gradient=data.value_and_gradient,
        )
        errors = standard_errors(log_likelihood, params, weights, hessian_of=data.hessian)
        self.params_ = dict(zip(BGNBD_PARAMETERS, (float(value) for value in params), strict=True))
        self.standard_errors_ = dict(
            zip(BGNBD_PARAMETERS, (float(value) for value in errors), strict=True)
        )
        self.log_likelihood_ = total
        self.n_customers_ = len(history[0])
        return self

    def _params(self) -> tuple[float, float, float, float]:
        if not hasattr(self, "params_"):
            raise NotFittedError("This BetaGeoModel is not fitted yet: call fit() first.")
        return (self.params_["r"], self.params_["alpha"], self.params_["a"], self.params_["b"])

    def log_likelihood(self, frequency: Any, recency: Any, T: Any) -> FloatArray:
        """Each customer's log-likelihood under the fitted parameters."""
        x, t_x, age = check_purchase_history(frequency, recency, T, for_fitting=False)
        return bgnbd_log_likelihood(np.array(self._params()), x, t_x, age)

    def probability_alive(self, frequency: Any, recency: Any, T: Any) -> FloatArray:
        """P(the customer is still alive at T) given their history; 1 without repeat purchases."""
        x, t_x, age = check_purchase_history(frequency, recency, T, for_fitting=False)
        return self._probability_alive(x, t_x, age)

    def expected_purchases(self, t: Any, frequency: Any, recency: Any, T: Any) -> FloatArray:
        """Expected number of purchases in the next ``t`` periods given each customer's history."""
        x, t_x, age = check_purchase_history(frequency, recency, T, for_fitting=False)
        horizon = as_vector(t, "t")
        if np.any(horizon < 0):
            raise ValueError("t must be 0 or more periods.")
        purchases_if_alive = _purchases_if_alive(self._params(), x, age, horizon)
        result: FloatArray = purchases_if_alive * self._probability_alive(x, t_x, age)
        # 1 − (…)·2F1 cancels to a few ulps below zero for a horizon near 0; a count is never
        # negative.
        return np.maximum(result, 0.0)

    def expected_purchases_new_customer(self, t: Any) -> FloatArray:
        """Expected purchases in ``t`` periods of a customer picked at random at their start."""
        horizon = as_vector(t, "t")
        zero = np.zeros(1)
        return np.maximum(_purchases_if_alive(self._params(), zero, zero, horizon), 0.0)

    def _probability_alive(self, x: FloatArray, t_x: FloatArray, age: FloatArray) -> FloatArray:
        """1 / (1 + e^odds): odds past ~709 overflow e^odds to inf, which rightly gives 0."""
        with np.errstate(over="ignore"):
            result: FloatArray = 1.0 / (1.0 + np.exp(self._log_dropout_odds(x, t_x, age)))
        return result

    def _log_dropout_odds(self, x: FloatArray, t_x: FloatArray, age: FloatArray) -> FloatArray:
        """log[P(dropped out) / P(alive)]; -inf for customers without repeat purchases."""
        r, alpha, a, b = self._params()
        odds = np.full_like(x, -np.inf)
        repeat = x > 0
        odds[repeat] = (
            np.log(a)
            - np.log(b + x[repeat] - 1)
            + (r + x[repeat]) * (np.log(alpha + age[repeat]) - np.log(alpha + t_x[repeat]))
        )
        return odds
