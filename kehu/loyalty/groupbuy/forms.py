"""Forms of the group deals' pages."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from kehu.commerce.models import Store
from kehu.core.forms import WithoutControlCharacters
from kehu.loyalty.groupbuy.services import GroupDealInput


class GroupDealForm(WithoutControlCharacters, forms.Form):
    title = forms.CharField(label=_("Title"), max_length=120)
    leader_customer_id = forms.IntegerField(
        label=_("Group leader (customer ID)"),
        min_value=1,
        help_text=_("The customer who gathers the group (团长); they join as its first member."),
    )
    deadline = forms.DateTimeField(
        label=_("Deadline"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    min_size = forms.IntegerField(
        label=_("Minimum participants"),
        min_value=2,
        initial=3,
        help_text=_("The leader counts. Below this number at the deadline the deal fails."),
    )
    product_sku = forms.CharField(label=_("Product SKU"), max_length=64, required=False)
    store = forms.ModelChoiceField(
        label=_("Store"),
        queryset=Store.objects.filter(is_active=True),
        to_field_name="code",
        required=False,
        empty_label=_("Any store"),
    )
    leader_bonus_points = forms.IntegerField(
        label=_("Bonus points for the leader"), min_value=0, initial=0
    )
    participant_points_multiplier = forms.DecimalField(
        label=_("Points multiplier for participants' orders"),
        max_digits=4,
        decimal_places=2,
        min_value=Decimal("0.01"),
        initial=Decimal("1.00"),
    )
    leader_order_id = forms.IntegerField(label=_("Leader's order ID"), min_value=1, required=False)

    def to_input(self) -> GroupDealInput:
        data = self.cleaned_data
        store = data.get("store")
        return GroupDealInput(
            title=data["title"],
            leader_id=data["leader_customer_id"],
            deadline=data["deadline"],
            min_size=data["min_size"],
            product_sku=data.get("product_sku") or "",
            store_code=store.code if store else "",
            leader_bonus_points=data["leader_bonus_points"],
            participant_points_multiplier=data["participant_points_multiplier"],
            leader_order_id=data.get("leader_order_id"),
        )


class JoinGroupDealForm(WithoutControlCharacters, forms.Form):
    customer_id = forms.IntegerField(label=_("Customer ID"), min_value=1)
    order_id = forms.IntegerField(
        label=_("Order ID"),
        min_value=1,
        required=False,
        help_text=_("Optional: the order can be attached later by joining again with it."),
    )
