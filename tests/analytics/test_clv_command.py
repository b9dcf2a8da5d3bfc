"""`kehu clv fit|predict` on CDNOW gives the published parameters; bad input gives clear errors."""

import io
import json

import pyarrow.csv
import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from tests.analytics.test_clv import data_file

PUBLISHED = {
    "bgnbd": {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426},
    "paretonbd": {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669},
    "gammagamma": {"p": 6.25, "q": 3.74, "gamma": 15.44},
}
PUBLISHED_LOG_LIKELIHOOD = {"bgnbd": -9582.4, "paretonbd": -9595.0}


def cdnow_arguments(*extra):
    return [
        "--transactions",
        str(data_file("cdnow_transactions.csv")),
        "--customer-column",
        "id",
        "--date-column",
        "date",
        "--date-format",
        "%Y%m%d",
        "--amount-column",
        "spent",
        "--calibration-end",
        "1997-09-30",
        "--period",
        "week",
        *extra,
    ]


def run(*arguments, language="en"):
    """The command's output; English unless asked (kehu's default language is zh-hans)."""
    stdout, stderr = io.StringIO(), io.StringIO()
    with translation.override(language):
        call_command("clv", *arguments, stdout=stdout, stderr=stderr)
    return stdout.getvalue(), stderr.getvalue()


@pytest.mark.parametrize("model", ["bgnbd", "paretonbd", "gammagamma"])
def test_fit_on_cdnow_prints_the_published_parameters(model):
    stdout, _ = run("fit", *cdnow_arguments("--model", model, "--json"))

    result = json.loads(stdout)
    assert result["model"] == model
    assert set(result["params"]) == set(PUBLISHED[model])
    for name, value in PUBLISHED[model].items():
        assert result["params"][name] == pytest.approx(value, rel=0.005)
    if model in PUBLISHED_LOG_LIKELIHOOD:
        assert result["log_likelihood"] == pytest.approx(PUBLISHED_LOG_LIKELIHOOD[model], rel=0.005)
    assert result["n_customers"] == (946 if model == "gammagamma" else 2357)


def test_fit_without_json_prints_a_readable_summary():
    stdout, _ = run("fit", *cdnow_arguments("--model", "bgnbd"))

    assert stdout.startswith("bgnbd fitted on 2357 customers, log-likelihood -9582.4")
    assert "  r = 0.2425" in stdout


def test_the_summary_in_chinese():
    stdout, _ = run("fit", *cdnow_arguments("--model", "bgnbd"), language="zh-hans")

    assert stdout.startswith("bgnbd 已在 2357 位客户上拟合，对数似然 -9582.4")


def test_predict_writes_one_row_per_customer(tmp_path):
    output = tmp_path / "predictions.csv"

    _, stderr = run("predict", *cdnow_arguments("--output", str(output)))

    table = pyarrow.csv.read_csv(output)
    assert table.num_rows == 2357
    assert table.column_names == [
        "customer_id",
        "frequency",
        "recency",
        "T",
        "monetary_value",
        "probability_alive",
        "expected_purchases",
        "expected_average_value",
        "clv",
    ]
    first = table.slice(0, 1).to_pylist()[0]
    assert first["customer_id"] == 1 and first["frequency"] == 2
    assert 0 < first["probability_alive"] < 1
    assert first["clv"] > 0
    assert "Wrote predictions for 2357 customers" in stderr
    for column in ("probability_alive", "expected_purchases", "clv"):
        assert table[column].null_count == 0


def test_gammagamma_needs_an_amount_column(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text("id,date\n1,2024-01-01\n1,2024-01-05\n")

    with pytest.raises(CommandError, match="needs --amount-column"):
        run(
            "fit",
            "--transactions",
            str(path),
            "--customer-column",
            "id",
            "--date-column",
            "date",
            "--calibration-end",
            "2024-02-01",
            "--model",
            "gammagamma",
        )


def test_degenerate_file_gives_a_clear_message(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text("id,date\n1,2024-01-01\n2,2024-01-03\n3,2024-01-09\n")

    with pytest.raises(CommandError, match="No customer made a repeat purchase"):
        run(
            "fit",
            "--transactions",
            str(path),
            "--customer-column",
            "id",
            "--date-column",
            "date",
            "--calibration-end",
            "2024-02-01",
            "--model",
            "bgnbd",
        )


def test_bad_column_and_date_are_reported(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text("id,date\n1,2024-01-01\n")
    arguments = ["--transactions", str(path), "--customer-column", "id", "--model", "bgnbd"]

    with pytest.raises(CommandError, match="Column 'day' is not in the file"):
        run("fit", *arguments, "--date-column", "day", "--calibration-end", "2024-02-01")
    with pytest.raises(CommandError, match="--calibration-end must be a date"):
        run("fit", *arguments, "--date-column", "date", "--calibration-end", "soon")
