"""Churn early warning: inputs and signals worked out by hand, the risk and levels at their
edges, the model signal against a simulation, and the measurement on Online Retail."""

import dataclasses
import datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet
import pytest

from kehu.analytics import (
    CHURN_LEVELS,
    CHURN_SIGNALS,
    BetaGeoModel,
    ChurnInputs,
    ChurnWeights,
    churn_inputs,
    churn_levels,
    churn_risk,
    churn_signal_strengths,
    evaluate_churn_warning,
    purchase_probability,
)
from kehu.analytics._churn_evaluation import average_precision
from tests.analytics.test_bgnbd import PUBLISHED
from tests.analytics.test_online_retail import online_retail_path

AS_OF = datetime.date(2024, 6, 30)
WINDOW = 60  # the recent window is 2024-05-02 … 2024-06-30
NAN = float("nan")


def day(month, number):
    return datetime.date(2024, month, number)


def hand_made_orders():
    rows = [
        (1, day(1, 1), 10.0),
        (1, day(1, 1), 5.0),  # same day: one purchase day of 15
        (1, day(2, 1), 20.0),
        (1, day(3, 2), 30.0),
        (1, day(5, 15), 12.0),
        (1, day(7, 5), 99.0),  # after the as-of date: ignored
        (2, day(6, 20), 40.0),
        (4, day(4, 1), 8.0),
        (4, day(4, 21), 8.0),
        (None, day(6, 1), 500.0),  # no customer: ignored
    ]
    customer, date, amount = zip(*rows, strict=True)
    return pa.table(
        {
            "customer_id": pa.array(customer, pa.int64()),
            "date": pa.array(date, pa.date32()),
            "amount": pa.array(amount),
        }
    )


def hand_made_contacts():
    rows = [
        (1, day(1, 10)),
        (1, day(3, 10)),
        (1, day(6, 1)),
        (1, day(7, 1)),  # after the as-of date: ignored
        (3, day(6, 10)),
        (9, day(6, 10)),  # not one of the customers asked for
    ]
    customer, date = zip(*rows, strict=True)
    return pa.table({"customer_id": pa.array(customer, pa.int64()), "date": pa.array(date)})


def hand_made_inputs():
    return churn_inputs(
        hand_made_orders(),
        AS_OF,
        customer_ids=np.array([1, 2, 3, 4]),
        contacts=hand_made_contacts(),
        window_days=WINDOW,
    )


def test_churn_inputs_worked_out_by_hand():
    inputs = hand_made_inputs()

    # Customer 1: purchase days 1-1, 2-1, 3-2 (before the window) and 5-15 (recent); gaps 31,
    # 30 and 74 days. History before the window: 1-1 … 5-1, 122 days = 122/60 windows.
    # Customer 2: one purchase 10 days ago, inside the window. Customer 3: never bought.
    # Customer 4: 4-1 and 4-21, 31 days of history before the window, counted as one window.
    assert inputs.customer_id.tolist() == [1, 2, 3, 4]
    np.testing.assert_array_equal(inputs.days_since_last, [46, 10, NAN, 70])
    np.testing.assert_array_equal(inputs.typical_gap_days, [31, NAN, NAN, 20])
    np.testing.assert_array_equal(inputs.orders_recent, [1, 1, 0, 0])
    np.testing.assert_allclose(inputs.orders_before, [3 * 60 / 122, 0, 0, 2])
    np.testing.assert_array_equal(inputs.spend_recent, [12, 40, 0, 0])
    np.testing.assert_allclose(inputs.spend_before, [65 * 60 / 122, 0, 0, 16])
    # Contacts of customer 1 from the first one (1-10): 113 days before the window.
    np.testing.assert_array_equal(inputs.contacts_recent, [1, 0, 1, 0])
    np.testing.assert_allclose(inputs.contacts_before, [2 * 60 / 113, 0, 0, 0])
    np.testing.assert_array_equal(inputs.satisfaction, [NAN] * 4)
    np.testing.assert_array_equal(inputs.open_complaints, [0, 0, 0, 0])


def test_churn_inputs_without_customer_ids_or_contacts():
    inputs = churn_inputs(hand_made_orders(), AS_OF, window_days=WINDOW)

    assert inputs.customer_id.tolist() == [1, 2, 4]
    np.testing.assert_array_equal(inputs.days_since_last, [46, 10, 70])
    np.testing.assert_array_equal(inputs.contacts_recent, [0, 0, 0])
    np.testing.assert_array_equal(inputs.contacts_before, [0, 0, 0])


def test_churn_inputs_read_timestamps_and_refuse_unsorted_ids():
    orders = pa.table(
        {
            "customer_id": pa.array([5, 5], pa.int64()),
            "date": pa.array(
                [datetime.datetime(2024, 6, 1, 23, 59), datetime.datetime(2024, 6, 11, 0, 1)],
                pa.timestamp("s"),
            ),
            "amount": [1.0, 2.0],
        }
    )

    inputs = churn_inputs(orders, AS_OF)

    assert inputs.typical_gap_days.tolist() == [10.0]
    assert inputs.days_since_last.tolist() == [19.0]
    with pytest.raises(ValueError, match="strictly increasing"):
        churn_inputs(orders, AS_OF, customer_ids=np.array([7, 5]))


def with_service_signals(inputs):
    return dataclasses.replace(
        inputs,
        satisfaction=np.array([5.0, 2.0, 1.0, NAN]),
        open_complaints=np.array([0.0, 1.0, 3.0, 0.0]),
    )


def test_signal_strengths_worked_out_by_hand():
    inputs = with_service_signals(hand_made_inputs())

    strengths = churn_signal_strengths(inputs, np.array([0.5, 0.9, NAN, 0.2]))

    assert tuple(strengths) == CHURN_SIGNALS
    np.testing.assert_allclose(strengths["p_alive"], [0.5, 0.1, 0, 0.8])
    # Customer 2 has one purchase: measured against the median gap of 31 and 20 = 25.5 days.
    np.testing.assert_allclose(strengths["overdue"], [(46 / 31 - 1) / 2, 0, 0, 1])
    np.testing.assert_allclose(strengths["frequency_drop"], [1 - 122 / 180, 0, 0, 1])
    np.testing.assert_allclose(strengths["spend_drop"], [1 - 12 * 122 / (65 * 60), 0, 0, 1])
    np.testing.assert_allclose(strengths["fewer_contacts"], [1 - 113 / 120, 0, 0, 0])
    np.testing.assert_allclose(strengths["low_satisfaction"], [0, 2 / 3, 1, 0])
    np.testing.assert_allclose(strengths["open_complaints"], [0, 0.5, 1, 0])


def test_one_time_buyer_is_overdue_against_the_median_gap():
    inputs = dataclasses.replace(
        hand_made_inputs(), days_since_last=np.array([46.0, 51.0, NAN, 90.0])
    )

    strengths = churn_signal_strengths(inputs, np.ones(4))

    # 51 days against 25.5: twice the gap, half way to full strength.
    assert strengths["overdue"][1] == pytest.approx(0.5)


def test_churn_risk_worked_out_by_hand():
    inputs = with_service_signals(hand_made_inputs())
    strengths = churn_signal_strengths(inputs, np.array([0.5, 0.9, NAN, 0.2]))

    result = churn_risk(inputs, np.array([0.5, 0.9, NAN, 0.2]))

    first = (
        35 * 0.5
        + 30 * strengths["overdue"][0]
        + 10 * strengths["frequency_drop"][0]
        + 10 * strengths["spend_drop"][0]
        + 5 * strengths["fewer_contacts"][0]
    )
    assert first == pytest.approx(34.52, abs=0.01)
    # Customer 3 never bought: a prospect, so 0 despite a score of 1 and three complaints.
    assert result.risk.tolist() == [35, round(3.5 + 5 * 2 / 3 + 2.5), 0, 78]
    assert result.risk.dtype == np.int64
    np.testing.assert_allclose(result.points["p_alive"], [17.5, 3.5, 0, 28])
    np.testing.assert_allclose(result.points["open_complaints"], [0, 2.5, 0, 0])
    total = np.sum([result.points[name] for name in CHURN_SIGNALS], axis=0)
    np.testing.assert_allclose(total, [first, 3.5 + 5 * 2 / 3 + 2.5, 0, 78])


def test_churn_risk_scales_with_the_weights():
    inputs = hand_made_inputs()

    only_overdue = ChurnWeights(
        p_alive=0, overdue=2, frequency_drop=0, spend_drop=0, fewer_contacts=0,
        low_satisfaction=0, open_complaints=0,
    )  # fmt: skip
    result = churn_risk(inputs, np.ones(4), only_overdue)

    assert result.risk.tolist() == [round(100 * (46 / 31 - 1) / 2), 0, 0, 100]


def test_churn_risk_is_never_nan():
    size = 5
    inputs = ChurnInputs(
        customer_id=np.arange(size, dtype=np.int64),
        days_since_last=np.array([NAN, 0.0, 10.0, 400.0, 30.0]),
        typical_gap_days=np.full(size, NAN),
        orders_recent=np.array([0.0, NAN, 0.0, 0.0, 2.0]),
        orders_before=np.array([NAN, NAN, 0.0, 1.0, NAN]),
        spend_recent=np.array([0.0, -50.0, NAN, 0.0, 0.0]),
        spend_before=np.array([NAN, 10.0, 0.0, -5.0, 0.0]),
        contacts_recent=np.zeros(size),
        contacts_before=np.full(size, NAN),
        satisfaction=np.array([1.0, NAN, 9.0, 0.0, NAN]),
        open_complaints=np.array([5.0, NAN, -1.0, 0.0, 1.0]),
    )

    result = churn_risk(inputs, np.array([NAN, 0.0, 1.5, NAN, -0.2]))

    assert not np.isnan(result.risk).any()
    assert all(not np.isnan(points).any() for points in result.points.values())
    assert result.risk.min() >= 0 and result.risk.max() <= 100
    assert result.risk[0] == 0  # never bought


def test_churn_risk_refuses_a_p_alive_of_the_wrong_length():
    with pytest.raises(ValueError, match="p_alive has 3 values but there are 4 customers"):
        churn_risk(hand_made_inputs(), np.ones(3))


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ({"overdue": -1.0}, "weight of overdue must be a non-negative number"),
        ({"spend_drop": NAN}, "weight of spend_drop must be a non-negative number"),
        ({name: 0.0 for name in CHURN_SIGNALS}, "At least one churn signal"),
    ],
)
def test_bad_weights_are_refused(weights, message):
    with pytest.raises(ValueError, match=message):
        ChurnWeights(**weights)


def test_default_weights_add_up_to_100():
    weights = ChurnWeights()

    assert [getattr(weights, name) for name in CHURN_SIGNALS] == [35, 30, 10, 10, 5, 5, 5]


def test_levels_at_their_thresholds():
    risk = np.array([0, 39, 40, 59, 60, 79, 80, 100])

    assert churn_levels(risk).tolist() == [
        "low", "low", "watch", "watch", "warning", "warning", "critical", "critical",
    ]  # fmt: skip
    assert churn_levels(risk, (1, 2, 100)).tolist() == [
        "low", "warning", "warning", "warning", "warning", "warning", "warning", "critical",
    ]  # fmt: skip
    assert set(churn_levels(risk).tolist()) <= set(CHURN_LEVELS)


@pytest.mark.parametrize("thresholds", [(0, 60, 80), (40, 40, 80), (60, 40, 80), (40, 60, 101)])
def test_bad_level_thresholds_are_refused(thresholds):
    with pytest.raises(ValueError, match="0 < t1 < t2 < t3 <= 100"):
        churn_levels(np.array([50]), thresholds)


def test_purchase_probability_of_a_new_customer_matches_lifetimes():
    lifetimes = pytest.importorskip("lifetimes")
    model = BetaGeoModel()
    model.params_ = dict(PUBLISHED)
    reference = lifetimes.BetaGeoFitter()
    reference.params_ = pytest.importorskip("pandas").Series(PUBLISHED)

    mine = purchase_probability(model, [1.0, 13.0, 52.0], [0, 0, 0], [0.0] * 3, [0.0] * 3)

    expected = [1 - reference.probability_of_n_purchases_up_to_time(t, 0) for t in (1, 13, 52)]
    np.testing.assert_allclose(mine, expected, rtol=1e-9)


def simulate_with_holdout(size, horizon, seed, r, alpha, a, b):
    """BG/NBD customers: (x, t_x, T) at the calibration end and whether they buy in the horizon."""
    random = np.random.default_rng(seed)
    rate = random.gamma(r, 1 / alpha, size)
    dropout = random.beta(a, b, size)
    age = random.uniform(10, 60, size)
    x, t_x, clock = np.zeros(size), np.zeros(size), np.zeros(size)
    bought_later = np.zeros(size, dtype=bool)
    active = np.ones(size, dtype=bool)
    while active.any():
        clock[active] += random.exponential(1 / rate[active])
        in_calibration = active & (clock <= age)
        x[in_calibration] += 1
        t_x[in_calibration] = clock[in_calibration]
        bought_later |= active & (clock > age) & (clock <= age + horizon)
        active = in_calibration & (random.random(size) >= dropout)
    return x, t_x, age, bought_later


def test_purchase_probability_matches_simulated_customers():
    truth = {"r": 0.5, "alpha": 3.0, "a": 1.2, "b": 3.5}
    x, t_x, age, bought_later = simulate_with_holdout(60_000, 10.0, seed=3, **truth)
    model = BetaGeoModel()
    model.params_ = truth

    predicted = purchase_probability(model, 10.0, x, t_x, age)

    for group in (x == 0, x == 1, (x >= 2) & (x <= 4), x >= 5):
        assert predicted[group].mean() == pytest.approx(bought_later[group].mean(), abs=0.015)


def test_average_precision_counts_ties_together():
    assert average_precision(np.array([1.0, 1.0]), np.array([True, False])) == 0.5
    assert average_precision(np.array([2.0, 1.0, 1.0]), np.array([False, True, True])) == 2 / 3
    assert average_precision(np.array([1.0, 2.0]), np.array([False, False])) == 0.0


# ------------------------------------------------------------------ Online Retail (UCI)

CUTOFF = datetime.date(2011, 9, 1)  # nothing was tuned on this cutoff


def online_retail_orders():
    table = pyarrow.parquet.read_table(
        online_retail_path(),
        columns=["InvoiceNo", "CustomerID", "InvoiceDate", "Quantity", "UnitPrice"],
    )
    is_purchase = pc.invert(pc.starts_with(table["InvoiceNo"], "C"))
    table = table.filter(pc.and_(is_purchase, pc.is_valid(table["CustomerID"])))
    return pa.table(
        {
            "customer_id": pc.cast(table["CustomerID"], pa.int64()),
            "date": pc.strptime(table["InvoiceDate"], format="%Y-%m-%d %H:%M:%S", unit="s"),
            "amount": pc.multiply(pc.cast(table["Quantity"], pa.float64()), table["UnitPrice"]),
        }
    )


def churn_counted_with_pandas(orders):
    frame = orders.to_pandas()
    frame["day"] = frame["date"].dt.normalize()
    cutoff = np.datetime64(CUTOFF)
    before = set(frame.loc[frame["day"] <= cutoff, "customer_id"])
    horizon = (frame["day"] > cutoff) & (frame["day"] <= cutoff + np.timedelta64(90, "D"))
    returned = set(frame.loc[horizon, "customer_id"]) & before
    return len(before), len(before - returned)


@pytest.mark.needs_data
def test_online_retail_risk_ranks_churners_better_than_recency():
    orders = online_retail_orders()

    result = evaluate_churn_warning(orders, CUTOFF, horizon_days=90, window_days=90)

    assert (result.customers, result.churned) == churn_counted_with_pandas(orders)
    assert (result.customers, result.churned) == (3324, 1457)
    risk = result.rule("risk_warning")
    recency = result.rule("recency_best_f1")
    assert risk.average_precision > recency.average_precision
    # At the same number of customers flagged, the warning is at least as precise.
    same_flagged = result.rule("recency_same_flagged")
    assert abs(same_flagged.flagged - risk.flagged) <= 0.02 * risk.flagged
    assert risk.precision >= same_flagged.precision
    assert risk.precision > result.churn_rate + 0.15
