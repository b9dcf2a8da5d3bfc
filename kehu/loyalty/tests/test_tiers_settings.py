"""Changing the programme: rules only by administrators and within limits; tiers rising by rank,
renamed or swapped in one save, removed only when nobody is in them."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from kehu.core.errors import NotAllowed
from kehu.loyalty.members.services import ensure_default_tiers
from kehu.loyalty.models import LoyaltySettings, Tier
from kehu.loyalty.programme.services import TierInput, save_tiers, update_loyalty_settings
from kehu.loyalty.tests.points_data import in_english, make_member  # noqa: F401 - a fixture

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english")]


def current_inputs() -> list[TierInput]:
    return [
        TierInput(
            tier.pk,
            tier.name,
            tier.rank,
            tier.threshold,
            tier.points_multiplier,
            tier.birthday_gift_points,
        )
        for tier in ensure_default_tiers()
    ]


def test_rules_change_within_their_limits(admin_user, manager):
    settings = update_loyalty_settings(admin_user, {"points_per_yuan": Decimal("1.5")})
    assert settings.points_per_yuan == Decimal("1.5")
    with pytest.raises(NotAllowed):
        update_loyalty_settings(manager, {"points_per_yuan": Decimal(3)})
    with pytest.raises(ValidationError) as error:
        update_loyalty_settings(
            admin_user,
            {"points_per_yuan_offset": 0, "downgrade_grace_days": 400, "card_prefix": "A1"},
        )
    assert set(error.value.message_dict) == {
        "points_per_yuan_offset",
        "downgrade_grace_days",
        "card_prefix",
    }
    assert LoyaltySettings.current().points_per_yuan_offset == 100


def test_two_tiers_can_swap_names_in_one_save(manager):
    tiers = current_inputs()
    tiers[1], tiers[2] = (
        TierInput(tiers[1].tier_id, "金卡", 1, Decimal(1000), Decimal("1.2")),
        TierInput(tiers[2].tier_id, "银卡", 2, Decimal(5000), Decimal("1.5")),
    )
    saved = save_tiers(manager, tiers)
    assert [tier.name for tier in saved] == ["普通", "金卡", "银卡", "钻石"]


def test_every_problem_is_reported_by_row_and_nothing_is_saved(manager):
    tiers = current_inputs()
    tiers[0] = TierInput(tiers[0].tier_id, "普通", 0, Decimal(10), Decimal(1))
    tiers[2] = TierInput(tiers[2].tier_id, "银卡", 1, Decimal(5000), Decimal(0))
    with pytest.raises(ValidationError) as error:
        save_tiers(manager, tiers)
    assert set(error.value.message_dict) == {
        "0.threshold",
        "1.name",
        "2.name",
        "1.rank",
        "2.rank",
        "2.points_multiplier",
    }
    assert Tier.objects.get(rank=0).threshold == 0


def test_a_tier_is_removed_only_when_nobody_is_in_it(manager, marketer, sales):
    tiers = current_inputs()
    saved = save_tiers(marketer, tiers[:3])
    assert [tier.name for tier in saved] == ["普通", "银卡", "金卡"]
    make_member(sales)
    with pytest.raises(ValidationError):
        save_tiers(manager, [TierInput(tiers[1].tier_id, "银卡", 0, Decimal(0), Decimal(1))])
    assert Tier.objects.count() == 3
    with pytest.raises(NotAllowed):
        save_tiers(sales, tiers[:3])
