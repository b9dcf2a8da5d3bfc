"""Users with roles, teams (stores' staff), API tokens and the customer-pool policy."""

import hashlib
import secrets

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from kehu.accounts.roles import Role, RolePolicy, policy_for


class Team(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.SALES)
    team = models.ForeignKey(
        Team,
        verbose_name=_("team"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="members",
    )
    display_name = models.CharField(_("display name"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.display_name or self.get_full_name() or self.username

    @property
    def policy(self) -> RolePolicy:
        return policy_for(self.role)

    @property
    def is_administrator(self) -> bool:
        return self.is_active and (self.role == Role.ADMIN or self.is_superuser)

    def save(self, *args, **kwargs) -> None:
        # Administrators run the back office (/admin/); nobody else gets in there.
        self.is_staff = self.role == Role.ADMIN or self.is_superuser
        super().save(*args, **kwargs)

    def has_perm(self, perm: str, obj: models.Model | None = None) -> bool:
        return self.is_administrator or super().has_perm(perm, obj)

    def has_module_perms(self, app_label: str) -> bool:
        return self.is_administrator or super().has_module_perms(app_label)


class ApiToken(models.Model):
    """A bearer token; only its SHA-256 digest is stored."""

    user = models.ForeignKey(
        User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("name"), max_length=100)
    digest = models.CharField(_("digest"), max_length=64, unique=True)
    prefix = models.CharField(_("prefix"), max_length=8)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def digest_of(raw_token: str) -> str:
        return hashlib.sha256(raw_token.encode()).hexdigest()

    @staticmethod
    def new_raw_token() -> str:
        return "kehu_" + secrets.token_urlsafe(32)


class PoolPolicy(models.Model):
    """Rules of the customer pool (公海); a single row, edited in settings."""

    claim_limit = models.PositiveIntegerField(
        _("claim limit per person"),
        default=200,
        help_text=_("A salesperson may own at most this many customers claimed from the pool."),
    )
    auto_return_days = models.PositiveIntegerField(
        _("return to pool after days without follow-up"), default=30
    )
    is_auto_return_enabled = models.BooleanField(_("automatic return enabled"), default=True)

    class Meta:
        verbose_name = _("customer pool policy")
        verbose_name_plural = _("customer pool policies")

    def __str__(self) -> str:
        return str(_("Customer pool policy"))

    @classmethod
    def current(cls) -> "PoolPolicy":
        policy, _created = cls.objects.get_or_create(pk=1)
        return policy


class Notification(models.Model):
    """An in-app message to one staff member, such as a new churn warning on their customer."""

    recipient = models.ForeignKey(
        User,
        verbose_name=_("recipient"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    kind = models.CharField(_("kind"), max_length=30)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"), blank=True)
    link = models.CharField(_("link"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), db_index=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "read_at"])]

    def __str__(self) -> str:
        return self.title
