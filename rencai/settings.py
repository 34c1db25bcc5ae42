"""Rencai settings. Every value that differs between machines comes from the environment
(see docs/operations.md); a malformed value stops start-up with a message naming it."""

import ipaddress
import secrets
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_noop

from rencai.env import env_bool, env_int, env_list, env_str, parse_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("RENCAI_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DEBUG", False)


def _secret_key() -> str:
    key = env_str("SECRET_KEY")
    if key:
        return key
    # Development and the embedded demo: one random key kept under var/, never in git.
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.forms",
    "captcha",
    # backup, restore, and a db_worker that requeues the tasks of dead workers: before
    # django_tasks_db so that `manage.py db_worker` is rencai.ops's (docs/operations.md)
    "rencai.ops",
    "django_tasks",
    "django_tasks_db",
    "ninja",
    "rencai.audit",
    "rencai.orgs",
    "rencai.accounts",
    "rencai.notifications",
    "rencai.profiles",
    "rencai.programs",
    "rencai.applications",
    "rencai.integrations",
    "rencai.talent",
    "rencai.agency",
    "rencai.portal",
    "rencai.cms",
    "rencai.integrity",
    "rencai.review",
    "rencai.housing",
    "rencai.api",
]

# Widgets render through TEMPLATES, so the project can override a package's widget
# template (the captcha picture becomes a keyboard-usable button).
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "rencai.security.SecurityHeadersMiddleware",  # Content-Security-Policy (issue 8)
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "rencai.loadshed.ConcurrencyLimitMiddleware",
    "rencai.accounts.ratelimit.ClientAddressMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "rencai.accounts.middleware.SessionTouchMiddleware",
    "rencai.portal.middleware.CookieLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Keeps each upload's name as sent, for the checks to refuse (before CSRF reads the form).
    "rencai.uploadnames.RawUploadNameMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "rencai.accounts.middleware.StaffTwoFactorMiddleware",
    # Logs every 403, and every 404 on a route that names an object (issue 8).
    "rencai.audit.middleware.DeniedAccessMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "rencai.accounts.middleware.PendingRegistrationMiddleware",
]

ROOT_URLCONF = "rencai.urls"
WSGI_APPLICATION = "rencai.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "rencai" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "rencai.portal.context_processors.city",
                "rencai.applications.context_processors.inbox",
            ],
        },
    },
]

DATABASES = {
    "default": parse_database_url(
        env_str("DATABASE_URL", "sqlite:///var/rencai.sqlite3"), base_dir=BASE_DIR
    )
}
# A PostgreSQL read replica (issue 7, docs/operations.md "Scaling out"): only reads inside
# rencai.dbrouter.use_replica() (exports, statistics) go there. In tests it mirrors the
# test database (no second database is created).
if env_str("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = {
        **parse_database_url(env_str("DATABASE_REPLICA_URL"), base_dir=BASE_DIR),
        "TEST": {"MIRROR": "default"},
    }
# Always installed: without a "replica" database every query goes to default.
DATABASE_ROUTERS = ["rencai.dbrouter.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["rencai.accounts.backends.IdentifierBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:centre"
LOGOUT_REDIRECT_URL = "portal:home"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # Staff and administrators (MLPS level 3): 10+ characters, 3 of 4 character classes.
    {
        "NAME": "rencai.accounts.validators.StaffPasswordValidator",
        "OPTIONS": {"min_length": env_int("RENCAI_STAFF_PASSWORD_MIN_LENGTH", 10, minimum=8)},
    },
]
# Staff and administrators confirm a TOTP code after the password (issue 8); their
# sessions end after SESSION_STAFF_IDLE_SECONDS idle instead of SESSION_COOKIE_AGE.
RENCAI_STAFF_TOTP = env_bool("RENCAI_STAFF_TOTP", True)
SESSION_STAFF_IDLE_SECONDS = env_int("SESSION_STAFF_IDLE_SECONDS", 15 * 60, minimum=60)
# Per client address (rencai.accounts.ratelimit): (requests, window in seconds); 0 = off.
RENCAI_RATE_LIMITS = {
    "login": (env_int("RENCAI_RATE_LOGIN_PER_IP", 60, minimum=0), 10 * 60),
    "sms": (env_int("RENCAI_RATE_SMS_PER_IP", 30, minimum=0), 60 * 60),
    "register": (env_int("RENCAI_RATE_REGISTER_PER_IP", 20, minimum=0), 60 * 60),
}

CSRF_FAILURE_VIEW = "rencai.portal.errors.csrf_failure"  # in Chinese, not Django's page
SESSION_ENGINE = "rencai.accounts.sessions"  # Django's database sessions (issue 7)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 30 * 60, minimum=60)

# Load shedding (issue 7, rencai/loadshed.py, rencai/server.py): requests a server process
# works on at once; under gunicorn the others wait in the listen queue for the first free
# slot of any process, elsewhere (or on a kept-alive connection) one more waits at most
# RENCAI_BUSY_WAIT_SECONDS, then gets 503 "busy" with Retry-After. 0 turns it off. A few
# per process keep the cores busy without the threads fighting (docs/operations.md).
RENCAI_MAX_IN_FLIGHT = env_int("RENCAI_MAX_IN_FLIGHT", 4, minimum=0)
RENCAI_BUSY_WAIT_SECONDS = env_int("RENCAI_BUSY_WAIT_MS", 2000, minimum=0) / 1000
RENCAI_RETRY_AFTER_SECONDS = env_int("RENCAI_RETRY_AFTER_SECONDS", 5, minimum=1)
# Connections that may wait in the listen queue while every slot is taken; past that the
# gunicorn worker answers new ones "busy" itself (rencai/server.py).
RENCAI_SERVER_QUEUE = env_int("RENCAI_SERVER_QUEUE", 64, minimum=0)
# The idle timeout restarts with activity; the session is saved at most once a minute
# (rencai.accounts.middleware.SessionTouchMiddleware), not on every request.
SESSION_SAVE_EVERY_REQUEST = False
SESSION_TOUCH_SECONDS = env_int("SESSION_TOUCH_SECONDS", 60, minimum=1)

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "rencai" / "static"]
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(VAR_DIR / "media")},
    },
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG
# Uploads (issue 8, rencai/profiles/materials.py): one person's materials together may
# take at most this many bytes (200 MB); 0 turns the quota off.
RENCAI_USER_QUOTA_BYTES = env_int("RENCAI_USER_QUOTA_BYTES", 200 * 1024 * 1024, minimum=0)

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}

# Picture captcha (F07). The test-only answer "PASSED" is switched on by
# rencai/settings_test.py and never by an environment variable.
CAPTCHA_TEST_MODE = False
CAPTCHA_LENGTH = 4
CAPTCHA_IMAGE_SIZE = (120, 40)
CAPTCHA_FONT_SIZE = 30
CAPTCHA_CHALLENGE_FUNCT = "captcha.helpers.random_char_challenge"

# Personal data at rest (issue 8, rencai/crypto.py, docs/security.md "Keys"): AES-GCM keys
# as "id:base64,id:base64" (the first encrypts) and the blind-index key (base64). Unset,
# both are derived from SECRET_KEY: set them in production.
RENCAI_DATA_KEYS = env_str("RENCAI_DATA_KEYS", "")
RENCAI_INDEX_KEY = env_str("RENCAI_INDEX_KEY", "")

# Audit log retention (issue 8, docs/security.md): rows are kept at least this many days;
# `manage.py purge_audit` removes older ones only after `export_audit` shipped them.
# China's graded-protection baseline asks for at least 180 days.
RENCAI_AUDIT_RETENTION_MINIMUM_DAYS = 180
RENCAI_AUDIT_RETENTION_DAYS = env_int(
    "RENCAI_AUDIT_RETENTION_DAYS", 365, minimum=RENCAI_AUDIT_RETENTION_MINIMUM_DAYS
)

# SMS: every message goes to the outbox table, then to this backend (F06, F07).
SMS_BACKEND = env_str("SMS_BACKEND", "rencai.notifications.sms.FileBackend")
SMS_FILE_PATH = Path(env_str("SMS_FILE_PATH", str(VAR_DIR / "sms-outbox.log")))
SMS_HTTP_URL = env_str("SMS_HTTP_URL", "")
SMS_CODE_TTL_SECONDS = 5 * 60
SMS_CODE_INTERVAL_SECONDS = 60
SMS_CODE_DAILY_LIMIT = 10
SMS_CODE_MAX_ATTEMPTS = 5

# Per-city configuration. The defaults are marked for translation (gettext_noop) so an English
# reader sees the demo city in English; names an operator sets are shown as set.
# The policy packs of the engine issue take these over;
# until then a city is configured here and through the environment.
RENCAI_CITY = {
    "name": env_str("RENCAI_CITY_NAME", gettext_noop("示范市")),
    "platform_name": env_str("RENCAI_PLATFORM_NAME", gettext_noop("人才补贴申报平台")),
    "employer_registration_review": env_bool("RENCAI_EMPLOYER_REVIEW", True),
    "person_registration_review": env_bool("RENCAI_PERSON_REVIEW", True),
    "lockout_failures": env_int("RENCAI_LOCKOUT_FAILURES", 10, minimum=1),
    "lockout_contact": env_str(
        "RENCAI_LOCKOUT_CONTACT",
        gettext_noop("请发送邮件至 rencai-help@example.gov.cn 或拨打 0000-1234567 联系管理员解锁"),
    ),
    "help_technical": env_str("RENCAI_HELP_TECHNICAL", "0000-1234567"),
    "help_policy": env_str("RENCAI_HELP_POLICY", "0000-7654321"),
    "help_mailbox": env_str("RENCAI_HELP_MAILBOX", "rencai-help@example.gov.cn"),
}

# HTTP hardening (issue 8, docs/security.md), in development too. The CSP comes from
# rencai.security. HSTS is sent only over HTTPS: 0 (off) by default; in production
# 31536000 (a year) once every host of the domain serves HTTPS. Behind a TLS-terminating
# proxy that sets X-Forwarded-Proto, SECURE_PROXY_SSL_HEADER=1 makes Django see HTTPS.
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# The load balancers and reverse proxies in front of the app servers (addresses or
# networks, comma-separated): only from them is X-Forwarded-For believed, for the client
# address of the audit log and the per-address limits (rencai.audit.services.client_ip).
RENCAI_TRUSTED_PROXIES = env_list("RENCAI_TRUSTED_PROXIES", [])
for _proxy in RENCAI_TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"RENCAI_TRUSTED_PROXIES: {_proxy!r} is not an address or network"
        ) from None

# Background work (batch actions of thousands of items): the django-tasks API with its
# database backend; `manage.py db_worker` runs the tasks (`make run` starts one).
TASKS = {"default": {"BACKEND": "rencai.ops.tasks.DatabaseBackend", "QUEUES": ["default"]}}

# Serving (issue 7, docs/operations.md "Serving"): keep a database connection open between
# requests for DATABASE_CONN_MAX_AGE seconds (0 closes it after each request), checked
# before reuse. Under gunicorn's threaded workers that is one connection per thread.
DATABASES["default"]["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 0, minimum=0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Or, on PostgreSQL, a connection pool per server process (psycopg_pool): its threads share
# DATABASE_POOL_MAX_SIZE connections (0 = no pool), DATABASE_POOL_MIN_SIZE kept open.
# A request waits at most 10 s for a free connection. Replaces DATABASE_CONN_MAX_AGE.
if DATABASES["default"]["ENGINE"].endswith("postgresql") and env_int(
    "DATABASE_POOL_MAX_SIZE", 0, minimum=0
):
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env_int("DATABASE_POOL_MIN_SIZE", 2, minimum=0),
        "max_size": env_int("DATABASE_POOL_MAX_SIZE", 0, minimum=1),
        "timeout": 10,
    }
# On PostgreSQL a statement a connection has run five times is prepared: the server
# parses and plans it once, not on every request (issue 7: a submission's planning time
# was a fifth of the database's work). Needs server-side parameter binding. Turn it off
# (DATABASE_PREPARED_STATEMENTS=0) behind a pooler that cannot keep prepared statements
# (PgBouncer in transaction mode before 1.21).
for _alias in DATABASES:
    if DATABASES[_alias]["ENGINE"].endswith("postgresql") and env_bool(
        "DATABASE_PREPARED_STATEMENTS", True
    ):
        _options = DATABASES[_alias].setdefault("OPTIONS", {})
        _options["server_side_binding"] = True
        _options["prepare_threshold"] = 5
# The benchmark's baseline view (bench/bench.py): off everywhere but in `make bench`.
RENCAI_BENCH_ENDPOINTS = env_bool("RENCAI_BENCH_ENDPOINTS", False)
