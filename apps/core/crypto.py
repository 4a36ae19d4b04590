"""Keys for encryption at rest.

Keys are Fernet keys (AES-128-CBC with HMAC-SHA256), newest first. The first key encrypts;
every key can decrypt, which is what lets `rotate_encryption_keys` move old values onto a
new key without downtime. Keys come from INSPECTORATE_ENCRYPTION_KEYS (comma-separated) or
from INSPECTORATE_ENCRYPTION_KEYS_FILE (one key a line, '#' comments allowed), never from
the database.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

__all__ = ["InvalidToken", "decrypt", "encrypt", "generate_key", "key_ring", "reset_key_ring"]


def _configured_keys() -> list[str]:
    path = getattr(settings, "INSPECTORATE_ENCRYPTION_KEYS_FILE", "")
    if path:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ImproperlyConfigured(f"Cannot read the encryption key file {path}: {exc}") from exc
        keys = [
            line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
        ]
    else:
        keys = [k.strip() for k in settings.INSPECTORATE_ENCRYPTION_KEYS if k.strip()]
    if not keys:
        raise ImproperlyConfigured(
            "No encryption key: set INSPECTORATE_ENCRYPTION_KEYS or INSPECTORATE_ENCRYPTION_KEYS_FILE "
            "(make one with `python manage.py generate_encryption_key`)."
        )
    return keys


@lru_cache(maxsize=1)
def key_ring() -> MultiFernet:
    fernets = []
    for position, key in enumerate(_configured_keys(), start=1):
        try:
            fernets.append(Fernet(key.encode("ascii")))
        except (ValueError, UnicodeEncodeError) as exc:
            raise ImproperlyConfigured(
                f"Encryption key number {position} is not a valid Fernet key "
                "(32 url-safe base64-encoded bytes)."
            ) from exc
    return MultiFernet(fernets)


def reset_key_ring() -> None:
    """Forget cached keys, after the settings or the key file changed."""
    key_ring.cache_clear()


def generate_key() -> str:
    return Fernet.generate_key().decode("ascii")


def encrypt(plaintext: str) -> str:
    return key_ring().encrypt(plaintext.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    return key_ring().decrypt(token.encode("ascii")).decode("utf-8")


def rotate(token: str) -> str:
    """Re-encrypt a token under the newest key (MultiFernet.rotate keeps the timestamp)."""
    return key_ring().rotate(token.encode("ascii")).decode("ascii")
