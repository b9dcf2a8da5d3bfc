"""Pareto/NBD: the published CDNOW fit, recovery of known parameters, lifetimes' predictions."""

import numpy as np
import pytest

from kehu.analytics import NotFittedError, ParetoNBDModel
from tests.analytics.test_bgnbd import cdnow

PUBLISHED = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}
PUBLISHED_LOG_LIKELIHOOD = -9595.0


def simulate_pareto_nbd(size, r, alpha, s, beta, seed):
    """Draw (x, t_x, T): Poisson purchases until an exponential death, ages 10-60 periods."""
    random = np.random.default_rng(seed)
    rate = random.gamma(r, 1 / alpha, size)
    death_rate = random.gamma(s, 1 / beta, size)
    age = random.uniform(10, 60, size)
    observed = np.minimum(random.exponential(1 / death_rate), age)
    x = random.poisson(rate * observed).astype(float)
    # Given x purchases on [0, observed], the last one is the maximum of x uniforms.
    t_x = np.where(x > 0, observed * random.random(size) ** (1 / np.maximum(x, 1)), 0.0)
    return x, t_x, age


def test_cdnow_fit_gives_the_published_parameters_and_log_likelihood():
    model = ParetoNBDModel().fit(*cdnow())

    for name, value in PUBLISHED.items():
        assert model.params_[name] == pytest.approx(value, rel=0.005)
    assert model.log_likelihood_ == pytest.approx(PUBLISHED_LOG_LIKELIHOOD, rel=0.005)
    for name, error in model.standard_errors_.items():
        assert 0 < error < model.params_[name]


def test_synthetic_data_recovers_the_parameters():
    truth = {"r": 0.8, "alpha": 6.0, "s": 0.9, "beta": 12.0}
    x, t_x, age = simulate_pareto_nbd(30_000, seed=11, **truth)

    model = ParetoNBDModel().fit(x, t_x, age)

    # 30,000 customers: within 15% (s and beta are the hardest) and four standard errors.
    for name, value in truth.items():
        assert model.params_[name] == pytest.approx(value, rel=0.15)
        assert abs(model.params_[name] - value) < 4 * model.standard_errors_[name]


def test_likelihood_is_finite_on_both_branches_and_when_the_last_purchase_is_at_t():
    x, t_x, age = np.array([0.0, 3.0, 5.0]), np.array([0.0, 10.0, 7.0]), np.array([10.0, 10.0, 9.0])
    for params in ({"r": 0.5, "alpha": 2.0, "s": 0.7, "beta": 9.0}, dict(PUBLISHED)):
        model = ParetoNBDModel()
        model.params_ = params
        # alpha < beta, then alpha < beta with other values; swap them for the other branch.
        for swapped in (False, True):
            if swapped:
                params["alpha"], params["beta"] = params["beta"], params["alpha"]
            values = model.log_likelihood(x, t_x, age)
            assert np.all(np.isfinite(values))
            alive = model.probability_alive(x, t_x, age)
            assert np.all((alive > 0) & (alive <= 1))


def test_predictions_match_lifetimes_on_cdnow():
    lifetimes = pytest.importorskip("lifetimes")
    import pandas

    x, t_x, age = cdnow()
    model = ParetoNBDModel().fit(x, t_x, age)
    reference = lifetimes.ParetoNBDFitter()
    reference.params_ = pandas.Series(model.params_)

    np.testing.assert_allclose(
        model.log_likelihood(x, t_x, age),
        reference._conditional_log_likelihood(
            tuple(model.params_[name] for name in PUBLISHED), x, t_x, age
        ),
        rtol=1e-6,
    )
    np.testing.assert_allclose(
        model.probability_alive(x, t_x, age),
        reference.conditional_probability_alive(x, t_x, age),
        rtol=1e-4,
    )
    for horizon in (1.0, 13.0, 39.0):
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


def test_predictions_refuse_to_run_before_fit():
    with pytest.raises(NotFittedError, match="not fitted yet"):
        ParetoNBDModel().probability_alive([1], [1.0], [2.0])


@pytest.mark.parametrize(
    ("frequency", "recency", "age", "message"),
    [
        ([], [], [], "no customers"),
        ([2], [3.0], [5.0], "one customer"),
        ([0, 0], [0.0, 0.0], [5.0, 8.0], "No customer made a repeat purchase"),
        ([0, 1], [0.0, 0.0], [0.0, 0.0], "no time was observed"),
    ],
)
def test_degenerate_input_raises_a_clear_error(frequency, recency, age, message):
    with pytest.raises(ValueError, match=message):
        ParetoNBDModel().fit(frequency, recency, age)


@pytest.mark.parametrize(
    ("first", "second", "z", "expected"),
    [
        # Reference values from mpmath at 50 digits; scipy's own 2F1 gives NaN, inf, NaN here.
        (503.5, 3.0, 29.3 / 30, 11.063340411157352),
        (2002.4, 2002.0, 0.4, 1022.1623527754263),
        (205.66, 1.0131, 0.99994085, 6.7854538008386325),
        (1.3, 0.8, 0.5, 0.29194928718618611),
    ],
)
def test_log_hypergeometric_term_is_right_where_scipy_overflows(first, second, z, expected):
    from kehu.analytics._paretonbd import _log_hyp2f1_next

    assert _log_hyp2f1_next(first, second, z) == pytest.approx(expected, rel=1e-12)


def test_a_frequent_buyer_who_stopped_early_gets_finite_predictions():
    model = ParetoNBDModel()
    model.params_ = {"r": 1.5, "alpha": 30.0, "s": 2.0, "beta": 0.7}

    alive = model.probability_alive([500, 2000], [0.5, 3.0], [0.5, 80.0])
    expected = model.expected_purchases(52.0, [500, 2000], [0.5, 3.0], [0.5, 80.0])

    assert np.all(np.isfinite(model.log_likelihood([500, 2000], [0.5, 3.0], [0.5, 80.0])))
    # Bought on the last day: surely alive; stopped 77 weeks ago after 2,000 purchases: gone.
    assert alive[0] == pytest.approx(1.0) and alive[1] < 1e-6
    # Alive for sure, so (r+x)(β+T)/((α+T)(s−1))·[1 − ((β+T)/(β+T+t))^(s−1)] with s = 2.
    assert expected[0] == pytest.approx(501.5 * 1.2 / 30.5 * (1 - 1.2 / 53.2), rel=1e-9)
    assert 0 <= expected[1] < 1e-3
