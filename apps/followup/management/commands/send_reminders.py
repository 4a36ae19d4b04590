"""Send the follow-up reminders: `manage.py send_reminders` (from cron or a systemd timer,
daily) enqueues the job for `manage.py db_worker`; `--now` runs it here and prints what it
sent. Running it twice sends nothing twice."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from apps.followup.reminders import send_reminders, send_reminders_task


class Command(BaseCommand):
    help = "Send due-soon and overdue reminders for recommendations and action plans."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--now", action="store_true", help="Run the job in this process, not the worker"
        )
        parser.add_argument(
            "--today", help="Run as if today were this date (YYYY-MM-DD); with --now only"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        today = None
        if options["today"]:
            if not options["now"]:
                raise CommandError("--today needs --now.")
            try:
                today = dt.date.fromisoformat(options["today"])
            except ValueError as exc:
                raise CommandError(
                    f"--today: {options['today']!r} is not a date (YYYY-MM-DD)."
                ) from exc
        if options["now"]:
            summary = send_reminders(today=today)
            self.stdout.write(f"{summary.today}: {summary.text()}")
            return
        result = send_reminders_task.enqueue()
        self.stdout.write(f"Enqueued the reminder job ({result.id}); db_worker runs it.")
