"""Evently settings, read from the environment.

Every variable is documented in `.env.example`. A malformed value fails loudly with
ImproperlyConfigured at start-up instead of running with a surprise.
"""

import os
import re
import warnings
from datetime import timedelta
from pathlib import Path

import dj_database_url
from corsheaders.defaults import default_headers as cors_default_headers
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

# The development key is public; core.security refuses to serve with it when DEBUG is off.
DEVELOPMENT_SECRET_KEY = "django-insecure-evently-development-key-do-not-use-in-production"


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false), got {raw!r}")


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {value}")
    return value


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_rate(name: str, default: str) -> str | None:
    """A DRF throttle rate such as `20/min`; `off` disables that throttle."""
    value = os.environ.get(name, default).strip()
    if value.lower() in {"off", "none"}:
        return None
    num, _, period = value.partition("/")
    if not num.isdigit() or int(num) < 1 or period[:1] not in {"s", "m", "h", "d"}:
        raise ImproperlyConfigured(f"{name} must look like '20/min' or be 'off', got {value!r}")
    return value


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY", "").strip() or DEVELOPMENT_SECRET_KEY
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    # django.contrib.admin with Evently's admin site (its login is throttled like the API's).
    "evently.apps.EventlyAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "corsheaders",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    # django-payments: its providers' forms and templates (the payment model is bookings').
    "payments",
    "core",
    "evently",
    "accounts",
    "events",
    "bookings",
    "waitlist",
    "notifications",
    "analytics",
    # Staff operations spanning the apps above (event edits, cancellation, messages, the
    # console's event pages): above every app it orchestrates.
    "boxoffice",
    # Above the domain apps: it listens to their signals and reports what they did.
    "webhooks",
    "waitingroom",
]

MIDDLEWARE = [
    # First: it times the whole stack, and every log record of the request carries its id.
    "core.middleware.RequestLogMiddleware",
    # Counts and times each request by route and status (only with METRICS_TOKEN set).
    "core.metrics.RequestMetricsMiddleware",
    # A view that cannot reach the database answers 503 problem+json, the admin too.
    "core.middleware.DatabaseUnavailableMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "core.middleware.BodySizeLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Sessions, auth and messages only matter to the admin site: the API never runs them.
    "core.middleware.SiteOnlyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
# Run by SiteOnlyMiddleware for every request outside /api/, in this order. CSRF is checked by
# the admin's own views, each wrapped in csrf_protect (AdminSite.admin_view and its login), so
# CsrfViewMiddleware is not needed here; tests/test_security.py holds the admin to it.
SITE_MIDDLEWARE = [
    "core.middleware.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
# The admin's checks look for these in MIDDLEWARE; SiteOnlyMiddleware runs them (see above).
SILENCED_SYSTEM_CHECKS = ["admin.E408", "admin.E409", "admin.E410"]

ROOT_URLCONF = "evently.urls"
WSGI_APPLICATION = "evently.wsgi.application"
# Routes answer with and without a trailing slash by themselves; never redirect (a POST would
# lose its body).
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "evently" / "templates"],
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
# No DATABASE_URL: an embedded SQLite file, enough for a laptop. IMMEDIATE transactions make
# concurrent writers queue for the write lock instead of failing with "database is locked".
DATABASE_URL = os.environ.get("DATABASE_URL", "").strip()
CONN_MAX_AGE = env_int("CONN_MAX_AGE", 60)
if DATABASE_URL:
    if not DATABASE_URL.startswith(("postgres://", "postgresql://", "sqlite://")):
        raise ImproperlyConfigured("DATABASE_URL must be a postgres:// or sqlite:// URL")
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL, conn_max_age=CONN_MAX_AGE, conn_health_checks=True
        )
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
POSTGRESQL_ENGINE = "core.postgresql"
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Bound how long a statement may wait for a row lock: a stuck transaction then yields a
    # clear 409 with Retry-After instead of piling up every worker behind it.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = (
        f"-c lock_timeout={env_int('DB_LOCK_TIMEOUT_MS', 5000, minimum=1)}"
    )
    DATABASES["default"]["OPTIONS"]["connect_timeout"] = env_int("DB_CONNECT_TIMEOUT", 5, minimum=1)
    # Server-side parameter binding, and prepared statements: psycopg prepares a statement a
    # connection has run DB_PREPARE_THRESHOLD times (the booking's), so PostgreSQL parses and
    # plans it once per connection, not on every booking. Django leaves preparing off unless
    # asked; 0 turns it off again (a pooler that cannot keep prepared statements).
    DATABASES["default"]["OPTIONS"]["server_side_binding"] = env_bool(
        "DB_SERVER_SIDE_BINDING", True
    )
    DATABASES["default"]["OPTIONS"]["prepare_threshold"] = (
        env_int("DB_PREPARE_THRESHOLD", 5, minimum=0) or None
    )
    # Django's backend with a health check that polls the socket of an idle connection
    # instead of sending `SELECT 1` before each request's first query (core/postgresql).
    DATABASES["default"]["ENGINE"] = POSTGRESQL_ENGINE
# Behind PgBouncer in transaction mode a server-side cursor (a streamed CSV export) cannot live
# across transactions; fetch whole results instead.
DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = env_bool(
    "DB_DISABLE_SERVER_SIDE_CURSORS", False
)
# Read replicas (optional): views that opt in (core.db_router.replica_reads) read from one,
# picked per request; writes and reads inside transactions stay on the primary ("default").
# Each connection is read-only, so a write that strays there fails instead of diverging. In
# the test suite they mirror "default".
DATABASE_REPLICAS = []
for _number, _url in enumerate(env_list("DATABASE_REPLICA_URLS"), start=1):
    if DATABASES["default"]["ENGINE"] != POSTGRESQL_ENGINE or not _url.startswith(
        ("postgres://", "postgresql://")
    ):
        raise ImproperlyConfigured(
            "DATABASE_REPLICA_URLS must be postgres:// URLs, and DATABASE_URL PostgreSQL too"
        )
    _replica = dj_database_url.parse(_url, conn_max_age=CONN_MAX_AGE, conn_health_checks=True)
    _replica["OPTIONS"] = {
        **DATABASES["default"]["OPTIONS"],
        **_replica.get("OPTIONS", {}),
        "options": DATABASES["default"]["OPTIONS"]["options"]
        + " -c default_transaction_read_only=on",
    }
    _replica["DISABLE_SERVER_SIDE_CURSORS"] = DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"]
    _replica["ENGINE"] = POSTGRESQL_ENGINE
    _replica["TEST"] = {"MIRROR": "default"}
    DATABASES[f"replica{_number}"] = _replica
    DATABASE_REPLICAS.append(f"replica{_number}")
DATABASE_ROUTERS = ["core.db_router.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ----------------------------------------------------------------------------------
# Throttle counters must be shared by every worker on every machine: Redis when REDIS_URL is
# set, otherwise a table in the database (created by evently's own migration).
# A Redis that does not answer costs a request at most REDIS_TIMEOUT_MS per attempt to connect
# or to read: the throttles then count in the database (core.throttling), so a dead Redis
# slows no request by more than that and fails none.
REDIS_URL = os.environ.get("REDIS_URL", "").strip()
REDIS_TIMEOUT_SECONDS = env_int("REDIS_TIMEOUT_MS", 250, minimum=1) / 1000
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {
                "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
                "socket_timeout": REDIS_TIMEOUT_SECONDS,
            },
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "evently_cache",
        }
    }

# --- Accounts -------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
PASSWORD_HASHERS = [
    # Argon2id at OWASP's minimum parameters; other hashes are upgraded at the next login.
    "accounts.hashers.Argon2idHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
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
# The console's short date display ("9 Dec 2026, 19:00"), over Django's English formats.
FORMAT_MODULE_PATH = ["core.formats"]

# The currency of every price and amount (ISO 4217 code): the console shows it beside money.
CURRENCY = os.environ.get("CURRENCY", "EUR").strip().upper() or "EUR"
if not re.fullmatch(r"[A-Z]{3}", CURRENCY):
    raise ImproperlyConfigured(f"CURRENCY must be a three-letter ISO 4217 code, got {CURRENCY!r}")

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Serve the admin's and the API docs' assets straight from the installed apps, so a server
# started without `collectstatic` still has them; `collectstatic` only adds compression.
WHITENOISE_USE_FINDERS = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Compressed copies at collectstatic time; no manifest, so an uncollected server still works.
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
warnings.filterwarnings("ignore", message="No directory at: .*staticfiles")

# --- REST API -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ClaimsJWTAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["accounts.permissions.IsActiveAccount"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["core.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "core.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_THROTTLE_CLASSES": [
        "core.throttling.AnonRateThrottle",
        "core.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "login": env_rate("THROTTLE_LOGIN", "20/min"),
        # Failed logins per account, whatever the address (core.throttling.LoginFailures).
        "login_failures": env_rate("THROTTLE_LOGIN_FAILURES", "10/min"),
        "anon": env_rate("THROTTLE_ANON", "600/min"),
        "user": env_rate("THROTTLE_USER", "1200/min"),
    },
    "NUM_PROXIES": env_int("NUM_PROXIES", 0),
    "EXCEPTION_HANDLER": "core.problems.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "core.schema.AutoSchema",
    "COERCE_DECIMAL_TO_STRING": True,
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env_int("JWT_ACCESS_MINUTES", 15, minimum=1)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env_int("JWT_REFRESH_DAYS", 7, minimum=1)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "ALGORITHM": "HS256",
    "SIGNING_KEY": os.environ.get("JWT_SIGNING_KEY", "").strip() or SECRET_KEY,
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Evently API",
    "DESCRIPTION": (
        "Event ticketing: events, bookings, a fair waitlist with timed offers, notifications "
        "and staff analytics. Errors are RFC 9457 problem details."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api",
    "ENUM_NAME_OVERRIDES": {
        "EventStatusEnum": "events.models.Event.Status",
        "BookingStatusEnum": "bookings.models.Booking.Status",
        "WaitlistEntryStatusEnum": "waitlist.models.WaitlistEntry.Status",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.schema.document_empty_query_values",
        "core.schema.booking_quantity_or_items",
    ],
}

# --- Tickets --------------------------------------------------------------------------------
# The key ticket codes are signed with (bookings.tickets.codes). Empty: derived from SECRET_KEY.
# A key of its own lets SECRET_KEY be rotated without voiding every ticket already sent out;
# changing this one makes every issued code unknown at the door.
TICKET_SIGNING_KEY = os.environ.get("TICKET_SIGNING_KEY", "").strip()

# The door's check-in window: it opens this many minutes before an event's time and closes this
# many after it. A scan outside it is 409 `checkin_closed` (bookings.tickets.services).
CHECKIN_OPENS_MINUTES = env_int("CHECKIN_OPENS_MINUTES", 240)
CHECKIN_CLOSES_MINUTES = env_int("CHECKIN_CLOSES_MINUTES", 720)

# --- Waitlist -------------------------------------------------------------------------------
# How long a waitlist offer holds its seats before they pass to the next person.
WAITLIST_OFFER_TTL_SECONDS = env_int("WAITLIST_OFFER_TTL_SECONDS", 1800, minimum=1)

# --- Checkout and payments -----------------------------------------------------------------
# How bookings are paid for (bookings.payments, django-payments). `none`: a booking confirms at
# once and the money is settled elsewhere, as the earlier service did. `dummy`: django-payments'
# DummyProvider, a form that pays or fails, for development and the demo. `stripe`: Stripe's
# Checkout through django-payments (docs/operations.md, "Taking payments with Stripe").
PAYMENT_PROVIDER = os.environ.get("PAYMENT_PROVIDER", "none").strip().lower() or "none"
if PAYMENT_PROVIDER not in {"none", "dummy", "stripe"}:
    raise ImproperlyConfigured(
        f"PAYMENT_PROVIDER must be none, dummy or stripe, got {PAYMENT_PROVIDER!r}"
    )
# How long a checkout holds its seats while the buyer pays.
CHECKOUT_HOLD_SECONDS = env_int("CHECKOUT_HOLD_SECONDS", 900, minimum=1)
# Where people reach this server: the payment pages, the providers' return addresses and the
# e-mails' links are built from it.
PUBLIC_URL = os.environ.get("PUBLIC_URL", "http://localhost:8080").strip().rstrip("/")
if not re.fullmatch(r"https?://[^/\s]+", PUBLIC_URL):
    raise ImproperlyConfigured(
        f"PUBLIC_URL must be a scheme and host such as https://tickets.example.com, got "
        f"{PUBLIC_URL!r}"
    )
STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY", "").strip()
STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET", "").strip()
if PAYMENT_PROVIDER == "stripe":
    _missing = [
        name
        for name, value in (
            ("STRIPE_SECRET_KEY", STRIPE_SECRET_KEY),
            ("STRIPE_WEBHOOK_SECRET", STRIPE_WEBHOOK_SECRET),
        )
        if not value
    ]
    if _missing:
        raise ImproperlyConfigured(f"PAYMENT_PROVIDER=stripe needs {' and '.join(_missing)}")
    # Stripe's keys say what they are by their prefix. A publishable key, or the webhook's
    # signing secret swapped with something else, would otherwise start fine and fail only
    # later: every payment page (502), or every webhook refused, no paid booking confirmed.
    # The messages never repeat a value: these are secrets.
    if not STRIPE_SECRET_KEY.startswith(("sk_", "rk_")):
        raise ImproperlyConfigured(
            "STRIPE_SECRET_KEY must be Stripe's secret key (sk_...) or a restricted key "
            "(rk_...), not the publishable key (pk_...) or another value"
        )
    if not STRIPE_WEBHOOK_SECRET.startswith("whsec_"):
        raise ImproperlyConfigured(
            "STRIPE_WEBHOOK_SECRET must be the webhook endpoint's signing secret (whsec_...)"
        )
# django-payments' settings, derived from the ones above.
PAYMENT_MODEL = "bookings.Payment"
PAYMENT_HOST = PUBLIC_URL.split("://", 1)[1]
PAYMENT_USES_SSL = PUBLIC_URL.startswith("https://")
PAYMENT_VARIANTS = {
    "dummy": ("payments.dummy.DummyProvider", {}),
    "stripe": (
        "payments.stripe.StripeProviderV3",
        {
            "api_key": STRIPE_SECRET_KEY,
            "endpoint_secret": STRIPE_WEBHOOK_SECRET,
            "use_token": True,
            "secure_endpoint": True,
        },
    ),
}

# --- On-sale waiting room -------------------------------------------------------------------
# How long an admission from an event's queue lets its person book; unused, its slot goes to
# the next in line.
QUEUE_ADMISSION_TTL_SECONDS = env_int("QUEUE_ADMISSION_TTL_SECONDS", 600, minimum=1)

# --- CORS and security ----------------------------------------------------------------------
CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS")
CORS_URLS_REGEX = r"^/api/.*$"
CORS_EXPOSE_HEADERS = ["Idempotent-Replayed", "Retry-After", "X-Request-ID"]
# A browser may send the API's own request headers too, or its preflight fails.
CORS_ALLOW_HEADERS = (*cors_default_headers, "idempotency-key", "x-request-id")

# The console's and the desk's pages (everything outside /api/, core.middleware): they load
# no third-party script or style and none inline, so an injected one does not run.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("TRUST_X_FORWARDED_PROTO", False) else None
)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
# The admin's session and CSRF cookies go over HTTPS only, unless DEBUG is on: a stolen session
# cookie is a staff login. SECURE_COOKIES=false is for a trial over plain http (docker compose
# on a machine without TLS), where a browser would otherwise drop them and the admin's login fail.
SECURE_COOKIES = env_bool("SECURE_COOKIES", not DEBUG)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = SECURE_COOKIES
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("MAX_REQUEST_BYTES", 1024 * 1024, minimum=1024)

# --- E-mail ---------------------------------------------------------------------------------
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Evently <no-reply@evently.local>")
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30, minimum=1)
# Send each notification's e-mail from the request, right after its transaction commits. On by
# default in development (no mailer running); in production the send_notification_emails loop
# sends them (and retries failures either way), keeping the request path short.
NOTIFICATION_EMAIL_ON_COMMIT = env_bool("NOTIFICATION_EMAIL_ON_COMMIT", DEBUG)

# --- Metrics --------------------------------------------------------------------------------
# The bearer token Prometheus sends to GET /metrics. Empty: metrics are off (nothing is
# recorded, /metrics is a 404). Under gunicorn, workers share their values through files in
# PROMETHEUS_MULTIPROC_DIR, which gunicorn.conf.py sets up (core/metrics.py).
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "").strip()
# --- Webhooks -------------------------------------------------------------------------------
# Development and tests only: lets endpoints use http and hosts that resolve to loopback,
# private, link-local or other non-public addresses. Off, both are refused at registration and
# at every send (webhooks.network), so staff cannot point Evently at the internal network.
WEBHOOKS_ALLOW_INSECURE = env_bool("WEBHOOKS_ALLOW_INSECURE", False)
# Seconds a receiver has to answer each request (the contract's 5).
WEBHOOKS_TIMEOUT_SECONDS = env_int("WEBHOOKS_TIMEOUT_SECONDS", 5, minimum=1)


def _retry_delays(raw: str) -> list[float]:
    try:
        delays = [float(item) for item in raw.split(",") if item.strip()]
    except ValueError:
        delays = []
    if not delays or any(d < 0 for d in delays):
        raise ImproperlyConfigured(
            f"WEBHOOKS_RETRY_DELAYS must be seconds separated by commas, got {raw!r}"
        )
    return delays


# The waits between a failed try and the next (each ± 20 % jitter): about 5 s, 5 min, 30 min,
# 2 h, 5 h, 10 h and 10 h, then the delivery is failed. Shorter only to run the schedule fast.
WEBHOOKS_RETRY_DELAYS = _retry_delays(
    os.environ.get("WEBHOOKS_RETRY_DELAYS", "5,300,1800,7200,18000,36000,36000")
)

# --- Logging --------------------------------------------------------------------------------
# One line per record on stderr: JSON for log collectors (the default in production), or plain
# text for a developer's terminal (the default with DEBUG on). Every record carries the id of
# the request it belongs to (core.logging.RequestIdFilter); `evently.request` writes one
# line per request (core.middleware.RequestLogMiddleware).
LOG_FORMAT = os.environ.get("LOG_FORMAT", "").strip().lower() or ("text" if DEBUG else "json")
if LOG_FORMAT not in {"json", "text"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be json or text, got {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "core.logging.RequestIdFilter"}},
    "formatters": {
        "json": {"()": "core.logging.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        # Naming `django` drops the handlers Django's default config gives it (a second,
        # plain console in DEBUG; mail_admins, unused): its records reach ours once, as JSON.
        "django": {"level": "INFO"},
        "django.db.backends": {"level": "WARNING"},
    },
}
