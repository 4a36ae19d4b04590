#!/usr/bin/env python
"""What a codebook split costs the classifier, and what placing the shipped statements in
the parts by meaning gives back (coding.shipped_statements, docs/themes.md).

    .venv/bin/python bench/themes_split.py [--dev ../shared/themes/dev_statements.jsonl]

Two of the codebook's themes stand for the two parts of one theme that was split: the
shipped statements coded to either would, after the split, be coded to the theme split.

1. Placing: for eight such pairs, the shipped statements coded to just one of the two,
   placed by `classifier.nearest_parts` (each part's prototype from its name, what it covers
   and its examples) at several margins: how many are placed, and how many rightly.
2. Training: for four pairs, the classifier trained on the codebook's examples and the
   shipped statements, the pair's statements (a) left out (the parts learn from the
   codebook's examples alone, as before placing), (b) placed by meaning at the margin in
   use, or (c) with their true codes; each coding the development set (never trained on):
   the two parts' F1 and macro F1.

Nothing here is a test: the figures are reported, not asserted.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "inspectorate.settings.development")

PAIRS = [
    ("missing_children", "exploitation"),
    ("supervision", "workforce"),
    ("risk_identification", "investigation"),
    ("online_abuse", "exploitation"),
    ("domestic_abuse", "partnership"),
    ("leadership_governance", "performance_data"),
    ("custody_detention", "investigation"),
    ("voice_of_child", "early_help_prevention"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dev", default=str(ROOT.parent / "shared/themes/dev_statements.jsonl"))
    args = parser.parse_args()

    import django

    django.setup()
    from apps.themes import classifier as model
    from apps.themes.codebook import load_codebook
    from apps.themes.corpus import read_coded, training_path
    from apps.themes.embedding import embed
    from apps.themes.evaluation import scores

    codebook = load_codebook()
    themes = {t.id: t for t in codebook.themes}
    shipped = read_coded(training_path(), codebook)
    vectors = embed([s.text for s in shipped])

    def prototypes(a: str, b: str):
        return model.prototypes(
            [
                model.theme_texts(themes[k].name, themes[k].covers, themes[k].examples)
                for k in (a, b)
            ],
            embed,
        )

    print("margin  statements  placed  rightly  share placed  share right")
    for margin in (0.0, 0.02, 0.05):
        total = placed = right = 0
        for a, b in PAIRS:
            rows = [i for i, s in enumerate(shipped) if (a in s.themes) != (b in s.themes)]
            chosen = model.nearest_parts(vectors[rows], prototypes(a, b), margin)
            total += len(rows)
            for i, c in zip(rows, chosen, strict=True):
                if c is not None:
                    placed += 1
                    right += (c == 0) == (a in shipped[i].themes)
        print(
            f"{margin:6.2f}  {total:10d}  {placed:6d}  {right:7d}  "
            f"{placed / total:12.3f}  {right / placed:11.3f}"
        )

    dev = read_coded(Path(args.dev), codebook)
    truth = model.label_matrix(dev, codebook.ids)
    examples = model.codebook_statements(codebook)
    print("\npair: (F1 first part, F1 second part, macro F1) by training")
    for a, b in PAIRS[:4]:
        found = prototypes(a, b)
        row = {}
        for mode in ("left out", "placed", "true codes"):
            training = []
            for s, v in zip(shipped, vectors, strict=True):
                if a in s.themes or b in s.themes:
                    if mode == "left out":
                        continue
                    if mode == "placed":
                        (c,) = model.nearest_parts(v[None, :], found)
                        if c is None:
                            continue
                        rest = [t for t in s.themes if t not in (a, b)]
                        s = replace(s, themes=(*rest, (a, b)[c]))
                training.append(s)
            trained = model.train(examples + training, codebook)
            got = scores(
                truth, trained.decide(trained.probabilities([s.text for s in dev])), codebook.ids
            )
            row[mode] = (
                round(got["per_theme"][a]["f1"], 2),
                round(got["per_theme"][b]["f1"], 2),
                round(got["macro_f1"], 3),
            )
        print(f"{a} / {b}: {row}", flush=True)


if __name__ == "__main__":
    main()
