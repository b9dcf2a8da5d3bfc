"""Limits on what one staff member may do alone with points and coupons, and the requests
for a second person's approval above them."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kehu.accounts.roles import Role


class StaffLimit(models.Model):
    """What one person of a role may do alone; an empty limit is no limit. Points beyond the
    adjustment limits wait for a second person's approval; a cash offset without an order is
    refused above its limit; a coupon worth more than the coupon limit waits for approval too."""

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


class ApprovalKind(models.TextChoices):
    POINTS = "points", _("Points adjustment")
    COUPON = "coupon", _("Coupon for a customer")
    COUPON_BATCH = "coupon_batch", _("Coupons for a list or segment")


class ApprovalRequest(models.Model):
    """Something above the requester's limits, waiting for a second person: a points
    adjustment (nothing moves in the ledger until it is approved; the approval writes
    ``entry``), a coupon for one customer (the approval issues ``coupon``), or an issue batch
    (``batch`` waits unstarted; the approval starts it)."""

    kind = models.CharField(
        _("kind"), max_length=20, choices=ApprovalKind.choices, default=ApprovalKind.POINTS
    )
    membership = models.ForeignKey(
        "loyalty.Membership",
        verbose_name=_("membership"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="approval_requests",
    )
    points = models.IntegerField(_("points"), null=True, blank=True)
    coupon_template = models.ForeignKey(
        "loyalty.CouponTemplate",
        verbose_name=_("coupon template"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="approval_requests",
    )
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    batch = models.OneToOneField(
        "loyalty.CouponIssueBatch",
        verbose_name=_("issue batch"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="approval",
    )
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
    coupon = models.OneToOneField(
        "loyalty.Coupon",
        verbose_name=_("coupon issued"),
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
                condition=~models.Q(status="approved")
                | models.Q(kind="points", entry__isnull=False)
                | models.Q(kind="coupon", coupon__isnull=False)
                | models.Q(kind="coupon_batch"),
                name="approval_approved_has_result",
            ),
            models.CheckConstraint(
                condition=models.Q(kind="points", membership__isnull=False, points__isnull=False)
                & ~models.Q(points=0)
                | models.Q(kind="coupon", coupon_template__isnull=False, customer__isnull=False)
                | models.Q(kind="coupon_batch", coupon_template__isnull=False, batch__isnull=False),
                name="approval_kind_has_its_fields",
            ),
        ]

    def __str__(self) -> str:
        if self.kind == ApprovalKind.POINTS:
            return f"{self.membership_id} {self.points:+d} ({self.status})"
        return f"{self.kind} {self.coupon_template_id} ({self.status})"
