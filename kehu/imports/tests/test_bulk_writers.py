"""The bulk writers of imported orders, each on its own database (the suite runs on both)."""

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, transaction
from django.utils import timezone

from kehu.commerce.bulk import OrmWriter, PostgresWriter, SQLiteWriter, bulk_writer
from kehu.commerce.models import ChannelKind, Order, OrderLine, SalesChannel
from tests.fixtures.records import make_customer

SHANGHAI = ZoneInfo("Asia/Shanghai")
VENDOR_WRITERS = {"sqlite": SQLiteWriter, "postgresql": PostgresWriter}


@pytest.fixture
def customer(db):
    return make_customer(name="王芳", member_number="M001")


def order_row(customer, channel, external_id, store=None, total="32.00"):
    return (
        customer.pk, channel.pk, external_id, store.pk if store else None, "paid",
        datetime(2024, 3, 1, 10, 20, 5, tzinfo=SHANGHAI), Decimal(total), Decimal("1.00"),
        Decimal("0.00"), timezone.now(),
    )  # fmt: skip


def test_the_writer_is_chosen_by_the_database_vendor(db):
    assert type(bulk_writer()) is VENDOR_WRITERS[connection.vendor]


@pytest.mark.parametrize("make_writer", [bulk_writer, OrmWriter], ids=["vendor", "orm"])
def test_orders_and_lines_are_stored_with_their_values(
    make_writer, customer, channel, store, product
):
    with transaction.atomic():
        writer = make_writer()
        ids = writer.insert_orders(
            [order_row(customer, channel, "A1", store), order_row(customer, channel, "A2")]
        )
        writer.insert_lines([
            (ids[0], product.pk, "鲜牛奶 1L", Decimal("2.000"), Decimal("12.50"),
             Decimal("1.00"), Decimal("24.00")),
            (ids[1], None, "面包 <script>", Decimal("1.500"), Decimal("8.00"),
             Decimal("0.00"), Decimal("12.00")),
        ])  # fmt: skip
    first, second = Order.objects.get(pk=ids[0]), Order.objects.get(pk=ids[1])
    assert (first.external_id, second.external_id) == ("A1", "A2")
    assert (first.store_id, second.store_id) == (store.pk, None)
    assert first.ordered_at == datetime(2024, 3, 1, 10, 20, 5, tzinfo=SHANGHAI)
    assert (first.total_amount, first.discount_amount, first.refunded_amount) == (
        Decimal("32.00"), Decimal("1.00"), Decimal("0.00"),
    )  # fmt: skip
    assert list(first.lines.values_list("product_id", "quantity", "amount")) == [
        (product.pk, Decimal("2.000"), Decimal("24.00"))
    ]
    assert second.lines.get().product_name == "面包 <script>"


@pytest.mark.parametrize("make_writer", [bulk_writer, OrmWriter], ids=["vendor", "orm"])
def test_ids_follow_the_table_and_later_orders_do_not_collide(make_writer, customer, channel):
    before = Order.objects.create(
        customer=customer, channel=channel, external_id="OLD", ordered_at=timezone.now()
    )
    with transaction.atomic():
        ids = make_writer().insert_orders(
            [order_row(customer, channel, f"N{number}") for number in range(3)]
        )
    after = Order.objects.create(
        customer=customer, channel=channel, external_id="NEW", ordered_at=timezone.now()
    )
    assert len(set(ids)) == 3
    assert before.pk < min(ids) and max(ids) < after.pk
    assert dict(Order.objects.filter(pk__in=ids).values_list("pk", "external_id")) == {
        ids[0]: "N0", ids[1]: "N1", ids[2]: "N2",
    }  # fmt: skip


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's AUTOINCREMENT")
def test_sqlite_writer_never_reuses_the_id_of_a_deleted_order(customer, channel):
    deleted = Order.objects.create(
        customer=customer, channel=channel, external_id="GONE", ordered_at=timezone.now()
    )
    deleted_id = deleted.pk
    deleted.delete()
    with transaction.atomic():
        (order_id,) = SQLiteWriter(connection).insert_orders([order_row(customer, channel, "A1")])
    assert order_id > deleted_id


@pytest.mark.django_db(transaction=True)
def test_vendor_writers_refuse_to_write_outside_a_transaction(customer, channel):
    writer = bulk_writer()
    with pytest.raises(RuntimeError, match="transaction"):
        writer.insert_orders([order_row(customer, channel, "A1")])
    with pytest.raises(RuntimeError, match="transaction"):
        writer.insert_lines([])
    assert Order.objects.count() == 0
    assert OrderLine.objects.count() == 0


def test_a_rolled_back_transaction_keeps_nothing(customer, channel):
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        writer = bulk_writer()
        (order_id,) = writer.insert_orders([order_row(customer, channel, "A1")])
        writer.insert_lines([(order_id, None, "面包", 1, 8, 0, 8)])
        1 / 0  # noqa: B018
    assert Order.objects.count() == 0
    assert OrderLine.objects.count() == 0


def test_no_orders_is_no_work(db):
    with transaction.atomic():
        assert bulk_writer().insert_orders([]) == []


@pytest.mark.parametrize("make_writer", [bulk_writer, OrmWriter], ids=["vendor", "orm"])
def test_existing_orders_answers_only_the_keys_asked(make_writer, customer, channel):
    other = SalesChannel.objects.create(code="web", name="网店", kind=ChannelKind.ONLINE)
    stored = {
        (sales_channel.pk, external_id): Order.objects.create(
            customer=customer, channel=sales_channel, external_id=external_id,
            ordered_at=timezone.now(),
        ).pk
        for sales_channel, external_id in [(channel, "A1"), (other, "A1"), (other, "B2")]
    }  # fmt: skip
    asked = [(channel.pk, "A1"), (channel.pk, "B2"), (channel.pk, "C3"), (other.pk, "B2")]
    assert make_writer().existing_orders(asked) == {
        (channel.pk, "A1"): stored[(channel.pk, "A1")],
        (other.pk, "B2"): stored[(other.pk, "B2")],
    }
    assert make_writer().existing_orders([]) == {}
