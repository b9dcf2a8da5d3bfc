import gc
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from kehu.commerce.cells import parse_moment
from kehu.commerce.models import Order, OrderLine
from kehu.imports.models import ImportStatus
from kehu.imports.services import preview_import, start_import
from kehu.imports.tests.helpers import counts, import_file, write_csv
from tests.fixtures.records import make_customer

HEADER = [
    "订单号",
    "渠道",
    "门店",
    "会员号",
    "下单时间",
    "SKU",
    "商品名称",
    "数量",
    "单价",
    "优惠",
    "状态",
]
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def member(sales):
    return make_customer(owner=sales, name="王芳", member_number="M001", mobile="13800001111")


@pytest.fixture
def orders_file(tmp_path, member, channel, store, product):
    return write_csv(
        tmp_path,
        [
            HEADER,
            [
                "A1",
                "pos",
                "SH01",
                "M001",
                "2024-03-01 10:20:00",
                "MILK-1L",
                "",
                "2",
                "12.50",
                "1",
                "",
            ],
            ["A1", "pos", "SH01", "M001", "2024-03-01 10:20:00", "", "面包", "1", "8", "", ""],
            [
                "A2",
                "pos",
                "",
                "13800001111",
                "2024/3/2 9:05",
                "NOPE",
                "赠品",
                "1",
                "0",
                "",
                "已付款",
            ],
            ["A3", "pos", "", "M999", "2024-03-03", "", "面包", "1", "8", "", ""],
            ["A4", "pos", "", "M001", "2024-03-04", "", "面包", "1", "8", "", ""],
            ["A4", "pos", "", "M001", "2024-03-04", "", "面包", "zero", "8", "", ""],
        ],
    )


def test_orders_are_grouped_with_totals_the_sum_of_their_lines(sales, orders_file):
    job = import_file(sales, "orders", orders_file)
    assert job.status == ImportStatus.IMPORTED
    assert counts(job) == (3, 0, 0, 3)
    first = Order.objects.get(external_id="A1")
    assert first.total_amount == Decimal("32.00")
    assert first.discount_amount == Decimal("1.00")
    assert first.ordered_at == datetime(2024, 3, 1, 10, 20, tzinfo=SHANGHAI)
    assert first.store.code == "SH01"
    lines = list(first.lines.order_by("id").values_list("product__sku", "product_name", "amount"))
    assert lines == [("MILK-1L", "鲜牛奶 1L", Decimal("24.00")), (None, "面包", Decimal("8.00"))]
    second = Order.objects.get(external_id="A2")
    assert (second.status, second.lines.get().product_id) == ("paid", None)


def test_unknown_customer_and_a_bad_line_fail_their_whole_order(sales, orders_file):
    job = import_file(sales, "orders", orders_file)
    assert not Order.objects.filter(external_id__in=["A3", "A4"]).exists()
    errors = {(error["line"], error["column"]) for error in job.error_sample}
    assert errors == {(5, "会员号"), (6, "订单号"), (7, "数量")}


def test_reimporting_orders_is_idempotent(sales, orders_file):
    import_file(sales, "orders", orders_file)
    before = (Order.objects.count(), OrderLine.objects.count())
    again = import_file(sales, "orders", orders_file)
    assert counts(again) == (0, 0, 3, 3)
    assert (Order.objects.count(), OrderLine.objects.count()) == before


def test_all_or_nothing_writes_no_order(sales, orders_file):
    job = import_file(sales, "orders", orders_file, mode="all_or_nothing")
    assert job.status == ImportStatus.FAILED
    assert Order.objects.count() == 0
    assert OrderLine.objects.count() == 0


def test_preview_writes_nothing(sales, orders_file):
    job = start_import(sales, "orders", orders_file)
    preview = preview_import(sales, job.pk, job.mapping)
    assert preview.counts == {"created": 3, "updated": 0, "unchanged": 0, "failed": 3}
    assert Order.objects.count() == 0


def test_lines_of_one_order_far_apart_are_stored_in_one_order(
    sales, member, channel, tmp_path, monkeypatch
):
    monkeypatch.setattr("kehu.commerce.importing.OrderRowHandler.chunk_size", 2)
    rows = [["订单号", "会员号", "下单时间", "商品名称", "数量", "单价"]]
    rows += [["B1", "M001", "2024-03-01", "面包", "1", "8"]]
    rows += [[f"C{number}", "M001", "2024-03-01", "牛奶", "1", "5"] for number in range(5)]
    rows += [["B1", "M001", "2024-03-01", "蛋糕", "1", "30"]]
    path = write_csv(tmp_path, rows)
    job = import_file(sales, "orders", path, options={"default_channel": "pos"})
    assert counts(job) == (7, 0, 0, 0)
    order = Order.objects.get(external_id="B1")
    assert order.lines.count() == 2
    assert order.total_amount == Decimal("38.00")


def test_a_bad_line_far_from_its_order_still_fails_the_order(
    sales, member, channel, tmp_path, monkeypatch
):
    monkeypatch.setattr("kehu.commerce.importing.OrderRowHandler.chunk_size", 2)
    rows = [["订单号", "会员号", "下单时间", "商品名称", "数量", "单价"]]
    rows += [["B1", "M001", "2024-03-01", "面包", "1", "8"]]
    rows += [[f"C{number}", "M001", "2024-03-01", "牛奶", "1", "5"] for number in range(5)]
    rows += [["B1", "M001", "2024-03-01", "蛋糕", "-1", "30"]]
    path = write_csv(tmp_path, rows)
    job = import_file(sales, "orders", path, options={"default_channel": "pos"})
    assert counts(job) == (5, 0, 0, 2)
    assert not Order.objects.filter(external_id="B1").exists()


def test_salesperson_cannot_add_orders_for_a_colleagues_customer(
    sales, colleague_customer, channel, tmp_path
):
    path = write_csv(
        tmp_path,
        [["订单号", "手机", "下单时间", "商品名称", "数量", "单价"],
         ["X1", colleague_customer.mobile, "2024-03-01", "面包", "1", "8"]],
    )  # fmt: skip
    job = import_file(sales, "orders", path, options={"default_channel": "pos"})
    assert counts(job) == (0, 0, 0, 1)
    assert Order.objects.count() == 0


def test_unknown_channel_is_reported(sales, member, tmp_path):
    path = write_csv(
        tmp_path,
        [["订单号", "渠道", "会员号", "下单时间", "商品名称", "数量", "单价"],
         ["X1", "nope", "M001", "2024-03-01", "面包", "1", "8"]],
    )  # fmt: skip
    job = import_file(sales, "orders", path)
    assert job.error_sample[0]["column"] == "渠道"
    assert Order.objects.count() == 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-03-01 10:20:00", datetime(2024, 3, 1, 10, 20, tzinfo=SHANGHAI)),
        ("2024/3/1 10:20", datetime(2024, 3, 1, 10, 20, tzinfo=SHANGHAI)),
        ("2024年3月1日", datetime(2024, 3, 1, tzinfo=SHANGHAI)),
        ("2024-03-01T02:20:00+00:00", datetime(2024, 3, 1, 10, 20, tzinfo=SHANGHAI)),
        ("2024-02-30", None),
        ("yesterday", None),
    ],
)
def test_parse_moment(text, expected):
    assert parse_moment(text) == expected


def test_the_garbage_collector_is_on_again_after_an_import(sales, orders_file):
    assert gc.isenabled()
    import_file(sales, "orders", orders_file)
    assert gc.isenabled()
