"""The segments app records segment.joined and segment.left for every customer a refresh or a
static list's edit adds or removes, in the change's transaction, in batches."""

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from kehu.customers.models import Customer
from kehu.events.models import Event
from kehu.segments.models import SegmentMember
from kehu.segments.services import (
    BATCH,
    add_to_static_segment,
    create_segment,
    refresh_segment,
    remove_from_static_segment,
)
from kehu.segments.tests.rule_helpers import NOW
from tests.fixtures.records import make_customer

pytestmark = pytest.mark.django_db

SHANGHAI = {"field": "city", "op": "eq", "value": "上海"}


class Undone(Exception):
    pass


def pairs(name: str) -> list[tuple[int, int]]:
    """(segment id, customer id) of the events of `name`, checking customer_id matches."""
    found = []
    for event in Event.objects.filter(name=name).order_by("pk"):
        assert event.customer_id == event.payload["customer_id"]
        assert set(event.payload) == {"segment_id", "customer_id"}
        found.append((event.payload["segment_id"], event.customer_id))
    return found


def test_a_refresh_records_who_joined_and_who_left(admin_user):
    stays = make_customer(name="留下的", city="上海")
    leaves = make_customer(name="走的", city="上海")
    comes = make_customer(name="来的", city="北京")
    segment = create_segment(admin_user, name="上海客户", rule=SHANGHAI, now=NOW)
    assert sorted(pairs("segment.joined")) == sorted(
        [(segment.pk, stays.pk), (segment.pk, leaves.pk)]
    )
    Event.objects.all().delete()

    Customer.objects.filter(pk=leaves.pk).update(city="杭州")
    Customer.objects.filter(pk=comes.pk).update(city="上海")
    refresh_segment(segment.pk, now=NOW + timedelta(days=1))

    assert pairs("segment.joined") == [(segment.pk, comes.pk)]
    assert pairs("segment.left") == [(segment.pk, leaves.pk)]
    assert Event.objects.count() == 2

    refresh_segment(segment.pk, now=NOW + timedelta(days=2))  # nobody moved
    assert Event.objects.count() == 2


def test_a_rolled_back_refresh_records_nothing(admin_user):
    make_customer(name="留下的", city="上海")
    segment = create_segment(admin_user, name="上海客户", rule=SHANGHAI, now=NOW)
    Event.objects.all().delete()
    make_customer(name="来的", city="上海")

    with pytest.raises(Undone), transaction.atomic():
        refresh_segment(segment.pk, now=NOW + timedelta(days=1))
        raise Undone

    assert Event.objects.count() == 0
    assert SegmentMember.objects.filter(segment=segment).count() == 1


def test_a_static_list_records_adds_and_removes(sales):
    own = make_customer(owner=sales, name="自己的")
    other = make_customer(owner=sales, name="另一个")
    segment = create_segment(sales, name="名单", kind="static")

    add_to_static_segment(sales, segment.pk, [own.pk, other.pk])
    add_to_static_segment(sales, segment.pk, [own.pk])  # a member already: no change
    remove_from_static_segment(sales, segment.pk, [other.pk])
    remove_from_static_segment(sales, segment.pk, [other.pk])  # gone already: no change

    assert sorted(pairs("segment.joined")) == sorted([(segment.pk, own.pk), (segment.pk, other.pk)])
    assert pairs("segment.left") == [(segment.pk, other.pk)]
    assert Event.objects.count() == 3

    with pytest.raises(Undone), transaction.atomic():
        remove_from_static_segment(sales, segment.pk, [own.pk])
        raise Undone
    assert Event.objects.count() == 3


def test_many_members_are_recorded_in_batches_of_one_statement_each(admin_user):
    count = BATCH * 2 + 10
    Customer.objects.bulk_create(
        Customer(name=f"客户{index}", city="上海") for index in range(count)
    )

    with CaptureQueriesContext(connection) as queries:
        segment = create_segment(admin_user, name="上海客户", rule=SHANGHAI, now=NOW)

    assert len(pairs("segment.joined")) == count
    table = Event._meta.db_table
    # an executemany is one statement (the log shows it as "2000 times: INSERT ...")
    inserts = [q for q in queries.captured_queries if f'INSERT INTO "{table}"' in q["sql"]]
    assert len(inserts) == 3  # one per batch of BATCH customers
    assert SegmentMember.objects.filter(segment=segment).count() == count
