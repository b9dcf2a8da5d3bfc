"""The per-customer summary: exact values on a hand-made table, and the same rows on every route."""

import datetime
import os
import sqlite3
import uuid

import pyarrow as pa
import pyarrow.csv
import pyarrow.parquet
import pytest

from kehu.analytics import (
    SUMMARY_COLUMNS,
    MissingColumnError,
    TransactionDataError,
    summary_from_arrow,
    summary_from_file,
    summary_from_postgres,
    summary_from_sqlite,
)
from tests.analytics.sample import (
    AS_OF,
    COLUMN_OPTIONS,
    COLUMNS,
    EXPECTED,
    EXPECTED_PREVIOUS_PURCHASE,
    ROWS,
    arrow_table,
)


def test_summary_matches_the_hand_computed_values():
    summary = summary_from_arrow(arrow_table(), as_of=AS_OF, **COLUMN_OPTIONS)

    assert summary.column_names == list(SUMMARY_COLUMNS)
    assert summary.to_pylist() == EXPECTED


def test_summary_types_are_dates_integers_and_floats():
    summary = summary_from_arrow(arrow_table(), as_of=AS_OF, **COLUMN_OPTIONS)

    schema = summary.schema
    assert schema.field("first_purchase").type == pa.date32()
    assert schema.field("last_purchase").type == pa.date32()
    for name in ("recency_days", "frequency", "tenure_days"):
        assert schema.field(name).type == pa.int64()
    for name in ("monetary", "average_order_value"):
        assert schema.field(name).type == pa.float64()


def test_previous_purchase_is_the_latest_day_before_the_last_one():
    summary = summary_from_arrow(
        arrow_table(), as_of=AS_OF, include_previous_purchase=True, **COLUMN_OPTIONS
    )

    assert summary["previous_purchase"].to_pylist() == EXPECTED_PREVIOUS_PURCHASE
    assert summary.drop_columns(["previous_purchase"]).to_pylist() == EXPECTED


def test_purchase_on_the_as_of_date_has_recency_zero_and_later_ones_are_ignored():
    summary = summary_from_arrow(arrow_table(), as_of=datetime.date(2024, 3, 1), **COLUMN_OPTIONS)

    rows = {row["customer_id"]: row for row in summary.to_pylist()}
    assert rows[2]["recency_days"] == 0
    assert rows[2]["frequency"] == 1
    assert rows[3]["frequency"] == 2  # the order of 2024-03-30 is after the as-of date
    assert rows[3]["monetary"] == 16.0


def test_default_as_of_is_the_day_after_the_latest_purchase_with_a_customer():
    summary = summary_from_arrow(arrow_table(), **COLUMN_OPTIONS)

    rows = {row["customer_id"]: row for row in summary.to_pylist()}
    assert rows[2]["last_purchase"] == datetime.date(2024, 4, 2)
    assert rows[2]["recency_days"] == 1
    assert rows[2]["frequency"] == 2


def test_missing_column_names_the_available_columns():
    with pytest.raises(MissingColumnError) as caught:
        summary_from_arrow(arrow_table(), **{**COLUMN_OPTIONS, "amount_column": "price"})

    assert caught.value.column == "price"
    assert caught.value.available == list(COLUMNS)


def test_missing_file_and_unsupported_type_are_clear_errors(tmp_path):
    with pytest.raises(TransactionDataError, match="File not found"):
        summary_from_file(tmp_path / "absent.parquet", **COLUMN_OPTIONS)
    with pytest.raises(TransactionDataError, match="Unsupported file type"):
        summary_from_file(tmp_path / "orders.xlsx", **COLUMN_OPTIONS)


def test_parquet_file_gives_the_same_rows(tmp_path):
    path = tmp_path / "orders.parquet"
    pyarrow.parquet.write_table(arrow_table(), path)

    assert summary_from_file(path, as_of=AS_OF, **COLUMN_OPTIONS).to_pylist() == EXPECTED


def test_csv_file_gives_the_same_rows(tmp_path):
    path = tmp_path / "orders.csv"
    pyarrow.csv.write_csv(arrow_table(), path)

    assert summary_from_file(path, as_of=AS_OF, **COLUMN_OPTIONS).to_pylist() == EXPECTED


def test_pandas_frame_with_text_dates_gives_the_same_rows():
    pandas = pytest.importorskip("pandas")
    frame = pandas.DataFrame(ROWS, columns=list(COLUMNS)).astype({"customer": "Int64"})

    assert summary_from_arrow(frame, as_of=AS_OF, **COLUMN_OPTIONS).to_pylist() == EXPECTED


def test_sqlite_through_adbc_gives_the_same_rows(tmp_path):
    path = tmp_path / "shop.sqlite3"
    with sqlite3.connect(path) as connection:
        # Django's layout: text datetimes, a decimal column holding integers and reals.
        connection.execute(
            'CREATE TABLE "shop orders" (customer integer, invoice integer, paid_at text, '
            "total decimal)"
        )
        connection.executemany('INSERT INTO "shop orders" VALUES (?, ?, ?, ?)', ROWS)

    summary = summary_from_sqlite(path, "shop orders", as_of=AS_OF, **COLUMN_OPTIONS)

    assert summary.to_pylist() == EXPECTED


@pytest.fixture
def postgres_orders():
    """A uniquely named orders table in the PostgreSQL of DATABASE_URL, dropped afterwards."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        pytest.skip("DATABASE_URL is not a PostgreSQL URL (run under scripts/with-postgres.sh)")
    import psycopg
    from psycopg import sql

    table = f"kehu_rfm_test_{uuid.uuid4().hex}"
    name = sql.Identifier(table)
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(
            sql.SQL(
                "CREATE TABLE {} (customer bigint, invoice bigint, paid_at timestamptz, "
                "total numeric(12, 2))"
            ).format(name)
        )
        with connection.cursor() as cursor:
            cursor.executemany(
                sql.SQL("INSERT INTO {} VALUES (%s, %s, %s, %s)").format(name),
                [(c, o, f"{when}+00", amount) for c, o, when, amount in ROWS],
            )
        try:
            yield url, table
        finally:
            connection.execute(sql.SQL("DROP TABLE {}").format(name))


@pytest.mark.parametrize("route", ["pushdown", "arrow"])
def test_postgres_gives_the_same_rows_on_both_routes(postgres_orders, route):
    url, table = postgres_orders

    summary = summary_from_postgres(url, table, route=route, as_of=AS_OF, **COLUMN_OPTIONS)

    assert summary.to_pylist() == EXPECTED


def test_postgres_route_must_be_known(postgres_orders):
    url, table = postgres_orders

    with pytest.raises(ValueError, match="route"):
        summary_from_postgres(url, table, route="spark", **COLUMN_OPTIONS)
