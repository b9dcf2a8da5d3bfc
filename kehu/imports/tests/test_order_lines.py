"""Reading one order line: the fast path and the full checks must agree on every row."""

from decimal import Decimal
from itertools import combinations

import pytest

from kehu.commerce.importing import OrderRowHandler
from kehu.core.rows import SourceRow

GOOD = {
    "order_id": "A1", "channel": "pos", "store": "SH01", "customer": "M001",
    "ordered_at": "2024-03-01 10:20:00", "sku": "MILK-1L", "product_name": "鲜牛奶",
    "quantity": "2", "unit_price": "¥1,012.50", "discount": "1", "status": "已付款",
}  # fmt: skip
CELLS = {
    "order_id": ["A1", "", "x" * 64, "x" * 65],
    "channel": ["pos", "", "nope"],
    "store": ["SH01", "", "NOPE"],
    "customer": ["M001", "", "1" * 65],
    "ordered_at": ["2024-03-01 10:20:00", "2024/3/1", "2024-02-30", "", "yesterday"],
    "sku": ["", "MILK-1L", "s" * 65],
    "product_name": ["面包", "", "n" * 201],
    "quantity": ["1", "0.5", "0", "-1", "", "¥", "abc", "NaN", "1e12", "1e400"],
    "unit_price": ["8", "0", "-0.01", "", "12,50", "inf"],
    "discount": ["", "1", "-1", "100", "元", "x"],
    "status": ["", "paid", "已取消", "Paid", "nope"],
}


@pytest.fixture
def handler(admin_user, channel, store):
    return OrderRowHandler(admin_user, {}, write=False)


def source_row(**values):
    return SourceRow(2, values, {name: name for name in values})


def test_a_good_row_takes_the_fast_path(handler):
    line = handler.read_line(source_row(**GOOD))
    assert line is not None
    assert (line.quantity, line.unit_price, line.discount) == (
        Decimal("2.000"), Decimal("1012.50"), Decimal("1.00"),
    )  # fmt: skip
    assert (line.amount, line.status, line.key) == (Decimal("2024.00"), "paid", (line.key[0], "A1"))


@pytest.mark.parametrize(
    ("name", "text", "column"),
    [
        ("quantity", "0", "quantity"),
        ("quantity", "¥", "quantity"),
        ("discount", "100000", "discount"),
        ("discount", "元", None),
        ("status", "nope", "status"),
        ("store", "NOPE", "store"),
        ("ordered_at", "2024-02-30", "ordered_at"),
    ],
)
def test_each_bad_cell_is_named_by_the_full_checks(handler, name, text, column):
    row = source_row(**{**GOOD, name: text})
    if column is None:  # a blank discount is no discount
        assert handler.read_line(row) is not None
        return
    assert handler.read_line(row) is None
    assert [error.column for error in handler.errors_of(row)] == [column]


def variations():
    """GOOD with every one and every two of its cells changed to each text of CELLS."""
    changes = [(name, text) for name, texts in CELLS.items() for text in texts]
    yield from ({**GOOD, name: text} for name, text in changes)
    for (first, first_text), (second, second_text) in combinations(changes, 2):
        if first != second:
            yield {**GOOD, first: first_text, second: second_text}


def test_the_fast_path_fails_exactly_the_rows_the_full_checks_reject(handler):
    disagreements = []
    for values in variations():
        row = source_row(**values)
        line = handler.read_line(row)
        if (line is None) != bool(handler.cell_errors(row)):
            disagreements.append(values)
        elif line is not None:
            assert line.quantity > 0 and line.unit_price >= 0 and line.amount >= 0
    assert disagreements == []
