"""The contacts and order lines read the same through ADBC (the nightly route) and Django's
cursor (inside a transaction, as in tests)."""

import datetime
import sqlite3
from decimal import Decimal

from django.db import connection

from kehu.commerce.models import Category, OrderLine, Product
from kehu.predictions.read import (
    CONTACT_COLUMNS,
    contacts_query,
    purchases_until,
    read_contacts,
)
from kehu.predictions.recommend import (
    LINE_COLUMNS,
    order_lines_query,
    purchase_lines,
    read_order_lines,
)
from kehu.segments import refresh_orders
from kehu.segments.tests.refresh_data import TODAY, add_contact, build_shop, local


def dialect() -> str:
    return "sqlite" if connection.vendor == "sqlite" else "postgres"


def adbc_location(tmp_path) -> str:
    """A file copy of the test run's in-memory SQLite database, or the PostgreSQL test database."""
    if connection.vendor != "sqlite":
        return refresh_orders.adbc_location()
    copy = tmp_path / "copy.sqlite3"
    connection.ensure_connection()
    with sqlite3.connect(copy) as target:
        connection.connection.backup(target)
    return str(copy)


def test_contacts_read_the_same_both_ways_as_local_dates(transactional_db, channel, tmp_path):
    shop = build_shop(channel)
    add_contact(shop.alice, local(2026, 6, 14, 23, 30))  # 15:30 UTC, still the 14th locally
    add_contact(shop.alice, local(2026, 6, 15, 0, 30))  # 16:30 UTC on the 14th, the 15th locally

    through_adbc = refresh_orders.fetch_arrow_through_adbc(
        contacts_query(dialect()), adbc_location(tmp_path), columns=CONTACT_COLUMNS
    )
    if connection.vendor == "sqlite":
        through_adbc = refresh_orders.with_local_dates(through_adbc, "date")
    through_cursor = read_contacts()

    assert through_adbc.num_rows == 5
    assert sorted(through_adbc.to_pylist(), key=str) == sorted(through_cursor.to_pylist(), key=str)
    alice = [
        row["date"] for row in through_cursor.to_pylist() if row["customer_id"] == shop.alice.pk
    ]
    assert sorted(alice) == [datetime.date(2026, 6, 14), datetime.date(2026, 6, 15)]


def test_order_lines_read_the_same_both_ways(transactional_db, channel, tmp_path):
    shop = build_shop(channel)
    tea = Product.objects.create(sku="TEA", name="茶", category=Category.objects.create(name="饮"))
    loose = Product.objects.create(sku="LOOSE", name="散装")  # no category
    for order in shop.alice.orders.all():  # two purchases and a cancelled order
        for product in (tea, loose, None):
            OrderLine.objects.create(
                order=order, product=product, product_name="x", quantity=1,
                unit_price=Decimal(1), amount=Decimal(1),
            )  # fmt: skip

    query = order_lines_query(dialect())
    through_adbc = refresh_orders.fetch_arrow_through_adbc(
        query, adbc_location(tmp_path), columns=LINE_COLUMNS
    )
    through_cursor = read_order_lines()

    def ordered(table):
        return sorted(table.to_pylist(), key=lambda row: (row["order_id"], row["product_id"]))

    assert ordered(through_adbc) == ordered(through_cursor)
    assert len(through_cursor) == 6  # lines without a product are left out


def test_purchase_lines_keep_counted_orders_with_their_customer_and_category(db, channel):
    shop = build_shop(channel)
    tea = Product.objects.create(sku="TEA", name="茶", category=Category.objects.create(name="饮"))
    loose = Product.objects.create(sku="LOOSE", name="散装")  # no category
    for order in shop.alice.orders.all():  # two purchases and a cancelled order
        for product in (tea, loose, None):
            OrderLine.objects.create(
                order=order, product=product, product_name="x", quantity=1,
                unit_price=Decimal(1), amount=Decimal(1),
            )  # fmt: skip

    lines = purchase_lines(purchases_until(TODAY))

    counted = set(shop.alice.orders.exclude(status="cancelled").values_list("pk", flat=True))
    assert sorted(lines.to_pylist(), key=lambda row: (row["order_id"], row["product_id"])) == [
        {
            "customer_id": shop.alice.pk,
            "order_id": order_id,
            "product_id": product.pk,
            "category_id": product.category_id or -1,
        }
        for order_id in sorted(counted)
        for product in sorted((tea, loose), key=lambda item: item.pk)
    ]
