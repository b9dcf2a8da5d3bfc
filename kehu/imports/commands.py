"""Shared parts of the import and export commands."""

from django.core.management.base import CommandError

from kehu.accounts.models import User
from kehu.accounts.roles import Role


def acting_user(username: str | None) -> User:
    """The user named by --as, or the first active administrator."""
    users = User.objects.filter(is_active=True)
    user = (
        users.filter(username=username).first()
        if username
        else users.filter(role=Role.ADMIN).order_by("pk").first()
    )
    if user is None:
        raise CommandError(f"No active user {username!r}." if username else "No administrator yet.")
    return user
