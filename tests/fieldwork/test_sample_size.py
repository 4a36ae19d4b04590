"""The sample-size calculator gives the textbook numbers and shows its working; quotas add up."""

from __future__ import annotations

import math
import random
from fractions import Fraction

import pytest

from apps.fieldwork import sample_size as module
from apps.fieldwork.sample_size import SampleSize, allocate_quotas, sample_size

# --- sample_size ------------------------------------------------------------------------


class TestKnownValues:
    def test_the_usual_case_without_a_population(self):
        result = sample_size(population=None)
        assert result.z == pytest.approx(1.959964, abs=1e-6)
        assert result.infinite == 385
        assert result.required == 385

    @pytest.mark.parametrize(("population", "required"), [(1000, 278), (100, 80), (1200, 292)])
    def test_with_the_finite_population_correction(self, population, required):
        result = sample_size(population=population)
        assert result.infinite == 385
        assert result.required == required

    @pytest.mark.parametrize(
        ("arguments", "infinite"),
        [
            ({"confidence": 0.99}, 664),
            ({"confidence": 0.90}, 271),
            ({"margin": 0.03}, 1068),
            ({"proportion": 0.1}, 139),
            ({"proportion": 0.9}, 139),
            ({"proportion": 0.2, "margin": 0.1, "confidence": 0.9}, 44),
        ],
    )
    def test_other_settings(self, arguments, infinite):
        assert sample_size(population=None, **arguments).infinite == infinite

    def test_keeps_its_inputs(self):
        result = sample_size(population=500, proportion=0.3, margin=0.04, confidence=0.9)
        assert isinstance(result, SampleSize)
        assert (result.population, result.proportion, result.margin, result.confidence) == (
            500,
            0.3,
            0.04,
            0.9,
        )


class TestTheWorking:
    def test_steps_with_a_population(self):
        assert sample_size(population=1200).steps == [
            "For 95% confidence, z = 1.960.",
            "The expected proportion is p = 0.5 and the margin of error is e = 0.05 "
            "(plus or minus 5 percentage points).",
            # \u00d7 is the multiplication sign and \u2212 the minus sign.
            "Without a population limit: n0 = z² \u00d7 p \u00d7 (1 \u2212 p) / e² = 384.1, "
            "rounded up to 385.",
            "With the finite population correction for 1,200 eligible cases: "
            "n = n0 / (1 + (n0 \u2212 1) / N) = 291.2, rounded up to 292.",
        ]

    def test_steps_without_a_population(self):
        steps = sample_size(population=None, margin=0.03, confidence=0.99).steps
        assert steps[0] == "For 99% confidence, z = 2.576."
        assert steps[2].endswith("= 1,843.03, rounded up to 1,844.")
        assert steps[-1] == "No population size was given, so the sample is 1,844 cases."

    def test_a_small_population_is_audited_in_full(self):
        result = sample_size(population=5)
        assert result.required == 5
        assert result.steps[-2].endswith("= 4.9, rounded up to 5.")
        assert result.steps[-1] == "That is every eligible case."

    def test_a_population_of_one(self):
        result = sample_size(population=1)
        assert result.required == 1
        assert "for 1 eligible case:" in result.steps[-2]


class TestRounding:
    def test_always_rounds_up(self):
        # n0 = 384.15: rounding to nearest would give 384, too few for the margin.
        result = sample_size(population=None)
        assert result.steps[2].endswith("384.1, rounded up to 385.")
        assert result.infinite == 385

    def test_uses_n0_before_rounding_in_the_correction(self):
        # With n0 rounded first, 385 / (1 + 384 / 1000) = 278.2 would round up to 279.
        assert sample_size(population=1000).required == 278

    @pytest.mark.parametrize(
        ("value", "shown"),
        [
            (384.146, "384.1"),
            (1843.03, "1,843.03"),  # not "1,843.0, rounded up to 1,844"
            (79.96, "79.96"),  # not "80.0, rounded up to 80"
            (80.0, "80.0"),
            (80.00000000001, "80.0"),
            (1.000002, "1.000002"),
        ],
    )
    def test_the_working_shows_enough_decimals_to_explain_rounding_up(self, value, shown):
        assert module._shown(value) == shown

    def test_floating_point_noise_does_not_add_a_case(self):
        assert module._round_up(80.00000000001) == 80
        assert module._round_up(80.0001) == 81
        assert module._round_up(80.0) == 80

    def test_at_least_one(self):
        result = sample_size(population=None, proportion=0.01, margin=0.5, confidence=0.6)
        assert result.infinite == 1
        assert result.required == 1

    def test_never_more_than_the_population_and_never_more_with_less(self):
        previous = 0
        for population in [*range(1, 400), 1000, 10_000, 10**7]:
            result = sample_size(population=population)
            assert 1 <= result.required <= min(population, result.infinite)
            assert result.required >= previous
            previous = result.required
        assert previous == 385


class TestValidation:
    @pytest.mark.parametrize("proportion", [0, 1, -0.1, 1.5, math.nan])
    def test_proportion(self, proportion):
        with pytest.raises(ValueError, match=r"^proportion must be between 0 and 1"):
            sample_size(population=None, proportion=proportion)

    @pytest.mark.parametrize("margin", [0, -0.05, 0.51, math.nan])
    def test_margin(self, margin):
        with pytest.raises(ValueError, match=r"^margin must be more than 0 and at most 0\.5"):
            sample_size(population=None, margin=margin)

    def test_a_margin_of_one_half_is_allowed(self):
        assert sample_size(population=None, margin=0.5).infinite == 4

    @pytest.mark.parametrize("confidence", [0.5, 1, 0.4, 95, math.nan])
    def test_confidence(self, confidence):
        with pytest.raises(ValueError, match=r"^confidence must be between 0\.5 and 1"):
            sample_size(population=None, confidence=confidence)

    @pytest.mark.parametrize("population", [0, -3, 2.5, True])
    def test_population(self, population):
        with pytest.raises(ValueError, match=r"^population must be a whole number of at least 1"):
            sample_size(population=population)

    def test_the_message_quotes_the_value(self):
        with pytest.raises(ValueError, match=r"not 1\.2\.$"):
            sample_size(population=None, proportion=1.2)

    def test_arguments_are_keyword_only(self):
        with pytest.raises(TypeError):
            sample_size(100)  # type: ignore[call-arg]


# --- allocate_quotas --------------------------------------------------------------------


class TestQuotaExamples:
    def test_proportional(self):
        assert allocate_quotas(10, {"north": 50, "south": 30, "east": 20}) == {
            "north": 5,
            "south": 3,
            "east": 2,
        }

    def test_largest_remainder(self):
        # Shares 4.4, 3.3, 2.3: the one case left over goes to the largest fraction.
        assert allocate_quotas(10, {"a": 44, "b": 33, "c": 23}) == {"a": 5, "b": 3, "c": 2}
        assert allocate_quotas(10, {"a": 46, "b": 36, "c": 18}) == {"a": 5, "b": 3, "c": 2}

    def test_ties_go_to_the_key_that_sorts_first(self):
        assert allocate_quotas(10, {"c": 5, "b": 5, "a": 5}) == {"c": 3, "b": 3, "a": 4}
        assert allocate_quotas(2, {"z": 1, "y": 1, "x": 1}) == {"z": 0, "y": 1, "x": 1}

    def test_minimums_are_met_and_the_rest_shared_in_proportion(self):
        assert allocate_quotas(10, {"a": 100, "b": 3, "c": 1}, minimum=2) == {
            "a": 7,
            "b": 2,
            "c": 1,
        }

    def test_meeting_one_minimum_can_push_another_stratum_below_its_own(self):
        # Shares 1, 6 and 13: a (only 5 records) is raised to 5. The 15 left, shared over
        # 95 records, give b 4.7, below its minimum, so b is raised to 6 and c gets 9.
        assert allocate_quotas(20, {"a": 5, "b": 30, "c": 65}, minimum=6) == {
            "a": 5,
            "b": 6,
            "c": 9,
        }

    def test_total_above_the_population_takes_everything(self):
        assert allocate_quotas(100, {"a": 10, "b": 0, "c": 5}) == {"a": 10, "b": 0, "c": 5}
        assert allocate_quotas(15, {"a": 10, "c": 5}) == {"a": 10, "c": 5}

    def test_minimums_win_over_the_total(self):
        result = allocate_quotas(3, {"a": 10, "b": 10, "c": 1}, minimum=2)
        assert result == {"a": 2, "b": 2, "c": 1}
        assert sum(result.values()) > 3

    def test_zero_and_empty(self):
        assert allocate_quotas(0, {"a": 10, "b": 5}) == {"a": 0, "b": 0}
        assert allocate_quotas(0, {"a": 10, "b": 5}, minimum=1) == {"a": 1, "b": 1}
        assert allocate_quotas(5, {}) == {}

    def test_keeps_the_order_of_the_strata(self):
        assert list(allocate_quotas(5, {"z": 3, "a": 3, "m": 3})) == ["z", "a", "m"]

    @pytest.mark.parametrize(
        ("total", "strata", "minimum", "message"),
        [
            (-1, {"a": 1}, 0, "^total must not be negative"),
            (1, {"a": 1}, -1, "^minimum must not be negative"),
            (1, {"a": 1, "b": -2}, 0, "^The size of stratum 'b' must not be negative"),
        ],
    )
    def test_negative_inputs(self, total, strata, minimum, message):
        with pytest.raises(ValueError, match=message):
            allocate_quotas(total, strata, minimum)


def _random_case(rng: random.Random) -> tuple[int, dict[str, int], int]:
    count = rng.randint(1, 8)
    strata = {
        f"stratum-{rng.randint(0, 99):02d}": rng.choice([0, 1, 2, 3, rng.randint(0, 500)])
        for _ in range(count)
    }
    population = sum(strata.values())
    total = rng.randint(0, population + 5)
    minimum = rng.choice([0, 0, 1, 2, 5, 20])
    return total, strata, minimum


class TestQuotaProperties:
    """Checked over many random cases (seeded, so a failure can be repeated)."""

    def test_bounds_sum_and_determinism(self):
        rng = random.Random(1729)
        for _ in range(1500):
            total, strata, minimum = _random_case(rng)
            result = allocate_quotas(total, strata, minimum)

            assert list(result) == list(strata)
            for key, size in strata.items():
                assert min(minimum, size) <= result[key] <= size

            floors = sum(min(minimum, size) for size in strata.values())
            if floors <= total:
                assert sum(result.values()) == min(total, sum(strata.values()))
            else:
                assert result == {key: min(minimum, size) for key, size in strata.items()}

            shuffled = list(strata.items())
            rng.shuffle(shuffled)
            assert allocate_quotas(total, dict(shuffled), minimum) == result

    def test_without_minimums_each_quota_is_its_share_rounded_down_or_up(self):
        rng = random.Random(31337)
        for _ in range(1500):
            total, strata, _ = _random_case(rng)
            population = sum(strata.values())
            if total >= population:
                continue
            result = allocate_quotas(total, strata)
            shares = {key: Fraction(total * size, population) for key, size in strata.items()}
            for key, share in shares.items():
                assert math.floor(share) <= result[key] <= math.ceil(share)

            # Largest remainder: no stratum rounded down has a larger fraction than one
            # rounded up.
            rounded_up = [
                shares[k] - math.floor(shares[k]) for k in strata if result[k] > shares[k]
            ]
            rounded_down = [
                shares[k] - math.floor(shares[k]) for k in strata if result[k] < shares[k]
            ]
            if rounded_up and rounded_down:
                assert min(rounded_up) >= max(rounded_down)
