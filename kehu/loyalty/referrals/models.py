"""Referrals (推荐): who brought whom, and whether the reward was paid."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ReferralStatus(models.TextChoices):
    PENDING = "pending", pgettext_lazy("referral status", "Waiting for a first purchase")
    REWARDED = "rewarded", pgettext_lazy("referral status", "Rewarded")
    REJECTED = "rejected", pgettext_lazy("referral status", "Rejected")


class Referral(models.Model):
    """A new customer attributed to a referring member at sign-up; a customer is referred once."""

    referrer = models.ForeignKey(
        "loyalty.Membership",
        verbose_name=_("referrer"),
        on_delete=models.PROTECT,
        related_name="referrals",
    )
    referee = models.OneToOneField(
        "customers.Customer",
        verbose_name=_("new customer"),
        on_delete=models.PROTECT,
        related_name="referral",
    )
    code_used = models.CharField(_("code used"), max_length=12)
    status = models.CharField(
        _("status"), max_length=10, choices=ReferralStatus.choices, default="pending"
    )
    rejected_reason = models.CharField(_("why rejected"), max_length=200, blank=True)
    qualifying_order = models.OneToOneField(
        "commerce.Order",
        verbose_name=_("first qualifying order"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    attributed_at = models.DateTimeField(_("attributed at"))
    rewarded_at = models.DateTimeField(_("rewarded at"), null=True, blank=True)

    class Meta:
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        ordering = ["-attributed_at"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="rewarded") | models.Q(qualifying_order__isnull=False),
                name="referral_rewarded_has_order",
            )
        ]

    def __str__(self) -> str:
        return f"{self.referrer_id} → {self.referee_id}"
