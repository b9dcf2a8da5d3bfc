"""Forms of the coupon pages. They read and type the input; the rules (what a template of
each kind needs, limits, who may be issued to, redemption) are the services'."""

import re
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kehu.core.forms import WithoutControlCharacters
from kehu.loyalty.coupons.coupon_templates import TERMS_FIELDS, TemplateInput
from kehu.loyalty.models import CouponTemplate
from kehu.segments.models import Segment

MAX_TOKENS = 10_000
DATETIME_INPUTS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]
MOBILE = re.compile(r"^1\d{10}$")
# Service error keys that the form names differently.
TEMPLATE_FIELD_NAMES = {"tier_id": "tier"}


class CouponTemplateForm(WithoutControlCharacters, forms.ModelForm):
    class Meta:
        model = CouponTemplate
        fields = [
            "name",
            "kind",
            "amount_off",
            "percent_off",
            "max_discount",
            "min_spend",
            "gift_description",
            "validity",
            "valid_days",
            "valid_from",
            "valid_until",
            "per_customer_limit",
            "total_limit",
            "stores",
            "tier",
            "is_active",
        ]
        widgets = {
            "valid_from": forms.DateTimeInput(attrs={"type": "datetime-local"}),
            "valid_until": forms.DateTimeInput(attrs={"type": "datetime-local"}),
            "stores": forms.CheckboxSelectMultiple,
            "kind": forms.Select(attrs={"data-coupon-kind": ""}),
            "validity": forms.Select(attrs={"data-coupon-validity": ""}),
        }
        help_texts = {
            "percent_off": _("Between 0 and 100, e.g. 15 for 15 percent off."),
            "max_discount": _("Optional cap on a percentage coupon."),
            "min_spend": _("For 满减: the order total that unlocks the amount off."),
            "total_limit": _("Empty: no limit."),
            "per_customer_limit": _("Empty: no limit."),
        }

    def __init__(self, *args: Any, terms_locked: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("valid_from", "valid_until"):
            field = self.fields[name]
            assert isinstance(field, forms.DateTimeField)
            field.input_formats = DATETIME_INPUTS
        if terms_locked:
            for name in (*TERMS_FIELDS, "stores", "tier"):
                self.fields[name].disabled = True
                self.fields[name].help_text = _(
                    "Fixed: coupons of this template were already issued."
                )

    def to_input(self) -> TemplateInput:
        data = self.cleaned_data
        tier = data.get("tier")
        return TemplateInput(
            name=data["name"],
            kind=data["kind"],
            amount_off=data.get("amount_off"),
            percent_off=data.get("percent_off"),
            max_discount=data.get("max_discount"),
            min_spend=data.get("min_spend") or Decimal("0.00"),
            gift_description=data.get("gift_description") or "",
            validity=data["validity"],
            valid_from=data.get("valid_from"),
            valid_until=data.get("valid_until"),
            valid_days=data.get("valid_days"),
            per_customer_limit=data.get("per_customer_limit"),
            total_limit=data.get("total_limit"),
            store_ids=tuple(store.pk for store in data.get("stores") or ()),
            tier_id=tier.pk if tier else None,
            is_active=bool(data.get("is_active")),
        )


class IssueForm(WithoutControlCharacters, forms.Form):
    SEGMENT = "segment"
    LIST = "list"

    target = forms.ChoiceField(
        label=_("Issue to"),
        choices=[(SEGMENT, _("A segment")), (LIST, _("A list of customers"))],
        widget=forms.RadioSelect,
        initial=SEGMENT,
    )
    segment = forms.ModelChoiceField(
        label=_("Segment"), queryset=Segment.objects.none(), required=False
    )
    customers = forms.CharField(
        label=_("Customers"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Customer ids or mobile numbers, separated by commas, spaces or new lines."),
    )

    def __init__(self, *args: Any, segments: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        segment_field = self.fields["segment"]
        assert isinstance(segment_field, forms.ModelChoiceField)
        if segments is not None:
            segment_field.queryset = segments

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("target") == self.SEGMENT and not data.get("segment"):
            self.add_error("segment", _("Choose a segment."))
        if data.get("target") == self.LIST:
            data["tokens"] = self.tokens(data.get("customers", ""))
        return data

    def tokens(self, text: str) -> list[str]:
        tokens = [token for token in re.split(r"[\s,，;；]+", text) if token]
        if not tokens:
            self.add_error("customers", _("Enter at least one customer."))
        elif len(tokens) > MAX_TOKENS:
            self.add_error("customers", _("At most 10,000 customers at once."))
        elif bad := [token for token in tokens if not token.isdigit()][:5]:
            self.add_error(
                "customers",
                _("Not a customer id or mobile number: %(tokens)s") % {"tokens": ", ".join(bad)},
            )
        return tokens


def split_tokens(tokens: list[str]) -> tuple[list[int], list[str]]:
    """Customer ids and mobile numbers (11 digits starting with 1) from the parsed list."""
    mobiles = [token for token in tokens if MOBILE.match(token)]
    ids = [int(token) for token in tokens if not MOBILE.match(token)]
    return ids, mobiles


class RedeemForm(WithoutControlCharacters, forms.Form):
    code = forms.CharField(label=_("Coupon code"), max_length=40)
    order = forms.CharField(
        label=_("Order"),
        max_length=64,
        help_text=_("The order number from the till or shop, or kehu's order id."),
    )


class ConfirmRedeemForm(WithoutControlCharacters, forms.Form):
    code = forms.CharField(max_length=40, widget=forms.HiddenInput)
    order_id = forms.IntegerField(widget=forms.HiddenInput)
    idempotency_key = forms.CharField(max_length=120, widget=forms.HiddenInput)


class VoidForm(WithoutControlCharacters, forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=200)
