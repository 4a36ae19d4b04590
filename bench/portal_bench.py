#!/usr/bin/env python
"""Public portal benchmark: report pages of ~150 KB under 50 concurrent visitors, against the
same HTML served as a static file by the same server.

Run from anywhere with the project's Python:

    .venv/bin/python bench/portal_bench.py [--scale national|demo|none]
        [--database-url postgres://postgres@127.0.0.1:5432/inspectorate_bench_portal]
        [--publications 400] [--body-kb 150] [--clients 50] [--seconds 30]
        [--workers 2] [--worker-class sync|gthread] [--threads 1] [--reuse-database]

It reuses the machinery of bench/run_bench.py (databases, gunicorn with the production
settings and Redis, percentiles, machine details). What it does (see docs/benchmarks.md,
"Public portal"):

1. Database `inspectorate_bench_portal` (its name must contain "bench"): re-created,
   migrated, reference data and methodologies loaded, the chosen scale generated with
   `generate_programme` (whose published inspections get their publications), all timed.
   Then `--publications` more reports are published straight into it, each with a body of
   about `--body-kb` KB (sections of narrative, case file tables, an inline SVG chart, as
   published reports have), five recommendations with a status history, case grade counts,
   and one in five republished as a second version. `--reuse-database` keeps an earlier
   run's database.
2. Queries, in-process (Django's test client, an empty local cache): the report list, a
   search, a report page, an earlier version, the force page with the most reports and the
   map, each counted on the uncached path and timed uncached and cached, one request at a
   time.
3. The static twin: the HTML of one report page, as a visitor gets it, written into the
   static files folder, so WhiteNoise in the same gunicorn serves it byte for byte.
4. Load, with gunicorn (production settings, Redis cache) on 127.0.0.1: every report page
   fetched once (the cache is filled as a first visitor would fill it), then for `--seconds`
   each: (a) `--clients` visitors requesting report pages back to back, no pause, over every
   report this script published (all of about `--body-kb` KB, like the static twin; every
   current report when it published none); (b) the same clients requesting the static twin;
   (c) the same clients
   reading report pages as people do, each waiting 0.5 to 1.5 s (1 s on average) between
   pages. Each request is a new connection (gunicorn's sync workers close it), read whole.
5. Prints markdown tables and writes everything as JSON to bench/results/ (git-ignored).

Every request goes to 127.0.0.1 only, and every loop is bounded in time and in count. No
timing here is a test: the figures are reported, not asserted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import random
import secrets
import subprocess
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run_bench as rb  # the shared benchmark machinery, next to this file

ROOT = rb.ROOT
RESULTS = rb.RESULTS
HOST = rb.HOST
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/inspectorate_bench_portal"
# Not 13, 14 or 15: the other benchmarks use those.
CACHE_URL = os.environ.get("BENCH_PORTAL_CACHE_URL", "redis://127.0.0.1:6379/12")
KEY_FILE = RESULTS / "portal-bench-encryption-key"  # benchmark data only
TARGET_P95_MS = 50.0
TIMED_REQUESTS = 15
MAX_REQUESTS_PER_CLIENT = 100_000
STATIC_NAME = "bench/report-page.html"
SEED = 2026


# In-process work (a subprocess with the benchmark database's environment) -----------------


def _setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


WORDS = (
    "child",
    "children",
    "officers",
    "supervision",
    "referral",
    "risk",
    "assessment",
    "strategy",
    "discussion",
    "safeguarding",
    "partnership",
    "agencies",
    "investigation",
    "custody",
    "missing",
    "exploitation",
    "online",
    "domestic",
    "abuse",
    "trusted",
    "adult",
    "leadership",
    "governance",
    "records",
    "decision",
    "initial",
    "contact",
    "response",
    "vulnerability",
    "protection",
    "plan",
    "social",
    "care",
    "health",
    "education",
    "multi-agency",
    "hub",
    "front",
    "door",
    "neglect",
    "sexual",
    "abuse",
    "harm",
    "criminal",
    "exploitation",
    "county",
    "lines",
    "interview",
    "evidence",
    "victim",
    "voice",
    "demeanour",
    "welfare",
    "police",
    "protection",
    "powers",
    "detention",
    "review",
    "action",
    "plan",
    "recommendation",
    "improvement",
    "progress",
    "audit",
    "case",
    "file",
    "quality",
    "timeliness",
)


def _paragraph(rng: random.Random, words: int) -> str:
    text = " ".join(rng.choice(WORDS) for _ in range(words))
    return text[0].upper() + text[1:] + "."


def body_html(rng: random.Random, kb: int, title: str) -> tuple[str, list[dict[str, str]]]:
    """A report body of about `kb` KB: sections with headings and ids, narrative paragraphs,
    findings, a case file table and an inline SVG chart, in the markup reports use."""
    parts: list[str] = []
    contents: list[dict[str, str]] = []
    stages = [
        "Summary",
        "Context for the force",
        "Leadership, management and governance",
        "Initial contact",
        "Assessment and help",
        "Investigation",
        "Decision-making",
        "Trusted adult",
        "Managing those who pose a risk to children",
        "Police detention",
        "Case file analysis",
        "Conclusion",
        "Methodology",
    ]
    size = 0
    n = 0
    while size < kb * 1024:
        stage = stages[n % len(stages)] + ("" if n < len(stages) else f" (part {n // 13 + 1})")
        anchor = f"section-{n + 1}"
        contents.append({"id": anchor, "title": stage})
        section = [
            f'<section class="app-report-section" id="{anchor}" '
            f'aria-labelledby="{anchor}-heading">',
            f'<h2 class="govuk-heading-l" id="{anchor}-heading">{stage}</h2>',
        ]
        for _ in range(6):
            section.append(f'<p class="govuk-body">{_paragraph(rng, 110)}</p>')
        for kind in ("Strength", "Area for improvement", "Cause of concern"):
            section.append(
                f'<div class="app-finding"><p class="govuk-body-s">{kind}</p>'
                f'<h3 class="govuk-heading-m">{_paragraph(rng, 14)}</h3>'
                f'<p class="govuk-body">{_paragraph(rng, 60)}</p></div>'
            )
        rows = "".join(
            f'<tr class="govuk-table__row"><th scope="row" class="govuk-table__header">'
            f"{rng.choice(WORDS).title()} {rng.choice(WORDS)}</th>"
            + "".join(
                f'<td class="govuk-table__cell govuk-table__cell--numeric">{rng.randint(5, 40)}'
                "</td>"
                for _ in range(3)
            )
            + f'<td class="govuk-table__cell govuk-table__cell--numeric">{rng.randint(20, 90)}'
            "</td></tr>"
            for _ in range(12)
        )
        section.append(
            '<div class="app-report-table"><table class="govuk-table"><caption '
            f'class="govuk-table__caption">Case grades: {stage.lower()}</caption><thead>'
            '<tr class="govuk-table__row"><th scope="col" class="govuk-table__header">Group'
            '</th><th scope="col" class="govuk-table__header">Good</th><th scope="col" '
            'class="govuk-table__header">Requires improvement</th><th scope="col" '
            'class="govuk-table__header">Inadequate</th><th scope="col" '
            f'class="govuk-table__header">Cases</th></tr></thead><tbody>{rows}</tbody>'
            "</table></div>"
        )
        bars = "".join(
            f'<rect x="120" y="{10 + i * 22}" width="{rng.randint(40, 300)}" height="16" '
            f'fill="#{rng.choice(["85994b", "ffdd00", "d4351c"])}"></rect>'
            f'<text x="0" y="{22 + i * 22}">{rng.choice(WORDS)}</text>'
            for i in range(12)
        )
        section.append(
            f'<svg class="app-report-chart" viewBox="0 0 440 280" aria-hidden="true" '
            f'focusable="false">{bars}</svg>'
        )
        section.append("</section>")
        chunk = "\n".join(section)
        parts.append(chunk)
        size += len(chunk.encode())
        n += 1
    return "\n".join(parts), contents


def internal_seed(spec: dict[str, Any]) -> dict[str, Any]:
    """Publish `publications` reports of about `body_kb` KB each, straight into the tables
    (as the demo generator does for history), one in five with a second version."""
    _setup_django()
    import re

    from django.core.cache import cache
    from django.db import transaction
    from django.utils.html import strip_tags

    from apps.accounts.models import Role, User
    from apps.core.cache import data_changed
    from apps.findings.models import Finding, Kind, RecommendationStatusChange, Timescale
    from apps.frameworks.models import MethodologyVersion
    from apps.inspections.models import Inspection, ProgrammeType, State
    from apps.reference.models import Force, Inspectorate
    from apps.reports.models import Publication, Report

    rng = random.Random(SEED)
    began = time.monotonic()
    forces = list(Force.objects.filter(territorial=True).order_by("name"))
    methodology = MethodologyVersion.objects.order_by("-valid_from").first()
    police = Inspectorate.objects.get(is_police_inspectorate=True)
    author = User.objects.filter(role=Role.LEAD_INSPECTOR).order_by(
        "username"
    ).first() or User.objects.create(
        username="bench-portal", email="bench-portal@example.test", role=Role.LEAD_INSPECTOR
    )
    types = [ProgrammeType.NCPI] * 5 + [ProgrammeType.NCPI_REVIEW] * 2 + [ProgrammeType.JTAI]
    made = versions = 0
    sizes: list[int] = []
    for n in range(spec["publications"]):
        force = forces[n % len(forces)]
        programme_type = rng.choice(types)
        published_on = dt.date(2016, 1, 4) + dt.timedelta(days=rng.randint(0, 3600))
        with transaction.atomic():
            inspection = Inspection.objects.create(
                reference=f"BENCH-{published_on.year}-{n:04d}",
                title=f"{ProgrammeType(programme_type).label} of {force.name}",
                programme_type=programme_type,
                methodology=methodology,
                lead_inspectorate=police,
                state=State.PUBLISHED,
                fieldwork_start=published_on - dt.timedelta(days=140),
                fieldwork_end=published_on - dt.timedelta(days=128),
            )
            inspection.forces.set([force])
            title = f"{ProgrammeType(programme_type).label} of {force.name} ({n + 1})"
            report = Report.objects.create(inspection=inspection, language="en", title=title)
            findings = Finding.objects.bulk_create(
                Finding(
                    inspection=inspection,
                    kind=Kind.RECOMMENDATION,
                    stage="leadership",
                    headline=_paragraph(rng, 18),
                    number=i,
                    to_force=True,
                    timescale=Timescale.MONTHS,
                    timescale_months=6,
                    due_on=published_on + dt.timedelta(days=183),
                    created_by=author,
                    updated_by=author,
                )
                for i in range(1, 6)
            )
            RecommendationStatusChange.objects.bulk_create(
                RecommendationStatusChange(recommendation=f, status=status, on=on, by_label="bench")
                for f in findings
                for status, on in (
                    ("awaiting_response", published_on),
                    ("being_progressed", published_on + dt.timedelta(days=60)),
                )
            )
            body, contents = body_html(rng, spec["body_kb"], title)
            sizes.append(len(body.encode()))
            counts = {"good": rng.randint(5, 30), "requires improvement": rng.randint(5, 30)}
            counts["inadequate"] = rng.choice([None, rng.randint(5, 20)])
            data = {
                "reference": inspection.reference,
                "programme_type": programme_type,
                "programme_type_label": str(ProgrammeType(programme_type).label),
                "forces": [{"slug": force.slug, "name": force.name}],
                "local_authorities": [],
                "fieldwork_start": inspection.fieldwork_start.isoformat(),
                "fieldwork_end": inspection.fieldwork_end.isoformat(),
                "methodology": {
                    "code": methodology.code,
                    "title": methodology.title,
                    "scale": list(methodology.grade_scale),
                },
                "case_grades": {
                    "scale": ["good", "requires improvement", "inadequate"],
                    "counts": counts,
                    "total": sum(v or 3 for v in counts.values()),
                    "comparable": {
                        "good": counts["good"],
                        "requires_improvement": counts["requires improvement"],
                        "inadequate": counts["inadequate"],
                    },
                },
                "findings_counts": {"recommendation": 5},
                "recommendations": [
                    {
                        "finding_id": f.pk,
                        "number": f.number,
                        "text": f.headline,
                        "addressees": ["the force"],
                        "timescale": "Within 6 months of publication",
                        "due_on": f.due_on.isoformat(),
                        "stage": "Leadership",
                        "cause_of_concern": None,
                    }
                    for f in findings
                ],
                "follows": None,
            }
            text = re.sub(r"\s+", " ", strip_tags(body)).strip()
            count = 2 if n % 5 == 0 else 1
            for version in range(1, count + 1):
                publication = Publication.objects.create(
                    report=report,
                    inspection=inspection,
                    language="en",
                    slug=f"bench-{n:04d}-{force.slug}",
                    version=version,
                    is_current=version == count,
                    title=title,
                    summary=_paragraph(rng, 50),
                    programme_type=programme_type,
                    published_on=published_on + dt.timedelta(days=45 * (version - 1)),
                    published_by=None,
                    change_note="Corrected a table" if version > 1 else "",
                    body_html=body,
                    contents=contents,
                    data=data,
                    search_text=text,
                )
                publication.forces.set([force])
                versions += 1
            made += 1
    data_changed("publications")
    data_changed("findings")
    cache.clear()
    return {
        "publications": made,
        "versions": versions,
        "body_kb_mean": round(sum(sizes) / len(sizes) / 1024, 1) if sizes else 0,
        "seconds": round(time.monotonic() - began, 1),
    }


def internal_info(spec: dict[str, Any]) -> dict[str, Any]:
    _setup_django()
    from django.db.models import Count

    from apps.portal.selectors import listed_publications
    from apps.reports.models import Publication

    current = listed_publications()
    slugs = list(current.order_by("slug").values_list("slug", flat=True))
    old = (
        Publication.objects.filter(is_current=False, language="en")
        .order_by("slug")
        .values_list("slug", "version")
        .first()
    )
    force = (
        current.values("forces__slug")
        .annotate(n=Count("id"))
        .order_by("-n", "forces__slug")
        .first()
    )
    from django.db.models.functions import Length

    sizes = list(current.annotate(size=Length("body_html")).values_list("size", flat=True))
    return {
        "current": len(slugs),
        "all_versions": Publication.objects.count(),
        "slugs": slugs,
        "old": list(old) if old else None,
        "force": force["forces__slug"] if force else None,
        "force_reports": force["n"] if force else 0,
        "body_chars_mean": round(sum(sizes) / len(sizes)) if sizes else 0,
        "bench_reports": sum(1 for s in slugs if s.startswith("bench-")),
    }


def internal_queries(spec: dict[str, Any]) -> dict[str, Any]:
    _setup_django()
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST=HOST)
    results = {}
    for label, path in spec["pages"]:
        client.get(path)  # fills per-process caches (templates, URL resolvers)
        cache.clear()
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path)
        count = len(queries)
        uncached = []
        for _ in range(5):
            cache.clear()
            began = time.perf_counter()
            client.get(path)
            uncached.append((time.perf_counter() - began) * 1000)
        cached = []
        for _ in range(TIMED_REQUESTS):
            began = time.perf_counter()
            client.get(path)
            cached.append((time.perf_counter() - began) * 1000)
        results[label] = {
            "path": path,
            "status": response.status_code,
            "bytes": len(response.content),
            "queries": count,
            "ms_uncached": round(rb.percentile(uncached, 0.5), 1),
            "ms_cached": round(rb.percentile(cached, 0.5), 2),
        }
    return results


def internal_static(spec: dict[str, Any]) -> dict[str, Any]:
    """Write the page a visitor gets at `path` into the static files folder."""
    _setup_django()
    from django.conf import settings
    from django.test import Client

    response = Client(HTTP_HOST=HOST).get(spec["path"])
    assert response.status_code == 200, response.status_code
    target = Path(settings.STATIC_ROOT) / STATIC_NAME
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(response.content)
    return {"bytes": len(response.content), "file": str(target)}


INTERNAL = {
    "seed": internal_seed,
    "info": internal_info,
    "queries": internal_queries,
    "static": internal_static,
}


def run_internal(env: dict[str, str], mode: str, spec: dict[str, Any] | None = None) -> Any:
    completed = subprocess.run(
        [sys.executable, __file__, "--internal", mode, "--spec", json.dumps(spec or {})],
        cwd=ROOT,
        env=env | {"CACHE_URL": "locmemcache://"} if mode == "queries" else env,
        check=False,
        capture_output=True,
        text=True,
    )
    if completed.returncode != 0:
        sys.stderr.write(completed.stdout + completed.stderr)
        raise SystemExit(f"{mode} failed")
    return json.loads(completed.stdout.strip().splitlines()[-1])


# The clients -------------------------------------------------------------------------------


@dataclass
class Visitor:
    number: int
    port: int
    samples: list[tuple[float, int, int]] = field(default_factory=list)  # seconds, status, bytes

    def fetch(self, path: str) -> tuple[float, int, int]:
        began = time.perf_counter()
        status, size = 0, 0
        connection = http.client.HTTPConnection(HOST, self.port, timeout=rb.REQUEST_TIMEOUT)
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            size = len(response.read())
            status = response.status
        except OSError:
            status = 0
        finally:
            connection.close()
        return time.perf_counter() - began, status, size

    def run(self, paths: list[str], until: float, pause: tuple[float, float] | None) -> None:
        rng = random.Random(self.number)
        position = self.number * 7
        for _ in range(MAX_REQUESTS_PER_CLIENT):
            if time.monotonic() >= until:
                break
            path = paths[position % len(paths)]
            position += 1
            self.samples.append(self.fetch(path))
            if pause:
                time.sleep(rng.uniform(*pause))


def load(
    port: int,
    paths: list[str],
    clients: int,
    seconds: float,
    server_pid: int,
    pause: tuple[float, float] | None = None,
) -> dict[str, Any]:
    visitors = [Visitor(n, port) for n in range(clients)]
    until = time.monotonic() + seconds
    cpu_before, machine_before = time.process_time(), rb._cpu_ticks()
    server_before = rb._tree_cpu_seconds(server_pid)
    threads = [threading.Thread(target=v.run, args=(paths, until, pause)) for v in visitors]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + rb.REQUEST_TIMEOUT + 5)
    elapsed = time.monotonic() - began
    machine_after = rb._cpu_ticks()
    ticks = machine_after[1] - machine_before[1]
    samples = [s for v in visitors for s in v.samples]
    times = [s[0] * 1000 for s in samples]
    errors = [s for s in samples if s[1] != 200]
    return {
        "clients": clients,
        "paused": list(pause) if pause else None,
        "seconds": round(elapsed, 1),
        "requests": len(samples),
        "errors": len(errors),
        "error_statuses": sorted({s[1] for s in errors}),
        "mean_kb": round(sum(s[2] for s in samples) / len(samples) / 1024, 1) if samples else 0,
        "p50_ms": round(rb.percentile(times, 0.50), 1),
        "p95_ms": round(rb.percentile(times, 0.95), 1),
        "p99_ms": round(rb.percentile(times, 0.99), 1),
        "max_ms": round(max(times), 1) if times else None,
        "rps": round(len(samples) / elapsed, 1) if elapsed else None,
        "mb_per_s": round(sum(s[2] for s in samples) / elapsed / 1e6, 1) if elapsed else None,
        "client_cpu_seconds": round(time.process_time() - cpu_before, 1),
        "gunicorn_cpu_seconds": round(rb._tree_cpu_seconds(server_pid) - server_before, 1),
        "machine_cpu_busy": round((machine_after[0] - machine_before[0]) / ticks, 2)
        if ticks
        else None,
    }


# Main --------------------------------------------------------------------------------------


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", choices=("national", "demo", "none"), default="national")
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--publications", type=int, default=400)
    parser.add_argument("--body-kb", type=int, default=150)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-class", choices=("sync", "gthread"), default="sync")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--today", default=dt.date.today().isoformat())
    parser.add_argument("--reuse-database", action="store_true")
    parser.add_argument("--internal", choices=tuple(INTERNAL), help=argparse.SUPPRESS)
    parser.add_argument("--spec", default="{}", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not 1 <= args.clients <= 200 or not 0 < args.seconds <= 600:
        parser.error("--clients must be 1-200 and --seconds 1-600")
    if not 0 <= args.publications <= 5000 or not 1 <= args.body_kb <= 2000:
        parser.error("--publications must be 0-5000 and --body-kb 1-2000")
    if urllib.parse.urlparse(args.database_url).hostname not in (None, "", HOST, "localhost"):
        parser.error("The benchmark database must be local (127.0.0.1)")
    return args


def markdown(result: dict[str, Any]) -> str:
    info, config = result["data"], result["config"]
    lines = [
        f"Data: {info['current']} current reports ({info['all_versions']} versions; "
        f"{info['bench_reports']} benchmark reports of about {config['body_kb']} KB, mean body "
        f"{info['body_chars_mean'] / 1024:.0f} K characters), {config['scale']} scale, "
        f"{config['database']}.",
        "",
        "| page | queries (uncached) | KB | ms uncached | ms cached |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, row in result["queries"].items():
        lines.append(
            f"| {label} `{row['path']}` | {row['queries']} | {row['bytes'] / 1024:.0f} "
            f"| {row['ms_uncached']} | {row['ms_cached']} |"
        )
    lines += [
        "",
        f"Load: gunicorn {config['workers']} x {config['worker_class']}"
        + (f" ({config['threads']} threads)" if config["worker_class"] == "gthread" else "")
        + f", {config['clients']} clients, Redis cache.",
        "",
        "| run | requests | errors | p50 ms | p95 ms | p99 ms | req/s | MB/s | machine busy |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for label, row in result["load"].items():
        lines.append(
            f"| {label} | {row['requests']} | {row['errors']} | {row['p50_ms']} "
            f"| {row['p95_ms']} | {row['p99_ms']} | {row['rps']} | {row['mb_per_s']} "
            f"| {row['machine_cpu_busy']:.0%} |"
        )
    ratio = result["ratio"]
    lines += [
        "",
        f"Report pages served at {ratio:.0%} of the static file's throughput "
        f"({result['load']['report pages, back to back']['rps']} against "
        f"{result['load']['static twin, back to back']['rps']} requests a second).",
        f"Target p95 < {TARGET_P95_MS:.0f} ms with {config['clients']} concurrent visitors: "
        f"back to back {'met' if result['target']['back_to_back_met'] else 'NOT met'}; "
        f"reading at a person's pace {'met' if result['target']['paced_met'] else 'NOT met'}.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    if args.internal:
        print(json.dumps(INTERNAL[args.internal](json.loads(args.spec))))
        return
    key = rb.encryption_key(reuse=args.reuse_database, key_file=KEY_FILE)
    rb.CACHE_URLS["portal"] = CACHE_URL
    env = rb.server_env(args.database_url, key, secrets.token_urlsafe(50), "portal")
    rb.flush_cache(CACHE_URL)
    generation: dict[str, Any] = {}
    if not args.reuse_database:
        if args.scale == "none":
            print(f"- {rb._database_name(args.database_url)}: re-creating and migrating")
            rb.recreate_database(args.database_url)
            rb.manage(env, "migrate", "--noinput", "-v0")
            rb.manage(env, "load_reference", "-v0")
            rb.manage(env, "load_methodologies", "-v0")
        else:
            generation = rb.build_database(args.database_url, env, args.scale, SEED, args.today)
        if args.publications:
            print(f"- publishing {args.publications} reports of about {args.body_kb} KB")
            generation["seed"] = run_internal(
                env, "seed", {"publications": args.publications, "body_kb": args.body_kb}
            )
            print(f"  {generation['seed']}")
    rb.collect_static(env)
    info = run_internal(env, "info")
    if not info["slugs"]:
        raise SystemExit("No published reports to measure.")
    sample = next((s for s in info["slugs"] if s.startswith("bench-")), info["slugs"][0])
    pages = [
        ("report list", "/reports/"),
        ("search", "/reports/?q=missing+children+custody"),
        ("report page", f"/reports/{sample}/"),
        ("force page", f"/forces/{info['force']}/"),
        ("map", "/map/"),
        ("open data, recommendations CSV", "/open-data/recommendations.csv"),
    ]
    if info["old"]:
        pages.insert(3, ("earlier version", f"/reports/{info['old'][0]}/v{info['old'][1]}/"))
    print(f"- counting queries and timing pages in-process ({info['current']} current reports)")
    queries = run_internal(env, "queries", {"pages": pages})
    static = run_internal(env, "static", {"path": f"/reports/{sample}/"})
    print(f"- static twin: {static['bytes'] / 1024:.0f} KB at /static/{STATIC_NAME}")

    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    port = rb.free_port()
    log_path = RESULTS / f"portal-gunicorn-{stamp}.log"
    print(f"- gunicorn {args.workers} x {args.worker_class} on {HOST}:{port}")
    server = rb.start_gunicorn(env, port, args, log_path)
    report_paths = [f"/reports/{slug}/" for slug in info["slugs"]]
    # Under load, the reports of about --body-kb KB (those this script published), so that
    # report pages and their static twin are the same size; every report is visited first.
    sized = [f"/reports/{slug}/" for slug in info["slugs"] if slug.startswith("bench-")]
    load_paths = sized or report_paths
    runs: dict[str, Any] = {}
    try:
        print(f"- first visit of every report page ({len(report_paths)})")
        first = Visitor(-1, port)
        began = time.monotonic()
        first_samples = [first.fetch(path) for path in report_paths]
        runs["first visits, one at a time"] = {
            "requests": len(first_samples),
            "errors": sum(1 for s in first_samples if s[1] != 200),
            "p50_ms": round(rb.percentile([s[0] * 1000 for s in first_samples], 0.5), 1),
            "p95_ms": round(rb.percentile([s[0] * 1000 for s in first_samples], 0.95), 1),
            "seconds": round(time.monotonic() - began, 1),
        }
        if args.warmup:
            load(port, load_paths, args.clients, args.warmup, server.pid)
        plan = [
            ("report pages, back to back", load_paths, None),
            ("static twin, back to back", [f"/static/{STATIC_NAME}"], None),
            ("report pages, people's pace (0.5-1.5 s between pages)", load_paths, (0.5, 1.5)),
        ]
        for label, paths, pause in plan:
            print(f"- {label}: {args.clients} clients for {args.seconds:.0f} s")
            runs[label] = load(port, paths, args.clients, args.seconds, server.pid, pause)
            print(
                f"  p50 {runs[label]['p50_ms']} ms, p95 {runs[label]['p95_ms']} ms, "
                f"{runs[label]['rps']} req/s, {runs[label]['errors']} errors"
            )
    finally:
        rb.stop(server)

    parsed = urllib.parse.urlparse(args.database_url)
    measured = {k: v for k, v in runs.items() if not k.startswith("first")}
    result = {
        "when": dt.datetime.now().isoformat(timespec="seconds"),
        "machine": rb.machine(),
        "code": rb.code_version(),
        "config": {
            "scale": args.scale,
            "publications": args.publications,
            "body_kb": args.body_kb,
            "clients": args.clients,
            "seconds": args.seconds,
            "workers": args.workers,
            "worker_class": args.worker_class,
            "threads": args.threads,
            "database": f"{parsed.scheme.split('+')[0]} {rb._database_name(args.database_url)}",
        },
        "generation": generation,
        "data": {k: v for k, v in info.items() if k != "slugs"},
        "queries": queries,
        "static": static,
        "first_visits": runs["first visits, one at a time"],
        "load": measured,
    }
    back = measured["report pages, back to back"]
    result["ratio"] = back["rps"] / measured["static twin, back to back"]["rps"]
    result["target"] = {
        "p95_ms": TARGET_P95_MS,
        "back_to_back_met": back["p95_ms"] < TARGET_P95_MS,
        "paced_met": measured["report pages, people's pace (0.5-1.5 s between pages)"]["p95_ms"]
        < TARGET_P95_MS,
    }
    out = RESULTS / f"portal-bench-{stamp}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print()
    print(markdown(result))
    print(f"\nWritten to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
