"""The scheduler's state: one row per periodic job, so a restart or a second scheduler knows
what already ran (kehu/core/schedule.py)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ScheduledJob(models.Model):
    name = models.CharField(_("job"), max_length=100, unique=True)
    schedule = models.CharField(
        _("schedule"), max_length=50, help_text=_("The schedule the next run was worked out from.")
    )
    next_run_at = models.DateTimeField(_("next run"))
    last_enqueued_at = models.DateTimeField(_("last run"), null=True, blank=True)
    last_result_id = models.CharField(_("task result id"), max_length=255, blank=True)
    last_status = models.CharField(_("last result"), max_length=20, blank=True)
    last_finished_at = models.DateTimeField(_("last finished"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("scheduled job")
        verbose_name_plural = _("scheduled jobs")

    def __str__(self) -> str:
        return self.name
