"""``python manage.py themes_code``: load the codebook (a new version if it changed), bring
the statement corpus in step with the findings, and have the current classifier (trained on
the shipped statements and every statement people have coded) suggest themes for every
statement no person has coded yet. Safe to run any number of times."""

from __future__ import annotations

import time
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from apps.core.audit import SystemActor
from apps.themes import coding, embedding, services
from apps.themes.codebook import CodebookError
from apps.themes.corpus import CorpusError

ACTOR = SystemActor("themes_code")


class Command(BaseCommand):
    help = "Load the codebook, sync the statement corpus and suggest themes."

    def handle(self, *args: Any, **options: Any) -> None:
        began = time.monotonic()
        try:
            codebook, new = services.codebook_load(actor=ACTOR)
            synced = services.statements_sync()
            with embedding.worker_processes_allowed():  # a whole corpus: workers may help
                result = coding.suggest(actor=ACTOR)
        except (CodebookError, CorpusError, ImproperlyConfigured, services.StaleCodes) as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"Codebook version {codebook.number}{' (new)' if new else ''}. Statements: "
            f"{synced.created} new, {synced.changed} changed, {synced.unchanged} unchanged. "
            f"Classifier {result.classifier} suggested themes for {result.statements} "
            "statements not yet coded by people (findings of inspections not yet published "
            "included, so that theirs are ready when they are): other themes than before for "
            f"{result.changed} of them ({result.suggestions} suggestions written) "
            f"({time.monotonic() - began:.1f} s)."
        )
