"""RFM quintile scores: the documented tie rule, small and degenerate inputs, direction."""

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kehu.analytics import quintile_scores, rfm_scores, score_rfm

pandas = pytest.importorskip("pandas")


def test_distinct_values_fill_the_quintiles_evenly():
    assert quintile_scores(range(10)).tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]


def test_equal_values_get_the_same_score_even_across_a_quintile_boundary():
    # Ranking by value then id would split the three 20s between scores 2 and 3.
    scores = quintile_scores([10, 20, 20, 20, 30])

    assert scores.tolist() == [1, 3, 3, 3, 5]


def test_scores_do_not_depend_on_row_order():
    values = np.array([5, 1, 1, 9, 3, 3, 3, 7])
    order = np.array([3, 0, 7, 1, 6, 2, 5, 4])

    assert quintile_scores(values[order]).tolist() == quintile_scores(values)[order].tolist()


def test_fewer_than_five_customers_spread_over_the_scale():
    assert quintile_scores([100.0, 300.0, 200.0]).tolist() == [1, 5, 3]
    assert quintile_scores([1, 2]).tolist() == [2, 4]


def test_all_equal_values_and_one_customer_score_the_neutral_middle():
    assert quintile_scores([4, 4, 4, 4, 4, 4]).tolist() == [3, 3, 3, 3, 3, 3]
    assert quintile_scores([42.0]).tolist() == [3]


def test_no_customers_gives_no_scores():
    assert quintile_scores([]).tolist() == []


def test_recent_customers_score_high_on_recency():
    assert quintile_scores([1, 400, 30], higher_is_better=False).tolist() == [5, 1, 3]


def test_nan_is_refused():
    with pytest.raises(ValueError, match="NaN"):
        quintile_scores([1.0, float("nan")])


def test_many_ties_leave_unused_scores_rather_than_split_them():
    # 6 of 10 customers bought once: mid-rank percentile 0.3 -> score 2 for all six; the two
    # customers with 2 orders sit at 0.7 -> 4; scores 1 and 3 stay unused.
    scores = quintile_scores([1] * 6 + [2, 2, 5, 9])

    assert scores.tolist() == [2] * 6 + [4, 4, 5, 5]


@settings(deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=12), min_size=1, max_size=60), st.booleans())
def test_scores_match_pandas_average_ranks(values, higher_is_better):
    ranks = pandas.Series(values).rank(method="average", ascending=higher_is_better)
    expected = np.minimum(1 + np.floor(5 * (ranks - 0.5) / len(values)), 5).astype(int)

    scores = quintile_scores(values, higher_is_better=higher_is_better)

    assert scores.tolist() == expected.tolist()
    assert scores.min() >= 1 and scores.max() <= 5


def test_rfm_scores_orders_recency_frequency_monetary():
    recency, frequency, monetary = rfm_scores([10, 300], [1, 8], [500.0, 50.0])

    assert (recency.tolist(), frequency.tolist(), monetary.tolist()) == ([4, 2], [2, 4], [4, 2])


def test_score_rfm_appends_scores_and_segments():
    summary = pa.table(
        {
            "customer_id": [1, 2, 3, 4, 5],
            "recency_days": [2, 5, 40, 200, 400],
            "frequency": [12, 1, 6, 9, 1],
            "monetary": [900.0, 20.0, 300.0, 800.0, 10.0],
        }
    )

    scored = score_rfm(summary)

    assert scored.column_names[-4:] == ["r_score", "f_score", "m_score", "segment"]
    assert scored["r_score"].to_pylist() == [5, 4, 3, 2, 1]
    # Two customers tie on one order: mid-rank percentile 0.2 -> score 2 for both.
    assert scored["f_score"].to_pylist() == [5, 2, 3, 4, 2]
    assert scored["m_score"].to_pylist() == [5, 2, 3, 4, 1]
    assert scored["segment"].to_pylist() == [
        "Champions",
        "Potential Loyalists",
        "Need Attention",
        "At Risk",
        "Hibernating",
    ]


def test_score_rfm_uses_a_custom_map():
    summary = pa.table({"recency_days": [1], "frequency": [1], "monetary": [1.0]})
    everyone = {(r, f): "Everyone" for r in range(1, 6) for f in range(1, 6)}

    assert score_rfm(summary, everyone)["segment"].to_pylist() == ["Everyone"]
