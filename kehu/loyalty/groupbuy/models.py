"""Group deals (团购): a leader gathers participants before a deadline; a deal that reaches its
minimum size succeeds and its orders earn as configured."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class GroupDealStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("group deal", "Open")
    SUCCEEDED = "succeeded", pgettext_lazy("group deal", "Succeeded")
    FAILED = "failed", pgettext_lazy("group deal", "Failed")
    CANCELLED = "cancelled", pgettext_lazy("group deal", "Cancelled")


class GroupRole(models.TextChoices):
    LEADER = "leader", _("Group leader (团长)")
    PARTICIPANT = "participant", _("Participant")


class GroupDeal(models.Model):
    """A group buy led by a customer (团长); the leader is also its first participant."""

    title = models.CharField(_("title"), max_length=120)
    leader = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("group leader"),
        on_delete=models.PROTECT,
        related_name="group_deals_led",
    )
    product = models.ForeignKey(
        "commerce.Product",
        verbose_name=_("product"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
    )
    store = models.ForeignKey(
        "commerce.Store",
        verbose_name=_("store"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
    )
    min_size = models.PositiveIntegerField(_("minimum participants"), default=3)
    deadline = models.DateTimeField(_("deadline"), db_index=True)
    status = models.CharField(
        _("status"), max_length=10, choices=GroupDealStatus.choices, default="open"
    )
    leader_bonus_points = models.PositiveIntegerField(_("bonus points for the leader"), default=0)
    participant_points_multiplier = models.DecimalField(
        _("points multiplier for participants"), max_digits=4, decimal_places=2, default=1
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    # A shop system that retries "create this deal" sends the same key and gets the first deal.
    idempotency_key = models.CharField(
        _("idempotency key"), max_length=120, unique=True, null=True, blank=True
    )

    class Meta:
        verbose_name = _("group deal")
        verbose_name_plural = _("group deals")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=models.Q(min_size__gte=2), name="group_deal_min_size")
        ]

    def __str__(self) -> str:
        return self.title


class GroupParticipant(models.Model):
    deal = models.ForeignKey(
        GroupDeal,
        verbose_name=_("group deal"),
        on_delete=models.CASCADE,
        related_name="participants",
    )
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="group_participations",
    )
    role = models.CharField(_("role"), max_length=12, choices=GroupRole.choices)
    order = models.OneToOneField(
        "commerce.Order",
        verbose_name=_("order"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="group_participation",
    )
    joined_at = models.DateTimeField(_("joined at"))

    class Meta:
        verbose_name = _("group participant")
        verbose_name_plural = _("group participants")
        ordering = ["joined_at"]
        constraints = [
            models.UniqueConstraint(fields=["deal", "customer"], name="group_participant_once")
        ]

    def __str__(self) -> str:
        return f"{self.deal_id}: {self.customer_id}"
