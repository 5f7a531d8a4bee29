"""Yiwang settings: one file, driven by environment variables.

The embedded default (no variables set) runs on SQLite with tasks executed in-process.
Production sets DATABASE_URL (PostgreSQL), CELERY_BROKER_URL (Redis), SECRET_KEY,
YIWANG_FIELD_KEY and ALLOWED_HOSTS. See README.md "Production".
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# The demo (make run) sets YIWANG_DEMO=1: debug pages, a fixed development key and no forced 2FA,
# so the printed demo logins work at once. Production leaves it unset.
DEMO = env_bool("YIWANG_DEMO", False)
DEBUG = env_bool("DEBUG", DEMO)

_DEV_SECRET = "yiwang-insecure-development-key-do-not-use-in-production"
SECRET_KEY = os.environ.get("SECRET_KEY") or (_DEV_SECRET if (DEBUG or DEMO) else "")
if not SECRET_KEY:
    raise RuntimeError("SECRET_KEY must be set when DEBUG and YIWANG_DEMO are off")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "yiwang.core",
    "yiwang.geography",
    "yiwang.accounts",
    "yiwang.audit",
    "yiwang.notifications",
    # Domain apps, in layer order: each may import the ones above it, never below.
    "yiwang.registry",
    "yiwang.cases",
    "yiwang.fieldwork",
    "yiwang.dashboards",
    "yiwang.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "yiwang.core.middleware.RequestContextMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "yiwang.accounts.middleware.SessionExpiryMiddleware",
    "yiwang.accounts.middleware.TwoFactorRequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "yiwang" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "yiwang.accounts.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the in-process periodic runner and request threads share the file.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Statements run through core.prepared.hot_cursor (the few on every request) are prepared once per
    # connection; Django's own queries bind on the client and are never prepared. YIWANG_DB_PREPARE=0 for a
    # transaction-mode pooler that does not support prepared statements.
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = (
        0 if os.environ.get("YIWANG_DB_PREPARE", "1") != "0" else None)
    # JIT compilation pays off for long analytical queries, not for a web application's: it added 0.5 s to
    # the indicators page's largest query at 1,000,000 cases (compiling, for a query that runs 1.6 s).
    DATABASES["default"]["OPTIONS"].setdefault("options", "-c jit=off")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "yiwang.accounts.validators.MixedCharacterValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# Lockout: 5 failed logins for one username lock it for 15 minutes.
AXES_FAILURE_LIMIT = int(os.environ.get("YIWANG_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = 0.25  # hours
# By username only: district offices sit behind one NAT address, so locking by IP would lock out
# a whole governance centre after one person's typos.
AXES_LOCKOUT_PARAMETERS = ["username"]
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "yiwang.accounts.views.lockout_response"
AXES_VERBOSE = False
AXES_ENABLE_ACCESS_FAILURE_LOG = False

# Sessions end after 2 idle hours and at most 12 hours after login. Active sessions are saved (expiry
# pushed back) once a minute by accounts.middleware.SessionExpiryMiddleware, not on every request.
# Django's database sessions, their read compiled once per process (yiwang/accounts/sessions.py).
SESSION_ENGINE = "yiwang.accounts.sessions"
SESSION_COOKIE_AGE = int(os.environ.get("YIWANG_SESSION_IDLE_SECONDS", str(2 * 3600)))
SESSION_SAVE_EVERY_REQUEST = False
YIWANG_SESSION_ABSOLUTE_SECONDS = 12 * 3600
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

# Two-factor (TOTP) for administrators and dispatchers. On in production, off in the demo.
YIWANG_REQUIRE_2FA = env_bool("YIWANG_REQUIRE_2FA", not DEMO)
OTP_TOTP_ISSUER = "Yiwang 一网"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "yiwang" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "yiwang" / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
WHITENOISE_USE_FINDERS = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
if os.environ.get("CACHE_URL", "").startswith("redis://"):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": os.environ["CACHE_URL"]}}

# Celery: with no broker, tasks run in-process (eagerly) and the in-process periodic runner
# (manage.py serve) executes CELERY_BEAT_SCHEDULE itself.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND") or None
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
YIWANG_HEARTBEAT_SECONDS = int(os.environ.get("YIWANG_HEARTBEAT_SECONDS", "60"))
# Dashboard rollups (yiwang/dashboards/README.md): "immediate" recounts a step's (grid, day) right after
# its commit, in the request (the embedded default, where nothing else would); "queued" only records the
# (grid, day) in the step's transaction, and the periodic drain (every ROLLUP_DRAIN_SECONDS, on a Celery
# worker) recounts each queued key once, however many reports it received. Production, with a broker, queues.
YIWANG_ROLLUPS = os.environ.get("YIWANG_ROLLUPS") or ("queued" if CELERY_BROKER_URL else "immediate")
YIWANG_ROLLUP_DRAIN_SECONDS = int(os.environ.get("YIWANG_ROLLUP_DRAIN_SECONDS", "5"))
if YIWANG_ROLLUPS not in ("queued", "immediate"):
    raise ImproperlyConfigured(f"YIWANG_ROLLUPS must be 'queued' or 'immediate', not {YIWANG_ROLLUPS!r}")
# Each app appends its periodic tasks in its AppConfig (see yiwang.core.periodic).
CELERY_BEAT_SCHEDULE: dict = {}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "yiwang.accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "yiwang.core.api.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "yiwang.core.api.exception_handler",
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "yiwang.core.negotiation.RememberedNegotiation",  # DRF's answers, kept
    "DEFAULT_VERSIONING_CLASS": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Yiwang 一网 API",
    "DESCRIPTION": "Grid-based community governance. All lists are scoped to the caller's areas.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

# Map: the tile URL template is a setting; empty means no base layer (intranets) and the
# polygons are drawn on a plain background.
YIWANG_TILE_URL = os.environ.get("YIWANG_TILE_URL", "")
YIWANG_TILE_ATTRIBUTION = os.environ.get("YIWANG_TILE_ATTRIBUTION", "")
# Whether tiles need GCJ-02 coordinates (AMap, Tencent). Stored data is always WGS-84.
YIWANG_TILE_GCJ02 = env_bool("YIWANG_TILE_GCJ02", False)

# Key material for encrypting personal data at rest (registry). Production must set it.
YIWANG_FIELD_KEY = os.environ.get("YIWANG_FIELD_KEY") or (SECRET_KEY if (DEBUG or DEMO) else "")

SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}


