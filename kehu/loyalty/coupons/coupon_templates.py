"""Coupon templates: creating and editing them, with every field checked against the kind.

Once coupons of a template exist, what they give and where is fixed: customers keep the coupon
they were given. The name, the validity of new coupons, the limits and being active may change.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.accounts.permissions import require
from kehu.commerce.models import Store
from kehu.loyalty.coupons.rules import check_template, normalise_template
from kehu.loyalty.coupons.services import locked_template
from kehu.loyalty.models import Coupon, CouponTemplate, Tier, ValidityKind

ZERO = Decimal("0.00")
# What a holder's coupon gives and where; fixed once coupons exist.
TERMS_FIELDS = (
    "kind",
    "amount_off",
    "percent_off",
    "max_discount",
    "min_spend",
    "gift_description",
)


@dataclass(frozen=True)
class TemplateInput:
    """A coupon template as entered on the form or sent to the API."""

    name: str
    kind: str
    amount_off: Decimal | None = None
    percent_off: Decimal | None = None
    max_discount: Decimal | None = None
    min_spend: Decimal = ZERO
    gift_description: str = ""
    validity: str = ValidityKind.RELATIVE
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    valid_days: int | None = None
    per_customer_limit: int | None = None
    total_limit: int | None = None
    store_ids: tuple[int, ...] = field(default=())
    tier_id: int | None = None
    is_active: bool = True


def create_template(actor: User, data: TemplateInput) -> CouponTemplate:
    require(actor, "loyalty.manage")
    template = CouponTemplate(created_by=actor)
    apply_input(template, data)
    stores = checked_stores(data.store_ids)
    with transaction.atomic():
        template.save()
        template.stores.set(stores)
    return template


def update_template(actor: User, template_id: int, data: TemplateInput) -> CouponTemplate:
    """Edit a template. Once coupons exist, what they give and where is fixed (holders keep
    the coupon they were given); the name, the validity of new coupons, the limits and being
    active may still change."""
    require(actor, "loyalty.manage")
    with transaction.atomic():
        template = locked_template(template_id)
        terms_before = coupon_terms(template, template.stores.values_list("pk", flat=True))
        apply_input(template, data)
        stores = checked_stores(data.store_ids)
        if Coupon.objects.filter(template=template).exists():
            check_terms_unchanged(terms_before, coupon_terms(template, data.store_ids))
        template.save()
        template.stores.set(stores)
    return template


def apply_input(template: CouponTemplate, data: TemplateInput) -> None:
    for name in (item.name for item in fields(data)):
        if name not in ("store_ids", "tier_id"):
            setattr(template, name, getattr(data, name))
    template.name = data.name.strip()
    template.tier = checked_tier(data.tier_id)
    normalise_template(template)
    if not template.name:
        raise ValidationError({"name": [_("Enter a name.")]})
    check_template(template)


def coupon_terms(template: CouponTemplate, store_ids: Iterable[int]) -> dict[str, object]:
    """What a holder's coupon gives and where: fixed once coupons exist."""
    terms: dict[str, object] = {name: getattr(template, name) for name in TERMS_FIELDS}
    return {**terms, "stores": frozenset(store_ids), "tier_id": template.tier_id}


def check_terms_unchanged(before: dict[str, object], after: dict[str, object]) -> None:
    message = _("Coupons were issued from this template; make a new template to change this.")
    changed = [name for name in before if before[name] != after[name]]
    if changed:
        raise ValidationError({name: [message] for name in changed})


def checked_stores(store_ids: tuple[int, ...]) -> list[Store]:
    stores = list(Store.objects.filter(pk__in=set(store_ids)))
    if len(stores) != len(set(store_ids)):
        raise ValidationError({"stores": [_("Unknown store.")]})
    return stores


def store_ids_for_codes(codes: Iterable[str]) -> tuple[int, ...]:
    """The stores named by their codes (as the orders API names them)."""
    wanted = set(codes)
    found = dict(Store.objects.filter(code__in=wanted).values_list("code", "pk"))
    unknown = sorted(wanted - found.keys())
    if unknown:
        raise ValidationError(
            {"stores": [_("Unknown store “%(code)s”.") % {"code": code} for code in unknown]}
        )
    return tuple(sorted(found.values()))


def checked_tier(tier_id: int | None) -> Tier | None:
    if tier_id is None:
        return None
    tier = Tier.objects.filter(pk=tier_id).first()
    if tier is None:
        raise ValidationError({"tier_id": [_("Unknown tier.")]})
    return tier
