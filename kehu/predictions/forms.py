"""Forms of the prediction pages: the prediction settings and the call-backs planned from the
churn warning list. They read and type the input; the rules are the services'."""

from datetime import date, timedelta
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.core.forms import WithoutControlCharacters
from kehu.predictions.models import PredictionSettings

WEIGHT_HELP = _("0 to 100; only the ratios between the weights matter.")


class PredictionSettingsForm(forms.ModelForm):
    class Meta:
        model = PredictionSettings
        fields = [
            "model",
            "horizon_days",
            "clv_months",
            "annual_discount_rate",
            "weight_p_alive",
            "weight_overdue",
            "weight_frequency_drop",
            "weight_spend_drop",
            "weight_fewer_contacts",
            "weight_low_satisfaction",
            "weight_open_complaints",
            "watch_threshold",
            "warning_threshold",
            "critical_threshold",
            "notify_level",
        ]
        help_texts = {
            "model": _(
                "BG/NBD suits most shops and fits fastest; Pareto/NBD lets customers drop out "
                "at any time rather than only right after a purchase."
            ),
            "horizon_days": _("The customer page shows the purchases expected in this many days."),
            "clv_months": _("Predicted lifetime value counts the spend of this many months."),
            "annual_discount_rate": _(
                "Future spend is worth less today: 0.10 discounts it by 10% a year."
            ),
            "weight_p_alive": WEIGHT_HELP,
            "weight_overdue": WEIGHT_HELP,
            "weight_frequency_drop": WEIGHT_HELP,
            "weight_spend_drop": WEIGHT_HELP,
            "weight_fewer_contacts": WEIGHT_HELP,
            "weight_low_satisfaction": WEIGHT_HELP,
            "weight_open_complaints": WEIGHT_HELP,
            "watch_threshold": _("A churn risk (0–100) from this value is on watch."),
            "warning_threshold": _("From this risk the customer is on the churn warning list."),
            "critical_threshold": _("From this risk the warning is critical."),
            "notify_level": _(
                "When a customer first reaches this level, their owner gets a notification."
            ),
        }
        widgets = {
            "annual_discount_rate": forms.NumberInput(attrs={"min": 0, "max": 0.99, "step": 0.01}),
        }


def default_due_on() -> date:
    return timezone.localdate() + timedelta(days=3)


class IdListField(forms.Field):
    """Ticked row ids (checkboxes of one name); which of them the user may see is the service's
    business, so any whole number is accepted here."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value: Any) -> list[int]:
        values = value if isinstance(value, list | tuple) else [value] if value else []
        try:
            return [int(item) for item in values]
        except (TypeError, ValueError):
            raise forms.ValidationError(_("The selection could not be read.")) from None


class ChurnFollowUpForm(WithoutControlCharacters, forms.Form):
    """Call-backs for the churn list: the ticked rows, or every customer matching the filter."""

    SELECTED = "selected"
    ALL_MATCHING = "all"

    target = forms.ChoiceField(
        choices=[(SELECTED, _("The selected customers")), (ALL_MATCHING, _("All matching"))],
        initial=SELECTED,
    )
    customer = IdListField(required=False)
    due_on = forms.DateField(
        label=_("Due on"),
        initial=default_due_on,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("target") == self.SELECTED and not cleaned.get("customer"):
            raise forms.ValidationError(_("Tick at least one customer, or choose all matching."))
        return cleaned
