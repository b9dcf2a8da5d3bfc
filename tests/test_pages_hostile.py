"""Hostile input on the pages and exports: numbers beyond 64 bits in the filters and control
characters in stored names never make a page or an export fail."""

import io

import pytest
from django.core.management import CommandError, call_command
from openpyxl import load_workbook

from kehu.core.tabular import write_xlsx
from kehu.customers.models import Tag
from kehu.customers.services import set_tags
from tests.fixtures.records import make_customer

HUGE_NUMBERS = ("99999999999999999999", "-99999999999999999999", str(2**70))
# Every list page and export with an integer in its query string, and the parameters.
FILTERED_URLS = {
    "/customers/": ("owner", "tag", "store", "page"),
    "/customers/pool/": ("owner", "tag", "store", "page"),
    "/data/export/customers/": ("owner", "tag", "store"),
    "/data/export/customers/?format=xlsx": ("owner", "tag", "store"),
    "/data/export/orders/": ("owner", "tag", "store"),
    "/loyalty/": ("tier", "page"),
    "/loyalty/export/": ("tier",),
    "/segments/churn/": ("store", "segment", "page"),
    "/segments/churn/export/": ("store", "segment"),
    "/orders/": ("page",),
    "/interactions/follow-ups/": ("page",),
    "/loyalty/coupons/": ("page",),
    "/loyalty/programme/earning-rules/": ("page",),
    "/loyalty/referrals/group-deals/": ("page",),
    "/accounts/notifications/": ("page",),
    "/settings/webhooks/": ("page",),
}


def body_of(response) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


LIST_URLS = [url for url in FILTERED_URLS if "export" not in url]
EXPORT_URLS = [url for url in FILTERED_URLS if "export" in url]


@pytest.mark.parametrize("url", LIST_URLS)
def test_numbers_beyond_64_bits_in_list_filters_are_ignored_like_any_malformed_filter(
    client, admin_user, url
):
    # given a customer the unfiltered page and export show
    make_customer(name="王芳")
    client.force_login(admin_user)
    separator = "&" if "?" in url else "?"
    unfiltered = client.get(url)
    failures = []
    for parameter in FILTERED_URLS[url]:
        for number in HUGE_NUMBERS:
            # when the filter carries a number no database can store
            response = client.get(f"{url}{separator}{parameter}={number}")

            # then the filter is ignored, as a filter that is no number is: the same answer
            if response.status_code != unfiltered.status_code or (
                parameter != "page" and len(body_of(response)) < len(body_of(unfiltered)) - 40
            ):
                failures.append(f"{parameter}={number}: {response.status_code}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("url", EXPORT_URLS)
def test_an_export_refuses_a_filter_number_beyond_64_bits_and_says_which(client, admin_user, url):
    # given a customer an unfiltered export holds
    make_customer(name="王芳")
    client.force_login(admin_user)
    separator = "&" if "?" in url else "?"
    for parameter in FILTERED_URLS[url]:
        for number in HUGE_NUMBERS:
            # when the filter carries a number no database can store
            response = client.get(
                f"{url}{separator}{parameter}={number}", HTTP_ACCEPT_LANGUAGE="en"
            )

            # then nothing is exported (never every row, as if the filter were not there)
            assert response.status_code == 400, (parameter, number)
            assert f"The filter “{parameter}” is not a number" in response.content.decode()
            assert "王芳" not in response.content.decode()


def test_an_export_searches_a_long_number_as_text(client, admin_user):
    # given a customer whose member number is a long run of digits (a card's barcode)
    make_customer(name="王芳", member_number="123456789012345678901234")
    client.force_login(admin_user)

    # when the export searches for it
    response = client.get("/data/export/customers/?q=123456789012345678901234")

    # then the search is a search, not a number out of range
    assert response.status_code == 200
    assert "王芳" in body_of(response).decode("utf-8-sig")


def test_the_export_command_refuses_a_filter_number_beyond_64_bits(admin_user, tmp_path):
    output = tmp_path / "customers.csv"
    with pytest.raises(CommandError, match="--owner is not a number"):
        call_command("kehu_export", "customers", "--owner", str(2**70), "--output", str(output))
    assert not output.exists()


WARNED_URLS = {
    "/customers/": "owner",
    "/customers/pool/": "tag",
    "/loyalty/": "tier",
    "/segments/churn/": "segment",
}


@pytest.mark.parametrize("url", WARNED_URLS)
def test_a_list_says_which_filter_beyond_64_bits_it_did_not_apply(client, admin_user, url):
    client.force_login(admin_user)
    parameter = WARNED_URLS[url]

    response = client.get(f"{url}?{parameter}={2**70}", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200
    assert f"The filter “{parameter}” is not a number kehu can store" in response.content.decode()


def test_xlsx_export_with_a_control_character_in_a_stored_tag(client, admin_user):
    # given a tag stored with a control character before names were cleaned
    customer = make_customer(name="王芳")
    customer.tags.add(Tag.objects.create(name="VIP\u0001"))
    client.force_login(admin_user)

    # when the customers are exported as XLSX
    response = client.get("/data/export/customers/?format=xlsx")

    # then the workbook opens and shows the tag without the character
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(body_of(response)), read_only=True)
    rows = [list(row) for row in workbook.active.iter_rows(values_only=True)]
    assert "VIP" in rows[1]


def test_write_xlsx_drops_characters_a_spreadsheet_cannot_hold():
    target = io.BytesIO()

    write_xlsx(target, ["name", "notes"], [["王\u0000芳\u001b", "line one\nline two\ttab"]])

    workbook = load_workbook(io.BytesIO(target.getvalue()), read_only=True)
    rows = [list(row) for row in workbook.active.iter_rows(values_only=True)]
    assert rows == [["name", "notes"], ["王芳", "line one\nline two\ttab"]]


def test_tag_names_lose_control_characters_and_line_breaks(sales):
    # given a customer tagged from a page or an import with hostile names
    customer = make_customer(owner=sales)

    # when the tags are set
    set_tags(customer, ["VIP\u0001", "老客\n户", "\u0007"])

    # then the names are one clean line each, and an empty one is no tag
    assert sorted(customer.tags.values_list("name", flat=True)) == ["VIP", "老客户"]


def test_a_tag_group_typed_in_the_back_office_loses_control_characters(client, admin_user):
    # given an administrator in the back office
    from kehu.customers.models import TagGroup

    admin_user.is_staff = admin_user.is_superuser = True
    admin_user.save()
    client.force_login(admin_user)

    # when a tag group is added with a control character in its name
    response = client.post(
        "/admin/customers/taggroup/add/", {"name": "VIP\u0001客户", "color": "#2563eb"}
    )

    # then it is stored without it
    assert response.status_code == 302
    assert list(TagGroup.objects.values_list("name", flat=True)) == ["VIP客户"]


def test_page_forms_drop_control_characters_and_keep_line_breaks_in_text_areas():
    from kehu.segments.forms import SegmentForm

    form = SegmentForm(
        data={
            "name": "高价值\u0001\n名单",
            "description": "第一行\n第二行\u001b",
            "kind": "static",
            "rule": "",
        }
    )

    assert form.is_valid(), form.errors
    assert form.cleaned_data["name"] == "高价值名单"
    assert form.cleaned_data["description"] == "第一行\n第二行"
