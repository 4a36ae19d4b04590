"""Production: PostgreSQL, HTTPS only, two-factor sign-in for all staff, keys from the
environment."""

from django.core.exceptions import ImproperlyConfigured

from apps.core.crypto import load_keys as load_encryption_keys

from .base import *  # noqa: F403
from .base import DATABASES, INSPECTORATE_ENCRYPTION_KEYS, INSPECTORATE_ENCRYPTION_KEYS_FILE, env

DEBUG = False
SECRET_KEY = env("DJANGO_SECRET_KEY")  # no default: production refuses to start without one
INSPECTORATE_REQUIRE_2FA = env.bool("INSPECTORATE_REQUIRE_2FA", default=True)

if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql" and not env.bool(
    "INSPECTORATE_ALLOW_SQLITE", default=False
):
    raise ImproperlyConfigured("Production runs on PostgreSQL: set DATABASE_URL=postgres://...")
if not (
    any(key.strip() for key in INSPECTORATE_ENCRYPTION_KEYS) or INSPECTORATE_ENCRYPTION_KEYS_FILE
):
    raise ImproperlyConfigured(
        "Set INSPECTORATE_ENCRYPTION_KEYS or INSPECTORATE_ENCRYPTION_KEYS_FILE in production."
    )
# Refuse to start on an unreadable key file or a malformed key, rather than failing on the
# first request that reads or writes encrypted text.
load_encryption_keys(INSPECTORATE_ENCRYPTION_KEYS, INSPECTORATE_ENCRYPTION_KEYS_FILE)

SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
