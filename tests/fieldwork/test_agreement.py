"""Inter-rater agreement agrees with scikit-learn, the krippendorff package and the papers."""

from __future__ import annotations

import math
import random
import warnings
from collections.abc import Sequence
from typing import Literal

import krippendorff
import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from apps.fieldwork.agreement import (
    PairAgreement,
    interpretation,
    krippendorff_alpha,
    pair_agreement,
)

GRADES = ["good", "requires improvement", "inadequate"]
SCALES = {k: [f"grade {i}" for i in range(k)] for k in range(2, 6)}


# --- References -------------------------------------------------------------------------


def sklearn_kappa(
    first: Sequence[str | None],
    second: Sequence[str | None],
    categories: Sequence[str],
    weights: str | None,
) -> float | None:
    """scikit-learn's kappa over the complete pairs, with NaN (undefined) as None."""
    pairs = [(a, b) for a, b in zip(first, second, strict=True) if a is not None and b is not None]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = cohen_kappa_score(
            [a for a, _ in pairs], [b for _, b in pairs], labels=categories, weights=weights
        )
    return None if math.isnan(value) else float(value)


def reference_alpha(
    units: Sequence[Sequence[str | None]],
    categories: Sequence[str],
    level: Literal["nominal", "ordinal"],
) -> float | None:
    """The krippendorff package's alpha, with its refusals and NaN as None."""
    position = {category: i for i, category in enumerate(categories)}
    coders = max((len(unit) for unit in units), default=0)
    data = np.full((coders, len(units)), np.nan)
    for u, unit in enumerate(units):
        for c, rating in enumerate(unit):
            if rating is not None:
                data[c, u] = position[rating]
    pairable = any(sum(rating is not None for rating in unit) >= 2 for unit in units)
    if len(categories) < 2 or not pairable:
        return None  # the package raises ValueError for these
    with np.errstate(divide="ignore", invalid="ignore"):
        value = krippendorff.alpha(
            reliability_data=data,
            level_of_measurement=level,
            value_domain=list(range(len(categories))),
        )
    return None if math.isnan(value) else float(value)


def assert_same(ours: float | None, theirs: float | None) -> None:
    if theirs is None:
        assert ours is None
    else:
        assert ours is not None
        assert ours == pytest.approx(theirs, abs=1e-9)


# --- Random data ------------------------------------------------------------------------


def skewed_weights(rng: random.Random, k: int) -> list[float]:
    """Category frequencies from even to heavily lopsided."""
    return [rng.random() ** rng.choice([0, 1, 4]) + 1e-3 for _ in range(k)]


def random_pair(rng: random.Random) -> tuple[list[str | None], list[str | None], list[str]]:
    categories = SCALES[rng.randint(2, 5)]
    n = rng.choice([1, 1, 2, 2, 3, 5, 10, 30, 120])
    weights = skewed_weights(rng, len(categories))
    agreement = rng.random()  # how often the second marker copies the first
    missing = rng.choice([0.0, 0.0, 0.1, 0.4])
    first: list[str | None] = []
    second: list[str | None] = []
    for _ in range(n):
        a = rng.choices(categories, weights)[0]
        b = a if rng.random() < agreement else rng.choices(categories, weights)[0]
        first.append(None if rng.random() < missing else a)
        second.append(None if rng.random() < missing else b)
    return first, second, categories


def random_units(rng: random.Random, coders: int) -> tuple[list[list[str | None]], list[str]]:
    categories = SCALES[rng.randint(2, 5)]
    n = rng.choice([1, 2, 3, 5, 10, 40])
    weights = skewed_weights(rng, len(categories))
    agreement = rng.random()
    missing = rng.choice([0.0, 0.2, 0.5])
    units: list[list[str | None]] = []
    for _ in range(n):
        truth = rng.choices(categories, weights)[0]
        unit: list[str | None] = []
        for _ in range(coders):
            rating = truth if rng.random() < agreement else rng.choices(categories, weights)[0]
            unit.append(None if rng.random() < missing else rating)
        units.append(unit)
    return units, categories


# --- Cohen's kappa ----------------------------------------------------------------------


class TestPairAgreementMatchesScikitLearn:
    def test_many_random_data_sets(self):
        rng = random.Random(20240611)
        undefined = 0
        for _ in range(400):
            first, second, categories = random_pair(rng)
            result = pair_agreement(first, second, categories)

            pairs = [
                (a, b)
                for a, b in zip(first, second, strict=True)
                if a is not None and b is not None
            ]
            assert result.n == len(pairs)
            assert result.agreed == sum(a == b for a, b in pairs)
            if not pairs:
                assert result == PairAgreement(0, 0, None, None, None)
                continue
            assert result.percent == pytest.approx(100 * result.agreed / result.n)
            assert_same(result.kappa, sklearn_kappa(first, second, categories, None))
            assert_same(result.weighted_kappa, sklearn_kappa(first, second, categories, "linear"))
            undefined += result.kappa is None
        assert undefined > 0, "the random data should include undefined cases"

    def test_weighted_kappa_uses_the_full_scale_even_when_categories_are_unused(self):
        categories = SCALES[5]
        lowest, highest = categories[0], categories[-1]
        first: list[str | None] = [lowest, lowest, highest, highest, lowest]
        second: list[str | None] = [lowest, highest, highest, lowest, highest]
        result = pair_agreement(first, second, categories)
        assert_same(result.weighted_kappa, sklearn_kappa(first, second, categories, "linear"))

    def test_a_near_miss_counts_for_more_than_a_far_miss(self):
        near = pair_agreement(
            ["good", "good", "inadequate", "inadequate"],
            ["good", "requires improvement", "inadequate", "inadequate"],
            GRADES,
        )
        far = pair_agreement(
            ["good", "good", "inadequate", "inadequate"],
            ["good", "inadequate", "inadequate", "inadequate"],
            GRADES,
        )
        assert near.kappa is not None and far.kappa is not None
        assert near.weighted_kappa is not None and far.weighted_kappa is not None
        assert near.weighted_kappa > far.weighted_kappa


class TestPairAgreementEdgeCases:
    def test_textbook_example(self):
        # Wikipedia, "Cohen's kappa": 50 proposals, both yes 20, A yes B no 5, A no B yes
        # 10, both no 15; p_o = 0.7, p_e = 0.5, kappa = 0.4.
        first = ["yes"] * 20 + ["yes"] * 5 + ["no"] * 10 + ["no"] * 15
        second = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
        result = pair_agreement(first, second, ["yes", "no"])
        assert result.n == 50
        assert result.agreed == 35
        assert result.percent == pytest.approx(70.0)
        assert result.kappa == pytest.approx(0.4)
        # With two categories the linear weights are the unweighted ones.
        assert result.weighted_kappa == pytest.approx(0.4)

    def test_perfect_agreement(self):
        ratings = ["good", "inadequate", "requires improvement", "good"]
        result = pair_agreement(ratings, list(ratings), GRADES)
        assert result == PairAgreement(n=4, agreed=4, percent=100.0, kappa=1.0, weighted_kappa=1.0)

    def test_one_category_only_is_undefined_where_sklearn_gives_nan(self):
        ratings = ["good"] * 6
        result = pair_agreement(ratings, list(ratings), GRADES)
        assert result == PairAgreement(
            n=6, agreed=6, percent=100.0, kappa=None, weighted_kappa=None
        )
        with pytest.warns(Warning):
            assert math.isnan(cohen_kappa_score(ratings, ratings, labels=GRADES))

    def test_complete_disagreement(self):
        first = ["good", "inadequate"] * 3
        second = ["inadequate", "good"] * 3
        result = pair_agreement(first, second, GRADES)
        assert result.agreed == 0
        assert result.percent == 0.0
        assert result.kappa == pytest.approx(-1.0)
        assert result.weighted_kappa == pytest.approx(-1.0)
        assert_same(result.kappa, sklearn_kappa(first, second, GRADES, None))

    def test_each_marker_using_one_different_category(self):
        result = pair_agreement(["good"] * 3, ["inadequate"] * 3, GRADES)
        assert result.percent == 0.0
        assert result.kappa == pytest.approx(0.0)
        assert_same(result.kappa, sklearn_kappa(["good"] * 3, ["inadequate"] * 3, GRADES, None))

    def test_all_missing(self):
        result = pair_agreement([None, "good", None], ["good", None, None], GRADES)
        assert result == PairAgreement(n=0, agreed=0, percent=None, kappa=None, weighted_kappa=None)

    def test_empty(self):
        assert pair_agreement([], [], GRADES).n == 0

    def test_pairs_with_a_missing_rating_are_dropped(self):
        with_gaps = pair_agreement(
            ["good", None, "inadequate", "good"],
            ["good", "good", "good", None],
            GRADES,
        )
        without = pair_agreement(["good", "inadequate"], ["good", "good"], GRADES)
        assert with_gaps == without


class TestPairAgreementErrors:
    def test_unknown_category_is_named(self):
        with pytest.raises(ValueError, match="'outstanding'"):
            pair_agreement(["good", "outstanding"], ["good", "good"], GRADES)

    def test_unknown_category_is_caught_even_without_a_partner(self):
        with pytest.raises(ValueError, match="'Good'"):
            pair_agreement([None, None], ["good", "Good"], GRADES)

    def test_unequal_lengths(self):
        with pytest.raises(ValueError, match=r"differ in length \(2 and 3\)"):
            pair_agreement(["good", "good"], ["good", "good", "good"], GRADES)

    def test_repeated_category(self):
        with pytest.raises(ValueError, match="more than once"):
            pair_agreement(["good"], ["good"], ["good", "inadequate", "good"])


# --- Krippendorff's alpha ---------------------------------------------------------------

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: four
# observers, twelve units, values 1 to 5, with gaps ("." = not rated).
PAPER_CODERS = [
    "1 2 3 3 2 1 4 1 2 . . .",
    "1 2 3 3 2 2 4 1 2 5 . 3",
    ". 3 3 3 2 3 4 2 2 5 1 .",
    "1 2 3 3 2 4 4 1 2 5 1 .",
]
PAPER_UNITS: list[list[str | None]] = [
    [None if value == "." else value for value in unit]
    for unit in zip(*(row.split() for row in PAPER_CODERS), strict=True)
]
PAPER_CATEGORIES = ["1", "2", "3", "4", "5"]


class TestKrippendorffPublishedExamples:
    def test_nominal_four_observers_with_missing_data(self):
        alpha = krippendorff_alpha(PAPER_UNITS, PAPER_CATEGORIES, "nominal")
        assert alpha is not None
        assert round(alpha, 3) == 0.743
        assert_same(alpha, reference_alpha(PAPER_UNITS, PAPER_CATEGORIES, "nominal"))

    def test_ordinal_four_observers_with_missing_data(self):
        # The krippendorff package documents 0.815 for the same data.
        alpha = krippendorff_alpha(PAPER_UNITS, PAPER_CATEGORIES)
        assert alpha is not None
        assert round(alpha, 3) == 0.815
        assert_same(alpha, reference_alpha(PAPER_UNITS, PAPER_CATEGORIES, "ordinal"))

    def test_two_observers_binary_data(self):
        # Same paper, section A: ten units, two observers, alpha = 0.095.
        first = list("0100000010")
        second = list("1110010000")
        units: list[list[str | None]] = [[a, b] for a, b in zip(first, second, strict=True)]
        alpha = krippendorff_alpha(units, ["0", "1"], "nominal")
        assert alpha is not None
        assert round(alpha, 3) == 0.095


class TestKrippendorffMatchesThePackage:
    @pytest.mark.parametrize("coders", [2, 3, 4, 5])
    @pytest.mark.parametrize("level", ["nominal", "ordinal"])
    def test_many_random_data_sets(self, coders, level):
        rng = random.Random(f"alpha-{coders}-{level}")
        defined = 0
        for _ in range(60):
            units, categories = random_units(rng, coders)
            ours = krippendorff_alpha(units, categories, level)
            assert_same(ours, reference_alpha(units, categories, level))
            defined += ours is not None
        assert defined > 30

    def test_rows_of_different_lengths(self):
        # Not every item need list every coder.
        units: list[list[str | None]] = [
            ["good", "good"],
            ["good", "inadequate", "good"],
            ["requires improvement"],
            ["inadequate", "inadequate", None, "inadequate"],
        ]
        padded = [unit + [None] * (4 - len(unit)) for unit in units]
        alpha = krippendorff_alpha(units, GRADES)
        assert alpha == krippendorff_alpha(padded, GRADES)
        assert_same(alpha, reference_alpha(padded, GRADES, "ordinal"))


class TestKrippendorffProperties:
    def test_units_with_a_single_rating_are_ignored(self):
        extra: list[list[str | None]] = [[None, "5", None, None], ["1", None, None, None]]
        assert krippendorff_alpha(PAPER_UNITS + extra, PAPER_CATEGORIES) == (
            krippendorff_alpha(PAPER_UNITS, PAPER_CATEGORIES)
        )

    def test_nominal_ignores_the_order_of_categories(self):
        shuffled = ["3", "5", "1", "4", "2"]
        assert krippendorff_alpha(PAPER_UNITS, shuffled, "nominal") == pytest.approx(
            krippendorff_alpha(PAPER_UNITS, PAPER_CATEGORIES, "nominal")
        )

    def test_ordinal_depends_on_order_but_not_direction(self):
        ordinal = krippendorff_alpha(PAPER_UNITS, PAPER_CATEGORIES)
        assert krippendorff_alpha(PAPER_UNITS, PAPER_CATEGORIES[::-1]) == pytest.approx(ordinal)
        assert krippendorff_alpha(PAPER_UNITS, ["3", "5", "1", "4", "2"]) != pytest.approx(ordinal)

    def test_perfect_agreement(self):
        units: list[list[str | None]] = [["good"] * 3, ["inadequate"] * 3, ["good", None, "good"]]
        assert krippendorff_alpha(units, GRADES) == 1.0
        assert krippendorff_alpha(units, GRADES, "nominal") == 1.0

    def test_two_coders_complete_disagreement_on_two_categories(self):
        units: list[list[str | None]] = [["good", "inadequate"], ["inadequate", "good"]] * 5
        alpha = krippendorff_alpha(units, GRADES, "nominal")
        assert alpha is not None
        assert alpha < 0
        assert_same(alpha, reference_alpha(units, GRADES, "nominal"))


class TestKrippendorffUndefined:
    def test_one_category_used(self):
        units: list[list[str | None]] = [["good", "good", None], ["good", None, "good"]]
        assert krippendorff_alpha(units, GRADES) is None
        assert krippendorff_alpha(units, GRADES, "nominal") is None

    def test_a_one_category_scale(self):
        assert krippendorff_alpha([["yes", "yes"]], ["yes"]) is None

    def test_nothing_pairable(self):
        units: list[list[str | None]] = [["good", None], [None, "inadequate"], [None, None]]
        assert krippendorff_alpha(units, GRADES) is None

    def test_all_missing(self):
        assert krippendorff_alpha([[None, None, None]] * 4, GRADES) is None

    def test_no_units(self):
        assert krippendorff_alpha([], GRADES) is None


class TestKrippendorffErrors:
    def test_unknown_category_is_named(self):
        with pytest.raises(ValueError, match="'outstanding'"):
            krippendorff_alpha([["good", "outstanding"]], GRADES)

    def test_unknown_level(self):
        with pytest.raises(ValueError, match="'interval'"):
            krippendorff_alpha([["good", "good"]], GRADES, "interval")  # type: ignore[arg-type]


# --- Interpretation ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "band"),
    [
        (None, "undefined"),
        (math.nan, "undefined"),
        (-1.0, "poor"),
        (-0.01, "poor"),
        (0.0, "slight"),
        (0.2, "slight"),
        (0.21, "fair"),
        (0.4, "fair"),
        (0.5, "moderate"),
        (0.6, "moderate"),
        (0.7, "substantial"),
        (0.8, "substantial"),
        (0.81, "almost perfect"),
        (1.0, "almost perfect"),
    ],
)
def test_interpretation(value, band):
    assert interpretation(value) == band
