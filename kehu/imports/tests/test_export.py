import csv
import io
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from kehu.commerce.models import Order, OrderLine
from tests.fixtures.records import make_customer


def exported_csv(response) -> list[list[str]]:
    content = b"".join(response.streaming_content)
    assert content.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def exported_xlsx(response) -> list[list]:
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    return [list(row) for row in workbook.active.iter_rows(values_only=True)]


@pytest.fixture
def customers(sales, other_sales):
    return [
        make_customer(owner=sales, name="王芳", mobile="13800001111", city="杭州"),
        make_customer(owner=other_sales, name="李娜", mobile="13900002222", city="杭州"),
        make_customer(owner=None, name="刘洋", mobile="13700003333", city="上海"),
    ]


def test_marketing_export_is_masked(client, marketer, customers):
    client.force_login(marketer)
    rows = exported_csv(client.get(reverse("imports:export_customers") + "?format=csv"))
    assert rows[0][1:2] == ["Name"]
    mobiles = {row[1]: row[4] for row in rows[1:]}
    assert mobiles == {"王芳": "138****1111", "李娜": "139****2222", "刘洋": "137****3333"}


def test_admin_export_follows_the_list_filters(client, admin_user, customers):
    client.force_login(admin_user)
    rows = exported_csv(client.get(reverse("imports:export_customers") + "?city=杭州&sort=name"))
    assert sorted(row[1] for row in rows[1:]) == ["李娜", "王芳"]
    assert {row[4] for row in rows[1:]} == {"13800001111", "13900002222"}


def test_sales_export_only_what_they_see(client, sales, customers):
    client.force_login(sales)
    rows = exported_csv(client.get(reverse("imports:export_customers") + "?format=csv"))
    by_name = {row[1]: row[4] for row in rows[1:]}
    assert by_name == {"王芳": "13800001111", "刘洋": "137****3333"}


def test_service_may_not_export(client, service_agent, customers):
    client.force_login(service_agent)
    assert client.get(reverse("imports:export_customers")).status_code == 403
    assert client.get(reverse("imports:export_orders")).status_code == 403


def test_analyst_xlsx_export_reads_back_masked(client, analyst, customers):
    client.force_login(analyst)
    response = client.get(reverse("imports:export_customers") + "?format=xlsx&q=王芳")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = exported_xlsx(response)
    assert rows[1][1] == "王芳"
    assert rows[1][4] == "138****1111"
    assert len(rows) == 2


def test_order_export_is_one_row_per_line_in_the_import_layout(
    client, sales, other_sales, channel, product
):
    mine = make_customer(owner=sales, name="王芳", member_number="M001")
    theirs = make_customer(owner=other_sales, name="李娜")
    moment = datetime(2024, 3, 1, 10, 20, tzinfo=ZoneInfo("Asia/Shanghai"))
    for customer, external_id in ((mine, "A1"), (theirs, "B1")):
        order = Order.objects.create(
            customer=customer, channel=channel, external_id=external_id, ordered_at=moment
        )
        OrderLine.objects.create(
            order=order,
            product=product,
            product_name="鲜牛奶 1L",
            quantity=Decimal(2),
            unit_price=Decimal("12.50"),
            amount=Decimal("25.00"),
        )
    client.force_login(sales)
    rows = exported_csv(client.get(reverse("imports:export_orders") + "?format=csv"))
    assert len(rows) == 2
    assert rows[1][:4] == ["A1", "pos", "", "M001"]
    assert rows[1][6:10] == ["2024-03-01 10:20:00", "MILK-1L", "鲜牛奶 1L", "2.000"]
    rows = exported_xlsx(client.get(reverse("imports:export_orders") + "?format=xlsx"))
    assert rows[1][0] == "A1"


def test_export_with_hostile_names_neutralises_formulas(client, admin_user):
    make_customer(owner=None, name="=cmd|' /C calc'!A0")
    client.force_login(admin_user)
    rows = exported_csv(client.get(reverse("imports:export_customers")))
    assert rows[1][1] == "'=cmd|' /C calc'!A0"
