#!/usr/bin/env python
"""Theme-coding benchmark: 50,000 statements coded end to end, against embedding them alone;
re-coding after one new report.

    .venv/bin/python bench/themes_bench.py [--statements 50000] [--report-statements 40]
        [--corpus report|long]
        [--database-url postgres://postgres@127.0.0.1:5432/inspectorate_bench_themes]

What it does (see docs/benchmarks.md, "Thematic synthesis"):

1. The database (its name must contain "bench") is re-created and migrated, and the
   codebook loaded.
2. `--statements` distinct statements are made, deterministically, from the shipped training
   statements and the codebook's examples, and stored as the statements of imported reports
   of 50 statements each. No statement is in the development set. `--corpus report` (the
   default): each a statement with one of a set of lead-ins and, for half, a short
   qualifier (30 words on average; the shipped statements average 24, and the development
   set's published statements 16). `--corpus long`: a lead-in and, for a third, a clause
   of another statement as well (36 words on average), for the cost of longer text.
3. The classifier is trained (and stored) first, and timed on its own: it is trained once
   and kept until people's coding changes, so it is not part of coding a corpus.
4. Embedding alone: `embedding.embed` over every statement's text, in this process, from
   cold (nothing cached), timed.
5. End to end: the process's embedding cache emptied, `coding.suggest` over the whole
   corpus: reading the statements, embedding them (and storing the embeddings), the
   classifier's probabilities and decisions, and writing every suggestion and its history
   row, timed. The ratio end to end / embedding alone is printed.
6. Re-coding after one new report: a report of `--report-statements` new statements is
   stored, then `coding.suggest` for its statements (what the import page does), timed.
   Then the whole corpus is coded again (every embedding cached), timed. Then a person
   codes `--people-coded` statements and another report comes in: its suggestions now
   include retraining the classifier on everything people coded (what an import after a
   session in the review queue costs), timed.
7. Prints a markdown table and writes JSON to bench/results/ (git-ignored).

No timing here is a test: the figures are reported, not asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/inspectorate_bench_themes"
LEAD_INS = [
    "",
    "In the cases we examined, ",
    "Across the force, ",
    "In most of the cases we reviewed, ",
    "In some cases, ",
    "We found that ",
    "During our inspection, ",
    "In the files we looked at, ",
    "In one area of the force, ",
    "Since our last inspection, ",
    "In the sample of cases, ",
    "In several cases, ",
    "Officers told us that ",
    "Senior leaders told us that ",
    "In the cases we audited, ",
    "From the records we saw, ",
    "In the previous year, ",
    "In a minority of cases, ",
    "When we spoke to staff, ",
    "Overall, ",
]
QUALIFIERS = [
    "in most areas",
    "in the north of the force",
    "in two of the three districts",
    "at the time of our inspection",
    "in the cases we saw",
    "on every shift",
    "in our sample",
    "across the force",
    "in the larger towns",
    "out of hours",
    "in the rural areas",
    "in the city",
    "since 2019",
    "in the past year",
    "in the urban districts",
    "in one command",
    "in the southern area",
    "in the east of the force",
    "at weekends",
    "in the west of the force",
]


BENCH_STAGES = (
    "initial_contact",
    "Initial contact",
    "investigation",
    "trusted_adult",
    "Trusted adults",
    "Leadership and management",
    "Domestic abuse",
    "",
)


def corpus(n: int, seed: int = 2026, style: str = "report") -> list[str]:
    """`n` distinct statements: "report" (lead-in, statement, for half a short qualifier) or
    "long" (lead-in, statement, for a third a clause of another statement)."""
    from apps.themes.codebook import load_codebook
    from apps.themes.corpus import read_coded, training_path

    codebook = load_codebook()
    base = [s.text for s in read_coded(training_path(), codebook)]
    base += [example for theme in codebook.themes for example in theme.examples]
    clauses = [t.rstrip(".").split(", ")[-1] for t in base if ", " in t]
    rng = random.Random(seed)
    seen: set[str] = set()
    out: list[str] = []
    while len(out) < n:
        text = rng.choice(base)
        lead = rng.choice(LEAD_INS)
        if lead and text[:1].isupper() and not text.startswith(("I ", "CAIU", "MASH")):
            text = text[0].lower() + text[1:]
        text = lead + text
        if style == "long" and rng.random() < 0.35:
            text = f"{text.rstrip('.')}, and {rng.choice(clauses)}."
        elif style == "report" and rng.random() < 0.5:
            text = f"{text.rstrip('.')} {rng.choice(QUALIFIERS)}."
        if text not in seen:
            seen.add(text)
            out.append(text)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--statements", type=int, default=50_000)
    parser.add_argument("--report-statements", type=int, default=40)
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--corpus", choices=("report", "long"), default="report")
    parser.add_argument("--people-coded", type=int, default=300)
    args = parser.parse_args()

    import run_bench as rb

    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "inspectorate.settings.development")
    os.environ["HF_HUB_OFFLINE"] = "1"
    print(f"- re-creating and migrating {args.database_url.rsplit('/', 1)[-1]}")
    rb.recreate_database(args.database_url)
    env = dict(os.environ)
    rb.manage(env, "migrate", "--noinput", "-v0")

    import django

    django.setup()
    import datetime as dt

    import torch

    from apps.core.audit import SystemActor
    from apps.themes import coding, embedding, encoder, services
    from apps.themes.corpus import text_digest
    from apps.themes.models import ArchiveReport, Statement, ThemeCode, ThemeCodeChange

    actor = SystemActor("benchmark")
    services.codebook_load(actor=actor)
    texts = corpus(args.statements + 2 * args.report_statements, style=args.corpus)
    texts, extra = texts[: args.statements], texts[args.statements :]
    extra, after_people = extra[: args.report_statements], extra[args.report_statements :]

    def store(chunk: list[str], first_report: int) -> list[int]:
        ids: list[int] = []
        for start in range(0, len(chunk), 50):
            number = first_report + start // 50
            report = ArchiveReport.objects.create(
                title=f"Benchmark report {number}",
                programme_type="ncpi",
                published_on=dt.date(2018 + number % 8, 6, 1),
                file_name=f"bench-{number}.html",
                file_sha256=text_digest(f"bench-{number}"),
                file_format="html",
                imported_by_label="benchmark",
            )
            made = Statement.objects.bulk_create(
                [
                    Statement(
                        source=Statement.Source.ARCHIVE,
                        archive_report=report,
                        text=t,
                        text_sha256=text_digest(t),
                        kind="finding",
                        # Stages as findings (methodology codes) and imports (words) give
                        # them, and none, for the analysis by stage in bench/themes_pages.py.
                        stage=BENCH_STAGES[(start + n) % len(BENCH_STAGES)],
                        report_title=report.title,
                        year=report.published_on.year,
                        programme_type="ncpi",
                    )
                    for n, t in enumerate(chunk[start : start + 50])
                ]
            )
            ids += [s.pk for s in made]
        return ids

    print(f"- storing {len(texts):,} statements")
    store(texts, 1)
    results: dict[str, object] = {
        "statements": len(texts),
        "corpus": args.corpus,
        "batch_size": encoder.BATCH_SIZE,
        "processes": embedding.processes(),
        "mean_words": round(sum(len(t.split()) for t in texts) / len(texts), 1),
        "precision": embedding.precision(),
        "torch_threads": torch.get_num_threads(),
        "machine": rb.machine(),
        "code": rb.code_version(),
    }

    began = time.perf_counter()
    row = coding.classifier_current()
    results["train_seconds"] = round(time.perf_counter() - began, 2)
    print(f"- classifier {row.version} trained in {results['train_seconds']} s")
    embedding._cache.clear()

    print("- embedding alone")
    began = time.perf_counter()
    with embedding.worker_processes_allowed():  # as manage.py themes_code codes a corpus
        embedding.embed(texts)
    alone = time.perf_counter() - began
    results["embed_seconds"] = round(alone, 2)
    results["embed_per_second"] = round(len(texts) / alone)
    embedding._cache.clear()

    print("- coding end to end")
    # How the end-to-end time divides: the model's encoding, and everything else.
    encoding = {"seconds": 0.0}
    original = embedding._encode

    def timed(texts: list[str]) -> object:
        start = time.perf_counter()
        try:
            return original(texts)
        finally:
            encoding["seconds"] += time.perf_counter() - start

    embedding._encode = timed  # type: ignore[assignment]
    began = time.perf_counter()
    with embedding.worker_processes_allowed():
        done = coding.suggest(actor=actor)
    end_to_end = time.perf_counter() - began
    embedding._encode = original  # type: ignore[assignment]
    results["code_encoding_seconds"] = round(encoding["seconds"], 2)
    results["code_other_seconds"] = round(end_to_end - encoding["seconds"], 2)
    results["code_seconds"] = round(end_to_end, 2)
    results["ratio"] = round(end_to_end / alone, 3)
    results["suggestions"] = done.suggestions
    results["codes"] = ThemeCode.objects.count()
    results["history_rows"] = ThemeCodeChange.objects.count()

    print("- one new report")
    ids = store(extra, 10_000)
    embedding._cache.clear()
    began = time.perf_counter()
    coding.suggest(actor=actor, statements=Statement.objects.filter(pk__in=ids))
    results["new_report_seconds"] = round(time.perf_counter() - began, 2)
    results["new_report_statements"] = len(ids)

    embedding._cache.clear()
    began = time.perf_counter()
    coding.suggest(actor=actor)
    results["recode_all_cached_seconds"] = round(time.perf_counter() - began, 2)

    # After people have coded: the next import retrains the classifier before suggesting.
    print(f"- one new report after people coded {args.people_coded} statements")
    from apps.accounts.models import Role, User

    person = User.objects.create_user(
        username="bench.analyst",
        email="bench.analyst@example.org",
        full_name="Bench Analyst",
        role=Role.ANALYST,
    )
    coded = list(Statement.objects.order_by("pk")[: args.people_coded])
    for statement in coded:
        top = statement.codes.filter(status="suggested").order_by("-confidence").first()
        services.codes_decide(
            actor=person,
            statement=statement,
            themes=[top.theme.key] if top else ["workforce"],
            seen_version=services.codes_version(statement),
        )
    ids = store(after_people, 20_000)
    embedding._cache.clear()
    began = time.perf_counter()
    result = coding.suggest(actor=actor, statements=Statement.objects.filter(pk__in=ids))
    results["new_report_retrained_seconds"] = round(time.perf_counter() - began, 2)
    results["people_coded"] = len(coded)
    assert result.classifier != row.version, "the classifier should have retrained"

    RESULTS = ROOT / "bench" / "results"
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"themes-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(results, indent=2, default=str))
    print()
    print("| measure | value |")
    print("|---|---|")
    for key in (
        "statements",
        "corpus",
        "batch_size",
        "processes",
        "mean_words",
        "precision",
        "torch_threads",
        "train_seconds",
        "embed_seconds",
        "embed_per_second",
        "code_seconds",
        "code_encoding_seconds",
        "code_other_seconds",
        "ratio",
        "suggestions",
        "history_rows",
        "new_report_statements",
        "new_report_seconds",
        "recode_all_cached_seconds",
        "people_coded",
        "new_report_retrained_seconds",
    ):
        print(f"| {key} | {results[key]} |")
    print(f"\nJSON: {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
