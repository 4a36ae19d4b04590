"""Settings shared by every environment. Everything that differs comes from the environment.

See docs/configuration.md for each variable.
"""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
env_file = BASE_DIR / ".env"
if env_file.exists():
    environ.Env.read_env(str(env_file))

SECRET_KEY = env("DJANGO_SECRET_KEY", default="insecure-development-key-do-not-use-in-production")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "django_tasks",
    "django_tasks_db",
    "apps.core",
    "apps.accounts",
    "apps.reference",
    "apps.frameworks",
    "apps.inspections",
    "apps.fieldwork",
    "apps.notifications",
    "apps.disclosure",
    "apps.findings",
    "apps.reports",
    "apps.followup",
    "apps.themes",
    "apps.portal",
    "apps.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "apps.core.middleware.RequestContextMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "apps.accounts.middleware.TwoFactorRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "inspectorate.urls"
WSGI_APPLICATION = "inspectorate.wsgi.application"

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
                "apps.core.context_processors.service",
            ],
        },
    },
]

DEFAULT_DATABASE_URL = f"sqlite:///{BASE_DIR / 'var' / 'inspectorate.sqlite3'}"
DATABASES = {"default": env.db("DATABASE_URL", default=DEFAULT_DATABASE_URL)}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers carry on while one request writes; busy timeout waits instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"}
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

# A cache every process of the site shares: Redis in production (CACHE_URL=redis://...), a
# directory of files on one machine. Sessions read through it (cached_db), and pages cache
# what they read under data versions that every write bumps (see apps/core/cache.py).
CACHES = {"default": env.cache("CACHE_URL", default=f"filecache://{BASE_DIR / 'var' / 'cache'}")}
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "apps.accounts.backends.UserBackend",
    "apps.accounts.permissions.RoleBackend",
]
LOGIN_URL = "accounts:sign-in"
LOGIN_REDIRECT_URL = "inspections:staff-home"
LOGOUT_REDIRECT_URL = "core:home"

# Sign-in throttling (django-axes): lock a username+IP pair after repeated failures.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.25)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_USERNAME_FORM_FIELD = "username"

# Two-factor sign-in (django-otp TOTP). Production turns this on for all staff.
INSPECTORATE_REQUIRE_2FA = env.bool("INSPECTORATE_REQUIRE_2FA", default=False)
OTP_TOTP_ISSUER = "Inspectorate"

# Encryption at rest for sensitive free text: a comma-separated list of Fernet keys, newest
# first, or a file holding one key a line. See apps/core/crypto.py.
INSPECTORATE_ENCRYPTION_KEYS = env.list("INSPECTORATE_ENCRYPTION_KEYS", default=[])
INSPECTORATE_ENCRYPTION_KEYS_FILE = env("INSPECTORATE_ENCRYPTION_KEYS_FILE", default="")

# How many reverse proxies of ours stand in front of the application (0: none). Used to find
# the client's address for the audit trail and for sign-in throttling.
INSPECTORATE_TRUSTED_PROXIES = env.int("INSPECTORATE_TRUSTED_PROXIES", default=0)
AXES_CLIENT_IP_CALLABLE = "apps.core.middleware.client_address"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 60 * 60)
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MEDIA_ROOT = env("MEDIA_ROOT", default=str(BASE_DIR / "var" / "media"))

EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="inspectorate@localhost")
# The service's own address, for links in emails.
INSPECTORATE_SITE_URL = env("INSPECTORATE_SITE_URL", default="http://127.0.0.1:8000")
# Case list uploads: the largest file accepted (bytes) and rows per file.
FIELDWORK_MAX_UPLOAD_BYTES = env.int("FIELDWORK_MAX_UPLOAD_BYTES", default=30 * 1024 * 1024)
FIELDWORK_MAX_ROWS = env.int("FIELDWORK_MAX_ROWS", default=200_000)
# Case-level detail is removed this many months after an inspection closes (grades stay).
FIELDWORK_RETENTION_MONTHS = env.int("FIELDWORK_RETENTION_MONTHS", default=24)

LOG_LEVEL = env("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_context": {"()": "apps.core.logging.RequestContextFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(user_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["request_context"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "axes": {"level": "WARNING"},
        # WeasyPrint logs every layout step at INFO; its warnings still show.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}

SERVICE_NAME = "Inspectorate"
SERVICE_TAGLINE = "Child protection inspections of police forces"

# Background tasks (django-tasks, the API Django 6 adopts) on the database backend: the
# reminder job is enqueued daily (`manage.py send_reminders`, from cron or a systemd timer)
# and run by `manage.py db_worker`. See ADR 17.
TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default"],
    }
}
# Follow-up: evidence files forces attach (bytes), and how soon before a due date the
# reminder job sends a "due soon" notice (days).
FOLLOWUP_MAX_FILE_BYTES = env.int("FOLLOWUP_MAX_FILE_BYTES", default=20 * 1024 * 1024)
FOLLOWUP_DUE_SOON_DAYS = env.int("FOLLOWUP_DUE_SOON_DAYS", default=14)
# The forces' API: the largest whole request (text and files, bytes), refused with 413 before
# its body is read. 0 means the default: the larger of 50 MiB and FOLLOWUP_MAX_FILE_BYTES plus
# 1 MiB, so one file of the largest size always fits (apps/followup/api.py,
# max_request_bytes). A value set here is used as it is.
FOLLOWUP_API_MAX_REQUEST_BYTES = env.int("FOLLOWUP_API_MAX_REQUEST_BYTES", default=0)
# Theme coding (ADR 18): the embedding model computes in bfloat16 where the processor does so
# natively ("auto"), or always in "bf16" or "fp32".
THEMES_EMBEDDING_PRECISION = env("THEMES_EMBEDDING_PRECISION", default="auto")
# Large batches (a whole corpus) are embedded by this many worker processes of one thread
# each: "auto" is one a core, up to four (apps/themes/encoder.py); 1 keeps them in-process.
THEMES_EMBEDDING_PROCESSES = env("THEMES_EMBEDDING_PROCESSES", default="auto")
