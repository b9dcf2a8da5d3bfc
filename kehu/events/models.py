"""The outbox: one row per domain event, written in the transaction of the change it reports,
and one row per (event, handler) with that handler's delivery state."""

import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Event(models.Model):
    """`id` orders the events and is the API's cursor; `event_id` is the id handlers and
    webhooks key on. `customer_id` is no foreign key: events outlive merges and deletions."""

    id = models.BigAutoField(primary_key=True)
    event_id = models.UUIDField(_("event id"), unique=True, default=uuid.uuid4, editable=False)
    name = models.CharField(_("name"), max_length=64, db_index=True)
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    payload = models.JSONField(_("payload"), default=dict)
    customer_id = models.BigIntegerField(_("customer id"), null=True, blank=True, db_index=True)
    occurred_at = models.DateTimeField(_("occurred at"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("event")
        verbose_name_plural = _("events")

    def __str__(self) -> str:
        return f"{self.name} #{self.pk}"


class RunStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    DONE = "done", _("Done")
    DEAD = "dead", _("Dead letter")


class HandlerRun(models.Model):
    """One handler's delivery of one event: pending (new, or failed and waiting for its next
    attempt), done, or dead (parked after too many failures until an administrator replays it).
    `customer_id` repeats the event's, so the dispatcher can keep each customer's order."""

    event = models.ForeignKey(
        Event, on_delete=models.CASCADE, related_name="runs", verbose_name=_("event")
    )
    handler = models.CharField(_("handler"), max_length=100)
    customer_id = models.BigIntegerField(_("customer id"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=RunStatus.choices, default=RunStatus.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), default=timezone.now)
    last_error = models.TextField(_("last error"), blank=True, default="")
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["event_id", "handler"]
        verbose_name = _("handler run")
        verbose_name_plural = _("handler runs")
        constraints = [
            models.UniqueConstraint(fields=["event", "handler"], name="events_run_once_per_handler")
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at", "event"],
                condition=models.Q(status="pending"),
                name="events_run_due",
            ),
            models.Index(
                fields=["handler", "customer_id", "event"],
                condition=models.Q(status="pending"),
                name="events_run_customer_order",
            ),
            models.Index(fields=["status", "event"], name="events_run_status"),
        ]

    def __str__(self) -> str:
        return f"{self.handler} ← {self.event_id} ({self.status})"
