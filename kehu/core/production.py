"""Refusing to serve with settings that are only safe on a developer's machine."""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

REFUSAL = (
    "kehu will not serve with the published development secret key. Set KEHU_SECRET_KEY to a "
    "long random value of your own (for example the output of "
    "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`), or set KEHU_DEV=true on "
    "a development machine. See README.md, 'Running in production'."
)


def refuse_insecure_start() -> None:
    """Raise ImproperlyConfigured when a web server starts outside development with the
    development key: anyone can forge sessions and password-reset links signed with it."""
    if not settings.IS_DEVELOPMENT and settings.SECRET_KEY == settings.DEVELOPMENT_SECRET_KEY:
        raise ImproperlyConfigured(REFUSAL)
