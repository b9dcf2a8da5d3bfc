"""Forms of the member pages: adjusting points, changing a membership's status, redeeming at the
counter, the programme's rules, its tiers and the gift catalogue. They only parse; the services
check the rules.

The counter's forms carry a one-time token that becomes the redemption's idempotency key, so a
double click or a resubmitted page redeems once.
"""

import uuid
from decimal import Decimal
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from kehu.commerce.models import Order, Store
from kehu.core.forms import WithoutControlCharacters
from kehu.loyalty.approvals.limits import FIELDS as LIMIT_FIELDS
from kehu.loyalty.approvals.limits import MAX_ADJUSTMENT, LimitValues, all_limits
from kehu.loyalty.models import LoyaltySettings, RedemptionItem, Tier
from kehu.loyalty.programme.services import SETTINGS_FIELDS, TierInput


def new_token() -> str:
    return uuid.uuid4().hex


class TokenForm(WithoutControlCharacters, forms.Form):
    token = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("token", new_token())
        super().__init__(*args, **kwargs)


class AdjustForm(TokenForm):
    points = forms.IntegerField(
        label=_("Points"),
        min_value=-MAX_ADJUSTMENT,
        max_value=MAX_ADJUSTMENT,
        help_text=_("Positive adds points, negative takes them."),
    )
    reason = forms.CharField(label=_("Reason"), max_length=300)


class DecisionForm(WithoutControlCharacters, forms.Form):
    """The reason for approving (optional) or rejecting (required) a points adjustment."""

    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)


class MembershipStatusForm(WithoutControlCharacters, forms.Form):
    """The reason for freezing, cancelling or reactivating a membership (kept in its history)."""

    reason = forms.CharField(
        label=_("Reason"), max_length=300, widget=forms.Textarea(attrs={"rows": 2})
    )


class CounterForm(TokenForm):
    """A counter form offers only the stores the user works at (`stores_of`), the only one
    chosen already; the service checks the store again."""

    store = forms.ModelChoiceField(label=_("Store"), queryset=Store.objects.none(), required=False)

    def __init__(self, *args: Any, stores: QuerySet[Store] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if stores is not None:
            field = self.fields["store"]
            field.queryset = stores  # type: ignore[attr-defined]
            choices = list(stores[:2])
            if len(choices) == 1:
                field.initial = choices[0].pk


class GiftRedeemForm(CounterForm):
    gift = forms.ModelChoiceField(
        label=_("Gift"), queryset=RedemptionItem.objects.filter(is_active=True)
    )
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, max_value=100, initial=1)
    field_order = ("gift", "quantity", "store")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["gift"].label_from_instance = gift_label  # type: ignore[attr-defined]


def gift_label(gift: RedemptionItem) -> str:
    stock = _("unlimited") if gift.stock is None else gift.stock
    return str(
        _("%(name)s · %(points)s points · stock %(stock)s")
        % {"name": gift.name, "points": gift.points_cost, "stock": stock}
    )


class CashOffsetForm(CounterForm):
    amount = forms.DecimalField(
        label=_("Cash offset (¥)"), max_digits=12, decimal_places=2, min_value=Decimal("0.01")
    )
    order = forms.ModelChoiceField(
        label=_("Against order"),
        queryset=Order.objects.none(),
        required=False,
        help_text=_(
            "The member's order the points pay part of; needed above your role's limit for "
            "offsets without an order."
        ),
    )
    field_order = ("amount", "order", "store")

    def __init__(self, *args: Any, customer_id: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if customer_id is not None:
            recent = Order.objects.filter(customer_id=customer_id).order_by("-ordered_at")[:20]
            self.fields["order"].queryset = Order.objects.filter(  # type: ignore[attr-defined]
                pk__in=[order.pk for order in recent]
            ).order_by("-ordered_at")


class LoyaltySettingsForm(forms.ModelForm):
    class Meta:
        model = LoyaltySettings
        fields = SETTINGS_FIELDS


class StaffLimitForm(forms.Form):
    """One role's limits (empty: no limit); the role is fixed by the row."""

    role = forms.CharField(widget=forms.HiddenInput)
    points_per_adjustment = forms.IntegerField(
        label=_("Points per adjustment"), min_value=0, max_value=MAX_ADJUSTMENT, required=False
    )
    points_per_day = forms.IntegerField(
        label=_("Points per day"), min_value=0, max_value=2_000_000_000, required=False
    )
    offset_without_order = forms.DecimalField(
        label=_("Cash offset without an order (¥)"),
        min_value=0,
        max_digits=12,
        decimal_places=2,
        required=False,
    )
    coupon_face_value = forms.DecimalField(
        label=_("Coupon value (¥)"), min_value=0, max_digits=10, decimal_places=2, required=False
    )

    def to_values(self) -> LimitValues:
        data = self.cleaned_data
        return LimitValues(*(data.get(name) for name in LIMIT_FIELDS))


StaffLimitFormSet = forms.formset_factory(StaffLimitForm, extra=0)


def staff_limit_initial() -> list[dict[str, Any]]:
    return [
        {"role": limit.role, **{name: getattr(limit, name) for name in LIMIT_FIELDS}}
        for limit in all_limits()
    ]


class TierForm(WithoutControlCharacters, forms.Form):
    tier_id = forms.IntegerField(widget=forms.HiddenInput, required=False)
    name = forms.CharField(label=_("Tier name"), max_length=40, required=False)
    rank = forms.IntegerField(label=_("Rank"), min_value=0, max_value=1000)
    threshold = forms.DecimalField(
        label=_("Reached at"), max_digits=14, decimal_places=2, min_value=0
    )
    points_multiplier = forms.DecimalField(
        label=_("Points multiplier"), max_digits=4, decimal_places=2
    )
    birthday_gift_points = forms.IntegerField(label=_("Birthday gift points"), min_value=0)
    benefits = forms.CharField(label=_("Benefits"), required=False, max_length=500)

    def is_blank(self) -> bool:
        """Without a name the row is no tier: an extra row left empty, or a tier removed."""
        return not str(self.cleaned_data.get("name") or "").strip()

    def to_input(self) -> TierInput:
        data = self.cleaned_data
        return TierInput(
            tier_id=data.get("tier_id"),
            name=data.get("name") or "",
            rank=data["rank"],
            threshold=data["threshold"],
            points_multiplier=data["points_multiplier"],
            birthday_gift_points=data["birthday_gift_points"],
            benefits=data.get("benefits") or "",
        )


# The extra row may stay empty: Django lets an unchanged extra form through unvalidated.
TierFormSet = forms.formset_factory(TierForm, extra=1)


def tier_initial() -> list[dict[str, Any]]:
    return [
        {
            "tier_id": tier.pk,
            "name": tier.name,
            "rank": tier.rank,
            "threshold": tier.threshold,
            "points_multiplier": tier.points_multiplier,
            "birthday_gift_points": tier.birthday_gift_points,
            "benefits": tier.benefits,
        }
        for tier in Tier.objects.order_by("rank")
    ]


class GiftForm(WithoutControlCharacters, forms.ModelForm):
    class Meta:
        model = RedemptionItem
        fields = ("name", "points_cost", "stock", "is_active", "description")
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}
        help_texts = {"stock": _("Leave empty for unlimited.")}
