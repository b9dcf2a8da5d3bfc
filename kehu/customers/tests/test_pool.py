from datetime import timedelta

import pytest
from django.http import Http404
from django.utils import timezone

from kehu.accounts.models import PoolPolicy
from kehu.core.errors import NotAllowed, RuleViolation
from kehu.customers.models import Customer, OwnershipChange
from kehu.customers.pool import (
    claim_customer,
    release_customer,
    return_neglected_customers,
    transfer_customer,
)
from tests.fixtures.records import make_customer


def test_claim_takes_a_pool_customer(sales, pool_customer):
    claim_customer(sales, pool_customer.pk)
    pool_customer.refresh_from_db()
    assert pool_customer.owner == sales
    assert OwnershipChange.objects.get(customer=pool_customer).action == "claim"


def test_claim_respects_the_per_person_limit(sales, pool_customer):
    PoolPolicy.objects.update_or_create(pk=1, defaults={"claim_limit": 1})
    make_customer(owner=sales)
    with pytest.raises(RuleViolation) as caught:
        claim_customer(sales, pool_customer.pk)
    assert caught.value.code == "claim_limit_reached"
    pool_customer.refresh_from_db()
    assert pool_customer.owner is None


def test_claiming_someone_elses_customer_is_not_found(sales, colleague_customer):
    with pytest.raises(Http404):
        claim_customer(sales, colleague_customer.pk)


def test_service_cannot_claim(service_agent, pool_customer):
    with pytest.raises(NotAllowed):
        claim_customer(service_agent, pool_customer.pk)


def test_release_needs_a_reason(sales, own_customer):
    with pytest.raises(RuleViolation):
        release_customer(sales, own_customer.pk, "  ")
    own_customer.refresh_from_db()
    assert own_customer.owner == sales


def test_release_returns_to_pool_with_reason(sales, own_customer):
    release_customer(sales, own_customer.pk, "客户已搬家")
    own_customer.refresh_from_db()
    assert own_customer.owner is None
    change = OwnershipChange.objects.get(customer=own_customer)
    assert (change.action, change.reason, change.previous_owner) == ("release", "客户已搬家", sales)


def test_manager_transfers_within_team(manager, other_sales, own_customer):
    transfer_customer(manager, own_customer.pk, other_sales.pk, "调岗")
    own_customer.refresh_from_db()
    assert own_customer.owner == other_sales


def test_manager_cannot_transfer_to_another_team(manager, south_sales, own_customer):
    with pytest.raises(RuleViolation):
        transfer_customer(manager, own_customer.pk, south_sales.pk)


def test_sales_cannot_transfer(sales, other_sales, own_customer):
    with pytest.raises(NotAllowed):
        transfer_customer(sales, own_customer.pk, other_sales.pk)


def test_neglected_customers_return_to_pool_once(sales):
    long_ago = timezone.now() - timedelta(days=40)
    neglected = make_customer(owner=sales, owned_since=long_ago, last_followed_up_at=long_ago)
    followed = make_customer(
        owner=sales, owned_since=long_ago, last_followed_up_at=timezone.now() - timedelta(days=2)
    )
    fresh = make_customer(owner=sales, owned_since=timezone.now())
    assert return_neglected_customers() == 1
    assert return_neglected_customers() == 0
    owners = dict(Customer.objects.values_list("pk", "owner_id"))
    assert owners == {neglected.pk: None, followed.pk: sales.pk, fresh.pk: sales.pk}
    assert OwnershipChange.objects.filter(action="auto_return").count() == 1


def test_auto_return_can_be_switched_off(sales):
    PoolPolicy.objects.update_or_create(pk=1, defaults={"is_auto_return_enabled": False})
    long_ago = timezone.now() - timedelta(days=400)
    make_customer(owner=sales, owned_since=long_ago)
    assert return_neglected_customers() == 0
