#!/usr/bin/env python
"""Disclosure check benchmark: a full inspection report, cold and warm.

Run from anywhere with the project's Python:

    .venv/bin/python bench/disclosure_bench.py [--repetitions 5] [--words 20000]
        [--sections 40] [--seed 14]

The issue's target: the disclosure check over a full report in under 5 s. A full report is
30-40 pages, about 15,000-20,000 words in about 40 sections.

What it does (see docs/benchmarks.md, "Disclosure check"):

1. Builds a report of ``--words`` words in ``--sections`` sections from the test corpora
   (tests/disclosure/data/): the clean paragraphs, shuffled with ``--seed`` and repeated, with
   one planted paragraph (a name, an address, a phone number...) in every other section, so
   the text reads like a report and the check has things to find.
2. Cold, ``--repetitions`` times: a new Python process each time, which sets up Django,
   imports the engine and runs ``scan_many`` over the sections. Timed from before the import
   to the last result: the hash check of the model's weights, loading spaCy and presidio,
   then the scan. The process's own start (the interpreter, Django) is reported apart.
3. Warm, ``--repetitions`` times in this process, the model loaded once first: ``scan_many``
   over the sections (the batched call the reports app makes), and for comparison ``scan``
   section by section.
4. Checks the last warm result: how many of the planted identifiers were caught in context,
   and how many hits fell outside the planted paragraphs (false alarms).
5. Prints a markdown table (median and max) and writes everything as JSON to bench/results/
   (git-ignored), with the machine and the commit measured.

The database is whichever DATABASE_URL names (SQLite by default); the benchmark only reads
it. Nothing is contacted over the network. No timing here is a test: the figures are
reported, not asserted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run_bench as rb  # the shared benchmark machinery, next to this file

ROOT = rb.ROOT
RESULTS = rb.RESULTS
DATA = ROOT / "tests" / "disclosure" / "data"
TARGET_SECONDS = 5.0
SETTINGS = "inspectorate.settings.development"


def load(name: str) -> list[dict[str, Any]]:
    with (DATA / name).open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def build_report(words: int, sections: int, seed: int) -> list[str]:
    """``sections`` texts of about ``words / sections`` words each."""
    rng = random.Random(seed)
    clean = [item["text"] for item in load("clean.jsonl")]
    planted = [item["text"] for item in load("planted.jsonl")]
    rng.shuffle(planted)
    per_section = words // sections
    report = []
    pool: list[str] = []
    for number in range(sections):
        paragraphs: list[str] = []
        count = 0
        if number % 2 == 1:
            paragraphs.append(planted[number % len(planted)])
            count += len(paragraphs[-1].split())
        while count < per_section:
            if not pool:
                pool = clean[:]
                rng.shuffle(pool)
            paragraphs.append(pool.pop())
            count += len(paragraphs[-1].split())
        report.append("\n\n".join(paragraphs))
    return report


def accuracy(sections: list[str], hits: list[list[Any]]) -> dict[str, Any]:
    """Planted identifiers caught in the report, and hits outside the planted paragraphs."""
    planted = {item["text"]: item for item in load("planted.jsonl")}
    expected = caught = 0
    false_alarms: dict[str, int] = {}
    for section, section_hits in zip(sections, hits, strict=True):
        start = 0
        for paragraph in section.split("\n\n"):
            end = start + len(paragraph)
            inside = [h for h in section_hits if start <= h.start and h.end <= end]
            if paragraph in planted:
                for item in planted[paragraph]["expected"]:
                    at = start + paragraph.index(item["text"])
                    expected += 1
                    caught += any(
                        h.type == item["type"] and h.start < at + len(item["text"]) and h.end > at
                        for h in inside
                    )
            else:
                for hit in inside:
                    key = f"{hit.type} {hit.text!r}"
                    false_alarms[key] = false_alarms.get(key, 0) + 1
            start = end + 2
    return {"planted": expected, "caught": caught, "false_alarms": false_alarms}


def setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS)
    import django

    django.setup()


def cold(report_path: str) -> None:
    """In a new process: time from importing the engine to the last result; print JSON."""
    started = time.perf_counter()
    setup_django()
    django_ready = time.perf_counter()
    sections = json.loads(Path(report_path).read_text(encoding="utf-8"))
    from apps.disclosure import engine

    hits = engine.scan_many(sections)
    finished = time.perf_counter()
    print(
        json.dumps(
            {
                "django_setup_seconds": django_ready - started,
                "check_seconds": finished - django_ready,
                "model_load_seconds": engine.get_engine().load_seconds,
                "hits": sum(len(h) for h in hits),
            }
        )
    )


def summary(values: list[float]) -> dict[str, float]:
    return {
        "median": round(statistics.median(values), 3),
        "max": round(max(values), 3),
        "min": round(min(values), 3),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repetitions", type=int, default=5)
    parser.add_argument("--words", type=int, default=20_000)
    parser.add_argument("--sections", type=int, default=40)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--internal-cold", metavar="REPORT_JSON", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.internal_cold:
        cold(args.internal_cold)
        return

    sections = build_report(args.words, args.sections, args.seed)
    words = sum(len(s.split()) for s in sections)
    characters = sum(len(s) for s in sections)
    print(f"Report: {len(sections)} sections, {words:,} words, {characters:,} characters")

    RESULTS.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", suffix=".json", encoding="utf-8", delete=False) as f:
        json.dump(sections, f)
        report_path = f.name
    cold_runs = []
    try:
        for repetition in range(args.repetitions):
            started = time.perf_counter()
            completed = subprocess.run(
                [sys.executable, __file__, "--internal-cold", report_path],
                cwd=ROOT,
                env={**os.environ, "DJANGO_SETTINGS_MODULE": SETTINGS},
                check=True,
                capture_output=True,
                text=True,
                timeout=300,
            )
            run = json.loads(completed.stdout.strip().splitlines()[-1])
            run["process_seconds"] = time.perf_counter() - started
            cold_runs.append(run)
            print(
                f"  cold {repetition + 1}: check {run['check_seconds']:.2f} s (model load "
                f"{run['model_load_seconds']:.2f} s), whole process {run['process_seconds']:.2f} s"
            )
    finally:
        Path(report_path).unlink(missing_ok=True)

    setup_django()
    from apps.disclosure import engine

    engine.get_engine()
    engine.scan_many(sections[:2])  # the allow-list and first-call costs, outside the timing
    warm, one_by_one = [], []
    hits: list[list[Any]] = []
    for repetition in range(args.repetitions):
        started = time.perf_counter()
        hits = engine.scan_many(sections)
        warm.append(time.perf_counter() - started)
        started = time.perf_counter()
        for section in sections:
            engine.scan(section)
        one_by_one.append(time.perf_counter() - started)
        print(
            f"  warm {repetition + 1}: scan_many {warm[-1]:.2f} s, "
            f"scan per section {one_by_one[-1]:.2f} s"
        )
    by_type: dict[str, int] = {}
    for section_hits in hits:
        for hit in section_hits:
            by_type[hit.type] = by_type.get(hit.type, 0) + 1

    result = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": rb.machine(),
        "code": rb.code_version(),
        "report": {
            "sections": len(sections),
            "words": words,
            "characters": characters,
            "seed": args.seed,
        },
        "pipeline": engine.get_engine().nlp.pipe_names,
        "cold": {
            "check_seconds": summary([r["check_seconds"] for r in cold_runs]),
            "model_load_seconds": summary([r["model_load_seconds"] for r in cold_runs]),
            "django_setup_seconds": summary([r["django_setup_seconds"] for r in cold_runs]),
            "process_seconds": summary([r["process_seconds"] for r in cold_runs]),
        },
        "warm": {
            "scan_many_seconds": summary(warm),
            "scan_per_section_seconds": summary(one_by_one),
            "words_per_second": round(words / statistics.median(warm)),
        },
        "hits": by_type,
        "accuracy": accuracy(sections, hits),
        "target_seconds": TARGET_SECONDS,
    }
    result["target_met"] = result["cold"]["check_seconds"]["max"] < TARGET_SECONDS
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    out = RESULTS / f"disclosure-{stamp}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")

    print()
    print(f"| {words:,} words, {len(sections)} sections | median s | max s |")
    print("|---|---:|---:|")
    rows = [
        ("cold: import, model check and load, scan_many", result["cold"]["check_seconds"]),
        ("of which the model check and load", result["cold"]["model_load_seconds"]),
        ("cold: whole process (with Python and Django start)", result["cold"]["process_seconds"]),
        ("warm: scan_many", result["warm"]["scan_many_seconds"]),
        ("warm: scan per section", result["warm"]["scan_per_section_seconds"]),
    ]
    for label, figures in rows:
        print(f"| {label} | {figures['median']:.2f} | {figures['max']:.2f} |")
    print(f"\nHits: {by_type}")
    found = result["accuracy"]
    print(
        f"Planted identifiers caught: {found['caught']}/{found['planted']}; hits outside the "
        f"planted paragraphs (each clean paragraph recurs in the report): {found['false_alarms']}"
    )
    print(f"Target under {TARGET_SECONDS:.0f} s: {'met' if result['target_met'] else 'NOT met'}")
    print(f"Written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
