"""The earning rule form: what the page asks; the service checks the rules."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kehu.commerce.models import Category, Store
from kehu.core.forms import WithoutControlCharacters
from kehu.loyalty.models import EarningRule
from kehu.loyalty.points.earning_rules import RuleInput

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class EarningRuleForm(WithoutControlCharacters, forms.Form):
    name = forms.CharField(label=pgettext_lazy("earning rule", "Name"), max_length=100)
    multiplier = forms.DecimalField(
        label=_("Points multiplier"),
        min_value=Decimal("0.01"),
        max_value=Decimal(10),
        decimal_places=2,
        max_digits=4,
        initial=Decimal(2),
        help_text=_("2 is double points; below 1 lowers the points of what the rule covers."),
    )
    category = forms.ModelChoiceField(
        label=_("Product category"),
        queryset=Category.objects.order_by("name"),
        required=False,
        empty_label=_("Whole order"),
        help_text=_("A category covers its subcategories too."),
    )
    store = forms.ModelChoiceField(
        label=_("Store"),
        queryset=Store.objects.filter(is_active=True).order_by("name"),
        required=False,
        empty_label=_("Every store and channel"),
    )
    starts_on = forms.DateField(label=_("From"), required=False, widget=DATE_INPUT)
    ends_on = forms.DateField(
        label=_("Until"),
        required=False,
        widget=DATE_INPUT,
        help_text=_("Leave both dates empty for a rule that always applies."),
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, data: object = None, *, rule: EarningRule | None = None) -> None:
        initial = None
        if rule is not None:
            initial = {
                "name": rule.name,
                "multiplier": rule.multiplier,
                "category": rule.category_id,
                "store": rule.store_id,
                "starts_on": rule.starts_on,
                "ends_on": rule.ends_on,
                "is_active": rule.is_active,
            }
        super().__init__(data, initial=initial)  # type: ignore[arg-type]
        if rule is not None and rule.store_id:  # a closed store stays choosable on its rule
            self.fields["store"].queryset = Store.objects.filter(  # type: ignore[attr-defined]
                pk=rule.store_id
            ) | Store.objects.filter(is_active=True)

    def to_input(self) -> RuleInput:
        data = self.cleaned_data
        return RuleInput(
            name=data["name"],
            multiplier=data["multiplier"],
            category_id=data["category"].pk if data["category"] else None,
            store_id=data["store"].pk if data["store"] else None,
            starts_on=data["starts_on"],
            ends_on=data["ends_on"],
            is_active=data["is_active"],
        )
