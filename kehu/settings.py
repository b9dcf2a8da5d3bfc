"""Settings read from environment variables; defaults run kehu on SQLite under var/."""

import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("KEHU_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("KEHU_DEBUG", False)
SECRET_KEY = os.environ.get("KEHU_SECRET_KEY", "kehu-insecure-development-key-change-me")
ALLOWED_HOSTS = [
    host.strip()
    for host in os.environ.get("KEHU_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")
    if host.strip()
]
CSRF_TRUSTED_ORIGINS = [
    origin.strip()
    for origin in os.environ.get("KEHU_CSRF_TRUSTED_ORIGINS", "").split(",")
    if origin.strip()
]

# kehu's apps come first: their translations and templates win over Django's own ("退出登录",
# not django.contrib.admin's "注销").
INSTALLED_APPS = [
    "kehu.core",
    "kehu.accounts",
    "kehu.customers",
    "kehu.commerce",
    "kehu.engagement",
    "kehu.segments",
    "kehu.loyalty",
    "kehu.imports",
    "kehu.demo",
    "kehu.web",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_tasks_db",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "kehu.urls"
WSGI_APPLICATION = "kehu.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "kehu.web.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'kehu.sqlite3'}"),
        conn_max_age=int(os.environ.get("KEHU_DB_CONN_MAX_AGE", "0")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-64000;"
        ),
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "accounts:login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "kehu" / "locale"]
FORMAT_MODULE_PATH = ["kehu.formats"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = os.environ.get("KEHU_TIME_ZONE", "Asia/Shanghai")

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
# WhiteNoise serves static files from the apps directly, so no collectstatic step is needed.
WHITENOISE_USE_FINDERS = True
STATIC_ROOT.mkdir(exist_ok=True)
# Front-end libraries come from npm at install time (`make install`), never from a CDN.
ECHARTS_DIR = BASE_DIR / "node_modules" / "echarts" / "dist"
STATICFILES_DIRS = [("vendor/echarts", ECHARTS_DIR)] if ECHARTS_DIR.is_dir() else []
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "/media/"

TASKS = {
    "default": {
        "BACKEND": os.environ.get(
            "KEHU_TASK_BACKEND", "django.tasks.backends.immediate.ImmediateBackend"
        )
    }
}


DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Imports: limits checked before a file is read, so no upload can hold a worker for long or
# blow its memory (docs/ARCHITECTURE.md, "Imports"). Sizes in MB (2**20 bytes).
IMPORT_MAX_UPLOAD_MB = int(os.environ.get("KEHU_IMPORT_MAX_UPLOAD_MB", "50"))
IMPORT_MAX_UNCOMPRESSED_MB = int(os.environ.get("KEHU_IMPORT_MAX_UNCOMPRESSED_MB", "500"))
IMPORT_MAX_COMPRESSION_RATIO = int(os.environ.get("KEHU_IMPORT_MAX_COMPRESSION_RATIO", "100"))
IMPORT_MAX_SHARED_STRINGS_MB = int(os.environ.get("KEHU_IMPORT_MAX_SHARED_STRINGS_MB", "32"))
IMPORT_MAX_ROWS = int(os.environ.get("KEHU_IMPORT_MAX_ROWS", "1000000"))
IMPORT_MAX_COLUMNS = int(os.environ.get("KEHU_IMPORT_MAX_COLUMNS", "200"))
IMPORT_STALE_AFTER_SECONDS = int(os.environ.get("KEHU_IMPORT_STALE_AFTER_SECONDS", "3600"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("KEHU_LOG_LEVEL", "WARNING")},
}
