"""Every role against every page: who sees it, who gets 404 for a record outside their scope,
who gets 403 for an action their role lacks, and anonymous visitors sent to the login page."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from kehu.commerce.models import Order
from kehu.customers.models import Customer, OwnershipChange
from kehu.engagement.models import Interaction

ROLES = ["admin_user", "manager", "sales", "service_agent", "marketer", "analyst"]


@pytest.fixture
def user_of(request):
    """Look a role fixture up by name, so one test can run for every role."""
    return lambda name: request.getfixturevalue(name)


@pytest.fixture
def order(own_customer, channel):
    return Order.objects.create(
        customer=own_customer,
        channel=channel,
        external_id="SO-1",
        ordered_at=timezone.now(),
        total_amount=Decimal("10.00"),
    )


LIST_PAGES = ["web:home", "customers:list", "customers:pool", "commerce:list"]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", LIST_PAGES)
def test_every_role_sees_the_list_pages(client, user_of, role, page, own_customer):
    client.force_login(user_of(role))
    assert client.get(reverse(page)).status_code == 200


# Who may open the salesperson `sales`'s own customer (north team): everyone but other
# salespeople, whose scope is their own customers and the pool.
DETAIL_STATUS = {
    "admin_user": 200,
    "manager": 200,
    "sales": 200,
    "other_sales": 404,
    "south_sales": 404,
    "service_agent": 200,
    "marketer": 200,
    "analyst": 200,
}


@pytest.mark.parametrize(("role", "status"), DETAIL_STATUS.items())
def test_customer_page_by_role(client, user_of, role, status, own_customer):
    client.force_login(user_of(role))
    response = client.get(reverse("customers:detail", args=[own_customer.pk]))
    assert response.status_code == status


@pytest.mark.parametrize(("role", "status"), DETAIL_STATUS.items())
def test_order_page_follows_its_customer(client, user_of, role, status, order):
    client.force_login(user_of(role))
    assert client.get(reverse("commerce:detail", args=[order.pk])).status_code == status


def test_order_list_leaves_out_orders_of_unseen_customers(client, other_sales, order):
    client.force_login(other_sales)
    response = client.get(reverse("commerce:list"))
    assert response.status_code == 200
    assert list(response.context["orders"]) == []


EDIT_STATUS = {
    "admin_user": 200,
    "manager": 200,
    "sales": 200,
    "other_sales": 404,
    "south_sales": 404,
    "service_agent": 403,
    "marketer": 403,
    "analyst": 403,
}


@pytest.mark.parametrize(("role", "status"), EDIT_STATUS.items())
def test_edit_page_by_role(client, user_of, role, status, own_customer):
    client.force_login(user_of(role))
    assert client.get(reverse("customers:edit", args=[own_customer.pk])).status_code == status


CREATE_STATUS = {
    "admin_user": 200,
    "manager": 200,
    "sales": 200,
    "service_agent": 403,
    "marketer": 403,
    "analyst": 403,
}


@pytest.mark.parametrize(("role", "status"), CREATE_STATUS.items())
def test_new_customer_page_by_role(client, user_of, role, status):
    client.force_login(user_of(role))
    assert client.get(reverse("customers:create")).status_code == status


@pytest.mark.parametrize(("role", "status"), CREATE_STATUS.items())
def test_creating_a_customer_by_role(client, user_of, role, status):
    client.force_login(user_of(role))
    data = {"name": "新客户", "gender": "unknown", "source_channel": "store", "status": "active"}
    response = client.post(reverse("customers:create"), data)
    assert response.status_code == (302 if status == 200 else 403)
    assert Customer.objects.filter(name="新客户").count() == (1 if status == 200 else 0)


def test_salesperson_cannot_edit_a_colleagues_customer(client, other_sales, own_customer):
    client.force_login(other_sales)
    data = {"name": "改名", "gender": "unknown", "source_channel": "store", "status": "active"}
    response = client.post(reverse("customers:edit", args=[own_customer.pk]), data)
    assert response.status_code == 404
    own_customer.refresh_from_db()
    assert own_customer.name == "王芳"


def test_salesperson_cannot_open_a_colleagues_customer(client, other_sales, own_customer):
    client.force_login(other_sales)
    response = client.get(reverse("customers:detail", args=[own_customer.pk]))
    assert response.status_code == 404
    assert "王芳" not in response.content.decode()


CLAIM_STATUS = {
    "admin_user": 403,
    "manager": 302,
    "sales": 302,
    "service_agent": 403,
    "marketer": 403,
    "analyst": 403,
}


@pytest.mark.parametrize(("role", "status"), CLAIM_STATUS.items())
def test_claiming_by_role(client, user_of, role, status, pool_customer):
    user = user_of(role)
    client.force_login(user)
    response = client.post(reverse("customers:claim", args=[pool_customer.pk]))
    assert response.status_code == status
    pool_customer.refresh_from_db()
    assert pool_customer.owner == (user if status == 302 else None)


TRANSFER_STATUS = {
    "admin_user": 302,
    "manager": 302,
    "sales": 403,
    "service_agent": 403,
    "marketer": 403,
    "analyst": 403,
}


@pytest.mark.parametrize(("role", "status"), TRANSFER_STATUS.items())
def test_transferring_by_role(client, user_of, role, status, own_customer, other_sales):
    client.force_login(user_of(role))
    url = reverse("customers:transfer", args=[own_customer.pk])
    response = client.post(url, {"new_owner": other_sales.pk, "reason": "调岗"})
    assert response.status_code == status
    own_customer.refresh_from_db()
    expected_owner = other_sales if status == 302 else own_customer.owner
    assert own_customer.owner == expected_owner
    assert OwnershipChange.objects.filter(customer=own_customer).count() == (status == 302)


LOG_STATUS = {
    "admin_user": 302,
    "manager": 302,
    "sales": 302,
    "other_sales": 404,
    "service_agent": 302,
    "marketer": 403,
    "analyst": 403,
}


@pytest.mark.parametrize(("role", "status"), LOG_STATUS.items())
def test_logging_a_contact_by_role(client, user_of, role, status, own_customer):
    client.force_login(user_of(role))
    url = reverse("engagement:log", args=[own_customer.pk])
    response = client.post(url, {"channel": "phone", "direction": "outbound", "summary": "回访"})
    assert response.status_code == status
    assert Interaction.objects.filter(customer=own_customer).count() == (status == 302)


@pytest.mark.parametrize(("role", "status"), [*CREATE_STATUS.items(), ("other_sales", 404)])
def test_tagging_by_role(client, user_of, role, status, own_customer):
    client.force_login(user_of(role))
    response = client.post(reverse("customers:tags", args=[own_customer.pk]), {"tags": "VIP"})
    assert response.status_code == (302 if status == 200 else status)
    assert own_customer.tags.count() == (1 if status == 200 else 0)


@pytest.mark.parametrize(("role", "status"), [("admin_user", 200), *[(r, 403) for r in ROLES[1:]]])
def test_pool_settings_page_by_role(client, user_of, role, status):
    client.force_login(user_of(role))
    assert client.get(reverse("accounts:pool_settings")).status_code == status


ANONYMOUS_PAGES = [
    ("web:home", []),
    ("customers:list", []),
    ("customers:pool", []),
    ("customers:create", []),
    ("customers:detail", [1]),
    ("customers:edit", [1]),
    ("commerce:list", []),
    ("commerce:detail", [1]),
    ("accounts:pool_settings", []),
]


@pytest.mark.parametrize(("name", "args"), ANONYMOUS_PAGES)
def test_anonymous_visitors_are_sent_to_login(client, db, name, args):
    url = reverse(name, args=args)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('accounts:login')}?next={url}"


def test_anonymous_post_writes_nothing(client, pool_customer):
    response = client.post(reverse("customers:claim", args=[pool_customer.pk]))
    assert response.status_code == 302
    pool_customer.refresh_from_db()
    assert pool_customer.owner is None
