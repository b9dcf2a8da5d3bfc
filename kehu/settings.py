"""Settings read from environment variables; defaults run kehu on SQLite under var/."""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("KEHU_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


DEBUG = env_bool("KEHU_DEBUG", False)
# Development, the demo and the tests (the Makefile's demo/serve targets set KEHU_DEV=true) may run
# with the published key below; a web server started any other way refuses it (kehu/wsgi.py).
IS_DEVELOPMENT = env_bool("KEHU_DEV", False) or DEBUG
DEVELOPMENT_SECRET_KEY = "kehu-insecure-development-key-change-me"  # noqa: S105 (refused in production)
SECRET_KEY = os.environ.get("KEHU_SECRET_KEY", DEVELOPMENT_SECRET_KEY)
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
    "kehu.events",
    "kehu.accounts",
    "kehu.customers",
    "kehu.commerce",
    "kehu.engagement",
    "kehu.segments",
    "kehu.predictions",
    "kehu.loyalty",
    "kehu.imports",
    "kehu.webhooks",
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
    "axes",
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
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into the lock-out page.
    "axes.middleware.AxesMiddleware",
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
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": env_int("KEHU_PASSWORD_MIN_LENGTH", 10)},
    },
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
# Times of the periodic jobs other than kehu/core/schedule.py's table, e.g.
# KEHU_SCHEDULE="refresh_segmentation=01:30,close_due_group_deals=5m" (HH:MM in TIME_ZONE, daily).
SCHEDULE_OVERRIDES = os.environ.get("KEHU_SCHEDULE", "")


# Outgoing webhooks (docs/ARCHITECTURE.md, "Webhooks"): how long one delivery may take, and
# whether a receiver may sit on a loopback or private address (off: no request forgery inward).
WEBHOOKS_TIMEOUT_SECONDS = float(os.environ.get("KEHU_WEBHOOKS_TIMEOUT_SECONDS", "10"))
WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = (
    os.environ.get("KEHU_WEBHOOKS_ALLOW_PRIVATE_ADDRESSES", "false").lower() == "true"
)
# Domain events (kehu/events): a failing handler is retried after 30 s, 60 s, 120 s, ... and
# parked as a dead letter after this many attempts.
EVENTS_MAX_ATTEMPTS = env_int("KEHU_EVENTS_MAX_ATTEMPTS", 8)
EVENTS_RETRY_SECONDS = env_int("KEHU_EVENTS_RETRY_SECONDS", 30)

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


# --- Throttling: sign-in lock-out (django-axes) and API rate limits ----------------------------
# Both count in shared stores, so every web worker process sees the same counts: axes in its own
# tables, the API limits in Django's cache, which is a database table by default (created by
# `kehu migrate`). KEHU_CACHE_URL=redis://host:6379/0 uses Redis instead (needs the redis package);
# locmem:// keeps counts per process, which is only right for a single process.
CACHE_URL = os.environ.get("KEHU_CACHE_URL", "").strip()
CACHES: dict[str, dict[str, object]]
if CACHE_URL.startswith(("redis://", "rediss://")):
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
    }
elif CACHE_URL.startswith("locmem://"):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "kehu_cache",
            "OPTIONS": {"MAX_ENTRIES": 50_000},
        }
    }

# How many reverse proxies stand in front of kehu and append to X-Forwarded-For (nginx with
# `proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for`: 1). 0 trusts no header and
# takes the connection's address. Too high a number lets a client choose its own address.
TRUSTED_PROXY_COUNT = env_int("KEHU_TRUSTED_PROXY_COUNT", 0)

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Lock-out by account and, separately, by address: five wrong passwords for one username (from
# anywhere) lock that username, five from one address (for any usernames) lock that address,
# each for the cool-off time. An administrator unlocks earlier (docs/security.md).
AXES_FAILURE_LIMIT = env_int("KEHU_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("KEHU_LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_CLIENT_IP_CALLABLE = "kehu.core.throttle.client_address"
AXES_LOCKOUT_CALLABLE = "kehu.accounts.views.locked_out"
AXES_RESET_ON_SUCCESS = False  # a valid login of one's own must not clear failures on others
AXES_ENABLE_ACCESS_FAILURE_LOG = True

# Requests per API token per minute (0: no limit), and wrong tokens from one address before
# that address's token checks answer 429 for KEHU_API_TOKEN_FAILURE_MINUTES.
API_RATE_LIMIT_PER_MINUTE = env_int("KEHU_API_RATE_LIMIT", 600)
API_TOKEN_FAILURE_LIMIT = env_int("KEHU_API_TOKEN_FAILURE_LIMIT", 20)
API_TOKEN_FAILURE_MINUTES = env_int("KEHU_API_TOKEN_FAILURE_MINUTES", 15)


# --- Production: HTTPS, cookies, HSTS, Content-Security-Policy ----------------------------------
# Behind a TLS-terminating proxy set KEHU_SECURE_PROXY_SSL_HEADER=true (the proxy must set
# X-Forwarded-Proto and strip it from clients). README "Running in production" lists them all.
if env_bool("KEHU_SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("KEHU_SECURE_SSL_REDIRECT", False)
SESSION_COOKIE_SECURE = env_bool("KEHU_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env_int("KEHU_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("KEHU_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("KEHU_HSTS_PRELOAD", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Scripts only from kehu's own static files: no inline script, no eval (htmx's allowEval is off
# in web/base.html). Style attributes stay allowed (templates and ECharts' tooltips use them);
# style elements do not.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "style-src-attr": [CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
