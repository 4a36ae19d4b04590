"""Test settings: the database comes from DATABASE_URL (SQLite by default)."""

from pathlib import Path

from .base import *  # noqa: F403
from .base import BASE_DIR, DATABASES, env

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed; argon2 tested apart
INSPECTORATE_ENCRYPTION_KEYS = ["dGVzdC1vbmx5LWtleS0wMDAwMDAwMDAwMDAwMDAwMDA="]
INSPECTORATE_ENCRYPTION_KEYS_FILE = ""
INSPECTORATE_REQUIRE_2FA = False
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
AXES_ENABLED = True
LOG_LEVEL = "WARNING"
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file (not memory) so the browser tests' server and xdist workers work; named after
    # DATABASE_URL's file so two suites run side by side can each choose their own.
    _stem = Path(DATABASES["default"]["NAME"]).stem
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / "var" / f"{_stem}-test.sqlite3")}
MEDIA_ROOT = env("MEDIA_ROOT", default=str(BASE_DIR / "var" / "test-media"))
# Browser tests serve straight from the front-end build (static/), without collectstatic.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
