import pytest
from django.http import Http404

from kehu.customers.queries import (
    get_visible_customer,
    mask_contacts,
    mask_email,
    mask_mobile,
    visible_customers,
)


@pytest.fixture
def everyone(own_customer, colleague_customer, south_customer, pool_customer):
    return {
        "own": own_customer,
        "colleague": colleague_customer,
        "south": south_customer,
        "pool": pool_customer,
    }


def visible_names(user):
    return set(visible_customers(user).values_list("name", flat=True))


def test_sales_see_their_own_customers_and_the_pool(sales, everyone):
    assert visible_names(sales) == {"王芳", "刘洋"}


def test_managers_see_their_team_and_the_pool(manager, everyone):
    assert visible_names(manager) == {"王芳", "李娜", "刘洋"}


@pytest.mark.parametrize("role_fixture", ["admin_user", "service_agent", "marketer", "analyst"])
def test_other_roles_see_everyone(request, role_fixture, everyone):
    user = request.getfixturevalue(role_fixture)
    assert visible_names(user) == {"王芳", "李娜", "陈静", "刘洋"}


def test_another_salespersons_customer_is_not_found(sales, everyone):
    with pytest.raises(Http404):
        get_visible_customer(sales, everyone["colleague"].pk)


def test_inactive_users_see_nothing(sales, everyone):
    sales.is_active = False
    sales.save()
    assert visible_names(sales) == set()


def test_masking_formats():
    assert mask_mobile("13812341234") == "138****1234"
    assert mask_email("wangfang@example.com") == "w***@example.com"


def test_marketing_sees_masked_contacts(marketer, own_customer):
    mask_contacts(marketer, [own_customer])
    assert own_customer.display_mobile == mask_mobile(own_customer.mobile)
    assert own_customer.display_email == "w***@example.com"


def test_sales_see_their_own_contacts_but_not_pool_contacts(sales, own_customer, pool_customer):
    mask_contacts(sales, [own_customer, pool_customer])
    assert own_customer.display_mobile == own_customer.mobile
    assert pool_customer.display_mobile == mask_mobile(pool_customer.mobile)
