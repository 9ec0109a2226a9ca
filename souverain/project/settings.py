"""Souverain settings: every value comes from an environment variable (see README, "Settings").

Embedded default: SQLite under ``SOUVERAIN_DATA_DIR`` and an in-process worker.
Scale mode: ``DATABASE_URL`` (PostgreSQL) and ``CELERY_BROKER_URL`` (Redis).
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("SOUVERAIN_DATA_DIR", BASE_DIR.parent / "var")).resolve()


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = _env_bool("SOUVERAIN_DEBUG", False)
# A development key is acceptable only for the embedded default; scale mode must set its own.
# Refused outside loopback or debug (souverain/core/startup.py).
# `souverain setup` stores a random one in the data directory (0600) for the embedded default.
_SECRET_KEY_FILE = Path(os.environ.get("SOUVERAIN_SECRET_KEY_FILE", DATA_DIR / "secret.key"))
SECRET_KEY = os.environ.get("SOUVERAIN_SECRET_KEY") or (
    _SECRET_KEY_FILE.read_text(encoding="ascii").strip() if _SECRET_KEY_FILE.is_file() else ""
) or "souverain-insecure-development-key-change-me"
# Encrypts cloud credentials at rest (Fernet). Else the key file below (core/crypto.py).
CREDENTIALS_KEY = os.environ.get("SOUVERAIN_CREDENTIALS_KEY", "")
ALLOWED_HOSTS = [h for h in os.environ.get("SOUVERAIN_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("SOUVERAIN_CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI from the package: a sovereign product loads no third-party script
    "django_filters",
    "django_tables2",
    "django_htmx",
    "souverain.core",
    "souverain.tenancy",
    "souverain.sovereignty",
    "souverain.estate",
    "souverain.jobs",
    "souverain.inventory",
    "souverain.policy",
    "souverain.audit",
    "souverain.capacity",
    "souverain.notifications",
    "souverain.provisioning",
    "souverain.mobility",
    "souverain.sso",
    "souverain.portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "souverain.core.middleware.SecurityHeadersMiddleware",
    # Static files from the application processes themselves (compressed, cached): no web server needed.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "souverain.sso.middleware.ProviderLogoutMiddleware",
    "souverain.core.middleware.PasswordChangeRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "souverain.core.middleware.RequestContextMiddleware",
]

ROOT_URLCONF = "souverain.project.urls"
WSGI_APPLICATION = "souverain.project.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

_default_sqlite = f"sqlite:///{DATA_DIR / 'souverain.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(os.environ.get("DATABASE_URL", _default_sqlite), conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # WAL lets the in-process worker write while the web server reads. A transaction takes the write lock when
    # it begins (IMMEDIATE), waiting up to the busy timeout: a deferred one that read first fails at once with
    # "database is locked" when another connection wrote in between (a compliance pass while the API writes).
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
        "transaction_mode": "IMMEDIATE", "timeout": 30,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": int(os.environ.get("SOUVERAIN_PASSWORD_MIN_LENGTH", "10"))}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# The test suite only (the root conftest.py sets it, and the processes its tests start inherit it): MD5 first, so
# that the users most tests make cost microseconds instead of PBKDF2's ~0.4 s each on a loaded 2-core machine;
# the default hashers stay listed, so that a password hashed either way is still checked.
if os.environ.get("SOUVERAIN_TEST_PASSWORD_HASHER") == "md5":
    from django.conf.global_settings import PASSWORD_HASHERS as _DEFAULT_HASHERS

    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *_DEFAULT_HASHERS]
# Password checks throttled per account and per address (souverain/core/throttle.py).
AUTHENTICATION_BACKENDS = ["souverain.core.auth.ThrottledModelBackend"]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("fr", "Français")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns at every start when it is missing
# WhiteNoise serves the package's static files straight from the apps' folders (no collectstatic step on a
# fresh machine), gzip-negotiated, cached for an hour by browsers.
WHITENOISE_USE_FINDERS = True
WHITENOISE_MAX_AGE = 3600
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"  # else LogoutView renders the admin's logged_out page (no admin: a 500)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "souverain.sso.authentication.ProviderTokenAuthentication",  # provider JWTs (docs/sso.md)
        "souverain.core.auth.ApiTokenAuthentication",
        "souverain.core.auth.PasswordCheckedSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["souverain.tenancy.permissions.RolePermission"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "souverain.core.api.pagination.BoundedLimitOffsetPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "souverain.core.api.exception_handler",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Souverain API",
    "DESCRIPTION": "Sovereignty-aware hybrid cloud manager: estate, sovereignty exposure, policies, inventory.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["souverain.tenancy.permissions.RolePermission"],
    # The schema says what the server enforces: request bodies without read-only fields nor unknown ones, and
    # every error answer (souverain/core/api/schema.py); test_fuzz_api.py holds the server to it.
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums",
                             "souverain.core.api.schema.tell_the_truth"],
    # Served from drf-spectacular-sidecar's static files, never from a CDN; Swagger UI would otherwise send the
    # schema to validator.swagger.io.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
}

# Limits on operators' Rego modules (docs/policies.md, "Limits on operators' modules").
SOUVERAIN_POLICY_LIMITS = {
    "max_bytes": int(os.environ.get("SOUVERAIN_POLICY_MAX_BYTES", "65536")),
    "max_depth": int(os.environ.get("SOUVERAIN_POLICY_MAX_DEPTH", "32")),
    "max_operators": int(os.environ.get("SOUVERAIN_POLICY_MAX_OPERATORS", "256")),
    "query_budget": float(os.environ.get("SOUVERAIN_POLICY_QUERY_BUDGET_MS", "500")) / 1000,
    "check_timeout": float(os.environ.get("SOUVERAIN_POLICY_CHECK_TIMEOUT", "30")),
    "memory_mb": int(os.environ.get("SOUVERAIN_POLICY_MEMORY_MB", "1024")),
    "quarantine": float(os.environ.get("SOUVERAIN_POLICY_QUARANTINE", "300")),
}

# Knowledge base: the packaged data files, plus an optional directory of operator additions.
KB_EXTRA_DIR = os.environ.get("SOUVERAIN_KB_EXTRA_DIR", "")

# Jobs: without a broker, tasks run in the in-process worker (embedded default).
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND", "")

LOG_LEVEL = os.environ.get("SOUVERAIN_LOG_LEVEL", "INFO")
LOG_FILE = os.environ.get("SOUVERAIN_LOG_FILE", "")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "souverain.core.logging.RedactSecretsFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]},
        **(
            {"file": {"class": "logging.FileHandler", "filename": LOG_FILE, "formatter": "plain",
                      "filters": ["redact"]}}
            if LOG_FILE
            else {}
        ),
    },
    "root": {"handlers": ["console", *(["file"] if LOG_FILE else [])], "level": LOG_LEVEL},
}

# --- Celery (scale mode), the periodic syncs and the in-process worker (embedded default) -------------------
# Tasks carry job ids only; the Job rows are the record, so Celery keeps no results.
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = "UTC"
# A task is acknowledged when done, and a worker takes one at a time: a killed worker's job is redelivered,
# and two workers share two queued syncs instead of one prefetching both.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Redis redelivers an unacknowledged task after this many seconds: longer than the longest sync.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": int(os.environ.get("SOUVERAIN_VISIBILITY_TIMEOUT", "21600"))}
# Periodic syncs: Celery beat in scale mode, the in-process scheduler otherwise (same entries).
SOUVERAIN_SYNC_INTERVAL = int(os.environ.get("SOUVERAIN_SYNC_INTERVAL", "300"))
SOUVERAIN_FULL_SYNC_INTERVAL = int(os.environ.get("SOUVERAIN_FULL_SYNC_INTERVAL", "3600"))
CELERY_BEAT_SCHEDULE = {
    "inventory-incremental-sync": {"task": "souverain.inventory.tasks.schedule_sync",
                                   "schedule": float(SOUVERAIN_SYNC_INTERVAL), "kwargs": {"full": False}},
    "inventory-full-sync": {"task": "souverain.inventory.tasks.schedule_sync",
                            "schedule": float(SOUVERAIN_FULL_SYNC_INTERVAL), "kwargs": {"full": True}},
    # Certificates expire and adequacy decisions change: re-check everything daily.
    "compliance-daily": {"task": "souverain.policy.tasks.daily_compliance", "schedule": 86400.0},
}
# A running job's worker renews its lease (the job's heartbeat) every fifth of this many seconds; a job whose lease
# expired is queued again (idempotent kinds) or failed, by the recovery timer (beat's entry below in scale mode).
SOUVERAIN_JOB_LEASE = float(os.environ.get("SOUVERAIN_JOB_LEASE", "15"))
CELERY_BEAT_SCHEDULE["jobs-recovery"] = {"task": "souverain.jobs.tasks.recover_interrupted",
                                         "schedule": SOUVERAIN_JOB_LEASE / 3}
# Audit trail: a signed checkpoint of the chain every hour (souverain/audit/services.py).
SOUVERAIN_AUDIT_CHECKPOINT_INTERVAL = float(os.environ.get("SOUVERAIN_AUDIT_CHECKPOINT_INTERVAL", "3600"))
CELERY_BEAT_SCHEDULE["audit-checkpoint"] = {"task": "souverain.audit.tasks.checkpoint",
                                            "schedule": SOUVERAIN_AUDIT_CHECKPOINT_INTERVAL}
# Each record and checkpoint also to syslog after its commit (souverain/audit/syslog_export.py): udp://host:514,
# tcp://host:514 or unix:///dev/log; empty: off. A full queue drops (counted, audited), never blocks a write.
SOUVERAIN_AUDIT_SYSLOG = os.environ.get("SOUVERAIN_AUDIT_SYSLOG", "")
SOUVERAIN_AUDIT_SYSLOG_FACILITY = os.environ.get("SOUVERAIN_AUDIT_SYSLOG_FACILITY", "authpriv")
SOUVERAIN_AUDIT_SYSLOG_QUEUE = int(os.environ.get("SOUVERAIN_AUDIT_SYSLOG_QUEUE", "10000"))
SOUVERAIN_SYNC_AT_START = _env_bool("SOUVERAIN_SYNC_AT_START", True)
# Jobs the embedded worker runs at once (threads of one process; each provisioning job mostly waits on its cloud).
SOUVERAIN_WORKER_CONCURRENCY = int(os.environ.get("SOUVERAIN_WORKER_CONCURRENCY", "4"))
# Per-cloud locks: Redis in scale mode (this URL, else the broker's when it is Redis), lease rows otherwise.
SOUVERAIN_LOCK_URL = os.environ.get("SOUVERAIN_LOCK_URL", "")
SOUVERAIN_SYNC_LOCK_WAIT = float(os.environ.get("SOUVERAIN_SYNC_LOCK_WAIT", "1800"))
SOUVERAIN_SYNC_CLOUD_THREADS = int(os.environ.get("SOUVERAIN_SYNC_CLOUD_THREADS", "8"))
SOUVERAIN_SYNC_KIND_THREADS = int(os.environ.get("SOUVERAIN_SYNC_KIND_THREADS", "4"))
# Notifications (souverain/notifications): e-mail through Django's mail framework, signed webhooks retried with
# backoff; the alert pass (certificates, stale clouds, failing syncs, audit chain) and the retry of due deliveries.
EMAIL_HOST = os.environ.get("SOUVERAIN_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("SOUVERAIN_EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("SOUVERAIN_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("SOUVERAIN_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = _env_bool("SOUVERAIN_EMAIL_TLS", False)
EMAIL_TIMEOUT = 30
DEFAULT_FROM_EMAIL = os.environ.get("SOUVERAIN_EMAIL_FROM", "souverain@localhost")
SOUVERAIN_BASE_URL = os.environ.get("SOUVERAIN_BASE_URL", "")
SOUVERAIN_NOTIFICATION_BACKOFF = float(os.environ.get("SOUVERAIN_NOTIFICATION_BACKOFF", "30"))
SOUVERAIN_NOTIFICATION_MAX_ATTEMPTS = int(os.environ.get("SOUVERAIN_NOTIFICATION_MAX_ATTEMPTS", "6"))
CELERY_BEAT_SCHEDULE["notifications-retry"] = {"task": "souverain.notifications.tasks.retry_due", "schedule": 30.0}
CELERY_BEAT_SCHEDULE["notifications-alerts"] = {
    "task": "souverain.notifications.tasks.alerts",
    "schedule": float(os.environ.get("SOUVERAIN_ALERTS_INTERVAL", "300"))}

# --- Accounts, tokens, keys and headers (docs/security.md) ---------------------------------------------------
SOUVERAIN_TOKEN_DAYS = int(os.environ.get("SOUVERAIN_TOKEN_DAYS", "30"))
SOUVERAIN_TOKEN_MAX_DAYS = int(os.environ.get("SOUVERAIN_TOKEN_MAX_DAYS", "365"))
SOUVERAIN_LOGIN_WINDOW = int(os.environ.get("SOUVERAIN_LOGIN_WINDOW", "900"))
SOUVERAIN_LOGIN_MAX_PER_ACCOUNT = int(os.environ.get("SOUVERAIN_LOGIN_MAX_PER_ACCOUNT", "5"))
SOUVERAIN_LOGIN_MAX_PER_ADDRESS = int(os.environ.get("SOUVERAIN_LOGIN_MAX_PER_ADDRESS", "20"))
SOUVERAIN_PROXY_ADDRESS_HEADER = os.environ.get("SOUVERAIN_PROXY_ADDRESS_HEADER", "")
# The credentials key when SOUVERAIN_CREDENTIALS_KEY is unset: generated by `souverain setup` (0600).
CREDENTIALS_KEY_FILE = Path(os.environ.get("SOUVERAIN_CREDENTIALS_KEY_FILE", DATA_DIR / "credentials.key"))
# Keys that only decrypt (a rotation in progress with keys given by the environment), comma-separated.
CREDENTIALS_OLD_KEYS = [k for k in os.environ.get("SOUVERAIN_CREDENTIALS_OLD_KEYS", "").split(",") if k]
DEFAULT_SECRET_KEY = "souverain-insecure-development-key-change-me"
SECRET_KEY_FILE = _SECRET_KEY_FILE
# Served over TLS (directly or behind a proxy that says so in SOUVERAIN_PROXY_SSL_HEADER, e.g.
# "HTTP_X_FORWARDED_PROTO=https"): Secure cookies, HSTS, HTTP redirected to HTTPS.
SOUVERAIN_TLS = _env_bool("SOUVERAIN_TLS", False)
if os.environ.get("SOUVERAIN_PROXY_SSL_HEADER"):
    _header, _, _value = os.environ["SOUVERAIN_PROXY_SSL_HEADER"].partition("=")
    SECURE_PROXY_SSL_HEADER = (_header.strip(), _value.strip() or "https")
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = SOUVERAIN_TLS
SECURE_SSL_REDIRECT = SOUVERAIN_TLS and _env_bool("SOUVERAIN_TLS_REDIRECT", True)
SECURE_HSTS_SECONDS = int(os.environ.get("SOUVERAIN_HSTS_SECONDS", "31536000")) if SOUVERAIN_TLS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = SOUVERAIN_TLS
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
# Provisioning: requests left awaiting approval past the rules' expire_after_hours expire (souverain/provisioning).
CELERY_BEAT_SCHEDULE["provisioning-expiry"] = {"task": "souverain.provisioning.tasks.expire_waiting",
                                               "schedule": float(os.environ.get("SOUVERAIN_REQUEST_EXPIRY_CHECK",
                                                                                "300"))}
# Tenants' webhooks may point into the operator's own network (loopback, private addresses) only when this is on.
SOUVERAIN_WEBHOOK_ALLOW_PRIVATE = _env_bool("SOUVERAIN_WEBHOOK_ALLOW_PRIVATE", False)
CELERY_BEAT_SCHEDULE["notifications-audit-verify"] = {"task": "souverain.notifications.tasks.verify_audit",
                                                      "schedule": 86400.0}
# Capacity (Placement, Nova) of every region: after each inventory sync, and on this schedule (souverain/capacity).
CELERY_BEAT_SCHEDULE["capacity-sync"] = {"task": "souverain.capacity.tasks.schedule_sync",
                                         "schedule": float(os.environ.get("SOUVERAIN_CAPACITY_INTERVAL", "900"))}

# --- Single sign-on with OpenID Connect (docs/sso.md); off while the issuer is empty ---------------------------
SOUVERAIN_OIDC_ISSUER = os.environ.get("SOUVERAIN_OIDC_ISSUER", "")
SOUVERAIN_OIDC_CLIENT_ID = os.environ.get("SOUVERAIN_OIDC_CLIENT_ID", "")
SOUVERAIN_OIDC_CLIENT_SECRET = os.environ.get("SOUVERAIN_OIDC_CLIENT_SECRET", "")
SOUVERAIN_OIDC_PROVIDER_NAME = os.environ.get("SOUVERAIN_OIDC_PROVIDER_NAME", "")
SOUVERAIN_OIDC_SCOPES = os.environ.get("SOUVERAIN_OIDC_SCOPES", "openid email profile groups")
SOUVERAIN_OIDC_API_AUDIENCE = os.environ.get("SOUVERAIN_OIDC_API_AUDIENCE", "")
SOUVERAIN_OIDC_MAPPING = os.environ.get("SOUVERAIN_OIDC_MAPPING", "")
SOUVERAIN_OIDC_RULES: list = []
