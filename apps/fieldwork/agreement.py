"""How far two or more markers agree when they grade the same case audits blind.

Ratings are category labels from an ordered scale, best first (for example
``["good", "requires improvement", "inadequate"]``). A missing rating, and a rating of
"not applicable", is passed as ``None`` and simply takes no part.

Three statistics are offered:

- percent agreement and Cohen's kappa, unweighted and linearly weighted, for one pair of
  markers (`pair_agreement`); they match ``sklearn.metrics.cohen_kappa_score`` with
  ``labels=categories`` (and ``weights="linear"``);
- Krippendorff's alpha for any number of markers with gaps (`krippendorff_alpha`); it
  matches ``krippendorff.alpha`` with ``value_domain=range(len(categories))``.

A statistic that is undefined is ``None`` rather than NaN: there is nothing to agree
about when there are no rated pairs, or when every rating falls in one and the same
category, so that chance alone would already give perfect agreement ("undefined: no
variation to agree about").

Everything is computed on whole counts (and exact fractions for alpha) and converted to
float once at the end, so the undefined cases are found exactly, never by comparing a
rounded float with zero. Standard library only: this runs in the web app.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

__all__ = [
    "PairAgreement",
    "interpretation",
    "krippendorff_alpha",
    "pair_agreement",
]

Level = Literal["nominal", "ordinal"]


@dataclass(frozen=True)
class PairAgreement:
    """Agreement between two markers over the items both of them rated.

    `n` counts the pairs where both rated; `agreed` those where they gave the same
    category; `percent` is ``100 * agreed / n``. `kappa` is Cohen's kappa and
    `weighted_kappa` its linearly weighted form (a near miss on the ordered scale counts
    as partial agreement). A statistic is ``None`` when undefined: no pairs, or no
    variation to agree about (both markers used one and the same category only).
    """

    n: int
    agreed: int
    percent: float | None
    kappa: float | None
    weighted_kappa: float | None


def _category_index(categories: Sequence[str]) -> dict[str, int]:
    index: dict[str, int] = {}
    for position, category in enumerate(categories):
        if category in index:
            raise ValueError(f"Category {category!r} is listed more than once.")
        index[category] = position
    return index


def _position(rating: str, index: dict[str, int]) -> int:
    try:
        return index[rating]
    except (KeyError, TypeError):
        raise ValueError(
            f"Rating {rating!r} is not one of the categories {list(index)!r}."
        ) from None


def pair_agreement(
    first: Sequence[str | None],
    second: Sequence[str | None],
    categories: Sequence[str],
) -> PairAgreement:
    """Percent agreement, Cohen's kappa and linearly weighted kappa for two markers.

    `first[i]` and `second[i]` are the two ratings of item i; a pair where either is
    ``None`` is dropped. `categories` is the full ordered scale, best first: the weighted
    kappa gives a disagreement between categories i and j the weight ``|i - j| / (k - 1)``
    over all k categories listed, used or not (as ``cohen_kappa_score(first, second,
    labels=categories, weights="linear")`` does).

    Raises ValueError if the two sequences differ in length, a category is listed twice,
    or a rating is not one of the categories.
    """
    if len(first) != len(second):
        raise ValueError(
            f"The two markers' ratings differ in length ({len(first)} and {len(second)})."
        )
    index = _category_index(categories)
    pairs: list[tuple[int, int]] = []
    for a, b in zip(first, second, strict=True):
        i = None if a is None else _position(a, index)
        j = None if b is None else _position(b, index)
        if i is not None and j is not None:
            pairs.append((i, j))

    n = len(pairs)
    if n == 0:
        return PairAgreement(n=0, agreed=0, percent=None, kappa=None, weighted_kappa=None)

    observed = Counter(pairs)
    agreed = sum(count for (i, j), count in observed.items() if i == j)
    first_totals = Counter(i for i, _ in pairs)
    second_totals = Counter(j for _, j in pairs)

    # kappa = 1 - observed disagreement / disagreement expected by chance, with the
    # expected count of (i, j) being first_totals[i] * second_totals[j] / n. Multiplying
    # both by n keeps everything in whole numbers.
    def kappa(weight: Callable[[int, int], int]) -> float | None:
        observed_disagreement = n * sum(weight(i, j) * count for (i, j), count in observed.items())
        expected_disagreement = sum(
            weight(i, j) * ri * cj
            for i, ri in first_totals.items()
            for j, cj in second_totals.items()
        )
        if expected_disagreement == 0:
            return None  # undefined: no variation to agree about
        return (expected_disagreement - observed_disagreement) / expected_disagreement

    return PairAgreement(
        n=n,
        agreed=agreed,
        percent=100 * agreed / n,
        kappa=kappa(_unweighted),
        weighted_kappa=kappa(_linear),
    )


def _unweighted(i: int, j: int) -> int:
    return 0 if i == j else 1


def _linear(i: int, j: int) -> int:
    # The weights |i - j| / (k - 1) scale both sides of kappa's ratio alike, so |i - j|
    # gives the same value without dividing by zero on a one-category scale.
    return abs(i - j)


def krippendorff_alpha(
    units: Sequence[Sequence[str | None]],
    categories: Sequence[str],
    level: Level = "ordinal",
) -> float | None:
    """Krippendorff's alpha for any number of markers, some of whom may not rate every item.

    `units` has one row per rated item, holding the rating each marker gave it (``None``
    where a marker did not rate it). Rows may differ in length. An item with fewer than two
    ratings cannot be paired and takes no part.

    Computed from the coincidence matrix as in Krippendorff (2011), "Computing
    Krippendorff's Alpha-Reliability": ``alpha = 1 - (n - 1) * sum(o_ck * d_ck) /
    sum(n_c * n_k * d_ck)``, where o is the coincidence matrix, n_c its marginals and n
    the number of pairable ratings. The `level` chooses the distance d_ck: "nominal" (0
    for the same category, 1 otherwise) or "ordinal" (the squared count of ratings
    between c and k, from the marginal frequencies, so categories nobody used add no
    distance).

    Returns ``None`` when undefined: no item has two ratings, or every pairable rating is
    in the same category so no disagreement is possible. Raises ValueError for an unknown
    level, a category listed twice, or a rating that is not one of the categories.
    """
    if level not in ("nominal", "ordinal"):
        raise ValueError(f"Level must be 'nominal' or 'ordinal', not {level!r}.")
    index = _category_index(categories)
    k = len(categories)

    # For each pairable unit, its count of ratings per category; grouped by the number of
    # ratings m_u, since each unit's coincidences are divided by m_u - 1.
    unit_counts: dict[int, list[list[int]]] = defaultdict(list)
    marginals = [0] * k
    for unit in units:
        counts = [0] * k
        rated = 0
        for rating in unit:
            if rating is not None:
                counts[_position(rating, index)] += 1
                rated += 1
        if rated >= 2:
            unit_counts[rated].append(counts)
            for c in range(k):
                marginals[c] += counts[c]

    n = sum(marginals)
    if n == 0:
        return None  # undefined: nothing pairable

    distance = _distances(marginals, level)

    # Observed disagreement: sum over units of sum_{c != k} n_uc * n_uk * d_ck / (m_u - 1).
    observed = Fraction(0)
    for rated, rows in unit_counts.items():
        total = 0
        for counts in rows:
            used = [c for c in range(k) if counts[c]]
            total += sum(
                counts[c] * counts[d] * distance[c][d] for c in used for d in used if c != d
            )
        observed += Fraction(total, rated - 1)

    expected = sum(
        marginals[c] * marginals[d] * distance[c][d] for c in range(k) for d in range(k) if c != d
    )
    if expected == 0:
        return None  # undefined: no variation to agree about
    return float(1 - (n - 1) * observed / expected)


def _distances(marginals: list[int], level: Level) -> list[list[int]]:
    """Distances between categories, as whole numbers (alpha does not depend on scale).

    Ordinal: ``(sum of n_g for g from c to k - (n_c + n_k) / 2) ** 2``, here multiplied by
    4 to stay whole.
    """
    k = len(marginals)
    if level == "nominal":
        return [[0 if c == d else 1 for d in range(k)] for c in range(k)]
    cumulative = [0]
    for count in marginals:
        cumulative.append(cumulative[-1] + count)
    distance = [[0] * k for _ in range(k)]
    for c in range(k):
        for d in range(c + 1, k):
            between = cumulative[d + 1] - cumulative[c]
            distance[c][d] = distance[d][c] = (2 * between - marginals[c] - marginals[d]) ** 2
    return distance


# Landis & Koch (1977): the upper bound of each band from 0 upwards.
_BANDS = (
    (0.20, "slight"),
    (0.40, "fair"),
    (0.60, "moderate"),
    (0.80, "substantial"),
)


def interpretation(value: float | None) -> str:
    """The Landis & Koch (1977) band of a kappa or alpha, for showing next to the number.

    Below 0 "poor"; up to 0.20 "slight"; up to 0.40 "fair"; up to 0.60 "moderate"; up
    to 0.80 "substantial"; above "almost perfect". ``None`` (or NaN) is "undefined".
    """
    if value is None or math.isnan(value):
        return "undefined"
    if value < 0:
        return "poor"
    for upper, band in _BANDS:
        if value <= upper:
            return band
    return "almost perfect"
