"""Forms of the referral rewards in the programme's rules and of the group-deal pages. They only
collect values; the rules (a reward for each side, deadline in the future, the order may
count, ...) are checked by `kehu.loyalty.programme.services` and
`kehu.loyalty.groupbuy.services`."""

from decimal import Decimal
from typing import Any

from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.commerce.models import Store
from kehu.core.forms import WithoutControlCharacters
from kehu.loyalty.groupbuy.services import GroupDealInput
from kehu.loyalty.members.forms import LoyaltySettingsForm
from kehu.loyalty.models import CouponTemplate
from kehu.loyalty.programme.services import COUPON_FIELDS
from kehu.loyalty.referrals.coupon_rewards import reward_templates, template_label


class ProgrammeRulesForm(LoyaltySettingsForm):
    """The programme's rules, the referral coupons chosen among the templates that can give a
    coupon now. The coupon chosen before stays offered even when it no longer fits, so the
    page shows what is set and saving says why it must change (the service checks)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in COUPON_FIELDS:
            field = self.fields[name]
            field.queryset = coupon_choices(getattr(self.instance, f"{name}_id"))  # type: ignore[attr-defined]
            field.empty_label = _("No coupon")  # type: ignore[attr-defined]
            field.label_from_instance = template_label  # type: ignore[attr-defined]


def coupon_choices(current_id: int | None) -> QuerySet[CouponTemplate]:
    fitting = reward_templates(timezone.now()).values("pk")
    return CouponTemplate.objects.filter(Q(pk__in=fitting) | Q(pk=current_id)).order_by(
        "name", "pk"
    )


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
