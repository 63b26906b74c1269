"""Orderdesk settings: every value that differs between a laptop and production
comes from the environment (see `.env.example`). The defaults are the embedded
run: SQLite in the data folder, jobs in-process, mail and SMS to the console."""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A .env file beside manage.py is read when present; real environment variables win.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=True)
DATA_DIR = Path(env.str("DATA_DIR", default=str(BASE_DIR / "data")))
DATA_DIR.mkdir(parents=True, exist_ok=True)

_DEVELOPMENT_SECRET_KEY = "orderdesk-development-key-not-for-production"
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = _DEVELOPMENT_SECRET_KEY

# Where `make run` serves; links in SMS and email follow them unless SITE_URL says otherwise.
HOST = env.str("HOST", default="127.0.0.1")
PORT = env.int("PORT", default=8000)
# The production web server (gunicorn, deploy/gunicorn.conf.py): processes, threads in each,
# seconds a request may run, seconds running requests get to finish on SIGTERM, keep-alive
# seconds, and requests before a process is replaced (0: never).
WEB_CONCURRENCY = env.int("WEB_CONCURRENCY", default=2)
WEB_THREADS = env.int("WEB_THREADS", default=4)
WEB_TIMEOUT = env.int("WEB_TIMEOUT", default=60)
WEB_GRACEFUL_TIMEOUT = env.int("WEB_GRACEFUL_TIMEOUT", default=30)
WEB_KEEPALIVE = env.int("WEB_KEEPALIVE", default=5)
WEB_MAX_REQUESTS = env.int("WEB_MAX_REQUESTS", default=5000)
ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=list(dict.fromkeys([HOST, "127.0.0.1", "localhost", "[::1]", "testserver"]))
)
SITE_URL = env.str("SITE_URL", default=f"http://{HOST}:{PORT}").rstrip("/")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[SITE_URL])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "orderdesk.accounts",
    "orderdesk.stores",
    "orderdesk.customers",
    "orderdesk.catalog",
    "orderdesk.photos",
    "orderdesk.orders",
    "orderdesk.vendors",
    "orderdesk.fulfillment",
    "orderdesk.aftersales",
    "orderdesk.notifications",
    "orderdesk.api",
    "orderdesk.reports",
]

MIDDLEWARE = [
    # A request id for every log line of the request and of the tasks it queues.
    "orderdesk.request_log.RequestIdMiddleware",
    # Load balancers' probes: answered before host checks and the HTTPS redirect.
    "orderdesk.web.health.HealthCheckMiddleware",
    # Outermost of the rest, so error pages and static files carry the policies too.
    "orderdesk.web.middleware.SecurityPolicyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "orderdesk.web.middleware.RefuseNulBytesMiddleware",
    # /api/ requests go from here to their view with CommonMiddleware and X-Frame-Options only:
    # the page middleware below has nothing to do for a request with an API key (api/middleware.py).
    "orderdesk.api.middleware.ApiRequestMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "orderdesk.web.middleware.UnreadableFormMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # Django's, reading the user with their memberships in one query (accounts/middleware.py).
    "orderdesk.accounts.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "orderdesk.accounts.middleware.ActorMiddleware",
]
# Django's database sessions with the session's read compiled once (accounts/sessions.py).
SESSION_ENGINE = "orderdesk.accounts.sessions"

ROOT_URLCONF = "orderdesk.urls"
WSGI_APPLICATION = "orderdesk.wsgi.application"

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
            ],
        },
    },
]

# PostgreSQL: psycopg prepares the hot fixed reads (off behind PgBouncer in transaction mode).
DATABASE_PREPARED_STATEMENTS = env.bool("DATABASE_PREPARED_STATEMENTS", default=True)
DATABASES = {"default": env.db_url("DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'orderdesk.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE takes the write lock when a transaction starts, so two
    # concurrent actions on one order serialize instead of both reading the
    # old state (SQLite has no SELECT ... FOR UPDATE). WAL lets readers go on.
    # A thread of each process copies the WAL into the database (orderdesk/sqlite_checkpoints.py),
    # so a request's commit no longer does every 1000 pages: it finishes the copy and starts the
    # WAL over every 10000 (WAL_PAGES there). journal_size_limit gives a WAL a large import grew
    # back to the disk (64 MiB kept) when it starts over. synchronous=NORMAL is the floor.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                "PRAGMA wal_autocheckpoint=10000; PRAGMA journal_size_limit=67108864;"
            ),
        }
    )
    # A file, not shared memory, so tests with threads wait on the lock as production does.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test-orderdesk.sqlite3")}
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # The hot fixed reads (compiled_queries.prepared_cursor) are prepared by psycopg after
        # this many runs on a connection. Off (None) for PgBouncer in transaction mode, whose
        # server connections do not keep a client's prepared statements.
        DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
            "prepare_threshold", 5 if DATABASE_PREPARED_STATEMENTS else None
        )
DATABASES["default"]["ATOMIC_REQUESTS"] = False

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
# Stored in UTC; each merchant's own time zone is activated per request.
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
DEFAULT_MERCHANT_TIME_ZONE = "Asia/Manila"
DEFAULT_CURRENCY = "PHP"

STATIC_URL = "/static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(DATA_DIR / "static")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # collectstatic fills it for production
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(DATA_DIR / "media")))
# STORAGE_URL names where photos (and any other stored file) go:
#   file:///srv/media                       a local folder (as MEDIA_ROOT; the default is data/media)
#   s3://bucket?endpoint=https://…&region=… any S3-compatible store (AWS, MinIO, R2, …) through
#                                           django-storages; credentials from AWS_ACCESS_KEY_ID and
#                                           AWS_SECRET_ACCESS_KEY (or the machine's role).
# Objects stay private there: every link to one is signed and expires after PHOTO_URL_EXPIRE_SECONDS.
STORAGE_URL = env.str("STORAGE_URL", default="")
PHOTO_URL_EXPIRE_SECONDS = env.int("PHOTO_URL_EXPIRE_SECONDS", default=900)
# Unset: boto3 finds credentials itself (the machine's or container's role, ~/.aws).
AWS_ACCESS_KEY_ID = env.str("AWS_ACCESS_KEY_ID", default="")
AWS_SECRET_ACCESS_KEY = env.str("AWS_SECRET_ACCESS_KEY", default="")


def default_storage_settings(
    url: str, *, url_expire_seconds: int, access_key: str = "", secret_key: str = ""
) -> dict:
    """STORAGES["default"] for a STORAGE_URL (empty or file://: the local folder, MEDIA_ROOT)."""
    from urllib.parse import parse_qs, urlsplit

    if not url or url.startswith("file://"):
        # No location option: the storage follows MEDIA_ROOT (set from the URL below).
        return {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc:
        raise ImproperlyConfigured(
            f"STORAGE_URL {parts.scheme or url}:// is not supported; use file:///path or s3://bucket?endpoint=…"
        )
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    unknown = set(query) - {"endpoint", "region", "prefix", "addressing_style"}
    if unknown:
        raise ImproperlyConfigured(f"STORAGE_URL does not know {', '.join(sorted(unknown))}.")
    endpoint = query.get("endpoint") or None
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": parts.netloc,
            "endpoint_url": endpoint,
            "region_name": query.get("region") or None,
            "location": (query.get("prefix") or parts.path).strip("/"),
            # Private objects, reached only by signed links that expire.
            "default_acl": "private",
            "querystring_auth": True,
            "querystring_expire": url_expire_seconds,
            "file_overwrite": False,
            # Most S3-compatible servers (MinIO, a loopback test server) want the bucket in the path.
            "addressing_style": query.get("addressing_style") or ("path" if endpoint else None),
            "signature_version": "s3v4",
            **({"access_key": access_key, "secret_key": secret_key} if access_key else {}),
        },
    }


def storage_origin(storage: dict) -> str | None:
    """The origin a browser loads stored files from (for img-src), or None when they are ours."""
    from urllib.parse import urlsplit

    options = storage.get("OPTIONS", {})
    if storage["BACKEND"] != "storages.backends.s3.S3Storage":
        return None
    bucket, endpoint = options["bucket_name"], options.get("endpoint_url")
    if not endpoint:
        region = options.get("region_name") or "us-east-1"
        return f"https://{bucket}.s3.{region}.amazonaws.com"
    parts = urlsplit(endpoint)
    host = parts.netloc if options.get("addressing_style") == "path" else f"{bucket}.{parts.netloc}"
    return f"{parts.scheme}://{host}"


STORAGES = {
    "default": default_storage_settings(
        STORAGE_URL,
        url_expire_seconds=PHOTO_URL_EXPIRE_SECONDS,
        access_key=AWS_ACCESS_KEY_ID,
        secret_key=AWS_SECRET_ACCESS_KEY,
    ),
    # Production: hashed names (cached for good) and gzip copies made by collectstatic,
    # served by WhiteNoise from the web processes. With DEBUG on (and in the tests) the files are
    # found where they are, so nothing needs collectstatic.
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "orderdesk.web.static_storage.HashedGzippedStaticFiles"
        )
    },
}
if STORAGE_URL.startswith("file://"):
    MEDIA_ROOT = Path(STORAGE_URL.removeprefix("file://"))
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

# Encrypts store credentials and webhook secrets at rest (orderdesk.stores.credentials).
_DEVELOPMENT_CREDENTIALS_KEY = "orderdesk-development-credentials-key-not-for-production"
CREDENTIALS_KEY = env.str("CREDENTIALS_KEY", default="")
if not CREDENTIALS_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "CREDENTIALS_KEY must be set when DEBUG is off: it encrypts store credentials "
            "and webhook secrets (any long random string; keep it, or stores must be reconnected)."
        )
    CREDENTIALS_KEY = _DEVELOPMENT_CREDENTIALS_KEY

# Lets webhooks go over http and to loopback/private addresses (a receiver on your own
# machine). Development and tests only: refused with DEBUG off, where endpoints must be
# https and resolve to public addresses, checked again at every send.
WEBHOOK_ALLOW_PRIVATE_ADDRESSES = env.bool("WEBHOOK_ALLOW_PRIVATE_ADDRESSES", default=False)
if WEBHOOK_ALLOW_PRIVATE_ADDRESSES and not DEBUG:
    raise ImproperlyConfigured(
        "WEBHOOK_ALLOW_PRIVATE_ADDRESSES is for development only; unset it when DEBUG is off."
    )

# Upload limits for photos (dispatch, after-sales).
PHOTO_MAX_FILES = env.int("PHOTO_MAX_FILES", default=5)
PHOTO_MAX_BYTES = env.int("PHOTO_MAX_BYTES", default=5 * 1024 * 1024)
# A photo over this many pixels is refused before it is decoded (decompression bombs).
PHOTO_MAX_PIXELS = env.int("PHOTO_MAX_PIXELS", default=40_000_000)
# Django must accept a full set of photos in one request before we check them.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Orderdesk <orders@orderdesk.local>")
# Seconds an SMTP server may take to connect or answer, for every email Django sends.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
SERVER_EMAIL = DEFAULT_FROM_EMAIL

SMS_BACKEND = env.str("SMS_BACKEND", default="console")
SMS_SENDER_NAME = env.str("SMS_SENDER_NAME", default="")
SMS_FILE_PATH = Path(env.str("SMS_FILE_PATH", default=str(DATA_DIR / "sms")))
TWILIO_ACCOUNT_SID = env.str("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env.str("TWILIO_AUTH_TOKEN", default="")
TWILIO_API_BASE = env.str("TWILIO_API_BASE", default="https://api.twilio.com")
SEMAPHORE_API_KEY = env.str("SEMAPHORE_API_KEY", default="")
SEMAPHORE_API_BASE = env.str("SEMAPHORE_API_BASE", default="https://api.semaphore.co")
SMS_WEBHOOK_URL = env.str("SMS_WEBHOOK_URL", default="")
SMS_WEBHOOK_SECRET = env.str("SMS_WEBHOOK_SECRET", default="")

CELERY_TASK_ALWAYS_EAGER = not env.str("CELERY_BROKER_URL", default="")
# Unset: jobs run in-process (eager); the in-memory URL only keeps Celery from looking for a broker.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="") or "memory://localhost/"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_IGNORE_RESULT = True
# Tasks run at once per worker process [its CPU count]; each takes one task at a time, so a
# worker that dies holds back no more than it was running.
CELERY_WORKER_CONCURRENCY = env.int("CELERY_WORKER_CONCURRENCY", default=0) or None
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A task taken by a worker that died unacknowledged is handed out again after this many seconds
# (Redis); keep it above the longest task. The outbox's sweep delivers such messages sooner.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT_SECONDS", default=3600)
}

FACEBOOK_APP_ID = env.str("FACEBOOK_APP_ID", default="")
FACEBOOK_APP_SECRET = env.str("FACEBOOK_APP_SECRET", default="")

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_AUTHENTICATION_CLASSES": ["orderdesk.api.authentication.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["orderdesk.api.authentication.HasApiKey"],
    "DEFAULT_THROTTLE_CLASSES": ["orderdesk.api.throttling.PerApiKeyThrottle"],
    # Requests per API key, counted in CACHE_URL's cache (shared by all workers when it is Redis).
    "DEFAULT_THROTTLE_RATES": {"api_key": env.str("API_THROTTLE_RATE", default="1200/min")},
    "EXCEPTION_HANDLER": "orderdesk.api.problems.handle_api_exception",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Orderdesk API",
    "VERSION": "1.0.0",
    "DESCRIPTION": (
        "Orders, shipments, stores, products, customers, vendors and hosting of one merchant, reached "
        "with an API key (`Authorization: Bearer odk_…`).\n\n"
        "**Webhooks.** The owner registers endpoints on the Account page. Each event (`order.created`, "
        "`order.paid`, `order.dispatched`, `order.fulfilled`, `order.cancelled`, `shipment.updated`) is "
        'POSTed as `{"id", "type", "timestamp", "data"}` — `data` is the order (without its events) or '
        "the shipment as this API shows it — signed the Standard Webhooks way: `webhook-id` (the event "
        "id), `webhook-timestamp`, and `webhook-signature: v1,<base64 HMAC-SHA256 of "
        '"id.timestamp.body" under the secret>`. Answer 2xx; anything else is retried with back-off.'
    ),
    # Swagger UI and Redoc come from drf-spectacular-sidecar's static files, never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SERVE_INCLUDE_SCHEMA": False,
    "ENUM_NAME_OVERRIDES": {
        "OrderStatusEnum": "orderdesk.orders.models.Order.Status",
        "ShippingStatusEnum": "orderdesk.fulfillment.models.Fulfillment.ShippingStatus",
    },
}

if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
    SECURE_CONTENT_TYPE_NOSNIFF = True

# Pages run only the app's own scripts (htmx is vendored in web/static): no inline script,
# no inline event handler, no inline style, nothing from another site. Facebook is named
# because signing in with it posts a form here that redirects there.
CONTENT_SECURITY_POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "frame-ancestors": ["'none'"],
    "form-action": ["'self'", "https://www.facebook.com"],
}
if storage_origin(STORAGES["default"]):
    # Photos in object storage are shown by their signed links, straight from the store.
    CONTENT_SECURITY_POLICY["img-src"].append(storage_origin(STORAGES["default"]))
# No page needs these; a page that is ever injected cannot ask for them either.
PERMISSIONS_POLICY = {
    feature: []
    for feature in [
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "usb",
    ]
}

# LOG_FORMAT=json writes one JSON object a line (for a log collector); plain is for people.
# Every line a request or the task it queued writes carries its request id (orderdesk/request_log.py).
LOG_FORMAT = env.str("LOG_FORMAT", default="plain")
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured("LOG_FORMAT must be plain or json.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "orderdesk.request_log.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "orderdesk.request_log.JsonFormatter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["request_id"], "formatter": LOG_FORMAT}
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # Django's own console handler would print each of its lines a second time beside root's
    # ("Watching for file changes" twice under runserver looked like two reloaders).
    "loggers": {"django": {"handlers": [], "level": "INFO", "propagate": True}},
}
# Celery workers log through the same handlers and format as the web processes.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- Web app: sign-in and pages (issue 3) ---
# Our apps come before allauth so their templates (sign-in page, layout) win.
INSTALLED_APPS += [
    "orderdesk.web",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.facebook",
]
MIDDLEWARE.append("allauth.account.middleware.AccountMiddleware")
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
FORM_RENDERER = "orderdesk.web.forms.OrderdeskFormRenderer"


# allauth keeps its rate-limit counters in the cache; with several web processes
# point CACHE_URL at a shared cache (redis://…) so the limits hold across them.
def cache_settings(url: str) -> dict:
    """The cache at `url`; a shared one (redis://…) falls back to the web process's memory while down."""
    config = environ.Env.cache_url_config(url)
    if config["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache":
        return config
    if "redis" in config["BACKEND"]:
        # A cache that does not answer within a second counts as down.
        config.setdefault("OPTIONS", {}).update({"socket_connect_timeout": 1, "socket_timeout": 1})
    return {
        "BACKEND": "orderdesk.accounts.fallback_cache.CacheWithLocalFallback",
        "OPTIONS": {"SHARED": config},
    }


CACHES = {"default": cache_settings(env.str("CACHE_URL", default="locmemcache://"))}

LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"
ACCOUNT_ADAPTER = "orderdesk.accounts.adapters.ShopAccountAdapter"
SOCIALACCOUNT_ADAPTER = "orderdesk.accounts.adapters.InvitationOnlySocialAccountAdapter"
# The sign-up page (/accounts/signup/) opens a new shop with its owner; off, people join only by
# invitation and operators open shops with `manage.py create_shop`. Open on a laptop, closed in production.
SIGNUP_OPEN = env.bool("SIGNUP_OPEN", default=DEBUG)
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]
# People join by an owner's invitation, whose link proves the address. Sign-up (SIGNUP_OPEN)
# does not check the new owner's address yet.
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_RATE_LIMITS = {
    # After 5 wrong passwords for one email from one client address in 5 minutes, that email
    # is refused from that address for a while ("key" is the email and the address together,
    # see accounts/adapters.py); after 10 a minute from one address, that address is refused
    # for accounts that have not signed in from it before.
    "login_failed": env.str("LOGIN_FAILED_RATE_LIMIT", default="10/m/ip,5/5m/key"),
}
# How many reverse proxies of ours stand in front (each appends to X-Forwarded-For);
# 0 = clients connect directly and X-Forwarded-For is ignored (anyone can forge it).
ALLAUTH_TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
SOCIALACCOUNT_PROVIDERS = {
    "facebook": {
        "METHOD": "oauth2",
        "SCOPE": ["email", "public_profile"],
        # Configured here, not in the database; no app means no Facebook button.
        "APPS": (
            [{"client_id": FACEBOOK_APP_ID, "secret": FACEBOOK_APP_SECRET, "key": ""}]
            if FACEBOOK_APP_ID and FACEBOOK_APP_SECRET
            else []
        ),
    }
}
SOCIALACCOUNT_LOGIN_ON_GET = False

# --- Notifications (issue 4) ---
INSTALLED_APPS += ["orderdesk.customer_page"]
# Attempts at one message before it is marked failed (a merchant can then resend it).
NOTIFICATION_MAX_ATTEMPTS = env.int("NOTIFICATION_MAX_ATTEMPTS", default=6)
# Waits between attempts double from the base up to the cap: 30 s, 1 min, 2 min, … 1 h.
NOTIFICATION_RETRY_BASE_SECONDS = env.int("NOTIFICATION_RETRY_BASE_SECONDS", default=30)
NOTIFICATION_RETRY_MAX_SECONDS = env.int("NOTIFICATION_RETRY_MAX_SECONDS", default=3600)
# How long a provider may take to answer (SMTP and HTTP read timeout).
NOTIFICATION_SEND_TIMEOUT_SECONDS = env.int("NOTIFICATION_SEND_TIMEOUT_SECONDS", default=15)
# A row left in "sending" this long (the worker died) is taken up again by the sweep;
# it must stay well above the send timeout, or a slow send could be repeated.
NOTIFICATION_SENDING_LEASE_SECONDS = env.int("NOTIFICATION_SENDING_LEASE_SECONDS", default=300)
NOTIFICATION_SWEEP_SECONDS = env.int("NOTIFICATION_SWEEP_SECONDS", default=60)
# Without a Celery broker, a thread in the web process delivers after commit, so a slow
# provider never holds up a request. (The tests turn it off to deliver inline, in order.)
NOTIFICATION_DELIVERY_THREAD = True
CELERY_BEAT_SCHEDULE = {
    "notifications-sweep": {
        "task": "orderdesk.notifications.tasks.sweep_notifications",
        "schedule": float(NOTIFICATION_SWEEP_SECONDS),
    },
}
# Lets deployments (and test runs) that share one broker keep their queues apart.
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="celery")

# --- Store sync (issue 9) ---
# A connected store's first sync takes in paid, unfulfilled orders of this many days back.
STORE_BACKFILL_DAYS = env.int("STORE_BACKFILL_DAYS", default=30)
# A Shopify backfill of at least this many orders (Shopify's count for the window) is read as
# one bulk export (bulkOperationRunQuery) instead of pages of 24; 0 always pages.
STORE_BULK_BACKFILL_ORDERS = env.int("STORE_BULK_BACKFILL_ORDERS", default=1000)
# How often the poll asks each store for orders changed since its cursor (catching missed webhooks).
STORE_POLL_MINUTES = env.int("STORE_POLL_MINUTES", default=5)
# How long a store's API may take to answer one request.
STORE_API_TIMEOUT_SECONDS = env.int("STORE_API_TIMEOUT_SECONDS", default=20)
# A webhook body over this size is refused with 413.
STORE_WEBHOOK_MAX_BYTES = env.int("STORE_WEBHOOK_MAX_BYTES", default=1_048_576)
# Without a Celery broker, webhook deliveries and syncs run in threads of the web process after
# commit, so the request answers at once. (The tests turn it off to run them inline, in order.)
STORE_BACKGROUND_THREAD = True
CELERY_BEAT_SCHEDULE["stores-poll"] = {
    "task": "orderdesk.stores.tasks.poll_stores",
    "schedule": float(STORE_POLL_MINUTES * 60),
}

# --- The vendor portal and carrier tracking (issue 10) ---
INSTALLED_APPS += ["orderdesk.shipments"]
# A shipment not yet delivered with no tracking event for this many days is flagged "needs attention".
SHIPMENT_SILENT_DAYS = env.int("SHIPMENT_SILENT_DAYS", default=5)
# A carrier-tracking (AfterShip) webhook whose `ts` is older than this, or this far in the future,
# is refused as a replay.
CARRIER_WEBHOOK_MAX_AGE_SECONDS = env.int("CARRIER_WEBHOOK_MAX_AGE_SECONDS", default=86_400)
# --- Reports and exports (issue 13) ---
# The Reports page asks for a background refresh of the daily roll-ups when the last one is older
# than this; Celery beat refreshes every merchant's as often.
REPORTS_ROLLUP_MAX_AGE_SECONDS = env.int("REPORTS_ROLLUP_MAX_AGE_SECONDS", default=60)
# Exports of up to this many rows stream at once; larger ones are made in the background,
# with progress, a download link and an email.
REPORTS_EXPORT_STREAM_MAX_ROWS = env.int("REPORTS_EXPORT_STREAM_MAX_ROWS", default=5000)
# Without a Celery broker, background report work runs in the web process (orderdesk.background).
REPORTS_BACKGROUND_THREAD = True
# A lane of that in-process runner keeps its database connection this long after its last job,
# so a busy server's messages do not open a new connection each (0: closed when it goes idle).
BACKGROUND_IDLE_SECONDS = env.float("BACKGROUND_IDLE_SECONDS", default=2.0)
CELERY_BEAT_SCHEDULE["reports-rollups"] = {
    "task": "orderdesk.reports.tasks.refresh_rollups",
    "schedule": float(REPORTS_ROLLUP_MAX_AGE_SECONDS),
}
