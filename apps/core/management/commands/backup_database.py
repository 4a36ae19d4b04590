"""Back up the database to a file, with a manifest beside it (see apps/core/backup.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.core import backup


class Command(BaseCommand):
    help = (
        "Back up the database to FILE (PostgreSQL: pg_dump custom format; SQLite: a copy made "
        "with the online backup API) and write FILE.manifest.json beside it: engine, time, "
        "migrations, each table's row count and digest, and the dump's SHA-256. Both files are "
        "readable by their owner only. Records an audit event."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", required=True, type=Path, metavar="FILE")
        parser.add_argument(
            "--overwrite",
            action="store_true",
            help="Replace FILE and its manifest if they exist (by default that is refused).",
        )

    def handle(self, *args: Any, output: Path, overwrite: bool, **options: Any) -> None:
        try:
            backup.backup_database(output, overwrite=overwrite, out=self.stdout.write)
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from exc
