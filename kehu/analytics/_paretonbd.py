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
    r, alpha, s, beta = params
    # ``second`` is the 2F1's second argument; ``first_second`` its value at x = 0.
    if alpha >= beta:
        largest, smallest, second, first_second = alpha, beta, s + 1, s + 1
    else:
        largest, smallest, second, first_second = beta, alpha, r + x, r
    total = r + s + x
    gap = largest - smallest
    at_age = _log_hypergeometric_term(total, second, gap, largest + T)
    # Customers without repeat purchases all have t_x = 0 and so share one recency term: the
    # 2F1 (the costly part) is evaluated for the repeat buyers only.
    repeat = np.flatnonzero((x > 0) | (t_x > 0))
    at_recency = np.full_like(at_age, _log_hypergeometric_term(r + s, first_second, gap, largest))
    repeat_second = second if np.isscalar(second) else np.take(second, repeat)
    at_recency[repeat] = _log_hypergeometric_term(
        total.take(repeat), repeat_second, gap, largest + t_x.take(repeat)
    )
    with np.errstate(divide="ignore"):
        result: FloatArray = at_recency + np.log(-np.expm1(np.minimum(at_age - at_recency, 0.0)))
    return result


def _log_hypergeometric_term(total: Any, second: Any, gap: float, shifted: Any) -> Any:
    """log[2F1(total, second; total + 1; gap/shifted) / shifted^total], for arrays or scalars."""
    return _log_hyp2f1_next(total, second, gap / shifted) - total * np.log(shifted)


def _log_hyp2f1_next(first: Any, second: Any, z: Any) -> Any:
    """log 2F1(A, B; A + 1; z) for A > 0 and 0 ≤ z < 1, finite where the value is.

    Euler's transformation gives (1 − z)^(1−B)·2F1(1, A + 1 − B; A + 1; z): its power is taken
    in logs (2F1(A, B; A + 1; z) itself overflows for a large B = r + x) and the remaining
    series is bounded. scipy's 2F1 still fails (NaN) for some large A with z near 1; those
    rows are integrated numerically instead (:func:`_log_hyp2f1_next_by_quadrature`).
    """
    from scipy.special import hyp2f1

    first, second, z = np.broadcast_arrays(
        *(np.asarray(value, dtype=np.float64) for value in (first, second, z))
    )
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        result = (1 - second) * np.log1p(-z) + np.log(hyp2f1(1.0, first + 1 - second, first + 1, z))
    failed = ~np.isfinite(result)
    if np.any(failed):
        result = np.array(result, dtype=np.float64)
        result[failed] = _log_hyp2f1_next_by_quadrature(first[failed], second[failed], z[failed])
    return result[()] if result.ndim == 0 else result


def _log_hyp2f1_next_by_quadrature(first: FloatArray, second: FloatArray, z: FloatArray) -> Any:
    """log 2F1(A, B; A + 1; z) from its integral A∫₀¹ t^(A−1)(1 − zt)^(−B) dt, for 0 < z < 1.

    With ε = (1 − z)/z and 1 − t = ε(e^v − 1) it is A(1 − z)^(1−B)/z·∫₀^V e^φ(v) dv, where
    φ = (A − 1)·log(1 − ε(e^v − 1)) − (B − 1)·v and V = −log(1 − z): the peak of (1 − zt)^(−B)
    at t = 1 is spread over v, where φ changes on a scale of 1, and 256-point Gauss-Legendre
    on [0, V] agreed with 50-digit mpmath to 1e-11 (relative) on the rows scipy fails on.
    """
    from scipy.special import logsumexp, roots_legendre

    nodes, weights = roots_legendre(256)
    epsilon = ((1 - z) / z)[:, None]
    upper = -np.log1p(-z)[:, None]
    v = upper * (nodes + 1) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        phi = (first[:, None] - 1) * np.log1p(-epsilon * np.expm1(v)) - (second[:, None] - 1) * v
        integral = logsumexp(phi, axis=1, b=weights * upper / 2)
    return np.log(first) + (1 - second) * np.log1p(-z) - np.log(z) + integral


def pareto_nbd_log_likelihood(
    params: FloatArray, x: FloatArray, t_x: FloatArray, T: FloatArray
) -> FloatArray:
    """Each customer's log-likelihood (equation 21 of the note) in log space."""
    common, alive, died = _log_likelihood_terms(params, x, t_x, T)
    result: FloatArray = common + np.logaddexp(alive, died)
    return result


def _log_likelihood_terms(
    params: FloatArray, x: FloatArray, t_x: FloatArray, T: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """The likelihood as e^common·(e^alive + e^died): alive at T, or died between t_x and T."""
    from scipy.special import gammaln

    r, alpha, s, beta = params
    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    alive = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
    died = np.log(s) - np.log(r + s + x) + _log_a0(params, x, t_x, T)
    return common, alive, died


def _log_probability_alive(
    params: FloatArray, x: FloatArray, t_x: FloatArray, T: FloatArray
) -> FloatArray:
    """log P(alive at T | history) = alive − log(e^alive + e^died), never above 0."""
    _, alive, died = _log_likelihood_terms(params, x, t_x, T)
    with np.errstate(over="ignore"):
        result: FloatArray = -np.logaddexp(0.0, died - alive)
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
        x, t_x, age = check_purchase_history(frequency, recency, T, for_fitting=False)
        return np.exp(_log_probability_alive(self._params(), x, t_x, age))

    def expected_purchases(self, t: Any, frequency: Any, recency: Any, T: Any) -> FloatArray:
        """Expected number of purchases in the next ``t`` periods given each history."""
        params = self._params()
        r, alpha, s, beta = params
        x, t_x, age = check_purchase_history(frequency, recency, T, for_fitting=False)
        horizon = as_vector(t, "t")
        if np.any(horizon < 0):
            raise ValueError("t must be 0 or more periods.")
        rate_part = _lifetime_share(s, horizon / (beta + age))
        log_alive = _log_probability_alive(params, x, t_x, age)
        result: FloatArray = (
            np.exp(log_alive + np.log(r + x) + np.log(beta + age) - np.log(alpha + age)) * rate_part
        )
        return result

    def expected_purchases_new_customer(self, t: Any) -> FloatArray:
        """Expected purchases in ``t`` periods of a customer picked at random at their start."""
        r, alpha, s, beta = self._params()
        horizon = as_vector(t, "t")
        result: FloatArray = r * beta / alpha * _lifetime_share(s, horizon / beta)
        return result


def _lifetime_share(s: float, stretch: FloatArray) -> FloatArray:
    """[1 − (1 + stretch)^(1−s)] / (s − 1), and its limit log(1 + stretch) at s = 1.

    Written with log1p and expm1 so that neither a short horizon (stretch near 0) nor s near 1
    loses its digits to cancellation.
    """
    log_growth = np.log1p(stretch)
    if s == 1:
        return log_growth
    result: FloatArray = -np.expm1(-(s - 1) * log_growth) / (s - 1)
    return result
