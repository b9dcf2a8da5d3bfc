"""Issuing to a list or a segment in the background: visibility, the limits decided set-based
with reasons, unique codes, re-running a batch, and the statistics per template."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from kehu.commerce.services import refund_order
from kehu.core.errors import NotAllowed, RuleViolation
from kehu.core.schedule import PERIODIC_JOBS
from kehu.loyalty.coupons import issuing as coupon_issuing
from kehu.loyalty.coupons import services as coupons
from kehu.loyalty.coupons.issuing import request_issue_batch, run_issue_batch
from kehu.loyalty.coupons.queries import skip_reasons, templates_with_stats
from kehu.loyalty.coupons.services import issue_coupon, redeem_coupon, void_coupon
from kehu.loyalty.members.services import enrol_member, ensure_default_tiers
from kehu.loyalty.models import Coupon, CouponIssueBatch, CouponStatus, Membership
from kehu.loyalty.tests.coupon_data import make_coupon, make_order, make_template
from kehu.segments.models import Segment, SegmentMember
from tests.fixtures.records import make_customer


def queued_batch(actor, template, django_capture_on_commit_callbacks, **target):
    with django_capture_on_commit_callbacks(execute=True):
        batch = request_issue_batch(actor, template.pk, **target)
    return CouponIssueBatch.objects.get(pk=batch.pk)


def make_segment(creator, customers):
    segment = Segment.objects.create(name="高价值", kind="static", created_by=creator)
    SegmentMember.objects.bulk_create(
        SegmentMember(segment=segment, customer=customer, joined_at=timezone.now())
        for customer in customers
    )
    return segment


def reasons(batch):
    return {code: count for code, _words, count in skip_reasons(batch)}


def test_a_list_issues_one_coupon_each_to_the_customers_the_requester_may_see(
    manager, sales, south_customer, django_capture_on_commit_callbacks
):
    template = make_template(manager)
    team = [make_customer(sales) for _ in range(3)]
    ids = [customer.pk for customer in team] + [south_customer.pk, 999_999, team[0].pk]
    batch = queued_batch(manager, template, django_capture_on_commit_callbacks, customer_ids=ids)
    assert (batch.status, batch.requested, batch.issued, batch.skipped) == ("done", 5, 3, 2)
    assert reasons(batch) == {"not_visible": 2}
    assert sorted(Coupon.objects.values_list("customer_id", flat=True)) == sorted(
        customer.pk for customer in team
    )
    assert Coupon.objects.filter(batch=batch).count() == 3
    template.refresh_from_db()
    assert template.issued_count == 3
    assert batch.finished_at is not None


def test_a_segment_issues_to_its_visible_members(
    manager, sales, south_customer, django_capture_on_commit_callbacks
):
    template = make_template(manager)
    team = [make_customer(sales) for _ in range(4)]
    segment = make_segment(manager, [*team, south_customer])
    batch = queued_batch(
        manager, template, django_capture_on_commit_callbacks, segment_id=segment.pk
    )
    assert (batch.requested, batch.issued, batch.skipped) == (4, 4, 0)
    assert not Coupon.objects.filter(customer=south_customer).exists()


def test_limits_are_decided_together_and_reported_by_reason(
    admin_user, marketer, sales, django_capture_on_commit_callbacks
):
    tiers = ensure_default_tiers()
    template = make_template(marketer, per_customer_limit=1, total_limit=4, tier_id=tiers[1].pk)
    customers = [make_customer(sales) for _ in range(8)]
    for customer in customers[:7]:
        enrol_member(admin_user, customer.pk)
    Membership.objects.filter(customer__in=customers[:6]).update(tier=tiers[1])
    issue_coupon(marketer, template, customers[0].pk)  # already holds the one allowed
    ids = [customer.pk for customer in customers]
    batch = queued_batch(marketer, template, django_capture_on_commit_callbacks, customer_ids=ids)
    # 8 asked: 2 below the tier (one not a member), 1 at its limit, 5 left for 3 places.
    assert reasons(batch) == {"tier_too_low": 2, "per_customer_limit": 1, "total_limit": 2}
    assert (batch.issued, batch.skipped) == (3, 5)
    assert sorted(Coupon.objects.filter(batch=batch).values_list("customer_id", flat=True)) == [
        customer.pk for customer in customers[1:4]
    ]
    template.refresh_from_db()
    assert template.issued_count == 4 == Coupon.objects.count()


def test_running_a_batch_again_issues_nobody_a_second_coupon(marketer, sales):
    template = make_template(marketer)
    customers = [make_customer(sales) for _ in range(5)]
    batch = request_issue_batch(marketer, template.pk, customer_ids=[c.pk for c in customers])
    first = run_issue_batch(batch.pk, chunk_size=2)
    codes = set(Coupon.objects.values_list("code", flat=True))
    again = run_issue_batch(batch.pk, chunk_size=2)
    assert (first.issued, again.issued, again.status) == (5, 5, "done")
    assert set(Coupon.objects.values_list("code", flat=True)) == codes
    template.refresh_from_db()
    assert template.issued_count == 5


def test_a_batch_that_failed_half_way_finishes_when_run_again(marketer, sales, monkeypatch):
    template = make_template(marketer)
    customers = [make_customer(sales) for _ in range(6)]
    batch = request_issue_batch(marketer, template.pk, customer_ids=[c.pk for c in customers])
    real_insert = coupon_issuing.insert_coupons
    calls = []

    def failing_second_chunk(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("worker lost")
        return real_insert(*args, **kwargs)

    monkeypatch.setattr(coupon_issuing, "insert_coupons", failing_second_chunk)
    with pytest.raises(RuntimeError):
        run_issue_batch(batch.pk, chunk_size=2)
    batch.refresh_from_db()
    assert (batch.status, batch.issued, Coupon.objects.count()) == ("failed", 2, 2)
    monkeypatch.setattr(coupon_issuing, "insert_coupons", real_insert)
    finished = run_issue_batch(batch.pk, chunk_size=2)
    assert (finished.status, finished.issued) == ("done", 6)
    holders = list(Coupon.objects.values_list("customer_id", flat=True))
    assert sorted(holders) == sorted(customer.pk for customer in customers)


def test_fresh_codes_draw_again_for_stored_and_repeated_codes(marketer, sales, monkeypatch):
    template = make_template(marketer)
    make_coupon(template, make_customer(sales), code="AAAAAAAAAAAA")
    draws = iter(
        [
            ["AAAAAAAAAAAA", "BBBBBBBBBBBB", "BBBBBBBBBBBB"],  # one stored, one twice
            ["CCCCCCCCCCCC", "BBBBBBBBBBBB"],  # one already drawn
            ["DDDDDDDDDDDD"],
        ]
    )
    asked = []

    def drawn(count):
        asked.append(count)
        return next(draws)

    monkeypatch.setattr(coupons, "random_codes", drawn)
    assert sorted(coupons.fresh_codes(3)) == ["BBBBBBBBBBBB", "CCCCCCCCCCCC", "DDDDDDDDDDDD"]
    assert asked == [3, 2, 1]


def test_random_codes_are_unique_and_from_the_alphabet():
    codes = coupons.random_codes(20_000)
    assert len(set(codes)) == 20_000
    assert all(len(code) == coupons.CODE_LENGTH for code in codes)
    assert set("".join(codes)) == set("ABCDEFGHJKLMNPQRSTUVWXYZ23456789")


def test_the_same_batch_key_answers_the_first_batch(marketer, sales):
    template = make_template(marketer)
    ids = [make_customer(sales).pk]
    first = request_issue_batch(marketer, template.pk, customer_ids=ids, idempotency_key="b-1")
    again = request_issue_batch(marketer, template.pk, customer_ids=ids, idempotency_key="b-1")
    assert again.pk == first.pk and CouponIssueBatch.objects.count() == 1
    other = make_template(marketer, name="另一张")
    with pytest.raises(RuleViolation) as refusal:
        request_issue_batch(marketer, other.pk, customer_ids=ids, idempotency_key="b-1")
    assert refusal.value.code == "idempotency_key_reused"


def test_a_batch_needs_exactly_one_target_and_the_role(marketer, sales):
    template = make_template(marketer)
    segment = make_segment(marketer, [])
    for target in ({}, {"customer_ids": [1], "segment_id": segment.pk}, {"customer_ids": []}):
        with pytest.raises(ValidationError):
            request_issue_batch(marketer, template.pk, **target)
    with pytest.raises(NotAllowed):
        request_issue_batch(sales, template.pk, customer_ids=[1])
    assert not CouponIssueBatch.objects.exists()


def test_a_template_switched_off_before_the_run_fails_the_batch(marketer, sales):
    template = make_template(marketer)
    batch = request_issue_batch(marketer, template.pk, customer_ids=[make_customer(sales).pk])
    type(template).objects.filter(pk=template.pk).update(is_active=False)
    finished = run_issue_batch(batch.pk)
    assert finished.status == "failed" and "not active" in finished.message
    assert not Coupon.objects.exists()


def test_expiry_is_a_periodic_job():
    job = next(job for job in PERIODIC_JOBS if job.name == "expire_coupons")
    assert job.load().name == "expire_coupons_task"


# --- statistics -------------------------------------------------------------------------------


def test_stats_per_template_in_one_query(
    marketer, manager, sales, south_customer, channel, django_assert_num_queries
):
    template = make_template(  # capped within marketing's limit: no approval needed
        marketer,
        kind="percent",
        amount_off=None,
        percent_off=Decimal("10"),
        max_discount=Decimal("100.00"),
    )
    unused = make_template(marketer, name="没人用")
    holders = [make_customer(sales) for _ in range(4)]
    issued = [issue_coupon(marketer, template, customer.pk) for customer in holders]
    issue_coupon(marketer, template, south_customer.pk)
    orders = [make_order(holders[index], channel, "200.00") for index in range(2)]
    for coupon, order in zip(issued, orders, strict=False):
        redeem_coupon(sales, coupon.code, order.pk)
    refund_order(sales, orders[0].pk, Decimal("50.00"), "部分退货")
    void_coupon(marketer, issued[2].code, "重复发放")
    Coupon.objects.filter(pk=issued[3].pk).update(status=CouponStatus.EXPIRED)
    with django_assert_num_queries(1):
        rows = {row.pk: row for row in templates_with_stats(marketer)}
    row = rows[template.pk]
    assert (row.issued, row.redeemed, row.expired, row.voided) == (5, 2, 1, 1)
    assert (row.discount_given, row.revenue) == (Decimal("40.00"), Decimal("350.00"))
    assert row.redemption_rate == pytest.approx(0.4)
    assert (rows[unused.pk].issued, rows[unused.pk].revenue) == (0, Decimal("0"))
    team_view = templates_with_stats(manager).get(pk=template.pk)
    assert (team_view.issued, team_view.redeemed) == (4, 2)  # not the south team's coupon
