"""An import job: the uploaded file, how its columns map to fields, and what the import did."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ImportKind(models.TextChoices):
    CUSTOMERS = "customers", _("Customers")
    ORDERS = "orders", _("Orders")


class ImportMode(models.TextChoices):
    ALL_OR_NOTHING = "all_or_nothing", _("All or nothing: import only if every row is valid")
    VALID_ROWS = "valid_rows", _("Import the valid rows and report the others")


class ImportStatus(models.TextChoices):
    UPLOADED = "uploaded", _("Uploaded")
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    PREVIEWED = "previewed", _("Previewed")
    IMPORTED = "imported", _("Imported")
    FAILED = "failed", _("Failed")


class ImportStep(models.TextChoices):
    """What a queued or running job is doing in the background."""

    PREVIEW = "preview", _("Dry run")
    IMPORT = "import", _("Import")


class ImportJob(models.Model):
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("imported by"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="import_jobs",
    )
    kind = models.CharField(_("kind"), max_length=20, choices=ImportKind.choices)
    original_name = models.CharField(_("file name"), max_length=255)
    stored_path = models.CharField(_("stored file"), max_length=500)
    file_format = models.CharField(_("file format"), max_length=10)
    encoding = models.CharField(_("encoding"), max_length=20, blank=True)
    delimiter = models.CharField(_("delimiter"), max_length=2, blank=True)
    headers = models.JSONField(_("columns in the file"), default=list)
    mapping = models.JSONField(_("column mapping"), default=dict, blank=True)
    options = models.JSONField(_("options"), default=dict, blank=True)
    mode = models.CharField(
        _("mode"), max_length=20, choices=ImportMode.choices, default=ImportMode.VALID_ROWS
    )
    status = models.CharField(
        _("status"), max_length=20, choices=ImportStatus.choices, default=ImportStatus.UPLOADED
    )
    step = models.CharField(_("step"), max_length=10, choices=ImportStep.choices, blank=True)
    phase = models.CharField(_("phase"), max_length=10, blank=True)
    processed_rows = models.PositiveIntegerField(_("rows processed"), default=0)
    committed_line = models.PositiveIntegerField(
        _("last line written"),
        default=0,
        help_text=_("Importing valid rows, every line up to this one is written."),
    )
    worker = models.CharField(_("worker"), max_length=200, blank=True)
    heartbeat_at = models.DateTimeField(_("last sign of life"), null=True, blank=True)
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    created_count = models.PositiveIntegerField(_("created"), default=0)
    updated_count = models.PositiveIntegerField(_("updated"), default=0)
    unchanged_count = models.PositiveIntegerField(_("unchanged"), default=0)
    failed_count = models.PositiveIntegerField(_("failed"), default=0)
    error_sample = models.JSONField(_("first errors"), default=list, blank=True)
    sample_rows = models.JSONField(_("sample rows"), default=list, blank=True)
    error_report_path = models.CharField(_("error report"), max_length=500, blank=True)
    message = models.CharField(_("message"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("import job")
        verbose_name_plural = _("import jobs")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind}: {self.original_name}"

    @property
    def has_errors(self) -> bool:
        return self.failed_count > 0

    @property
    def is_working(self) -> bool:
        return self.status in (ImportStatus.QUEUED, ImportStatus.RUNNING)

    @property
    def percent(self) -> int | None:
        """How far the running pass is, when the number of rows is known (from the dry run)."""
        if self.step != ImportStep.IMPORT or not self.total_rows:
            return None
        return min(100, self.processed_rows * 100 // self.total_rows)
