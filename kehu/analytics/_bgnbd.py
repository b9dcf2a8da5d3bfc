"""The BG/NBD purchase model (Fader, Hardie & Lee 2005, "Counting your customers the easy way").

While alive a customer buys at a Poisson rate λ ~ Gamma(r, α); after each purchase they drop out
with probability p ~ Beta(a, b). Inputs are the calibration summary: x repeat purchases, recency
t_x (time of the last purchase since the first) and age T, in any one time unit.
"""

from __future__ import annotations

from typing import Any, Self

import numpy as np
import numpy.typing as npt

from kehu.analytics._fitting import (
    FloatArray,
    NotFittedError,
    as_vector,
    check_purchase_history,
    distinct_rows,
    maximise,
    standard_errors,
)

BGNBD_PARAMETERS: tuple[str, ...] = ("r", "alpha", "a", "b")


def _levels(x: FloatArray) -> tuple[FloatArray, npt.NDArray[np.intp]]:
    """The distinct frequencies and each customer's index into them.

    Every gamma, beta and digamma term depends on x only, and x takes few values (tens, even
    for millions of customers), so those terms are computed once per value and gathered.
    """
    values, inverse = np.unique(x, return_inverse=True)
    return values, inverse


def bgnbd_log_likelihood(
    params: FloatArray,
    x: FloatArray,
    t_x: FloatArray,
    T: FloatArray,
    levels: tuple[FloatArray, npt.NDArray[np.intp]] | None = None,
) -> FloatArray:
    """Each customer's log-likelihood, in log space (gammaln, betaln and logaddexp).

    ``levels`` is ``_levels(x)``, passed by the optimiser so that it is computed once.
    """
    from scipy.special import betaln, gammaln

    r, alpha, a, b = params
    values, inverse = _levels(x) if levels is None else levels
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
    values, inverse = _levels(x) if levels is None else levels
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


class _FitData:
    """The fitting data with everything that does not depend on the parameters precomputed."""

    def __init__(self, x: FloatArray, t_x: FloatArray, T: FloatArray, weights: FloatArray):
        self.x, self.t_x, self.T, self.weights = x, t_x, T, weights
        self.values, self.inverse = _levels(x)
        # Sums of per-value terms over customers are dot products with these counts.
        self.level_weights = np.bincount(self.inverse, weights=weights).astype(np.float64)
        self.size = float(np.sum(weights))
        self.weighted_rate_x = weights * x

    def value_and_gradient(self, params: FloatArray) -> tuple[float, FloatArray]:
        """Σ w·log-likelihood and its derivatives by r, α, a, b, in one pass over customers."""
        from scipy.special import betaln, digamma, gammaln

        r, alpha, a, b = params
        values, inverse, weights = self.values, self.inverse, self.weights
        with np.errstate(invalid="ignore", divide="ignore"):
            dropout_level = np.where(values > 0, np.log(a) - np.log(b + values - 1), -np.inf)
            inverse_b = np.where(values > 0, 1 / (b + values - 1), 0.0)
        per_level = gammaln(r + values) - gammaln(r) + betaln(a, b + values) - betaln(a, b)
        rate = r + self.x
        log_age = np.log(alpha + self.T)
        log_recency = np.log(alpha + self.t_x)
        still_alive = -rate * log_age
        dropped = dropout_level[inverse] - rate * log_recency
        mixture = np.logaddexp(still_alive, dropped)
        weight = np.exp(dropped - mixture)
        total = (
            float(per_level @ self.level_weights)
            + self.size * r * np.log(alpha)
            + float(weights @ mixture)
        )
        weighted = weight * weights
        alive_weighted = weights - weighted
        d_a_level = digamma(a + b) - digamma(a + b + values)
        d_r = (
            float((digamma(r + values) - digamma(r)) @ self.level_weights)
            + self.size * np.log(alpha)
            - float(alive_weighted @ log_age)
            - float(weighted @ log_recency)
        )
        d_alpha = self.size * r / alpha - float(
            (rate * alive_weighted) @ (1 / (alpha + self.T))
            + (rate * weighted) @ (1 / (alpha + self.t_x))
        )
        d_a = float(d_a_level @ self.level_weights) + float(np.sum(weighted)) / a
        weight_by_level = np.bincount(inverse, weights=weighted, minlength=len(values))
        d_b = float((digamma(b + values) - digamma(b) + d_a_level) @ self.level_weights) - float(
            weight_by_level @ inverse_b
        )
        return total, np.array([d_r, d_alpha, d_a, d_b])


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

        data = _FitData(x, t_x, age, weights)

        def log_likelihood(params: FloatArray) -> FloatArray:
            return bgnbd_log_likelihood(params, x, t_x, age, (data.values, data.inverse))

        params, total = maximise(
            log_likelihood,
            (1.0, 1.0, 1.0, 1.0),
            weights=weights,
            penalizer=self.penalizer,
            value_and_gradient=data.value_and_gradient,
        )
        errors = standard_errors(log_likelihood, params, weights, data.value_and_gradient)
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
        return 1.0 / (1.0 + np.exp(self._log_dropout_odds(x, t_x, age)))

    def expected_purchases(self, t: Any, frequency: Any, recency: Any, T: Any) -> FloatArray:
        """Expected number of purchases in the next ``t`` periods given each customer's history."""
        from scipy.special import hyp2f1

        r, alpha, a, b = self._params()
        x, t_x, age = check_purchase_history(frequency, recency, T, for_fitting=False)
        horizon = as_vector(t, "t")
        if np.any(horizon < 0):
            raise ValueError("t must be 0 or more periods.")
        with np.errstate(divide="ignore"):
            log_ratio = (r + x) * (np.log(alpha + age) - np.log(alpha + age + horizon))
        z = horizon / (alpha + age + horizon)
        bracket = 1.0 - np.exp(log_ratio) * hyp2f1(r + x, b + x, a + b + x - 1, z)
        numerator = (a + b + x - 1) / (a - 1) * bracket
        result: FloatArray = numerator / (1.0 + np.exp(self._log_dropout_odds(x, t_x, age)))
        return result

    def expected_purchases_new_customer(self, t: Any) -> FloatArray:
        """Expected purchases in ``t`` periods of a customer picked at random at their start."""
        from scipy.special import hyp2f1

        r, alpha, a, b = self._params()
        horizon = as_vector(t, "t")
        ratio = alpha / (alpha + horizon)
        z = horizon / (alpha + horizon)
        result: FloatArray = (a + b - 1) / (a - 1) * (1 - ratio**r * hyp2f1(r, b, a + b - 1, z))
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
