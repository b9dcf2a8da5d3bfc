"""The import wizard in a real browser: a CSV with a bad row, preview, import the valid rows."""

import pytest

from kehu.customers.models import Customer
from kehu.imports.jobs import run_job
from kehu.imports.models import ImportJob
from tests.fixtures.browser import log_in
from tests.fixtures.people import PASSWORD


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_import_customers_with_a_bad_row(page, sales, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    upload = tmp_path / "客户.csv"
    upload.write_text("姓名,手机号,城市\n赵敏,13800001111,杭州\n钱多多,12345,上海\n", "utf-8-sig")
    log_in(page, sales.username, PASSWORD)

    page.goto("/data/import/")
    page.check("input[name=kind][value=customers]")
    page.set_input_files("input[name=file]", str(upload))
    page.click("main button.primary")
    page.wait_for_url("**/mapping/")
    assert page.input_value("select[name=map_mobile]") == "手机号"
    page.click("main button.primary")

    page.wait_for_url("**/preview/")
    bad_row = page.locator("tr.error-row").first
    assert bad_row.locator("td").nth(0).inner_text() == "3"
    assert bad_row.locator("td").nth(1).inner_text() == "手机号"
    assert "12345" in bad_row.inner_text()
    assert Customer.objects.count() == 0
    page.check("input[name=mode][value=valid_rows]")
    page.click("main button.primary")

    page.wait_for_url("**/import/*/")
    assert page.locator("[data-count=created]").inner_text() == "1"
    assert page.locator("[data-count=failed]").inner_text() == "1"
    assert page.locator("a[href$='errors.csv']").count() == 1
    assert list(Customer.objects.values_list("name", flat=True)) == ["赵敏"]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_page_follows_a_background_import_to_its_result(page, sales, tmp_path, settings):
    """Tasks are only stored here (no worker runs them), so the page shows the queued job's
    progress bar; the test then runs the task as a worker would, and the polling page moves on
    by itself."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    upload = tmp_path / "客户.csv"
    upload.write_text("姓名,手机号\n赵敏,13800001111\n钱多多,13800002222\n", "utf-8-sig")
    log_in(page, sales.username, PASSWORD)

    page.goto("/data/import/")
    page.set_input_files("input[name=file]", str(upload))
    page.click("main button.primary")
    page.wait_for_url("**/mapping/")
    page.click("main button.primary")
    page.wait_for_selector("#import-progress[data-status=queued]")
    job = ImportJob.objects.get()
    run_job(job.pk, sales.pk)
    page.wait_for_url("**/preview/")
    page.click("main button.primary")
    page.wait_for_selector("#import-progress[data-status=queued]")
    run_job(job.pk, sales.pk)
    page.wait_for_selector("[data-count=created]")
    assert page.locator("[data-count=created]").inner_text() == "2"
    assert sorted(Customer.objects.values_list("name", flat=True)) == ["赵敏", "钱多多"]
