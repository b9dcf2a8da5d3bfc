from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import translation

from kehu.core.errors import NotAllowed, RuleViolation
from kehu.core.tabular import stream_csv
from kehu.customers.models import Customer
from kehu.segments.exporting import export_segment_rows
from kehu.segments.models import Segment, SegmentMember, SegmentSnapshot
from kehu.segments.queries import (
    segment_member_count,
    segment_members,
    segments_with_counts,
)
from kehu.segments.services import (
    add_to_static_segment,
    create_segment,
    delete_segment,
    preview_segment,
    refresh_all_segments,
    refresh_segment,
    refresh_segment_now,
    remove_from_static_segment,
    update_segment,
)
from kehu.segments.tests.rule_helpers import NOW, metrics_for
from tests.fixtures.records import make_customer

SHANGHAI = {"field": "city", "op": "eq", "value": "上海"}


@pytest.fixture
def town(sales, other_sales, south_sales):
    """Shanghai customers of three salespeople and the pool, and one in Beijing."""
    customers = {
        "own": make_customer(owner=sales, name="自己的", city="上海", email="own@example.com"),
        "colleague": make_customer(owner=other_sales, name="同事的", city="上海"),
        "south": make_customer(owner=south_sales, name="南区的", city="上海"),
        "pool": make_customer(owner=None, name="公海的", city="上海"),
        "beijing": make_customer(owner=sales, name="北京的", city="北京"),
    }
    for spent, key in enumerate(["own", "colleague", "south", "pool"], start=1):
        metrics_for(customers[key], monetary=Decimal(spent * 100), frequency=spent)
    return customers


def names(customers) -> set[str]:
    return {customer.name for customer in customers}


def test_preview_counts_only_customers_the_actor_may_see(town, sales, manager, admin_user):
    assert preview_segment(sales, SHANGHAI).count == 2
    assert preview_segment(manager, SHANGHAI).count == 3
    assert preview_segment(admin_user, SHANGHAI).count == 4
    assert names(preview_segment(sales, SHANGHAI).sample) == {"自己的", "公海的"}


def test_preview_sample_is_biggest_spenders_first_and_masked(town, marketer):
    preview = preview_segment(marketer, SHANGHAI, sample_size=3)
    assert preview.count == 4
    assert [customer.name for customer in preview.sample] == ["公海的", "南区的", "同事的"]
    assert all(customer.contact_is_masked for customer in preview.sample)


def test_preview_reports_rule_errors_under_rule(town, sales):
    with translation.override("en"), pytest.raises(ValidationError) as raised:
        preview_segment(sales, {"all": [{"field": "age", "op": "gt", "value": "old"}]})
    assert raised.value.message_dict == {"rule.all.0.value": ["Enter a number."]}


def test_creating_a_dynamic_segment_selects_its_members_and_snapshots(town, marketer):
    segment = create_segment(marketer, name="上海客户", rule=SHANGHAI, now=NOW)
    assert segment.created_by == marketer
    assert segment.member_count == 4
    assert segment.refreshed_at == NOW
    assert set(segment.members.values_list("customer__name", flat=True)) == {
        "自己的",
        "同事的",
        "南区的",
        "公海的",
    }
    snapshot = segment.snapshots.get()
    assert (snapshot.member_count, snapshot.joined_count, snapshot.left_count) == (4, 4, 0)
    assert sorted(snapshot.joined_sample) == sorted(
        town[key].pk for key in ["own", "colleague", "south", "pool"]
    )


def test_refresh_records_who_joined_and_left(town, admin_user):
    segment = create_segment(admin_user, name="上海客户", rule=SHANGHAI, now=NOW)
    town["own"].city = "杭州"
    town["own"].save()
    town["beijing"].city = "上海"
    town["beijing"].save()
    later = NOW + timedelta(days=1)
    snapshot = refresh_segment(segment.pk, now=later)
    assert (snapshot.member_count, snapshot.joined_count, snapshot.left_count) == (4, 1, 1)
    assert snapshot.joined_sample == [town["beijing"].pk]
    assert snapshot.left_sample == [town["own"].pk]
    segment.refresh_from_db()
    assert (segment.member_count, segment.refreshed_at) == (4, later)
    unchanged = refresh_segment(segment.pk, now=later + timedelta(hours=1))
    assert (unchanged.member_count, unchanged.joined_count, unchanged.left_count) == (4, 0, 0)
    assert (unchanged.joined_sample, unchanged.left_sample) == ([], [])
    assert segment.snapshots.count() == 3
    assert SegmentMember.objects.filter(segment=segment).count() == 4


def test_snapshot_samples_keep_at_most_twenty_ids(db, admin_user):
    for number in range(25):
        make_customer(name=f"客{number}", city="上海")
    segment = create_segment(admin_user, name="大", rule=SHANGHAI, now=NOW)
    snapshot = segment.snapshots.get()
    assert snapshot.joined_count == 25
    assert len(snapshot.joined_sample) == 20


def test_refresh_all_refreshes_dynamic_segments_only(town, admin_user):
    create_segment(admin_user, name="上海", rule=SHANGHAI, now=NOW)
    create_segment(admin_user, name="名单", kind="static")
    assert refresh_all_segments(now=NOW) == 1
    assert SegmentSnapshot.objects.count() == 2


def test_a_rule_that_no_longer_compiles_keeps_its_members(town, admin_user):
    from kehu.customers.models import AttributeType, CustomAttribute

    attribute = CustomAttribute.objects.create(key="level", label="等级", type=AttributeType.TEXT)
    rule = {"any": [SHANGHAI, {"field": "custom.level", "op": "eq", "value": "金"}]}
    segment = create_segment(admin_user, name="会员", rule=rule, now=NOW)
    attribute.delete()
    assert refresh_segment(segment.pk, now=NOW) is None
    assert segment.members.count() == 4
    with pytest.raises(RuleViolation) as raised:
        refresh_segment_now(admin_user, segment.pk)
    assert raised.value.code == "rule_outdated"


def test_members_and_counts_are_per_viewer(town, sales, manager, south_sales, admin_user):
    segment = create_segment(admin_user, name="上海", rule=SHANGHAI, now=NOW)
    assert names(segment_members(sales, segment)) == {"自己的", "公海的"}
    assert segment_member_count(sales, segment) == 2
    assert segment_member_count(manager, segment) == 3
    assert names(segment_members(south_sales, segment)) == {"南区的", "公海的"}
    counts = {s.name: s.visible_member_count for s in segments_with_counts(sales)}
    assert counts == {"上海": 2}
    assert [s.visible_member_count for s in segments_with_counts(admin_user)] == [4]


def test_service_role_may_not_create(town, service_agent):
    with pytest.raises(NotAllowed):
        create_segment(service_agent, name="x", rule=SHANGHAI)
    assert Segment.objects.count() == 0


def test_only_the_creator_or_an_admin_may_edit_or_delete(town, marketer, analyst, admin_user):
    segment = create_segment(marketer, name="上海", rule=SHANGHAI, now=NOW)
    with pytest.raises(NotAllowed):
        update_segment(analyst, segment.pk, name="改名")
    with pytest.raises(NotAllowed):
        delete_segment(analyst, segment.pk)
    segment.refresh_from_db()
    assert segment.name == "上海"
    update_segment(marketer, segment.pk, name="上海客户")
    assert Segment.objects.get().name == "上海客户"
    delete_segment(admin_user, segment.pk)
    assert Segment.objects.count() == 0


def test_unknown_segment_is_not_found(db, admin_user):
    with pytest.raises(Http404):
        update_segment(admin_user, 999, name="x")


def test_changing_the_rule_reselects_members(town, marketer):
    segment = create_segment(marketer, name="上海", rule=SHANGHAI, now=NOW)
    beijing = {"field": "city", "op": "eq", "value": "北京"}
    updated = update_segment(marketer, segment.pk, rule=beijing, now=NOW)
    assert updated.rule == beijing
    assert updated.member_count == 1
    assert list(updated.members.values_list("customer__name", flat=True)) == ["北京的"]


def test_saving_reports_every_problem_and_writes_nothing(db, marketer):
    with translation.override("en"), pytest.raises(ValidationError) as raised:
        create_segment(marketer, name=" ", rule={"field": "nope"})
    assert raised.value.message_dict == {
        "name": ["Enter a name of 1 to 100 characters."],
        "rule.field": ["Unknown field “nope”."],
    }
    with translation.override("en"), pytest.raises(ValidationError) as raised:
        create_segment(marketer, name="x", rule=None)
    assert raised.value.message_dict == {"rule": ["The rule must be a JSON object."]}
    assert Segment.objects.count() == 0


def test_update_refuses_other_fields(town, marketer):
    segment = create_segment(marketer, name="上海", rule=SHANGHAI, now=NOW)
    with pytest.raises(ValidationError) as raised:
        update_segment(marketer, segment.pk, kind="static", created_by=None)
    assert set(raised.value.message_dict) == {"kind", "created_by"}


def test_static_lists_add_and_remove_only_visible_customers(town, sales):
    segment = create_segment(sales, name="名单", kind="static")
    ids = [customer.pk for customer in town.values()]
    assert add_to_static_segment(sales, segment.pk, [*ids, 999999]) == 3
    assert add_to_static_segment(sales, segment.pk, ids) == 0
    assert set(segment.members.values_list("customer__name", flat=True)) == {
        "自己的",
        "公海的",
        "北京的",
    }
    segment.refresh_from_db()
    assert segment.member_count == 3
    assert remove_from_static_segment(sales, segment.pk, [town["own"].pk]) == 1
    segment.refresh_from_db()
    assert segment.member_count == 2


def test_a_salesperson_cannot_remove_members_they_may_not_see(town, sales, admin_user):
    segment = create_segment(admin_user, name="名单", kind="static")
    add_to_static_segment(admin_user, segment.pk, [town["south"].pk])
    with pytest.raises(NotAllowed):
        remove_from_static_segment(sales, segment.pk, [town["south"].pk])
    assert segment.members.count() == 1


def test_dynamic_segments_are_not_edited_by_hand(town, admin_user):
    segment = create_segment(admin_user, name="上海", rule=SHANGHAI, now=NOW)
    with pytest.raises(RuleViolation) as raised:
        add_to_static_segment(admin_user, segment.pk, [town["beijing"].pk])
    assert raised.value.code == "not_static"
    assert segment.members.count() == 4


def test_a_static_list_takes_no_rule(db, admin_user):
    with pytest.raises(ValidationError) as raised:
        create_segment(admin_user, name="名单", kind="static", rule=SHANGHAI)
    assert set(raised.value.message_dict) == {"rule"}
    with pytest.raises(RuleViolation):
        refresh_segment_now(admin_user, create_segment(admin_user, name="名单", kind="static").pk)


def test_export_has_only_visible_members_with_masked_contacts(town, sales, marketer, admin_user):
    segment = create_segment(admin_user, name="上海", rule=SHANGHAI, now=NOW)
    with translation.override("en"):
        headers, rows = export_segment_rows(sales, segment)
    rows = list(rows)
    name_column = headers.index("Name")
    assert {row[name_column] for row in rows} == {"自己的", "公海的"}
    headers, rows = export_segment_rows(marketer, segment)
    text = b"".join(stream_csv(headers, rows)).decode("utf-8-sig")
    assert "own@example.com" not in text
    assert "o***@example.com" in text
    assert len(text.strip().splitlines()) == 5


def test_roles_that_may_not_export_are_refused(town, service_agent, admin_user):
    segment = create_segment(admin_user, name="上海", rule=SHANGHAI, now=NOW)
    with pytest.raises(NotAllowed):
        export_segment_rows(service_agent, segment)


def test_deleting_a_customer_drops_their_membership(town, admin_user):
    segment = create_segment(admin_user, name="上海", rule=SHANGHAI, now=NOW)
    Customer.objects.filter(pk=town["pool"].pk).delete()
    assert segment.members.count() == 3
