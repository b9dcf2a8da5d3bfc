"""Changing the segmentation thresholds: administrators only, checked together, all or nothing."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from kehu.core.errors import NotAllowed
from kehu.segments.models import SegmentationSettings
from kehu.segments.settings_service import update_segmentation_settings


def test_admin_saves_thresholds(admin_user):
    saved = update_segmentation_settings(
        admin_user,
        new_days=20,
        active_days=60,
        dormant_days=120,
        abc_a_share=Decimal("0.8"),
        abc_b_share=Decimal("0.15"),
    )
    stored = SegmentationSettings.objects.get(pk=saved.pk)
    assert (stored.new_days, stored.active_days, stored.dormant_days) == (20, 60, 120)
    assert stored.abc_a_share == Decimal("0.80")
    assert stored.abc_b_share == Decimal("0.15")


@pytest.mark.parametrize("user_fixture", ["manager", "sales", "marketer", "analyst"])
def test_other_roles_may_not_change_thresholds(request, user_fixture):
    user = request.getfixturevalue(user_fixture)
    with pytest.raises(NotAllowed):
        update_segmentation_settings(user, new_days=5)
    assert SegmentationSettings.current().new_days == 30


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"new_days": 100, "active_days": 90}, "new_days"),
        ({"active_days": 180, "dormant_days": 180}, "active_days"),
        ({"abc_a_share": Decimal("1.00")}, "abc_a_share"),
        ({"abc_b_share": Decimal("0")}, "abc_b_share"),
        ({"abc_a_share": Decimal("0.80"), "abc_b_share": Decimal("0.20")}, "abc_b_share"),
        ({"vip_min_monetary": Decimal("-1")}, "vip_min_monetary"),
        ({"new_days": 0}, "new_days"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_thresholds_are_refused_and_nothing_is_saved(admin_user, values, field):
    with pytest.raises(ValidationError) as raised:
        update_segmentation_settings(admin_user, **{"new_tier_days": 40, **values})
    assert field in raised.value.message_dict
    SegmentationSettings.current()
    stored = SegmentationSettings.objects.get()
    assert (stored.new_tier_days, stored.new_days, stored.abc_a_share) == (30, 30, Decimal("0.70"))
