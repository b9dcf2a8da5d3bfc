"""`kehu rfm` on small CSV and Parquet files: output rows, options, messages and errors."""

import csv
import io
import subprocess
import sys
from pathlib import Path

import pyarrow.csv
import pyarrow.parquet
import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

CSV_TEXT = """member,invoice,day,qty,price,total
 00123 ,A1,2024-01-01,2,2.5,5
00123,A2,2024-01-20 18:45:00,1,10,10
7,B1,2024-01-15 10:30:00,1,4,4
,X1,2024-01-25,1,1,1
   ,X2,2024-01-26,1,1,1
7,C9,2024-01-30,-1,4,-4
"""
HEADER = [
    "customer_id",
    "first_purchase",
    "last_purchase",
    "recency_days",
    "frequency",
    "monetary",
    "r_score",
    "f_score",
    "m_score",
    "segment",
]
# As of 2024-01-21, the day after the latest kept purchase (C9 is excluded, X1/X2 have no member).
EXPECTED_ROWS = [
    ["00123", "2024-01-01", "2024-01-20", "1", "2", "15", "4", "4", "4", "Loyal Customers"],
    ["7", "2024-01-15", "2024-01-15", "6", "1", "4", "2", "2", "2", "Hibernating"],
]
COLUMNS = ["--customer-column", "member", "--order-column", "invoice", "--date-column", "day"]


@pytest.fixture
def transactions(tmp_path) -> Path:
    path = tmp_path / "sales.csv"
    path.write_text(CSV_TEXT)
    return path


def run_rfm(*arguments: str) -> tuple[list[list[str]], str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    with translation.override("en"):
        call_command("rfm", *arguments, stdout=stdout, stderr=stderr)
    return list(csv.reader(io.StringIO(stdout.getvalue()))), stderr.getvalue()


def test_writes_one_scored_row_per_customer_and_counts_what_was_left_out(transactions):
    rows, messages = run_rfm(
        "--transactions", str(transactions), *COLUMNS, "--amount-column", "total",
        "--exclude-orders-starting-with", "C",
    )  # fmt: skip

    assert rows == [HEADER, *EXPECTED_ROWS]
    assert "Skipped 2 rows without a customer id." in messages
    assert "Left out 1 rows of excluded orders." in messages


def test_quantity_times_price_gives_the_same_amounts(transactions):
    rows, _ = run_rfm(
        "--transactions", str(transactions), *COLUMNS,
        "--quantity-column", "qty", "--price-column", "price",
        "--exclude-orders-starting-with", "C",
    )  # fmt: skip

    assert rows == [HEADER, *EXPECTED_ROWS]


def test_without_exclusion_the_cancellation_counts_and_moves_the_as_of_date(transactions):
    rows, messages = run_rfm(
        "--transactions", str(transactions), *COLUMNS, "--amount-column", "total"
    )

    # Both customers now have two orders: a tie, so both score 3 on frequency.
    assert rows[2] == ["7", "2024-01-15", "2024-01-30", "1", "2", "0", "4", "3", "2",
                       "Potential Loyalists"]  # fmt: skip
    assert "excluded" not in messages


def test_as_of_date_is_used(transactions):
    rows, _ = run_rfm(
        "--transactions", str(transactions), *COLUMNS, "--amount-column", "total",
        "--exclude-orders-starting-with", "C", "--as-of", "2024-03-01",
    )  # fmt: skip

    assert [row[3] for row in rows[1:]] == ["41", "46"]


def test_parquet_and_csv_output_files(transactions, tmp_path):
    common = ["--transactions", str(transactions), *COLUMNS, "--amount-column", "total",
              "--exclude-orders-starting-with", "C"]  # fmt: skip

    _, messages = run_rfm(*common, "--output", str(tmp_path / "rfm.parquet"))
    run_rfm(*common, "--output", str(tmp_path / "rfm.csv"))

    from_parquet = pyarrow.parquet.read_table(tmp_path / "rfm.parquet")
    from_csv = list(csv.reader((tmp_path / "rfm.csv").open()))
    assert from_parquet.column_names == HEADER
    assert from_parquet["customer_id"].to_pylist() == ["00123", "7"]
    assert from_parquet["monetary"].to_pylist() == [15.0, 4.0]
    assert from_csv == [HEADER, *EXPECTED_ROWS]
    assert "Wrote 2 customers (as of 2024-01-21)" in messages


def test_parquet_input_with_float_ids_and_a_date_format(tmp_path):
    table = pyarrow.table(
        {
            "CustomerID": [12346.0, 12346.0, None],
            "InvoiceNo": ["1", "2", "3"],
            "When": ["31/12/2023 23:00", "02/01/2024 08:00", "03/01/2024 08:00"],
            "Amount": [1.5, 2.5, 9.0],
        }
    )
    path = tmp_path / "sales.parquet"
    pyarrow.parquet.write_table(table, path)

    rows, messages = run_rfm(
        "--transactions", str(path), "--customer-column", "CustomerID",
        "--order-column", "InvoiceNo", "--date-column", "When", "--amount-column", "Amount",
        "--date-format", "%d/%m/%Y %H:%M",
    )  # fmt: skip

    assert rows[1][:6] == ["12346", "2023-12-31", "2024-01-02", "1", "2", "4"]
    assert "Skipped 1 rows without a customer id." in messages


def rfm_error(*arguments: str) -> str:
    with pytest.raises(CommandError) as caught, translation.override("en"):
        call_command("rfm", *arguments, stdout=io.StringIO(), stderr=io.StringIO())
    return str(caught.value)


def test_missing_file_is_a_clear_error(tmp_path):
    message = rfm_error("--transactions", str(tmp_path / "none.csv"), *COLUMNS,
                        "--amount-column", "total")  # fmt: skip

    assert message == f"Transactions file not found: {tmp_path / 'none.csv'}"


def test_missing_column_names_the_available_columns(transactions, tmp_path):
    output = tmp_path / "out.csv"

    message = rfm_error("--transactions", str(transactions), *COLUMNS, "--amount-column",
                        "amount", "--output", str(output))  # fmt: skip

    assert message == (
        f"Column 'amount' is not in {transactions}. "
        "Available columns: member, invoice, day, qty, price, total."
    )
    assert not output.exists()


def test_unparseable_date_names_the_value(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("member,invoice,day,total\n1,A,2024-01-01,3\n2,B,yesterday,4\n")

    message = rfm_error("--transactions", str(path), *COLUMNS, "--amount-column", "total")

    assert message == (
        "Could not read 'yesterday' in column 'day' as a date. "
        "Use --date-format for dates that are not YYYY-MM-DD."
    )


def test_date_not_matching_the_format_and_a_bad_amount_are_named(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("member,invoice,day,total\n1,A,01/02/2024,3\n2,B,2024-02-03,4\n")
    worse = tmp_path / "worse.csv"
    worse.write_text("member,invoice,day,total\n1,A,2024-02-01,3\n2,B,2024-02-03,¥4\n")

    bad_date = rfm_error("--transactions", str(path), *COLUMNS, "--amount-column", "total",
                         "--date-format", "%d/%m/%Y")  # fmt: skip
    bad_amount = rfm_error("--transactions", str(worse), *COLUMNS, "--amount-column", "total")

    assert bad_date.startswith("Could not read '2024-02-03' in column 'day' as a date.")
    assert bad_amount == "Could not read '¥4' in column 'total' as a number."


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--amount-column", "total", "--quantity-column", "qty", "--price-column", "price"],
         "Give either --amount-column or both --quantity-column and --price-column."),
        (["--quantity-column", "qty"],
         "Give either --amount-column or both --quantity-column and --price-column."),
        (["--amount-column", "total", "--as-of", "31/01/2024"],
         "--as-of must be a date like 2024-03-31, not '31/01/2024'."),
        (["--amount-column", "total", "--output", "out.xlsx"],
         "The output file must end in .csv or .parquet: out.xlsx"),
    ],
)  # fmt: skip
def test_bad_options_are_clear_errors(transactions, extra, expected):
    assert rfm_error("--transactions", str(transactions), *COLUMNS, *extra) == expected


def test_messages_are_translated_to_chinese(transactions):
    stderr = io.StringIO()
    with translation.override("zh-hans"):
        call_command(
            "rfm", "--transactions", str(transactions), *COLUMNS, "--amount-column", "total",
            stdout=io.StringIO(), stderr=stderr,
        )  # fmt: skip

    assert "跳过了 2 行没有客户编号的记录。" in stderr.getvalue()


def test_the_kehu_console_command_runs_rfm(transactions):
    kehu = Path(sys.executable).parent / "kehu"

    completed = subprocess.run(
        [str(kehu), "rfm", "--transactions", str(transactions), *COLUMNS,
         "--amount-column", "total", "--exclude-orders-starting-with", "C"],
        capture_output=True, text=True, check=False, timeout=120,
        env={"PATH": "/usr/bin:/bin"},
    )  # fmt: skip

    assert completed.returncode == 0, completed.stderr
    assert list(csv.reader(io.StringIO(completed.stdout))) == [HEADER, *EXPECTED_ROWS]
    assert "跳过了 2 行没有客户编号的记录。" in completed.stderr  # zh-hans is the default
