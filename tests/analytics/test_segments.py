"""The recency × frequency segment map: full coverage, validation, lookups."""

import pytest

from kehu.analytics import (
    DEFAULT_SEGMENT_MAP,
    DEFAULT_SEGMENT_RULES,
    SegmentRule,
    assign_segments,
    build_segment_map,
    validate_segment_map,
)

EVERY_SCORE = (1, 2, 3, 4, 5)

# The widely used grid, written independently as "r f" patterns (recency first).
PUBLISHED_GRID = {
    "Hibernating": "11 12 21 22",
    "At Risk": "13 14 23 24",
    "Can't Lose Them": "15 25",
    "About to Sleep": "31 32",
    "Need Attention": "33",
    "Loyal Customers": "34 35 44 45",
    "Promising": "41",
    "New Customers": "51",
    "Potential Loyalists": "42 43 52 53",
    "Champions": "54 55",
}


def test_default_map_covers_each_of_the_25_cells_once():
    claimed = [cell for rule in DEFAULT_SEGMENT_RULES for cell in rule.cells()]

    assert len(claimed) == 25
    assert set(claimed) == {(r, f) for r in EVERY_SCORE for f in EVERY_SCORE}
    assert len(DEFAULT_SEGMENT_MAP) == 25


def test_default_map_is_the_published_grid():
    expected = {
        (int(cell[0]), int(cell[1])): name
        for name, cells in PUBLISHED_GRID.items()
        for cell in cells.split()
    }

    assert dict(DEFAULT_SEGMENT_MAP) == expected


def test_overlapping_rules_are_refused_naming_the_cell():
    rules = [*DEFAULT_SEGMENT_RULES, SegmentRule("Whales", recency=(5,), frequency=(5,))]

    with pytest.raises(ValueError, match=r"\(5, 5\) in 'Champions' and 'Whales'"):
        build_segment_map(rules)


def test_a_gap_is_refused_with_the_missing_cells():
    rules = [rule for rule in DEFAULT_SEGMENT_RULES if rule.name != "Champions"]

    with pytest.raises(ValueError, match=r"misses 2 cells: \(5, 4\), \(5, 5\)"):
        build_segment_map(rules)


def test_cells_outside_the_grid_and_blank_names_are_refused():
    full = dict(DEFAULT_SEGMENT_MAP)

    with pytest.raises(ValueError, match="outside"):
        validate_segment_map({**full, (6, 1): "Beyond"})
    with pytest.raises(ValueError, match="without a name"):
        validate_segment_map({**full, (3, 3): "  "})


def test_assign_segments_looks_up_each_cell():
    recency = [r for r in EVERY_SCORE for _ in EVERY_SCORE]
    frequency = [f for _ in EVERY_SCORE for f in EVERY_SCORE]

    names = assign_segments(recency, frequency, DEFAULT_SEGMENT_MAP)

    assert names.tolist() == [
        DEFAULT_SEGMENT_MAP[cell] for cell in zip(recency, frequency, strict=True)
    ]


def test_custom_map_is_used():
    custom = build_segment_map(
        [
            SegmentRule("Recent", recency=(4, 5), frequency=EVERY_SCORE),
            SegmentRule("Lapsed", recency=(1, 2, 3), frequency=EVERY_SCORE),
        ]
    )

    assert assign_segments([5, 3], [1, 5], custom).tolist() == ["Recent", "Lapsed"]


def test_scores_outside_one_to_five_are_refused():
    with pytest.raises(ValueError, match="1 to 5"):
        assign_segments([0], [3], DEFAULT_SEGMENT_MAP)
