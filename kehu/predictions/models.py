"""Stored predictions: the settings of the models and the churn warning levels, one prediction per
customer, the history of churn levels and each nightly fit of the models.

The tables were made by the segments app and kept their names when the models moved here
(migration 0001 only takes them over in Django's state)."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ChurnLevel(models.TextChoices):
    """Warning levels of the churn risk score, from the thresholds in PredictionSettings."""

    LOW = "low", pgettext_lazy("churn level", "Low")
    WATCH = "watch", pgettext_lazy("churn level", "Watch")
    WARNING = "warning", pgettext_lazy("churn level", "Warning")
    CRITICAL = "critical", pgettext_lazy("churn level", "Critical")


class NextAction(models.TextChoices):
    """The one recommended action per customer (next best action)."""

    NONE = "none", pgettext_lazy("next action", "No action needed")
    FIRST_PURCHASE = "first_purchase", pgettext_lazy("next action", "Invite to a first purchase")
    SECOND_PURCHASE = "second_purchase", pgettext_lazy("next action", "Encourage a second purchase")
    SAVE_VIP = "save_vip", pgettext_lazy("next action", "Call the VIP at risk")
    WIN_BACK = "win_back", pgettext_lazy("next action", "Win back with a coupon")
    CHECK_IN = "check_in", pgettext_lazy("next action", "Check in by message")
    REACTIVATE = "reactivate", pgettext_lazy("next action", "Reactivate the churned customer")
    RESOLVE_COMPLAINT = (
        "resolve_complaint",
        pgettext_lazy("next action", "Resolve the open complaint first"),
    )
    THANK_LOYAL = "thank_loyal", pgettext_lazy("next action", "Thank and recommend products")


class PredictionModel(models.TextChoices):
    BGNBD = "bgnbd", _("BG/NBD")
    PARETONBD = "paretonbd", _("Pareto/NBD")


class PredictionSettings(models.Model):
    """How predictions are made and when a churn risk becomes a warning; a single row."""

    model = models.CharField(
        _("purchase model"), max_length=10, choices=PredictionModel.choices, default="bgnbd"
    )
    horizon_days = models.PositiveIntegerField(_("expected purchases over days"), default=90)
    clv_months = models.PositiveIntegerField(_("lifetime value over months"), default=12)
    annual_discount_rate = models.DecimalField(
        _("annual discount rate"), max_digits=4, decimal_places=3, default=0.10
    )
    weight_p_alive = models.PositiveSmallIntegerField(
        _("weight: model says probably gone"), default=35
    )
    weight_overdue = models.PositiveSmallIntegerField(
        _("weight: silent longer than their usual gap"), default=30
    )
    weight_frequency_drop = models.PositiveSmallIntegerField(
        _("weight: ordering less often"), default=10
    )
    weight_spend_drop = models.PositiveSmallIntegerField(_("weight: spending less"), default=10)
    weight_fewer_contacts = models.PositiveSmallIntegerField(_("weight: fewer contacts"), default=5)
    weight_low_satisfaction = models.PositiveSmallIntegerField(
        _("weight: low satisfaction score"), default=5
    )
    weight_open_complaints = models.PositiveSmallIntegerField(
        _("weight: open complaints"), default=5
    )
    watch_threshold = models.PositiveSmallIntegerField(_("watch from risk"), default=40)
    warning_threshold = models.PositiveSmallIntegerField(_("warning from risk"), default=60)
    critical_threshold = models.PositiveSmallIntegerField(_("critical from risk"), default=80)
    notify_level = models.CharField(
        _("notify the owner from level"),
        max_length=10,
        choices=ChurnLevel.choices,
        default=ChurnLevel.WARNING,
    )

    class Meta:
        db_table = "segments_predictionsettings"  # made by the segments app; the data stayed
        verbose_name = _("prediction settings")
        verbose_name_plural = _("prediction settings")

    def __str__(self) -> str:
        return str(_("Prediction settings"))

    @classmethod
    def current(cls) -> "PredictionSettings":
        current, _created = cls.objects.get_or_create(pk=1)
        return current


class CustomerPrediction(models.Model):
    """One row per customer: what the models expect of them, as of the last refresh."""

    customer = models.OneToOneField(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="prediction",
    )
    p_alive = models.FloatField(_("probability still active"), null=True, blank=True)
    expected_purchases = models.FloatField(_("expected purchases"), null=True, blank=True)
    expected_order_value = models.DecimalField(
        _("expected order value"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    clv = models.DecimalField(
        _("predicted lifetime value"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    value_at_stake = models.DecimalField(
        _("value at stake"), max_digits=14, decimal_places=2, default=0, db_index=True
    )
    churn_risk = models.PositiveSmallIntegerField(_("churn risk"), default=0, db_index=True)
    churn_level = models.CharField(
        _("churn level"),
        max_length=10,
        choices=ChurnLevel.choices,
        default=ChurnLevel.LOW,
        db_index=True,
    )
    churn_reasons = models.JSONField(_("churn reasons"), default=list, blank=True)
    warned_on = models.DateField(_("warned on"), null=True, blank=True)
    next_action = models.CharField(
        _("next best action"),
        max_length=20,
        choices=NextAction.choices,
        default=NextAction.NONE,
        db_index=True,
    )
    next_action_reason = models.JSONField(_("why this action"), default=dict, blank=True)
    recommended_products = models.JSONField(_("recommended products"), default=list, blank=True)
    refreshed_at = models.DateTimeField(_("refreshed at"))

    class Meta:
        db_table = "segments_customerprediction"  # made by the segments app; the data stayed
        verbose_name = _("customer prediction")
        verbose_name_plural = _("customer predictions")

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.churn_risk}"


class ChurnLevelChange(models.Model):
    """History of churn levels: a row whenever a customer's level changes."""

    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="churn_level_changes",
    )
    previous_level = models.CharField(
        _("from"), max_length=10, choices=ChurnLevel.choices, blank=True
    )
    level = models.CharField(_("to"), max_length=10, choices=ChurnLevel.choices)
    risk = models.PositiveSmallIntegerField(_("churn risk"))
    changed_on = models.DateField(_("changed on"), db_index=True)

    class Meta:
        db_table = "segments_churnlevelchange"  # made by the segments app; the data stayed
        verbose_name = _("churn level change")
        verbose_name_plural = _("churn level changes")
        ordering = ["-changed_on", "-id"]
        indexes = [models.Index(fields=["customer", "-changed_on"])]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.previous_level} → {self.level}"


class PredictionFit(models.Model):
    """One nightly fit of the purchase and spend models, for the diagnostics page."""

    fitted_at = models.DateTimeField(_("fitted at"), db_index=True)
    model = models.CharField(_("purchase model"), max_length=10, choices=PredictionModel.choices)
    calibration_end = models.DateField(_("calibration end"))
    customers = models.PositiveIntegerField(_("customers"), default=0)
    repeat_buyers = models.PositiveIntegerField(_("repeat buyers"), default=0)
    purchase_params = models.JSONField(_("purchase model parameters"), default=dict)
    purchase_log_likelihood = models.FloatField(_("log-likelihood"), null=True, blank=True)
    spend_params = models.JSONField(_("spend model parameters"), default=dict)
    spend_log_likelihood = models.FloatField(_("spend log-likelihood"), null=True, blank=True)
    holdout = models.JSONField(
        _("holdout comparison"),
        default=list,
        blank=True,
        help_text=_("Predicted and actual repeat purchases by calibration frequency."),
    )
    message = models.TextField(
        _("message"), blank=True, help_text=_("Why the models could not be fitted, if so.")
    )
    seconds = models.FloatField(_("seconds"), default=0)

    class Meta:
        db_table = "segments_predictionfit"  # made by the segments app; the data stayed
        verbose_name = _("prediction fit")
        verbose_name_plural = _("prediction fits")
        ordering = ["-fitted_at"]

    def __str__(self) -> str:
        return f"{self.model} {self.fitted_at:%Y-%m-%d}"
