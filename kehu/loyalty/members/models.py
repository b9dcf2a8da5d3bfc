"""Members, the tiers they climb and the programme's settings."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class TierBasis(models.TextChoices):
    SPEND = "spend", _("Spend in the last 12 months")
    POINTS = "points", _("Points earned in the last 12 months")


class LoyaltySettings(models.Model):
    """The programme's rules; a single row, edited by administrators."""

    points_per_yuan = models.DecimalField(
        _("points per ¥1 spent"), max_digits=6, decimal_places=2, default=1
    )
    points_expire_months = models.PositiveIntegerField(
        _("points expire after months"),
        default=24,
        help_text=_("Earned points expire first-in-first-out this many months after earning."),
    )
    points_per_yuan_offset = models.PositiveIntegerField(
        _("points for ¥1 of cash offset"), default=100
    )
    tier_basis = models.CharField(
        _("tiers are reached by"), max_length=10, choices=TierBasis.choices, default="spend"
    )
    downgrade_grace_days = models.PositiveIntegerField(
        _("grace days before a downgrade"), default=30
    )
    referrer_reward_points = models.PositiveIntegerField(_("points for the referrer"), default=200)
    referee_reward_points = models.PositiveIntegerField(_("points for the new member"), default=100)
    referral_min_order = models.DecimalField(
        _("referral: first order of at least (¥)"), max_digits=10, decimal_places=2, default=50
    )
    referrals_per_referrer_cap = models.PositiveIntegerField(
        _("rewarded referrals per referrer at most"), default=20
    )
    referrer_reward_coupon = models.ForeignKey(
        "loyalty.CouponTemplate",
        verbose_name=_("coupon for the referrer"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Given with the referrer's points, or instead of them when points are 0."),
    )
    referee_reward_coupon = models.ForeignKey(
        "loyalty.CouponTemplate",
        verbose_name=_("coupon for the new member"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Given with the new member's points, or instead of them when points are 0."),
    )
    card_prefix = models.CharField(_("card number prefix"), max_length=6, default="8")
    adjustment_alert_points = models.PositiveIntegerField(
        _("alert administrators at an adjustment of points"),
        default=1000,
        help_text=_(
            "An adjustment of this many points or more (either way) alerts them; 0: never."
        ),
    )
    repeat_adjustments_alert = models.PositiveIntegerField(
        _("alert at adjustments of one member by one person in a day"),
        default=3,
        help_text=_("The adjustment that reaches this count alerts the administrators; 0: never."),
    )
    other_team_managers_approve = models.BooleanField(
        _("store managers of another team may approve"),
        default=False,
        help_text=_(
            "Adjustments above a limit are approved by an administrator, or also by a store "
            "manager of another team than the requester's."
        ),
    )

    class Meta:
        verbose_name = _("loyalty settings")
        verbose_name_plural = _("loyalty settings")

    def __str__(self) -> str:
        return str(_("Loyalty settings"))

    @classmethod
    def current(cls) -> "LoyaltySettings":
        current, _created = cls.objects.get_or_create(pk=1)
        return current


class Tier(models.Model):
    """A member tier (会员等级): 普通 → 银卡 → 金卡 → 钻石 by default, names and thresholds set by
    the business. ``rank`` orders them; the lowest rank is where every new member starts."""

    name = models.CharField(_("name"), max_length=40, unique=True)
    rank = models.PositiveSmallIntegerField(_("rank"), unique=True)
    threshold = models.DecimalField(
        _("reached at"),
        max_digits=14,
        decimal_places=2,
        default=0,
        help_text=_("Rolling 12-month spend (¥) or points earned, by the programme's basis."),
    )
    points_multiplier = models.DecimalField(
        _("points multiplier"), max_digits=4, decimal_places=2, default=1
    )
    birthday_gift_points = models.PositiveIntegerField(_("birthday gift points"), default=0)
    benefits = models.TextField(_("benefits"), blank=True)

    class Meta:
        verbose_name = _("tier")
        verbose_name_plural = _("tiers")
        ordering = ["rank"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(points_multiplier__gt=0), name="tier_multiplier_positive"
            ),
            models.CheckConstraint(condition=models.Q(threshold__gte=0), name="tier_threshold"),
        ]

    def __str__(self) -> str:
        return self.name


class EnrolmentChannel(models.TextChoices):
    STORE = "store", _("At the counter")
    ONLINE = "online", _("Online shop")
    MINI_PROGRAM = "mini_program", _("Mini program")
    REFERRAL = "referral", _("Referred by a member")
    IMPORT = "import", _("Imported")
    API = "api", _("Shop system")


class MembershipStatus(models.TextChoices):
    ACTIVE = "active", pgettext_lazy("membership status", "Active")
    FROZEN = "frozen", pgettext_lazy("membership status", "Frozen")
    CANCELLED = "cancelled", pgettext_lazy("membership status", "Cancelled")


class Membership(models.Model):
    """A customer's membership: card, tier and the cached points balance.

    ``points_balance`` is the sum of the member's ledger entries, kept in the same transaction
    as every entry; a database constraint forbids it below zero.
    """

    customer = models.OneToOneField(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="membership",
    )
    card_number = models.CharField(_("card number"), max_length=20, unique=True)
    enrolled_on = models.DateField(_("enrolled on"), db_index=True)
    channel = models.CharField(
        _("enrolment channel"), max_length=20, choices=EnrolmentChannel.choices, default="store"
    )
    store = models.ForeignKey(
        "commerce.Store",
        verbose_name=_("enrolled at store"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
    )
    status = models.CharField(
        _("status"), max_length=10, choices=MembershipStatus.choices, default="active"
    )
    tier = models.ForeignKey(
        Tier, verbose_name=_("tier"), on_delete=models.PROTECT, related_name="members"
    )
    tier_since = models.DateField(_("in this tier since"))
    tier_review_on = models.DateField(
        _("next tier review"),
        null=True,
        blank=True,
        help_text=_("A downgrade happens only at a review, after the grace period."),
    )
    points_balance = models.IntegerField(_("points balance"), default=0)
    referral_code = models.CharField(_("referral code"), max_length=12, unique=True)
    enrolled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("enrolled by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(points_balance__gte=0), name="membership_balance_not_negative"
            )
        ]

    def __str__(self) -> str:
        return self.card_number


class TierChangeReason(models.TextChoices):
    ENROLMENT = "enrolment", _("Enrolment")
    UPGRADE = "upgrade", _("Upgrade")
    DOWNGRADE = "downgrade", _("Downgrade at review")
    MANUAL = "manual", _("Set by staff")


class TierChange(models.Model):
    """Tier history: every move of a member between tiers, and why."""

    membership = models.ForeignKey(
        Membership,
        verbose_name=_("membership"),
        on_delete=models.CASCADE,
        related_name="tier_changes",
    )
    previous_tier = models.ForeignKey(
        Tier,
        verbose_name=_("from"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    tier = models.ForeignKey(Tier, verbose_name=_("to"), on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(_("reason"), max_length=10, choices=TierChangeReason.choices)
    qualifying_value = models.DecimalField(
        _("qualifying spend or points"), max_digits=14, decimal_places=2, default=0
    )
    changed_at = models.DateTimeField(_("changed at"), db_index=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("changed by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
    )

    class Meta:
        verbose_name = _("tier change")
        verbose_name_plural = _("tier changes")
        ordering = ["-changed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.membership_id}: {self.previous_tier_id} → {self.tier_id}"


class MembershipPause(models.Model):
    """A period when a membership was frozen or cancelled: orders placed in it never earn, and
    no points are earned or redeemed while it is open. ``ended_at`` is empty while it lasts;
    a membership has at most one open period. Together the periods are the status history."""

    membership = models.ForeignKey(
        Membership,
        verbose_name=_("membership"),
        on_delete=models.CASCADE,
        related_name="pauses",
    )
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=[
            (MembershipStatus.FROZEN.value, MembershipStatus.FROZEN.label),
            (MembershipStatus.CANCELLED.value, MembershipStatus.CANCELLED.label),
        ],
    )
    started_at = models.DateTimeField(_("from"), db_index=True)
    start_reason = models.CharField(_("reason"), max_length=300)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    ended_at = models.DateTimeField(_("until"), null=True, blank=True)
    end_reason = models.CharField(_("reason for reactivating"), max_length=300, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reactivated by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("membership pause")
        verbose_name_plural = _("membership pauses")
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["membership"],
                condition=models.Q(ended_at__isnull=True),
                name="membership_one_open_pause",
            ),
            models.CheckConstraint(
                condition=models.Q(ended_at__isnull=True)
                | models.Q(ended_at__gte=models.F("started_at")),
                name="membership_pause_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.membership_id} {self.status} {self.started_at:%Y-%m-%d}"
