"""Masking by construction: `visible_customers(user)` returns rows already masked for the user,
so a new page shows masks without calling anything, and a masked row refuses to be saved over
the real contact details."""

import pytest
from django.template import Context, Template

from kehu.customers.models import Customer, MaskedCustomerWrite
from kehu.customers.queries import (
    contact_visible_q,
    get_visible_customer,
    pool_customers,
    visible_customers,
)
from tests.fixtures.records import make_customer

# A page someone adds later, knowing nothing about masking.
NEW_PAGE = Template(
    "{% for c in customers %}{{ c.name }}:{{ c.mobile }}:{{ c.email }}:{{ c.wechat_id }}:"
    "{{ c.wecom_id }}:{{ c.address }};{% endfor %}"
)
CONTACTS = {
    "mobile": "13812345678",
    "email": "wangfang@example.com",
    "wechat_id": "wx_wangfang",
    "wecom_id": "wm_wangfang",
    "address": "南京西路 1266 号",
}
MASKED = "138****5678:w***@example.com:wx***:wm***:***"
IN_FULL = "13812345678:wangfang@example.com:wx_wangfang:wm_wangfang:南京西路 1266 号"


def render(customers):
    return NEW_PAGE.render(Context({"customers": customers}))


def test_a_new_page_shows_masked_contacts_without_calling_anything(marketer, admin_user):
    make_customer(None, name="王芳", **CONTACTS)
    assert render(visible_customers(marketer)) == f"王芳:{MASKED};"
    assert render(visible_customers(admin_user)) == f"王芳:{IN_FULL};"


def test_a_salesperson_sees_their_own_in_full_and_the_pool_masked(sales, other_sales):
    make_customer(sales, name="王芳", **CONTACTS)
    make_customer(None, name="李雷", **{**CONTACTS, "mobile": "13900001111"})
    page = render(visible_customers(sales).order_by("name"))
    assert f"王芳:{IN_FULL};" in page
    assert "李雷:139****1111:w***@example.com:wx***:wm***:***;" in page
    assert render(pool_customers(sales)) == "李雷:139****1111:w***@example.com:wx***:wm***:***;"


def test_every_way_of_reading_the_rows_is_masked(marketer):
    customer = make_customer(None, name="王芳", **CONTACTS)
    rows = visible_customers(marketer)
    read = [
        rows.get(pk=customer.pk),
        rows.filter(name="王芳").select_related("owner").first(),
        next(rows.iterator(chunk_size=10)),
        next(iter(rows.order_by("pk")[:1])),
        get_visible_customer(marketer, customer.pk),
    ]
    for row in read:
        assert (row.mobile, row.display_mobile, row.contact_is_masked) == (
            "138****5678",
            "138****5678",
            True,
        )


def test_saving_a_masked_row_raises_and_writes_nothing(marketer):
    customer = make_customer(None, name="王芳", **CONTACTS)
    masked = get_visible_customer(marketer, customer.pk)
    masked.name = "王芳芳"
    with pytest.raises(MaskedCustomerWrite):
        masked.save()
    with pytest.raises(MaskedCustomerWrite):
        masked.save(update_fields=["mobile"])
    stored = Customer.objects.get(pk=customer.pk)
    assert (stored.name, stored.mobile, stored.email) == (
        "王芳",
        *[CONTACTS[f] for f in ("mobile", "email")],
    )
    masked.save(update_fields=["name"])  # other fields may be saved
    stored.refresh_from_db()
    assert (stored.name, stored.mobile) == ("王芳芳", "13812345678")


def test_a_row_read_in_full_saves_as_before(admin_user):
    customer = make_customer(None, name="王芳", **CONTACTS)
    row = get_visible_customer(admin_user, customer.pk)
    assert row.contact_is_masked is False
    row.notes = "老客户"
    row.save()
    stored = Customer.objects.get(pk=customer.pk)
    assert (stored.notes, stored.mobile) == ("老客户", "13812345678")


@pytest.mark.parametrize(
    "fixture", ["admin_user", "manager", "sales", "service_agent", "marketer", "analyst"]
)
def test_search_condition_and_row_mask_agree(request, fixture, sales, other_sales):
    """`contact_visible_q` (search) states in SQL what `customer.see_contact` (the mask) says."""
    user = request.getfixturevalue(fixture)
    for owner in (sales, other_sales, None):
        make_customer(owner)
    rows = visible_customers(user)
    in_full = set(rows.filter(contact_visible_q(user)).values_list("pk", flat=True))
    assert in_full == {row.pk for row in rows if not row.contact_is_masked}
    assert len(rows) >= 2
