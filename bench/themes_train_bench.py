#!/usr/bin/env python
"""Training the theme classifier as people's coding grows.

    .venv/bin/python bench/themes_train_bench.py [--people 0 300 1500 4250] [--repeat 2]

The classifier retrains whenever the statements people have coded change (ADR 18): on the
project's 746 shipped statements (the codebook's examples and data/themes/
training_statements.jsonl) plus every statement people coded. This times
`classifier.train` on the shipped statements plus `--people` more, for each size given:
the five folds that choose the thresholds and the final model, everything that training
does but embedding the statements, which are embedded once beforehand (the app embeds each
text once and caches it).

The people-coded statements are the shipped ones behind the lead-ins of
bench/themes_bench.py ("In the cases we examined, ..."), each keeping its themes: distinct
texts, in the register of published reports, with the codebook's themes in the shipped
proportions. No database is used. Prints a markdown table (the best of `--repeat` runs a
size) and writes JSON to bench/results/ (git-ignored). Nothing here is a test: the figures
are reported, not asserted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "inspectorate.settings.development")
os.environ["HF_HUB_OFFLINE"] = "1"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, nargs="+", default=[0, 300, 1500, 4250])
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()

    import django

    django.setup()
    import numpy as np
    from themes_bench import LEAD_INS

    from apps.themes import classifier as model
    from apps.themes.codebook import load_codebook
    from apps.themes.corpus import read_coded, training_path
    from apps.themes.embedding import cores, features, precision

    codebook = load_codebook()
    shipped = model.codebook_statements(codebook) + read_coded(training_path(), codebook)
    leads = [lead for lead in LEAD_INS if lead]
    people = [
        replace(s, text=lead + s.text[0].lower() + s.text[1:])
        for lead in leads
        for s in shipped
        if not s.text.startswith(("I ", "CAIU", "MASH"))
    ]
    most = max(args.people)
    if most > len(people):
        raise SystemExit(f"--people: at most {len(people)}.")
    print(f"- embedding {len(shipped) + most} statements")
    vectors = features([s.text for s in shipped + people[:most]])

    rows = []
    for n in args.people:
        statements = shipped + people[:n]
        times = []
        for _ in range(args.repeat):
            began = time.perf_counter()
            trained = model.train(statements, codebook, vectors=vectors[: len(statements)])
            times.append(time.perf_counter() - began)
        rows.append(
            {
                "people_coded": n,
                "statements": len(statements),
                "train_seconds": round(min(times), 2),
                "cross_validated_macro_f1": trained.quality["macro_f1"],
            }
        )
        print(f"- {len(statements)} statements: {min(times):.2f} s")

    print()
    print("| people coded | statements | training |")
    print("|---:|---:|---:|")
    for row in rows:
        print(f"| {row['people_coded']:,} | {row['statements']:,} | {row['train_seconds']} s |")
    results = {
        "cores": cores(),
        "precision": precision(),
        "repeat": args.repeat,
        "rows": rows,
        "embedding_dimensions": int(np.asarray(vectors).shape[1]),
    }
    out = ROOT / "bench" / "results" / f"themes-train-{dt.datetime.now():%Y%m%d-%H%M%S}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(f"\nJSON: {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
