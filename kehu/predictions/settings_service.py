"""Changing the prediction settings (PredictionSettings); administrators only.

The churn levels must rise (watch < warning < critical) and at least one churn signal must
count. A bad set is refused as a whole with the error next to the field, and nothing is saved.
The settings keep no change history (no audit log exists for settings yet).
"""

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.accounts.permissions import require
from kehu.predictions.models import PredictionSettings
from kehu.segments.settings_service import editable_setting_names

CHURN_WEIGHTS = (
    "weight_p_alive",
    "weight_overdue",
    "weight_frequency_drop",
    "weight_spend_drop",
    "weight_fewer_contacts",
    "weight_low_satisfaction",
    "weight_open_complaints",
)
CHURN_THRESHOLDS = ("watch_threshold", "warning_threshold", "critical_threshold")
MAX_WEIGHT = 100
MAX_HORIZON_DAYS = 3650
MAX_CLV_MONTHS = 120


def update_prediction_settings(actor: User, **values: Any) -> PredictionSettings:
    """Save the given prediction settings (others keep their value) after checking them
    together; they apply from the next nightly refresh."""
    require(actor, "settings.manage")
    unknown = sorted(set(values) - set(editable_setting_names(PredictionSettings)))
    if unknown:
        raise ValidationError({name: [_("This is not a setting.")] for name in unknown})
    with transaction.atomic():
        current = PredictionSettings.objects.select_for_update().get(
            pk=PredictionSettings.current().pk
        )
        for name, value in values.items():
            setattr(current, name, value)
        check_prediction_settings(current)
        current.save()
    return current


def check_prediction_settings(current: PredictionSettings) -> None:
    """Raise a ValidationError naming every prediction setting that is out of range or order."""
    try:
        current.clean_fields()
    except ValidationError as error:
        raise ValidationError(error.message_dict) from None
    errors: dict[str, list[str]] = {}
    if not 1 <= current.horizon_days <= MAX_HORIZON_DAYS:
        errors["horizon_days"] = [_("Between 1 and %(most)d days.") % {"most": MAX_HORIZON_DAYS}]
    if not 1 <= current.clv_months <= MAX_CLV_MONTHS:
        errors["clv_months"] = [_("Between 1 and %(most)d months.") % {"most": MAX_CLV_MONTHS}]
    if not Decimal(0) <= Decimal(current.annual_discount_rate) < Decimal(1):
        errors["annual_discount_rate"] = [_("At least 0 and below 1, for example 0.10.")]
    errors.update(weight_errors(current))
    errors.update(threshold_errors(current))
    if errors:
        raise ValidationError(errors)


def weight_errors(current: PredictionSettings) -> dict[str, list[str]]:
    errors = {
        name: [_("Between 0 and %(most)d.") % {"most": MAX_WEIGHT}]
        for name in CHURN_WEIGHTS
        if not 0 <= getattr(current, name) <= MAX_WEIGHT
    }
    if not errors and not any(getattr(current, name) for name in CHURN_WEIGHTS):
        errors["weight_p_alive"] = [
            _("At least one signal needs a weight above 0, or no customer could be at risk.")
        ]
    return errors


def threshold_errors(current: PredictionSettings) -> dict[str, list[str]]:
    """Each threshold within 1..100 and above the one before it (watch < warning < critical)."""
    errors: dict[str, list[str]] = {}
    for name in CHURN_THRESHOLDS:
        if not 1 <= getattr(current, name) <= 100:
            errors[name] = [_("Between 1 and 100.")]
    if errors:
        return errors
    if current.warning_threshold <= current.watch_threshold:
        errors["warning_threshold"] = [_("Must be above the watch threshold.")]
    if current.critical_threshold <= current.warning_threshold:
        errors["critical_threshold"] = [_("Must be above the warning threshold.")]
    return errors
