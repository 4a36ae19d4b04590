"""Print a new key for encryption at rest."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from apps.core import crypto


class Command(BaseCommand):
    help = (
        "Print a new Fernet key for encryption at rest, and nothing else (so it can be piped "
        "into a secret store). To rotate: put the new key first in INSPECTORATE_ENCRYPTION_KEYS "
        "(or the key file), keep the old keys after it, restart every process, then run "
        "`manage.py rotate_encryption_keys`; only then remove the old keys."
    )
    requires_system_checks: list[str] = []

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(crypto.generate_key())
