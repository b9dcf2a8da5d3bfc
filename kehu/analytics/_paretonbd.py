"""The Pareto/NBD purchase model (Schmittlein, Morrison & Colombo 1987).

While alive a customer buys at a Poisson rate λ ~ Gamma(r, α) and lives an exponential lifetime
with rate μ ~ Gamma(s, β). The likelihood follows Fader, Hardie & Lee (2005), "A Note on
Deriving the Pareto/NBD Model and Related Expressions", with the Gauss hypergeometric terms
combined by the log-sum-exp trick so that no term overflows.
"""

from __future__ import annotations

from typing import Any, Self

import numpy as np

from kehu.analytics._fitting import (
    FloatArray,
    NotFittedError,
    as_vector,
    check_purchase_history,
    distinct_rows,
    maximise,
    standard_errors,
)

PARETO_NBD_PARAMETERS: tuple[str, ...] = ("r", "alpha", "s", "beta")


def _log_a0(params: FloatArray, x: FloatArray, t_x: FloatArray, T: FloatArray) -> FloatArray:
    """log A₀ of the note (its equations 19-20), choosing the branch on α ≥ β or α < β.

    A₀ is the difference of two 2F1 terms, taken as log(e^u − e^v) = u + log(−expm1(v − u)):
    it is −inf when t_x = T (the customer bought on the last day), which logaddexp absorbs.
    """
    from scipy.special import hyp2f1

    r, alpha, s, beta = params
    if alpha >= beta:
        largest, smallest, second = alpha, beta, s + 1
    else:
        largest, smallest, second = beta, alpha, r + x
    total = r + s + x
    gap = largest - smallest
    at_recency = np.log(hyp2f1(total, second, total + 1, gap / (largest + t_x))) - total * np.log(
        largest + t_x
    )
    at_age = np.log(hyp2f1(total, second, total + 1, gap / (largest + T))) - total * np.log(
        largest + T
    )
    with np.errstate(divide="ignore"):
        result: FloatArray = at_recency + np.log(-np.expm1(np.minimum(at_age - at_recency, 0.0)))
    return result


def pareto_nbd_log_likelihood(
    params: FloatArray, x: FloatArray, t_x: FloatArray, T: FloatArray
) -> FloatArray:
    """Each customer's log-likelihood (equation 21 of the note) in log space."""
    from scipy.special import gammaln

    r, alpha, s, beta = params
    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    alive = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
    died = np.log(s) - np.log(r + s + x) + _log_a0(params, x, t_x, T)
    result: FloatArray = common + np.logaddexp(alive, died)
    return result


class ParetoNBDModel:
    """Pareto/NBD estimator with scikit-learn's conventions.

    Parameters
    ----------
    penalizer
        L2 penalty on the parameters (per customer, as in ``lifetimes``).

    Attributes set by :meth:`fit`: ``params_`` (dict r, alpha, s, beta), ``log_likelihood_``,
    ``standard_errors_`` and ``n_customers_``.

    Examples
    --------
    >>> model = ParetoNBDModel().fit([2, 1, 0, 0, 3], [30.4, 1.7, 0, 0, 20.0], [38.9] * 5)
    >>> sorted(model.params_)
    ['alpha', 'beta', 'r', 's']
    """

    name = "paretonbd"

    def __init__(self, penalizer: float = 0.0) -> None:
        self.penalizer = penalizer

    def fit(self, frequency: Any, recency: Any, T: Any) -> Self:
        """Fit by maximum likelihood on the calibration summary; returns ``self``."""
        history = check_purchase_history(frequency, recency, T, for_fitting=True)
        (x, t_x, age), weights = distinct_rows(*history)

        def log_likelihood(params: FloatArray) -> FloatArray:
            return pareto_nbd_log_likelihood(params, x, t_x, age)

        params, total = maximise(
            log_likelihood, (1.0, 1.0, 1.0, 1.0), weights=weights, penalizer=self.penalizer
        )
        errors = standard_errors(log_likelihood, params, weights)
        names = PARETO_NBD_PARAMETERS
        self.params_ = dict(zip(names, (float(value) for value in params), strict=True))
        self.standard_errors_ = dict(zip(names, (float(value) for value in errors), strict=True))
        self.log_likelihood_ = total
        self.n_customers_ = len(history[0])
        return self

    def _params(self) -> FloatArray:
        if not hasattr(self, "params_"):
            raise NotFittedError("This ParetoNBDModel is not fitted yet: call fit() first.")
        return np.array([self.params_[name] for name in PARETO_NBD_PARAMETERS])

    def log_likelihood(self, frequency: Any, recency: Any, T: Any) -> FloatArray:
        """Each customer's log-likelihood under the fitted parameters."""
        x, t_x, age = check_purchase_history(frequency, recency, T, for_fitting=False)
        return pareto_nbd_log_likelihood(self._params(), x, t_x, age)

    def probability_alive(self, frequency: Any, recency: Any, T: Any) -> FloatArray:
        """P(the customer is still alive at T) given their history (equation 18 of the note)."""
        params = self._params()
        x, t_x, age = check_purchase_history(frequency, recency, T, for_fitting=False)
        return np.exp(
            self._log_alive_and_history(params, x, age) - self._log_l(params, x, t_x, age)
        )

    def expected_purchases(self, t: Any, frequency: Any, recency: Any, T: Any) -> FloatArray:
        """Expected number of purchases in the next ``t`` periods given each history."""
        params = self._params()
        r, alpha, s, beta = params
        x, t_x, age = check_purchase_history(frequency, recency, T, for_fitting=False)
        horizon = as_vector(t, "t")
        if np.any(horizon < 0):
            raise ValueError("t must be 0 or more periods.")
        if s == 1:
            rate_part = np.log(beta + age + horizon) - np.log(beta + age)
        else:
            rate_part = (1 - ((beta + age) / (beta + age + horizon)) ** (s - 1)) / (s - 1)
        log_alive = self._log_alive_and_history(params, x, age) - self._log_l(params, x, t_x, age)
        result: FloatArray = (
            np.exp(log_alive + np.log(r + x) + np.log(beta + age) - np.log(alpha + age)) * rate_part
        )
        return result

    def expected_purchases_new_customer(self, t: Any) -> FloatArray:
        """Expected purchases in ``t`` periods of a customer picked at random at their start."""
        r, alpha, s, beta = self._params()
        horizon = as_vector(t, "t")
        if s == 1:
            result: FloatArray = r * beta / alpha * np.log(1 + horizon / beta)
            return result
        result = r * beta / (alpha * (s - 1)) * (1 - (beta / (beta + horizon)) ** (s - 1))
        return result

    @staticmethod
    def _log_l(params: FloatArray, x: FloatArray, t_x: FloatArray, T: FloatArray) -> FloatArray:
        return pareto_nbd_log_likelihood(params, x, t_x, T)

    @staticmethod
    def _log_alive_and_history(params: FloatArray, x: FloatArray, T: FloatArray) -> FloatArray:
        """log of the likelihood's "still alive at T" term."""
        from scipy.special import gammaln

        r, alpha, s, beta = params
        result: FloatArray = (
            gammaln(r + x)
            - gammaln(r)
            + r * np.log(alpha)
            + s * np.log(beta)
            - (r + x) * np.log(alpha + T)
            - s * np.log(beta + T)
        )
        return result
