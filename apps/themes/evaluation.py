"""How well coding agrees with a gold standard: macro and micro F1, each theme's precision,
recall and F1, and Cohen's kappa, for multi-label coding (every statement x theme is one
yes-or-no decision).

Macro F1 averages the themes that occur in the gold standard or in the coding (a theme
neither uses says nothing about either, so it is left out rather than counted as 0 or 1).
Kappa is over all statement x theme decisions; each theme's own kappa is reported too.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import cohen_kappa_score, precision_recall_fscore_support


def scores(truth: np.ndarray, coded: np.ndarray, theme_ids: list[str]) -> dict[str, Any]:
    truth = np.asarray(truth, dtype=int)
    coded = np.asarray(coded, dtype=int)
    if truth.shape != coded.shape or truth.shape[1] != len(theme_ids):
        raise ValueError("truth and coding must be statements x themes, the same shape")
    precision, recall, f1, support = precision_recall_fscore_support(
        truth, coded, average=None, zero_division=0
    )
    used = [j for j in range(len(theme_ids)) if truth[:, j].any() or coded[:, j].any()]
    tp = int((truth & coded).sum())
    micro_denominator = int(truth.sum() + coded.sum())
    per_theme = {}
    for j, theme in enumerate(theme_ids):
        if j not in used:
            continue
        per_theme[theme] = {
            "precision": round(float(precision[j]), 4),
            "recall": round(float(recall[j]), 4),
            "f1": round(float(f1[j]), 4),
            "support": int(support[j]),
            "coded": int(coded[:, j].sum()),
            "kappa": _kappa(truth[:, j], coded[:, j]),
        }
    return {
        "statements": int(truth.shape[0]),
        "macro_f1": round(float(np.mean([f1[j] for j in used])), 4) if used else 0.0,
        "micro_f1": round(2 * tp / micro_denominator, 4) if micro_denominator else 0.0,
        "cohen_kappa": _kappa(truth.ravel(), coded.ravel()),
        "per_theme": per_theme,
    }


def _kappa(a: np.ndarray, b: np.ndarray) -> float:
    if np.array_equal(a, b):
        return 1.0  # perfect agreement (kappa is undefined when both say the same throughout)
    return round(float(cohen_kappa_score(a, b)), 4)
