"""Gamma-Gamma: the published CDNOW fit, recovery of known parameters, lifetimes' predictions."""

import numpy as np
import pytest

from kehu.analytics import GammaGammaModel, NotFittedError
from tests.analytics.test_clv import cdnow_summary_file

PUBLISHED = {"p": 6.25, "q": 3.74, "gamma": 15.44}


def simulate_gamma_gamma(size, p, q, gamma, seed):
    """Draw (x, mean value): ν ~ Gamma(q, γ), each of x transactions ~ Gamma(p, ν)."""
    random = np.random.default_rng(seed)
    scale = 1 / random.gamma(q, 1 / gamma, size)
    x = 1 + random.poisson(2.0, size)
    total = random.gamma(p * x, scale)
    return x.astype(float), total / x


def cdnow():
    data = cdnow_summary_file()
    return data["x"], data["zbar"]


def test_cdnow_fit_gives_the_published_parameters():
    model = GammaGammaModel().fit(*cdnow())

    for name, value in PUBLISHED.items():
        assert model.params_[name] == pytest.approx(value, rel=0.005)
    assert model.n_customers_ == 946  # repeat buyers only
    for name, error in model.standard_errors_.items():
        assert 0 < error < model.params_[name]


def test_synthetic_data_recovers_the_parameters():
    truth = {"p": 4.0, "q": 3.0, "gamma": 20.0}
    x, value = simulate_gamma_gamma(30_000, seed=3, **truth)

    model = GammaGammaModel().fit(x, value)

    # 30,000 customers: within 10% and four standard errors.
    for name, expected in truth.items():
        assert model.params_[name] == pytest.approx(expected, rel=0.10)
        assert abs(model.params_[name] - expected) < 4 * model.standard_errors_[name]


def test_expected_average_value_matches_lifetimes_on_cdnow():
    lifetimes = pytest.importorskip("lifetimes")
    import pandas

    x, zbar = cdnow()
    model = GammaGammaModel().fit(x, zbar)
    reference = lifetimes.GammaGammaFitter()
    reference.params_ = pandas.Series(
        {"p": model.params_["p"], "q": model.params_["q"], "v": model.params_["gamma"]}
    )

    np.testing.assert_allclose(
        model.expected_average_value(x, zbar),
        reference.conditional_expected_average_profit(pandas.Series(x), pandas.Series(zbar)),
        rtol=1e-4,
    )
    fitted = lifetimes.GammaGammaFitter().fit(x[x > 0], zbar[x > 0])
    assert model.params_["p"] == pytest.approx(fitted.params_["p"], rel=1e-4)


def test_customer_without_repeat_purchases_gets_the_population_mean():
    model = GammaGammaModel().fit(*cdnow())
    p, q, gamma = (model.params_[name] for name in ("p", "q", "gamma"))

    assert model.expected_average_value([0], [0.0]).tolist() == pytest.approx([p * gamma / (q - 1)])


def test_predictions_refuse_to_run_before_fit():
    with pytest.raises(NotFittedError, match="not fitted yet"):
        GammaGammaModel().expected_average_value([1], [10.0])


@pytest.mark.parametrize(
    ("frequency", "value", "message"),
    [
        ([], [], "no customers"),
        ([0, 0, 0], [0.0, 0.0, 0.0], "at least two customers with repeat purchases"),
        ([2, 0], [10.0, 0.0], "at least two customers with repeat purchases"),
        ([2, 1, 3], [10.0, 0.0, 5.0], "zero or negative"),
        ([2, 1, 3], [10.0, -4.0, 5.0], "zero or negative"),
        ([2, 1, 3], [10.0, 10.0, 10.0], "same average order value"),
        ([2, 1], [10.0], "same length"),
        ([2, -1], [10.0, 5.0], "whole numbers"),
        ([2, 1.5], [10.0, 5.0], "whole numbers"),
        ([2, 1], [10.0, float("inf")], "monetary_value contains missing or infinite"),
        ([2, 1], [10.0, float("nan")], "monetary_value contains missing or infinite"),
    ],
)
def test_degenerate_input_raises_a_clear_error(frequency, value, message):
    with pytest.raises(ValueError, match=message):
        GammaGammaModel().fit(frequency, value)


def test_analytic_gradient_matches_finite_differences():
    from scipy.optimize import approx_fprime

    from kehu.analytics._gammagamma import _SpendFitData, gamma_gamma_log_likelihood

    x = np.array([1.0, 2.0, 5.0, 1.0])
    zbar = np.array([10.0, 35.5, 12.25, 3.0])
    weights = np.array([1.0, 2.0, 1.0, 3.0])
    params = np.array([6.0, 3.5, 15.0])

    total, gradient = _SpendFitData(x, zbar, weights).value_and_gradient(params)

    assert total == pytest.approx(weights @ gamma_gamma_log_likelihood(params, x, zbar))
    numeric = approx_fprime(
        params, lambda point: weights @ gamma_gamma_log_likelihood(point, x, zbar), 1e-7
    )
    np.testing.assert_allclose(gradient, numeric, rtol=1e-5, atol=1e-5)


def test_expected_average_value_refuses_what_it_cannot_average():
    model = GammaGammaModel()
    model.params_ = {"p": 6.25, "q": 0.9, "gamma": 15.44}
    with pytest.raises(ValueError, match="infinite when q <= 1"):
        model.expected_average_value([1], [10.0])

    model.params_["q"] = 3.74
    with pytest.raises(ValueError, match="zero or negative"):
        model.expected_average_value([2, 1], [10.0, -3.0])
