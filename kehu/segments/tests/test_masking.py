"""Segments follow the masking rule of the customer archive: no rule on a contact field can work
as an oracle, and previews, member lists and exports hide the street line where contacts are
masked."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from kehu.segments.exporting import export_segment_rows
from kehu.segments.rules import compile_rule
from kehu.segments.rules_fields import rule_field_catalogue
from kehu.segments.services import create_segment, preview_segment
from kehu.segments.tests.rule_helpers import NOW
from tests.api_client import ApiClient
from tests.fixtures.records import make_customer

SHANGHAI = {"field": "city", "op": "eq", "value": "上海"}
STREET = "漕溪北路88号"
CONTACT_FIELDS = ["mobile", "email", "wechat_id", "wecom_id", "address"]


@pytest.fixture
def pool_customer_in_shanghai(db):
    return make_customer(
        owner=None, name="公海的", city="上海", district="徐汇区", address=STREET,
        mobile="13812345678", email="pool@example.com",
    )  # fmt: skip


@pytest.mark.parametrize("field", CONTACT_FIELDS)
@pytest.mark.parametrize(
    ("operator", "value"), [("contains", "138"), ("starts_with", "1381"), ("eq", "13812345678")]
)
def test_a_rule_cannot_test_a_contact_field(db, field, operator, value):
    # A guard more than a fix: contact fields were never rule fields, and must not become one
    # without the masking rule (a rule "mobile contains 138" would rebuild a masked mobile).
    with pytest.raises(ValidationError):
        compile_rule({"field": field, "op": operator, "value": value})
    assert field not in {entry["key"] for entry in rule_field_catalogue()}


@pytest.mark.parametrize("role", ["marketer", "analyst", "sales"])
def test_the_preview_hides_the_street_of_masked_customers(request, role, pool_customer_in_shanghai):
    preview = preview_segment(request.getfixturevalue(role), SHANGHAI, now=NOW)

    [customer] = preview.sample
    assert (customer.district, customer.display_address) == ("徐汇区", "***")


def test_the_preview_shows_the_street_to_roles_that_see_contacts(
    admin_user, pool_customer_in_shanghai
):
    [customer] = preview_segment(admin_user, SHANGHAI, now=NOW).sample

    assert customer.display_address == STREET


@pytest.mark.parametrize("role", ["marketer", "analyst"])
def test_members_and_export_hide_the_street_of_masked_customers(
    request, role, admin_user, pool_customer_in_shanghai
):
    user = request.getfixturevalue(role)
    segment = create_segment(admin_user, name="上海", rule=SHANGHAI, now=NOW)

    members = ApiClient(user).get(f"/segments/{segment.pk}/members").json()
    with translation.override("en"):
        headers, rows = export_segment_rows(user, segment)
        [row] = list(rows)

    assert [(item["district"], item["address"]) for item in members["items"]] == [("徐汇区", "***")]
    assert (row[headers.index("District")], row[headers.index("Address")]) == ("徐汇区", "***")
    assert STREET not in row
