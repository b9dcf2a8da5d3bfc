"""Every route that reads or summarises the orders gives the same rows."""

import sqlite3

import pytest
from django.db import connection

from kehu.segments import refresh_orders
from kehu.segments.tests.refresh_data import TODAY, build_shop


def orders_query() -> str:
    if connection.vendor == "sqlite":
        return refresh_orders.sqlite_orders_query()
    return refresh_orders.postgres_orders_query()


def adbc_location(tmp_path) -> str:
    """A file copy of the test run's in-memory SQLite database, or the PostgreSQL test database."""
    if connection.vendor != "sqlite":
        return refresh_orders.adbc_location()
    copy = tmp_path / "copy.sqlite3"
    connection.ensure_connection()
    with sqlite3.connect(copy) as target:
        connection.connection.backup(target)
    return str(copy)


def test_adbc_and_django_cursor_read_the_same_orders(transactional_db, channel, tmp_path):
    build_shop(channel)

    through_adbc = refresh_orders.fetch_arrow_through_adbc(orders_query(), adbc_location(tmp_path))
    through_cursor = refresh_orders.fetch_arrow_through_cursor(orders_query())

    if connection.vendor == "sqlite":
        through_adbc = refresh_orders.with_local_dates(through_adbc)
        through_cursor = refresh_orders.with_local_dates(through_cursor)
    assert through_adbc.num_rows == 7  # 9 orders: one cancelled, one fully refunded
    assert through_adbc.sort_by("order_id").to_pylist() == (
        through_cursor.sort_by("order_id").to_pylist()
    )


def test_adbc_is_used_only_outside_a_transaction(transactional_db):
    assert refresh_orders.can_use_adbc() is (connection.vendor != "sqlite")


def test_inside_a_transaction_the_cursor_route_is_used(db):
    assert refresh_orders.can_use_adbc() is False
    assert "cursor" in refresh_orders.summarise_orders(TODAY, route="arrow").route


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_postgres_pushdown_and_arrow_give_the_same_summary(db, channel):
    build_shop(channel)

    pushed_down = refresh_orders.summarise_orders(TODAY, route="pushdown")
    arrow = refresh_orders.summarise_orders(TODAY, route="arrow")

    assert pushed_down.route == "PostgreSQL pushdown"
    assert pushed_down.summary.num_rows == 5
    assert pushed_down.summary.to_pylist() == arrow.summary.to_pylist()
    assert sorted(pushed_down.discounted.to_pylist(), key=str) == sorted(
        arrow.discounted.to_pylist(), key=str
    )


def test_sqlite_rows_are_read_by_a_process_of_its_own(tmp_path):
    database = tmp_path / "shop.sqlite3"
    own = sqlite3.connect(database)
    own.execute("PRAGMA journal_mode=WAL")
    own.execute("CREATE TABLE orders (customer INTEGER, id INTEGER, day TEXT, amount REAL)")
    own.executemany("INSERT INTO orders VALUES (?, ?, ?, ?)", [(1, 10, "2026-06-01", 9.5)] * 3)
    own.commit()
    query = "SELECT customer, id, day, amount, 0 FROM orders"

    table = refresh_orders.fetch_sqlite_arrow_in_own_process(query, str(database))

    assert table.column_names == list(refresh_orders.ORDER_COLUMNS)
    assert table.num_rows == 3
    # This process's own connection is untouched: its write-ahead log is still there and usable.
    assert (tmp_path / "shop.sqlite3-wal").exists()
    own.execute("INSERT INTO orders VALUES (2, 11, '2026-06-02', 1.0)")
    own.commit()
    assert own.execute("SELECT count(*) FROM orders").fetchone() == (4,)
    own.close()
