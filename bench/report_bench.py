#!/usr/bin/env python
"""Report benchmark: the PDF of a full force report and the disclosure check over it.

Run from anywhere with the project's Python:

    .venv/bin/python bench/report_bench.py [--scale national|demo]
        [--database-url postgres://postgres@127.0.0.1:5432/inspectorate_bench_report]
        [--repetitions 5] [--rebuild]

1. The database: `inspectorate_bench_report` at the chosen scale, reused if an earlier run
   built it from the same generator, migrations and data (a fingerprint kept in
   bench/results/), else re-created and generated with `generate_programme` (timed).
2. In one transaction that is rolled back at the end (the database is never changed): the
   published NCPI with the most audited cases; its report is made a full force report, with
   every section given several paragraphs of narrative and each stage four more findings,
   so that the PDF runs to more than 30 pages with the case file tables and charts.
3. Timed: building the content and its HTML; the PDF with WeasyPrint (`pdf.render_pdf`,
   pages counted); the disclosure check over the whole report (`services.disclosure_run`:
   every section and finding through the engine, and the small numbers of the tables), the
   first run in the process (loading the spaCy model) apart from the rest.
4. Prints a markdown table and writes JSON to bench/results/ (git-ignored).

The figures are reported, not asserted: no timing here is a test.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import secrets
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import fieldwork_bench as fb  # the database fingerprint and reuse logic
import run_bench as rb  # the shared benchmark machinery, next to this file

ROOT = rb.ROOT
RESULTS = rb.RESULTS
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/inspectorate_bench_report"
STATE_FILE = RESULTS / "report-bench-databases.json"
KEY_FILE = RESULTS / "report-bench-encryption-key"  # benchmark data only

PARAGRAPH = (
    "We examined how officers and staff responded when a child was at risk, and how leaders "
    "made sure that the response was consistent across the force area. In most of the cases "
    "we audited, officers recognised the risk quickly and took the right action, recording "
    "the child's views and their living conditions. In too many cases, however, the records "
    "did not show why decisions were made, and supervisors had not reviewed the work in good "
    "time. The force has started to address this through training and a new audit programme, "
    "but the changes were recent and had not yet made a consistent difference to practice. "
    "Partner agencies told us that information was shared promptly, although the quality of "
    "referrals to children's social care varied between teams."
)


def _setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def _log(message: str) -> None:
    print(f"  {message}", file=sys.stderr, flush=True)


def _summary(values: list[float]) -> dict[str, float]:
    return {
        "median_s": round(statistics.median(values), 3),
        "min_s": round(min(values), 3),
        "max_s": round(max(values), 3),
    }


def internal(spec: dict[str, Any]) -> dict[str, Any]:
    _setup_django()
    from django.db import transaction
    from django.db.models import Count

    from apps.accounts.models import Role, User
    from apps.core.audit import SystemActor
    from apps.findings.models import Finding, Kind
    from apps.reports import services
    from apps.reports.content import report_content
    from apps.reports.models import Publication, ReportSection
    from apps.reports.pdf import render_pdf
    from apps.reports.render import contents_list, render_body

    repetitions = spec["repetitions"]
    result: dict[str, Any] = {}
    with transaction.atomic():
        publication = (
            Publication.objects.filter(is_current=True, language="en", programme_type="ncpi")
            .annotate(cases=Count("inspection__sampled_cases"))
            .order_by("-cases", "pk")
            .select_related("report__inspection__methodology")
            .first()
        )
        if publication is None:
            raise SystemExit("The database has no published NCPI: generate the programme.")
        report = publication.report
        inspection = report.inspection
        author = (
            User.objects.filter(team_places__inspection=inspection, role=Role.INSPECTOR).first()
            or User.objects.filter(role=Role.INSPECTOR).first()
        )
        assert author is not None
        _log(f"report of {inspection.reference}: {publication.cases} sampled cases")
        result["reference"] = inspection.reference
        for section in ReportSection.objects.filter(report=report):
            paragraphs = 6 if section.kind == "stage" else 4
            ReportSection.objects.filter(pk=section.pk).update(
                body="\n\n".join([PARAGRAPH] * paragraphs)
            )
        order = 1000
        for stage in inspection.methodology.stages:
            for kind in (Kind.STRENGTH, Kind.AREA_FOR_IMPROVEMENT) * 2:
                order += 1
                Finding.objects.create(
                    inspection=inspection,
                    kind=kind,
                    stage=stage["code"],
                    headline=f"{stage['name']}: officers do not always record the child's views.",
                    narrative=f"{PARAGRAPH}\n\n{PARAGRAPH}",
                    order=order,
                    created_by=author,
                    updated_by=author,
                )

        began = time.perf_counter()
        content = report_content(report)
        body = render_body(content)
        result["content_and_html_s"] = round(time.perf_counter() - began, 3)
        result["html_bytes"] = len(body)
        result["words"] = sum(len(text.split()) for _, _, text in content.texts())
        result["tables"] = len(content.tables)
        meta = {
            "reference": inspection.reference,
            "programme": inspection.get_programme_type_display(),
            "publisher": services.PUBLISHER,
            "published_on": publication.published_on.isoformat(),
            "published_on_text": f"{publication.published_on:%-d %B %Y}",
            "version": 1,
            "language": "en",
        }
        pdf_times = []
        for n in range(repetitions):
            began = time.perf_counter()
            data, pages, _ = render_pdf(
                title=report.title, body_html=body, contents=contents_list(content), meta=meta
            )
            pdf_times.append(time.perf_counter() - began)
            _log(f"PDF {n + 1}: {pdf_times[-1]:.2f} s, {pages} pages, {len(data):,} bytes")
        result["pdf"] = {**_summary(pdf_times), "pages": pages, "bytes": len(data)}

        check_times = []
        opened = 0
        for n in range(repetitions + 1):
            began = time.perf_counter()
            check = services.disclosure_run(actor=SystemActor("report_bench"), report=report)
            check_times.append(time.perf_counter() - began)
            opened = check.open
            _log(f"check {n + 1}: {check_times[-1]:.2f} s, {check.open} hits to resolve")
        result["check_first_s"] = round(check_times[0], 3)
        result["check"] = {**_summary(check_times[1:]), "hits": opened}
        transaction.set_rollback(True)
    return result


def markdown(result: dict[str, Any]) -> str:
    pdf, check = result["pdf"], result["check"]
    lines = [
        f"Report of {result['reference']} made a full force report: {result['words']:,} "
        f"words of text, {result['tables']} case file tables with charts, "
        f"{result['html_bytes']:,} bytes of HTML ({result['scale']} scale, "
        f"{result['repetitions']} repetitions).",
        "",
        "| step | median | min | max | target |",
        "|---|---|---|---|---|",
        f"| content and HTML | {result['content_and_html_s']} s | | | |",
        f"| PDF ({pdf['pages']} pages, {pdf['bytes']:,} bytes) | {pdf['median_s']} s | "
        f"{pdf['min_s']} s | {pdf['max_s']} s | under 3 s |",
        f"| disclosure check, first in the process (model load) | {result['check_first_s']} s "
        "| | | |",
        f"| disclosure check ({check['hits']} hits) | {check['median_s']} s | "
        f"{check['min_s']} s | {check['max_s']} s | under 5 s |",
    ]
    return "\n".join(lines)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--scale", choices=rb.SCALES, default="national")
    parser.add_argument("--repetitions", type=int, default=5)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--today", default=dt.date.today().isoformat())
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--internal", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--spec", default="{}", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def _database(args: argparse.Namespace, env: dict[str, str]) -> dict[str, Any]:
    state = json.loads(STATE_FILE.read_text()) if STATE_FILE.exists() else {}
    wanted = fb.fingerprint(args.seed, args.today)
    name = rb._database_name(args.database_url)
    known = state.get(name, {})
    if (
        not args.rebuild
        and known.get("fingerprint") == wanted
        and known.get("scale") == args.scale
        and fb.database_exists(args.database_url)
    ):
        print(f"- {name}: reusing ({args.scale} scale, built {known.get('built')})")
        return {"reused": True, **known}
    print(f"- {name}: building the {args.scale} programme")
    built = rb.build_database(args.database_url, env, args.scale, args.seed, args.today)
    state[name] = {
        "fingerprint": wanted,
        "scale": args.scale,
        "built": dt.datetime.now().isoformat(timespec="seconds"),
        "generation_seconds": built["seconds"],
    }
    STATE_FILE.write_text(json.dumps(state, indent=2) + "\n")
    return {"reused": False, **state[name]}


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    if args.internal:
        print(json.dumps(internal(json.loads(args.spec))))
        return
    RESULTS.mkdir(parents=True, exist_ok=True)
    key = rb.encryption_key(reuse=KEY_FILE.exists(), key_file=KEY_FILE)
    env = rb.server_env(args.database_url, key, secrets.token_urlsafe(50), args.scale)
    env["CACHE_URL"] = "locmemcache://"
    database = _database(args, env)
    completed = subprocess.run(
        [
            rb.PYTHON,
            __file__,
            "--internal",
            "--spec",
            json.dumps({"repetitions": args.repetitions}),
        ],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    )
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    result |= {
        "scale": args.scale,
        "repetitions": args.repetitions,
        "database": database,
        "machine": rb.machine(),
        "code": rb.code_version(),
    }
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    (RESULTS / f"report-{stamp}.json").write_text(json.dumps(result, indent=2) + "\n")
    print(markdown(result))


if __name__ == "__main__":
    main()
