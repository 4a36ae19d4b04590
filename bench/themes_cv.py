#!/usr/bin/env python
"""Cross-validated theme-coding figures on a coded development set (docs/themes.md).

    .venv/bin/python bench/themes_cv.py [--dev ../shared/themes/dev_statements.jsonl]

Three measurements, each printed as a JSON line and as a table:

1. held out: the model as `themes_evaluate` trains it (the codebook's examples and the
   shipped statements, never the development set), coding the whole development set;
2. cross-validated: five folds grouped by report (no report in two folds): for each fold,
   the model trained on the codebook's examples, the shipped statements and the other four
   folds, coding the fold;
3. baseline: the same folds, one logistic regression a theme on the embeddings (classes
   weighted by their frequency), trained on the other folds of the development set alone
   (the issue's plain baseline), its top theme plus every theme at 0.5 or more.

Nothing here is a test: the figures are reported, not asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "inspectorate.settings.development")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dev", default=str(ROOT.parent / "shared/themes/dev_statements.jsonl"))
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args()

    import django

    django.setup()
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold

    from apps.themes import classifier as model
    from apps.themes.codebook import load_codebook
    from apps.themes.corpus import read_coded, training_path
    from apps.themes.embedding import embed
    from apps.themes.evaluation import scores

    codebook = load_codebook()
    ids = codebook.ids
    dev = read_coded(Path(args.dev), codebook)
    shipped = model.codebook_statements(codebook) + read_coded(training_path(), codebook)
    truth = model.label_matrix(dev, ids)
    texts = [s.text for s in dev]
    results = {}

    began = time.monotonic()
    held_out = model.train(model.training_set(shipped, dev), codebook)
    results["held out"] = scores(truth, held_out.decide(held_out.probabilities(texts)), ids)
    results["held out"]["seconds"] = round(time.monotonic() - began, 1)

    groups = [s.report_title or s.text for s in dev]
    folds = list(GroupKFold(args.folds).split(texts, groups=groups))
    began = time.monotonic()
    coded = np.zeros_like(truth)
    for train, test in folds:
        fold_model = model.train(
            model.training_set(shipped, [dev[i] for i in test]) + [dev[i] for i in train],
            codebook,
        )
        coded[test] = fold_model.decide(fold_model.probabilities([texts[i] for i in test]))
    results["cross-validated"] = scores(truth, coded, ids)
    results["cross-validated"]["seconds"] = round(time.monotonic() - began, 1)

    vectors = embed(texts)
    baseline = np.zeros_like(truth)
    for train, test in folds:
        probabilities = np.zeros((len(test), len(ids)))
        for j in range(len(ids)):
            column = truth[train, j]
            if column.min() == column.max():
                continue
            regression = LogisticRegression(max_iter=2000, class_weight="balanced").fit(
                vectors[train], column
            )
            probabilities[:, j] = regression.predict_proba(vectors[test])[:, 1]
        baseline[test] = model.decide(probabilities, np.full(len(ids), 0.5))
    results["baseline"] = scores(truth, baseline, ids)

    print("| measurement | statements | macro F1 | micro F1 | kappa |")
    print("|---|---:|---:|---:|---:|")
    for name, r in results.items():
        print(
            f"| {name} | {r['statements']} | {r['macro_f1']:.3f} | {r['micro_f1']:.3f} | "
            f"{r['cohen_kappa']:.3f} |"
        )
    print()
    print("| theme | support | held out F1 | cross-validated F1 | baseline F1 |")
    print("|---|---:|---:|---:|---:|")
    for theme in ids:
        row = [results[k]["per_theme"].get(theme, {}).get("f1", 0.0) for k in results]
        support = results["held out"]["per_theme"].get(theme, {}).get("support", 0)
        print(f"| {theme} | {support} | " + " | ".join(f"{v:.2f}" for v in row) + " |")
    for name, r in results.items():
        print(json.dumps({"measurement": name, **r}))


if __name__ == "__main__":
    main()
