"""ABC classes by cumulative revenue share, at and around the boundaries."""

import pytest

from kehu.analytics import abc_classes


def test_exact_boundaries_go_to_the_next_class():
    # The top customer holds exactly 70 %: A is complete, the next starts B at 70 %.
    assert abc_classes([700.0, 200.0, 100.0]).tolist() == ["A", "B", "C"]


def test_the_customer_crossing_a_boundary_belongs_to_the_class_being_filled():
    # Shares before each: 0, 0.5, 0.75 (< 0.9), 0.95.
    assert abc_classes([50.0, 25.0, 20.0, 5.0]).tolist() == ["A", "A", "B", "C"]


def test_one_dominant_customer_is_a_and_order_of_rows_does_not_matter():
    assert abc_classes([5.0, 80.0, 10.0, 5.0]).tolist() == ["C", "A", "B", "C"]


def test_equal_revenue_gets_the_same_class():
    assert abc_classes([30.0, 30.0, 30.0, 10.0]).tolist() == ["A", "A", "A", "C"]


def test_zero_and_negative_revenue_are_last():
    assert abc_classes([100.0, 0.0, -20.0]).tolist() == ["A", "C", "C"]
    assert abc_classes([0.0, 0.0]).tolist() == ["C", "C"]


def test_custom_shares_and_labels():
    classes = abc_classes([40.0, 30.0, 20.0, 10.0], shares=(0.5, 0.5), labels=("top", "rest"))

    assert classes.tolist() == ["top", "top", "rest", "rest"]


@pytest.mark.parametrize(
    ("shares", "labels"),
    [((0.7, 0.2), ("A", "B")), ((0.8, 0.3, -0.1), ("A", "B", "C")), ((0.5, 0.5), ("A",))],
)
def test_bad_shares_are_refused(shares, labels):
    with pytest.raises(ValueError, match="shares"):
        abc_classes([1.0], shares=shares, labels=labels)
