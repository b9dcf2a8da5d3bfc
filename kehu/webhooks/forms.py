"""The subscription form: what the page asks; the service checks the rules."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kehu.core.forms import WithoutControlCharacters
from kehu.webhooks import services
from kehu.webhooks.catalogue import EVENT_TYPES
from kehu.webhooks.models import Subscription
from kehu.webhooks.services import SubscriptionInput


class SubscriptionForm(WithoutControlCharacters, forms.Form):
    name = forms.CharField(
        label=pgettext_lazy("webhook", "Name"),
        max_length=100,
        help_text=_("For you: which system receives, e.g. “Shop system” or “Data warehouse”."),
    )
    url = forms.CharField(
        label=_("URL"),
        max_length=2000,
        widget=forms.URLInput(attrs={"placeholder": "https://shop.example.com/kehu-hooks"}),
        help_text=_("kehu POSTs each event here as JSON, signed with the subscription's secret."),
    )
    event_names = forms.MultipleChoiceField(
        label=_("Events"),
        choices=EVENT_TYPES,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one event.")},
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, data: object = None, *, subscription: Subscription | None = None) -> None:
        initial = None
        if subscription is not None:
            initial = {
                "name": subscription.name,
                "url": subscription.url,
                "event_names": subscription.event_names,
                "is_active": subscription.is_active,
            }
        super().__init__(data, initial=initial)  # type: ignore[arg-type]

    def clean_url(self) -> str:
        try:
            return services.clean_url(self.cleaned_data["url"])
        except ValidationError as error:
            raise ValidationError(error.message_dict["url"]) from None

    def to_input(self) -> SubscriptionInput:
        data = self.cleaned_data
        return SubscriptionInput(
            name=data["name"],
            url=data["url"],
            event_names=list(data["event_names"]),
            is_active=data["is_active"],
        )
