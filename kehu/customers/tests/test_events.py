"""The customers app records customer.created, customer.updated and customer.merged in the
transaction of the change: once per real change, none when the change rolls back."""

import pytest
from django.db import transaction

from kehu.customers.services import (
    create_customer,
    merge_customers,
    tag_customer,
    update_customer,
)
from kehu.events.models import Event
from kehu.imports.tests.helpers import import_file, media_in_tmp, write_csv  # noqa: F401
from tests.fixtures.records import make_customer

pytestmark = pytest.mark.django_db


class Undone(Exception):
    pass


def events(name: str) -> list[Event]:
    return list(Event.objects.filter(name=name).order_by("pk"))


def test_creating_a_customer_records_customer_created(sales):
    customer = create_customer(sales, {"name": "赵敏", "source_channel": "online"})

    [event] = events("customer.created")
    assert event.customer_id == customer.pk
    assert event.payload == {"customer_id": customer.pk, "source_channel": "online"}
    assert Event.objects.count() == 1


def test_a_rolled_back_creation_records_nothing(sales):
    with pytest.raises(Undone), transaction.atomic():
        create_customer(sales, {"name": "赵敏"})
        raise Undone

    assert Event.objects.count() == 0


def test_updating_records_the_names_of_the_changed_fields_only(sales):
    customer = make_customer(sales, name="赵敏", city="上海")

    update_customer(sales, customer.pk, {"city": "北京", "name": "赵敏", "occupation": "教师"})

    [event] = events("customer.updated")
    assert event.customer_id == customer.pk
    assert event.payload == {"customer_id": customer.pk, "fields": ["city", "occupation"]}


def test_an_update_that_changes_nothing_records_nothing(sales):
    customer = make_customer(sales, name="赵敏", city="上海")

    update_customer(sales, customer.pk, {"city": "上海", "name": "赵敏"})

    assert Event.objects.count() == 0


def test_a_rolled_back_update_records_nothing(sales):
    customer = make_customer(sales, name="赵敏")

    with pytest.raises(Undone), transaction.atomic():
        update_customer(sales, customer.pk, {"city": "北京"})
        raise Undone

    assert Event.objects.count() == 0


def test_changing_tags_is_an_update_of_the_field_tags(sales):
    customer = make_customer(sales, name="赵敏")

    tag_customer(sales, customer.pk, ["VIP", "常客"])
    tag_customer(sales, customer.pk, ["常客", "VIP"])  # the same tags: no change

    [event] = events("customer.updated")
    assert event.customer_id == customer.pk
    assert event.payload == {"customer_id": customer.pk, "fields": ["tags"]}

    with pytest.raises(Undone), transaction.atomic():
        tag_customer(sales, customer.pk, ["VIP"])
        raise Undone
    assert Event.objects.count() == 1


def test_merging_records_customer_merged_for_the_kept_customer(sales):
    kept = make_customer(sales, name="赵敏")
    merged = make_customer(sales, name="赵敏 (2)")

    merge_customers(sales, kept.pk, merged.pk)

    [event] = events("customer.merged")
    assert event.customer_id == kept.pk
    assert event.payload == {"kept_customer_id": kept.pk, "merged_customer_id": merged.pk}
    assert Event.objects.count() == 1


def test_a_rolled_back_merge_records_nothing(sales):
    kept = make_customer(sales, name="赵敏")
    merged = make_customer(sales, name="赵敏 (2)")

    with pytest.raises(Undone), transaction.atomic():
        merge_customers(sales, kept.pk, merged.pk)
        raise Undone

    assert Event.objects.count() == 0


def test_an_import_records_one_customer_created_per_customer_it_creates(sales, tmp_path):
    path = write_csv(
        tmp_path,
        [
            ["姓名", "手机号"],
            ["赵敏", "13800001111"],
            ["钱多多", "12345"],
            ["孙悟空", "13800002222"],
        ],
    )

    import_file(sales, "customers", path)

    created = events("customer.created")
    assert sorted(event.payload["customer_id"] for event in created) == sorted(
        event.customer_id for event in created
    )
    assert len(created) == 2  # the row with a bad mobile is not imported
    assert Event.objects.count() == 2


def test_an_import_that_updates_records_customer_updated(sales, tmp_path):
    customer = make_customer(sales, name="赵敏", mobile="13800001111", city="上海")
    path = write_csv(tmp_path, [["姓名", "手机号", "城市"], ["赵敏", "13800001111", "北京"]])

    import_file(sales, "customers", path)

    [event] = events("customer.updated")
    assert event.payload == {"customer_id": customer.pk, "fields": ["city"]}
