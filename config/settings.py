"""Coachdesk settings: one module, driven by the environment (and an optional .env).

Production-safe by default: DEBUG off, secure cookies, HSTS, CSP. SECRET_KEY and
EMAIL_URL have no default; a missing or malformed value stops start-up.
"""

from __future__ import annotations

from email.utils import parseaddr
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from config.mail import mailers_from_url
from config.privacy import SMALLEST_GROUP_SIZE

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# The quick start's .env (written by scripts/demo.sh: DEBUG on, console email).
# Tests and CI never read it (READ_DOT_ENV=false in pyproject.toml's pytest
# environment and in scripts/test.sh), so `make demo` then `make test` in one clone
# checks the real defaults. Variables already in the environment always win.
if env.bool("READ_DOT_ENV", default=True):
    environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    # The admin's default site is django-otp's OTPAdminSite (verified staff only).
    "accounts.apps.CoachdeskAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_otp",
    "django_ratelimit",
    "import_export",
    "django_tasks_db",
    "accounts",
    "coaches",
    "engagements",
    "feedback",
    "scheduling",
    "nudges",
    "reports",
]

MIDDLEWARE = [
    "config.observability.RequestIdMiddleware",
    "config.observability.RejectNulBytesMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    # Before anything reads the body, below the middleware that add security headers.
    "config.limits.RequestBodyLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "config.caching.PrivatePagesNotStoredMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.CachedOTPMiddleware",
    "accounts.middleware.ActiveUserMiddleware",
    "accounts.middleware.SessionExpiryMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Inside auth and messages, so the page it fills in shows the signed-in header.
    "config.error_pages.BrandedErrorPageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

# The test configuration turns on django-zeal (a dev dependency, never installed
# in production): any N+1 query pattern in a request or a test raises.
if env.bool("ZEAL", default=False):
    INSTALLED_APPS.append("zeal")
    MIDDLEWARE.insert(0, "zeal.middleware.zeal_middleware")
    ZEAL_RAISE = True
    ZEAL_ALLOWLIST = [
        # Engagements are read with .get() only to lock one row for a write
        # (select_for_update in the services). The admin's actions apply to the
        # selection one engagement at a time on purpose: each change is its own
        # lock, compare-and-set and audit event.
        {"model": "engagements.Engagement", "field": "get()"},
        # The same for sessions: the admin's "Void" applies session_void to each
        # selected session, which locks that session's row.
        {"model": "engagements.CoachingSession", "field": "get()"},
    ]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
            ],
            "libraries": {"print_tags": "config.print_tags"},
        },
    },
    {
        # Plain text (email subjects and text parts): nothing is HTML-escaped, so
        # "R&D" stays "R&D" and a link keeps its "&". Only accounts/emails.py
        # renders with it; every page and HTML part uses the engine above.
        "NAME": "text",
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {"autoescape": False},
    },
]

# Database: PostgreSQL in production and CI, SQLite for the one-process quick start.
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'coachdesk.sqlite3'}")
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE takes the write lock at BEGIN, so two write transactions queue
    # instead of failing half-way with "database is locked".
    DATABASES["default"]["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20}
    USING_SQLITE = True
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    # No health check (a SELECT 1 round trip) at the start of every request: a
    # connection that failed is marked unusable by the error and closed at the
    # end of that request, and CONN_MAX_AGE renews every connection anyway.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = False
    # JIT off for our connections: these are short OLTP queries, and a large cost
    # estimate (the program report's coach query) made PostgreSQL spend about 1 s
    # compiling one that runs in milliseconds (README, "Performance").
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
    USING_SQLITE = False

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://coachdesk")}
SILENCED_SYSTEM_CHECKS: list[str] = []
if CACHES["default"]["BACKEND"].endswith("LocMemCache") and (USING_SQLITE or DEBUG):
    # The quick start (SQLite, or runserver with DEBUG on any database) is a
    # single process, so a per-process cache is shared by every request;
    # django-ratelimit cannot know that and refuses it. Production (DEBUG off,
    # PostgreSQL) always gets these checks, and they must pass.
    SILENCED_SYSTEM_CHECKS += ["django_ratelimit.E003", "django_ratelimit.W001"]

MAILERS = mailers_from_url(env.str("EMAIL_URL"))

# Every email goes through Django's Tasks framework into a PostgreSQL (or, for
# the quick start, SQLite) table, in the same transaction as the change it
# reports; `manage.py db_worker` sends them (docs/architecture.md, "Email").
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# A failed send is tried again after 30 s, 1, 2, 4 minutes...; after the last
# attempt it stays "failed" in the admin (Task results).
EMAIL_MAX_ATTEMPTS = env.int("EMAIL_MAX_ATTEMPTS", default=6)
EMAIL_RETRY_BASE_SECONDS = env.int("EMAIL_RETRY_BASE_SECONDS", default=30)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Coachdesk <hello@coachdesk.test>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# The right-hand side of every Message-ID: the sending domain (from DEFAULT_FROM_EMAIL
# unless set), never the machine's own name, which is "localhost" in most containers.
_local_part, _at, _sending_domain = parseaddr(DEFAULT_FROM_EMAIL)[1].rpartition("@")
EMAIL_MESSAGE_ID_DOMAIN = env.str("EMAIL_MESSAGE_ID_DOMAIN", default=_sending_domain if _at else "")
if not EMAIL_MESSAGE_ID_DOMAIN:
    raise ImproperlyConfigured(
        "DEFAULT_FROM_EMAIL must be an address such as 'Coachdesk <hello@example.com>' "
        "(or set EMAIL_MESSAGE_ID_DOMAIN)."
    )

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "/login/"
# Sign-in sets each session's lifetime by role (30 days, or 30 idle minutes for
# coaches, sponsors and staff). A session is saved only when it changed:
# accounts/sessions.py slides an idle timeout at most once a minute.
SESSION_SAVE_EVERY_REQUEST = False
# Signed-in requests read their session and their user from the shared cache,
# not the database (accounts/session_store.py, accounts/backends.py). Django's
# plain ModelBackend stays listed so sessions signed in before still verify.
SESSION_ENGINE = "accounts.session_store"
AUTHENTICATION_BACKENDS = [
    "accounts.backends.CachedUserBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# The client address: REMOTE_ADDR, or this request.META key when a trusted
# proxy overwrites it (for example HTTP_X_REAL_IP). Never a header clients set.
CLIENT_IP_HEADER = env.str("CLIENT_IP_HEADER", default="")
# /healthz answers 503 when the oldest email waiting to be sent is older than this.
HEALTHZ_QUEUE_MAX_AGE_SECONDS = env.int("HEALTHZ_QUEUE_MAX_AGE_SECONDS", default=300)
# An incoming X-Request-ID is kept only when our own proxy sets it (and
# overwrites any a client sent); otherwise every request gets a fresh id.
TRUST_REQUEST_ID_HEADER = env.bool("TRUST_REQUEST_ID_HEADER", default=False)

# Booking webhooks (scheduling/hooks.py): deliveries per coach's endpoint, counted in
# the shared cache; over it the answer is 429 and the provider retries later. A
# program's busiest coach gets a few bookings an hour; 120 a minute only stops floods.
BOOKING_HOOK_RATE = env.str("BOOKING_HOOK_RATE", default="120/m")
# The largest webhook body taken (413 above it, before it is read): real
# deliveries are a few KB.
BOOKING_HOOK_MAX_BODY = 256 * 1024
# Paths with a body limit of their own, by prefix (config/limits.py).
REQUEST_BODY_LIMITS_BY_PATH = {"/hooks/": BOOKING_HOOK_MAX_BODY}

# Sign-in limits (accounts/limits.py), counted in the shared cache. The flood
# guard per client address is coarse on purpose: its default lets 1,000 people
# behind one office address each ask for a code and sign in within an hour, with
# room for a second try. Per email address (counted per client address) is the
# real limit. Checking codes is limited per pending sign-in in the database.
SIGNIN_CLIENT_ADDRESS_RATE = env.str("SIGNIN_CLIENT_ADDRESS_RATE", default="3000/h")
SIGNIN_ADDRESS_RATE = env.str("SIGNIN_ADDRESS_RATE", default="5/15m")
# Fail closed: when Redis cannot be reached, asking for a code answers a 503
# "sign-in is briefly unavailable" page instead of skipping the limits. Failing
# open would let anyone email codes without limit (inbox flooding, and a queue
# that grows without bound) for as long as Redis is down, and an attacker who
# can overload Redis would switch the limits off. Signed-in people are not
# affected (sessions are in PostgreSQL), and checking a code needs no cache.
RATELIMIT_FAIL_OPEN = False

# No average shown outside staff (coaches, sponsors) describes fewer answers than
# this, and each changes only once this many new answers are in; an organization
# may set its own (docs/architecture.md, "Private fields and group sizes").
_min_group_size = env.str("MIN_GROUP_SIZE", default="5")
if not _min_group_size.isdigit() or int(_min_group_size) < SMALLEST_GROUP_SIZE:
    raise ImproperlyConfigured(
        f"MIN_GROUP_SIZE must be a whole number of at least {SMALLEST_GROUP_SIZE}, "
        f"not {_min_group_size!r}: with fewer answers one person's could be worked out."
    )
MIN_GROUP_SIZE = int(_min_group_size)

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
# Request bodies. The largest legitimate ones are a coach photo (at most 2 MB,
# coaches/photos.py) and an admin CSV import. RequestBodyLimitMiddleware answers
# 413 to a declared Content-Length over REQUEST_BODY_MAX_SIZE (multipart) or
# DATA_UPLOAD_MAX_MEMORY_SIZE (anything else) without reading it; set the proxy's
# limit to the same 5 MB (README, "Running it in production").
REQUEST_BODY_MAX_SIZE = 5 * 1024 * 1024
# Form fields without files: a coach bio, session notes, a program's coach pool
# in the admin. 1 MB is many times the largest and bounds what is parsed in memory.
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
# Uploads within the body limit stay in memory: no temporary file is ever
# written for a request, and a worker holds at most 5 MB of upload at a time.
FILE_UPLOAD_MAX_MEMORY_SIZE = REQUEST_BODY_MAX_SIZE
# The longest form is a program's coach pool in the admin, one field per coach
# (35 in a typical program); 1,000 keeps it and bounds the parsing work.
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000
# One file per request: the profile photo or one CSV to import.
DATA_UPLOAD_MAX_NUMBER_FILES = 1
# The admin's import keeps the uploaded file between its two steps (check, then
# confirm) in the shared cache (Redis in production), so the confirming request
# may land on any web process.
IMPORT_EXPORT_TMP_STORAGE_CLASS = "import_export.tmp_storages.CacheStorage"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if env.bool("STATIC_MANIFEST", default=True)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# Security: production values unless the environment says otherwise.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
if env.bool("TRUST_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    # A nonce'd <style> carries a printed report's running header (config/print_tags.py);
    # pages that use no nonce keep "style-src 'self'" alone.
    "style-src": [CSP.SELF, CSP.NONCE],
    "script-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "config.observability.RequestIdFilter"}},
    "formatters": {"json": {"()": "config.observability.JsonFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": "json",
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
