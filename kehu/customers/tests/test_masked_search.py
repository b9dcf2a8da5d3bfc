"""Masking is not undone by search: the digit-by-digit attack, through every door, learns nothing.

A role that sees a customer's contact details masked (marketing and analysts for everyone, a
salesperson for pool customers) may find that customer by the whole normalised value of a contact
field, never by a part of it. Each door is an oracle the attacker can ask "is the customer in the
answer?": the list page, the API list and the export.
"""

import csv
import io
from collections.abc import Callable
from datetime import date

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from kehu.accounts.models import User
from kehu.customers.exporting import CUSTOMER_COLUMNS
from kehu.customers.models import Customer
from kehu.loyalty.members.queries import MemberFilters, counter_matches, search_members
from kehu.loyalty.members.services import create_membership
from kehu.loyalty.models import EnrolmentChannel
from tests.api_client import ApiClient
from tests.fixtures.records import make_customer

HIDDEN = {
    "mobile": "13812345678",
    "email": "secret.person@example.com",
    "wechat_id": "wx_secret_42",
    "wecom_id": "wc_hidden_77",
    "address": "漕溪北路88号3号楼1201室",
}
WHOLE_VALUES = {
    "mobile": ["13812345678", "138 1234 5678", "+86 138-1234-5678"],
    "email": ["secret.person@example.com", "Secret.Person@Example.com"],
    "wechat_id": ["wx_secret_42"],
    "wecom_id": ["wc_hidden_77"],
}

Oracle = Callable[[str], bool]


def partial_terms(value: str) -> list[str]:
    """Parts of a hidden value an attacker would try: prefixes, an infix, a suffix."""
    candidates = {value[:1], value[:3], value[:4], value[: len(value) // 2], value[:-1]}
    candidates |= {value[1:], value[2:-2], value[-4:], value[3:7]}
    return sorted(term for term in candidates if term and term != value)


def rebuild_mobile(finds: Oracle, shown_prefix: str) -> str:
    """The attack of the audit: extend the digits the mask shows one digit at a time."""
    known = shown_prefix
    while len(known) < 11:
        digit = next((digit for digit in "0123456789" if finds(known + digit)), None)
        if digit is None:
            return known
        known += digit
    return known


@pytest.fixture
def target(db) -> Customer:
    """A pool customer: masked for marketing, analysts and every salesperson."""
    return make_customer(owner=None, name="目标客户", province="上海", city="上海",
                         district="徐汇区", **HIDDEN)  # fmt: skip


@pytest.fixture
def bystander(db) -> Customer:
    """Another customer in the pool, so that no search answers "everyone"."""
    return make_customer(owner=None, name="路人", mobile="13900000000")


def list_page_oracle(user: User, customer: Customer) -> Oracle:
    client = Client()
    client.force_login(user)

    def finds(term: str) -> bool:
        response = client.get(reverse("customers:list"), {"q": term})
        return customer.pk in {row.pk for row in response.context["customers"]}

    return finds


def api_list_oracle(user: User, customer: Customer) -> Oracle:
    client = ApiClient(user)

    def finds(term: str) -> bool:
        body = client.get("/customers", {"q": term}).json()
        return customer.pk in {item["id"] for item in body["items"]}

    return finds


def export_rows(client: Client, params: dict[str, str]) -> list[list[str]]:
    response = client.get(reverse("imports:export_customers"), {"format": "csv", **params})
    content = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(content)))[1:]


def export_oracle(user: User, customer: Customer) -> Oracle:
    client = Client()
    client.force_login(user)

    def finds(term: str) -> bool:
        return customer.name in {row[1] for row in export_rows(client, {"q": term})}

    return finds


with translation.override("en"):
    HEADERS = [str(header) for header, _value in CUSTOMER_COLUMNS]
DISTRICT_COLUMN, ADDRESS_COLUMN = HEADERS.index("District"), HEADERS.index("Address")
DOORS = {"list page": list_page_oracle, "API list": api_list_oracle, "export": export_oracle}
MASKED_ROLES = ["marketer", "analyst", "sales"]


@pytest.mark.parametrize("door", DOORS)
@pytest.mark.parametrize("role", MASKED_ROLES)
def test_the_digit_by_digit_attack_learns_no_more_than_the_mask_shows(
    request, role, door, target, bystander
):
    finds = DOORS[door](request.getfixturevalue(role), target)

    rebuilt = rebuild_mobile(finds, shown_prefix=target.mobile[:3])

    assert rebuilt == "138"


@pytest.mark.parametrize("door", DOORS)
@pytest.mark.parametrize("role", MASKED_ROLES)
@pytest.mark.parametrize("field", HIDDEN)
def test_no_part_of_a_masked_field_finds_the_customer(request, role, door, field, target):
    finds = DOORS[door](request.getfixturevalue(role), target)

    found_by = [term for term in partial_terms(HIDDEN[field]) if finds(term)]

    assert found_by == []


@pytest.mark.parametrize("door", DOORS)
@pytest.mark.parametrize("role", MASKED_ROLES)
@pytest.mark.parametrize("field", WHOLE_VALUES)
def test_the_whole_normalised_value_still_finds_a_masked_customer(
    request, role, door, field, target, bystander
):
    finds = DOORS[door](request.getfixturevalue(role), target)

    assert [term for term in WHOLE_VALUES[field] if not finds(term)] == []
    assert not DOORS[door](request.getfixturevalue(role), bystander)(WHOLE_VALUES[field][0])


@pytest.mark.parametrize("role", ["admin_user", "manager", "service_agent"])
@pytest.mark.parametrize("field", WHOLE_VALUES)
def test_roles_that_see_contacts_still_search_any_part(request, role, field, target, bystander):
    finds = list_page_oracle(request.getfixturevalue(role), target)

    assert [term for term in partial_terms(HIDDEN[field]) if not finds(term)] == []
    assert rebuild_mobile(finds, shown_prefix="138") == target.mobile


def test_a_salesperson_searches_any_part_of_their_own_customers_only(sales, target):
    mine = make_customer(owner=sales, name="我的客户", mobile="13812349999")
    finds_mine = api_list_oracle(sales, mine)
    finds_pool = api_list_oracle(sales, target)

    assert finds_mine("1234") and finds_mine("9999")
    assert not finds_pool("1234")
    assert finds_pool(target.mobile)


def test_a_colleagues_customer_is_not_found_even_by_the_whole_mobile(sales, colleague_customer):
    finds = api_list_oracle(sales, colleague_customer)

    assert not finds(colleague_customer.mobile)
    assert not finds(colleague_customer.mobile[:7])


@pytest.mark.parametrize("role", ["marketer", "sales"])
def test_the_member_list_is_no_oracle_either(request, role, target):
    create_membership(target, EnrolmentChannel.STORE, None, date(2026, 1, 1), None)
    user = request.getfixturevalue(role)

    def finds(term: str) -> bool:
        members = search_members(user, MemberFilters(search=term))
        return members.filter(customer=target).exists()

    assert rebuild_mobile(finds, shown_prefix="138") == "138"
    assert finds("138 1234 5678")


def test_the_counter_finds_a_member_by_the_whole_mobile_in_any_spelling_only(sales, target):
    create_membership(target, EnrolmentChannel.STORE, None, date(2026, 1, 1), None)

    found = {term: len(counter_matches(sales, term)) for term in ("+86 138-1234-5678", "1381234")}

    assert found == {"+86 138-1234-5678": 1, "1381234": 0}


# --- the street address is masked below the district ---------------------------------------------


@pytest.mark.parametrize("role", MASKED_ROLES)
def test_masked_roles_see_province_city_and_district_but_not_the_street(request, role, target):
    user = request.getfixturevalue(role)
    client = Client()
    client.force_login(user)

    page = client.get(reverse("customers:detail", args=[target.pk])).content.decode()
    api = ApiClient(user).get(f"/customers/{target.pk}").json()
    [row] = export_rows(client, {"q": target.mobile})

    assert "上海上海徐汇区" in page
    assert "漕溪" not in page and "1201" not in page
    assert (api["province"], api["city"], api["district"], api["address"]) == (
        "上海",
        "上海",
        "徐汇区",
        "***",
    )
    assert (row[DISTRICT_COLUMN], row[ADDRESS_COLUMN]) == ("徐汇区", "***")


@pytest.mark.parametrize("role", ["admin_user", "manager", "service_agent"])
def test_roles_that_see_contacts_see_the_whole_address(request, role, target):
    user = request.getfixturevalue(role)
    client = Client()
    client.force_login(user)

    page = client.get(reverse("customers:detail", args=[target.pk])).content.decode()
    api = ApiClient(user).get(f"/customers/{target.pk}").json()

    assert HIDDEN["address"] in page
    assert api["address"] == HIDDEN["address"]
