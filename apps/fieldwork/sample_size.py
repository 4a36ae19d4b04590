"""How many case records to audit, and how to share them between strata.

`sample_size` gives the number of records needed to estimate a proportion (say, the share
of cases handled well) to within a margin of error at a chosen confidence, and says in
plain English how it got there, so inspectors can check and quote the working.
`allocate_quotas` then shares that number between strata (areas, case types) in
proportion to their sizes.

Standard library only: this runs in the web app.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from statistics import NormalDist

__all__ = ["SampleSize", "allocate_quotas", "sample_size"]

# A computed size that is a whole number up to floating-point noise (say 80.00000000001)
# must not be rounded up to the next one.
_ROUNDING_SLACK = 1e-9

# The working is shown with proper typographic signs (escaped here to keep the source ASCII).
_TIMES = "\u00d7"
_MINUS = "\u2212"


@dataclass(frozen=True)
class SampleSize:
    """A required sample size with its working.

    `infinite` is n0, the size needed from an unlimited population; `required` is the
    size after the finite population correction (equal to `infinite` when `population`
    is None), never more than the population. `steps` are plain-English sentences, with
    the numbers, that explain the calculation in order.
    """

    population: int | None
    proportion: float
    margin: float
    confidence: float
    z: float
    infinite: int
    required: int
    steps: list[str]


def _round_up(value: float) -> int:
    return max(1, math.ceil(value - _ROUNDING_SLACK))


def _shown(value: float) -> str:
    """A computed size to one decimal place, or more where one place would show a whole
    number that is not one (1,843.03 must not read "1,843.0, rounded up to 1,844")."""
    if abs(value - round(value)) <= _ROUNDING_SLACK:
        return f"{value:,.1f}"
    for places in range(1, 10):
        text = f"{value:,.{places}f}"
        if not text.endswith("0"):
            return text
    return text


def _percent(fraction: float) -> str:
    return f"{fraction * 100:g}%"


def sample_size(
    *,
    population: int | None,
    proportion: float = 0.5,
    margin: float = 0.05,
    confidence: float = 0.95,
) -> SampleSize:
    """The sample needed to estimate a proportion within ±`margin` at `confidence`.

    n0 = z² * p * (1 - p) / e², with z the two-sided normal quantile for the confidence
    level. With a `population` of N records the finite population correction gives
    n = n0 / (1 + (n0 - 1) / N), using n0 before rounding. Both are rounded up.
    `proportion` is the expected proportion p; 0.5, the default, is the cautious choice
    that gives the largest sample when nothing is known.

    Raises ValueError, naming the field, unless 0 < proportion < 1, 0 < margin <= 0.5,
    0.5 < confidence < 1 and population (when given) is a whole number of at least 1.
    """
    if not 0 < proportion < 1:
        raise ValueError(f"proportion must be between 0 and 1 (exclusive), not {proportion!r}.")
    if not 0 < margin <= 0.5:
        raise ValueError(f"margin must be more than 0 and at most 0.5, not {margin!r}.")
    if not 0.5 < confidence < 1:
        raise ValueError(f"confidence must be between 0.5 and 1 (exclusive), not {confidence!r}.")
    if population is not None and (
        isinstance(population, bool) or not isinstance(population, int) or population < 1
    ):
        raise ValueError(f"population must be a whole number of at least 1, not {population!r}.")

    z = NormalDist().inv_cdf(1 - (1 - confidence) / 2)
    n0 = z * z * proportion * (1 - proportion) / (margin * margin)
    infinite = _round_up(n0)
    steps = [
        f"For {_percent(confidence)} confidence, z = {z:.3f}.",
        f"The expected proportion is p = {proportion:g} and the margin of error is "
        f"e = {margin:g} (plus or minus {margin * 100:g} percentage points).",
        f"Without a population limit: n0 = z² {_TIMES} p {_TIMES} (1 {_MINUS} p) / e² "
        f"= {_shown(n0)}, rounded up to {infinite:,}.",
    ]

    if population is None:
        required = infinite
        steps.append(f"No population size was given, so the sample is {required:,} cases.")
    else:
        corrected = n0 / (1 + (n0 - 1) / population)
        required = min(population, _round_up(corrected))
        noun = "case" if population == 1 else "cases"
        steps.append(
            f"With the finite population correction for {population:,} eligible {noun}: "
            f"n = n0 / (1 + (n0 {_MINUS} 1) / N) = {_shown(corrected)}, rounded up to {required:,}."
        )
        if required == population:
            steps.append("That is every eligible case.")

    return SampleSize(
        population=population,
        proportion=proportion,
        margin=margin,
        confidence=confidence,
        z=z,
        infinite=infinite,
        required=required,
        steps=steps,
    )


def allocate_quotas(total: int, strata: Mapping[str, int], minimum: int = 0) -> dict[str, int]:
    """Share `total` between strata in proportion to their sizes (largest remainder).

    `strata` maps each stratum to its size (the records available in it). Each stratum
    gets at least ``min(minimum, size)`` and never more than its size. Strata whose
    proportional share falls below that minimum are given the minimum and the rest of the
    total is shared among the others in proportion, repeatedly, until every share is at
    least its minimum; the shares are then rounded down and the records left over go one
    each to the strata with the largest fractions, ties going to the stratum whose key
    sorts first. The result therefore does not depend on the order of `strata`.

    The quotas add up to `total` whenever that is possible. If `total` is at least the sum
    of the sizes, every record is taken; if the minimums alone add up to more than
    `total`, the minimums are kept and the quotas add up to more than `total`.

    Returns a dict in the order of `strata`. Raises ValueError for a negative total,
    minimum or size.
    """
    if total < 0:
        raise ValueError(f"total must not be negative, not {total!r}.")
    if minimum < 0:
        raise ValueError(f"minimum must not be negative, not {minimum!r}.")
    for key, size in strata.items():
        if size < 0:
            raise ValueError(f"The size of stratum {key!r} must not be negative, not {size!r}.")

    if total >= sum(strata.values()):
        return dict(strata)
    floors = {key: min(minimum, size) for key, size in strata.items()}
    if sum(floors.values()) >= total:
        return floors

    # Exact fractions, so that equal shares tie exactly and the tie-break is by key alone.
    fixed: dict[str, int] = {}
    while True:
        free = {key: size for key, size in strata.items() if key not in fixed}
        pool = total - sum(fixed.values())
        free_size = sum(free.values())
        shares = {
            key: Fraction(pool * size, free_size) if free_size else Fraction(0)
            for key, size in free.items()
        }
        below = {key for key, share in shares.items() if share < floors[key]}
        if not below:
            break
        fixed.update((key, floors[key]) for key in below)

    quotas = {key: math.floor(share) for key, share in shares.items()}
    left_over = pool - sum(quotas.values())
    by_remainder = sorted(shares, key=lambda key: (-(shares[key] - quotas[key]), key))
    for key in by_remainder[:left_over]:
        quotas[key] += 1
    quotas.update(fixed)
    return {key: quotas[key] for key in strata}
