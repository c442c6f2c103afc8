"""Django settings, derived from the typed table in `reliefops.env`."""

from __future__ import annotations

import datetime as dt
import os
import secrets
import sys
from typing import Any

import dj_database_url
from django.core.checks.security.base import (
    SECRET_KEY_INSECURE_PREFIX,
    SECRET_KEY_MIN_LENGTH,
    SECRET_KEY_MIN_UNIQUE_CHARACTERS,
)

from reliefops.core.logs import SUSPICIOUS_REQUEST_LOGGERS
from reliefops.env import VAR_DIR, env, environment_problems, refuse_to_start

# How to make a key, as the refusal of a missing or weak one says.
_HOW_TO_MAKE_A_KEY = "python3 -c 'import secrets; print(secrets.token_urlsafe(50))'"


def _weakness(key: str) -> str | None:
    """Why Django's deployment check (security.W009) would call a secret key insecure, or None."""
    if key.startswith(SECRET_KEY_INSECURE_PREFIX):
        return f"it starts with {SECRET_KEY_INSECURE_PREFIX!r}, the mark of a key made for development"
    if len(key) < SECRET_KEY_MIN_LENGTH:
        return f"it is shorter than {SECRET_KEY_MIN_LENGTH} characters"
    if len(set(key)) < SECRET_KEY_MIN_UNIQUE_CHARACTERS:
        return f"it uses fewer than {SECRET_KEY_MIN_UNIQUE_CHARACTERS} different characters"
    return None


def _refusals() -> list[str]:
    """Every reason the environment cannot start reliefops: a variable that does not parse or is
    out of its range, an unknown RELIEFOPS_ENV, and in production a missing or weak SECRET_KEY and a
    missing ALLOWED_HOSTS or one of '*'. All are named at once, so that the operator mends them in one go."""
    problems = environment_problems()
    if problems:
        return problems
    environment = env("RELIEFOPS_ENV")
    if environment not in {"development", "production"}:
        return [f"RELIEFOPS_ENV must be 'development' or 'production', not {environment!r}"]
    if environment == "production":
        key = env("SECRET_KEY")
        if not key:
            problems.append(
                f"SECRET_KEY must be set when RELIEFOPS_ENV=production (make one with: {_HOW_TO_MAKE_A_KEY})"
            )
        elif weakness := _weakness(str(key)):
            problems.append(
                f"SECRET_KEY is too weak for production: {weakness}; make one with: {_HOW_TO_MAKE_A_KEY}"
            )
        if not os.environ.get("ALLOWED_HOSTS", "").strip() or not env("ALLOWED_HOSTS"):
            problems.append("ALLOWED_HOSTS must be set when RELIEFOPS_ENV=production")
        elif "*" in env("ALLOWED_HOSTS"):
            # '*' answers any Host: an address built from a forged Host (a redirect) could name another site.
            problems.append(
                "ALLOWED_HOSTS must name this server (e.g. relief.example.org) when "
                "RELIEFOPS_ENV=production, not '*', which lets any Host through"
            )
    return problems


if _refused := _refusals():
    refuse_to_start(_refused)

ENVIRONMENT: str = env("RELIEFOPS_ENV")
PRODUCTION = ENVIRONMENT == "production"
TESTING = "pytest" in sys.modules

DEBUG: bool = env("DEBUG") and not PRODUCTION


# The var folder holds the SQLite database (the families' personal data), the development secret
# key, uploads held for their preview and side files: a new one is made readable by its owner alone
# (one that exists keeps the permissions it has).
VAR_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)


def _secret_key() -> str:
    key = env("SECRET_KEY")
    if key:
        return str(key)
    # Development (production refused a missing key above): a random key kept beside the database,
    # never a constant in the code.
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()

ALLOWED_HOSTS: list[str] = env("ALLOWED_HOSTS")
if TESTING:
    ALLOWED_HOSTS = [*ALLOWED_HOSTS, "testserver"]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    # `runserver` (make demo) leaves style sheets and scripts to whitenoise, as gunicorn does, so
    # that they are compressed and cached alike
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "ninja",  # serves the API docs' Swagger UI from its own static files, not from a CDN
    "django_tasks",
    "django_tasks_db",  # background jobs queued in the database: no broker to install
    "reliefops.core",
    # after core, whose admin/base_site.html (the admin's pages with the web app's icon) it uses
    "django.contrib.admin",
    "reliefops.places",
    "reliefops.partners",
    "reliefops.catalog",
    "reliefops.stock",
    "reliefops.households",
    "reliefops.cluster",
    "reliefops.reports",
    "reliefops.web",
    "reliefops.scenarios",
    "reliefops.ops",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Pages, API answers, style sheets and scripts go compressed to a browser that takes gzip (a
    # fifth of the bytes over a hub's satellite link: the overview's HTML 67 KB -> 12 KB, Leaflet
    # 148 KB -> 43 KB). Above whitenoise, so that its files are compressed too, and above every
    # middleware that reads or rewrites a body. Django pads each compressed answer with random
    # bytes against BREACH; CSRF tokens are masked per answer and session cookies are SameSite.
    "django.middleware.gzip.GZipMiddleware",
    "reliefops.core.security.SecurityHeadersMiddleware",
    "reliefops.core.logs.RefusalReasonMiddleware",
    "reliefops.core.api_errors.ApiErrorsAsJsonMiddleware",
    "reliefops.core.security.ImpossibleValuesMiddleware",
    "reliefops.core.static.StaticFilesMiddleware",  # whitenoise's, its table of files made once
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "reliefops.core.security.SessionExpiryMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "reliefops.urls"
WSGI_APPLICATION = "reliefops.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "reliefops.web.context.navigation",
            ],
        },
    },
]


def _database() -> dict[str, Any]:
    url = env("DATABASE_URL")
    if url:
        config: dict[str, Any] = dict(dj_database_url.parse(url, conn_max_age=60))
        if config["ENGINE"] == "django.db.backends.sqlite3":
            return _sqlite(config["NAME"])
        config["TEST"] = {"NAME": f"test_{config['NAME']}{env('RELIEFOPS_TEST_DB_SUFFIX')}"}
        # A transaction-mode pooler keeps neither prepared statements nor server-side cursors.
        config["DISABLE_SERVER_SIDE_CURSORS"] = env("RELIEFOPS_PG_TRANSACTION_POOLER")
        return config
    return _sqlite(str(VAR_DIR / "reliefops.sqlite3"))


def _sqlite(name: str) -> dict[str, Any]:
    # WAL lets readers run beside the writer; synchronous=FULL makes a commit survive a power cut;
    # IMMEDIATE takes the write lock at BEGIN, so two writers queue instead of deadlocking.
    # Django's SQLite backend, creating a new database file readable by its owner alone.
    return {
        "ENGINE": "reliefops.core.sqlite",
        "NAME": name,
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "timeout": env("RELIEFOPS_SQLITE_BUSY_TIMEOUT"),
            "init_command": ("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"),
        },
        "TEST": {"NAME": str(VAR_DIR / f"test{env('RELIEFOPS_TEST_DB_SUFFIX')}.sqlite3")},
    }


DATABASES = {"default": _database()}

# Long jobs (imports, duplicate searches) are queued in the database and run by
# `reliefops jobs worker`; core.jobs keeps a progress record per job (docs/decisions/0008).
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# The organisation whose ledger this is, as the dashboard and the sitrep name it.
OPERATING_ORGANISATION: str = env("RELIEFOPS_ORGANISATION")
# The operation's first day: no household is registered before it.
OPERATION_START: dt.date = env("RELIEFOPS_OPERATION_START")

LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "web:login"
# Django's database sessions, noting a save that found SQLite locked (answered 503, not 400).
SESSION_ENGINE = "reliefops.core.sessions"
SESSION_COOKIE_AGE: int = env("RELIEFOPS_SESSION_AGE")
SESSION_IDLE_TIMEOUT: int = env("RELIEFOPS_SESSION_IDLE")
LOGIN_MAX_FAILURES: int = env("RELIEFOPS_LOGIN_MAX_FAILURES")
LOGIN_MAX_FAILURES_PER_IP: int = env("RELIEFOPS_LOGIN_MAX_FAILURES_PER_IP")
LOGIN_LOCKOUT_SECONDS: int = env("RELIEFOPS_LOGIN_LOCKOUT")
IMPORT_MAX_BYTES: int = env("RELIEFOPS_IMPORT_MAX_BYTES")
IMPORT_MAX_ROWS: int = env("RELIEFOPS_IMPORT_MAX_ROWS")
IMPORT_MAX_CELL: int = env("RELIEFOPS_IMPORT_MAX_CELL")
CLUSTER_PARALLEL_READ_BYTES: int = env("RELIEFOPS_IMPORT_SPLIT_BYTES")
IMPORT_MAX_UNZIPPED: int = env("RELIEFOPS_IMPORT_MAX_UNZIPPED")
IMPORT_MAX_ZIP_RATIO: int = env("RELIEFOPS_IMPORT_MAX_ZIP_RATIO")
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Behind a TLS-terminating proxy (production), its X-Forwarded-Proto and X-Forwarded-For are trusted.
TRUSTED_PROXY: bool = PRODUCTION and env("RELIEFOPS_BEHIND_PROXY")
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env("RELIEFOPS_HSTS_SECONDS")
    SECURE_SSL_REDIRECT = env("RELIEFOPS_SSL_REDIRECT")
    # A monitor on the server itself asks gunicorn for /healthz over plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    if TRUSTED_PROXY:
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Asia/Karachi"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Collected files (`reliefops collectstatic`) would go here; the app serves assets from the apps.
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Assets are served by the app itself (field hubs are offline); whitenoise finds them in the apps.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
LOG_DATE_FORMAT = "%Y-%m-%dT%H:%M:%S%z"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # A refusal (403) is logged as one line, who, where and why, and so is a request refused as
    # suspicious (an unknown Host); errors keep their traceback.
    "filters": {
        "refusal_on_one_line": {"()": "reliefops.core.logs.RefusalOnOneLine"},
        "suspicious_request_on_one_line": {"()": "reliefops.core.logs.SuspiciousRequestOnOneLine"},
        # A search typed in a list (a name, an identity number) is in the address: not in the log.
        "query_strings_left_out": {"()": "reliefops.core.logs.QueryStringsLeftOut"},
    },
    # Every line starts with its time (with its offset from UTC), level and logger, on standard
    # error, which journald keeps as it is: "2026-11-30T18:17:41+0500 WARNING reliefops.auth: ...".
    "formatters": {"timed": {"format": LOG_FORMAT, "datefmt": LOG_DATE_FORMAT}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "timed"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "reliefops": {"level": "INFO"},
        "django.request": {"filters": ["refusal_on_one_line"]},
        # The development server's request lines, in the same format as every other line.
        "django.server": {
            "handlers": ["console"],
            "level": "INFO",
            "propagate": False,
            "filters": ["query_strings_left_out"],
        },
        **{name: {"filters": ["suspicious_request_on_one_line"]} for name in SUSPICIOUS_REQUEST_LOGGERS},
    },
}
