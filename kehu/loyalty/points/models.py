"""The points ledger (积分): append-only entries whose sum is the member's balance, and the
redemption catalogue."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class PointsKind(models.TextChoices):
    EARN = "earn", pgettext_lazy("points entry", "Earned")
    REDEEM = "redeem", pgettext_lazy("points entry", "Redeemed")
    EXPIRE = "expire", pgettext_lazy("points entry", "Expired")
    ADJUST = "adjust", pgettext_lazy("points entry", "Adjusted")
    REVERSE = "reverse", pgettext_lazy("points entry", "Reversed")


class PointsSource(models.TextChoices):
    ORDER = "order", _("Order")
    CAMPAIGN = "campaign", _("Campaign")
    REFERRAL = "referral", _("Referral")
    STAFF = "staff", _("Staff")
    REDEMPTION = "redemption", _("Redemption")
    EXPIRY = "expiry", _("Expiry")
    BIRTHDAY = "birthday", _("Birthday gift")
    GROUP_BUY = "group_buy", _("Group buy")


class PointsEntry(models.Model):
    """One line of a member's points statement; never updated except ``remaining``.

    ``points`` is signed (earn and positive adjustments add, the rest subtract). For entries
    that add points, ``remaining`` is how many of them are still unspent and unexpired:
    redemptions and expiry consume the oldest first (FIFO). ``idempotency_key`` makes a retried
    request (the same order posted twice, a repeated API call) a no-op.
    """

    membership = models.ForeignKey(
        "loyalty.Membership",
        verbose_name=_("membership"),
        on_delete=models.PROTECT,
        related_name="points_entries",
    )
    kind = models.CharField(_("kind"), max_length=10, choices=PointsKind.choices)
    points = models.IntegerField(_("points"))
    remaining = models.IntegerField(_("still available"), default=0)
    expires_on = models.DateField(_("expires on"), null=True, blank=True, db_index=True)
    source = models.CharField(_("source"), max_length=12, choices=PointsSource.choices)
    reason = models.CharField(_("reason"), max_length=300)
    order = models.ForeignKey(
        "commerce.Order",
        verbose_name=_("order"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="points_entries",
    )
    reverses = models.ForeignKey(
        "self",
        verbose_name=_("reverses"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reversals",
    )
    idempotency_key = models.CharField(_("idempotency key"), max_length=120, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The second person who approved an adjustment above the maker's limit."),
    )
    created_at = models.DateTimeField(_("created at"), db_index=True)

    class Meta:
        verbose_name = _("points entry")
        verbose_name_plural = _("points entries")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["membership", "created_at"]),
            models.Index(fields=["membership", "expires_on"], name="points_fifo"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(remaining__gte=0), name="points_remaining_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(points__lte=0, remaining=0)
                | models.Q(points__gt=0, remaining__lte=models.F("points")),
                name="points_remaining_within_points",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.membership_id} {self.points:+d}"


class EarningRule(models.Model):
    """A points multiplier beyond the tier's: for a product category (and its subcategories) or
    for a whole order, optionally at one store and within dates (a bonus event such as double
    points over 双11). Where several rules apply to the same purchase, the highest multiplier
    counts; rules do not stack."""

    name = models.CharField(_("name"), max_length=100)
    multiplier = models.DecimalField(
        _("points multiplier"),
        max_digits=4,
        decimal_places=2,
        help_text=_("Points × this on the purchases the rule covers; 2 is double points."),
    )
    category = models.ForeignKey(
        "commerce.Category",
        verbose_name=_("product category"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty: the whole order."),
    )
    store = models.ForeignKey(
        "commerce.Store",
        verbose_name=_("store"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty: every store and channel."),
    )
    starts_on = models.DateField(_("from"), null=True, blank=True)
    ends_on = models.DateField(_("until"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("earning rule")
        verbose_name_plural = _("earning rules")
        ordering = ["-is_active", "starts_on", "name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(multiplier__gt=0, multiplier__lte=10),
                name="earning_rule_multiplier_range",
            ),
            models.CheckConstraint(
                condition=models.Q(starts_on__isnull=True)
                | models.Q(ends_on__isnull=True)
                | models.Q(ends_on__gte=models.F("starts_on")),
                name="earning_rule_dates_in_order",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class RedemptionItem(models.Model):
    """A gift in the redemption catalogue; ``stock`` empty means unlimited."""

    name = models.CharField(_("name"), max_length=100)
    points_cost = models.PositiveIntegerField(_("points"))
    stock = models.IntegerField(_("stock"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        verbose_name = _("redemption gift")
        verbose_name_plural = _("redemption gifts")
        ordering = ["points_cost", "name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(stock__isnull=True) | models.Q(stock__gte=0),
                name="redemption_stock_not_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(points_cost__gt=0), name="redemption_cost_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Redemption(models.Model):
    """Points spent on a gift, or on a cash offset against an order (then ``item`` is empty)."""

    membership = models.ForeignKey(
        "loyalty.Membership",
        verbose_name=_("membership"),
        on_delete=models.PROTECT,
        related_name="redemptions",
    )
    item = models.ForeignKey(
        RedemptionItem,
        verbose_name=_("gift"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="redemptions",
    )
    quantity = models.PositiveIntegerField(_("quantity"), default=1)
    points = models.PositiveIntegerField(_("points"))
    cash_amount = models.DecimalField(
        _("cash offset (¥)"), max_digits=12, decimal_places=2, default=0
    )
    order = models.ForeignKey(
        "commerce.Order",
        verbose_name=_("order"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="points_redemptions",
    )
    entry = models.OneToOneField(
        PointsEntry, verbose_name=_("ledger entry"), on_delete=models.PROTECT, related_name="+"
    )
    store = models.ForeignKey(
        "commerce.Store",
        verbose_name=_("store"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
    )
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("redemption")
        verbose_name_plural = _("redemptions")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.membership_id} −{self.points}"
