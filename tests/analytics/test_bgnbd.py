"""BG/NBD: the published CDNOW fit, recovery of known parameters, lifetimes' predictions."""

import numpy as np
import pytest

from kehu.analytics import BetaGeoModel, NotFittedError
from tests.analytics.test_clv import cdnow_summary_file

PUBLISHED = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PUBLISHED_LOG_LIKELIHOOD = -9582.4


def simulate_bgnbd(size, r, alpha, a, b, seed):
    """Draw (x, t_x, T) from the BG/NBD story with ages spread over 10-60 periods."""
    random = np.random.default_rng(seed)
    rate = random.gamma(r, 1 / alpha, size)
    dropout = random.beta(a, b, size)
    age = random.uniform(10, 60, size)
    x = np.zeros(size)
    t_x = np.zeros(size)
    clock = np.zeros(size)
    active = np.ones(size, dtype=bool)
    while active.any():
        clock[active] += random.exponential(1 / rate[active])
        bought = active & (clock <= age)
        x[bought] += 1
        t_x[bought] = clock[bought]
        # After each repeat purchase the customer drops out with probability p.
        active = bought & (random.random(size) >= dropout)
    return x, t_x, age


def cdnow():
    data = cdnow_summary_file()
    return data["x"], data["t_x"], data["T"]


def test_cdnow_fit_gives_the_published_parameters_and_log_likelihood():
    model = BetaGeoModel().fit(*cdnow())

    for name, value in PUBLISHED.items():
        assert model.params_[name] == pytest.approx(value, rel=0.005)
    assert model.log_likelihood_ == pytest.approx(PUBLISHED_LOG_LIKELIHOOD, rel=0.005)
    assert model.n_customers_ == 2357
    assert set(model.standard_errors_) == set(PUBLISHED)
    for name, error in model.standard_errors_.items():
        assert 0 < error < model.params_[name]


def test_cdnow_log_likelihood_at_the_published_parameters():
    model = BetaGeoModel()
    model.params_ = dict(PUBLISHED)

    assert model.log_likelihood(*cdnow()).sum() == pytest.approx(-9582.4, abs=1.0)


def test_synthetic_data_recovers_the_parameters():
    truth = {"r": 0.5, "alpha": 3.0, "a": 1.2, "b": 3.5}
    x, t_x, age = simulate_bgnbd(30_000, seed=7, **truth)

    model = BetaGeoModel().fit(x, t_x, age)

    # 30,000 customers: within 10% and within four standard errors of the truth.
    for name, value in truth.items():
        assert model.params_[name] == pytest.approx(value, rel=0.10)
        assert abs(model.params_[name] - value) < 4 * model.standard_errors_[name]


def test_predictions_match_lifetimes_on_cdnow():
    lifetimes = pytest.importorskip("lifetimes")
    import pandas

    x, t_x, age = cdnow()
    model = BetaGeoModel().fit(x, t_x, age)
    reference = lifetimes.BetaGeoFitter()
    reference.params_ = pandas.Series(model.params_)

    np.testing.assert_allclose(
        model.probability_alive(x, t_x, age),
        reference.conditional_probability_alive(x, t_x, age),
        rtol=1e-4,
    )
    for horizon in (1.0, 13.0, 39.0, 52.0):
        np.testing.assert_allclose(
            model.expected_purchases(horizon, x, t_x, age),
            reference.conditional_expected_number_of_purchases_up_to_time(horizon, x, t_x, age),
            rtol=1e-4,
        )
    np.testing.assert_allclose(
        model.expected_purchases_new_customer([13.0, 39.0]),
        reference.expected_number_of_purchases_up_to_time(np.array([13.0, 39.0])),
        rtol=1e-4,
    )
    # And against lifetimes' own fit, independently optimised.
    fitted = lifetimes.BetaGeoFitter().fit(x, t_x, age)
    np.testing.assert_allclose(
        model.probability_alive(x, t_x, age),
        fitted.conditional_probability_alive(x, t_x, age),
        rtol=1e-4,
    )


def test_probability_alive_is_one_without_repeat_purchases():
    model = BetaGeoModel().fit(*cdnow())

    assert model.probability_alive([0, 0], [0.0, 0.0], [5.0, 38.0]).tolist() == [1.0, 1.0]


def test_predictions_refuse_to_run_before_fit():
    with pytest.raises(NotFittedError, match="not fitted yet"):
        BetaGeoModel().probability_alive([1], [1.0], [2.0])
    with pytest.raises(NotFittedError, match="not fitted yet"):
        BetaGeoModel().expected_purchases(10, [1], [1.0], [2.0])


@pytest.mark.parametrize(
    ("frequency", "recency", "age", "message"),
    [
        ([], [], [], "no customers"),
        ([2], [3.0], [5.0], "one customer"),
        ([0, 0, 0], [0.0, 0.0, 0.0], [5.0, 8.0, 1.0], "No customer made a repeat purchase"),
        ([0, 1], [0.0, 0.0], [0.0, 0.0], "no time was observed"),
        ([1, -1], [1.0, 0.0], [2.0, 2.0], "whole numbers"),
        ([1, 1.5], [1.0, 1.0], [2.0, 2.0], "whole numbers"),
        ([1, 2], [3.0, 1.0], [2.0, 2.0], "between 0 and T"),
        ([0, 2], [1.0, 1.0], [2.0, 2.0], "recency must be 0"),
        ([1, 2], [1.0, 1.0], [2.0], "same length"),
        ([1, float("nan")], [1.0, 1.0], [2.0, 2.0], "frequency contains missing"),
        ([1, 2], [1.0, 1.0], [2.0, float("inf")], "T contains missing or infinite"),
        ([1, 0], [1.0, 0.0], [2.0, -1.0], r"T \(time since the first purchase\) must be 0 or more"),
    ],
)
def test_degenerate_input_raises_a_clear_error(frequency, recency, age, message):
    with pytest.raises(ValueError, match=message):
        BetaGeoModel().fit(frequency, recency, age)


def test_penalizer_shrinks_the_parameters():
    plain = BetaGeoModel().fit(*cdnow())
    penalised = BetaGeoModel(penalizer=0.1).fit(*cdnow())

    assert sum(value**2 for value in penalised.params_.values()) < sum(
        value**2 for value in plain.params_.values()
    )
    assert penalised.log_likelihood_ < plain.log_likelihood_


def test_analytic_gradient_matches_finite_differences():
    from scipy.optimize import approx_fprime

    from kehu.analytics._bgnbd import bgnbd_gradient, bgnbd_log_likelihood
    from kehu.analytics._bgnbd_fit import BetaGeoFitData

    x = np.array([0.0, 1.0, 3.0, 7.0, 1.0])
    t_x = np.array([0.0, 2.0, 5.0, 9.0, 10.0])
    age = np.array([10.0, 10.0, 12.0, 9.0, 10.0])
    params = np.array([0.3, 4.0, 0.8, 2.4])
    numeric = np.array(
        [
            approx_fprime(
                params, lambda point, row=row: bgnbd_log_likelihood(point, x, t_x, age)[row]
            )
            for row in range(len(x))
        ]
    ).T

    np.testing.assert_allclose(bgnbd_gradient(params, x, t_x, age), numeric, atol=1e-5)
    weights = np.array([1.0, 2.0, 1.0, 3.0, 1.0])
    total, gradient = BetaGeoFitData(x, t_x, age, weights).value_and_gradient(params)
    assert total == pytest.approx(bgnbd_log_likelihood(params, x, t_x, age) @ weights)
    np.testing.assert_allclose(gradient, numeric @ weights, atol=1e-4)


def test_fitting_on_distinct_rows_with_counts_gives_the_fit_on_every_row():
    from kehu.analytics._fitting import distinct_rows

    x, t_x, age = (np.round(column, 1) for column in simulate_bgnbd(3_000, 0.5, 3.0, 1.2, 3.5, 5))
    x, t_x, age = (np.tile(column, 4) for column in (x, t_x, age))

    (distinct_x, _, _), counts = distinct_rows(x, t_x, age)
    model = BetaGeoModel().fit(x, t_x, age)
    first = BetaGeoModel().fit(x[:3_000], t_x[:3_000], age[:3_000])

    # Every row appears four times, so the fit runs on at most a quarter of the rows.
    assert len(distinct_x) <= 3_000 and counts.sum() == 12_000
    assert model.log_likelihood_ == pytest.approx(4 * first.log_likelihood_, rel=1e-9)
    for name, value in first.params_.items():
        assert model.params_[name] == pytest.approx(value, rel=1e-4)


def test_frequency_levels_match_numpy_unique():
    from kehu.analytics._fitting import frequency_levels

    for x in (np.array([3.0, 0.0, 3.0, 7.0, 1.0]), np.array([2.5, 0.0, 2.5]), np.array([1e9, 0.0])):
        values, inverse = frequency_levels(x)
        expected_values, expected_inverse = np.unique(x, return_inverse=True)

        assert values.tolist() == expected_values.tolist()
        assert inverse.tolist() == expected_inverse.tolist()
        assert values[inverse].tolist() == x.tolist()


def test_analytic_hessian_matches_finite_differences_of_the_gradient():
    from kehu.analytics._bgnbd_fit import BetaGeoFitData

    x = np.array([0.0, 1.0, 3.0, 7.0, 1.0, 0.0])
    t_x = np.array([0.0, 2.0, 5.0, 9.0, 10.0, 0.0])
    age = np.array([10.0, 10.0, 12.0, 9.0, 10.0, 4.0])
    data = BetaGeoFitData(x, t_x, age, np.array([1.0, 2.0, 1.0, 3.0, 1.0, 2.0]))
    params = np.array([0.3, 4.0, 0.8, 2.4])
    numeric = np.empty((4, 4))
    for column in range(4):
        step = np.zeros(4)
        step[column] = 1e-6 * params[column]
        change = (
            data.value_and_gradient(params + step)[1] - data.value_and_gradient(params - step)[1]
        )
        numeric[:, column] = change / (2 * step[column])

    hessian = data.hessian(params)

    np.testing.assert_allclose(hessian, hessian.T)
    np.testing.assert_allclose(hessian, numeric, rtol=1e-5, atol=1e-6)
