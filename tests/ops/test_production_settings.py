"""Production settings pass Django's deployment checks and refuse unsafe configurations.

Each test starts a fresh interpreter: settings are read once per process."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

BASE_DIR = Path(__file__).resolve().parents[2]


def production_environment(**overrides: str | None) -> dict[str, str]:
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "DJANGO_SETTINGS_MODULE": "inspectorate.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
        "DATABASE_URL": "postgres://inspectorate:password@db.internal:5432/inspectorate",
        "INSPECTORATE_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "DJANGO_ALLOWED_HOSTS": "inspections.example.org",
        "CSRF_TRUSTED_ORIGINS": "https://inspections.example.org",
    }
    for name, value in overrides.items():
        if value is None:
            environment.pop(name, None)
        else:
            environment[name] = value
    return environment


def manage(*args: str, **overrides: str | None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=production_environment(**overrides),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_check_deploy_passes_with_no_warnings():
    result = manage("check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_the_key_file_is_accepted_instead_of_the_key_list(tmp_path):
    key_file = tmp_path / "keys"
    key_file.write_text(f"# newest first\n{Fernet.generate_key().decode()}\n", encoding="utf-8")
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        INSPECTORATE_ENCRYPTION_KEYS=None,
        INSPECTORATE_ENCRYPTION_KEYS_FILE=str(key_file),
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"INSPECTORATE_ENCRYPTION_KEYS": None},
            "Set INSPECTORATE_ENCRYPTION_KEYS or INSPECTORATE_ENCRYPTION_KEYS_FILE in production.",
        ),
        (
            {"INSPECTORATE_ENCRYPTION_KEYS": " , "},
            "Set INSPECTORATE_ENCRYPTION_KEYS or INSPECTORATE_ENCRYPTION_KEYS_FILE in production.",
        ),
        (
            {"INSPECTORATE_ENCRYPTION_KEYS": "not-a-fernet-key"},
            "Encryption key number 1 is not a valid Fernet key",
        ),
        (
            {
                "INSPECTORATE_ENCRYPTION_KEYS": None,
                "INSPECTORATE_ENCRYPTION_KEYS_FILE": "/nonexistent/inspectorate-keys",
            },
            "Cannot read the encryption key file /nonexistent/inspectorate-keys",
        ),
        (
            {"DATABASE_URL": "sqlite:////tmp/inspectorate-production.sqlite3"},
            "Production runs on PostgreSQL: set DATABASE_URL=postgres://...",
        ),
        ({"DJANGO_SECRET_KEY": None}, "DJANGO_SECRET_KEY"),
    ],
    ids=["no-key", "blank-key", "malformed-key", "unreadable-key-file", "sqlite", "no-secret"],
)
def test_production_refuses_to_start(overrides, message):
    result = manage("check", **overrides)
    assert result.returncode != 0
    assert "django.core.exceptions.ImproperlyConfigured" in result.stderr
    assert message in result.stderr
    key = overrides.get("INSPECTORATE_ENCRYPTION_KEYS")
    if key and key.strip(" ,"):
        assert key not in result.stderr.replace(message, "")  # keys are never echoed
