"""Webhook subscriptions (a receiver's URL and the events it wants) and their deliveries (one
event to one subscription, with what happened on each attempt)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Subscription(models.Model):
    name = models.CharField(pgettext_lazy("webhook", "Name"), max_length=100)
    url = models.URLField(_("URL"), max_length=2000)
    event_names = models.JSONField(_("Events"), default=list)
    is_active = models.BooleanField(_("Active"), default=True)
    # Kept to sign; shown to people once, when made. The previous secret signs too for a day
    # after a rotation, so a receiver can switch without losing a delivery.
    secret = models.CharField(max_length=200)
    previous_secret = models.CharField(max_length=200, blank=True, default="")
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("Created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("Created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("Updated"), auto_now=True)

    class Meta:
        verbose_name = _("webhook subscription")
        verbose_name_plural = _("webhook subscriptions")

    def __str__(self) -> str:
        return self.name


class WebhookDeliveryStatus(models.TextChoices):
    PENDING = "pending", pgettext_lazy("webhook delivery", "Pending")
    SUCCEEDED = "succeeded", pgettext_lazy("webhook delivery", "Delivered")
    FAILED = "failed", pgettext_lazy("webhook delivery", "Failed, will retry")
    DEAD = "dead", pgettext_lazy("webhook delivery", "Given up")


class Delivery(models.Model):
    subscription = models.ForeignKey(
        Subscription,
        verbose_name=_("Subscription"),
        on_delete=models.CASCADE,
        related_name="deliveries",
    )
    event_id = models.UUIDField(_("Event ID"))
    event_name = models.CharField(_("Event"), max_length=64)
    payload = models.JSONField(_("Data"), default=dict)
    occurred_at = models.DateTimeField(_("Occurred"))
    status = models.CharField(
        _("Status"),
        max_length=16,
        choices=WebhookDeliveryStatus.choices,
        default=WebhookDeliveryStatus.PENDING,
    )
    attempts = models.PositiveIntegerField(_("Attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("Next attempt"), null=True, blank=True)
    last_attempt_at = models.DateTimeField(_("Last attempt"), null=True, blank=True)
    last_response_code = models.PositiveSmallIntegerField(_("Response code"), null=True, blank=True)
    last_error = models.CharField(_("Last error"), max_length=500, blank=True, default="")
    last_duration = models.DurationField(_("Duration"), null=True, blank=True)
    created_at = models.DateTimeField(_("Created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("Updated"), auto_now=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "event_id"], name="webhooks_one_delivery_per_event"
            )
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="webhooks_due"),
            models.Index(fields=["subscription", "-created_at"], name="webhooks_log"),
        ]

    def __str__(self) -> str:
        return f"{self.event_name} {self.event_id}"
