import csv
from datetime import date

import pytest
from django.http import Http404

from kehu.core.errors import NotAllowed, RuleViolation
from kehu.customers.models import Customer, OwnershipChange
from kehu.imports.models import ImportJob, ImportStatus
from kehu.imports.services import (
    error_report_file,
    get_import_job,
    preview_import,
    run_import,
    start_import,
)
from kehu.imports.tests.helpers import counts, import_file, write_csv
from tests.fixtures.records import make_customer

HEADER = ["姓名", "手机号", "邮箱", "会员号", "生日", "标签"]


@pytest.fixture
def customers_file(tmp_path):
    return write_csv(
        tmp_path,
        [
            HEADER,
            ["赵敏", "138 0000 1111", "zhaomin@example.com", "M001", "1990/3/1", "VIP、常客"],
            ["钱多多", "12345", "", "M002", "", ""],
            ["孙悟空", "13800002222", "", "", "", ""],
        ],
    )


def test_start_import_reads_columns_and_suggests_a_mapping(sales, customers_file):
    job = start_import(sales, "customers", customers_file, file_name="客户.csv")
    assert job.headers == HEADER
    assert job.mapping == {
        "name": "姓名",
        "mobile": "手机号",
        "email": "邮箱",
        "member_number": "会员号",
        "birthday": "生日",
        "tags": "标签",
    }
    assert job.status == ImportStatus.UPLOADED
    assert job.original_name == "客户.csv"


def test_roles_without_import_rights_cannot_start(service_agent, customers_file):
    with pytest.raises(NotAllowed):
        start_import(service_agent, "customers", customers_file)
    assert ImportJob.objects.count() == 0


def test_preview_counts_every_row_and_writes_nothing(sales, customers_file):
    job = start_import(sales, "customers", customers_file)
    preview = preview_import(sales, job.pk, job.mapping, "valid_rows")
    assert preview.counts == {"created": 2, "updated": 0, "unchanged": 0, "failed": 1}
    assert preview.errors[0]["line"] == 3
    assert preview.errors[0]["column"] == "手机号"
    assert preview.errors[0]["value"] == "12345"
    assert "mobile number" in preview.errors[0]["reason"]
    assert Customer.objects.count() == 0


def test_all_or_nothing_with_one_bad_row_writes_nothing(sales, customers_file):
    job = import_file(sales, "customers", customers_file, mode="all_or_nothing")
    assert job.status == ImportStatus.FAILED
    assert counts(job) == (0, 0, 0, 1)
    assert Customer.objects.count() == 0
    assert OwnershipChange.objects.count() == 0


def test_valid_rows_mode_imports_the_rest_owned_by_the_salesperson(sales, customers_file):
    job = import_file(sales, "customers", customers_file)
    assert job.status == ImportStatus.IMPORTED
    assert counts(job) == (2, 0, 0, 1)
    zhao = Customer.objects.get(member_number="M001")
    assert (zhao.name, zhao.mobile, zhao.birthday) == ("赵敏", "13800001111", date(1990, 3, 1))
    assert zhao.owner == sales
    assert sorted(zhao.tags.values_list("name", flat=True)) == ["VIP", "常客"]
    assert not Customer.objects.filter(member_number="M002").exists()


def test_error_report_lists_line_column_value_and_reason(sales, customers_file):
    job = import_file(sales, "customers", customers_file)
    with open(error_report_file(sales, job.pk), encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["Line", "Column", "Value", "Reason"]
    assert rows[1][:3] == ["3", "手机号", "12345"]
    assert len(rows) == 2


def test_error_report_of_another_users_job_is_not_found(sales, other_sales, customers_file):
    job = import_file(sales, "customers", customers_file)
    with pytest.raises(Http404):
        error_report_file(other_sales, job.pk)
    with pytest.raises(Http404):
        get_import_job(other_sales, job.pk)


def test_reimporting_the_same_file_changes_nothing(sales, customers_file):
    import_file(sales, "customers", customers_file)
    stamps = dict(Customer.objects.values_list("pk", "updated_at"))
    again = import_file(sales, "customers", customers_file)
    assert counts(again) == (0, 0, 2, 1)
    assert Customer.objects.count() == 2
    assert dict(Customer.objects.values_list("pk", "updated_at")) == stamps


def test_a_changed_row_updates_the_matching_customer(sales, tmp_path):
    customer = make_customer(owner=sales, name="赵敏", member_number="M001", city="")
    path = write_csv(tmp_path, [["会员号", "姓名", "城市", "备注"], ["M001", "赵敏", "杭州", ""]])
    job = import_file(sales, "customers", path)
    assert counts(job) == (0, 1, 0, 0)
    customer.refresh_from_db()
    assert customer.city == "杭州"
    assert Customer.objects.count() == 1


def test_match_by_mobile_when_member_number_is_absent(sales, tmp_path):
    customer = make_customer(owner=sales, name="赵敏", mobile="13800001111")
    path = write_csv(tmp_path, [["姓名", "手机"], ["赵敏", "+86 13800001111"]])
    job = import_file(sales, "customers", path)
    assert counts(job) == (0, 0, 1, 0)
    assert list(Customer.objects.values_list("pk", flat=True)) == [customer.pk]


def test_duplicate_inside_the_same_file_is_stored_once(sales, tmp_path):
    path = write_csv(
        tmp_path,
        [["姓名", "手机", "城市"], ["赵敏", "13800001111", ""], ["赵敏", "13800001111", "杭州"]],
    )
    job = start_import(sales, "customers", path)
    preview = preview_import(sales, job.pk, job.mapping)
    assert preview.counts == {"created": 1, "updated": 1, "unchanged": 0, "failed": 0}
    job = run_import(sales, job.pk)
    assert counts(job) == (1, 1, 0, 0)
    assert list(Customer.objects.values_list("city", flat=True)) == ["杭州"]


def test_salesperson_cannot_update_a_colleagues_customer(sales, colleague_customer, tmp_path):
    path = write_csv(
        tmp_path, [["姓名", "手机", "城市"], ["李娜", colleague_customer.mobile, "北京"]]
    )
    job = import_file(sales, "customers", path)
    assert counts(job) == (0, 0, 0, 1)
    assert job.error_sample[0]["column"] == "手机", job.error_sample
    assert "may not edit" in job.error_sample[0]["reason"]
    colleague_customer.refresh_from_db()
    assert colleague_customer.city == ""
    assert Customer.objects.count() == 1


def test_owner_column_needs_a_role_that_may_transfer(sales, other_sales, tmp_path):
    path = write_csv(tmp_path, [["姓名", "负责人"], ["赵敏", other_sales.username]])
    job = import_file(sales, "customers", path)
    assert counts(job) == (0, 0, 0, 1)
    assert job.error_sample[0]["column"] == "负责人"
    assert Customer.objects.count() == 0


def test_manager_assigns_owners_from_the_owner_column(manager, sales, tmp_path):
    path = write_csv(tmp_path, [["姓名", "负责人"], ["赵敏", sales.username]])
    job = import_file(manager, "customers", path)
    assert counts(job) == (1, 0, 0, 0)
    assert Customer.objects.get().owner == sales


def test_hostile_strings_are_stored_verbatim(sales, tmp_path):
    name = "<script>alert(1)</script>'; DROP TABLE customers;--"
    path = write_csv(tmp_path, [["姓名", "备注"], [name, '=HYPERLINK("x")']])
    job = import_file(sales, "customers", path)
    assert counts(job) == (1, 0, 0, 0)
    customer = Customer.objects.get()
    assert (customer.name, customer.notes) == (name, '=HYPERLINK("x")')


def test_ragged_row_is_reported_not_imported(sales, tmp_path):
    path = write_csv(
        tmp_path, [["姓名", "手机"], ["赵敏", "13800001111", "多余", "列"], ["孙悟空", ""]]
    )
    job = import_file(sales, "customers", path)
    assert counts(job) == (1, 0, 0, 1)
    assert job.error_sample[0]["line"] == 2
    assert "more cells" in job.error_sample[0]["reason"]


def test_missing_required_mapping_is_refused(sales, customers_file):
    job = start_import(sales, "customers", customers_file)
    with pytest.raises(Exception) as caught:
        preview_import(sales, job.pk, {"mobile": "手机号"})
    assert "name" in caught.value.message_dict  # type: ignore[attr-defined]


def test_an_imported_job_cannot_run_twice(sales, customers_file):
    job = import_file(sales, "customers", customers_file)
    with pytest.raises(RuleViolation):
        run_import(sales, job.pk)
    assert Customer.objects.count() == 2
