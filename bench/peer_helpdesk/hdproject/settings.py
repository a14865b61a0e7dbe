"""Settings for the django-helpdesk peer benchmark project.

Only configuration lives here; django-helpdesk itself is installed from PyPI into
``.venv-helpdesk`` by ``bench/peer_helpdesk/setup.sh``.

Environment:
    HELPDESK_DB       database name (default ``helpdesk_bench``)
    HELPDESK_DB_HOST  PostgreSQL host (default ``127.0.0.1``)
    HELPDESK_DB_PORT  PostgreSQL port (default ``5432``)
    HELPDESK_DB_USER  PostgreSQL user (default ``postgres``, trust auth)
"""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = os.environ.get("HELPDESK_SECRET_KEY", "peer-benchmark-only-not-a-secret")
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sites",  # required by helpdesk (domain for e-mail links)
    "django.contrib.humanize",  # required by helpdesk templates
    "rest_framework",  # helpdesk API and the datatables JSON view
    "helpdesk",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "hdproject.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

ASGI_APPLICATION = "hdproject.asgi.application"

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": os.environ.get("HELPDESK_DB", "helpdesk_bench"),
        "USER": os.environ.get("HELPDESK_DB_USER", "postgres"),
        "HOST": os.environ.get("HELPDESK_DB_HOST", "127.0.0.1"),
        "PORT": os.environ.get("HELPDESK_DB_PORT", "5432"),
        # Same as a typical production deployment: keep connections between requests.
        "CONN_MAX_AGE": 60,
    }
}

DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

LANGUAGE_CODE = "ru"
TIME_ZONE = "Europe/Moscow"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
MEDIA_ROOT = BASE_DIR / "var" / "media"
MEDIA_URL = "/media/"

SITE_ID = 1
LOGIN_URL = "/helpdesk/login/"
LOGIN_REDIRECT_URL = "/helpdesk/"

# E-mails that helpdesk sends on ticket creation are rendered but not delivered.
EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
DEFAULT_FROM_EMAIL = "helpdesk@example.invalid"

# django-helpdesk options: no pinax-teams (optional extra), otherwise defaults.
HELPDESK_TEAMS_MODE_ENABLED = False
# KB stays enabled: helpdesk 2.6.1 urls.py references the kb views unconditionally.
HELPDESK_KB_ENABLED = True
HELPDESK_REDIRECT_TO_LOGIN_BY_DEFAULT = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
