"""Forms of the referral rewards in the programme's rules and of the group-deal pages. They only
collect values; the rules (a reward for each side, deadline in the future, the order may
count, ...) are checked by `kehu.loyalty.programme.services` and
`kehu.loyalty.groupbuy.services`."""

from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

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
