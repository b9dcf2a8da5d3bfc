"""Limits on what one staff member may do alone with points and coupons, and the requests
for a second person's approval above them."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kehu.accounts.roles import Role


class StaffLimit(models.Model):
    """What one person of a role may do alone; an empty limit is no limit. Points beyond the
    adjustment limits wait for a second person's approval; a cash offset without an order is
    refused above its limit; a coupon worth more than the coupon limit is refused."""

    role = models.CharField(_("role"), max_length=20, choices=Role.choices, unique=True)
    points_per_adjustment = models.PositiveIntegerField(
        _("points per adjustment at most"),
        null=True,
        blank=True,
        help_text=_("Counted either way (adding or taking). Empty: no limit."),
    )
    points_per_day = models.PositiveIntegerField(
        _("points adjusted per person and day at most"),
        null=True,
        blank=True,
        help_text=_("The sum of one person's adjustments on a business day. Empty: no limit."),
    )
    offset_without_order = models.DecimalField(
        _("cash offset without an order at most (¥)"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Larger offsets must name the order they pay for. Empty: no limit."),
    )
    coupon_face_value = models.DecimalField(
        _("coupon value issued at most (¥)"),
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("A fixed amount off, or a percentage's cap. Empty: no limit."),
    )

    class Meta:
        verbose_name = _("staff limit")
        verbose_name_plural = _("staff limits")
        ordering = ["role"]

    def __str__(self) -> str:
        return self.get_role_display()


class ApprovalStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class ApprovalRequest(models.Model):
    """A points adjustment above the requester's limits, waiting for a second person. Nothing
    moves in the ledger until it is approved; the approval writes the entry (``entry``)."""

    membership = models.ForeignKey(
        "loyalty.Membership",
        verbose_name=_("membership"),
        on_delete=models.PROTECT,
        related_name="approval_requests",
    )
    points = models.IntegerField(_("points"))
    reason = models.CharField(_("reason"), max_length=300)
    status = models.CharField(
        _("status"), max_length=10, choices=ApprovalStatus.choices, default="pending"
    )
    idempotency_key = models.CharField(_("idempotency key"), max_length=120, unique=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    requested_at = models.DateTimeField(_("requested at"), db_index=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_reason = models.CharField(_("reason for the decision"), max_length=300, blank=True)
    entry = models.OneToOneField(
        "loyalty.PointsEntry",
        verbose_name=_("ledger entry"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="approval",
    )

    class Meta:
        verbose_name = _("approval request")
        verbose_name_plural = _("approval requests")
        ordering = ["-requested_at", "-id"]
        indexes = [models.Index(fields=["status", "requested_at"])]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="approved") | models.Q(entry__isnull=False),
                name="approval_approved_has_entry",
            ),
            models.CheckConstraint(condition=~models.Q(points=0), name="approval_points_not_zero"),
        ]

    def __str__(self) -> str:
        return f"{self.membership_id} {self.points:+d} ({self.status})"
