"""Frontdesk settings: one file, driven by the environment (every variable is in .env.example)."""

from __future__ import annotations

import os
import secrets
import sys
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from frontdesk.audit.config import audit_key_check, parse_checkpoint_targets
from frontdesk.flow import thresholds
from frontdesk.flow.thresholds import parse_thresholds
from frontdesk.lib.env import (
    env_bool,
    env_choice,
    env_int,
    env_list,
    env_minutes,
    env_str,
    env_time_zone,
)

PACKAGE_DIR = Path(__file__).resolve().parent
BASE_DIR = PACKAGE_DIR.parent.parent
VAR_DIR = Path(env_str("FRONTDESK_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

TESTING = "pytest" in sys.modules


def _secret_key() -> str:
    configured = env_str("SECRET_KEY", "")
    if configured:
        if len(configured) < 32:
            raise ImproperlyConfigured("SECRET_KEY must be at least 32 characters long.")
        return configured
    # Generated once per install and kept out of the repository (var/ is ignored).
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "csp",
    "django_htmx",
    "frontdesk.accounts",
    "frontdesk.audit",
    "frontdesk.clinic",
    "frontdesk.patients",
    "frontdesk.desk",
    "frontdesk.inquiries",
    "frontdesk.complaints",
    "frontdesk.supplies",
    "frontdesk.eligibility",
    "frontdesk.documents",
    "frontdesk.letters",
    "frontdesk.referrals",
    "frontdesk.records",
    "frontdesk.scheduling",
    "frontdesk.flow",
    "frontdesk.messaging",
    "frontdesk.playbooks",
    "frontdesk.billing",
    "frontdesk.demo",
    "huey.contrib.djhuey",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Outside the session and CSRF middleware, so it sees the cookies they set.
    "frontdesk.accounts.middleware.SecureCookiesOverHttpsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Inside WhiteNoise, so static files keep their cache; every page gets no-store.
    "frontdesk.accounts.middleware.NoStoreMiddleware",
    "frontdesk.accounts.middleware.AccessLogMiddleware",
    # Before anything reads the body (NUL bytes, CSRF); inside the access log, which notes it.
    "frontdesk.middleware.BodyTooLargeMiddleware",
    # Outside the session middleware, so a session that cannot be saved gets the polite page.
    "frontdesk.middleware.DatabaseBusyMiddleware",
    "frontdesk.middleware.NulBytesMiddleware",
    "frontdesk.accounts.middleware.ClinicTimeZoneMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "frontdesk.accounts.middleware.IdleTimeoutMiddleware",
    "frontdesk.accounts.middleware.TwoFactorRequiredMiddleware",
    "frontdesk.accounts.middleware.PasswordChangeRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "frontdesk.patients.middleware.BreakGlassMiddleware",
    # Axes last, as its documentation asks, so it sees the final login response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "frontdesk.urls"
WSGI_APPLICATION = "frontdesk.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "frontdesk.accounts.context_processors.shell",
            ],
        },
    },
]

# --- Database --------------------------------------------------------------------------------
_default_sqlite = f"sqlite:///{VAR_DIR / 'frontdesk.sqlite3'}"
_database_url = env_str("DATABASE_URL", _default_sqlite)
try:
    # Health checks: a connection the server has closed (a restart, a failover, a terminated
    # backend) is replaced before a request uses it, whether it comes from the pool below
    # (psycopg_pool's check_connection on checkout) or is kept between requests.
    _db = dj_database_url.parse(_database_url, conn_max_age=0, conn_health_checks=True)
except ValueError as exc:
    raise ImproperlyConfigured(
        "DATABASE_URL must look like sqlite:///path/to/file.sqlite3 or "
        f"postgres://user@host:5432/dbname ({exc})."
    ) from None
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers work while one writer writes; IMMEDIATE takes the write lock at BEGIN so
    # a check-then-write inside one atomic block cannot race (see docs/architecture.md).
    _db["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;"
        ),
    }
    # Tests use a file, not Django's shared-cache in-memory database, so concurrent writers
    # behave as in production (busy_timeout and IMMEDIATE locking, not table-lock errors).
    # One file per test run, so two runs side by side do not share it.
    _db["TEST"] = {"NAME": str(VAR_DIR / f"test-frontdesk-{os.getpid()}.sqlite3")}
elif _db["ENGINE"] == "django.db.backends.postgresql":
    # A connection pool (psycopg_pool): opening a connection costs several milliseconds, more
    # than a whole patient search. Django's persistent connections are not for ASGI servers.
    _pool_size = env_int("DATABASE_POOL_SIZE", 8, minimum=0, maximum=200)
    # Prepared statements, which Django turns off unless asked: only a cursor that binds on the
    # server prepares, and the desk queue's query is the one that does (desk/selectors.py
    # `_fetch`); Django's own cursors bind on the client and never prepare.
    _db["OPTIONS"] = {"prepare_threshold": 5}
    if _pool_size and not TESTING:
        _db["OPTIONS"]["pool"] = {"min_size": 1, "max_size": _pool_size, "timeout": 10}
    # One test database per run (pytest-xdist adds its worker suffix), so two runs side by
    # side never create or drop each other's.
    _db["TEST"] = {"NAME": f"test_{_db['NAME']}_{os.getpid()}"}
else:
    raise ImproperlyConfigured(
        "DATABASE_URL must name an SQLite file or a PostgreSQL database "
        f"(got the engine {_db['ENGINE']})."
    )
DATABASES = {"default": _db}
# Threads answering pages in the server (frontdesk/wsgi.py); no more than pooled connections
# (DATABASE_POOL_SIZE), so no page waits for one.
SERVER_THREADS = env_int("SERVER_THREADS", 8, minimum=1, maximum=200)
# Flow boards one server process keeps live with an event stream, each holding a thread of its
# own beside SERVER_THREADS (and no pooled connection); a board opened beyond them polls.
FLOW_STREAMS = env_int("FLOW_STREAMS", 8, minimum=0, maximum=200)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
DATABASE_VENDOR = "sqlite" if _db["ENGINE"].endswith("sqlite3") else "postgresql"

# --- Accounts, passwords, lockout, two-factor ----------------------------------------------
AUTH_USER_MODEL = "accounts.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "frontdesk.accounts.backends.StaffBackend",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"

# Sign-in throttling (docs/operations.md, "Sign-in throttling"). Failures slow down one
# username from one address, or on one known device, by a delay that doubles, instead of locking
# the account: an attacker elsewhere cannot keep its owner out (accounts/throttle.py).
SIGN_IN_DELAY_AFTER = 5
SIGN_IN_FIRST_DELAY = timedelta(minutes=1)
SIGN_IN_LONGEST_DELAY = timedelta(minutes=30)
# A door's failures are forgotten a day after its last one (a success forgets them at once).
SIGN_IN_FAILURES_FORGOTTEN_AFTER = timedelta(hours=24)
# The user is told at their next sign-in, and administrators are alerted, at this many failures.
SIGN_IN_ALERT_AFTER = 5
# A browser where a username signed in fully is "known" for it this long (a signed cookie).
KNOWN_DEVICE_MAX_AGE = timedelta(days=30)
# django-axes keeps the hard limit per address across usernames (username cycling): this many
# failed passwords from browsers not known for the username typed shut the address for an hour.
AXES_LOCKOUT_PARAMETERS = ["ip_address"]
AXES_FAILURE_LIMIT = env_int("SIGN_IN_ADDRESS_LIMIT", 50, minimum=5, maximum=100_000)
AXES_COOLOFF_TIME = timedelta(hours=1)
AXES_WHITELIST_CALLABLE = "frontdesk.accounts.throttle.axes_known_device"
AXES_LOCKOUT_CALLABLE = "frontdesk.accounts.views.locked_out"
# One account signing in must not wipe an address's failures (an attacker with any valid
# account could otherwise reset the limit at will).
AXES_RESET_ON_SUCCESS = False
AXES_VERBOSE = False
# django-otp's own throttle counts wrong codes per authenticator from anywhere, so anyone with
# the password could keep its owner out; two-step codes go through SignInThrottle instead.
OTP_TOTP_THROTTLE_FACTOR = 0
OTP_STATIC_THROTTLE_FACTOR = 0

OTP_TOTP_ISSUER = env_str("OTP_ISSUER", "Frontdesk")

# Messages often name a patient: they wait in the session (server side), never in a cookie,
# which is signed but readable by anyone who has it.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
SESSION_IDLE_TIMEOUT = env_minutes("SESSION_IDLE_MINUTES", 15)
# How long "break the glass" access to a restricted record lasts.
BREAK_GLASS_DURATION = env_minutes("BREAK_GLASS_MINUTES", 60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_AGE = 12 * 60 * 60  # a working day; idle timeout ends it much sooner
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# Script cannot read the token from the cookie: pages carry it (base.html's csrf-token meta),
# so a script that ever ran from an uploaded file could not forge a POST with it.
CSRF_COOKIE_HTTPONLY = True

# --- Clinic ------------------------------------------------------------------------------------
USE_TZ = True
TIME_ZONE = "UTC"  # stored and computed in UTC; shown in the clinic's zone
CLINIC_TIME_ZONE = env_time_zone("CLINIC_TIME_ZONE", "America/New_York")
CLINIC_NAME = env_str("CLINIC_NAME", "Frontdesk Demo Clinic")
# Patient accounts: the currency amounts are shown in (ISO 4217 code).
CLINIC_CURRENCY = env_str("CLINIC_CURRENCY", "USD")
# A cancellation this close to the start is flagged late.
LATE_CANCELLATION_WINDOW = env_minutes("LATE_CANCELLATION_MINUTES", 24 * 60)
# A booked appointment with no arrival this long after its end becomes a no-show.
NO_SHOW_AFTER = env_minutes("NO_SHOW_AFTER_MINUTES", 60)
# Freed time is offered to this many waitlisted patients at once; the first to accept gets it.
WAITLIST_OFFERS_AT_ONCE = env_int("WAITLIST_OFFERS_AT_ONCE", 3, minimum=1, maximum=20)
# How long a waitlist offer's link stays open before the time goes to the next patients.
WAITLIST_OFFER_TTL = env_minutes("WAITLIST_OFFER_MINUTES", 120)
PHONE_REGION = env_str("PHONE_REGION", "US")
DATE_INPUT_ORDER = env_choice("DATE_INPUT_ORDER", "MDY", ("MDY", "DMY"))
LANGUAGE_CODE = "en-us"
USE_I18N = True

# --- Email -------------------------------------------------------------------------------------
EMAIL_HOST = env_str("EMAIL_HOST", "127.0.0.1")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1, maximum=65535)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "frontdesk@clinic.invalid")

# --- Demo mode ---------------------------------------------------------------------------------
# `make run` sets it: patients' emails and texts go to the demo outbox (a table, shown to staff at
# /demo/outbox/) instead of the network. Never true in production: nothing would reach patients.
FRONTDESK_DEMO = env_bool("FRONTDESK_DEMO", False)

# --- Redis (optional) --------------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL and not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
    raise ImproperlyConfigured(
        f"REDIS_URL must start with redis://, rediss:// or unix:// (got {REDIS_URL!r})."
    )

# --- Patient messages, reminders, the background queue ---------------------------------------
# Text messages go through a JSON-over-HTTP provider; empty means texts are refused clearly.
SMS_PROVIDER_URL = env_str("SMS_PROVIDER_URL", "")
if SMS_PROVIDER_URL and not SMS_PROVIDER_URL.startswith(("https://", "http://")):
    raise ImproperlyConfigured(
        f"SMS_PROVIDER_URL must start with https:// or http:// (got {SMS_PROVIDER_URL!r})."
    )
SMS_PROVIDER_TOKEN = env_str("SMS_PROVIDER_TOKEN", "")
# How long a confirm/cancel link sent to a patient stays valid (it must outlive the earliest
# reminder, 72 hours by default).
PATIENT_LINK_MAX_AGE = timedelta(
    hours=env_int("PATIENT_LINK_MAX_AGE_HOURS", 14 * 24, minimum=1, maximum=90 * 24)
)
# How long an administrator's invitation to a new member of staff (set your own password) lasts.
STAFF_INVITE_MAX_AGE = timedelta(
    hours=env_int("STAFF_INVITE_MAX_AGE_HOURS", 72, minimum=1, maximum=14 * 24)
)
# Links in emails and texts are absolute: the address patients reach this server at.
PUBLIC_BASE_URL = env_str("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
if not PUBLIC_BASE_URL.startswith(("https://", "http://")):
    raise ImproperlyConfigured(
        f"PUBLIC_BASE_URL must start with https:// or http:// (got {PUBLIC_BASE_URL!r})."
    )
# The queue (huey): Redis when REDIS_URL is set, else an SQLite file under var/. Tests run
# tasks immediately, in memory; `frontdesk worker` runs the consumer.
HUEY: dict[str, object] = {
    "name": "frontdesk",
    "immediate": TESTING,
    "consumer": {
        "workers": env_int("WORKER_THREADS", 2, minimum=1, maximum=64),
        "worker_type": "thread",
        "periodic": True,
    },
}
if REDIS_URL:
    HUEY.update({"huey_class": "huey.RedisHuey", "url": REDIS_URL})
else:
    HUEY.update({"huey_class": "huey.SqliteHuey", "filename": str(VAR_DIR / "queue.sqlite3")})

# --- Audit trail: the chain's signing key and checkpoints kept outside the database ----------
# See docs/operations.md ("Protecting the audit trail"). The key itself is read by
# frontdesk.audit.keys (AUDIT_HMAC_KEY, else the file, generated once with mode 600), so a
# rotation of the file is picked up without a restart.
AUDIT_HMAC_KEY = env_str("AUDIT_HMAC_KEY", "")
if AUDIT_HMAC_KEY:
    audit_key_check("AUDIT_HMAC_KEY", AUDIT_HMAC_KEY)
AUDIT_HMAC_KEY_FILE = Path(env_str("AUDIT_HMAC_KEY_FILE", str(VAR_DIR / "audit_key")))
AUDIT_HMAC_OLD_KEYS = [
    audit_key_check("AUDIT_HMAC_OLD_KEYS", key) for key in env_list("AUDIT_HMAC_OLD_KEYS", [])
]
AUDIT_HMAC_OLD_KEYS_FILE = Path(
    env_str("AUDIT_HMAC_OLD_KEYS_FILE", str(VAR_DIR / "audit_old_keys"))
)
# Tests write no checkpoints unless a test points them at its own file: a file shared by test
# databases would report every fresh chain as truncated.
AUDIT_CHECKPOINT_TARGETS = parse_checkpoint_targets(
    "AUDIT_CHECKPOINT_TARGET",
    env_list(
        "AUDIT_CHECKPOINT_TARGET",
        ["none"] if TESTING else [f"file:{VAR_DIR / 'audit-checkpoints.log'}"],
    ),
)
AUDIT_CHECKPOINT_MINUTES = env_int("AUDIT_CHECKPOINT_MINUTES", 5, minimum=1, maximum=60)
# --- The outbox (every message sent to a patient) -------------------------------------------
# Seconds an SMTP connection waits on the mail server before giving up (Django's EMAIL_TIMEOUT;
# unset it waits forever, so a hanging server would hold the worker).
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30, minimum=1, maximum=600)
# Attempts before a message that keeps failing is parked for an administrator to look at.
OUTBOX_MAX_ATTEMPTS = env_int("OUTBOX_MAX_ATTEMPTS", 8, minimum=1, maximum=50)
# How long a worker holds a message it is sending; past it, the outcome is unknown and the
# message is sent again with the same Message-ID / idempotency key. Must outlive a send.
OUTBOX_LEASE = env_minutes("OUTBOX_LEASE_MINUTES", 5)
if OUTBOX_LEASE.total_seconds() < 4 * EMAIL_TIMEOUT:
    raise ImproperlyConfigured(
        "OUTBOX_LEASE_MINUTES must be at least four times EMAIL_TIMEOUT, so a send still in "
        "progress is not taken for a lost one."
    )

# --- Patient flow ------------------------------------------------------------------------------
# Minutes in a status after which the flow board shows a card amber, then red.
FLOW_THRESHOLDS = parse_thresholds(env_str("FLOW_THRESHOLDS", thresholds.DEFAULT))
# The nightly eligibility batch (eligibility/tasks.py) runs at this hour, UTC: before the
# earliest clinic opens (06 UTC is 01:00 in New York, 22:00 the day before in Los Angeles).
ELIGIBILITY_BATCH_HOUR = env_int("ELIGIBILITY_BATCH_HOUR", 6, minimum=0, maximum=23)
# A signed consent to treatment older than this is asked for again at check-in.
CONSENT_VALID_DAYS = env_int("CONSENT_VALID_DAYS", 365, minimum=1, maximum=3650)
# An emergency nobody (nurse or physician) acknowledged this long is escalated to the supervisor.
EMERGENCY_ESCALATE_MINUTES = env_int("EMERGENCY_ESCALATE_MINUTES", 2, minimum=1, maximum=30)

# --- Static files --------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
# Uploaded files (insurance cards, scanned documents) are PHI: never served as static files,
# only through views that check the policy and write an audit event.
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "/media-not-public/"
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024
# The largest request body Frontdesk accepts: two insurance card images of at most 10 MB each
# and their form. Larger is answered 413 with a page in words (middleware.BodyTooLargeMiddleware).
REQUEST_BODY_MAX_BYTES = 32 * 1024 * 1024
# The server's hard stop (waitress, frontdesk/wsgi.py): a body over this is refused with
# waitress's plain 413, unread. Twice the limit above, so an upload that is a little too large
# (a third scan, a photo too many) is read and gets the page in words.
SERVER_BODY_MAX_BYTES = 2 * REQUEST_BODY_MAX_BYTES
# The largest document (a scan, a letter, outside records) the desk may file, in megabytes;
# several uploaded at once share REQUEST_BODY_MAX_BYTES.
DOCUMENT_MAX_MB = env_int("DOCUMENT_MAX_MB", 20, minimum=1, maximum=30)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = TESTING
# Tests: a file is looked up when asked for, not every static file listed when a test client
# loads the middleware (3-13 ms per client, thousands of clients per run); the sources then
# win over a collected copy left in STATIC_ROOT.
WHITENOISE_AUTOREFRESH = TESTING
(STATIC_ROOT).mkdir(parents=True, exist_ok=True)

# --- Security headers --------------------------------------------------------------------------
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if env_bool("BEHIND_HTTPS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # Plain HTTP gets a redirect to HTTPS and browsers are told to use HTTPS only (HSTS). The
    # health check is exempt: load balancers call it over plain HTTP inside the network.
    SECURE_SSL_REDIRECT = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = env_int(
        "HSTS_SECONDS", 365 * 24 * 60 * 60, minimum=0, maximum=2 * 365 * 24 * 60 * 60
    )
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("HSTS_INCLUDE_SUBDOMAINS", True)
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# --- Logging: no PHI. Uvicorn's access log is off (it would print search terms in query
# strings); AccessLogMiddleware logs method, path without query, status and user id. ---------
# A signed link's token is written as <token> in every line (lib/redaction.py): the filter
# sits on the handler, and on Django's loggers that write a request's path, so the record itself
# is redacted before any handler sees it.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_secrets": {"()": "frontdesk.lib.redaction.RedactSecretsFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["redact_secrets"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.request": {"level": "ERROR", "filters": ["redact_secrets"]},
        "django.security.csrf": {"filters": ["redact_secrets"]},
        "django.server": {"filters": ["redact_secrets"]},
        "axes": {"level": "WARNING"},
        # WeasyPrint says each step of every PDF it renders (and of its own style sheet at
        # import) at INFO; its warnings and errors are what matter.
        "weasyprint": {"level": "WARNING"},
        # Given a handler here, `frontdesk worker` does not add its own (no doubled lines).
        # At INFO huey writes two lines per task every minute; warnings and errors by default.
        "huey": {
            "handlers": ["console"],
            "level": env_str("WORKER_LOG_LEVEL", "WARNING"),
            "propagate": False,
        },
    },
}
