"""Settings, all read from the environment here and nowhere else."""

import importlib.util
import os
import re
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config import database
from config.env import (
    env_bool,
    env_choice,
    env_float,
    env_int,
    env_level,
    env_list,
    env_optional_float,
    env_str,
    env_url,
    installation_secret_key,
    smtp_url,
)

BASE_DIR = Path(__file__).resolve().parent.parent


DEBUG = env_bool("DJANGO_DEBUG", False)
DEVELOPMENT_SECRET_KEY = "insecure-dev-key-change-me-in-production"
SECRET_KEY = env_str("DJANGO_SECRET_KEY").strip()  # checked below, once DATA_DIR is known
# Encrypts inline notification secrets at rest (Fernet); defaults to one derived from SECRET_KEY.
SECRETS_KEY = env_str("SECRETS_KEY").strip()
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")

INSTALLED_APPS = [
    # The admin without start-up discovery: config/urls.py calls admin.autodiscover(), so only
    # processes that serve pages import every app's admin module (commands start faster).
    "django.contrib.admin.apps.SimpleAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "apps.common",
    "apps.alerts",
    "apps.checkers",
    "apps.intelligence",
    "apps.notify",
    "apps.hosts",
    "apps.orchestration",
    "apps.console",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",  # answers HEAD for static files itself
    "apps.common.middleware.HeadAsGetMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

# --- HTTPS, behind a reverse proxy that terminates TLS and sets X-Forwarded-Proto -----------
HTTPS = env_bool("DJANGO_HTTPS", False)
SECURE_SSL_REDIRECT = env_bool("DJANGO_SSL_REDIRECT", HTTPS)
# Load balancers and Prometheus ask these over plain HTTP on the private side.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]
if env_bool("DJANGO_TRUST_X_FORWARDED_PROTO", HTTPS):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 31_536_000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", HTTPS)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", False)
# Preloading is the domain owner's decision (hard to undo), not this application's.
SILENCED_SYSTEM_CHECKS = ["security.W021"]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

# django-ninja's own templates and assets serve the OpenAPI page offline (no CDN). Found without
# importing ninja, which is slow: it is not an installed app, to keep start-up fast.
_ninja_spec = importlib.util.find_spec("ninja")
NINJA_DIR = Path(next(iter(_ninja_spec.submodule_search_locations or [])) if _ninja_spec else ".")

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [NINJA_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# SQLite (WAL) by default; DATABASE_URL=postgres://... for a fleet.
DATA_DIR = Path(env_str("DATA_DIR", str(BASE_DIR / "var")))
try:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    (DATA_DIR / "static").mkdir(exist_ok=True)
except OSError as _exc:
    raise ImproperlyConfigured(
        f"DATA_DIR {DATA_DIR} is not writable: {_exc.strerror or _exc}"
    ) from None
if not os.access(DATA_DIR, os.W_OK):
    raise ImproperlyConfigured(f"DATA_DIR {DATA_DIR} is not writable by this user")
# /healthz reports the disk as full below this much free space in DATA_DIR.
DATA_DIR_MIN_FREE_MB = env_float("DATA_DIR_MIN_FREE_MB", 50.0)
DATABASE_URL = env_url(
    "DATABASE_URL",
    f"sqlite:///{DATA_DIR / 'db.sqlite3'}",
    ("sqlite", "postgres", "postgresql", "pgsql"),
)
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}

# One machine on SQLite needs no set-up: without DJANGO_SECRET_KEY it keeps a random key of its
# own in DATA_DIR/secret-key (mode 0600). Several machines sharing PostgreSQL must share one key
# (sessions, and the key that seals notification secrets), so there it must be set.
if not SECRET_KEY and DEBUG:
    SECRET_KEY = DEVELOPMENT_SECRET_KEY
elif not SECRET_KEY and DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    SECRET_KEY = installation_secret_key(DATA_DIR / "secret-key")
if not DEBUG and (SECRET_KEY == DEVELOPMENT_SECRET_KEY or len(SECRET_KEY) < 32):
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY is unset, the development default or shorter than 32 characters: "
        "set a long random value, the same on every machine of a fleet (DJANGO_DEBUG=1 allows "
        "the default for development)"
    )
DATABASES["default"] = database.configured(DATABASES["default"], DATA_DIR)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The console signs people in with Django's sessions; the API uses keys instead.
LOGIN_URL = "console:login"
LOGIN_REDIRECT_URL = "console:now"
# Session and CSRF cookies only over HTTPS when the site is served so (set behind TLS).
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", HTTPS)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")
# How often the Now page refreshes itself (seconds).
CONSOLE_REFRESH_S = env_float("CONSOLE_REFRESH_S", 5.0)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [NINJA_DIR / "static"] if (NINJA_DIR / "static").is_dir() else []
# The admin's and the API docs' assets are served by the app itself (WhiteNoise), from the
# package folders: no collectstatic step and no separate web server needed.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# --- Outbound HTTP --------------------------------------------------------------------------
OUTBOUND_ALLOW_PRIVATE = env_bool("OUTBOUND_ALLOW_PRIVATE", False)
OUTBOUND_TIMEOUT_S = env_float("OUTBOUND_TIMEOUT_S", 10.0)

# --- Pipelines ------------------------------------------------------------------------------
PIPELINES_DIR = BASE_DIR / "pipelines"
PIPELINE_OUTPUT_MAX_BYTES = env_int("PIPELINE_OUTPUT_MAX_BYTES", 64 * 1024)

# --- Alerts ---------------------------------------------------------------------------------
INGEST_MAX_BODY_BYTES = env_int("INGEST_MAX_BODY_BYTES", 1024 * 1024)
INGEST_START_RUNS = env_bool("INGEST_START_RUNS", True)
# The definition an alert that matches no definition's `match` runs ("": the built-in pipeline).
WEBHOOK_DEFAULT_DEFINITION = env_str("WEBHOOK_DEFAULT_DEFINITION", "alert-triage")
# Fields of an alert that make its incident group key.
INCIDENT_GROUP_BY = env_list("INCIDENT_GROUP_BY", "name,host")

# --- Checkers -------------------------------------------------------------------------------
CHECKERS_SKIP = env_list("CHECKERS_SKIP", "")
CHECKERS_TIMEOUT_S = env_float("CHECKERS_TIMEOUT_S", 5.0)
# CHECK_<NAME>_WARNING / CHECK_<NAME>_CRITICAL for any check (a new check needs no line here).
CHECK_THRESHOLDS: dict[str, dict[str, float | None]] = {}
for _var in sorted(os.environ):
    _match = re.fullmatch(r"CHECK_([A-Z0-9_]+)_(WARNING|CRITICAL)", _var)
    if _match and os.environ[_var].strip():
        _check, _level = _match.group(1).lower(), _match.group(2).lower()
        CHECK_THRESHOLDS.setdefault(_check, {})[_level] = env_optional_float(_var)
CHECK_NETWORK_TARGETS = env_list("CHECK_NETWORK_TARGETS", "")
CHECK_PROCESS_NAMES = env_list("CHECK_PROCESS_NAMES", "")
CHECK_DISK_PATHS = env_list("CHECK_DISK_PATHS", "/")

# --- Host facts from Prometheus (node_exporter series); empty URL = not asked --------------
PROMETHEUS_URL = env_url("PROMETHEUS_URL")
PROMETHEUS_TIMEOUT_S = env_float("PROMETHEUS_TIMEOUT_S", 5.0)

# --- Hosts (the fleet) ----------------------------------------------------------------------
# This machine's name among the hosts (alerts naming it or an alias get psutil facts from here).
HOST_NAME = env_str("HOST_NAME") or __import__("socket").gethostname()
HOST_ALIASES = env_list("HOST_ALIASES", "")
# An agent snapshot older than this is not used as host facts.
HOST_SNAPSHOT_MAX_AGE_S = env_float("HOST_SNAPSHOT_MAX_AGE_S", 300.0)
# A host that reported and then stayed silent this long opens a "stopped reporting" incident.
HOST_SILENT_AFTER_S = env_float("HOST_SILENT_AFTER_S", 600.0)
# Snapshot history kept per host: at most this many, none older than this many days.
HOST_SNAPSHOTS_KEEP = env_int("HOST_SNAPSHOTS_KEEP", 50)
HOST_SNAPSHOTS_MAX_AGE_DAYS = env_float("HOST_SNAPSHOTS_MAX_AGE_DAYS", 7.0)
HOST_SNAPSHOT_MAX_BYTES = env_int("HOST_SNAPSHOT_MAX_BYTES", 256 * 1024)

# --- Cache (analyses are cached here: it must be shared by CLI, web and workers) ----------
# CACHE_URL: unset = files under DATA_DIR/cache (one machine), redis://host:6379/2 for a fleet,
# locmem:// for one process only.
CACHE_URL = env_str("CACHE_URL")
if CACHE_URL.startswith(("redis://", "rediss://")):
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
    }
elif CACHE_URL.startswith("locmem://"):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
elif CACHE_URL:
    raise ImproperlyConfigured("CACHE_URL must start with redis://, rediss:// or locmem://")
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(DATA_DIR / "cache"),
        }
    }

# --- Intelligence ---------------------------------------------------------------------------
# The names of apps.intelligence.providers.PROVIDERS (a test keeps the two the same).
INTELLIGENCE_PROVIDERS = ("local", "openai", "anthropic", "ollama")
INTELLIGENCE_DEFAULT_PROVIDER = env_choice("INTELLIGENCE_PROVIDER", "local", INTELLIGENCE_PROVIDERS)
INTELLIGENCE_TIMEOUT_S = env_float("INTELLIGENCE_TIMEOUT_S", 20.0)
INTELLIGENCE_MAX_RETRIES = env_int("INTELLIGENCE_MAX_RETRIES", 1)
INTELLIGENCE_CACHE_TTL_S = env_int("INTELLIGENCE_CACHE_TTL_S", 900)
INTELLIGENCE_PROMPT_MAX_CHARS = env_int("INTELLIGENCE_PROMPT_MAX_CHARS", 12000)
INTELLIGENCE_MAX_ALERTS_IN_PROMPT = env_int("INTELLIGENCE_MAX_ALERTS_IN_PROMPT", 20)
OPENAI_API_KEY = env_str("OPENAI_API_KEY")
OPENAI_MODEL = env_str("OPENAI_MODEL", "gpt-4o-mini")
OPENAI_BASE_URL = env_url("OPENAI_BASE_URL")
ANTHROPIC_API_KEY = env_str("ANTHROPIC_API_KEY")
ANTHROPIC_MODEL = env_str("ANTHROPIC_MODEL", "claude-3-5-haiku-latest")
ANTHROPIC_BASE_URL = env_url("ANTHROPIC_BASE_URL")
OLLAMA_HOST = env_str("OLLAMA_HOST")
OLLAMA_MODEL = env_str("OLLAMA_MODEL", "llama3.1")

# --- Notify ---------------------------------------------------------------------------------
NOTIFY_MAX_ATTEMPTS = env_int("NOTIFY_MAX_ATTEMPTS", 3)
NOTIFY_BACKOFF_S = env_float("NOTIFY_BACKOFF_S", 0.5)
NOTIFY_BACKOFF_MAX_S = env_float("NOTIFY_BACKOFF_MAX_S", 5.0)
NOTIFY_THROTTLE_S = env_int("NOTIFY_THROTTLE_S", 900)
# Grouped notifications (docs/silences.md): defaults for notify nodes that do not set them.
# A group_wait of 0 sends each page at once, as before grouping existed.
NOTIFY_GROUP_WAIT_S = env_float("NOTIFY_GROUP_WAIT_S", 0.0)
NOTIFY_GROUP_INTERVAL_S = env_float("NOTIFY_GROUP_INTERVAL_S", 300.0)
SLACK_WEBHOOK_URL = env_url("SLACK_WEBHOOK_URL")
PAGERDUTY_ROUTING_KEY = env_str("PAGERDUTY_ROUTING_KEY")
PAGERDUTY_EVENTS_URL = env_url("PAGERDUTY_EVENTS_URL", "https://events.pagerduty.com/v2/enqueue")
NOTIFY_EMAIL_TO = env_list("NOTIFY_EMAIL_TO", "")
NOTIFY_EMAIL_FROM = env_str("NOTIFY_EMAIL_FROM", "incidents@localhost")
GENERIC_WEBHOOK_URL = env_url("GENERIC_WEBHOOK_URL")
NTFY_URL = env_url("NTFY_URL")
PUBLIC_BASE_URL = env_url("PUBLIC_BASE_URL")

EMAIL_URL = env_str("EMAIL_URL")
if EMAIL_URL:
    EMAIL_HOST, EMAIL_PORT, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD, EMAIL_USE_TLS, EMAIL_USE_SSL = (
        smtp_url(EMAIL_URL)
    )
else:
    EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
    EMAIL_PORT = env_int("EMAIL_PORT", 25)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT_S", 10)
EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"

# --- Celery ---------------------------------------------------------------------------------
BROKER_SCHEMES = ("redis", "rediss", "amqp", "amqps", "memory")
CELERY_BROKER_URL = env_url("CELERY_BROKER_URL", "", BROKER_SCHEMES)
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", CELERY_BROKER_URL)
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_VISIBILITY_TIMEOUT_S = env_int("CELERY_VISIBILITY_TIMEOUT_S", 60)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT_S", 900)
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT_S", 840)
CELERY_TASK_DEFAULT_QUEUE = "pipelines"
CELERY_TASK_ROUTES = {
    "orchestration.*": {"queue": "pipelines"},
    "alerts.*": {"queue": "pipelines"},
    "notify.*": {"queue": "notifications"},
}
# How often a worker moves messages whose worker died back to their queue. kombu scans every
# unacked_restore_interval x unacked_restore_throttle seconds (10 x 10 by default), so the
# throttle is 1 and this interval alone decides: a message is redelivered within
# CELERY_VISIBILITY_TIMEOUT_S + CELERY_RESTORE_EVERY_S of its delivery (docs/operations.md).
CELERY_RESTORE_EVERY_S = env_int("CELERY_RESTORE_EVERY_S", 5)
# A broker that refuses, or accepts and never answers, fails a publish within this many seconds
# (no retry loop): the run stays PENDING and a worker's or the sweep's recovery enqueues it.
CELERY_BROKER_TIMEOUT_S = env_float("CELERY_BROKER_TIMEOUT_S", 2.0)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT_S,
    "unacked_restore_interval": CELERY_RESTORE_EVERY_S,
    "unacked_restore_throttle": 1,
    "socket_connect_timeout": CELERY_BROKER_TIMEOUT_S,
    "socket_timeout": CELERY_BROKER_TIMEOUT_S,
    "max_retries": 0,
    # Ten priority steps (0 first): Redis keeps one list per step and a worker empties the
    # lower ones first, so a critical incident's run overtakes a queue of warnings
    # (orchestration.priority).
    "priority_steps": list(range(10)),
}
CELERY_BROKER_CONNECTION_TIMEOUT = CELERY_BROKER_TIMEOUT_S
CELERY_TASK_PUBLISH_RETRY = False
# Task results are never read (a run's state is in the database): sending a task must not wait
# on the result store.
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_DEFAULT_PRIORITY = 5
# Who executes runs: `celery` (the workers, the default with a broker), `worker` (the default
# without one: servers only store PENDING runs and `manage.py run_worker` executes them), or
# `thread` (a thread of the process that started the run: one-process set-ups and development).
PIPELINE_RUNNER = env_choice(
    "PIPELINE_RUNNER", "celery" if CELERY_BROKER_URL else "worker", ("celery", "worker", "thread")
)
if PIPELINE_RUNNER == "celery" and not CELERY_BROKER_URL:
    raise ImproperlyConfigured("PIPELINE_RUNNER=celery needs CELERY_BROKER_URL")
# How often an idle `run_worker` looks for new PENDING runs (the longest a run waits for it).
PIPELINE_WORKER_POLL_S = env_float("PIPELINE_WORKER_POLL_S", 0.2)
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT_S}
CELERY_RESULT_EXPIRES = 3600
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A RUNNING run whose heartbeat is older than this is taken to have lost its worker.
PIPELINE_HEARTBEAT_S = env_float("PIPELINE_HEARTBEAT_S", 5.0)
PIPELINE_STALE_AFTER_S = env_float("PIPELINE_STALE_AFTER_S", 30.0)
# A run whose worker died this many times is left FAILED instead of being recovered again.
PIPELINE_MAX_RECOVERIES = env_int("PIPELINE_MAX_RECOVERIES", 3)
# Every worker sweeps on start and this often (one worker per period); beat adds the same task.
PIPELINE_SWEEP_EVERY_S = env_float("PIPELINE_SWEEP_EVERY_S", 30.0)
PIPELINE_WORKER_RECOVERY = env_bool("PIPELINE_WORKER_RECOVERY", True)
CELERY_BEAT_SCHEDULE = {
    "sweep-stuck-runs": {"task": "orchestration.sweep_runs", "schedule": PIPELINE_SWEEP_EVERY_S}
}

# --- Operating ------------------------------------------------------------------------------
METRICS_TOKEN = env_str("METRICS_TOKEN")
LOG_JSON = env_bool("LOG_JSON", False)
LOG_LEVEL = env_level("LOG_LEVEL", "WARNING")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"run_context": {"()": "apps.common.logging.RunContextFilter"}},
    "formatters": {
        "text": {
            "()": "apps.common.logging.RedactingFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s [trace=%(trace_id)s run=%(run_id)s] "
            "%(message)s",
        },
        "json": {"()": "apps.common.logging.JsonFormatter"},
    },
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "filters": ["run_context"],
            "formatter": "json" if LOG_JSON else "text",
        }
    },
    "root": {"handlers": ["stderr"], "level": "WARNING"},
    "loggers": {"apps": {"level": LOG_LEVEL, "propagate": True}},
}
