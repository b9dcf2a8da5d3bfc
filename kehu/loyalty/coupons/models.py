"""Coupons (优惠券): templates, the coupons issued from them, and background issue batches."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class CouponKind(models.TextChoices):
    FIXED = "fixed", _("Fixed amount off")
    PERCENT = "percent", _("Percentage off, with a cap")
    THRESHOLD = "threshold", _("满减: spend X, save Y")
    GIFT = "gift", _("Free gift")
    SHIPPING = "shipping", _("Free shipping")


class ValidityKind(models.TextChoices):
    FIXED = "fixed", _("Fixed dates")
    RELATIVE = "relative", _("Days after issue")


class CouponTemplate(models.Model):
    """What a coupon gives and under which rules; coupons are issued from it."""

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=10, choices=CouponKind.choices)
    amount_off = models.DecimalField(
        _("amount off (¥)"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    percent_off = models.DecimalField(
        _("percent off"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    max_discount = models.DecimalField(
        _("discount at most (¥)"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    min_spend = models.DecimalField(
        _("order of at least (¥)"), max_digits=10, decimal_places=2, default=0
    )
    gift_description = models.CharField(_("gift"), max_length=200, blank=True)
    validity = models.CharField(
        _("validity"), max_length=10, choices=ValidityKind.choices, default="relative"
    )
    valid_from = models.DateTimeField(_("valid from"), null=True, blank=True)
    valid_until = models.DateTimeField(_("valid until"), null=True, blank=True)
    valid_days = models.PositiveIntegerField(_("valid for days after issue"), null=True, blank=True)
    per_customer_limit = models.PositiveIntegerField(
        _("coupons per customer at most"), null=True, blank=True
    )
    total_limit = models.PositiveIntegerField(_("coupons in all at most"), null=True, blank=True)
    issued_count = models.PositiveIntegerField(_("issued"), default=0)
    stores = models.ManyToManyField(
        "commerce.Store",
        verbose_name=_("only at stores"),
        blank=True,
        help_text=_("Empty: every store and channel."),
    )
    tier = models.ForeignKey(
        "loyalty.Tier",
        verbose_name=_("only for tier and above"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("coupon template")
        verbose_name_plural = _("coupon templates")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(total_limit__isnull=True)
                | models.Q(issued_count__lte=models.F("total_limit")),
                name="coupon_template_within_total_limit",
            )
        ]

    def __str__(self) -> str:
        return self.name


class CouponStatus(models.TextChoices):
    ISSUED = "issued", pgettext_lazy("coupon status", "Unused")
    REDEEMED = "redeemed", pgettext_lazy("coupon status", "Used")
    VOID = "void", pgettext_lazy("coupon status", "Void")
    EXPIRED = "expired", pgettext_lazy("coupon status", "Expired")


class IssueBatchStatus(models.TextChoices):
    QUEUED = "queued", pgettext_lazy("batch status", "Queued")
    RUNNING = "running", pgettext_lazy("batch status", "Running")
    DONE = "done", pgettext_lazy("batch status", "Done")
    FAILED = "failed", pgettext_lazy("batch status", "Failed")
    AWAITING_APPROVAL = "awaiting", pgettext_lazy("batch status", "Waiting for approval")
    REJECTED = "rejected", pgettext_lazy("batch status", "Rejected")


class CouponIssueBatch(models.Model):
    """Issuing a template to a list of customers or a segment, in the background."""

    template = models.ForeignKey(
        CouponTemplate, verbose_name=_("template"), on_delete=models.PROTECT, related_name="batches"
    )
    segment = models.ForeignKey(
        "segments.Segment",
        verbose_name=_("segment"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
    )
    customer_ids = models.JSONField(_("customers"), default=list, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=IssueBatchStatus.choices, default="queued"
    )
    requested = models.PositiveIntegerField(_("requested"), default=0)
    issued = models.PositiveIntegerField(_("issued"), default=0)
    skipped = models.PositiveIntegerField(_("skipped"), default=0)
    message = models.TextField(_("message"), blank=True)
    idempotency_key = models.CharField(
        _("idempotency key"), max_length=120, unique=True, null=True, blank=True
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("coupon issue batch")
        verbose_name_plural = _("coupon issue batches")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.template_id} × {self.requested}"


class Coupon(models.Model):
    """One coupon held by one customer; single use: redeemed once, against one order."""

    template = models.ForeignKey(
        CouponTemplate, verbose_name=_("template"), on_delete=models.PROTECT, related_name="coupons"
    )
    code = models.CharField(_("code"), max_length=20, unique=True)
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="coupons",
    )
    status = models.CharField(
        _("status"), max_length=10, choices=CouponStatus.choices, default="issued", db_index=True
    )
    valid_from = models.DateTimeField(_("valid from"))
    valid_until = models.DateTimeField(_("valid until"), db_index=True)
    issued_at = models.DateTimeField(_("issued at"))
    batch = models.ForeignKey(
        CouponIssueBatch,
        verbose_name=_("issue batch"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="coupons",
    )
    issue_key = models.CharField(
        _("issue idempotency key"), max_length=120, unique=True, null=True, blank=True
    )
    redeemed_at = models.DateTimeField(_("used at"), null=True, blank=True)
    order = models.OneToOneField(
        "commerce.Order",
        verbose_name=_("used on order"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="coupon",
    )
    discount_amount = models.DecimalField(
        _("discount given (¥)"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    redeem_key = models.CharField(
        _("redemption idempotency key"), max_length=120, unique=True, null=True, blank=True
    )
    voided_reason = models.CharField(_("void reason"), max_length=200, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The second person who approved a coupon above its issuer's limit."),
    )

    class Meta:
        verbose_name = _("coupon")
        verbose_name_plural = _("coupons")
        ordering = ["-issued_at", "-id"]
        indexes = [models.Index(fields=["customer", "status"])]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="redeemed") | models.Q(order__isnull=False),
                name="coupon_redeemed_has_order",
            )
        ]

    def __str__(self) -> str:
        return self.code
