"""Remove case-level detail of inspections closed longer than the retention period."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from apps.core.audit import SystemActor
from apps.fieldwork.retention import apply_retention


class Command(BaseCommand):
    help = (
        "Remove the case-level detail (case list rows, notes, case references) of inspections "
        "closed more than FIELDWORK_RETENTION_MONTHS ago; grades and aggregates stay."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="List what is due only")
        parser.add_argument("--today", help="Treat this date (YYYY-MM-DD) as today")
        parser.add_argument(
            "--months",
            type=int,
            default=None,
            help="Override FIELDWORK_RETENTION_MONTHS for this run",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            today = (
                dt.date.fromisoformat(options["today"])
                if options["today"]
                else timezone.localdate()
            )
        except ValueError as exc:
            raise CommandError(f"--today: '{options['today']}' is not a date (YYYY-MM-DD)") from exc
        months = options["months"] or settings.FIELDWORK_RETENTION_MONTHS
        try:
            result = apply_retention(
                actor=SystemActor("apply_retention"),
                today=today,
                months=months,
                dry_run=options["dry_run"],
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        verb = "Due" if options["dry_run"] else "Removed"
        for removed in result.inspections:
            detail = (
                ""
                if options["dry_run"]
                else (
                    f": {removed.frame_rows} case list rows deleted, {removed.references} "
                    f"references replaced, {removed.texts} note fields emptied"
                )
            )
            self.stdout.write(f"{verb}: {removed.reference}{detail}")
        self.stdout.write(
            f"{len(result.inspections)} inspection(s) closed on or before {result.cutoff} "
            f"{'are due' if options['dry_run'] else 'had their case-level detail removed'}."
        )
