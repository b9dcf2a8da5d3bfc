"""Changing the thresholds of the scores (SegmentationSettings); administrators only. The
prediction settings are changed in kehu/predictions/settings_service.py.

The thresholds must describe a sensible order (a new customer is also an active one, a dormant
one has been away longer than an active one) and ABC shares must leave room for class C. A bad
set is refused as a whole with the error next to the field, and nothing is saved. The settings
keep no change history (no audit log exists for settings yet).
"""

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.accounts.permissions import require
from kehu.segments.models import SegmentationSettings


def editable_setting_names(model: type[Model] = SegmentationSettings) -> list[str]:
    return [
        field.name
        for field in model._meta.concrete_fields
        if field.editable and not field.primary_key
    ]


def update_segmentation_settings(actor: User, **values: Any) -> SegmentationSettings:
    """Save the given thresholds (others keep their value) after checking them together."""
    require(actor, "settings.manage")
    unknown = sorted(set(values) - set(editable_setting_names()))
    if unknown:
        raise ValidationError({name: [_("This is not a setting.")] for name in unknown})
    with transaction.atomic():
        current = SegmentationSettings.objects.select_for_update().get(
            pk=SegmentationSettings.current().pk
        )
        for name, value in values.items():
            setattr(current, name, value)
        check_thresholds(current)
        current.save()
    return current


def check_thresholds(current: SegmentationSettings) -> None:
    """Raise a ValidationError naming every field that is out of order or out of range."""
    errors: dict[str, list[str]] = {}
    try:
        current.clean_fields()
    except ValidationError as error:
        errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    if current.new_days < 1:
        errors["new_days"] = [_("At least one day.")]
    if current.new_days > current.active_days:
        errors["new_days"] = [_("Must not be more than the active days.")]
    if current.active_days >= current.dormant_days:
        errors["active_days"] = [_("Must be fewer than the dormant days.")]
    for name in ("abc_a_share", "abc_b_share"):
        share = Decimal(getattr(current, name))
        if not Decimal(0) < share < Decimal(1):
            errors[name] = [_("Must be between 0 and 1, for example 0.70.")]
    shares_in_range = "abc_a_share" not in errors and "abc_b_share" not in errors
    if shares_in_range and Decimal(current.abc_a_share) + Decimal(current.abc_b_share) >= 1:
        errors["abc_b_share"] = [_("A and B together must be less than 1, to leave class C.")]
    if Decimal(current.vip_min_monetary) < 0:
        errors["vip_min_monetary"] = [_("Cannot be negative.")]
    if current.new_tier_days < 1:
        errors["new_tier_days"] = [_("At least one day.")]
    if errors:
        raise ValidationError(errors)
