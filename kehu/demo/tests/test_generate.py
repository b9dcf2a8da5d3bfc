"""The demo data set: believable, consistent, with the buying patterns analytics should find."""

from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db.models import Count, F, Max, Sum
from django.utils import timezone

from kehu.accounts.models import User
from kehu.accounts.roles import Role
from kehu.commerce.models import Order, OrderLine, OrderStatus, Refund, Store
from kehu.customers.models import Customer, OwnershipAction, OwnershipChange
from kehu.customers.pool import neglected_customers
from kehu.customers.validation import normalise_mobile
from kehu.demo.generate import generate_demo
from kehu.demo.reset import delete_business_records
from kehu.engagement.models import Interaction

CUSTOMERS = 300


def run_demo(*arguments: str) -> str:
    output = StringIO()
    call_command("demo", *arguments, stdout=output)
    return output.getvalue()


@pytest.fixture
def demo(db) -> str:
    return run_demo("--customers", str(CUSTOMERS), "--seed", "7")


def test_counts_are_in_the_expected_range(demo):
    orders = Order.objects.count()
    assert Customer.objects.count() == CUSTOMERS
    assert 2_400 <= orders <= 6_000  # about 12.5 orders a customer, heavy-tailed
    assert OrderLine.objects.count() > orders
    assert 0.005 * orders <= Refund.objects.count() <= 0.04 * orders
    assert Interaction.objects.count() >= CUSTOMERS
    assert set(User.objects.values_list("role", flat=True)) == set(Role.values)
    assert Customer.tags.through.objects.count() > 0


def test_every_mobile_is_a_valid_unique_chinese_mobile(demo):
    mobiles = list(Customer.objects.values_list("mobile", flat=True))
    assert all(normalise_mobile(mobile) == mobile for mobile in mobiles)
    assert len(set(mobiles)) == CUSTOMERS


def test_order_totals_equal_the_sum_of_their_lines(demo):
    # Summed in Python: SQLite stores decimals as floating point, so SQL sums are inexact.
    line_totals: dict[int, Decimal] = {}
    line_discounts: dict[int, Decimal] = {}
    for order_id, amount, discount in OrderLine.objects.values_list("order", "amount", "discount"):
        line_totals[order_id] = line_totals.get(order_id, Decimal(0)) + amount
        line_discounts[order_id] = line_discounts.get(order_id, Decimal(0)) + discount
    for order_id, total, discount in Order.objects.values_list(
        "pk", "total_amount", "discount_amount"
    ):
        assert total == line_totals[order_id]
        assert discount == line_discounts[order_id]
    for quantity, unit_price, discount, amount in OrderLine.objects.values_list(
        "quantity", "unit_price", "discount", "amount"
    ):
        assert amount == quantity * unit_price - discount
        assert Decimal("0") <= discount < quantity * unit_price


def test_orders_fall_between_sign_up_and_now(demo):
    assert not Order.objects.filter(ordered_at__lt=F("customer__created_at")).exists()
    assert not Order.objects.filter(ordered_at__gt=timezone.now()).exists()
    assert not Customer.objects.filter(created_at__gt=timezone.now()).exists()
    first = Order.objects.order_by("ordered_at").first()
    assert first is not None and first.ordered_at > timezone.now() - timedelta(days=731)


def test_orders_happen_in_shanghai_shopping_hours(demo):
    shanghai = ZoneInfo("Asia/Shanghai")
    hours = Counter(
        moment.astimezone(shanghai).hour
        for moment in Order.objects.values_list("ordered_at", flat=True)
    )
    in_hours = sum(count for hour, count in hours.items() if 8 <= hour < 22)
    assert in_hours >= 0.95 * sum(hours.values())


def test_refunded_orders_match_their_refunds(demo):
    for order in Order.objects.annotate(refund_total=Sum("refunds__amount")):
        assert order.refunded_amount == (order.refund_total or 0)
        if order.refund_total is None:
            assert order.status not in (OrderStatus.REFUNDED, OrderStatus.PARTIALLY_REFUNDED)
        elif order.refund_total == order.total_amount:
            assert order.status == OrderStatus.REFUNDED
        else:
            assert order.status == OrderStatus.PARTIALLY_REFUNDED
    assert not Refund.objects.filter(refunded_at__lt=F("order__ordered_at")).exists()


def test_some_customers_stop_buying(demo):
    half_year_ago = timezone.now() - timedelta(days=180)
    buyers = Customer.objects.annotate(last=Max("orders__ordered_at")).filter(last__isnull=False)
    lapsed = buyers.filter(last__lt=half_year_ago).count()
    assert 0.1 <= lapsed / buyers.count() <= 0.7
    assert Customer.objects.filter(orders__isnull=True).exists()  # prospects who never bought


def test_purchase_counts_vary_widely_between_customers(demo):
    counts = sorted(Customer.objects.annotate(n=Count("orders")).values_list("n", flat=True))
    median = counts[len(counts) // 2]
    assert counts[-1] >= 8 * median
    assert sum(1 for n in counts if n == 1) >= 0.1 * len(counts)


def test_ownership_and_follow_ups_are_consistent(demo):
    owned = Customer.objects.filter(owner__isnull=False).select_related("owner", "home_store")
    in_pool = Customer.objects.filter(owner__isnull=True).count()
    assert 0.1 * CUSTOMERS <= in_pool <= 0.8 * CUSTOMERS
    # The pool's rule has run: nobody still owned is past the follow-up deadline.
    assert neglected_customers(timezone.now().replace(minute=0, second=0, microsecond=0)) == []
    assert OwnershipChange.objects.filter(action=OwnershipAction.AUTO_RETURN).exists()
    assignments = {
        change.customer_id: change
        for change in OwnershipChange.objects.filter(action=OwnershipAction.ASSIGN)
    }
    for customer in owned:
        assert customer.owner.role == Role.SALES
        assert customer.owner.team_id == customer.home_store.team_id
        assert assignments[customer.pk].new_owner_id == customer.owner_id
        assert assignments[customer.pk].created_at == customer.owned_since
        assert customer.owned_since >= customer.created_at
    assert not Customer.objects.filter(owner__isnull=True, owned_since__isnull=False).exists()
    latest = dict(
        Interaction.objects.values("customer")
        .annotate(last=Max("occurred_at"))
        .values_list("customer", "last")
    )
    for customer_id, last in Customer.objects.values_list("pk", "last_followed_up_at"):
        assert last == latest.get(customer_id)


def test_the_staff_work_at_their_teams_stores(demo):
    for user in User.objects.filter(team__isnull=False).prefetch_related("stores"):
        assert {store.team_id for store in user.stores.all()} == {user.team_id}, user.username
        assert user.stores.count() == user.team.stores.count()
    service = User.objects.get(username="service1")
    assert service.stores.count() == Store.objects.count()  # the service desk: every counter
    for username in ("admin", "marketing1", "analyst1"):
        assert not User.objects.get(username=username).stores.exists()


def test_owners_log_the_interactions_of_their_customers(demo):
    by_owner = Interaction.objects.filter(customer__owner__isnull=False).exclude(
        staff__role=Role.SERVICE
    )
    assert by_owner.exists()
    assert not by_owner.exclude(staff=F("customer__owner")).exists()
    assert not Interaction.objects.filter(occurred_at__gt=timezone.now()).exists()


def test_the_same_seed_gives_the_same_data(db):
    now = datetime(2025, 6, 30, 12, 0, tzinfo=UTC)
    generate_demo(120, seed=11, now=now)
    first = snapshot()
    delete_business_records()
    generate_demo(120, seed=11, now=now)
    assert snapshot() == first
    delete_business_records()
    generate_demo(120, seed=12, now=now)
    assert snapshot() != first


def snapshot() -> tuple[list, list]:
    customers = list(
        Customer.objects.order_by("mobile").values_list("name", "mobile", "created_at")
    )
    orders = list(
        Order.objects.order_by("customer__mobile", "ordered_at", "total_amount").values_list(
            "customer__mobile", "ordered_at", "total_amount", "status"
        )
    )
    return customers, orders


def test_if_empty_does_not_add_data_twice(db):
    first = run_demo("--customers", "50", "--if-empty")
    orders = Order.objects.count()
    second = run_demo("--customers", "50", "--if-empty")
    assert Customer.objects.count() == 50
    assert Order.objects.count() == orders
    assert "admin / kehu-admin" in first
    assert "already has customers" in second
    assert "admin / kehu-admin" in second


def test_reset_replaces_the_data(db):
    run_demo("--customers", "40")
    run_demo("--customers", "30", "--reset")
    assert Customer.objects.count() == 30
    assert not Order.objects.exclude(customer__in=Customer.objects.all()).exists()


def test_printed_logins_work(demo, client):
    assert "http://127.0.0.1:8000" in demo
    logins = [line.split()[:3] for line in demo.splitlines() if " / kehu-" in line]
    assert [username for username, _slash, _password in logins][:2] == ["admin", "sales1"]
    for username, _slash, password in logins:
        assert client.login(username=username, password=password), username
    assert User.objects.get(username="admin").role == Role.ADMIN
    assert User.objects.get(username="sales1").role == Role.SALES


def test_too_few_customers_is_refused(db):
    with pytest.raises(Exception, match="at least 1"):
        run_demo("--customers", "0")
    assert not Customer.objects.exists()
