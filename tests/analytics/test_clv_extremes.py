"""Predictions stay finite and in range for valid but extreme histories (property tests).

Parameters are set by hand, covering both sides of the formulas' branches (a below and above 1
for BG/NBD, α below and above β for Pareto/NBD), so no data set is needed. Histories reach
frequency 2,000, ages of 100,000 periods, the last purchase on the first or the last day, and
horizons of a million periods.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kehu.analytics import BetaGeoModel, GammaGammaModel, ParetoNBDModel, customer_lifetime_value

BGNBD_PARAMETERS = [
    {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426},  # CDNOW, a < 1
    {"r": 2.5, "alpha": 0.5, "a": 3.0, "b": 0.4},  # a > 1, a > r + 1
    {"r": 0.02, "alpha": 80.0, "a": 0.05, "b": 30.0},
]
PARETO_NBD_PARAMETERS = [
    {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669},  # CDNOW, α < β
    {"r": 1.5, "alpha": 30.0, "s": 2.0, "beta": 0.7},  # α > β
    {"r": 0.05, "alpha": 0.2, "s": 1.0, "beta": 0.2},  # s = 1 and α = β
]
SPEND_PARAMETERS = [{"p": 6.25, "q": 3.74, "gamma": 15.44}, {"p": 0.3, "q": 1.2, "gamma": 0.01}]

frequencies = st.one_of(
    st.just(0), st.integers(min_value=1, max_value=30), st.sampled_from([100, 500, 2000])
)
ages = st.one_of(
    st.just(0.0),
    st.floats(min_value=1e-6, max_value=1e5, allow_nan=False),
    st.sampled_from([1e-3, 39.0, 1e4, 1e5]),
)
# Where the last purchase falls within the customer's age: first day, last day or between.
recency_shares = st.one_of(st.sampled_from([0.0, 1.0, 1e-9]), st.floats(min_value=0, max_value=1))
horizons = st.one_of(
    st.sampled_from([0.0, 1.0, 52.0, 1e4, 1e6]), st.floats(min_value=0, max_value=1e6)
)


@st.composite
def histories(draw):
    """(x, t_x, T): t_x is 0 without repeat purchases, else a share of T."""
    x = draw(frequencies)
    age = draw(ages)
    recency = 0.0 if x == 0 else draw(recency_shares) * age
    return float(x), recency, age


def fitted(model_class, params):
    model = model_class()
    model.params_ = dict(params)
    return model


def assert_sane_predictions(model, history, horizon):
    x, t_x, age = ([value] for value in history)
    alive = model.probability_alive(x, t_x, age)
    expected = model.expected_purchases(horizon, x, t_x, age)
    nearer = model.expected_purchases(horizon / 2, x, t_x, age)

    assert np.all(np.isfinite(alive)) and 0.0 <= alive[0] <= 1.0
    assert np.all(np.isfinite(expected)) and expected[0] >= 0.0
    # A longer horizon never expects fewer purchases (up to rounding).
    assert expected[0] >= nearer[0] * (1 - 1e-9) - 1e-12


@settings(deadline=None, max_examples=300)
@given(
    st.sampled_from(BGNBD_PARAMETERS),
    histories(),
    horizons,
)
def test_bgnbd_predictions_are_finite_and_in_range(params, history, horizon):
    assert_sane_predictions(fitted(BetaGeoModel, params), history, horizon)


@settings(deadline=None, max_examples=300)
@given(
    st.sampled_from(PARETO_NBD_PARAMETERS),
    histories(),
    horizons,
)
def test_pareto_nbd_predictions_are_finite_and_in_range(params, history, horizon):
    assert_sane_predictions(fitted(ParetoNBDModel, params), history, horizon)


@settings(deadline=None, max_examples=200)
@given(
    st.sampled_from(SPEND_PARAMETERS),
    st.one_of(st.just(0), st.integers(min_value=1, max_value=2000)),
    st.floats(min_value=1e-6, max_value=1e9, allow_nan=False),
)
def test_expected_average_value_lies_between_the_population_mean_and_the_own_mean(
    params, x, mean_value
):
    model = fitted(GammaGammaModel, params)
    value = mean_value if x > 0 else 0.0

    expected = model.expected_average_value([x], [value])[0]

    population = params["p"] * params["gamma"] / (params["q"] - 1)
    low, high = (population, population) if x == 0 else sorted((population, mean_value))
    assert np.isfinite(expected)
    assert low * (1 - 1e-9) <= expected <= high * (1 + 1e-9)


@settings(deadline=None, max_examples=150)
@given(
    st.sampled_from(
        [(BetaGeoModel, p) for p in BGNBD_PARAMETERS]
        + [(ParetoNBDModel, p) for p in PARETO_NBD_PARAMETERS]
    ),
    histories(),
    st.floats(min_value=0.01, max_value=1e6, allow_nan=False),
    st.floats(min_value=0.0, max_value=0.5),
)
def test_clv_is_finite_and_not_negative(model_and_params, history, average_value, rate):
    model_class, params = model_and_params
    x, t_x, age = ([value] for value in history)

    value = customer_lifetime_value(
        fitted(model_class, params),
        x,
        t_x,
        age,
        [average_value],
        steps=12,
        step_length=4.345,
        discount_rate=rate,
    )

    assert np.all(np.isfinite(value)) and value[0] >= 0.0


@pytest.mark.parametrize("model_class", [BetaGeoModel, ParetoNBDModel])
def test_new_customer_expectations_are_finite_and_rising(model_class):
    params = BGNBD_PARAMETERS if model_class is BetaGeoModel else PARETO_NBD_PARAMETERS
    for values in params:
        model = fitted(model_class, values)

        expected = model.expected_purchases_new_customer([0.0, 1.0, 52.0, 1e4, 1e6])

        assert np.all(np.isfinite(expected))
        assert expected[0] == 0.0
        assert np.all(np.diff(expected) > 0)
