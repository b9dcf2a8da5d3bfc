"""The Gamma-Gamma spend model (Fader & Hardie 2013, "The Gamma-Gamma Model of Monetary Value").

Each transaction value is Gamma(p, ν) with ν ~ Gamma(q, γ) across customers. It is fitted on the
customers with repeat purchases: x repeat transactions and their mean value z̄ (must be > 0).
"""

from __future__ import annotations

from typing import Any, Self

import numpy as np

from kehu.analytics._fitting import (
    FloatArray,
    NotFittedError,
    as_vector,
    distinct_rows,
    frequency_levels,
    maximise,
    standard_errors,
    weighted_sum,
)

GAMMA_GAMMA_PARAMETERS: tuple[str, ...] = ("p", "q", "gamma")


def gamma_gamma_log_likelihood(params: FloatArray, x: FloatArray, zbar: FloatArray) -> FloatArray:
    """Each repeat buyer's log-density of their mean transaction value z̄ given x."""
    from scipy.special import gammaln

    p, q, gamma = params
    px = p * x
    result: FloatArray = (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(gamma)
        + (px - 1) * np.log(zbar)
        + px * np.log(x)
        - (px + q) * np.log(gamma + x * zbar)
    )
    return result


class _SpendFitData:
    """The repeat buyers' (x, z̄) with what does not depend on the parameters summed once.

    With spend = x·z̄ the log-likelihood is Σ_levels [lnΓ(px+q) − lnΓ(px) − lnΓ(q)]
    + n·q·log γ + p·Σ x·log(spend) − Σ log z̄ − Σ (px+q)·log(γ + spend): the gamma terms
    depend on x only (few values), and each call needs one log and one reciprocal per row.
    """

    def __init__(self, x: FloatArray, zbar: FloatArray, weights: FloatArray):
        self.values, inverse = frequency_levels(x)
        self.level_weights = np.bincount(inverse, weights=weights, minlength=len(self.values))
        self.size = float(np.sum(weights))
        self.weights, self.weighted_x = weights, weights * x
        self.spend = x * zbar
        self.log_spend_sum = weighted_sum(self.weighted_x, np.log(self.spend))
        self.log_value_sum = weighted_sum(weights, np.log(zbar))
        self._work = np.empty((2, len(x)))

    def value_and_gradient(self, params: FloatArray) -> tuple[float, FloatArray]:
        """Σ w·log-likelihood and its derivatives by p, q, γ."""
        from scipy.special import digamma, gammaln

        p, q, gamma = (float(value) for value in params)
        values, counts = self.values, self.level_weights
        shape = p * values
        gamma_terms = (gammaln(shape + q) - gammaln(shape) - gammaln(q)) @ counts
        log_shifted, inverse_shifted = self._work
        np.add(self.spend, gamma, out=inverse_shifted)
        np.log(inverse_shifted, out=log_shifted)
        np.reciprocal(inverse_shifted, out=inverse_shifted)
        x_log_sum = weighted_sum(self.weighted_x, log_shifted)
        log_sum = weighted_sum(self.weights, log_shifted)
        total = (
            float(gamma_terms)
            + self.size * q * np.log(gamma)
            + p * self.log_spend_sum
            - self.log_value_sum
            - p * x_log_sum
            - q * log_sum
        )
        both = digamma(shape + q)
        d_p = float((values * (both - digamma(shape))) @ counts) + self.log_spend_sum - x_log_sum
        d_q = float((both - digamma(q)) @ counts) + self.size * np.log(gamma) - log_sum
        d_gamma = (
            self.size * q / gamma
            - p * weighted_sum(self.weighted_x, inverse_shifted)
            - q * weighted_sum(self.weights, inverse_shifted)
        )
        return total, np.array([d_p, d_q, d_gamma])


def _check_spend(
    frequency: Any, monetary_value: Any, *, for_fitting: bool
) -> tuple[FloatArray, FloatArray]:
    x = as_vector(frequency, "frequency")
    zbar = as_vector(monetary_value, "monetary_value")
    if len(x) != len(zbar):
        raise ValueError(
            f"frequency and monetary_value must have the same length ({len(x)}, {len(zbar)})."
        )
    if np.any(x < 0) or np.any(x != np.floor(x)):
        raise ValueError("frequency must be whole numbers of repeat purchases, 0 or more.")
    repeat = x > 0
    if np.any(zbar[repeat] <= 0):
        raise ValueError(
            "monetary_value must be positive for every customer with repeat purchases "
            "(found zero or negative average order values)."
        )
    if for_fitting:
        if len(x) == 0:
            raise ValueError("Cannot fit a spend model on no customers.")
        if int(np.sum(repeat)) < 2:
            raise ValueError("The spend model needs at least two customers with repeat purchases.")
        if np.all(zbar[repeat] == zbar[repeat][0]):
            raise ValueError("Every repeat buyer has the same average order value: no variation.")
    return x, zbar


class GammaGammaModel:
    """Gamma-Gamma spend estimator with scikit-learn's conventions.

    ``fit(frequency, monetary_value)`` uses only customers with ``frequency > 0``;
    ``monetary_value`` is the mean value of their repeat transactions.

    Examples
    --------
    >>> model = GammaGammaModel().fit([1, 2, 3, 0], [10.0, 20.0, 15.0, 0.0])
    >>> sorted(model.params_)
    ['gamma', 'p', 'q']
    """

    name = "gammagamma"

    def __init__(self, penalizer: float = 0.0) -> None:
        self.penalizer = penalizer

    def fit(self, frequency: Any, monetary_value: Any) -> Self:
        """Fit by maximum likelihood on the repeat buyers; returns ``self``."""
        x, zbar = _check_spend(frequency, monetary_value, for_fitting=True)
        repeat = np.flatnonzero(x > 0)
        (x, zbar), weights = distinct_rows(x.take(repeat), zbar.take(repeat))
        data = _SpendFitData(x, zbar, weights)

        def log_likelihood(params: FloatArray) -> FloatArray:
            return gamma_gamma_log_likelihood(params, x, zbar)

        params, total = maximise(
            log_likelihood,
            (1.0, 1.0, 1.0),
            weights=weights,
            penalizer=self.penalizer,
            value_and_gradient=data.value_and_gradient,
        )
        errors = standard_errors(log_likelihood, params, weights, data.value_and_gradient)
        names = GAMMA_GAMMA_PARAMETERS
        self.params_ = dict(zip(names, (float(value) for value in params), strict=True))
        self.standard_errors_ = dict(zip(names, (float(value) for value in errors), strict=True))
        self.log_likelihood_ = total
        self.n_customers_ = len(repeat)
        return self

    def _params(self) -> tuple[float, float, float]:
        if not hasattr(self, "params_"):
            raise NotFittedError("This GammaGammaModel is not fitted yet: call fit() first.")
        return (self.params_["p"], self.params_["q"], self.params_["gamma"])

    def expected_average_value(self, frequency: Any, monetary_value: Any) -> FloatArray:
        """E[average order value | x, z̄]; the population mean pγ/(q−1) when x is 0."""
        p, q, gamma = self._params()
        if q <= 1:
            raise ValueError("The expected order value is infinite when q <= 1.")
        x, zbar = _check_spend(frequency, monetary_value, for_fitting=False)
        result: FloatArray = p * (gamma + x * zbar) / (p * x + q - 1)
        return result
