"""Stored segmentation results: metrics and scores per customer, stage history, saved segments,
their membership snapshots, automatic tag rules and the thresholds the business sets.
The predictions are in kehu.predictions."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class LifecycleStage(models.TextChoices):
    # Contexts keep these apart from same-worded labels elsewhere ("Active" customer status).
    PROSPECT = "prospect", pgettext_lazy("lifecycle stage", "Prospect")
    NEW = "new", pgettext_lazy("lifecycle stage", "New")
    ACTIVE = "active", pgettext_lazy("lifecycle stage", "Active")
    DORMANT = "dormant", pgettext_lazy("lifecycle stage", "Dormant")
    CHURNED = "churned", pgettext_lazy("lifecycle stage", "Churned")
    REACTIVATED = "reactivated", pgettext_lazy("lifecycle stage", "Reactivated")


class ValueTier(models.TextChoices):
    VIP = "vip", pgettext_lazy("value tier", "VIP")
    REGULAR = "regular", pgettext_lazy("value tier", "Regular")
    NEW = "new", pgettext_lazy("value tier", "New")


class AbcClass(models.TextChoices):
    A = "A", _("A")
    B = "B", _("B")
    C = "C", _("C")


class RfmSegment(models.TextChoices):
    """The default recency × frequency grid of kehu.analytics (DEFAULT_SEGMENT_RULES)."""

    CHAMPIONS = "Champions", _("Champions")
    LOYAL = "Loyal Customers", _("Loyal customers")
    POTENTIAL_LOYALISTS = "Potential Loyalists", _("Potential loyalists")
    NEW_CUSTOMERS = "New Customers", _("New customers")
    PROMISING = "Promising", _("Promising")
    NEED_ATTENTION = "Need Attention", _("Need attention")
    ABOUT_TO_SLEEP = "About to Sleep", _("About to sleep")
    AT_RISK = "At Risk", _("At risk")
    CANT_LOSE = "Can't Lose Them", _("Can't lose them")
    HIBERNATING = "Hibernating", _("Hibernating")


class SegmentationSettings(models.Model):
    """Thresholds of the scores; a single row, edited by administrators."""

    new_days = models.PositiveIntegerField(_("new: first purchase within days"), default=30)
    active_days = models.PositiveIntegerField(_("active: last purchase within days"), default=90)
    dormant_days = models.PositiveIntegerField(
        _("dormant: last purchase within days (churned after)"), default=180
    )
    abc_a_share = models.DecimalField(
        _("class A: share of revenue"), max_digits=4, decimal_places=2, default=0.70
    )
    abc_b_share = models.DecimalField(
        _("class B: share of revenue"), max_digits=4, decimal_places=2, default=0.20
    )
    vip_min_monetary = models.DecimalField(
        _("VIP: spent at least (¥)"), max_digits=12, decimal_places=2, default=2000
    )
    vip_min_frequency = models.PositiveIntegerField(
        _("VIP: or ordered at least (times)"), null=True, blank=True, default=12
    )
    new_tier_days = models.PositiveIntegerField(
        _("new tier: customer for at most days"), default=30
    )
    score_breakpoints = models.JSONField(
        _("score breakpoints of the last full refresh"),
        default=dict,
        blank=True,
        editable=False,
        help_text=_(
            "Quintile boundaries and ABC cut-offs, so one customer can be scored between "
            "full refreshes."
        ),
    )

    class Meta:
        verbose_name = _("segmentation settings")
        verbose_name_plural = _("segmentation settings")

    def __str__(self) -> str:
        return str(_("Segmentation settings"))

    @classmethod
    def current(cls) -> "SegmentationSettings":
        current, _created = cls.objects.get_or_create(pk=1)
        return current


class CustomerMetrics(models.Model):
    """One row per customer: behaviour metrics and scores, as of the last refresh."""

    customer = models.OneToOneField(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="metrics",
    )
    first_purchase = models.DateField(_("first purchase"), null=True, blank=True)
    last_purchase = models.DateField(_("last purchase"), null=True, blank=True, db_index=True)
    previous_purchase = models.DateField(_("purchase before the last"), null=True, blank=True)
    recency_days = models.IntegerField(_("days since last purchase"), null=True, blank=True)
    frequency = models.IntegerField(_("orders"), default=0, db_index=True)
    monetary = models.DecimalField(_("spent"), max_digits=14, decimal_places=2, default=0)
    average_order_value = models.DecimalField(
        _("average order value"), max_digits=14, decimal_places=2, default=0
    )
    tenure_days = models.IntegerField(_("days since first purchase"), null=True, blank=True)
    interactions_90_days = models.IntegerField(_("contacts in the last 90 days"), default=0)
    discount_share = models.FloatField(
        _("share of orders with a discount"),
        default=0,
        help_text=_("0 to 1: the part of the customer's orders that had a discount."),
    )
    r_score = models.PositiveSmallIntegerField(_("R score"), null=True, blank=True)
    f_score = models.PositiveSmallIntegerField(_("F score"), null=True, blank=True)
    m_score = models.PositiveSmallIntegerField(_("M score"), null=True, blank=True)
    rfm_segment = models.CharField(
        _("RFM segment"), max_length=30, choices=RfmSegment.choices, blank=True, db_index=True
    )
    abc_class = models.CharField(
        _("ABC class"), max_length=1, choices=AbcClass.choices, blank=True, db_index=True
    )
    value_tier = models.CharField(
        _("value tier"),
        max_length=10,
        choices=ValueTier.choices,
        db_index=True,
        default=ValueTier.NEW,
    )
    lifecycle_stage = models.CharField(
        _("lifecycle stage"),
        max_length=12,
        choices=LifecycleStage.choices,
        db_index=True,
        default=LifecycleStage.PROSPECT,
    )
    stage_since = models.DateField(_("in this stage since"), null=True, blank=True)
    refreshed_at = models.DateTimeField(_("refreshed at"))

    class Meta:
        verbose_name = _("customer metrics")
        verbose_name_plural = _("customer metrics")

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.lifecycle_stage}"


class LifecycleChange(models.Model):
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="lifecycle_changes",
    )
    previous_stage = models.CharField(
        _("from"), max_length=12, choices=LifecycleStage.choices, blank=True
    )
    stage = models.CharField(_("to"), max_length=12, choices=LifecycleStage.choices)
    changed_on = models.DateField(_("changed on"), db_index=True)

    class Meta:
        verbose_name = _("lifecycle change")
        verbose_name_plural = _("lifecycle changes")
        ordering = ["-changed_on", "-id"]
        indexes = [models.Index(fields=["customer", "-changed_on"])]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.previous_stage} → {self.stage}"


class SegmentKind(models.TextChoices):
    DYNAMIC = "dynamic", _("Dynamic (rule)")
    STATIC = "static", _("Static list")


class Segment(models.Model):
    """A saved group of customers: a rule re-evaluated on refresh, or a fixed list."""

    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    kind = models.CharField(
        _("kind"), max_length=10, choices=SegmentKind.choices, default=SegmentKind.DYNAMIC
    )
    rule = models.JSONField(_("rule"), default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="segments",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    refreshed_at = models.DateTimeField(_("refreshed at"), null=True, blank=True)
    member_count = models.PositiveIntegerField(_("members"), default=0)

    class Meta:
        verbose_name = _("segment")
        verbose_name_plural = _("segments")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SegmentMember(models.Model):
    segment = models.ForeignKey(
        Segment, verbose_name=_("segment"), on_delete=models.CASCADE, related_name="members"
    )
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="segment_memberships",
    )
    joined_at = models.DateTimeField(_("joined at"))

    class Meta:
        verbose_name = _("segment member")
        verbose_name_plural = _("segment members")
        constraints = [
            models.UniqueConstraint(fields=["segment", "customer"], name="segment_member_once")
        ]

    def __str__(self) -> str:
        return f"{self.segment_id}: {self.customer_id}"


class SegmentSnapshot(models.Model):
    """The result of one refresh: size, and who joined and left since the one before."""

    segment = models.ForeignKey(
        Segment, verbose_name=_("segment"), on_delete=models.CASCADE, related_name="snapshots"
    )
    taken_at = models.DateTimeField(_("taken at"), db_index=True)
    member_count = models.PositiveIntegerField(_("members"))
    joined_count = models.PositiveIntegerField(_("joined"))
    left_count = models.PositiveIntegerField(_("left"))
    joined_sample = models.JSONField(_("some who joined"), default=list)
    left_sample = models.JSONField(_("some who left"), default=list)

    class Meta:
        verbose_name = _("segment snapshot")
        verbose_name_plural = _("segment snapshots")
        ordering = ["-taken_at"]

    def __str__(self) -> str:
        return f"{self.segment_id} {self.taken_at:%Y-%m-%d}"


class AutoTagRule(models.Model):
    """Adds a tag to the customers a segment rule selects and removes it from the others."""

    tag = models.OneToOneField(
        "customers.Tag", verbose_name=_("tag"), on_delete=models.CASCADE, related_name="auto_rule"
    )
    rule = models.JSONField(_("rule"))
    is_active = models.BooleanField(_("active"), default=True)
    description = models.CharField(_("description"), max_length=200, blank=True)
    last_applied_at = models.DateTimeField(_("last applied"), null=True, blank=True)

    class Meta:
        verbose_name = _("automatic tag rule")
        verbose_name_plural = _("automatic tag rules")

    def __str__(self) -> str:
        return str(self.tag)
