"""Restore the database from a backup made by backup_database (see apps/core/backup.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.core import backup


class Command(BaseCommand):
    help = (
        "Restore the database from FILE, made by backup_database. Checks FILE against the "
        "SHA-256 and engine in FILE.manifest.json first and prints what it will do; if the "
        "database holds any data it stops there unless --yes is given. Afterwards every table "
        "is checked against the manifest, and an audit event is recorded. Stop the service "
        "before restoring."
    )
    # A restore may be what brings a broken database back: do not let checks block it.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--input", dest="input_file", required=True, type=Path, metavar="FILE")
        parser.add_argument(
            "--yes",
            action="store_true",
            help="Confirm that the data now in the database is to be replaced.",
        )

    def handle(self, *args: Any, input_file: Path, yes: bool, **options: Any) -> None:
        try:
            backup.restore_database(input_file, confirmed=yes, out=self.stdout.write)
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from exc
