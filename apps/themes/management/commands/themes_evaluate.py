"""``python manage.py themes_evaluate --gold FILE``

Codes every statement of FILE (JSON lines with at least "text" and "themes"; "kind",
"stage" and "report_title" kept when present, other fields ignored) with a model trained
on the codebook's examples, the coded statements the project ships and those people have
coded in the database, and prints how far
the coding agrees with FILE's themes. The last line is one JSON object: `macro_f1`,
`micro_f1`, `per_theme` (precision, recall, F1, support, kappa) and `cohen_kappa`.

The model never trains on FILE: a training statement whose text is also in FILE (ignoring
case and spacing), or that comes from a report FILE quotes (the same "report_title"), is
left out of training, so every figure is on statements from reports the model has not seen.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.themes import classifier as model
from apps.themes import services
from apps.themes.codebook import Codebook, CodebookError, load_codebook
from apps.themes.corpus import CodedStatement, CorpusError, read_coded, training_path
from apps.themes.evaluation import scores
from apps.themes.models import CodebookVersion


def _coded_in_database(codebook: Codebook) -> list[CodedStatement]:
    """Statements people have coded in the system, under the stored codebook version that
    matches the file's (none before `themes_code` has loaded it)."""
    row = CodebookVersion.objects.filter(number=codebook.version).first()
    return services.coded_by_people(row) if row is not None else []


class Command(BaseCommand):
    help = "Measure theme coding against a gold standard (JSON lines with text and themes)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--gold", required=True, help="JSON lines of coded statements")

    def handle(self, *args: Any, **options: Any) -> None:
        began = time.monotonic()
        try:
            codebook = load_codebook()
            gold = read_coded(Path(options["gold"]), codebook)
            shipped = read_coded(training_path(), codebook)
        except (CodebookError, CorpusError) as error:
            raise CommandError(str(error)) from None
        people = _coded_in_database(codebook)
        candidates = model.codebook_statements(codebook) + shipped + people
        training = model.training_set(candidates, gold)
        left_out = len(candidates) - len(training)
        later = CodebookVersion.objects.filter(number__gt=codebook.version).count()
        self.stdout.write(
            f"Codebook version {codebook.version}: {len(codebook.ids)} themes. Training on "
            f"{len(training)} coded statements ({left_out} left out: in the gold file or "
            f"from its reports), {len(people)} of the candidates coded by people under this "
            "version"
            + (
                f" (codes made under the {later} later version{'s' if later != 1 else ''} "
                "are not used: their themes are not the gold file's)"
                if later
                else ""
            )
            + f"; coding {len(gold)} gold statements."
        )
        classifier = model.train(training, codebook)
        coded = classifier.decide(classifier.probabilities([s.text for s in gold]))
        result = scores(model.label_matrix(gold, codebook.ids), coded, codebook.ids)
        result = {
            "macro_f1": result["macro_f1"],
            "micro_f1": result["micro_f1"],
            "cohen_kappa": result["cohen_kappa"],
            "statements": result["statements"],
            "model_version": classifier.version,
            "trained_on": classifier.trained_on,
            "per_theme": result["per_theme"],
        }
        self.stdout.write(
            f"Model {classifier.version}: macro F1 {result['macro_f1']:.3f}, micro F1 "
            f"{result['micro_f1']:.3f}, kappa {result['cohen_kappa']:.3f} "
            f"({time.monotonic() - began:.1f} s)."
        )
        self.stdout.write(json.dumps(result))
