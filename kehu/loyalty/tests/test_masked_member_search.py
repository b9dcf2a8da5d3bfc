"""Masking is not undone by the member search either: the member list and the counter find a
masked customer by the whole normalised mobile only, never by a part of it (the same attack as
kehu/customers/tests/test_masked_search.py)."""

from datetime import date

import pytest

from kehu.customers.models import Customer
from kehu.customers.tests.test_masked_search import HIDDEN, rebuild_mobile
from kehu.loyalty.members.queries import MemberFilters, counter_matches, search_members
from kehu.loyalty.members.services import create_membership
from kehu.loyalty.models import EnrolmentChannel
from tests.fixtures.records import make_customer


@pytest.fixture
def target(db) -> Customer:
    """A pool customer: masked for marketing, analysts and every salesperson."""
    return make_customer(owner=None, name="目标客户", province="上海", city="上海",
                         district="徐汇区", **HIDDEN)  # fmt: skip


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
