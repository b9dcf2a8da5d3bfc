"""Changing the programme: its rules (LoyaltySettings, administrators only) and its tiers (the
programme's managers), each checked as a whole before anything is saved.

New thresholds apply from the next earning (upgrades) and the next review (downgrades); members
are not moved the moment a threshold changes.

Each side of a referral is given points, a coupon or both: a side left with 0 points and no
coupon is refused, since a referral "rewarded" with nothing breaks the promise made to the
customers (to stop rewarding referrals, set the cap of rewarded referrals to 0). A coupon must
come from a template that can give one now to any member (`referral_coupons.reward_templates`).
"""

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import pairwise

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.accounts.permissions import may
from kehu.core.errors import NotAllowed
from kehu.loyalty.models import CouponTemplate, LoyaltySettings, Tier, TierBasis
from kehu.loyalty.referrals.coupon_rewards import reward_template_problem

# field → (lowest, highest) allowed; None: no upper bound
NUMBER_LIMITS: dict[str, tuple[Decimal, Decimal | None]] = {
    "points_per_yuan": (Decimal(0), Decimal(100)),
    "points_expire_months": (Decimal(0), Decimal(120)),
    "points_per_yuan_offset": (Decimal(1), Decimal(100_000)),
    "downgrade_grace_days": (Decimal(0), Decimal(365)),
    "referrer_reward_points": (Decimal(0), None),
    "referee_reward_points": (Decimal(0), None),
    "referral_min_order": (Decimal(0), None),
    "referrals_per_referrer_cap": (Decimal(0), None),
    "adjustment_alert_points": (Decimal(0), Decimal(10_000_000)),
    "repeat_adjustments_alert": (Decimal(0), Decimal(1000)),
}
# side → (its points field, its coupon field, who it is in a message)
REWARD_FIELDS = {
    "referrer": ("referrer_reward_points", "referrer_reward_coupon"),
    "referee": ("referee_reward_points", "referee_reward_coupon"),
}
COUPON_FIELDS = tuple(coupon for _points, coupon in REWARD_FIELDS.values())
# In the order the settings page shows them.
SETTINGS_FIELDS = (
    "points_per_yuan",
    "points_expire_months",
    "points_per_yuan_offset",
    "tier_basis",
    "downgrade_grace_days",
    "referrer_reward_points",
    "referrer_reward_coupon",
    "referee_reward_points",
    "referee_reward_coupon",
    "referral_min_order",
    "referrals_per_referrer_cap",
    "card_prefix",
    "adjustment_alert_points",
    "repeat_adjustments_alert",
    "other_team_managers_approve",
)


def update_loyalty_settings(actor: User, changes: Mapping[str, object]) -> LoyaltySettings:
    """Change the programme's rules; only the fields given change. A referral coupon is given
    as a template, its id or None (no coupon)."""
    if not may(actor, "settings.manage"):
        raise NotAllowed(_("Only administrators may change the programme's rules."))
    unknown = set(changes) - set(SETTINGS_FIELDS)
    if unknown:
        raise ValueError(f"Not programme settings: {sorted(unknown)}")
    check_settings(changes)
    with transaction.atomic():
        LoyaltySettings.current()
        settings = LoyaltySettings.objects.select_for_update().get(pk=1)
        for name, value in changes.items():
            if name in COUPON_FIELDS:
                setattr(settings, f"{name}_id", template_id(value))
            else:
                setattr(settings, name, value)
        check_referral_rewards(settings, set(changes))
        settings.save()
    return settings


def template_id(value: object) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, CouponTemplate):
        return value.pk
    return int(str(value))


def check_referral_rewards(settings: LoyaltySettings, changed: set[str]) -> None:
    """Each side gets points or a coupon, judged on the settings as they would be saved (a
    change of one field with the others). A coupon among the changes — the settings page
    always sends both — must come from a template that can give one now, so a template
    switched off since it was chosen is pointed out at the next save."""
    problems: dict[str, str] = {}
    now = timezone.now()
    for side, (points_field, coupon_field) in REWARD_FIELDS.items():
        coupon_id = getattr(settings, f"{coupon_field}_id")
        if coupon_id is None:
            if getattr(settings, points_field) == 0:
                problems[points_field] = empty_reward_message(side)
            continue
        template = CouponTemplate.objects.select_related("tier").filter(pk=coupon_id).first()
        if template is None:
            problems[coupon_field] = _("This coupon template does not exist.")
        elif coupon_field in changed and (problem := reward_template_problem(template, now)):
            problems[coupon_field] = problem
    if problems:
        raise ValidationError(problems)


def empty_reward_message(side: str) -> str:
    if side == "referrer":
        return _("Give the referrer points, a coupon or both.")
    return _("Give the new member points, a coupon or both.")


def check_settings(changes: Mapping[str, object]) -> None:
    problems: dict[str, str] = {}
    for name, (lowest, highest) in NUMBER_LIMITS.items():
        if name not in changes:
            continue
        value = Decimal(str(changes[name]))
        if value < lowest or (highest is not None and value > highest):
            problems[name] = (
                _("Enter a number from %(low)s to %(high)s.") % {"low": lowest, "high": highest}
                if highest is not None
                else _("Enter a number of at least %(low)s.") % {"low": lowest}
            )
    if "tier_basis" in changes and changes["tier_basis"] not in TierBasis.values:
        problems["tier_basis"] = _("Choose spend or points.")
    prefix = str(changes.get("card_prefix", "8"))
    if not (prefix.isdigit() and 1 <= len(prefix) <= 6 and prefix.isascii()):
        problems["card_prefix"] = _("Use one to six digits.")
    if problems:
        raise ValidationError(problems)


Problem = Callable[[int, str, str], None]
"""Records a problem: (the tier's index, the field, the message)."""


@dataclass(frozen=True)
class TierInput:
    """One tier as edited: ``tier_id`` None for a new one."""

    tier_id: int | None
    name: str
    rank: int
    threshold: Decimal
    points_multiplier: Decimal
    birthday_gift_points: int = 0
    benefits: str = ""


def save_tiers(actor: User, tiers: Sequence[TierInput]) -> list[Tier]:
    """Replace the tiers with `tiers`: ranks unique, thresholds strictly rising by rank from 0,
    multipliers above zero. A tier left out is removed, unless members are in it."""
    if not may(actor, "loyalty.manage"):
        raise NotAllowed(_("Your role may not change the tiers."))
    check_tiers(tiers)
    with transaction.atomic():
        existing = {tier.pk: tier for tier in Tier.objects.select_for_update()}
        remove_tiers_left_out(existing, {tier.tier_id for tier in tiers})
        park_names_and_ranks(existing.values())
        for tier in tiers:
            saved = existing.get(tier.tier_id) if tier.tier_id else None
            write_tier(saved or Tier(), tier)
    return list(Tier.objects.order_by("rank"))


def check_tiers(tiers: Sequence[TierInput]) -> None:
    """Every problem at once, keyed ``<index>.<field>`` (the tier's place in `tiers`)."""
    problems: dict[str, list[str]] = {}

    def problem(index: int, field: str, message: str) -> None:
        problems.setdefault(f"{index}.{field}", []).append(message)

    if not tiers:
        raise ValidationError({"tiers": [_("Keep at least one tier.")]})
    names = [tier.name.strip() for tier in tiers]
    ranks = [tier.rank for tier in tiers]
    for index, tier in enumerate(tiers):
        if not names[index]:
            problem(index, "name", _("Give the tier a name."))
        elif names.count(names[index]) > 1:
            problem(index, "name", _("Two tiers cannot have the same name."))
        if ranks.count(tier.rank) > 1:
            problem(index, "rank", _("Two tiers cannot have the same rank."))
        if not Decimal(0) < tier.points_multiplier < Decimal(100):
            problem(index, "points_multiplier", _("The multiplier must be above 0 and below 100."))
        if tier.birthday_gift_points < 0:
            problem(index, "birthday_gift_points", _("Gift points cannot be negative."))
    check_thresholds(tiers, problem)
    if problems:
        raise ValidationError(problems)


def check_thresholds(tiers: Sequence[TierInput], problem: Problem) -> None:
    """The lowest rank starts at 0 (where every member enrols); each higher rank needs more."""
    order = sorted(range(len(tiers)), key=lambda index: tiers[index].rank)
    if tiers[order[0]].threshold != 0:
        problem(order[0], "threshold", _("The lowest tier starts at 0."))
    for lower, higher in pairwise(order):
        if tiers[higher].threshold <= tiers[lower].threshold:
            problem(
                higher,
                "threshold",
                _("Must be more than %(threshold)s, the threshold of “%(name)s”.")
                % {"threshold": tiers[lower].threshold, "name": tiers[lower].name},
            )


def remove_tiers_left_out(existing: dict[int, Tier], kept: set[int | None]) -> None:
    for pk, tier in list(existing.items()):
        if pk in kept:
            continue
        if tier.members.exists():
            raise ValidationError(
                {"tiers": [_("“%(name)s” still has members: keep it.") % {"name": tier.name}]}
            )
        from kehu.loyalty.models import CouponTemplate, TierChange

        if (
            TierChange.objects.filter(tier=tier).exists()
            or CouponTemplate.objects.filter(tier=tier).exists()
        ):
            raise ValidationError(
                {"tiers": [_("“%(name)s” is in use: keep it.") % {"name": tier.name}]}
            )
        tier.delete()
        del existing[pk]


def park_names_and_ranks(tiers: Iterable[Tier]) -> None:
    """Names and ranks are unique: move them aside first, so two tiers can swap them."""
    for tier in tiers:
        Tier.objects.filter(pk=tier.pk).update(name=f"~{tier.pk}", rank=10_000 + tier.pk)


def write_tier(tier: Tier, values: TierInput) -> None:
    tier.name = values.name.strip()[:40]
    tier.rank = values.rank
    tier.threshold = values.threshold
    tier.points_multiplier = values.points_multiplier
    tier.birthday_gift_points = values.birthday_gift_points
    tier.benefits = values.benefits
    tier.save()
