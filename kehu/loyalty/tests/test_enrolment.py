"""Enrolment: one membership per customer, unique codes, the entry tier, role checks."""

import pytest

from kehu.core.errors import NotAllowed
from kehu.loyalty.members.services import enrol_member, ensure_default_tiers
from kehu.loyalty.models import Membership, TierChange
from tests.fixtures.records import make_customer


def test_default_tiers_are_created_once(db):
    tiers = ensure_default_tiers()
    assert [tier.name for tier in tiers] == ["普通", "银卡", "金卡", "钻石"]
    assert len(ensure_default_tiers()) == 4


def test_enrolment_gives_a_card_a_code_and_the_entry_tier(sales):
    customer = make_customer(sales, name="王芳")
    membership = enrol_member(sales, customer.pk)
    assert membership.card_number.startswith("8") and len(membership.card_number) == 11
    assert len(membership.referral_code) == 8
    assert membership.tier.name == "普通" and membership.points_balance == 0
    assert TierChange.objects.get(membership=membership).reason == "enrolment"


def test_enrolling_twice_keeps_one_membership(sales):
    customer = make_customer(sales, name="王芳")
    first = enrol_member(sales, customer.pk)
    assert enrol_member(sales, customer.pk) == first
    assert Membership.objects.count() == 1


def test_roles_without_the_counter_may_not_enrol(marketer, sales):
    customer = make_customer(sales, name="王芳")
    with pytest.raises(NotAllowed):
        enrol_member(marketer, customer.pk)
    assert not Membership.objects.exists()


def test_a_customer_the_user_may_not_see_cannot_be_enrolled(sales, other_sales):
    from django.http import Http404

    customer = make_customer(other_sales, name="李娜")
    with pytest.raises(Http404):
        enrol_member(sales, customer.pk)
