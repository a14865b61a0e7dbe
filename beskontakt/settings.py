"""Django settings for Beskontakt.

Every setting that differs between the embedded demo and a production
installation comes from an environment variable (see docs/operations.md).
The defaults are the embedded demo: SQLite, an in-process channel layer and a
Celery transport that needs no broker server.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("BESKONTAKT_DATA_DIR", BASE_DIR.parent / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    """Read a yes/no environment variable."""
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


SECRET_KEY = os.environ.get("BESKONTAKT_SECRET_KEY", "insecure-demo-key-change-me-in-production")
DEBUG = env_bool("BESKONTAKT_DEBUG", False)
ALLOWED_HOSTS = os.environ.get("BESKONTAKT_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("BESKONTAKT_CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_htmx",
    "django_filters",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "beskontakt.accounts",
    "beskontakt.subscribers",
    "beskontakt.cases",
    "beskontakt.inbox",
    "beskontakt.portal",
    "beskontakt.incidents",
    "beskontakt.network",
    "beskontakt.cpe",
    "beskontakt.diagnostics",
    "beskontakt.demo",
]

MIDDLEWARE = [
    "beskontakt.limits.RequestSizeLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "beskontakt.urls"
WSGI_APPLICATION = "beskontakt.wsgi.application"
ASGI_APPLICATION = "beskontakt.asgi.application"

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
                "beskontakt.accounts.context.role_context",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------
DB_ENGINE = os.environ.get("BESKONTAKT_DB", "sqlite")
if DB_ENGINE == "postgres":
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": os.environ.get("BESKONTAKT_DB_NAME", "beskontakt"),
            "USER": os.environ.get("BESKONTAKT_DB_USER", "postgres"),
            "PASSWORD": os.environ.get("BESKONTAKT_DB_PASSWORD", ""),
            "HOST": os.environ.get("BESKONTAKT_DB_HOST", "127.0.0.1"),
            "PORT": os.environ.get("BESKONTAKT_DB_PORT", "5432"),
            # Under ASGI every request may run on another thread, so per-thread persistent
            # connections would pile up; a process-wide pool (psycopg_pool) reuses them instead.
            "CONN_MAX_AGE": 0,
            "OPTIONS": {
                # Short OLTP queries: JIT compilation costs more than it saves.
                "options": "-c jit=off",
                "pool": {
                    "min_size": int(os.environ.get("BESKONTAKT_DB_POOL_MIN", "2")),
                    "max_size": int(os.environ.get("BESKONTAKT_DB_POOL_MAX", "8")),
                    "timeout": 10,
                },
            },
            "TEST": {"NAME": os.environ.get("BESKONTAKT_TEST_DB_NAME")},
        }
    }
else:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("BESKONTAKT_DB_NAME", str(DATA_DIR / "beskontakt.sqlite3")),
            "OPTIONS": {
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
            },
            # A file (not memory) lets tests hand the database to a real Celery worker.
            "TEST": {"NAME": os.environ.get("BESKONTAKT_TEST_DB_NAME")},
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "cases:queue"
LOGOUT_REDIRECT_URL = "accounts:login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

# --- Internationalisation: Russian first, English second -------------------
LANGUAGE_CODE = "ru"
LANGUAGES = [("ru", _("Russian")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Moscow"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise expects it even when serving from finders
STATICFILES_DIRS = [BASE_DIR / "static"]
# Five attachments of 10 MB each plus the form fields.
MAX_REQUEST_BYTES = int(os.environ.get("BESKONTAKT_MAX_REQUEST_BYTES", str(55 * 1024 * 1024)))
MEDIA_URL = "media/"
MEDIA_ROOT = DATA_DIR / "media"
WHITENOISE_USE_FINDERS = True

# --- Security ---------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("BESKONTAKT_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
OTP_TOTP_ISSUER = "Beskontakt"
# Failed logins allowed per username and per client address in the window.
LOGIN_RATE_LIMIT = int(os.environ.get("BESKONTAKT_LOGIN_RATE_LIMIT", "5"))
LOGIN_IP_RATE_LIMIT = int(os.environ.get("BESKONTAKT_LOGIN_IP_RATE_LIMIT", "30"))
LOGIN_RATE_WINDOW_SECONDS = int(os.environ.get("BESKONTAKT_LOGIN_RATE_WINDOW", "900"))

# --- Cache: Redis in production, local memory in the demo -----------------
REDIS_URL = os.environ.get("BESKONTAKT_REDIS_URL")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Celery -----------------------------------------------------------------
# The demo uses kombu's filesystem transport: a real transport (messages are
# files in folders, acknowledged by moving them) that needs no server.
CELERY_BROKER_URL = os.environ.get("BESKONTAKT_BROKER_URL", "filesystem://")
_CELERY_FS = DATA_DIR / "celery"
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {
        "data_folder_in": str(_CELERY_FS / "queue"),
        "data_folder_out": str(_CELERY_FS / "queue"),
        "processed_folder": str(_CELERY_FS / "processed"),
        "control_folder": str(_CELERY_FS / "control"),
        "store_processed": False,
    }
    if CELERY_BROKER_URL.startswith("filesystem")
    else {}
)
if CELERY_BROKER_URL.startswith("filesystem"):
    # The folders must exist before the first message is sent or read.
    for _folder in {*CELERY_BROKER_TRANSPORT_OPTIONS.values()} - {False}:
        Path(str(_folder)).mkdir(parents=True, exist_ok=True)
CELERY_TASK_ALWAYS_EAGER = env_bool("BESKONTAKT_CELERY_EAGER", False)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {
    "sla-clocks": {"task": "beskontakt.cases.tasks.check_sla_clocks", "schedule": 30.0},
    # A sweep in case a "process now" message was lost: accepted messages never wait long.
    "inbound-sweep": {"task": "beskontakt.cases.tasks.process_inbound", "schedule": 10.0},
    "workload-recount": {"task": "beskontakt.cases.tasks.recount_workload", "schedule": 3600.0},
    # The outbox sweep also retries what is due and takes back deliveries a dead worker left.
    "outbox-sweep": {"task": "beskontakt.inbox.tasks.sweep_outbox", "schedule": 5.0},
    "presence-expiry": {"task": "beskontakt.inbox.tasks.expire_presence", "schedule": 30.0},
    "callback-follow-ups": {"task": "beskontakt.inbox.tasks.follow_up_callbacks", "schedule": 60.0},
    "telegram-sweep": {"task": "beskontakt.inbox.tasks.process_telegram_updates", "schedule": 10.0},
    "mail-poll": {"task": "beskontakt.inbox.tasks.poll_mailbox", "schedule": 30.0},
    # Access network: nodes are polled on their own intervals (5 min by default); checked every minute.
    "network-polls": {"task": "beskontakt.network.tasks.schedule_polls", "schedule": 60.0},
    "network-retention": {"task": "beskontakt.network.tasks.purge_samples", "schedule": 3600.0},
    # Subscriber devices: tasks past their expiry, old session logs and finished tasks.
    "cpe-expire-tasks": {"task": "beskontakt.cpe.tasks.expire_tasks", "schedule": 60.0},
    "cpe-prune-sessions": {"task": "beskontakt.cpe.tasks.prune_sessions", "schedule": 3600.0},
}

# --- Real time (Django Channels) ------------------------------------------
# Redis when configured (every web process shares the groups); in memory in the
# single-process demo.
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            # Redis pub/sub ignores the database number: a prefix keeps installations apart.
            "CONFIG": {"hosts": [REDIS_URL], "prefix": os.environ.get("BESKONTAKT_CHANNEL_PREFIX", "beskontakt")},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
PRESENCE_TIMEOUT_SECONDS = int(os.environ.get("BESKONTAKT_PRESENCE_TIMEOUT", "90"))

# --- Intake channels --------------------------------------------------------
# The queue (by code) of new cases that name neither a queue nor a category.
INTAKE_QUEUE = os.environ.get("BESKONTAKT_INTAKE_QUEUE", "tech-support")
# Telegram: the bot token; webhook mode when a secret is set (Telegram sends it in
# X-Telegram-Bot-Api-Secret-Token), long polling otherwise. TELEGRAM_API_URL points
# aiogram at another Bot API server (a local one, or the test server).
TELEGRAM_BOT_TOKEN = os.environ.get("BESKONTAKT_TELEGRAM_TOKEN", "")
TELEGRAM_WEBHOOK_SECRET = os.environ.get("BESKONTAKT_TELEGRAM_WEBHOOK_SECRET", "")
TELEGRAM_API_URL = os.environ.get("BESKONTAKT_TELEGRAM_API_URL", "")
# Messages a chat may send per minute before the bot stops turning them into case messages.
TELEGRAM_FLOOD_PER_MINUTE = int(os.environ.get("BESKONTAKT_TELEGRAM_FLOOD_PER_MINUTE", "20"))
# E-mail: inbound over IMAP, outbound over SMTP.
IMAP_HOST = os.environ.get("BESKONTAKT_IMAP_HOST", "")
IMAP_PORT = int(os.environ.get("BESKONTAKT_IMAP_PORT", "993"))
IMAP_SSL = env_bool("BESKONTAKT_IMAP_SSL", True)
IMAP_USER = os.environ.get("BESKONTAKT_IMAP_USER", "")
IMAP_PASSWORD = os.environ.get("BESKONTAKT_IMAP_PASSWORD", "")
IMAP_FOLDER = os.environ.get("BESKONTAKT_IMAP_FOLDER", "INBOX")
EMAIL_HOST = os.environ.get("BESKONTAKT_SMTP_HOST", "")
EMAIL_PORT = int(os.environ.get("BESKONTAKT_SMTP_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("BESKONTAKT_SMTP_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("BESKONTAKT_SMTP_PASSWORD", "")
EMAIL_USE_TLS = env_bool("BESKONTAKT_SMTP_STARTTLS", False)
EMAIL_TIMEOUT = 20
CARE_EMAIL_ADDRESS = os.environ.get("BESKONTAKT_CARE_EMAIL", "care@beskontakt.local")
DEFAULT_FROM_EMAIL = CARE_EMAIL_ADDRESS
# An SMS gateway speaking the JSON contract in docs/apps/inbox.md.
SMS_GATEWAY_URL = os.environ.get("BESKONTAKT_SMS_GATEWAY_URL", "")
SMS_GATEWAY_TOKEN = os.environ.get("BESKONTAKT_SMS_GATEWAY_TOKEN", "")
# A claimed delivery's lease: after it, the outbox sweep re-delivers what a dead worker left.
OUTBOX_LEASE_SECONDS = int(os.environ.get("BESKONTAKT_OUTBOX_LEASE_SECONDS", "120"))
# The demo writes deliveries of unconfigured channels into this folder (empty: off).
OUTBOX_FILE_DIR = os.environ.get("BESKONTAKT_OUTBOX_FILE_DIR", "")
# One-time codes: lifetime, wrong attempts per code, codes sent per subscriber per hour.
ONE_TIME_CODE_SECONDS = int(os.environ.get("BESKONTAKT_CODE_SECONDS", "600"))
ONE_TIME_CODE_ATTEMPTS = 5
ONE_TIME_CODES_PER_HOUR = int(os.environ.get("BESKONTAKT_CODES_PER_HOUR", "5"))

# --- Remote diagnostics: the ACS, the access network, diagnosis ---------------
# The built-in TR-069 ACS (``beskontakt acs``) listens here; CPEs are given ACS_URL.
ACS_HOST = os.environ.get("BESKONTAKT_ACS_HOST", "127.0.0.1")
ACS_PORT = int(os.environ.get("BESKONTAKT_ACS_PORT", "7547"))
ACS_URL = os.environ.get("BESKONTAKT_ACS_URL", f"http://{ACS_HOST}:{ACS_PORT}/")
# Unknown devices: "accept" registers them (and their first credentials), "reject" answers 401.
ACS_BOOTSTRAP_POLICY = os.environ.get("BESKONTAKT_ACS_BOOTSTRAP_POLICY", "accept")
# The factory password unknown devices log in with under "accept" (a Digest login can only be
# checked against a password the ACS knows); the default preset then gives each its own.
ACS_BOOTSTRAP_PASSWORD = os.environ.get("BESKONTAKT_ACS_BOOTSTRAP_PASSWORD", "")
# Open CWMP sessions one ACS process holds before it answers 503 with Retry-After (admission
# control: on a small machine lower it, so that a storm of CPEs waits outside, not in a queue).
ACS_MAX_SESSIONS = int(os.environ.get("BESKONTAKT_ACS_MAX_SESSIONS", "20000"))
# How long session logs and finished device tasks are kept.
CPE_SESSION_RETENTION_DAYS = int(os.environ.get("BESKONTAKT_CPE_SESSION_RETENTION_DAYS", "7"))
CPE_TASK_RETENTION_DAYS = int(os.environ.get("BESKONTAKT_CPE_TASK_RETENTION_DAYS", "90"))
# Key material for secrets at rest (device credentials, SNMP secrets; beskontakt/sealing.py):
# empty means SECRET_KEY's. Set it so that rotating SECRET_KEY leaves stored secrets readable.
SECRETS_KEY = os.environ.get("BESKONTAKT_SECRETS_KEY", "")
# Which DeviceManagement serves the diagnosis and the remote fixes: "builtin" or "genieacs".
DEVICE_MANAGEMENT = os.environ.get("BESKONTAKT_DEVICE_MANAGEMENT", "builtin")
GENIEACS_NBI_URL = os.environ.get("BESKONTAKT_GENIEACS_NBI_URL", "http://127.0.0.1:7557")
# SNMP polling of the access network and how long samples are kept.
SNMP_TIMEOUT_SECONDS = float(os.environ.get("BESKONTAKT_SNMP_TIMEOUT", "2"))
SNMP_RETRIES = int(os.environ.get("BESKONTAKT_SNMP_RETRIES", "1"))
NETWORK_SAMPLE_RETENTION_DAYS = int(os.environ.get("BESKONTAKT_NETWORK_RETENTION_DAYS", "30"))
# One diagnosis: each check's time budget.
DIAGNOSIS_CHECK_TIMEOUT_SECONDS = float(os.environ.get("BESKONTAKT_DIAGNOSIS_CHECK_TIMEOUT", "2.5"))
# The file a router downloads for a remote speed test (empty: the ACS's own /files/speedtest).
DIAGNOSIS_SPEED_TEST_URL = os.environ.get("BESKONTAKT_DIAGNOSIS_SPEED_TEST_URL", "")

# --- REST API ---------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "beskontakt.api.pagination.Pagination",
    "PAGE_SIZE": 25,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "beskontakt.api.errors.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"login": "10/min"},
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Beskontakt API",
    "DESCRIPTION": "Subscribers, cases, messages, notes and events of the Beskontakt care desk.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI and ReDoc assets come from the drf-spectacular-sidecar package, never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "CaseStatusEnum": "beskontakt.cases.models.case.CaseStatus",
        "ChannelEnum": "beskontakt.subscribers.models.Channel",
        "PriorityEnum": "beskontakt.cases.models.case.Priority",
        "TariffKindEnum": "beskontakt.subscribers.models.Tariff.Kind",
        "SubscriberKindEnum": "beskontakt.subscribers.models.Subscriber.Kind",
        "EquipmentKindEnum": "beskontakt.subscribers.models.Equipment.Kind",
        "RestrictionKindEnum": "beskontakt.subscribers.models.AccessRestriction.Kind",
        "EventKindEnum": "beskontakt.cases.models.content.Event.Kind",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("BESKONTAKT_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
