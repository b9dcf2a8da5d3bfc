import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from kehu.customers.models import Customer
from kehu.imports.models import ImportJob, ImportStatus

CSV_WITH_A_BAD_ROW = "姓名,手机号,城市\n赵敏,13800001111,杭州\n<b>坏人</b>,12345,上海\n".encode()


def upload(client, content: bytes = CSV_WITH_A_BAD_ROW, name: str = "客户.csv", kind="customers"):
    return client.post(
        reverse("imports:start"),
        {"kind": kind, "file": SimpleUploadedFile(name, content, content_type="text/csv")},
    )


def test_start_page_offers_customers_and_orders(client, sales):
    client.force_login(sales)
    response = client.get(reverse("imports:start"))
    assert response.status_code == 200
    assert 'name="kind" value="customers"' in response.text
    assert 'name="kind" value="orders"' in response.text


def test_import_pages_are_forbidden_without_import_rights(client, marketer):
    client.force_login(marketer)
    assert client.get(reverse("imports:start")).status_code == 403
    assert upload(client).status_code == 403
    assert ImportJob.objects.count() == 0


def test_upload_leads_to_a_prefilled_mapping(client, sales):
    client.force_login(sales)
    response = upload(client)
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("imports:mapping", args=[job.pk])
    page = client.get(response.url)
    assert page.status_code == 200
    assert '<option value="手机号" selected>' in page.text
    assert "&lt;b&gt;坏人&lt;/b&gt;" in page.text
    assert "<b>坏人</b>" not in page.text


def test_broken_upload_shows_the_reason(client, sales):
    client.force_login(sales)
    response = upload(client, content=b"", name="empty.csv")
    assert response.status_code == 400
    assert "The file is empty." in response.text
    assert ImportJob.objects.count() == 0


def test_mapping_without_a_required_field_stays_on_the_page(client, sales):
    client.force_login(sales)
    upload(client)
    job = ImportJob.objects.get()
    response = client.post(reverse("imports:mapping", args=[job.pk]), {"map_mobile": "手机号"})
    assert response.status_code == 400
    assert "errorlist" in response.text
    job.refresh_from_db()
    assert job.status == ImportStatus.UPLOADED


def test_wizard_preview_then_import_valid_rows(client, sales, django_capture_on_commit_callbacks):
    client.force_login(sales)
    upload(client)
    job = ImportJob.objects.get()
    mapping = {"map_name": "姓名", "map_mobile": "手机号", "map_city": "城市"}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("imports:mapping", args=[job.pk]), mapping)
    assert response.url == reverse("imports:result", args=[job.pk])
    response = client.get(response.url)
    assert response.url == reverse("imports:preview", args=[job.pk])
    preview = client.get(response.url)
    assert '<td data-count="created">1</td>' in preview.text
    assert '<td data-count="failed">1</td>' in preview.text
    assert "<td>3</td><td>手机号</td><td>12345</td>" in preview.text
    assert Customer.objects.count() == 0
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("imports:preview", args=[job.pk]), {"mode": "valid_rows"})
    assert response.url == reverse("imports:result", args=[job.pk])
    result = client.get(response.url)
    assert '<td data-count="created">1</td>' in result.text
    assert reverse("imports:error_report", args=[job.pk]) in result.text
    assert list(Customer.objects.values_list("name", flat=True)) == ["赵敏"]
    report = client.get(reverse("imports:error_report", args=[job.pk]))
    rows = list(csv.reader(io.StringIO(b"".join(report.streaming_content).decode("utf-8-sig"))))
    assert rows[1][:3] == ["3", "手机号", "12345"]


def test_wizard_all_or_nothing_imports_nothing(client, sales, django_capture_on_commit_callbacks):
    client.force_login(sales)
    upload(client)
    job = ImportJob.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("imports:mapping", args=[job.pk]), {"map_name": "姓名", "map_mobile": "手机号"}
        )
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("imports:preview", args=[job.pk]), {"mode": "all_or_nothing"}
        )
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == ImportStatus.FAILED
    assert Customer.objects.count() == 0


def test_other_users_jobs_are_not_found(client, sales, other_sales):
    client.force_login(sales)
    upload(client)
    job = ImportJob.objects.get()
    client.force_login(other_sales)
    for name in ("imports:mapping", "imports:preview", "imports:result", "imports:error_report"):
        assert client.get(reverse(name, args=[job.pk])).status_code == 404


@pytest.mark.parametrize("kind", ["customers", "orders"])
def test_orders_mapping_offers_a_default_channel(client, sales, channel, kind):
    client.force_login(sales)
    upload(client, kind=kind)
    job = ImportJob.objects.get()
    page = client.get(reverse("imports:mapping", args=[job.pk]))
    assert ('name="default_channel"' in page.text) == (kind == "orders")
