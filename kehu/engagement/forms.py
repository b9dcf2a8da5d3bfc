"""The quick-log form on the customer page; `log_interaction` validates what it collects."""

from django import forms
from django.utils.translation import gettext_lazy as _

from kehu.engagement.models import Direction, InteractionChannel


class InteractionForm(forms.Form):
    channel = forms.ChoiceField(
        label=_("Channel"), choices=InteractionChannel.choices, initial=InteractionChannel.PHONE
    )
    direction = forms.ChoiceField(
        label=_("Direction"), choices=Direction.choices, initial=Direction.OUTBOUND
    )
    summary = forms.CharField(
        label=_("Summary"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": _("What was said?")}),
    )
    occurred_at = forms.DateTimeField(
        label=_("Time"),
        required=False,
        help_text=_("Empty means now."),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
