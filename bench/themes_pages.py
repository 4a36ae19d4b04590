#!/usr/bin/env python
"""The thematic synthesis's pages at national scale: the analysis, the evidence behind a
figure, both downloads and a draft thematic report (HTML and PDF), over the corpus that
`bench/themes_bench.py` leaves coded (50,000 statements and more).

    .venv/bin/python bench/themes_bench.py      # first: makes and codes the corpus
    .venv/bin/python bench/themes_pages.py [--repeat 3]
        [--database-url postgres://postgres@127.0.0.1:5432/inspectorate_bench_themes]

Each page is asked for through Django's test client, signed in as the benchmark's analyst,
in this process (no server): `--repeat` times with the cache emptied first (cold: the page
as the first person after a change to the codes sees it), then once more without emptying
it (warm). The median cold time, the warm time, the database queries of one cold request
and the size of the response are printed as a markdown table and written as JSON to
bench/results/ (git-ignored). No timing here is a test: the figures are reported, not
asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/inspectorate_bench_themes"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    import run_bench as rb

    if "bench" not in args.database_url.rsplit("/", 1)[-1]:
        raise SystemExit("The benchmark's database name must contain 'bench'.")
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "inspectorate.settings.development")
    os.environ["HF_HUB_OFFLINE"] = "1"

    import django

    django.setup()
    from django.conf import settings
    from django.core.cache import cache
    from django.db import connection
    from django.db.models import Count
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from apps.accounts.models import User
    from apps.themes import services
    from apps.themes.models import Statement, ThemeCode

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, rb.HOST]
    analyst = User.objects.filter(username="bench.analyst").first()
    statements = Statement.objects.count()
    if analyst is None or not statements:
        raise SystemExit("Run bench/themes_bench.py first: it makes and codes the corpus.")

    # The theme with the most statements: its evidence and its download are the largest.
    largest = (
        ThemeCode.objects.filter(theme__codebook=services.current_codebook())
        .exclude(status="withdrawn")
        .values("theme__key")
        .annotate(n=Count("statement", distinct=True))
        .order_by("-n")
        .first()
    )
    if largest is None:
        raise SystemExit("The corpus has no codes: run bench/themes_bench.py first.")
    theme, theme_statements = largest["theme__key"], largest["n"]

    client = Client(HTTP_HOST=rb.HOST)
    client.force_login(analyst)
    report = services.thematic_report_save(
        actor=analyst,
        report=None,
        title="Benchmark thematic report",
        year_from=2018,
        year_to=2025,
        introduction="The benchmark's corpus, every year.",
    )
    pages = [
        ("analysis, by year", "/themes/analysis/?from=2018&to=2025&by=year"),
        ("analysis, by kind", "/themes/analysis/?from=2018&to=2025&by=kind"),
        ("analysis, by stage", "/themes/analysis/?from=2018&to=2025&by=stage"),
        ("evidence, largest theme", f"/themes/analysis/evidence/?theme={theme}"),
        (
            "evidence, its reports",
            f"/themes/analysis/evidence/?theme={theme}&show=reports",
        ),
        (
            "download, its statements (CSV)",
            f"/themes/analysis/evidence/statements.csv?theme={theme}",
        ),
        (
            "download, its statements (XLSX)",
            f"/themes/analysis/evidence/statements.xlsx?theme={theme}",
        ),
        ("download, the figures (CSV)", "/themes/analysis/figures.csv?by=year"),
        ("download, the figures (XLSX)", "/themes/analysis/figures.xlsx?by=year"),
        ("thematic report (HTML)", f"/themes/reports/{report.pk}/"),
        ("thematic report (PDF)", f"/themes/reports/{report.pk}/report.pdf"),
    ]
    rows: list[dict[str, object]] = []
    try:
        for name, url in pages:
            cold: list[float] = []
            queries = 0
            size = 0
            for _ in range(args.repeat):
                cache.clear()
                with CaptureQueriesContext(connection) as captured:
                    began = time.perf_counter()
                    response = client.get(url)
                    content = b"".join(response) if response.streaming else response.content
                    cold.append(time.perf_counter() - began)
                if response.status_code != 200:
                    raise SystemExit(f"{url} answered {response.status_code}")
                queries, size = len(captured.captured_queries), len(content)
            began = time.perf_counter()
            response = client.get(url)
            content = b"".join(response) if response.streaming else response.content
            warm = time.perf_counter() - began
            row = {
                "page": name,
                "url": url,
                "cold_median_seconds": round(statistics.median(cold), 2),
                "cold_seconds": [round(c, 2) for c in cold],
                "warm_seconds": round(warm, 2),
                "queries": queries,
                "kilobytes": round(size / 1024),
            }
            print(f"- {name}: {row['cold_median_seconds']} s cold, {row['warm_seconds']} s warm")
            rows.append(row)
    finally:
        report.delete()

    results = {
        "statements": statements,
        "largest_theme": theme,
        "largest_theme_statements": theme_statements,
        "repeat": args.repeat,
        "machine": rb.machine(),
        "code": rb.code_version(),
        "pages": rows,
    }
    out_dir = ROOT / "bench" / "results"
    out_dir.mkdir(exist_ok=True)
    out = out_dir / f"themes-pages-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(results, indent=2, default=str))
    print(f"\n{statements:,} statements; the largest theme, {theme}, has {theme_statements:,}.\n")
    print("| page | cold (median) | warm | queries | size |")
    print("|---|---:|---:|---:|---:|")
    for row in rows:
        print(
            f"| {row['page']} | {row['cold_median_seconds']} s | {row['warm_seconds']} s | "
            f"{row['queries']} | {row['kilobytes']} KB |"
        )
    print(f"\nJSON: {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
