import csv
import json

import pytest
from django.core.management import CommandError, call_command

from kehu.customers.models import Customer
from kehu.imports.models import ImportJob
from kehu.imports.tests.helpers import write_csv


@pytest.fixture
def customers_file(tmp_path):
    return write_csv(
        tmp_path, [["姓名", "手机号"], ["赵敏", "13800001111"], ["钱多多", "12345"]], "客户.csv"
    )


def test_import_all_or_nothing_by_default_refuses_a_file_with_a_bad_row(
    admin_user, customers_file, capsys
):
    with pytest.raises(CommandError, match="Nothing was imported"):
        call_command("kehu_import", "customers", str(customers_file))
    assert "line 3 [手机号] '12345'" in capsys.readouterr().out
    assert Customer.objects.count() == 0


def test_import_valid_rows_as_a_user_with_an_error_file(sales, customers_file, tmp_path, capsys):
    errors = tmp_path / "errors.csv"
    call_command(
        "kehu_import", "customers", str(customers_file),
        "--mode", "valid-rows", "--as", sales.username, "--errors", str(errors),
    )  # fmt: skip
    assert "created 1" in capsys.readouterr().out
    assert Customer.objects.get().owner == sales
    with open(errors, encoding="utf-8-sig") as handle:
        assert list(csv.reader(handle))[1][:2] == ["3", "手机号"]


def test_dry_run_writes_nothing(admin_user, customers_file, capsys):
    call_command("kehu_import", "customers", str(customers_file), "--dry-run")
    assert "dry run; rows 2, created 1" in capsys.readouterr().out
    assert Customer.objects.count() == 0


def test_explicit_mapping(admin_user, customers_file):
    mapping = json.dumps({"name": "姓名"})
    call_command("kehu_import", "customers", str(customers_file), "--mapping", mapping)
    assert sorted(Customer.objects.values_list("name", flat=True)) == ["赵敏", "钱多多"]
    assert set(Customer.objects.values_list("mobile", flat=True)) == {""}


def test_broken_file_is_a_command_error(admin_user, tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(CommandError, match="empty"):
        call_command("kehu_import", "customers", str(path))
    assert ImportJob.objects.count() == 0


def test_export_customers_to_xlsx_and_csv(marketer, tmp_path, capsys):
    Customer.objects.create(name="王芳", mobile="13800001111", city="杭州")
    Customer.objects.create(name="李娜", mobile="13900002222", city="上海")
    output = tmp_path / "out.csv"
    call_command(
        "kehu_export", "customers", "--output", str(output), "--as", marketer.username,
        "--city", "杭州",
    )  # fmt: skip
    assert "Exported 1 rows" in capsys.readouterr().out
    with open(output, encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    assert (rows[1][1], rows[1][4]) == ("王芳", "138****1111")
    call_command(
        "kehu_export", "orders", "--format", "xlsx", "--output", str(tmp_path / "o.xlsx"),
        "--as", marketer.username,
    )  # fmt: skip
    assert (tmp_path / "o.xlsx").read_bytes().startswith(b"PK")


def test_export_refused_for_service(service_agent, tmp_path):
    with pytest.raises(CommandError, match="may not export"):
        call_command(
            "kehu_export", "customers", "--output", str(tmp_path / "x.csv"),
            "--as", service_agent.username,
        )  # fmt: skip
    assert not (tmp_path / "x.csv").exists()
