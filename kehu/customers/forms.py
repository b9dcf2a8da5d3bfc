"""Forms of the customer pages. They only collect text; the services validate and normalise it,
and their errors are put back next to these fields (see kehu.core.outcomes)."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kehu.accounts.models import User
from kehu.commerce.models import Store
from kehu.core.forms import WithoutControlCharacters
from kehu.customers.models import (
    AttributeType,
    CustomAttribute,
    Customer,
    CustomerStatus,
    Gender,
    IncomeBand,
    SourceChannel,
)

TEXT_FIELDS = (
    "name", "mobile", "email", "wechat_id", "wecom_id", "province", "city", "district",
    "address", "occupation", "member_number", "notes",
)  # fmt: skip
CHOICE_FIELDS = ("gender", "income_band", "source_channel", "status")
ATTRIBUTE_PREFIX = "attr_"

# Service field names → form field names, for putting service errors next to the right input.
SERVICE_TO_FORM_FIELDS = {"home_store_id": "home_store"}


def split_names(text: str) -> list[str]:
    """Tags and interests are typed as one line separated by commas (also Chinese ones)."""
    for separator in "，;；、":
        text = text.replace(separator, ",")
    return [name.strip() for name in text.split(",") if name.strip()]


class CustomerForm(forms.Form):
    # Not required here: the service reports a missing name together with every other error.
    name = forms.CharField(
        label=_("Name"), required=False, widget=forms.TextInput(attrs={"required": True})
    )
    mobile = forms.CharField(
        label=_("Mobile"),
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    email = forms.CharField(label=_("Email"), required=False)
    gender = forms.ChoiceField(label=_("Gender"), choices=Gender.choices, initial=Gender.UNKNOWN)
    birthday = forms.CharField(
        label=_("Birthday"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    wechat_id = forms.CharField(label=_("WeChat ID"), required=False)
    wecom_id = forms.CharField(label=_("WeCom ID"), required=False)
    province = forms.CharField(label=_("Province"), required=False)
    city = forms.CharField(label=_("City"), required=False)
    district = forms.CharField(label=_("District"), required=False)
    address = forms.CharField(label=_("Address"), required=False)
    occupation = forms.CharField(label=_("Occupation"), required=False)
    income_band = forms.ChoiceField(
        label=_("Income band"), choices=IncomeBand.choices, required=False
    )
    interests = forms.CharField(
        label=_("Interests"), required=False, help_text=_("Separate with commas.")
    )
    source_channel = forms.ChoiceField(
        label=_("Source channel"), choices=SourceChannel.choices, initial=SourceChannel.STORE
    )
    home_store = forms.ChoiceField(label=_("Home store"), required=False)
    member_number = forms.CharField(label=_("Member number"), required=False)
    status = forms.ChoiceField(
        label=_("Status"), choices=CustomerStatus.choices, initial=CustomerStatus.ACTIVE
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, attributes: list[CustomAttribute], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        stores = Store.objects.filter(is_active=True).values_list("pk", "name")
        self.fields["home_store"].choices = [("", "—"), *stores]  # type: ignore[attr-defined]
        self.attributes = attributes
        for attribute in attributes:
            self.fields[ATTRIBUTE_PREFIX + attribute.key] = attribute_field(attribute)

    def attribute_fields(self) -> list[forms.BoundField]:
        return [self[ATTRIBUTE_PREFIX + attribute.key] for attribute in self.attributes]

    def service_fields(self) -> dict[str, Any]:
        """The raw values in the shape `create_customer`/`update_customer` take."""
        data = self.cleaned_data
        fields: dict[str, Any] = {name: data.get(name, "") for name in TEXT_FIELDS}
        fields.update({name: data.get(name, "") for name in CHOICE_FIELDS})
        fields["birthday"] = data.get("birthday") or None
        fields["interests"] = split_names(data.get("interests", ""))
        fields["home_store_id"] = data.get("home_store") or None
        fields["custom_attributes"] = {
            attribute.key: data.get(ATTRIBUTE_PREFIX + attribute.key)
            for attribute in self.attributes
            if data.get(ATTRIBUTE_PREFIX + attribute.key) not in (None, "")
        }
        return fields

    @staticmethod
    def initial_from(customer: Customer) -> dict[str, Any]:
        initial: dict[str, Any] = {name: getattr(customer, name) or "" for name in TEXT_FIELDS}
        initial.update({name: getattr(customer, name) for name in CHOICE_FIELDS})
        initial["birthday"] = customer.birthday.isoformat() if customer.birthday else ""
        initial["interests"] = ", ".join(customer.interests or [])
        initial["home_store"] = customer.home_store_id or ""
        for key, value in (customer.custom_attributes or {}).items():
            initial[ATTRIBUTE_PREFIX + key] = value
        return initial


def attribute_field(attribute: CustomAttribute) -> forms.Field:
    """A form input for a custom attribute; the service checks the value's type."""
    label = attribute.label
    if attribute.type == AttributeType.CHOICE:
        choices = [("", "—"), *((choice, choice) for choice in attribute.choices)]
        return forms.ChoiceField(label=label, choices=choices, required=False)
    if attribute.type == AttributeType.BOOLEAN:
        choices = [("", "—"), ("true", _("Yes")), ("false", _("No"))]
        return forms.ChoiceField(label=label, choices=choices, required=False)
    input_type = {AttributeType.NUMBER: "number", AttributeType.DATE: "date"}.get(
        AttributeType(attribute.type), "text"
    )
    attrs = {"type": input_type, "step": "any"} if input_type == "number" else {"type": input_type}
    return forms.CharField(label=label, required=False, widget=forms.TextInput(attrs=attrs))


class NewCustomerForm(CustomerForm):
    tags = forms.CharField(label=_("Tags"), required=False, help_text=_("Separate with commas."))
    referral_code = forms.CharField(
        label=_("Referral code"),
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
        help_text=_("If a member referred this customer: their code (推荐码)."),
    )
    allow_duplicate = forms.BooleanField(
        label=_("Create anyway: this is a different person"), required=False
    )


class TagsForm(WithoutControlCharacters, forms.Form):
    tags = forms.CharField(label=_("Tags"), required=False, help_text=_("Separate with commas."))


class ReleaseForm(WithoutControlCharacters, forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False)


class TransferForm(WithoutControlCharacters, forms.Form):
    new_owner = forms.ModelChoiceField(label=_("New owner"), queryset=User.objects.none())
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False)

    def __init__(self, *args: Any, staff: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["new_owner"].queryset = staff  # type: ignore[attr-defined]


class MergeForm(WithoutControlCharacters, forms.Form):
    merged_id = forms.IntegerField(min_value=1)
