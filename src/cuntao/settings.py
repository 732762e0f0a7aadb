"""Django settings, read from the environment through cuntao.env only.

Environment:
    DATABASE_URL         postgres://user@host:5432/name; default SQLite in the data dir
    CUNTAO_DATA_DIR      where the embedded database, uploads and static files live (./var)
    CUNTAO_SECRET_KEY    required unless CUNTAO_DEMO or CUNTAO_DEBUG is set
    CUNTAO_DEBUG         Django debug pages (never in production)
    CUNTAO_ALLOWED_HOSTS comma-separated host names (default: localhost names)
    CUNTAO_TIME_ZONE     the network's time zone (default Asia/Shanghai)
    CUNTAO_PHONE_REGION  region for phone numbers written without +country (default CN)
    CUNTAO_CURRENCY      ISO currency of all money amounts, kept in minor units (default CNY)
"""

import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url

from cuntao import env

PACKAGE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(env.get_str("CUNTAO_DATA_DIR", str(Path.cwd() / "var"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

DEMO = env.get_bool("CUNTAO_DEMO")
DEBUG = env.get_bool("CUNTAO_DEBUG")


def _local_secret() -> str:
    """Keep one random key per data dir, so demo sessions survive a restart."""
    path = DATA_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = env.get_mandatory_secret(
    "CUNTAO_SECRET_KEY", fallback=_local_secret() if (DEMO or DEBUG) else None
)
ALLOWED_HOSTS = env.get_list("CUNTAO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.get_list("CUNTAO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    # First, so its templates (login, password change) win over the admin's.
    "cuntao.core",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "ninja",
    "axes",
    "cuntao.network",
    "cuntao.villagers",
    "cuntao.notify",
    "cuntao.catalog",
    "cuntao.ledger",
    "cuntao.logistics",
    "cuntao.orders",
    "cuntao.produce",
    "cuntao.shop",
    "cuntao.community",
    "cuntao.impact",
    "cuntao.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "cuntao.core.scope.ScopeMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "cuntao.urls"
# Who may reach which county and station: read from the network app's memberships.
SCOPE_RESOLVER = "cuntao.network.selectors.scope_for_user"
WSGI_APPLICATION = "cuntao.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "cuntao.core.scope.scope_context",
            ],
        },
    },
]

# Database: PostgreSQL in production; SQLite in the data dir for the embedded demo.
DATABASES = {
    "default": dj_database_url.parse(
        env.get_str("DATABASE_URL", f"sqlite:///{DATA_DIR / 'cuntao.sqlite3'}"),
        conn_max_age=env.get_int("CUNTAO_DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets readers go on while one writer writes; IMMEDIATE takes the write
        # lock at BEGIN so two writers queue instead of failing half-way.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Each process keeps its own small cache (the public traceability page caches a lot's
# story for two minutes, two entries per lot); nothing in it is a source of truth.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "OPTIONS": {"MAX_ENTRIES": env.get_int("CUNTAO_CACHE_MAX_ENTRIES", 20_000)},
    }
}

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Failed logins: after 5 failures the account is locked, and so is the address,
# each on its own, for 15 minutes.
AXES_FAILURE_LIMIT = env.get_int("CUNTAO_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env.get_int("CUNTAO_LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_LOCKOUT_CALLABLE = "cuntao.core.views.locked_out"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
# Behind a proxy every request comes from the proxy: name the header it puts the
# client's address in (e.g. HTTP_X_FORWARDED_FOR), or all users share one lockout.
AXES_IPWARE_META_PRECEDENCE_ORDER = env.get_list("CUNTAO_CLIENT_IP_HEADERS", ["REMOTE_ADDR"])

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = env.get_str("CUNTAO_TIME_ZONE", "Asia/Shanghai")

PHONE_REGION = env.get_str("CUNTAO_PHONE_REGION", "CN")
# The most credit (赊账) a partner may extend to one villager, in fen.
ORDERS_CREDIT_LIMIT_MAX_FEN = env.get_int("CUNTAO_CREDIT_LIMIT_MAX_FEN", 200_000)
# Where SMS and voice notices go; the default records them in the database and the log.
NOTIFY_GATEWAY = env.get_str("CUNTAO_NOTIFY_GATEWAY", "cuntao.notify.gateways.DatabaseLogGateway")

# Where villagers and relatives reach this site from outside: links in text messages
# (pay links, tracking links) and on printed QR codes are made absolute with it.
PUBLIC_BASE_URL = env.get_str("CUNTAO_PUBLIC_BASE_URL", "").rstrip("/")  # "" = links relative to the page
# Online payments: the provider class; the sandbox behaves like a real one (signed,
# asynchronous webhooks) and is the default for the demo and tests.
PAYMENT_PROVIDER = env.get_str("CUNTAO_PAYMENT_PROVIDER", "cuntao.orders.payments.SandboxProvider")
ORDERS_PAY_LINK_HOURS = env.get_int("CUNTAO_PAY_LINK_HOURS", 48)
ORDERS_ONLINE_PAYMENT_MINUTES = env.get_int("CUNTAO_ONLINE_PAYMENT_MINUTES", 30)
CURRENCY = env.get_str("CUNTAO_CURRENCY", "CNY")

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
MEDIA_URL = "/media/"
MEDIA_ROOT = DATA_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Without collected files (tests, a fresh checkout) whitenoise serves from the apps.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 60 * 60 * 24 * 14  # a partner's phone stays logged in for two weeks
SESSION_COOKIE_SECURE = env.get_bool("CUNTAO_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

NINJA_PAGINATION_PER_PAGE = 50
NINJA_PAGINATION_MAX_LIMIT = 500

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.get_str("CUNTAO_LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}
