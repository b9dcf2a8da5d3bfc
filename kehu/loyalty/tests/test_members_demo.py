"""The demo's members: about 60% of customers, points on their orders since they joined,
balances equal to their ledgers, and a reset that clears them."""

import pytest
from django.db.models import Sum

from kehu.customers.models import Customer
from kehu.demo.generate import generate_demo
from kehu.demo.reset import delete_business_records
from kehu.loyalty.models import Membership, PointsEntry
from kehu.loyalty.points.services import check_balances

pytestmark = pytest.mark.django_db


def test_the_demo_enrols_most_customers_with_their_points():
    generate_demo(400, seed=11)
    members = Membership.objects.count()
    assert 0.5 * 400 < members < 0.7 * 400
    assert check_balances() == []
    earned = PointsEntry.objects.filter(kind="earn", source="order")
    assert earned.count() > members
    first_order = earned.order_by("created_at").first()
    assert first_order is not None
    assert first_order.created_at == first_order.order.ordered_at  # dated at the purchase
    assert Membership.objects.aggregate(total=Sum("points_balance"))["total"] > 0
    assert earned.filter(reason__contains="生鲜双倍积分").exists()  # the demo's earning rule
    delete_business_records()
    assert not Membership.objects.exists() and not Customer.objects.exists()
