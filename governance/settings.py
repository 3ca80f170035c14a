"""Django settings.

Every deployment-specific value comes from the environment (or an untracked
``.env`` file beside ``manage.py``). With no environment at all you get the
embedded development default: SQLite and Celery's filesystem broker, which needs
no server process. Production (``DJANGO_DEBUG=false``) refuses to start without
``DJANGO_SECRET_KEY`` and ``DJANGO_ALLOWED_HOSTS``.

- ``DATABASE_URL``      e.g. ``postgres://user:pass@127.0.0.1:5432/governance`` (psycopg 3)
- ``CELERY_BROKER_URL`` e.g. ``redis://127.0.0.1:6379/0``
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from governance.beat import DAILY_PASSES

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"  # untracked runtime state of the embedded default
VAR_DIR.mkdir(exist_ok=True)

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=True)

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is false.")
    # Development only: a fixed, clearly insecure key so that the web process and
    # the workers agree. `make run` writes a generated key into .env instead.
    SECRET_KEY = "insecure-development-key-do-not-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env.list(
    "DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else []
)
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS must be set when DJANGO_DEBUG is false.")
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "accounts.admin_site.GovernanceAdminConfig",  # django.contrib.admin, our site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "axes",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "accounts",
    "audit",
    "notifications",
    "governance",
    "inventory",
    "engagement",
    "reviews",
    "fairness",
    "monitoring",
    "mlflow_sync",
    "experiments",
    "documents",
    "oversight",
    "demo",
    "dashboard",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "audit.middleware.AuditContextMiddleware",
    "audit.refusals.AccessRefusalAuditMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.middleware.IdleSessionMiddleware",
    "accounts.sso.middleware.SsoSessionMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    # Last: turns a locked-out sign-in attempt into accounts.lockout's 403.
    "axes.middleware.AxesMiddleware",
    # Asked first about a view's exception: a database that cannot answer is a 503.
    "dashboard.unavailable.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "dashboard.urls"
WSGI_APPLICATION = "governance.wsgi.application"

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
                "accounts.context_processors.roles",
            ],
        },
    },
]

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default takes concurrent writers (web requests and worker tasks):
    # WAL lets readers go on while one writes; IMMEDIATE takes the write lock when a
    # transaction begins (a deferred one that later writes fails at once with "database
    # is locked" instead of waiting); the busy timeout makes a writer wait its turn.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": env.float("SQLITE_BUSY_TIMEOUT", default=20.0),
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
        }
    )
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("CONN_MAX_AGE", 60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Authentication backends and single sign-on (OpenID Connect): governance/settings_sso.py.
from governance.settings_sso import *  # noqa: E402, F403

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard:home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=str(VAR_DIR / "staticfiles"))
Path(STATIC_ROOT).mkdir(parents=True, exist_ok=True)  # whitenoise warns when it is missing
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "governance.static_storage.CompressedStaticFilesStorage"
    },
}
MEDIA_ROOT = env.path("DJANGO_MEDIA_ROOT", default=str(VAR_DIR / "media"))
MEDIA_URL = "media/"
# Uploads being received or checked are spooled here, not in the shared /tmp, each web
# process in a folder of its own that it holds locked while it lives: what a process
# killed mid-upload left is removed when a web process starts and before each upload;
# loose files once older than UPLOAD_TEMP_MAX_HOURS (accounts/upload_temp.py, issue 13).
# A folder local to the host.
FILE_UPLOAD_TEMP_DIR = str(
    env.path("DJANGO_FILE_UPLOAD_TEMP_DIR", default=str(VAR_DIR / "uploads"))
)
Path(FILE_UPLOAD_TEMP_DIR).mkdir(parents=True, exist_ok=True)
UPLOAD_TEMP_MAX_HOURS = env.int("UPLOAD_TEMP_MAX_HOURS", default=6)
FILE_UPLOAD_HANDLERS = [
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "accounts.upload_temp.ProcessTemporaryFileUploadHandler",
]

# --- Security -------------------------------------------------------------------
from django.utils.csp import CSP  # noqa: E402

# Strict CSP: everything is served from this site (plotly.js strict bundle, no
# inline scripts), so the dashboard also works on a closed network.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    # SECURE_PROXY_SSL_HEADER: only when configured, see "Production topology" below.
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# --- Accounts: tokens, sessions, brute force -------------------------------------
# API tokens are stored hashed and expire after this many days (a password change
# revokes them at once).
API_TOKEN_DAYS = env.int("API_TOKEN_DAYS", default=90)
# Browser sessions end after this many idle minutes: people who sign or grant (risk
# officers, approvers, governance leads) and everyone else; and at the latest after
# DJANGO_SESSION_MAX_AGE seconds.
SESSION_IDLE_MINUTES_SIGNERS = env.int("SESSION_IDLE_MINUTES_SIGNERS", default=30)
SESSION_IDLE_MINUTES = env.int("SESSION_IDLE_MINUTES", default=120)
SESSION_COOKIE_AGE = env.int("DJANGO_SESSION_MAX_AGE", default=12 * 60 * 60)
# django-axes on the login page and the token endpoint: this many failures for one
# account or from one address lock that account or address for the cool-off time
# (each further attempt restarts it). See accounts/lockout.py.
AXES_FAILURE_LIMIT = env.int("LOGIN_MAX_FAILURES", default=5)
AXES_COOLOFF_TIME = env.float("LOGIN_LOCKOUT_MINUTES", default=15.0) / 60  # hours
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
# Not reset by a successful sign-in: that would also clear the address's failures, so one
# good account could be used to keep guessing another's password.
AXES_RESET_ON_SUCCESS = False
AXES_VERBOSE = False

# --- Deployment gate ------------------------------------------------------------
# Answers kept per web process, each under the revision tokens of what it read (the
# database changes them with any such row: reviews/gate_revisions.py); 0 computes every
# answer.
GATE_CACHE_ENTRIES = env.int("GATE_CACHE_ENTRIES", default=4096)
# Portfolio figures and gate answers (audit/figures.py, reviews/selectors/revision_cache.py):
# per process, or shared through Redis with DJANGO_CACHE_URL: governance/settings_cache.py.
from governance.settings_cache import *  # noqa: E402, F403

# --- REST API -------------------------------------------------------------------
REST_FRAMEWORK = {
    # Token first: an anonymous request then gets 401 with `WWW-Authenticate: Token`
    # (DRF asks the first class for that header; session auth has none, giving 403).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["accounts.permissions.HasGovernanceRole"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "accounts.api.SearchFilter",  # names the parameter in its 400
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "accounts.api.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "accounts.schema.AutoSchema",
    "EXCEPTION_HANDLER": "accounts.api.exception_handler",
    "DEFAULT_THROTTLE_RATES": {},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "ML model governance API",
    "DESCRIPTION": (
        "Inventory, risk classification and governance records for machine-learning "
        "models. Pipelines authenticate with `Authorization: Token <key>`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",  # tag operations by resource, not by "v1"
    # One enum per choice set, whichever field uses it (criticality, previous_...).
    "ENUM_NAME_OVERRIDES": {
        "CriticalityEnum": "inventory.choices.Criticality",
        "RiskTierEnum": "inventory.choices.RiskTier",
        "ResponsibilityLevelEnum": "governance.models.raci.ResponsibilityLevel",
        "MeasureLevelEnum": "governance.models.policy.MeasureLevel",
        "EnvironmentEnum": "inventory.choices.Environment",
        "PromotionKindEnum": "reviews.models.promotion.PromotionRequest.Kind",
        "BiasSummaryStatusEnum": "fairness.models.BiasSummary.Status",
        "ScoredDataFormatEnum": "fairness.models.ScoredDataset.Format",
        "ScoredDataPurposeEnum": "fairness.models.ScoredDataset.Purpose",
        "ScoredDataStatusEnum": "fairness.models.ScoredDataset.Status",
        "ExperimentStatusEnum": "experiments.models.Experiment.Status",
        "ExperimentDesignEnum": "experiments.models.Experiment.Design",
        "ExperimentMetricKindEnum": "experiments.models.Experiment.MetricKind",
        "ExperimentSplittingEnum": "experiments.models.Experiment.Splitting",
        "ExperimentBatchSourceEnum": "experiments.models.ExperimentBatch.Source",
        "MonitoringCadenceEnum": "monitoring.models.Cadence",
        "MonitoringBatchKindEnum": "monitoring.models.MonitoringBatch.Kind",
        "MonitoringWindowStatusEnum": "monitoring.models.MonitoringWindow.Status",
        "DriftAlertKindEnum": "monitoring.models.DriftAlert.Kind",
        "DriftAlertStatusEnum": "monitoring.models.DriftAlert.Status",
        "DriftAlertActionEnum": "monitoring.models.DriftAlertEvent.Action",
        "EvidencePackScopeEnum": "documents.models.EvidencePack.Scope",
        "DocumentKindEnum": "documents.models.GeneratedDocument.Kind",
    },
}

# Generated documents: the PDF is printed by headless Chromium (the Debian package
# "chromium" at /usr/bin/chromium is found by itself); without it, Word only.
DOCUMENTS_CHROMIUM = env.str("DOCUMENTS_CHROMIUM", default="")

# --- Celery ---------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
CELERY_BROKER_FOLDER = env.path("CELERY_BROKER_FOLDER", default=str(VAR_DIR / "broker"))
if CELERY_BROKER_URL.startswith("filesystem://"):
    for sub in ("out", "processed", "processing", "failed", "control"):
        Path(CELERY_BROKER_FOLDER, sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(Path(CELERY_BROKER_FOLDER, "out")),
        "data_folder_out": str(Path(CELERY_BROKER_FOLDER, "out")),
        "processed_folder": str(Path(CELERY_BROKER_FOLDER, "processed")),
        "processing_folder": str(Path(CELERY_BROKER_FOLDER, "processing")),
        "failed_folder": str(Path(CELERY_BROKER_FOLDER, "failed")),
        "control_folder": str(Path(CELERY_BROKER_FOLDER, "control")),
        "store_processed": False,
        "polling_interval": 0.1,
        # A dead worker's messages come back at the next sweep of any live consumer.
        "restore_interval": 5,
    }
    # Atomic writes, and redelivery of the messages of a worker that died (governance/broker.py).
    CELERY_BROKER_TRANSPORT = "governance.broker:Transport"
CELERY_RESULT_BACKEND = None  # results are written to the database by the tasks themselves
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=300)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=360)
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    # Re-evaluate classifications made under an older rule set (safety net for
    # rule edits whose follow-up task was lost).
    "reclassify-stale-use-cases": {
        "task": "governance.tasks.use_cases_reclassify_stale",
        "schedule": 60 * 60,
    },
    # Reminders and escalations of pending sign-offs (each sent once per request).
    "remind-pending-approvals": {
        "task": "reviews.tasks.approvals_remind",
        "schedule": 60 * 60,
    },
    # Versions in production past their periodic review: flag and e-mail once per due date.
    "flag-overdue-periodic-reviews": {
        "task": "reviews.tasks.periodic_reviews_flag",
        "schedule": 6 * 60 * 60,
    },
    # E-mails whose delivery failed for good are retried (exactly once each).
    "send-unsent-notifications": {
        "task": "reviews.tasks.notifications_flush",
        "schedule": 2 * 60,
    },
}

# --- E-mail ---------------------------------------------------------------------
EMAIL_BACKEND = env.str(
    "DJANGO_EMAIL_BACKEND",
    default="django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env.str("DJANGO_EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("DJANGO_EMAIL_PORT", default=25)
# A stuck SMTP server must not hold a worker: fail, and let the task retry.
EMAIL_TIMEOUT = env.int("DJANGO_EMAIL_TIMEOUT", default=30)

# Links in e-mails point here (the address people open the dashboard at): see
# "Production topology" below for its default.

# --- Sign-off workflow ----------------------------------------------------------
# A pending request reminds its signers after N days and escalates after M days.
APPROVAL_REMINDER_DAYS = env.int("APPROVAL_REMINDER_DAYS", default=3)
APPROVAL_ESCALATION_DAYS = env.int("APPROVAL_ESCALATION_DAYS", default=7)
# A version in production past its periodic review is flagged at once and blocked by
# the deployment gate after this many days of grace.
PERIODIC_REVIEW_GRACE_DAYS = env.int("PERIODIC_REVIEW_GRACE_DAYS", default=30)
# Wrong passwords when signing: this many within the window lock signing for the window.
SIGNING_MAX_FAILURES = env.int("SIGNING_MAX_FAILURES", default=5)
SIGNING_LOCKOUT_MINUTES = env.int("SIGNING_LOCKOUT_MINUTES", default=15)

# --- Overdue obligations (issue 12) ---------------------------------------------
# An obligation still open past its due date is e-mailed to its owner this many days
# after the due date, and escalated to the use case's model-acceptance Accountable
# OBLIGATION_ESCALATION_DAYS later if it is still overdue (each e-mail once).
OBLIGATION_OVERDUE_GRACE_DAYS = env.int("OBLIGATION_OVERDUE_GRACE_DAYS", default=0)
OBLIGATION_ESCALATION_DAYS = env.int("OBLIGATION_ESCALATION_DAYS", default=7)
OBLIGATIONS_RECOMPUTE_DELAY_SECONDS = env.int("OBLIGATIONS_RECOMPUTE_DELAY_SECONDS", default=5)
OBLIGATION_DIGEST_HOUR = env.int("OBLIGATION_DIGEST_HOUR", default=7)  # see .env.example
# Findings, obligations, attestations and training: the daily passes (governance/beat.py).
CELERY_BEAT_SCHEDULE.update(DAILY_PASSES)

# --- Bias summaries (issue #5) and monitoring (issue #6) -----------------------------
# Sizes, batches and time limits of the workers' computations: governance/settings_work.py.
from governance.settings_mlflow import *  # noqa: E402, F403  MLflow sync (issue 17)
from governance.settings_warehouse import *  # noqa: E402, F403
from governance.settings_work import *  # noqa: E402, F403
from governance.settings_work import BIAS_TASK_TIME_LIMIT, MONITORING_TASK_TIME_LIMIT  # noqa: E402

CELERY_BEAT_SCHEDULE["resume-stale-bias-summaries"] = {
    "task": "reviews.tasks.bias_summaries_resume",
    "schedule": 2 * 60,
}

# --- Experiments (issue #7) -------------------------------------------------------
# Running experiments that reached their planned sample size or end date are ended (the
# owner is e-mailed) and analysed; interim looks of sequential designs are taken.
CELERY_BEAT_SCHEDULE["check-running-experiments"] = {
    "task": "reviews.tasks.experiments_check",
    "schedule": 5 * 60,
}

# --- Monitoring (issue #6) --------------------------------------------------------
# Every hour, configurations with a complete window not yet computed (daily or weekly,
# as each use case's production-monitoring obligation demands) or new data are computed.
CELERY_BEAT_SCHEDULE["compute-due-monitoring-windows"] = {
    "task": "reviews.tasks.monitoring_due",
    "schedule": 60 * 60,
}

# --- Task outbox and redelivery (issue 13) ---------------------------------------
# Every job is a row (notifications.JobMarker) written with the request and published
# after commit (notifications/jobs.py): a broker that is down delays work, never fails a
# request. The sweep publishes what was never published, what a dead run held (its lease
# expired) and what was published but not taken after JOBS_RESEND_MINUTES (doubling).
CELERY_BEAT_SCHEDULE["resend-lost-jobs"] = {
    "task": "notifications.tasks.jobs_sweep",
    "schedule": env.int("JOBS_SWEEP_SECONDS", default=30),
}
JOBS_RESEND_MINUTES = env.float("JOBS_RESEND_MINUTES", default=3)
# A run holds its job's lease for this long and renews it every quarter of it: a worker
# killed (its main process included) frees its jobs within this many seconds.
JOBS_LEASE_SECONDS = env.int("JOBS_LEASE_SECONDS", default=40)
# Give up (and log an error) after this many runs of one job that did not complete.
JOBS_MAX_RUNS = env.int("JOBS_MAX_RUNS", default=5)
JOBS_KEEP_DAYS = env.int("JOBS_KEEP_DAYS", default=7)
# Publish every job to this queue instead of its route (blank: the routes). Tests give
# each worker a private queue; two deployments sharing one broker can use it too.
JOBS_QUEUE = env.str("JOBS_QUEUE", default="")

# A message a worker took and did not acknowledge comes back after this many seconds
# (Redis, and the embedded broker for a live worker): it must exceed the longest task
# time limit, or a long task would run twice (tests/notifications/test_jobs.py checks
# every registered task). A killed worker's jobs do not wait for it: their leases expire
# and the sweep publishes them again.
CELERY_BROKER_VISIBILITY_TIMEOUT = (
    max(CELERY_TASK_TIME_LIMIT, BIAS_TASK_TIME_LIMIT, MONITORING_TASK_TIME_LIMIT) + 600
)
if CELERY_BROKER_URL.startswith(("filesystem://", "redis://", "rediss://")):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        **globals().get("CELERY_BROKER_TRANSPORT_OPTIONS", {}),
        "visibility_timeout": CELERY_BROKER_VISIBILITY_TIMEOUT,
    }
# A broker that is down must not hold a request long: the outbox publishes later.
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_CONNECTION_TIMEOUT", default=2)

# --- Logging --------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# === Production topology (issue 13) ========================================
# Kept in one block: scripts/prodrun.py (make prod), gunicorn (governance/gunicorn_conf.py),
# the health endpoints (dashboard/health.py) and seed_demo read what is set here.

# What DJANGO_DEBUG said at start-up: the test runner turns DEBUG off, this stays.
PRODUCTION = not DEBUG

# Links in e-mails point here. Default: the development server's address on PORT
# (make run PORT=8001 -> port 8001); in production the first allowed host over https.
_concrete_hosts = [h for h in ALLOWED_HOSTS if h and not h.startswith((".", "*"))]
if DEBUG or not _concrete_hosts:
    _site_default = f"http://127.0.0.1:{env.int('PORT', default=8000)}"
else:
    _site_default = f"https://{_concrete_hosts[0]}"
SITE_URL = env.str("DJANGO_SITE_URL", default=_site_default).rstrip("/")
_mail_host = _concrete_hosts[0] if _site_default.startswith("https") else "localhost"
_from = f"Model Governance <governance@{_mail_host}>"  # From of e-mails, unless set
DEFAULT_FROM_EMAIL = env.str("DJANGO_DEFAULT_FROM_EMAIL", default=_from)

# X-Forwarded-Proto says the request came over https only when the operator says a proxy
# sets it (and strips the client's own): otherwise any client could claim https.
if env.bool("DJANGO_TRUST_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# /healthz and /readyz answer before host checks, https redirects, sessions and the login
# lockout (a load balancer probes by address, over http, many times a minute).
MIDDLEWARE.insert(0, "dashboard.health.HealthCheckMiddleware")

# Two kinds of workers: "heavy" for long computations (bias summaries and shares, monitoring
# windows and reference profiles, experiment analyses), "light" for everything else (e-mail,
# obligations, the scheduled sweeps), so that a long summary never delays an e-mail.
# Tasks are routed by name; a task not listed goes to the light queue. make run's single
# worker consumes both (and "celery", the queue used before this split).
# A worker started without --queues (make run's) consumes all three.
from kombu import Exchange, Queue  # noqa: E402

CELERY_HEAVY_QUEUE = "heavy"
CELERY_LIGHT_QUEUE = "light"
CELERY_LEGACY_QUEUE = "celery"
CELERY_TASK_QUEUES = [
    Queue(name, Exchange(name), routing_key=name)
    for name in (CELERY_HEAVY_QUEUE, CELERY_LIGHT_QUEUE, CELERY_LEGACY_QUEUE)
]
CELERY_TASK_DEFAULT_QUEUE = CELERY_LIGHT_QUEUE
HEAVY_TASKS = (
    "reviews.tasks.bias_summary_run",
    "reviews.tasks.bias_part_run",
    "reviews.tasks.monitoring_compute",
    "monitoring.tasks.reference_profile_build",
    "fairness.tasks.scored_dataset_validate",
    "monitoring.tasks.monitoring_batch_validate",
    "reviews.tasks.experiment_analyse",
    "documents.tasks.evidence_pack_build",
    "documents.tasks.document_render",
)
CELERY_TASK_ROUTES = {name: {"queue": CELERY_HEAVY_QUEUE} for name in HEAVY_TASKS}
# One beat per installation; its schedule file is local state.
CELERY_BEAT_SCHEDULE_FILENAME = env.str(
    "CELERY_BEAT_SCHEDULE_FILENAME", default=CELERY_BEAT_SCHEDULE_FILENAME
)

# Uploads on several hosts: a storage every host sees, a shared mount at DJANGO_MEDIA_ROOT
# or object storage (DJANGO_STORAGE_BACKEND): governance/settings_storage.py.
from governance.settings_storage import MEDIA_STORAGE, MEDIA_STORAGE_MEMORY_BYTES  # noqa: E402, F401

STORAGES["default"] = MEDIA_STORAGE or STORAGES["default"]

# seed_demo creates users with the public demo password (one with the admin site): with
# DJANGO_DEBUG=false it refuses unless given --allow-production or this variable.
DEMO_SEED_ALLOW_PRODUCTION = env.bool("DEMO_SEED_ALLOW_PRODUCTION", default=False)
# === end of production topology ===================================================
# --- Database roles and audit anchors (issue 13) -----------------------------------
# PostgreSQL in production: DATABASE_URL is the application's role (no ownership, no
# UPDATE/DELETE/TRUNCATE on the append-only tables), DATABASE_OWNER_URL the owner's, used
# by `migrate` and `db_roles` only (audit/db_roles.py). Same database, two users.
_OWNER_URL = env.str("DATABASE_OWNER_URL", default="")
DATABASE_OWNER = environ.Env.db_url_config(_OWNER_URL) if _OWNER_URL else None
DATABASE_APP_ROLE = env.str(
    "DATABASE_APP_ROLE", default=DATABASES["default"].get("USER", "") if _OWNER_URL else ""
)
# The audit chain's head is anchored daily (beat) and by `manage.py audit_anchor`: an
# HMAC with a key kept outside the database, appended to a log file outside the
# database, and e-mailed to AUDIT_ANCHOR_EMAIL when set. `audit_verify` checks the chain
# against every anchor of the log. Without AUDIT_ANCHOR_KEY, a key is generated once
# into AUDIT_ANCHOR_KEY_FILE (the embedded default).
AUDIT_ANCHOR_KEY = env.str("AUDIT_ANCHOR_KEY", default="")
AUDIT_ANCHOR_KEY_FILE = env.path("AUDIT_ANCHOR_KEY_FILE", default=str(VAR_DIR / "audit-anchor.key"))
AUDIT_ANCHOR_LOG = env.path("AUDIT_ANCHOR_LOG", default=str(VAR_DIR / "audit-anchors.log"))
AUDIT_ANCHOR_EMAIL = env.str("AUDIT_ANCHOR_EMAIL", default="")

# The portfolio model-risk report (issue 15): made at the first hourly run of every
# month and e-mailed, as PDF, to the accounts with the address GOVERNANCE_REPORT_EMAIL
# (the governance mailbox; every active governance lead when it is not set). Risk
# officers and leads also make one on demand.
GOVERNANCE_REPORT_EMAIL = env.str("GOVERNANCE_REPORT_EMAIL", default="")
CELERY_BEAT_SCHEDULE["portfolio-report-monthly"] = {
    "task": "documents.tasks.portfolio_report_monthly",
    "schedule": 60 * 60,
}
CELERY_BEAT_SCHEDULE["anchor-audit-trail"] = {"task": "audit.tasks.audit_anchor", "schedule": 86400}
# Step 8: a framework review is due this many days after the last signed one.
FRAMEWORK_REVIEW_INTERVAL_DAYS = env.int("FRAMEWORK_REVIEW_INTERVAL_DAYS", default=365)

# --- Orphan media files (issue 13) -------------------------------------------------
# An upload stores its file before its row commits: a web process killed in between
# leaves a file no record refers to. Beat (and `manage.py media_sweep [--dry-run]`)
# removes such files once older than MEDIA_SWEEP_GRACE_MINUTES, checked again under the
# writers' lock the upload path also holds; each removal is audited
# (audit/stored_files.py).
MEDIA_SWEEP_GRACE_MINUTES = env.int("MEDIA_SWEEP_GRACE_MINUTES", default=60)
CELERY_BEAT_SCHEDULE["sweep-orphan-media"] = {
    "task": "audit.tasks.media_sweep",
    "schedule": env.int("MEDIA_SWEEP_SECONDS", default=60 * 60),
}
