"""The agreement figures, checked against sums done by hand."""

from __future__ import annotations

import numpy as np
import pytest

from apps.themes.classifier import decide
from apps.themes.evaluation import scores

THEMES = ["a", "b", "c", "d"]


def test_scores_by_hand():
    truth = np.array([[1, 0, 0, 0], [1, 1, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]])
    coded = np.array([[1, 0, 0, 0], [1, 0, 0, 0], [0, 1, 1, 0], [0, 0, 0, 0]])
    result = scores(truth, coded, THEMES)
    # a: tp 2 -> P 1, R 1, F1 1. b: tp 1, fn 1 -> P 1, R 0.5, F1 2/3. c: fp 1, fn 1 -> 0.
    # d: used by neither, so left out of the macro average.
    assert result["per_theme"]["a"]["f1"] == 1.0
    assert result["per_theme"]["b"] == {
        "precision": 1.0,
        "recall": 0.5,
        "f1": 0.6667,
        "support": 2,
        "coded": 1,
        "kappa": 0.5,
    }
    assert result["per_theme"]["c"]["f1"] == 0.0
    assert "d" not in result["per_theme"]
    assert result["macro_f1"] == round((1 + 2 / 3 + 0) / 3, 4)
    # Micro: tp 3, truth 5, coded 4 -> 6 / 9.
    assert result["micro_f1"] == round(6 / 9, 4)
    # Kappa over the 16 decisions: agree on 13; truth says yes 5 times, the coding 4.
    po = 13 / 16
    pe = (5 / 16) * (4 / 16) + (11 / 16) * (12 / 16)
    assert result["cohen_kappa"] == round((po - pe) / (1 - pe), 4)


def test_perfect_agreement_is_one():
    truth = np.array([[1, 0], [0, 1]])
    result = scores(truth, truth.copy(), ["a", "b"])
    assert result["macro_f1"] == result["micro_f1"] == result["cohen_kappa"] == 1.0


def test_shapes_must_match():
    with pytest.raises(ValueError, match="same shape"):
        scores(np.zeros((2, 2)), np.zeros((2, 3)), ["a", "b"])


def test_decide_takes_the_likeliest_theme_always_and_three_at_most():
    probabilities = np.array([[0.1, 0.2, 0.3, 0.05], [0.9, 0.8, 0.7, 0.95], [0.6, 0.1, 0.1, 0.1]])
    chosen = decide(probabilities, np.full(4, 0.5))
    assert chosen[0].tolist() == [0, 0, 1, 0]  # nothing reached 0.5: the likeliest alone
    assert chosen[1].tolist() == [1, 1, 0, 1]  # all four did: the three likeliest
    assert chosen[2].tolist() == [1, 0, 0, 0]
