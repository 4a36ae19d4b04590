"""The key ring: where keys come from, and refusing bad ones."""

from __future__ import annotations

from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from apps.core import crypto


def test_encrypts_with_the_first_key_and_decrypts_with_any(settings):
    new, old = crypto.generate_key(), crypto.generate_key()
    settings.INSPECTORATE_ENCRYPTION_KEYS = [old]
    crypto.reset_key_ring()
    token_under_old = crypto.encrypt("a note")

    settings.INSPECTORATE_ENCRYPTION_KEYS = [new, old]
    crypto.reset_key_ring()
    assert crypto.decrypt(token_under_old) == "a note"
    token = crypto.encrypt("another note")
    assert Fernet(new.encode()).decrypt(token.encode()) == b"another note"
    with pytest.raises(crypto.InvalidToken):
        Fernet(old.encode()).decrypt(token.encode())


def test_the_key_file_is_read_with_its_comments(settings, tmp_path):
    new, old = crypto.generate_key(), crypto.generate_key()
    key_file = tmp_path / "keys"
    key_file.write_text(
        "# Inspectorate encryption keys, newest first\n"
        "\n"
        f"  {new}   # added for the 2026 rotation\n"
        "    # an indented comment\n"
        f"{old}\n",
        encoding="utf-8",
    )
    settings.INSPECTORATE_ENCRYPTION_KEYS = []
    settings.INSPECTORATE_ENCRYPTION_KEYS_FILE = str(key_file)
    crypto.reset_key_ring()

    token = crypto.encrypt("planning note")
    assert Fernet(new.encode()).decrypt(token.encode()) == b"planning note"
    assert crypto.decrypt(Fernet(old.encode()).encrypt(b"older").decode()) == "older"


def test_the_key_file_takes_precedence_over_the_list(settings, tmp_path):
    from_file = crypto.generate_key()
    key_file = tmp_path / "keys"
    key_file.write_text(from_file + "\n", encoding="utf-8")
    settings.INSPECTORATE_ENCRYPTION_KEYS = [crypto.generate_key()]
    settings.INSPECTORATE_ENCRYPTION_KEYS_FILE = str(key_file)
    crypto.reset_key_ring()
    token = crypto.encrypt("x")
    assert Fernet(from_file.encode()).decrypt(token.encode()) == b"x"


@pytest.mark.parametrize(
    "bad_key",
    [
        "not-a-key",
        "dG9vLXNob3J0",  # valid base64, but 9 bytes, not 32
        "ZGVtby1vbmx5LWtleS1kby1ub3QtdXNlLWluLXByb2Q=é",
    ],
)
def test_a_malformed_key_is_refused_without_being_quoted(settings, bad_key):
    settings.INSPECTORATE_ENCRYPTION_KEYS = [crypto.generate_key(), bad_key]
    crypto.reset_key_ring()
    with pytest.raises(ImproperlyConfigured, match="key number 2 is not a valid Fernet key") as e:
        crypto.encrypt("x")
    assert bad_key not in str(e.value)


def test_a_malformed_key_in_the_key_file_is_refused(settings, tmp_path):
    key_file = tmp_path / "keys"
    key_file.write_text("# comment\nthis-is-not-a-fernet-key\n", encoding="utf-8")
    settings.INSPECTORATE_ENCRYPTION_KEYS_FILE = str(key_file)
    crypto.reset_key_ring()
    with pytest.raises(ImproperlyConfigured, match="key number 1 is not a valid Fernet key"):
        crypto.key_ring()


def test_a_missing_key_file_is_refused(settings, tmp_path):
    settings.INSPECTORATE_ENCRYPTION_KEYS_FILE = str(tmp_path / "absent")
    crypto.reset_key_ring()
    with pytest.raises(ImproperlyConfigured, match="Cannot read the encryption key file"):
        crypto.key_ring()


def test_a_key_file_of_comments_only_is_refused(settings, tmp_path):
    key_file = tmp_path / "keys"
    key_file.write_text("# no keys yet\n\n", encoding="utf-8")
    settings.INSPECTORATE_ENCRYPTION_KEYS_FILE = str(key_file)
    crypto.reset_key_ring()
    with pytest.raises(ImproperlyConfigured, match="No encryption key"):
        crypto.key_ring()


@pytest.mark.parametrize("keys", [[], [""], ["  ", ""]])
def test_no_key_is_refused(settings, keys):
    settings.INSPECTORATE_ENCRYPTION_KEYS = keys
    settings.INSPECTORATE_ENCRYPTION_KEYS_FILE = ""
    crypto.reset_key_ring()
    with pytest.raises(ImproperlyConfigured, match="No encryption key"):
        crypto.encrypt("x")


def test_generate_encryption_key_prints_a_new_fernet_key():
    first, second = StringIO(), StringIO()
    call_command("generate_encryption_key", stdout=first)
    call_command("generate_encryption_key", stdout=second)
    key = first.getvalue().strip()
    assert first.getvalue() == key + "\n"  # the key and nothing else, so it can be piped
    assert Fernet(key.encode()).decrypt(Fernet(key.encode()).encrypt(b"x")) == b"x"
    assert key != second.getvalue().strip()
    assert crypto.load_keys([key]) == [key]
