"""The loyalty app records member.enrolled, member.tier_changed, points.changed, coupon.issued
and coupon.redeemed in the transaction of the change, once per real change (bulk jobs in
batches), and none when the change rolls back."""

from datetime import date, datetime, timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from kehu.events.models import Event
from kehu.loyalty.coupons.issuing import request_issue_batch
from kehu.loyalty.coupons.services import issue_coupon, redeem_coupon
from kehu.loyalty.members.counter import enrol_customer
from kehu.loyalty.members.services import enrol_member
from kehu.loyalty.members.tiers import give_birthday_points, review_tiers
from kehu.loyalty.models import (
    CouponIssueBatch,
    EnrolmentChannel,
    Membership,
    PointsEntry,
    Tier,
)
from kehu.loyalty.points.bulk import earn_all_pending_orders
from kehu.loyalty.points.expiry import expire_points
from kehu.loyalty.points.services import award_points, earn_for_order
from kehu.loyalty.tests import coupon_data
from kehu.loyalty.tests.points_data import (  # noqa: F401 - in_english is a fixture
    in_english,
    make_member,
    make_order,
    make_refund,
)
from tests.fixtures.records import make_customer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english")]


class Undone(Exception):
    pass


def events(name: str) -> list[Event]:
    return list(Event.objects.filter(name=name).order_by("pk"))


def at(year: int, month: int, day: int) -> datetime:
    return timezone.make_aware(datetime(year, month, day, 12))


# --- member.enrolled ---------------------------------------------------------------------------


def test_enrolling_records_member_enrolled(sales):
    customer = make_customer(sales)

    membership = enrol_member(sales, customer.pk, channel=EnrolmentChannel.API)
    enrol_member(sales, customer.pk, channel=EnrolmentChannel.API)  # a member already: no change

    [event] = events("member.enrolled")
    assert event.customer_id == customer.pk
    assert event.payload == {
        "membership_id": membership.pk,
        "customer_id": customer.pk,
        "tier": "普通",
        "store_code": "",
    }
    assert Event.objects.count() == 1


def test_enrolling_at_the_counter_names_the_store(sales, store):
    customer = make_customer(sales)

    enrolment = enrol_customer(sales, customer.pk, channel=EnrolmentChannel.STORE)

    [event] = events("member.enrolled")
    assert event.payload["membership_id"] == enrolment.membership.pk
    assert event.payload["store_code"] == store.code
    assert event.customer_id == customer.pk


def test_a_rolled_back_enrolment_records_nothing(sales):
    customer = make_customer(sales)

    with pytest.raises(Undone), transaction.atomic():
        enrol_member(sales, customer.pk, channel=EnrolmentChannel.API)
        raise Undone

    assert Event.objects.count() == 0


# --- points.changed and member.tier_changed ----------------------------------------------------


def fresh_member() -> Membership:
    member = make_member()
    Event.objects.all().delete()  # its member.enrolled
    return member


def test_an_award_records_points_changed_with_the_balance_after_it():
    member = fresh_member()

    award_points(member, 30, source="campaign", reason="a", idempotency_key="a")
    award_points(member, 30, source="campaign", reason="a", idempotency_key="a")  # a retry
    entry = award_points(member, 12, source="campaign", reason="b", idempotency_key="b")

    changed = events("points.changed")
    assert [event.payload["balance"] for event in changed] == [30, 42]
    assert changed[1].customer_id == member.customer_id
    assert changed[1].payload == {
        "membership_id": member.pk,
        "customer_id": member.customer_id,
        "entry_id": entry.pk,
        "points": 12,
        "balance": 42,
        "kind": "earn",
    }
    assert Event.objects.count() == 2


def test_a_rolled_back_award_records_nothing():
    member = fresh_member()

    with pytest.raises(Undone), transaction.atomic():
        award_points(member, 30, source="campaign", reason="a", idempotency_key="a")
        raise Undone

    assert Event.objects.count() == 0


def test_earning_across_a_threshold_records_the_points_and_one_tier_move():
    member = fresh_member()

    entry = earn_for_order(make_order(member.customer, "1200.00"))

    [points] = events("points.changed")
    assert points.payload["entry_id"] == entry.pk
    assert (points.payload["points"], points.payload["balance"]) == (entry.points, entry.points)
    [moved] = events("member.tier_changed")
    assert moved.customer_id == member.customer_id
    assert moved.payload == {
        "membership_id": member.pk,
        "customer_id": member.customer_id,
        "from_tier": "普通",
        "to_tier": "银卡",
    }
    assert Event.objects.count() == 2


def test_bulk_earning_records_every_entry_and_move_in_batches():
    climber, other = fresh_member(), fresh_member()
    make_order(climber.customer, "600.00")
    make_order(climber.customer, "600.00")
    refunded = make_order(other.customer, "100.00")
    make_refund(refunded, "40.00")

    earn_all_pending_orders(batch_size=2)

    entries = {entry.pk: entry for entry in PointsEntry.objects.all()}
    changed = events("points.changed")
    assert sorted(event.payload["entry_id"] for event in changed) == sorted(entries)
    for event in changed:
        entry = entries[event.payload["entry_id"]]
        assert event.payload["points"] == entry.points
        assert event.payload["kind"] == entry.kind
        assert event.payload["membership_id"] == entry.membership_id
        assert event.customer_id == entry.membership.customer_id
    climber.refresh_from_db()
    other.refresh_from_db()
    last = {event.payload["membership_id"]: event.payload["balance"] for event in changed}
    assert last == {climber.pk: climber.points_balance, other.pk: other.points_balance}
    climbs = [
        event.payload["balance"] for event in changed if event.customer_id == climber.customer_id
    ]
    earned = [
        entry.points for entry in PointsEntry.objects.filter(membership=climber).order_by("pk")
    ]
    assert climbs == [600, 600 + earned[1]]  # the second order earns at the silver multiplier
    assert earned[1] > 600
    [moved] = events("member.tier_changed")
    assert (moved.customer_id, moved.payload["to_tier"]) == (climber.customer_id, "银卡")

    earn_all_pending_orders(batch_size=2)  # nothing left: nothing recorded
    assert Event.objects.count() == len(changed) + 1


def test_the_review_records_a_downgrade():
    member = fresh_member()
    Membership.objects.filter(pk=member.pk).update(
        tier=Tier.objects.get(name="金卡"), tier_review_on=date(2026, 3, 1)
    )
    make_order(member.customer, "1500.00", at=at(2026, 2, 1))

    review_tiers(at(2026, 3, 31))

    [moved] = events("member.tier_changed")
    assert moved.customer_id == member.customer_id
    assert moved.payload == {
        "membership_id": member.pk,
        "customer_id": member.customer_id,
        "from_tier": "金卡",
        "to_tier": "银卡",
    }
    assert Event.objects.count() == 1


def test_expiry_records_points_changed_per_member():
    member = fresh_member()
    award_points(member, 50, source="campaign", reason="a", idempotency_key="a", now=at(2023, 1, 1))
    Event.objects.all().delete()

    expire_points(timezone.now() + timedelta(days=3 * 365))

    [event] = events("points.changed")
    member.refresh_from_db()
    assert event.payload["points"] == -50
    assert event.payload["kind"] == "expire"
    assert event.payload["balance"] == member.points_balance == 0
    assert event.customer_id == member.customer_id


def test_birthday_gifts_record_points_changed():
    member = make_member(birthday=date(1990, 5, 20))
    Membership.objects.filter(pk=member.pk).update(tier=Tier.objects.get(name="金卡"))
    Event.objects.all().delete()

    give_birthday_points(at(2026, 5, 20))

    [event] = events("points.changed")
    assert (event.payload["points"], event.payload["balance"]) == (200, 200)
    assert event.customer_id == member.customer_id


# --- coupons -----------------------------------------------------------------------------------


def test_issuing_and_redeeming_a_coupon_record_one_event_each(marketer, sales, channel):
    holder = make_customer(sales)
    template = coupon_data.make_template(marketer)

    coupon = issue_coupon(marketer, template, holder.pk)

    [issued] = events("coupon.issued")
    assert issued.customer_id == holder.pk
    assert issued.payload == {
        "coupon_id": coupon.pk,
        "customer_id": holder.pk,
        "template_id": template.pk,
    }

    order = coupon_data.make_order(holder, channel, "120.00")
    redeem_coupon(sales, coupon.code, order.pk)
    redeem_coupon(sales, coupon.code, order.pk)  # the same use again: no change

    [redeemed] = events("coupon.redeemed")
    assert redeemed.customer_id == holder.pk
    assert redeemed.payload == {
        "coupon_id": coupon.pk,
        "customer_id": holder.pk,
        "order_id": order.pk,
    }
    assert Event.objects.count() == 2


def test_rolled_back_coupon_changes_record_nothing(marketer, sales, channel):
    holder = make_customer(sales)
    template = coupon_data.make_template(marketer)

    with pytest.raises(Undone), transaction.atomic():
        issue_coupon(marketer, template, holder.pk)
        raise Undone
    assert Event.objects.count() == 0

    coupon = issue_coupon(marketer, template, holder.pk)
    order = coupon_data.make_order(holder, channel, "120.00")
    with pytest.raises(Undone), transaction.atomic():
        redeem_coupon(sales, coupon.code, order.pk)
        raise Undone
    assert [event.name for event in Event.objects.all()] == ["coupon.issued"]


def test_a_batch_records_one_coupon_issued_per_coupon(
    manager, sales, django_capture_on_commit_callbacks
):
    template = coupon_data.make_template(manager)
    customers = [make_customer(sales) for _ in range(5)]

    with django_capture_on_commit_callbacks(execute=True):
        batch = request_issue_batch(
            manager, template.pk, customer_ids=[customer.pk for customer in customers]
        )

    batch = CouponIssueBatch.objects.get(pk=batch.pk)
    coupons = {coupon.pk: coupon for coupon in batch.coupons.all()}
    issued = events("coupon.issued")
    assert len(coupons) == len(issued) == 5
    assert {
        event.payload["coupon_id"]: (event.customer_id, event.payload["customer_id"])
        for event in issued
    } == {pk: (coupon.customer_id, coupon.customer_id) for pk, coupon in coupons.items()}
