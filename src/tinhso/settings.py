"""Django settings for Tỉnh Số. Every value that differs between machines comes from the
environment (see `.env.example`); the defaults run the embedded demo on SQLite under `var/`."""

from __future__ import annotations

import secrets
from pathlib import Path

import dj_database_url

from tinhso.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = Path(env_str("TINHSO_HOME", str(BASE_DIR.parent.parent)))
VAR_DIR = Path(env_str("TINHSO_VAR_DIR", str(PROJECT_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("TINHSO_DEBUG", False)
DEMO_MODE = env_bool("TINHSO_DEMO", False)


def _secret_key() -> str:
    key = env_str("TINHSO_SECRET_KEY", "")
    if key:
        return key
    # The embedded default keeps a generated key under var/ so sessions survive restarts.
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("TINHSO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("TINHSO_CSRF_TRUSTED_ORIGINS", [])

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'tinhso.sqlite3'}"),
        conn_max_age=env_int("TINHSO_DB_CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            # WAL and a busy timeout let the web process and the task worker share the file.
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.humanize",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_tasks",
    "django_tasks_db",
    "tinhso.core",
    "tinhso.catalog",
    "tinhso.dossiers",
    "tinhso.integration",
    "tinhso.eid",
    "tinhso.notifications",
    "tinhso.portal",
    "tinhso.payments",
    "tinhso.ioc",
    "tinhso.govstack",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "tinhso.core.middleware.VietnameseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "tinhso.integration.request_log.ApiRequestLogMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "tinhso.urls"
WSGI_APPLICATION = "tinhso.wsgi.application"

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
                "tinhso.core.context_processors.platform",
            ],
        },
    }
]

AUTH_USER_MODEL = "core.User"
LOGIN_URL = "core:signin"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "core:signin"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
SESSION_COOKIE_AGE = env_int("TINHSO_SESSION_SECONDS", 8 * 3600)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("TINHSO_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", "Tiếng Việt"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "Asia/Ho_Chi_Minh"
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
MEDIA_ROOT = VAR_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

TASKS = {
    "default": {
        "BACKEND": env_str("TINHSO_TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

EMAIL_BACKEND = env_str("TINHSO_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("TINHSO_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # WeasyPrint reports every rendering step at INFO.
        "weasyprint": {"level": "WARNING"},
        "weasyprint.progress": {"level": "WARNING"},
    },
}

# The province this deployment serves (official code from `vietnam-provinces`; 19 = Thái Nguyên).
TINHSO_PROVINCE_CODE = env_str("TINHSO_PROVINCE_CODE", "19")
TINHSO_PROVINCE_NAME = env_str("TINHSO_PROVINCE_NAME", "Thái Nguyên")

# Dossier rules (index 766, rule 2.1): more than one supplement request makes a dossier late.
TINHSO_LATE_AFTER_SECOND_SUPPLEMENT = env_bool("TINHSO_LATE_AFTER_SECOND_SUPPLEMENT", True)
# An open dossier is "due soon" when this many working days or fewer are left.
TINHSO_DUE_SOON_WORKING_DAYS = env_int("TINHSO_DUE_SOON_WORKING_DAYS", 1)
# How long a process keeps a province's working calendar before reading it again.
TINHSO_CALENDAR_CACHE_SECONDS = env_int("TINHSO_CALENDAR_CACHE_SECONDS", 60)
# How long a process keeps a procedure's fee cases and workflow steps (catalog/cache.py).
TINHSO_CATALOG_CACHE_SECONDS = env_int("TINHSO_CATALOG_CACHE_SECONDS", 30)
# How long a process keeps the operations centre's rollup sums over closed days (the days
# before today, whose rows no longer change; ioc/closed_days.py). 0: no cache.
TINHSO_IOC_CLOSED_DAYS_CACHE_SECONDS = env_int("TINHSO_IOC_CLOSED_DAYS_CACHE_SECONDS", 300)
# The dashboards read the worker's open-dossier snapshots (taken every 30 s) when younger than
# this; otherwise they count live (ioc/snapshots.py). 0: always count live.
TINHSO_IOC_SNAPSHOT_MAX_AGE_SECONDS = env_int("TINHSO_IOC_SNAPSHOT_MAX_AGE_SECONDS", 90)

# Public address of the portal, used in the tracking links (and their QR codes) printed on slips.
TINHSO_PUBLIC_BASE_URL = env_str("TINHSO_PUBLIC_BASE_URL", "http://127.0.0.1:8000")

# Integration platform (docs/integration.md). Outbox: a message still failing after this age
# goes to the dead-letter queue; a worker's claim on a message lasts this long.
TINHSO_OUTBOX_MAX_AGE_SECONDS = env_int("TINHSO_OUTBOX_MAX_AGE_SECONDS", 86400)
TINHSO_OUTBOX_LEASE_SECONDS = env_int("TINHSO_OUTBOX_LEASE_SECONDS", 60)
# Readiness fails above this many due or dead messages, and (when required) with no live worker.
TINHSO_OUTBOX_BACKLOG_LIMIT = env_int("TINHSO_OUTBOX_BACKLOG_LIMIT", 10000)
TINHSO_REQUIRE_WORKER = env_bool("TINHSO_REQUIRE_WORKER", False)
# The national public-service portal (Cổng DVC quốc gia); by default our own simulator.
TINHSO_NATIONAL_PORTAL_URL = env_str(
    "TINHSO_NATIONAL_PORTAL_URL", "http://127.0.0.1:8000/sim/national-portal"
)
TINHSO_NATIONAL_PORTAL_TIMEOUT = env_int("TINHSO_NATIONAL_PORTAL_TIMEOUT", 10)
# The built-in simulators under /sim/ (no authentication: turn them off in production), and a
# delay each simulator answer waits, to rehearse a slow partner (fault tests, the demo).
TINHSO_SIMULATORS = env_bool("TINHSO_SIMULATORS", True)
TINHSO_SIMULATOR_DELAY_SECONDS = env_int("TINHSO_SIMULATOR_DELAY_SECONDS", 0)

# The national population database (the built-in simulator by default) and how long to wait.
TINHSO_POPULATION_URL = env_str("TINHSO_POPULATION_URL", "http://127.0.0.1:8000/sim/population")
TINHSO_POPULATION_TIMEOUT = env_int("TINHSO_POPULATION_TIMEOUT", 5)

# The header other systems send their API key in (docs/integration.md).
TINHSO_API_KEY_HEADER = env_str("TINHSO_API_KEY_HEADER", "X-API-Key")
# How long a worker process keeps a key's caller (client, technical official, roles) before
# checking it again; a revocation elsewhere takes effect within this time. 0: no cache.
TINHSO_API_KEY_CACHE_SECONDS = env_int("TINHSO_API_KEY_CACHE_SECONDS", 5)
# Queue a django-tasks `deliver_outbox` task after each commit that writes outbox messages
# (for deployments that run a task worker, `tinhso db_worker`); off: `tinhso outbox work` polls.
TINHSO_OUTBOX_KICK_TASK = env_bool("TINHSO_OUTBOX_KICK_TASK", False)

# National e-ID sign-in for citizens and businesses (OpenID Connect, authorization code + PKCE;
# docs/integration.md). By default the built-in simulated provider under /sim/eid.
TINHSO_EID_ISSUER = env_str("TINHSO_EID_ISSUER", "http://127.0.0.1:8000/sim/eid")
TINHSO_EID_CLIENT_ID = env_str("TINHSO_EID_CLIENT_ID", "tinhso-portal")
TINHSO_EID_CLIENT_SECRET = env_str("TINHSO_EID_CLIENT_SECRET", "demo-secret")
TINHSO_EID_SCOPES = env_str("TINHSO_EID_SCOPES", "openid profile")
TINHSO_EID_TIMEOUT = env_int("TINHSO_EID_TIMEOUT", 5)
# A citizen's or business's session ends this many seconds after signing in with the e-ID.
TINHSO_CITIZEN_SESSION_SECONDS = env_int("TINHSO_CITIZEN_SESSION_SECONDS", 1800)

# Notifications to applicants (docs/integration.md#notifications-email-and-sms): the SMS
# gateway (a dotted path to an `SmsGateway`; default the simulator, which stores what it
# "sent") and the sender of the emails, which go through Django's EMAIL_BACKEND.
TINHSO_SMS_BACKEND = env_str("TINHSO_SMS_BACKEND", "tinhso.notifications.sms.SimulatedSmsGateway")
TINHSO_NOTIFY_FROM_EMAIL = env_str(
    "TINHSO_NOTIFY_FROM_EMAIL", "no-reply@dichvucong.thainguyen.gov.vn"
)

# Online payment of fees (docs/payments.md): the payment platform's address (by default the
# built-in simulator under /sim/paygov), our merchant code there and the shared secret both
# sides sign with (HMAC-SHA256); the simulator has its own secret setting, equal by default.
TINHSO_PAYMENT_GATEWAY_URL = env_str(
    "TINHSO_PAYMENT_GATEWAY_URL", "http://127.0.0.1:8000/sim/paygov"
)
TINHSO_PAYMENT_MERCHANT_CODE = env_str("TINHSO_PAYMENT_MERCHANT_CODE", "TINHSO-TNG")
TINHSO_PAYMENT_SECRET = env_str("TINHSO_PAYMENT_SECRET", "demo-paygov-secret")
TINHSO_PAYMENT_SIMULATOR_SECRET = env_str("TINHSO_PAYMENT_SIMULATOR_SECRET", "demo-paygov-secret")
TINHSO_PAYMENT_TIMEOUT = env_int("TINHSO_PAYMENT_TIMEOUT", 10)
# How long the simulator's "notify late" button waits before notifying.
TINHSO_PAYMENT_SIMULATOR_LATE_SECONDS = env_int("TINHSO_PAYMENT_SIMULATOR_LATE_SECONDS", 60)
# A payment request is valid this long at the gateway; a bill stays payable this many days.
TINHSO_PAYMENT_ORDER_MINUTES = env_int("TINHSO_PAYMENT_ORDER_MINUTES", 15)
TINHSO_BILL_VALID_DAYS = env_int("TINHSO_BILL_VALID_DAYS", 30)
# A signed notification older than this (by its own timestamp) is refused as a replay.
TINHSO_PAYMENT_NOTIFY_MAX_AGE_SECONDS = env_int("TINHSO_PAYMENT_NOTIFY_MAX_AGE_SECONDS", 600)
# Notifications whose signature fails, per calling address and minute, that are logged one by
# one; beyond it they are answered 429 and not logged (the platform's own always verify).
TINHSO_PAYMENT_NOTIFY_UNSIGNED_PER_MINUTE = env_int("TINHSO_PAYMENT_NOTIFY_UNSIGNED_PER_MINUTE", 30)
# Who is emailed when the daily reconciliation finds mismatches (comma-separated).
TINHSO_PAYMENT_ALERT_EMAILS = env_list("TINHSO_PAYMENT_ALERT_EMAILS", [])

# GovStack Registration building block (docs/govstack.md): where the router sits in the
# main API, and the registered API client the standalone port acts as when a request
# carries no Information-Mediator-Client header where the specification makes it optional.
TINHSO_GOVSTACK_PREFIX = env_str("TINHSO_GOVSTACK_PREFIX", "/govstack/registration")
TINHSO_GOVSTACK_DEFAULT_CLIENT = env_str("TINHSO_GOVSTACK_DEFAULT_CLIENT", "")
