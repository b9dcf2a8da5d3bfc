"""`allow_duplicate` creates a second record of a person only where the creator could take charge
of the first one: a colleague's customer is not copied into one's own list past the check."""

from datetime import date

import pytest
from django.urls import reverse

from kehu.customers.models import Customer
from kehu.customers.services import DuplicateCustomer, create_customer
from tests.api_client import ApiClient
from tests.fixtures.records import make_customer

VALID_FORM = {"gender": "unknown", "source_channel": "store", "status": "active"}


def test_a_salesperson_cannot_force_a_duplicate_of_a_colleagues_customer(sales, colleague_customer):
    with pytest.raises(DuplicateCustomer) as refused:
        create_customer(
            sales, {"name": "抢来的", "mobile": colleague_customer.mobile}, allow_duplicate=True
        )

    assert refused.value.code == "duplicate_of_another_owner"
    assert "sales_north_2" in refused.value.message
    assert colleague_customer.name not in refused.value.message
    assert refused.value.details["can_force"] is False
    assert list(Customer.objects.values_list("pk", flat=True)) == [colleague_customer.pk]


def test_a_same_name_and_birthday_match_of_a_colleague_cannot_be_forced_either(sales, other_sales):
    make_customer(owner=other_sales, name="周杰", birthday=date(1990, 1, 1), mobile="")

    with pytest.raises(DuplicateCustomer):
        create_customer(sales, {"name": "周杰", "birthday": "1990-01-01"}, allow_duplicate=True)

    assert Customer.objects.count() == 1


def test_the_first_refusal_already_says_who_follows_the_customer_and_offers_no_override(
    sales, colleague_customer
):
    with pytest.raises(DuplicateCustomer) as refused:
        create_customer(sales, {"name": "新客户", "mobile": colleague_customer.mobile})

    assert refused.value.code == "duplicate_customer"
    assert "sales_north_2" in refused.value.message
    assert refused.value.details == {"matches": [], "hidden_matches": 1, "can_force": False}


@pytest.mark.parametrize("owner", ["sales", None])
def test_a_salesperson_may_force_past_their_own_or_a_pool_customer(request, sales, owner):
    existing = make_customer(owner=request.getfixturevalue(owner) if owner else None)

    created = create_customer(
        sales, {"name": "另一个人", "mobile": existing.mobile}, allow_duplicate=True
    )

    assert (created.owner, created.mobile) == (sales, existing.mobile)


def test_a_manager_may_force_within_the_team_but_not_past_another_teams_customer(
    manager, colleague_customer, south_customer
):
    within = create_customer(
        manager, {"name": "另一个人", "mobile": colleague_customer.mobile}, allow_duplicate=True
    )
    with pytest.raises(DuplicateCustomer) as refused:
        create_customer(
            manager, {"name": "别队的", "mobile": south_customer.mobile}, allow_duplicate=True
        )

    assert within.owner == manager
    assert "sales_south" in refused.value.message
    assert not Customer.objects.filter(name="别队的").exists()


def test_an_administrator_may_force_past_anyones_customer(admin_user, colleague_customer):
    created = create_customer(
        admin_user, {"name": "另一个人", "mobile": colleague_customer.mobile}, allow_duplicate=True
    )

    assert created.is_in_pool


def test_the_api_answers_409_naming_the_follower_and_creates_nothing(sales, colleague_customer):
    response = ApiClient(sales).post(
        "/customers",
        {"name": "抢来的", "mobile": colleague_customer.mobile, "allow_duplicate": True},
    )

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "duplicate_of_another_owner"
    assert "sales_north_2" in error["message"]
    assert error["matches"] == []
    assert error["can_force"] is False
    assert Customer.objects.count() == 1


def test_the_api_says_a_duplicate_in_the_pool_may_be_forced(sales, pool_customer):
    response = ApiClient(sales).post("/customers", {"name": "新客", "mobile": pool_customer.mobile})

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "duplicate_customer"
    assert error["can_force"] is True


def test_the_form_offers_no_override_and_refuses_one_sent_anyway(client, sales, colleague_customer):
    client.force_login(sales)
    data = {**VALID_FORM, "name": "抢来的", "mobile": colleague_customer.mobile}

    first = client.post(reverse("customers:create"), data)
    forced = client.post(reverse("customers:create"), {**data, "allow_duplicate": "on"})

    for response in (first, forced):
        content = response.content.decode()
        assert response.status_code == 200
        assert 'name="allow_duplicate"' not in content
        assert "sales_north_2" in content
    assert Customer.objects.count() == 1
