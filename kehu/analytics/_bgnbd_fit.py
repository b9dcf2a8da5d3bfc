"""BG/NBD fitting data: the total log-likelihood, its gradient and Hessian, computed fast.

The estimator (``_bgnbd.BetaGeoModel``) hands this class its distinct rows once; the optimiser
then calls :meth:`BetaGeoFitData.value_and_gradient` some twenty times, so everything that does
not depend on the parameters is done here in advance.
"""

from __future__ import annotations

import numpy as np

from kehu.analytics._fitting import FloatArray, frequency_levels, weighted_sum


class BetaGeoFitData:
    """The fitting data, split by what the likelihood needs of each row, with work arrays kept.

    A customer without repeat purchases contributes only −r·log(α+T) beyond the terms shared by
    every customer with the same x, so the dropout mixture is computed for repeat buyers alone.
    Every per-row step writes into arrays allocated once: at 100k rows and more, allocating
    fresh temporaries (and the page faults that follow) costs more than the arithmetic.
    """

    def __init__(self, x: FloatArray, t_x: FloatArray, T: FloatArray, weights: FloatArray):
        self.levels = frequency_levels(x)
        self.values, inverse = self.levels
        # Sums of per-value terms over customers are dot products with these counts.
        self.level_weights = np.bincount(inverse, weights=weights, minlength=len(self.values))
        self.size = float(np.sum(weights))
        # Row numbers gather faster than boolean masks select.
        zero, repeat = np.flatnonzero(x == 0), np.flatnonzero(x > 0)
        self.zero_age, self.zero_weights = T.take(zero), weights.take(zero)
        self.repeat_values = self.values[self.values > 0]
        self.repeat_level = inverse.take(repeat) - (len(self.values) - len(self.repeat_values))
        self.repeat_x, self.repeat_recency = x.take(repeat), t_x.take(repeat)
        self.repeat_age, self.repeat_weights = T.take(repeat), weights.take(repeat)
        self.repeat_weighted_x = self.repeat_weights * self.repeat_x
        self._zero_work = np.empty((2, len(self.zero_age)))
        self._repeat_work = np.empty((6, len(self.repeat_x)))

    def value_and_gradient(self, params: FloatArray) -> tuple[float, FloatArray]:
        """Σ w·log-likelihood and its derivatives by r, α, a, b."""
        r, alpha, a, b = (float(value) for value in params)
        total = self.size * r * np.log(alpha)
        gradient = np.array([self.size * np.log(alpha), self.size * r / alpha, 0.0, 0.0])
        for part_total, part_gradient in (
            self._level_terms(r, a, b),
            self._zero_terms(r, alpha),
            self._repeat_terms(r, alpha, a, b),
        ):
            total += part_total
            gradient += part_gradient
        return total, gradient

    def _level_terms(self, r: float, a: float, b: float) -> tuple[float, FloatArray]:
        """The gamma and beta terms, which depend on x only: once per distinct frequency."""
        from scipy.special import betaln, digamma, gammaln

        values, counts = self.values, self.level_weights
        total = (gammaln(r + values) - gammaln(r) + betaln(a, b + values) - betaln(a, b)) @ counts
        d_a = digamma(a + b) - digamma(a + b + values)
        d_r = (digamma(r + values) - digamma(r)) @ counts
        d_b = (digamma(b + values) - digamma(b) + d_a) @ counts
        return float(total), np.array([d_r, 0.0, d_a @ counts, d_b])

    def _zero_terms(self, r: float, alpha: float) -> tuple[float, FloatArray]:
        """Customers without repeat purchases: −r·log(α+T) each."""
        log_shifted, shifted = self._zero_work
        _log_and_reciprocal(self.zero_age, alpha, log_shifted, shifted)
        log_sum = weighted_sum(self.zero_weights, log_shifted)
        inverse_sum = weighted_sum(self.zero_weights, shifted)
        return -r * log_sum, np.array([-log_sum, -r * inverse_sum, 0.0, 0.0])

    def _repeat_terms(self, r: float, alpha: float, a: float, b: float) -> tuple[float, FloatArray]:
        """Repeat buyers: −(r+x)·log(α+T) + softplus(d), d the log-odds of having dropped out.

        d = log a − log(b+x−1) + (r+x)·(log(α+T) − log(α+t_x)); with ω = sigmoid(d) (the
        probability of having dropped out) the derivatives are ∂r: −log(α+T) + ω·gap,
        ∂α: −(r+x)/(α+T) + ω(r+x)(1/(α+T) − 1/(α+t_x)), ∂a: ω/a, ∂b: −ω/(b+x−1).
        """
        log_age, inverse_age, spare, gap, odds, exponential = self._repeat_work
        weights, weighted_x = self.repeat_weights, self.repeat_weighted_x
        _log_and_reciprocal(self.repeat_age, alpha, log_age, inverse_age)
        _log_and_reciprocal(self.repeat_recency, alpha, gap, spare)
        np.subtract(log_age, gap, out=gap)
        # Σ w(r+x)·log(α+T) and Σ w(r+x)/(α+T), then 1/(α+T) − 1/(α+t_x) in place.
        log_age_sum = weighted_sum(weights, log_age)
        age_term = r * log_age_sum + weighted_sum(weighted_x, log_age)
        inverse_age_term = r * weighted_sum(weights, inverse_age) + weighted_sum(
            weighted_x, inverse_age
        )
        np.subtract(inverse_age, spare, out=inverse_age)
        rate = log_age
        np.add(self.repeat_x, r, out=rate)
        np.multiply(rate, gap, out=odds)
        dropout_level = np.log(a) - np.log(b + self.repeat_values - 1)
        odds += np.take(dropout_level, self.repeat_level, out=spare)
        softplus_total = self._softplus_and_sigmoid(odds, exponential, spare)
        total = softplus_total - age_term
        np.multiply(spare, weights, out=spare)  # w·ω
        np.multiply(rate, spare, out=rate)  # w·ω·(r+x)
        by_level = np.bincount(self.repeat_level, weights=spare, minlength=len(self.repeat_values))
        gradient = np.array(
            [
                -log_age_sum + weighted_sum(spare, gap),
                -inverse_age_term + weighted_sum(rate, inverse_age),
                float(np.sum(by_level)) / a,
                -float(by_level @ (1 / (b + self.repeat_values - 1))),
            ]
        )
        return total, gradient

    def _softplus_and_sigmoid(
        self, odds: FloatArray, exponential: FloatArray, sigmoid: FloatArray
    ) -> float:
        """Σ w·log(1 + e^d), and sigmoid(d) written into ``sigmoid``, both without overflow.

        With e = exp(−|d|): log(1 + e^d) = max(d, 0) + log1p(e), and sigmoid(d) is 1/(1 + e)
        for d ≥ 0 and e/(1 + e) below.
        """
        weights = self.repeat_weights
        np.abs(odds, out=exponential)
        np.negative(exponential, out=exponential)
        np.exp(exponential, out=exponential)
        np.log1p(exponential, out=sigmoid)
        total = weighted_sum(weights, sigmoid)
        np.maximum(odds, 0.0, out=sigmoid)
        total += weighted_sum(weights, sigmoid)
        np.add(exponential, 1.0, out=sigmoid)
        np.reciprocal(sigmoid, out=sigmoid)
        np.multiply(exponential, sigmoid, out=exponential)
        np.copyto(sigmoid, exponential, where=odds < 0)
        return total

    def hessian(self, params: FloatArray) -> FloatArray:
        """Second derivatives of Σ w·log-likelihood by r, α, a, b: the standard errors' matrix.

        Exact where finite differences of the gradient would need eight gradient passes.
        """
        r, alpha, a, b = (float(value) for value in params)
        hessian = self._level_hessian(r, a, b) + self._repeat_hessian(r, alpha, a, b)
        inverse_zero = 1 / (self.zero_age + alpha)
        cross = self.size / alpha - weighted_sum(self.zero_weights, inverse_zero)
        hessian[0, 1] += cross
        hessian[1, 0] += cross
        hessian[1, 1] += r * weighted_sum(self.zero_weights, inverse_zero**2) - (
            self.size * r / alpha**2
        )
        return hessian

    def _level_hessian(self, r: float, a: float, b: float) -> FloatArray:
        """Second derivatives of the gamma and beta terms (trigamma functions), per frequency."""
        from scipy.special import polygamma

        values, counts = self.values, self.level_weights
        hessian = np.zeros((4, 4))
        hessian[0, 0] = (polygamma(1, r + values) - polygamma(1, r)) @ counts
        shared = (polygamma(1, a + b) - polygamma(1, a + b + values)) @ counts
        hessian[2, 2] = hessian[2, 3] = hessian[3, 2] = shared
        hessian[3, 3] = (polygamma(1, b + values) - polygamma(1, b)) @ counts + shared
        return hessian

    def _repeat_hessian(self, r: float, alpha: float, a: float, b: float) -> FloatArray:
        """Repeat buyers: ω(1−ω)·∇d∇dᵀ + ω·∇²d from softplus(d), plus −(r+x)·log(α+T)'s."""
        from scipy.special import expit

        weights, rate = self.repeat_weights, self.repeat_x + r
        inverse_age = 1 / (alpha + self.repeat_age)
        inverse_recency = 1 / (alpha + self.repeat_recency)
        gap = np.log(alpha + self.repeat_age) - np.log(alpha + self.repeat_recency)
        inverse_b = (1 / (b + self.repeat_values - 1))[self.repeat_level]
        dropped = expit(np.log(a) + np.log(inverse_b) + rate * gap)
        slopes = [gap, rate * (inverse_age - inverse_recency), np.full(len(gap), 1 / a), -inverse_b]
        curvature = weights * dropped * (1 - dropped)
        hessian = np.empty((4, 4))
        for row in range(4):
            weighted_slope = curvature * slopes[row]
            for column in range(row, 4):
                hessian[row, column] = hessian[column, row] = weighted_sum(
                    weighted_slope, slopes[column]
                )
        weighted = weights * dropped
        cross = weighted_sum(weighted, inverse_age - inverse_recency) - weighted_sum(
            weights, inverse_age
        )
        hessian[0, 1] += cross
        hessian[1, 0] += cross
        hessian[1, 1] += weighted_sum(weighted * rate, inverse_recency**2 - inverse_age**2)
        hessian[1, 1] += weighted_sum(weights * rate, inverse_age**2)
        hessian[2, 2] -= float(np.sum(weighted)) / a**2
        hessian[3, 3] += weighted_sum(weighted, inverse_b**2)
        return hessian


def _log_and_reciprocal(
    times: FloatArray, alpha: float, logarithm: FloatArray, reciprocal: FloatArray
) -> None:
    """Write log(α + t) into ``logarithm`` and 1/(α + t) into ``reciprocal``."""
    np.add(times, alpha, out=reciprocal)
    np.log(reciprocal, out=logarithm)
    np.reciprocal(reciprocal, out=reciprocal)
