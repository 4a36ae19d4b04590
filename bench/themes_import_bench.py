#!/usr/bin/env python
"""Importing published reports through the import page: one report, and a batch of the
most files the page takes at once, each the length of a real published inspection report.

    .venv/bin/python bench/themes_import_bench.py [--paragraphs 300] [--files 10]
        [--database-url postgres://postgres@127.0.0.1:5432/inspectorate_bench_import]

What it does (see docs/benchmarks.md, "Thematic synthesis: importing reports"):

1. The database (its name must contain "bench") is re-created and migrated, the reference
   data and the codebook loaded, and an analyst made.
2. Reports are written, deterministically, in the form of the inspectorate's published
   reports (a title naming the force and the programme, "Published on", a heading a stage of
   the child's journey, numbered paragraphs of two to four statements, and recommendations):
   `--paragraphs` paragraphs each (300 by default: about 20,000 words, the length of a
   national child protection inspection report). Their statements are the shipped training
   statements and the codebook's examples with lead-ins, as in bench/themes_bench.py, so that
   no two reports share a paragraph. Half of each batch is HTML and half PDF (rendered by
   WeasyPrint from the same HTML), since reading a PDF costs more than reading HTML.
3. Posted to the import page through Django's test client, signed in as the analyst, in this
   process (no server), as a person's browser posts them:
   - one report, from cold: the first import after the process starts, so it includes
     loading the embedding model (what the first import after a deploy costs);
   - one report, warm;
   - a batch of `--files` reports (the page's most), warm.
   The request stores the files and queues them; then the background worker's run
   (`archive_batches.batch_run`, what `manage.py db_worker` does) is timed here too.
   Each timing is split into reading and storing the files (`archive_import`, per file) and
   suggesting their themes (embedding the new statements and classifying them).
4. Prints a markdown table and writes JSON to bench/results/ (git-ignored).

The figure to compare for a request is a web worker's time limit (gunicorn's `--timeout`,
30 s by default), past which the worker is killed and the person sees an error. No timing
here is a test: the figures are reported, not asserted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import sys
import time
from html import escape
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/inspectorate_bench_import"
SECTIONS = [
    "Leadership, management and governance",
    "Initial contact",
    "Assessment and help",
    "Investigation",
    "Decision-making",
    "Trusted adult",
    "Managing those who pose a risk to children",
    "Police detention",
]
FORCES = [
    "Kent Police",
    "Essex Police",
    "Avon and Somerset Constabulary",
    "Cumbria Constabulary",
    "Dyfed-Powys Police",
    "Lancashire Constabulary",
    "Norfolk Constabulary",
    "West Mercia Police",
    "Gwent Police",
    "Durham Constabulary",
    "Thames Valley Police",
    "Merseyside Police",
]


def report_html(number: int, paragraphs: list[list[str]], recommendations: list[str]) -> str:
    """One report in the form of a published national child protection inspection."""
    force = FORCES[number % len(FORCES)]
    title = f"National child protection inspection \u2013 {force}"
    published = dt.date(2016 + number % 9, 1 + number % 12, 1 + number % 27)
    body: list[str] = [
        f"<h1>{escape(title)}</h1>",
        f"<p>Published on: {published:%-d %B %Y}</p>",
        "<h2>Introduction</h2>",
        "<p>This inspection is one of a rolling programme of child protection inspections "
        "of every police force in England and Wales.</p>",
    ]
    per_section = -(-len(paragraphs) // len(SECTIONS))
    for n, paragraph in enumerate(paragraphs, start=1):
        if (n - 1) % per_section == 0:
            body.append(f"<h2>{escape(SECTIONS[(n - 1) // per_section])}</h2>")
        body.append(f"<p>{n}. {escape(' '.join(paragraph))}</p>")
    body.append("<h2>Recommendations</h2><ol>")
    body += [f"<li>{escape(r)}</li>" for r in recommendations]
    body.append("</ol>")
    return (
        '<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title></head><body><main>{''.join(body)}</main></body></html>"
    )


def make_reports(count: int, paragraphs: int, seed: int) -> list[tuple[str, bytes]]:
    """`count` reports of `paragraphs` paragraphs each, half HTML and half PDF, no paragraph
    in two of them: (file name, content)."""
    from themes_bench import corpus
    from weasyprint import HTML

    rng = random.Random(seed)
    sizes = [[rng.randint(2, 4) for _ in range(paragraphs)] for _ in range(count)]
    statements = corpus(sum(map(sum, sizes)) + 12 * count, seed=seed)
    files: list[tuple[str, bytes]] = []
    at = 0
    for number in range(count):
        made: list[list[str]] = []
        for size in sizes[number]:
            made.append(statements[at : at + size])
            at += size
        recommendations = [
            f"Within six months, the force should make sure that {s[0].lower()}{s[1:]}"
            for s in statements[at : at + 12]
        ]
        at += 12
        html = report_html(seed + number, made, recommendations)
        if number % 2:
            files.append((f"report-{seed}-{number}.pdf", HTML(string=html).write_pdf()))
        else:
            files.append((f"report-{seed}-{number}.html", html.encode()))
    return files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paragraphs", type=int, default=300)
    parser.add_argument("--files", type=int, default=10)
    parser.add_argument("--database-url", default=DEFAULT_URL)
    args = parser.parse_args()

    import run_bench as rb

    if "bench" not in args.database_url.rsplit("/", 1)[-1]:
        raise SystemExit("The benchmark's database name must contain 'bench'.")
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "inspectorate.settings.development")
    os.environ["HF_HUB_OFFLINE"] = "1"
    print(f"- re-creating and migrating {args.database_url.rsplit('/', 1)[-1]}")
    rb.recreate_database(args.database_url)
    env = dict(os.environ)
    rb.manage(env, "migrate", "--noinput", "-v0")
    rb.manage(env, "load_reference", "-v0")

    import django

    django.setup()
    from django.conf import settings
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client

    from apps.accounts.models import Role, User
    from apps.core.audit import SystemActor
    from apps.themes import (
        archive_batches,
        archive_services,
        coding,
        embedding,
        encoder,
        services,
        views_archive,
    )
    from apps.themes.models import ArchiveImportBatch, Statement

    services.codebook_load(actor=SystemActor("benchmark"))
    analyst = User.objects.create_user(
        username="bench.analyst",
        email="bench.analyst@example.org",
        full_name="Bench Analyst",
        role=Role.ANALYST,
    )
    print(f"- writing reports of {args.paragraphs} paragraphs")
    began = time.perf_counter()
    singles = make_reports(2, args.paragraphs, seed=100)
    batch = make_reports(args.files, args.paragraphs, seed=200)
    print(f"  written in {time.perf_counter() - began:.1f} s")

    # Each part of a request timed where it happens: reading and storing a file, and
    # suggesting the new statements' themes (the model loaded on first use, in here).
    spent: dict[str, float] = {}

    def timing(name: str, function: Any) -> Any:
        def timed(*a: Any, **k: Any) -> Any:
            began = time.perf_counter()
            try:
                return function(*a, **k)
            finally:
                spent[name] = spent.get(name, 0.0) + time.perf_counter() - began

        return timed

    archive_services.archive_import = timing("read_store", archive_services.archive_import)
    coding.suggest = timing("suggest", coding.suggest)

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, rb.HOST]
    client = Client(HTTP_HOST=rb.HOST)
    client.force_login(analyst)

    def post(files: list[tuple[str, bytes]]) -> dict[str, Any]:
        spent.clear()
        before = Statement.objects.count()
        uploads = [SimpleUploadedFile(name, content) for name, content in files]
        began = time.perf_counter()
        response = client.post("/themes/archive/import/", {"file": uploads})
        seconds = time.perf_counter() - began
        if response.status_code != 302:
            raise SystemExit(f"The import page answered {response.status_code}, not a redirect.")
        row = {"files": len(files), "request_seconds": round(seconds, 2)}
        # Queued (one file or several): what the background worker then does.
        batch = ArchiveImportBatch.objects.latest("pk")
        began = time.perf_counter()
        archive_batches.batch_run(batch.pk)
        row["worker_seconds"] = round(time.perf_counter() - began, 2)
        batch.refresh_from_db()
        if batch.status != "done" or batch.files.exclude(status="imported").exists():
            raise SystemExit(f"The batch did not import every file: {batch.status}.")
        return {
            **row,
            "megabytes": round(sum(len(c) for _, c in files) / 1024 / 1024, 2),
            "statements": Statement.objects.count() - before,
            **{f"{k}_seconds": round(v, 2) for k, v in spent.items()},
        }

    print("- training the classifier (once; kept until people's coding changes)")
    began = time.perf_counter()
    coding.classifier_current()
    train = round(time.perf_counter() - began, 2)
    # As a process that has not yet loaded the model: the weights' hash checked and the
    # model loaded again on first use (the files may be in the system's cache already).
    embedding._cache.clear()
    embedding.load_model.cache_clear()
    embedding.verified_model_dir.cache_clear()
    embedding.load_model = timing("model_load", embedding.load_model)

    rows = {
        "one report, cold (model loaded)": post(singles[:1]),
        "one report, warm": post(singles[1:]),
        f"{args.files} reports at once, warm": post(batch),
    }
    results = {
        "paragraphs": args.paragraphs,
        "classifier_train_seconds": train,
        "rows": rows,
        "page_max_files": views_archive.MAX_FILES,
        "precision": embedding.precision(),
        "batch_size": encoder.BATCH_SIZE,
        "machine": rb.machine(),
        "code": rb.code_version(),
        "database": args.database_url.split(":", 1)[0],
    }
    print()
    print(
        "| import through the page | files | MB | statements | **the request** | "
        "the background worker | reading and storing | suggesting themes | "
        "of which loading the model |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, row in rows.items():
        worker = f"{row['worker_seconds']} s" if "worker_seconds" in row else "none"
        print(
            f"| {name} | {row['files']} | {row['megabytes']} | {row['statements']:,} | "
            f"**{row['request_seconds']} s** | {worker} | {row.get('read_store_seconds', 0)} s | "
            f"{row.get('suggest_seconds', 0)} s | {row.get('model_load_seconds', 0)} s |"
        )
    out = ROOT / "bench/results" / f"themes_import-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"\nwritten to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
