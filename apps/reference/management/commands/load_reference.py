"""Load the reference data (forces, areas, inspectorates, context figures, Ofsted judgements).

    python manage.py load_reference [--path DIR]

Reads and checks every file first, then writes everything in one transaction with one audit
event. Running it again with the same files changes nothing. Any bad row stops the load with
an error naming the file, the row and the problem, and nothing in the database changes.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from apps.core.audit import SystemActor
from apps.reference.loaders import ReferenceDataError, read_reference_data
from apps.reference.services import load_reference_data

DEFAULT_PATH = Path(settings.BASE_DIR) / "data" / "reference"


class Command(BaseCommand):
    help = "Load the reference data files (default: data/reference). Idempotent, all or nothing."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--path",
            type=Path,
            default=DEFAULT_PATH,
            help=f"The directory holding the reference files (default: {DEFAULT_PATH})",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["path"]
        verbose = options["verbosity"] >= 1
        started = time.monotonic()
        try:
            dataset = read_reference_data(path)
        except ReferenceDataError as exc:
            raise CommandError(f"{exc}. Nothing was loaded.") from exc
        if verbose:
            for report in dataset.files:
                self.stdout.write(f"  {report}")
        try:
            result = load_reference_data(
                dataset, actor=SystemActor("load_reference"), source=str(path)
            )
        except DatabaseError as exc:
            raise CommandError(
                f"The database refused the load: {exc}. Nothing was loaded."
            ) from exc
        if verbose:
            for name, counts in result.counts.items():
                self.stdout.write(f"{name}: {counts}")
            self.stdout.write(f"total: {result.total}")
            skipped = sum(result.skipped.values())
            if skipped:
                self.stdout.write(
                    f"skipped {skipped} source rows for local authorities that no longer exist"
                )
            status = (
                "Loaded reference data" if result.changed else "Reference data already up to date"
            )
            self.stdout.write(self.style.SUCCESS(f"{status} in {time.monotonic() - started:.1f}s."))
