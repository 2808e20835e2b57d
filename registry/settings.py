"""The one settings file. Every setting comes from the environment (see README, "Settings");
a bad value stops start-up with a message instead of running half-configured."""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name, default):
    value = os.environ.get(name)
    if value is None:
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off", ""):
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def env_int(name, default, *, minimum=0):
    """A count, size or time: none is negative, and some must be at least 1 (a sign-in limit
    of 0 refuses every sign-in)."""
    value = os.environ.get(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        number = None
    if number is None or number < minimum:
        raise ImproperlyConfigured(
            f"{name} must be a whole number of at least {minimum}, not {value!r}"
        )
    return number


def env_path(name, default):
    """A folder. Empty is refused rather than read as the current folder, the code's."""
    value = os.environ.get(name)
    if value is None:
        return default
    if not value.strip():
        raise ImproperlyConfigured(f"{name} must name a folder, not be empty")
    return Path(value)


def env_list(name, default):
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "testserver"}

# A site served under a public name is production: everything it needs must come from the
# environment and be safe, or it does not start. On this machine alone (development, the
# tests, the demo) the defaults do no harm, and `make run` and `make test` need no settings.
PRODUCTION = bool(set(ALLOWED_HOSTS) - LOCAL_HOSTS)
if PRODUCTION:
    if DEBUG:
        raise ImproperlyConfigured(
            "DEBUG shows tracebacks and settings to anyone: it must be off when ALLOWED_HOSTS "
            "names a public host"
        )
    if "*" in ALLOWED_HOSTS:
        raise ImproperlyConfigured("ALLOWED_HOSTS must name the site's hosts, not '*'")
    if not os.environ.get("DATABASE_URL"):
        raise ImproperlyConfigured(
            "DATABASE_URL must be set when ALLOWED_HOSTS names a public host (without it, "
            "the site would run on a SQLite file in the code's folder)"
        )

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY must be set when ALLOWED_HOSTS names a public host")
    SECRET_KEY = "insecure-local-only-key"  # noqa: S105
elif PRODUCTION and (len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5):
    raise ImproperlyConfigured(
        "SECRET_KEY must be at least 50 random characters; make one with: python -c "
        "'import secrets; print(secrets.token_urlsafe(50))'"
    )

CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
CSRF_FAILURE_VIEW = "registry.views.csrf_failure"

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0),
        # A kept connection that the database dropped (a restart, a failover) is noticed at
        # the start of the next request and replaced: the site recovers by itself.
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # An unreachable database fails a request within seconds (a friendly 503), rather than
    # holding a gunicorn worker until it is killed.
    options = DATABASES["default"].setdefault("OPTIONS", {})
    options.setdefault("connect_timeout", 5)
    # Planner settings, which options given in DATABASE_URL override:
    # - every server-side cursor here (the streamed downloads) reads its whole result: plan
    #   it for all its rows, not for the first tenth (twice as fast for 20,000 rows);
    # - the registry's tables fit in memory (or SSD), where reading a row by an index costs
    #   little more than reading the next one; PostgreSQL's default (4) assumes spinning
    #   disks and hash-joins whole tables to look up the parties of a page of 20 (10 ms, not 1).
    planner = "-c cursor_tuple_fraction=1 -c random_page_cost=1.1"
    options["options"] = f"{planner} {options.get('options', '')}".strip()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "django_countries",
    "django_filters",
    "django_htmx",
    "simple_history",
    # Dependencies point one way: registry <- people <- agreements <- labs <- backoffice <- api.
    "registry",
    "people",
    "agreements",
    "labs",
    "backoffice",
    "api",
]

MIDDLEWARE = [
    # First, ahead of the host check and the HTTPS redirect: a load balancer or a container
    # health check asks by address, over plain HTTP.
    "registry.middleware.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "registry.middleware.NulCharacterMiddleware",
    "registry.middleware.AdminSelectionMiddleware",
    "registry.middleware.ContentSecurityPolicyMiddleware",
    "registry.middleware.DatabaseUnavailableMiddleware",
    # Outside LocaleMiddleware, whose Vary it completes.
    "registry.middleware.CacheHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Records the signed-in user on every history entry made during a request.
    "simple_history.middleware.HistoryRequestMiddleware",
    # A write through the admin makes cached search results out of date (registry/cache.py).
    "registry.cache.AdminWritesMiddleware",
]

ROOT_URLCONF = "registry.urls"
WSGI_APPLICATION = "registry.wsgi.application"

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
                "django.template.context_processors.i18n",
            ],
        },
    },
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env_path("STATIC_ROOT", BASE_DIR / "staticfiles")
if PRODUCTION:
    # gunicorn serves the static files itself, collected (bin/start) under names that change
    # with their content, so browsers may keep them for good.
    MIDDLEWARE.insert(
        MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
        "whitenoise.middleware.WhiteNoiseMiddleware",
    )
    STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
# Uploaded files are served by a view that decides who may see each (registry.views.upload):
# logos are public, an agreement's photos only while it is published. MEDIA_ACCEL_REDIRECT
# names the internal location of a web server in front (nginx, docker-compose.yml) that then
# sends the file; without it the app sends the file itself.
MEDIA_URL = os.environ.get("MEDIA_URL", "/media/")
if not (MEDIA_URL.startswith("/") and MEDIA_URL.endswith("/")):
    raise ImproperlyConfigured(f"MEDIA_URL must be a path such as /media/, not {MEDIA_URL!r}")
MEDIA_ROOT = env_path("MEDIA_ROOT", BASE_DIR / "media")
# whitenoise serves every file under STATIC_ROOT to anyone, whatever collectstatic put there:
# around the code it would publish .env and .git, around MEDIA_ROOT the photos of drafts.
for folder, what in ((BASE_DIR, "the code's folder"), (MEDIA_ROOT, "MEDIA_ROOT")):
    if STATIC_ROOT.resolve() in (folder.resolve(), *folder.resolve().parents):
        raise ImproperlyConfigured(
            f"STATIC_ROOT ({STATIC_ROOT}) must not hold {what}: every file in it is served "
            "to anyone"
        )
MEDIA_ACCEL_REDIRECT = os.environ.get("MEDIA_ACCEL_REDIRECT", "")

# Uploaded images (photos, logos): what we accept and what we keep.
IMAGE_MAX_BYTES = env_int("IMAGE_MAX_BYTES", 10 * 1024 * 1024, minimum=1)
IMAGE_MAX_PIXELS = env_int("IMAGE_MAX_PIXELS", 40_000_000, minimum=1)
IMAGE_MAX_SIDE = env_int("IMAGE_MAX_SIDE", 2400, minimum=1)
THUMBNAIL_SIDE = env_int("THUMBNAIL_SIDE", 320, minimum=1)
DATA_UPLOAD_MAX_MEMORY_SIZE = IMAGE_MAX_BYTES + 1024 * 1024

SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True

# Response headers, everywhere (so that development meets them first). No page has inline
# script or style: htmx's inline indicator style is turned off in base.html, and the charts
# are SVG drawn with presentation attributes, which style-src does not govern.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if PRODUCTION:
    # Served over HTTPS by a proxy in front (README, Deployment), which says so in
    # X-Forwarded-Proto; everything else is redirected there, and browsers are told to stay.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = env_int("HSTS_SECONDS", 365 * 24 * 60 * 60)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# The proxies in front that add the client's address to X-Forwarded-For (docker-compose.yml:
# nginx, and the HTTPS proxy before it). 0 trusts no such header: the client is the peer.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
# Staff sign-in: after this many failures for one account from one address, that pair is
# refused until LOGIN_LOCKOUT_MINUTES have passed since the last failure.
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
LOGIN_LOCKOUT_MINUTES = env_int("LOGIN_LOCKOUT_MINUTES", 15, minimum=1)
# And after this many failures from one address, whatever the accounts: one address trying a
# few passwords on many accounts (registry/login_limit.py).
LOGIN_ADDRESS_FAILURE_LIMIT = env_int("LOGIN_ADDRESS_FAILURE_LIMIT", 50, minimum=1)
# Staff who forgot their password ask the sign-in page for a link by mail (registry/
# password_reset.py), sent through EMAIL_HOST; on this machine without one, printed in the
# terminal of `make run`. A site served with no mail server offers no link: a page that
# said "sent" and sent nothing would leave a staff member waiting for nothing.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    # Django finds out at the first mail, a staff member's request for a link (a 500).
    raise ImproperlyConfigured("EMAIL_USE_TLS and EMAIL_USE_SSL cannot both be on")
# A mail server that does not answer fails the request within seconds, rather than holding a
# gunicorn worker until it is killed.
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "")
if not DEFAULT_FROM_EMAIL:
    if PRODUCTION and EMAIL_HOST:
        # Django's own default, webmaster@localhost, is refused by most mail servers.
        raise ImproperlyConfigured("DEFAULT_FROM_EMAIL must be set when EMAIL_HOST is")
    DEFAULT_FROM_EMAIL = "registry@localhost"
if not EMAIL_HOST and not PRODUCTION:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
PASSWORD_RESET_BY_MAIL = bool(EMAIL_HOST) or not PRODUCTION
# The review workflow's mail (agreements/notifications.py): publishers are told what awaits
# them, editors what became of what they submitted. On wherever mail can be sent.
REVIEW_MAIL = env_bool("REVIEW_MAIL", PASSWORD_RESET_BY_MAIL)
if REVIEW_MAIL and not PASSWORD_RESET_BY_MAIL:
    # Django would try a mail server on this machine at every move, and log its failure.
    raise ImproperlyConfigured("REVIEW_MAIL needs EMAIL_HOST, the mail server that sends it")
# A link works once, and for an hour: long enough to read one's mail, short enough that an
# old mail found in a mailbox later opens nothing.
PASSWORD_RESET_TIMEOUT = 60 * 60
# Links asked for one mail address, and from one network address whatever the mail address,
# in the hour since the last request; beyond that the request is refused (429), without
# saying whether the address has an account (it is counted the same either way).
PASSWORD_RESET_MAIL_LIMIT = env_int("PASSWORD_RESET_MAIL_LIMIT", 3, minimum=1)
PASSWORD_RESET_ADDRESS_LIMIT = env_int("PASSWORD_RESET_ADDRESS_LIMIT", 20, minimum=1)
# The cache must be shared by every process that serves the site: the sign-in failures and
# the search cache's generation (registry/cache.py) kept in one process's memory would let a
# guesser have 5 tries per worker, and a worker serve a withdrawn agreement from its cache.
# So production, and whatever bin/start serves with gunicorn's several workers (`make serve`
# on this machine too: it sets SERVED_BY_WORKERS), keep it in the database (the table is made
# by `createcachetable`, bin/start); `make run` and the tests, one process each, in memory.
SERVED_BY_WORKERS = env_bool("SERVED_BY_WORKERS", False)
if PRODUCTION or SERVED_BY_WORKERS:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "cache"}
    }
# With REDIS_URL every app server shares one cache in Redis (Django's own backend, which needs
# the `redis` package), and sessions, always in the database that all app servers share, are
# read from it first. Without it, sessions are read from the database.
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL and not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
    # Django's Redis cache reads the address at its first use, a sign-in: refuse it now.
    raise ImproperlyConfigured(
        f"REDIS_URL must be an address such as redis://127.0.0.1:6379/1, not {REDIS_URL!r}"
    )
SESSION_ENGINE = "django.contrib.sessions.backends.db"
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
# The search page's facets, charts, count and pages of results, and institution pages, kept
# per data generation (registry/cache.py).
SEARCH_CACHE = env_bool("SEARCH_CACHE", False)
SEARCH_CACHE_SECONDS = env_int("SEARCH_CACHE_SECONDS", 600)

# INFO: the sign-ins, imports, exports and merges an operator asks about later (README, Logs).
LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
LOG_LEVELS = ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
if LOG_LEVEL not in LOG_LEVELS:
    raise ImproperlyConfigured(
        f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, not {LOG_LEVEL!r}"
    )
# The app's lines share gunicorn's stream (bin/start), whose own and access lines are dated:
# dated alike, with the process, the level and the logger, so that an error's traceback is
# found beside the request that had it.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "dated": {
            "format": "[%(asctime)s] [%(process)d] [%(levelname)s] %(name)s: %(message)s",
            "datefmt": "%Y-%m-%d %H:%M:%S %z",
        }
    },
    "filters": {"request_user": {"()": "registry.logs.RequestUserFilter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "dated",
            "filters": ["request_user"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    # Django's own handlers go: its console one printed every line of Django's a second time
    # with DEBUG, and its "django" logger's level let Django's lines past LOG_LEVEL. Its mail
    # to ADMINS went nowhere: no ADMINS are set.
    "loggers": {"django": {"handlers": [], "level": LOG_LEVEL}},
}
