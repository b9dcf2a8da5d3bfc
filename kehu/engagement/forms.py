"""Forms of the interaction log and the call-backs; the services validate what they collect."""

from datetime import date, timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.core.forms import WithoutControlCharacters
from kehu.engagement.models import Direction, InteractionChannel

DEFAULT_DUE_DAYS = 3


class InteractionForm(WithoutControlCharacters, forms.Form):
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


def default_due_on() -> date:
    return timezone.localdate() + timedelta(days=DEFAULT_DUE_DAYS)


class FollowUpPlanForm(WithoutControlCharacters, forms.Form):
    """A call-back planned by hand on the customer page; `plan_follow_up` checks the values."""

    due_on = forms.DateField(
        label=_("Due on"),
        initial=default_due_on,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        widget=forms.TextInput(attrs={"placeholder": _("Why call them back?")}),
    )


class FollowUpDoneForm(WithoutControlCharacters, forms.Form):
    """Closing a call-back; a note is logged on the customer's timeline as the contact."""

    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": _("What was said? (optional)")}),
    )
    channel = forms.ChoiceField(
        label=_("Channel"),
        choices=InteractionChannel.choices,
        initial=InteractionChannel.PHONE,
        required=False,
    )

    def clean_channel(self) -> str:
        """Only a note is logged, so a bare "done" needs no channel: a phone call is assumed."""
        return self.cleaned_data.get("channel") or InteractionChannel.PHONE
