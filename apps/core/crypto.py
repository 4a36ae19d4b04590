"""Keys for encryption at rest.

Keys are Fernet keys (AES-128-CBC with HMAC-SHA256), newest first. The first key encrypts;
every key can decrypt, which is what lets `rotate_encryption_keys` move old values onto a
new key without downtime. Keys come from INSPECTORATE_ENCRYPTION_KEYS (comma-separated) or
from INSPECTORATE_ENCRYPTION_KEYS_FILE (one key a line, '#' comments allowed), never from
the database.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

__all__ = [
    "InvalidToken",
    "decrypt",
    "encrypt",
    "generate_key",
    "key_ring",
    "load_keys",
    "parse_key_file",
    "reset_key_ring",
    "rotate",
]


def parse_key_file(text: str) -> list[str]:
    """The keys in a key file: one a line, newest first; blank lines and '#' comments ignored.

    A comment may start anywhere on a line (Fernet keys never contain '#'), so indented
    comments and notes after a key ("KEY  # added 2025-04") are fine.
    """
    keys = []
    for line in text.splitlines():
        key = line.split("#", 1)[0].strip()
        if key:
            keys.append(key)
    return keys


def load_keys(keys: Iterable[str] = (), path: str | Path = "") -> list[str]:
    """The configured keys, newest first, each checked to be a valid Fernet key.

    `path` (a key file) takes precedence over `keys`. Raises ImproperlyConfigured, without
    ever quoting a key, when there is no key or one is malformed. Reads no Django settings,
    so production settings can call it to refuse to start on a bad configuration.
    """
    if path:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ImproperlyConfigured(
                f"Cannot read the encryption key file {path}: {exc}"
            ) from exc
        found = parse_key_file(text)
    else:
        if isinstance(keys, str):  # one comma-separated string rather than a list
            keys = keys.split(",")
        found = [k.strip() for k in keys if k.strip()]
    if not found:
        raise ImproperlyConfigured(
            "No encryption key: set INSPECTORATE_ENCRYPTION_KEYS or "
            "INSPECTORATE_ENCRYPTION_KEYS_FILE (make one with "
            "`python manage.py generate_encryption_key`)."
        )
    for position, key in enumerate(found, start=1):
        try:
            Fernet(key.encode("ascii"))
        except (ValueError, UnicodeEncodeError) as exc:
            raise ImproperlyConfigured(
                f"Encryption key number {position} is not a valid Fernet key "
                "(32 url-safe base64-encoded bytes)."
            ) from exc
    return found


def _configured_keys() -> list[str]:
    return load_keys(
        settings.INSPECTORATE_ENCRYPTION_KEYS,
        getattr(settings, "INSPECTORATE_ENCRYPTION_KEYS_FILE", ""),
    )


@lru_cache(maxsize=1)
def key_ring() -> MultiFernet:
    return MultiFernet([Fernet(key.encode("ascii")) for key in _configured_keys()])


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
