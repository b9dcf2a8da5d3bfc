"""The one list machinery: reading filters from a query string, sort whitelist, page bounds,
links carrying the filters, and every list page answering bad values with a warning, not a 500."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest
from django.http import QueryDict
from django.test import RequestFactory
from django.utils import timezone

from kehu.core import lists
from kehu.core.lists import (
    INVALID,
    OUT_OF_RANGE,
    Ignored,
    ListFilters,
    page_size_of,
    paginate,
)
from kehu.engagement.models import FollowUp
from kehu.segments.models import Segment, SegmentKind
from tests.fixtures.records import make_customer


@dataclass(frozen=True)
class ExampleFilters(ListFilters):
    search: str = lists.search(max_length=5)
    colour: str = lists.choice("colour", {"red": "Red", "blue": "Blue"})
    owner_id: int | None = lists.record_id("owner")
    is_vip: bool | None = lists.yes_no("vip", yes="VIP", no="Not VIP")
    since: date | None = lists.on_date("since")
    spent: Decimal | None = lists.number("spent", minimum=0, maximum=1000)
    sort: str = lists.sort(("name", "created"), default="-created", both_directions=True)


def read(query: str) -> lists.Reading[ExampleFilters]:
    return ExampleFilters.read(QueryDict(query))


def test_good_values_are_read_into_their_types():
    reading = read("q=+abcdefgh&colour=red&owner=42&vip=0&since=2026-01-31&spent=12.5&sort=name")

    assert reading.filters == ExampleFilters(
        search="abcde",
        colour="red",
        owner_id=42,
        is_vip=False,
        since=date(2026, 1, 31),
        spent=Decimal("12.5"),
        sort="name",
    )
    assert reading.ignored == []


def test_control_characters_leave_a_text_filter():
    assert read("q=a%00b%0Ac").filters.search == "abc"


@pytest.mark.parametrize("url", ["/customers/", "/loyalty/", "/segments/churn/", "/orders/"])
def test_a_search_with_a_nul_character_is_no_error(client, admin_user, url):
    client.force_login(admin_user)

    assert client.get(f"{url}?q=a%00b").status_code == 200


def test_no_parameters_give_the_defaults_and_nothing_is_filtered():
    reading = read("")

    assert reading.filters == ExampleFilters()
    assert reading.filters.is_filtered is False
    assert reading.ignored == []


def test_bad_values_fall_back_to_the_default_and_are_named():
    reading = read("colour=green&owner=abc&vip=yes&since=2026-02-30&spent=NaN&sort=password")

    assert reading.filters == ExampleFilters()
    assert reading.ignored == [
        Ignored("colour", INVALID),
        Ignored("owner", INVALID),
        Ignored("vip", INVALID),
        Ignored("since", INVALID),
        Ignored("spent", INVALID),
        Ignored("sort", INVALID),
    ]


def test_numbers_beyond_their_bounds_are_out_of_range():
    reading = read(f"owner={2**70}&spent=1000.01")

    assert reading.filters.owner_id is None
    assert reading.filters.spent is None
    assert reading.ignored == [Ignored("owner", OUT_OF_RANGE), Ignored("spent", OUT_OF_RANGE)]


def test_sort_keys_are_a_whitelist_in_both_directions():
    assert read("sort=-name").filters.sort == "-name"
    assert read("sort=created").filters.sort == "created"
    assert read("sort=--name").filters.sort == "-created"
    assert read("sort=owner__password").filters.sort == "-created"


def test_a_changed_sort_alone_is_no_filter():
    assert read("sort=name").filters.is_filtered is False
    assert read("colour=blue").filters.is_filtered is True


def test_the_query_string_carries_the_filters_without_their_defaults():
    filters = read("q=ab&colour=blue&vip=1&since=2026-01-31&sort=-created").filters

    assert filters.query() == "q=ab&colour=blue&vip=1&since=2026-01-31"
    assert filters.query(sort="name") == "q=ab&colour=blue&vip=1&since=2026-01-31&sort=name"


def test_the_filter_bar_offers_declared_and_given_options_and_hides_the_sort():
    filters = read("colour=red&owner=7&sort=name").filters

    controls = {control.param: control for control in filters.controls({"owner": [("7", "Li")]})}

    assert controls["q"].kind == "search"
    assert controls["colour"].kind == "select"
    assert list(controls["colour"].options) == [("red", "Red"), ("blue", "Blue")]
    assert controls["colour"].value == "red"
    assert list(controls["owner"].options) == [("7", "Li")]
    assert controls["owner"].value == "7"
    assert controls["vip"].value == ""
    assert controls["since"].kind == "date"
    assert controls["sort"].kind == "hidden"
    assert controls["sort"].value == "name"


@pytest.mark.parametrize(
    ("size", "expected"), [("", 25), ("50", 50), ("1", 10), ("100000", 100), ("x", 25)]
)
def test_the_page_size_stays_within_its_bounds(size, expected):
    assert page_size_of(QueryDict(f"size={size}")) == expected


@pytest.mark.parametrize(("page", "expected"), [("2", 2), ("abc", 1), ("999", 3), ("-1", 3)])
def test_paginate_answers_the_nearest_page_for_a_bad_number(page, expected):
    request = RequestFactory().get("/", {"page": page, "size": "10"})

    assert paginate(request, list(range(25))).number == expected


# --- every list page --------------------------------------------------------------------------

LIST_PAGES = {
    "/customers/": ("owner=abc", "pool=maybe", "sort=password", "size=0"),
    "/customers/pool/": ("tag=abc", "sort=owner__password"),
    "/orders/": ("since=2026-13-01", "order_status=lost", "sort=profit"),
    "/loyalty/": ("tier=abc", "sort=secret"),
    "/loyalty/coupons/": ("kind=bogus", "active=maybe", "sort=-secret"),
    "/loyalty/programme/earning-rules/": ("state=gone", "sort=-secret"),
    "/segments/saved/": ("sort=secret",),
    "/segments/churn/": ("owner=someone", "level=doom", "segment=abc"),
    "/interactions/follow-ups/": ("status=lost", "due=never", "assignee=boss"),
    "/loyalty/referrals/group-deals/": ("status=gone",),
}


@pytest.mark.parametrize("url", LIST_PAGES)
def test_every_list_page_says_which_bad_value_it_did_not_apply(client, admin_user, url):
    make_customer(name="王芳")
    client.force_login(admin_user)
    for query in LIST_PAGES[url]:
        response = client.get(f"{url}?{query}", HTTP_ACCEPT_LANGUAGE="en")

        assert response.status_code == 200, query
        body = response.content.decode()
        if not query.startswith("size="):
            name = query.split("=")[0]
            assert f"The filter “{name}” has a value kehu does not understand" in body, query


@pytest.mark.parametrize("url", LIST_PAGES)
def test_every_list_page_has_the_shared_filter_bar(client, admin_user, url):
    client.force_login(admin_user)

    response = client.get(url, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200
    assert "data-list-filters" in response.content.decode()


def test_a_filtered_list_with_no_rows_offers_to_clear_the_filters(client, admin_user):
    make_customer(name="王芳")
    client.force_login(admin_user)

    response = client.get("/orders/?q=nothing-like-this", HTTP_ACCEPT_LANGUAGE="en")

    body = response.content.decode()
    assert "No order matches" in body
    assert 'href="/orders/">Clear the filters</a>' in body


def test_the_order_list_exports_what_it_shows(client, admin_user):
    client.force_login(admin_user)

    response = client.get("/orders/?q=A1&channel=tmall&since=2026-01-01", HTTP_ACCEPT_LANGUAGE="en")

    body = response.content.decode()
    exported = "/data/export/orders/?order=A1&amp;channel=tmall&amp;since=2026-01-01&amp;format=csv"
    assert exported in body


# --- lists that gained a filter or a sort -----------------------------------------------------


def test_follow_ups_are_searched_by_customer_and_sorted_by_customer(client, admin_user):
    today = timezone.localdate()
    for name in ("Bo 王", "Al 李", "Cy 赵"):
        FollowUp.objects.create(
            customer=make_customer(name=name), assignee=admin_user, due_on=today, reason="回访"
        )
    client.force_login(admin_user)

    searched = client.get("/interactions/follow-ups/?q=王")
    sorted_page = client.get("/interactions/follow-ups/?sort=-customer")

    assert [row.customer.name for row in searched.context["follow_ups"]] == ["Bo 王"]
    names = [row.customer.name for row in sorted_page.context["follow_ups"]]
    assert names == ["Cy 赵", "Bo 王", "Al 李"]


def test_saved_segments_are_filtered_by_kind(client, admin_user):
    Segment.objects.create(name="静态", kind=SegmentKind.STATIC, created_by=admin_user)
    Segment.objects.create(name="动态", kind=SegmentKind.DYNAMIC, created_by=admin_user)
    client.force_login(admin_user)

    response = client.get("/segments/saved/?kind=static")

    assert [segment.name for segment in response.context["segments"]] == ["静态"]


def test_the_pool_shows_only_pool_customers_whatever_the_pool_filter_says(
    client, admin_user, sales
):
    make_customer(name="In the pool")
    make_customer(sales, name="Owned")
    client.force_login(admin_user)

    response = client.get("/customers/pool/?pool=0&sort=name")

    assert [customer.name for customer in response.context["customers"]] == ["In the pool"]
    assert response.context["is_filtered"] is False


def test_the_follow_up_export_holds_the_rows_the_list_shows(client, admin_user):
    today = timezone.localdate()
    for name in ("Bo 王", "Al 李"):
        FollowUp.objects.create(
            customer=make_customer(name=name), assignee=admin_user, due_on=today, reason="回访"
        )
    client.force_login(admin_user)
    listed = client.get("/interactions/follow-ups/?q=王", HTTP_ACCEPT_LANGUAGE="en")

    response = client.get("/interactions/follow-ups/export/?q=王&format=csv")

    assert '/interactions/follow-ups/export/?q=%E7%8E%8B&amp;format=csv"' in listed.content.decode()
    lines = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()
    assert len(lines) == 2
    assert "Bo 王" in lines[1]
