"""The thematic analysis's statistics, checked against values known independently of the
code: published intervals, textbook worked examples of the trend test, false discovery rates
worked by hand, hypergeometric probabilities, and counts of hand-made statements."""

from __future__ import annotations

import itertools
import math
import random
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from scipy.stats import false_discovery_control, fisher_exact, norm

from apps.themes.analysis import (
    ALL,
    DECLINING,
    EMERGING,
    NATIONAL,
    NO_CLEAR_TREND,
    NOT_KNOWN,
    TOO_FEW_YEARS,
    AnalysisError,
    CodedRow,
    Reports,
    association_design_effect,
    bar_chart_svg,
    benjamini_hochberg,
    clustered_p,
    co_occurrence,
    cochran_armitage,
    design_effects,
    group_label,
    intraclass_correlation,
    kind_contrast,
    line_chart_svg,
    prevalence,
    trends,
    whole_percent,
    wilson_interval,
)

SVG = "{http://www.w3.org/2000/svg}"


def row(
    statement_id: int,
    themes: str = "",
    *,
    report: str | None = None,
    force: str = "Kent Police",
    region: str = "South East",
    programme_type: str = "ncpi",
    year: int | None = 2020,
    kind: str = "area_for_improvement",
    stage: str = "",
) -> CodedRow:
    return CodedRow(
        statement_id=statement_id,
        themes=frozenset(t for t in themes.split() if t),
        report=report if report is not None else f"report:{statement_id}",
        force=force,
        region=region,
        programme_type=programme_type,
        year=year,
        kind=kind,
        stage=stage,
    )


def by_year(table: dict[int, tuple[int, int]], theme: str = "a") -> list[CodedRow]:
    """Rows making year: (coded to `theme`, statements), each its own report."""
    rows: list[CodedRow] = []
    for year, (coded, total) in table.items():
        for i in range(total):
            rows.append(row(len(rows) + 1, theme if i < coded else "", year=year))
    return rows


# Wilson intervals ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("successes", "n", "low", "high"),
    [
        # Newcombe (1998), "Two-sided confidence intervals for the single proportion:
        # comparison of seven methods", Statistics in Medicine 17: 857-872, Table II, method 3
        # (score interval without continuity correction).
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
        # 0/10: the upper limit is z^2 / (n + z^2) = 3.8415 / 13.8415; 5/10 is symmetric.
        (0, 10, 0.0, 0.2775),
        (5, 10, 0.2366, 0.7634),
        (10, 10, 0.7225, 1.0),
    ],
)
def test_wilson_matches_published_values(successes, n, low, high):
    got = wilson_interval(successes, n)
    assert got == (pytest.approx(low, abs=5e-5), pytest.approx(high, abs=5e-5))


def test_wilson_other_confidence():
    # 99%: z = 2.5758, so the upper limit of 0/10 is z^2 / (10 + z^2) = 6.6349 / 16.6349.
    assert wilson_interval(0, 10, 0.99)[1] == pytest.approx(0.39886, abs=5e-5)


def test_wilson_endpoints_invert_the_score_test_exhaustively():
    """Every interval for n up to 30 is the set of pi with |x/n - pi| <= z sqrt(pi(1-pi)/n):
    its ends solve that with equality, it holds x/n, and x and n - x mirror each other."""
    z = norm.ppf(0.975)
    for n in range(1, 31):
        for x in range(n + 1):
            low, high = wilson_interval(x, n)
            p = x / n
            assert 0.0 <= low <= p <= high <= 1.0
            for end in (low, high):
                if 0 < end < 1:
                    assert abs(p - end) == pytest.approx(z * math.sqrt(end * (1 - end) / n))
            mirror = wilson_interval(n - x, n)
            assert low == pytest.approx(1 - mirror[1]) and high == pytest.approx(1 - mirror[0])
    assert wilson_interval(0, 5)[0] == 0.0 and wilson_interval(5, 5)[1] == 1.0


def test_wilson_with_a_design_effect_is_that_of_the_effective_sample():
    # 4 of 10 statements with design effect 2 are worth 2 of 5 independent ones.
    assert wilson_interval(4, 10, design_effect=2) == pytest.approx(wilson_interval(2, 5))
    assert wilson_interval(30, 90, 0.99, 3.0) == pytest.approx(wilson_interval(10, 30, 0.99))
    assert wilson_interval(0, 10, design_effect=2.5)[0] == 0.0
    assert wilson_interval(10, 10, design_effect=2.5)[1] == 1.0
    wide, narrow = wilson_interval(7, 20, design_effect=1.7), wilson_interval(7, 20)
    assert wide[0] < narrow[0] < 0.35 < narrow[1] < wide[1]
    for bad in (0.5, float("nan"), float("inf"), True, "2"):
        with pytest.raises(AnalysisError, match="design_effect"):
            wilson_interval(1, 2, design_effect=bad)


def test_wilson_with_no_statements_is_the_whole_range():
    assert wilson_interval(0, 0) == (0.0, 1.0)


@pytest.mark.parametrize(
    ("args", "named"),
    [
        ((3, 2), "successes"),
        ((-1, 2), "successes"),
        ((1, -2), "n"),
        ((1.5, 2), "successes"),
        ((True, 2), "successes"),
        ((1, 2, 1.0), "confidence"),
        ((1, 2, 0), "confidence"),
    ],
)
def test_wilson_refuses_bad_input_naming_it(args, named):
    with pytest.raises(AnalysisError, match=named):
        wilson_interval(*args)


# The Cochran-Armitage test ------------------------------------------------------------------

# Infant malformation by mother's alcohol consumption (Graubard and Korn, Biometrics 1988),
# the worked example of Agresti, Categorical Data Analysis (2nd ed., 2002): drinks a day 0,
# <1, 1-2, 3-5, >=6.
MALFORMED = [48, 38, 5, 1, 1]
BIRTHS = [17114, 14502, 793, 127, 38]


def test_cochran_armitage_agresti_alcohol_and_malformation():
    # Agresti: with scores (0, 0.5, 1.5, 4, 7), M^2 = 6.57 (P = 0.01); with equally spaced
    # scores, M^2 = 1.83 (P = 0.18). M^2 = z^2 (N - 1) / N, the same to two decimals here.
    z, p = cochran_armitage(MALFORMED, BIRTHS, [0, 0.5, 1.5, 4, 7])
    assert z**2 == pytest.approx(6.57, abs=0.005)
    assert z > 0 and p == pytest.approx(0.0104, abs=5e-4)
    z, p = cochran_armitage(MALFORMED, BIRTHS, [1, 2, 3, 4, 5])
    assert z**2 == pytest.approx(1.83, abs=0.005)
    # StatXact's example 6 (Cytel) gives the asymptotic two-sided p-values of the same data:
    # 0.1765 for equally spaced scores, 0.0078 for scores (0, 0.5, 1.5, 4, 8).
    assert p == pytest.approx(0.1765, abs=2e-4)
    assert cochran_armitage(MALFORMED, BIRTHS, [0, 0.5, 1.5, 4, 8])[1] == pytest.approx(
        0.0078, abs=5e-5
    )


def test_cochran_armitage_r_prop_trend_test_example():
    # R's documentation of prop.trend.test (stats): smokers among patients in four groups,
    # X-squared = 8.2249, df = 1, p-value = 0.004132.
    z, p = cochran_armitage([83, 90, 129, 70], [86, 93, 136, 82], [1, 2, 3, 4])
    assert z**2 == pytest.approx(8.2249, abs=5e-5)
    assert p == pytest.approx(0.004132, abs=5e-7)
    assert z < 0  # the share of smokers falls


def test_cochran_armitage_sas_pain_example():
    # SAS/STAT PROC FREQ, "Computing the Cochran-Armitage trend test" (the Pain data):
    # adverse responses 6/32, 7/33, 9/32, 14/32, 23/32 at doses 0-4; Z = 4.7918 (SAS reports
    # -4.7918 for the first column, no adverse response), p < 0.0001.
    z, p = cochran_armitage([6, 7, 9, 14, 23], [32, 33, 32, 32, 32], [0, 1, 2, 3, 4])
    assert z == pytest.approx(4.7918, abs=5e-5)
    assert p < 1e-4


def test_cochran_armitage_is_n_r_squared_of_the_statements_exhaustively():
    """z^2 = N r^2, r the correlation of the score and the outcome over single statements: an
    independent route to the same number, on many small random tables."""
    rng = random.Random(7)
    for _ in range(200):
        groups = rng.randint(2, 5)
        totals = [rng.randint(1, 12) for _ in range(groups)]
        counts = [rng.randint(0, n) for n in totals]
        scores = sorted(rng.sample(range(2000, 2030), groups))
        result = cochran_armitage(counts, totals, scores)
        outcome = np.repeat(
            [1, 0] * groups, [v for x, n in zip(counts, totals, strict=True) for v in (x, n - x)]
        )
        score = np.repeat(scores, totals)
        if outcome.min() == outcome.max():
            assert result is None
            continue
        r = np.corrcoef(score, outcome)[0, 1]
        z, p = result
        assert z**2 == pytest.approx(sum(totals) * r**2)
        assert np.sign(z) == np.sign(r)
        assert p == pytest.approx(2 * norm.sf(abs(z)))


def test_cochran_armitage_ignores_the_scale_of_the_scores():
    a = cochran_armitage([83, 90, 129, 70], [86, 93, 136, 82], [1, 2, 3, 4])
    b = cochran_armitage([83, 90, 129, 70], [86, 93, 136, 82], [2016, 2017, 2018, 2019])
    assert a == pytest.approx(b)


def test_cochran_armitage_undefined_cases():
    assert cochran_armitage([0, 0, 0], [5, 6, 7], [1, 2, 3]) is None  # nobody coded it
    assert cochran_armitage([5, 6, 7], [5, 6, 7], [1, 2, 3]) is None  # everybody did
    assert cochran_armitage([1, 0], [5, 0], [1, 2]) is None  # one group with statements
    assert cochran_armitage([], [], []) is None


@pytest.mark.parametrize(
    ("counts", "totals", "scores", "message"),
    [
        ([1, 2], [3], [1, 2], "same length"),
        ([4, 2], [3, 3], [1, 2], "group 1"),
        ([1, -1], [3, 3], [1, 2], "group 2"),
        ([1, 1], [3, 3], [1, math.nan], "group 2"),
    ],
)
def test_cochran_armitage_refuses_bad_input(counts, totals, scores, message):
    with pytest.raises(AnalysisError, match=message):
        cochran_armitage(counts, totals, scores)


# Benjamini-Hochberg -------------------------------------------------------------------------


def test_bh_worked_by_hand():
    # Ranked: 0.005 (1), 0.01 (2), 0.03 (3), 0.04 (4); m = 4. m p / rank: 0.02, 0.02, 0.04,
    # 0.04; the running minimum from the top leaves them as they are.
    assert benjamini_hochberg([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.02, 0.04, 0.04, 0.02])
    # 0.01 (1) -> 0.03, 0.02 (2) -> 0.03, 0.03 (3) -> 0.03: the larger p caps the smaller.
    assert benjamini_hochberg([0.03, 0.02, 0.01]) == pytest.approx([0.03, 0.03, 0.03])
    # 0.2 at rank 1 of 2 is 0.4; 0.9 at rank 2 stays 0.9. Nothing goes above 1.
    assert benjamini_hochberg([0.9, 0.2]) == pytest.approx([0.9, 0.4])
    assert benjamini_hochberg([0.6, 0.7]) == pytest.approx([0.7, 0.7])


def test_bh_leaves_out_tests_not_done():
    assert benjamini_hochberg([None, 0.01, None, 0.04]) == [None, 0.02, None, 0.04]
    assert benjamini_hochberg([]) == []
    assert benjamini_hochberg([None]) == [None]


def test_bh_paper_example_rejects_four():
    # Benjamini and Hochberg (1995), JRSS B 57: 289-300, section 4.2: fifteen p-values; at
    # q = 0.05 the procedure rejects the four smallest (Bonferroni only three).
    p = [0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344, 0.0459, 0.3240,
         0.4262, 0.5719, 0.6528, 0.7590, 1.000]  # fmt: skip
    adjusted = benjamini_hochberg(p)
    assert [a <= 0.05 for a in adjusted] == [True] * 4 + [False] * 11
    assert sum(x <= 0.05 / 15 for x in p) == 3


def test_bh_agrees_with_scipy():
    rng = random.Random(3)
    for size in (1, 2, 5, 16, 40):
        p = [rng.random() ** 3 for _ in range(size)]
        assert benjamini_hochberg(p) == pytest.approx(list(false_discovery_control(p)))


def test_bh_refuses_a_p_value_out_of_range():
    with pytest.raises(AnalysisError, match="p-value 2"):
        benjamini_hochberg([0.1, 1.5])


# The rows -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"statement_id": "7"}, "statement_id"),
        ({"themes": {"a"}}, "themes"),
        ({"themes": frozenset({1})}, "themes"),
        ({"force": None}, "force"),
        ({"year": "2020"}, "year"),
    ],
)
def test_a_bad_row_is_refused_naming_the_field(change, named):
    fields = {
        "statement_id": 7,
        "themes": frozenset({"a"}),
        "report": "r",
        "force": "",
        "region": "",
        "programme_type": "",
        "year": 2020,
        "kind": "strength",
    }
    with pytest.raises(AnalysisError, match=named):
        CodedRow(**{**fields, **change})


def test_a_statement_given_twice_or_a_theme_listed_twice_is_refused():
    with pytest.raises(AnalysisError, match="statement 1 is given twice"):
        prevalence([row(1, "a"), row(1, "b")], ["a"])
    with pytest.raises(AnalysisError, match="'a' is listed twice"):
        prevalence([row(1, "a")], ["a", "b", "a"])
    with pytest.raises(AnalysisError, match="themes"):
        prevalence([row(1, "a")], "a")


# Prevalence ---------------------------------------------------------------------------------


def hand_made() -> list[CodedRow]:
    return [
        row(1, "a b", report="i1", force="Kent Police", year=2019, kind="strength"),
        row(2, "a", report="i1", force="Kent Police", year=2019, stage="Investigation"),
        row(3, "b", report="i1", force="Kent Police", year=2019, kind="recommendation"),
        row(
            4,
            "a",
            report="i2",
            force="essex Police",
            region="East",
            year=2021,
            stage="Trusted adults",
        ),
        row(5, "", report="i2", force="essex Police", region="East", year=2021),
        row(6, "a c", report="a1", force="", region="", year=None, programme_type=""),
        row(7, "b", report="a2", force="Avon and Somerset", region="", year=2020),
        row(8, "unknown_theme", report="a2", force="Avon and Somerset", region="", year=2020),
    ]


def cells(found, theme):
    return {c.group: c for c in found if c.theme == theme}


def test_prevalence_overall_by_hand():
    found = prevalence(hand_made(), ["a", "b", "c", "d"], None)
    assert [c.theme for c in found] == ["a", "b", "c", "d"]
    assert {c.group for c in found} == {ALL}
    a, b, c, d = found
    assert (a.count, a.total, a.statement_ids) == (4, 8, (1, 2, 4, 6))
    assert (b.count, b.statement_ids) == (3, (1, 3, 7))
    assert (c.count, c.statement_ids) == (1, (6,))
    assert a.share == 0.5 and (a.low, a.high) == wilson_interval(4, 8)
    assert (a.reports, a.group_reports) == (3, 4)  # i1, i2, a1 of i1, i2, a1, a2
    # Theme a: reports i1 2 of 3, i2 1 of 2, a1 1 of 1, a2 0 of 2; p = 1/2, residuals
    # y - m p: 0.5, 0, 0.5, -1; 4/3 * 1.5 / (1/4) = 8 = n, no excess: rho 0, d 1.
    assert a.design_effect == 1.0
    # A theme nobody coded: nought, with an interval from 0. Nothing to estimate rho from,
    # so each report counts as one observation: d = sum m^2 / n = 18 / 8.
    assert (d.count, d.share, d.low, d.statement_ids) == (0, 0.0, 0.0, ())
    assert d.design_effect == 2.25
    assert d.high == pytest.approx(wilson_interval(0, 8, design_effect=2.25)[1])
    assert d.high > wilson_interval(0, 8)[1]
    assert prevalence(hand_made(), ["d"], None, clustered=False)[0].high == pytest.approx(
        wilson_interval(0, 8)[1]
    )


def reports_of(*reports: tuple[int, int], theme: str = "a", start: int = 0) -> list[CodedRow]:
    """Rows of reports given as (coded to `theme`, statements), named r{start}, r{start + 1}..."""
    rows: list[CodedRow] = []
    for j, (coded, total) in enumerate(reports):
        for i in range(total):
            rows.append(
                row(
                    1000 * start + len(rows) + 1, theme if i < coded else "", report=f"r{start + j}"
                )
            )
    return rows


def test_intraclass_correlation_by_hand():
    # Four reports of two: 2, 1, 1 and 0 coded. p = 1/2, residuals y - m p: 1, 0, 0, -1.
    # 4/3 * 2 / (1/4) = 32/3 estimates n + rho sum m (m - 1) = 8 + 8 rho: rho = 1/3.
    group = Reports.of(reports_of((2, 2), (1, 2), (1, 2), (0, 2)))
    assert group.sizes == (2, 2, 2, 2) and group.weighted_size == 2.0
    assert intraclass_correlation([group], "a") == pytest.approx(1 / 3)
    assert design_effects([group], "a") == pytest.approx([4 / 3])
    # Reports that each say one thing throughout: rho is 1, each report one observation.
    alike = Reports.of(reports_of((3, 3), (0, 3), (3, 3), (0, 3)))
    assert intraclass_correlation([alike], "a") == 1.0
    assert design_effects([alike], "a") == [3.0]
    # Spread more even than chance is not taken as less than independent: rho 0, d 1.
    even = Reports.of(reports_of((1, 2), (1, 2), (1, 2), (1, 2)))
    assert intraclass_correlation([even], "a") == 0.0
    assert design_effects([even], "a") == [1.0]


def test_intraclass_correlation_pools_groups_and_needs_enough_reports():
    one = Reports.of(reports_of((2, 2), (1, 2), (1, 2), (0, 2)))
    # Two reports: one degree of freedom, too few to tell alone.
    two = Reports.of(reports_of((2, 4), (0, 4), start=10))
    assert intraclass_correlation([two], "a") is None
    # With the first group they pool: the excesses over n summed, over sum m (m - 1) summed.
    p = 2 / 8
    second = 2 * ((2 - 4 * p) ** 2 + (0 - 4 * p) ** 2) / (p * (1 - p)) - 8
    pooled = (32 / 3 - 8 + second) / (8 + 24)
    assert intraclass_correlation([one, two], "a") == pytest.approx(pooled)
    assert design_effects([one, two], "a") == pytest.approx([1 + pooled, 1 + 3 * pooled])
    # Groups of one report each cannot tell: all the statements together can.
    singles = [Reports.of(reports_of((k, 4), start=20 + k)) for k in (0, 1, 3, 4)]
    together = Reports.of([r for k in (0, 1, 3, 4) for r in reports_of((k, 4), start=20 + k)])
    assert intraclass_correlation(singles, "a") is None
    rho = intraclass_correlation([together], "a")
    assert rho is not None and 0 < rho < 1
    assert design_effects(singles, "a", together) == pytest.approx([1 + 3 * rho] * 4)
    # ... and without them, each report is one observation (d = m).
    assert design_effects(singles, "a") == [4.0] * 4


def test_reports_of_one_statement_say_nothing_of_how_alike_a_long_reports_are():
    # Forces whose reports are each one statement (nothing to be alike, d = 1), and a force
    # with one long report of 40, which alone cannot tell rho: the short reports' spread is no
    # evidence that the long report's statements are independent, so rho comes from all the
    # statements together, where the long report counts as the cluster it is.
    short = [row(i + 1, "a" if i % 3 == 0 else "", force=f"Force {i % 2}") for i in range(30)]
    long = [row(100 + i, "a" if i < 30 else "", report="long", force="Force L") for i in range(40)]
    groups = [Reports.of(short[0::2]), Reports.of(short[1::2]), Reports.of(long)]
    assert intraclass_correlation(groups, "a") is None
    together = Reports.of(short + long)
    rho = intraclass_correlation([together], "a")
    assert rho is not None and rho > 0.1
    cells = {c.group: c for c in prevalence(short + long, ["a"], "force")}
    assert cells["Force 0"].design_effect == cells["Force 1"].design_effect == 1.0
    assert cells["Force L"].design_effect == pytest.approx(1 + 39 * rho)
    # Taken as independent (rho 0, as before), its 40 statements gave a far narrower interval.
    assert cells["Force L"].high - cells["Force L"].low > 2 * (
        wilson_interval(30, 40)[1] - wilson_interval(30, 40)[0]
    )


def test_one_group_design_effect_is_the_trend_tests_rao_scott_estimate():
    """Two ways to one figure: for one group the pooled estimator reduces to Rao and Scott's,
    which the trend test computes by its own code."""
    rng = random.Random(5)
    compared = 0
    for _ in range(60):
        reports = []
        for _ in range(rng.randint(3, 8)):
            total = rng.randint(1, 12)
            reports.append((rng.randint(0, total), total))
        rows = reports_of(*reports)
        if not 0 < sum(c for c, _ in reports) < len(rows):
            continue
        (cell,) = prevalence(rows, ["a"], None)
        (trend,) = trends(rows, ["a"], min_years=2)
        # The trend test does not cap d at the report size (rho 1): compare below the cap.
        if cell.design_effect < Reports.of(rows).weighted_size:
            assert cell.design_effect == pytest.approx(trend.years[0].design_effect)
            compared += 1
    assert compared > 20


def test_a_report_saying_one_thing_many_times_does_not_narrow_the_interval():
    once = [row(i, "a" if i < 6 else "") for i in range(20)]  # twenty reports of one
    repeated = [
        row(100 * i + copy, "a" if i < 6 else "", report=f"report:{i}")
        for i in range(20)
        for copy in range(5)
    ]
    (single,) = prevalence(once, ["a"], None)
    (many,) = prevalence(repeated, ["a"], None)
    assert single.design_effect == 1.0 and many.design_effect == 5.0
    assert (many.share, many.low, many.high) == pytest.approx(
        (single.share, single.low, single.high)
    )
    (plain,) = prevalence(repeated, ["a"], None, clustered=False)
    assert plain.high - plain.low < (single.high - single.low) / 2


def test_prevalence_by_force_borrows_how_alike_reports_are_from_the_others():
    # Each force has one report of 10: none can tell rho alone, so it comes from them all.
    rows = []
    for j, coded in enumerate((1, 2, 5, 8, 9)):
        for i in range(10):
            rows.append(
                row(len(rows) + 1, "a" if i < coded else "", report=f"f{j}", force=f"Force {j}")
            )
    found = prevalence(rows, ["a"], "force")
    rho = intraclass_correlation([Reports.of(rows)], "a")
    assert rho is not None and 0 < rho < 1
    for c in found:
        assert c.design_effect == pytest.approx(1 + 9 * rho)
        assert (c.low, c.high) == pytest.approx(
            wilson_interval(c.count, 10, design_effect=1 + 9 * rho)
        )


def test_prevalence_by_year_orders_years_and_puts_not_known_last():
    found = prevalence(hand_made(), ["a"], "year")
    assert [c.group for c in found] == ["2019", "2020", "2021", NOT_KNOWN]
    got = cells(found, "a")
    assert (got["2019"].count, got["2019"].total) == (2, 3)
    assert (got["2020"].count, got["2020"].total) == (0, 2)
    assert (got[NOT_KNOWN].count, got[NOT_KNOWN].statement_ids) == (1, (6,))
    years = [row(i, "a", year=y) for i, y in enumerate([999, 2010, 2009, 1999])]
    assert [c.group for c in prevalence(years, ["a"], "year")] == ["999", "1999", "2009", "2010"]


def test_prevalence_by_force_and_region_label_the_blanks():
    found = prevalence(hand_made(), ["a", "b"], "force")
    assert [c.group for c in found if c.theme == "a"] == [
        "Avon and Somerset",
        "essex Police",  # by name, whatever the case
        "Kent Police",
        NATIONAL,
    ]
    got = cells(found, "b")
    assert (got["Kent Police"].count, got["Kent Police"].statement_ids) == (2, (1, 3))
    assert (got[NATIONAL].count, got[NATIONAL].total) == (0, 1)
    regions = cells(prevalence(hand_made(), ["a"], "region"), "a")
    # Avon and Somerset has a force but no region: not known; statement 6 has no force.
    assert set(regions) == {"East", "South East", NOT_KNOWN, NATIONAL}
    assert regions[NOT_KNOWN].total == 2 and regions[NATIONAL].statement_ids == (6,)


def test_prevalence_by_kind_follows_the_findings_vocabulary():
    found = prevalence(hand_made(), ["a"], "kind")
    assert [c.group for c in found] == ["strength", "area_for_improvement", "recommendation"]
    by_programme = prevalence(hand_made(), ["a"], "programme_type")
    assert [c.group for c in by_programme] == ["ncpi", NOT_KNOWN]


def test_prevalence_by_stage_follows_the_childs_journey():
    """Stages in the order a child meets them (then the topics), whatever their names'
    alphabetical order; a stage the import does not name by its name; none: not known."""
    rows = [
        row(1, "a", stage="Investigation"),
        row(2, "", stage="Initial contact"),
        row(3, "a", stage="Online child abuse"),
        row(4, "a", stage="Initial contact"),
        row(5, "", stage=""),
        row(6, "a", stage="Custody suites"),
        row(7, "", stage="Leadership and management"),
    ]
    found = prevalence(rows, ["a"], "stage")
    assert [c.group for c in found] == [
        "Leadership and management",
        "Initial contact",
        "Investigation",
        "Online child abuse",
        "Custody suites",
        NOT_KNOWN,
    ]
    got = cells(found, "a")
    assert (got["Initial contact"].count, got["Initial contact"].total) == (1, 2)
    assert got["Initial contact"].statement_ids == (4,)
    assert (got[NOT_KNOWN].count, got[NOT_KNOWN].total) == (0, 1)
    with pytest.raises(AnalysisError, match="stage must be text"):
        row(8, stage=None)  # type: ignore[arg-type]


def test_prevalence_links_every_count_to_its_statements():
    rows = hand_made()
    for by in (None, "force", "region", "programme_type", "year", "kind", "stage"):
        for cell in prevalence(rows, ["a", "b", "c"], by):
            members = [r for r in rows if by is None or group_label(r, by) == cell.group]
            assert cell.total == len(members)
            assert cell.statement_ids == tuple(
                r.statement_id for r in members if cell.theme in r.themes
            )


def test_prevalence_edge_cases():
    assert prevalence([], ["a"], "year") == []
    assert prevalence(hand_made(), [], None) == []
    with pytest.raises(AnalysisError, match="by: 'county'"):
        prevalence(hand_made(), ["a"], "county")
    with pytest.raises(AnalysisError, match="by: 'county'"):
        group_label(hand_made()[0], "county")


# Trends -------------------------------------------------------------------------------------


def test_trend_reproduces_r_example_through_the_statements():
    # The prop.trend.test example as statements, one report each, in 2016-2019.
    rows = by_year({2016: (83, 86), 2017: (90, 93), 2018: (129, 136), 2019: (70, 82)})
    (trend,) = trends(rows, ["a"], clustered=False)
    assert trend.z**2 == pytest.approx(8.2249, abs=5e-5)
    assert trend.p == pytest.approx(0.004132, abs=5e-7)
    assert trend.p_adjusted == trend.p  # one theme: nothing to adjust for
    assert trend.direction == DECLINING
    assert [(y.year, y.count, y.total) for y in trend.years] == [
        (2016, 83, 86),
        (2017, 90, 93),
        (2018, 129, 136),
        (2019, 70, 82),
    ]
    assert trend.years[0].statement_ids == tuple(range(1, 84))
    assert (trend.years[0].low, trend.years[0].high) == wilson_interval(83, 86)
    assert {y.design_effect for y in trend.years} == {1.0}


def test_trend_with_one_report_a_statement_is_nearly_the_textbook_test():
    # Rao-Scott with every statement its own report: d = n / (n - 1) (the k / (k - 1) factor
    # with k = n), so the test is Cochran-Armitage on x (n - 1) / n of n - 1.
    table = {2016: (83, 86), 2017: (90, 93), 2018: (129, 136), 2019: (70, 82)}
    (trend,) = trends(by_year(table), ["a"])
    assert [y.design_effect for y in trend.years] == pytest.approx(
        [n / (n - 1) for _, n in table.values()]
    )
    expected = cochran_armitage(
        [x * (n - 1) / n for x, n in table.values()],
        [n - 1 for _, n in table.values()],
        list(table),
    )
    assert (trend.z, trend.p) == pytest.approx(expected)
    assert trend.direction == DECLINING


SHARES = {
    2018: [(1, 8), (0, 6), (2, 10)],
    2019: [(1, 10), (7, 10), (2, 10)],
    2020: [(3, 10), (9, 10), (5, 10)],
}


def clustered_rows(
    copies: int = 1, shares: dict[int, list[tuple[int, int]]] = SHARES
) -> list[CodedRow]:
    """Years of three reports each, a report coding (coded, statements) to the theme, so
    statements of one report are alike. `copies` repeats each statement in its report."""
    rows: list[CodedRow] = []
    for year, reports in shares.items():
        for j, (coded, total) in enumerate(reports):
            for i in range(total):
                for _ in range(copies):
                    rows.append(
                        row(
                            len(rows) + 1,
                            "a" if i < coded else "b",
                            report=f"{year}-{j}",
                            year=year,
                        )
                    )
    return rows


def test_rao_scott_design_effect_by_hand():
    (trend,) = trends(clustered_rows(), ["a"])
    # 2018: reports 1/8, 0/6, 2/10; n = 24, x = 3, p = 1/8. Residuals y - m p: 0, -0.75, 0.75;
    # v = 3/2 * 1.125 / 24^2; d = 24 v / (p (1 - p)) = 0.0703125 / 0.109375 < 1, so 1.
    assert trend.years[0].design_effect == 1.0
    # 2019: 1/10, 7/10, 2/10; n = 30, p = 1/3. Residuals -7/3, 11/3, -4/3: squares 186/9.
    # v = 3/2 * (186/9) / 30^2; d = 30 v / (1/3 * 2/3) = 4.65.
    assert trend.years[1].design_effect == pytest.approx(4.65)
    # 2020: 3/10, 9/10, 5/10; n = 30, p = 17/30. Residuals -8/3, 10/3, -2/3: squares 168/9.
    d2020 = 30 * 1.5 * (168 / 9) / 900 / (17 / 30 * 13 / 30)
    assert trend.years[2].design_effect == pytest.approx(d2020)
    counts = [y.count / y.design_effect for y in trend.years]
    totals = [y.total / y.design_effect for y in trend.years]
    assert (trend.z, trend.p) == pytest.approx(cochran_armitage(counts, totals, [2018, 2019, 2020]))


def test_clustered_trend_is_not_fooled_by_repetition():
    """Saying everything twice in the same reports doubles the plain test's information (z
    grows by sqrt 2) but leaves the clustered test where it was: the design effect doubles."""
    shares = {**SHARES, 2018: [(0, 10), (5, 10), (1, 10)]}
    once = trends(clustered_rows(1, shares), ["a"])[0]
    twice = trends(clustered_rows(2, shares), ["a"])[0]
    assert all(y.design_effect > 1 for y in once.years)
    assert [y.design_effect for y in twice.years] == pytest.approx(
        [2 * y.design_effect for y in once.years]
    )
    assert (twice.z, twice.p) == pytest.approx((once.z, once.p))
    plain_once = trends(clustered_rows(1, shares), ["a"], clustered=False)[0]
    plain_twice = trends(clustered_rows(2, shares), ["a"], clustered=False)[0]
    assert plain_twice.z == pytest.approx(plain_once.z * math.sqrt(2))
    assert plain_once.direction == EMERGING and once.direction == NO_CLEAR_TREND


def test_a_year_from_one_report_counts_as_one_observation():
    rows = by_year({2018: (2, 10), 2019: (3, 10)})
    rows += [row(100 + i, "a" if i < 8 else "", report="only", year=2020) for i in range(10)]
    (trend,) = trends(rows, ["a"])
    assert [y.design_effect for y in trend.years][2] == 10.0
    assert trend.years[2].reports == 1


def test_a_year_without_spread_takes_the_pooled_design_effect():
    # 2019: three reports, nobody coded the theme: no spread to estimate from, so the pooled
    # effect of 2018 and 2020 (weighted by their statements) is used.
    rows = clustered_rows()
    rows = [r for r in rows if r.year != 2019]
    rows += [row(500 + i, "", report=f"z{i % 3}", year=2019) for i in range(12)]
    (trend,) = trends(rows, ["a"])
    # Pooled from the estimates before they are floored at 1 (2018's is 0.642857, see above).
    raw_2018 = 24 * 1.5 * 1.125 / 576 / (0.125 * 0.875)
    raw_2020 = 30 * 1.5 * (168 / 9) / 900 / (17 / 30 * 13 / 30)
    assert raw_2018 == pytest.approx(0.642857, abs=1e-6)
    assert trend.years[1].design_effect == pytest.approx((raw_2018 * 24 + raw_2020 * 30) / 54)


def test_emerging_and_declining_themes_are_told_apart():
    rows = []
    # Of 40 statements a year, "up" is coded in 4, 12, 20, 28 and "down" in 28, 20, 12, 4.
    for year, up in ((2018, 4), (2019, 12), (2020, 20), (2021, 28)):
        for i in range(40):
            themes = ("up " if i < up else "") + ("down" if i < 32 - up else "")
            rows.append(row(len(rows) + 1, themes, year=year))
    rows.append(row(999, "up", year=None))  # no year: left out of the trend
    found = {t.theme: t for t in trends(rows, ["up", "down", "flat", "never"])}
    assert found["up"].direction == EMERGING and found["up"].z > 0
    assert found["down"].direction == DECLINING and found["down"].z < 0
    assert sum(y.total for y in found["up"].years) == 160
    assert found["up"].slope == pytest.approx(0.2)  # 10 to 70% over three years
    assert found["down"].slope == pytest.approx(-0.2)
    # Nobody coded "flat" or "never": no test, and it does not count in the adjustment.
    assert found["never"].direction == NO_CLEAR_TREND
    assert found["never"].z is None and found["never"].p_adjusted is None
    assert found["never"].slope == 0.0
    assert [found[t].p_adjusted for t in ("up", "down")] == pytest.approx(
        benjamini_hochberg([found["up"].p, found["down"].p])
    )


def test_a_weak_trend_is_no_clear_trend_after_adjustment():
    rows = by_year({2018: (3, 20), 2019: (4, 20), 2020: (6, 20)})
    (trend,) = trends(rows, ["a"], clustered=False)
    assert trend.p > 0.05 and trend.direction == NO_CLEAR_TREND


def test_trend_slope_is_weighted_least_squares():
    rows = by_year({2017: (1, 10), 2018: (9, 30), 2020: (2, 5)})
    (trend,) = trends(rows, ["a"], clustered=False)
    shares = np.array([0.1, 0.3, 0.4])
    weights = np.array([10, 30, 5])
    # numpy's polyfit weights the residuals, so the square roots of the statements.
    assert trend.slope == pytest.approx(
        np.polyfit([2017, 2018, 2020], shares, 1, w=np.sqrt(weights))[0]
    )
    # Clustered, each year weighs its statements over its design effect, as the test does
    # (here each statement is its own report: d = n / (n - 1)).
    (clustered,) = trends(rows, ["a"])
    assert clustered.slope == pytest.approx(
        np.polyfit([2017, 2018, 2020], shares, 1, w=np.sqrt(weights - 1))[0]
    )


def test_the_slope_never_contradicts_the_trend_it_is_shown_with():
    # A share falling from 40% to 20% over 80 reports, then one very long report at 90%:
    # weighted by statements alone the line would rise, while the test (which counts that
    # report as one observation) finds the share falling.
    reports = [
        (year, f"{year}-{j}", 20, share)
        for year, share in ((2019, 8), (2020, 4))
        for j in range(40)
    ]
    (trend,) = trends(report_rows([*reports, (2021, "long", 2000, 1800)]), ["a"])
    assert trend.years[2].design_effect == 2000.0
    assert trend.direction == DECLINING and trend.z < 0 and trend.slope < 0


def report_rows(reports: list[tuple[int, str, int, int]]) -> list[CodedRow]:
    """Statements of (year, report, statements, of which coded to "a") reports."""
    rows: list[CodedRow] = []
    for year, report, total, coded in reports:
        for i in range(total):
            rows.append(row(len(rows) + 1, "a" if i < coded else "b", report=report, year=year))
    return rows


def test_two_reports_weigh_as_two_whatever_their_length():
    # Three years of 15 short reports at 10%, then a year of one, or two, long reports at
    # 20%: neither is a trend (with two reports, their spread was a one-degree-of-freedom
    # estimate that could make 600 statements count as 600 independent ones).
    def years(last: int) -> list[CodedRow]:
        short = [(y, f"{y}-{j}", 20, 2) for y in (2018, 2019, 2020) for j in range(15)]
        return report_rows(short + [(2021, f"long-{j}", 300, 60) for j in range(last)])

    one, two = trends(years(1), ["a"])[0], trends(years(2), ["a"])[0]
    assert one.years[3].design_effect == two.years[3].design_effect == 300.0
    assert one.direction == two.direction == NO_CLEAR_TREND
    # With a third report, the year's own spread is estimated (Rao-Scott), as before.
    assert trends(years(3), ["a"])[0].years[3].design_effect == 1.0  # the three are alike


def test_too_few_years():
    two = by_year({2019: (1, 10), 2020: (9, 10)})
    (trend,) = trends(two, ["a"])
    assert trend.direction == TOO_FEW_YEARS
    assert (trend.z, trend.p, trend.p_adjusted) == (None, None, None)
    assert trend.slope == pytest.approx(0.8)
    assert trends(two, ["a"], min_years=2)[0].direction == EMERGING
    (one,) = trends(by_year({2020: (3, 10)}), ["a"])
    assert one.direction == TOO_FEW_YEARS and one.slope is None and len(one.years) == 1
    (none,) = trends([], ["a"])
    assert none.years == () and none.direction == TOO_FEW_YEARS


@pytest.mark.parametrize(
    ("options", "named"),
    [({"min_years": 1}, "min_years"), ({"alpha": 0}, "alpha"), ({"alpha": 5}, "alpha")],
)
def test_trend_refuses_bad_settings(options, named):
    with pytest.raises(AnalysisError, match=named):
        trends([], ["a"], **options)


# Co-occurrence ------------------------------------------------------------------------------


def test_co_occurrence_by_hand():
    rows = [
        row(1, "a b"),
        row(2, "a b c"),
        row(3, "a"),
        row(4, "b c"),
        row(5, "c"),
        row(6, ""),
        row(7, "a b"),
        row(8, "other"),
    ]
    found = co_occurrence(rows, ["a", "b", "c", "d"], min_count=2)
    assert found.statements == 8
    assert found.totals == {"a": 4, "b": 4, "c": 3, "d": 0}
    assert [(p.a, p.b) for p in found.pairs] == [
        ("a", "b"),
        ("a", "c"),
        ("a", "d"),
        ("b", "c"),
        ("b", "d"),
        ("c", "d"),
    ]
    ab = found.pair("b", "a")
    assert (ab.count, ab.statement_ids) == (3, (1, 2, 7))
    assert ab.expected == pytest.approx(4 * 4 / 8)
    assert ab.lift == pytest.approx(3 / 2)
    assert ab.jaccard == pytest.approx(3 / 5)  # both 3, either 4 + 4 - 3
    # Fisher, one-sided: P(X >= 3) for X hypergeometric, 8 statements, 4 coded a, 4 coded b:
    # [C(4,3) C(4,1) + C(4,4) C(4,0)] / C(8,4) = 17 / 70.
    assert ab.p == pytest.approx(17 / 70)
    assert ab.p == pytest.approx(fisher_exact([[3, 1], [1, 3]], alternative="greater").pvalue)
    bc = found.pair("b", "c")
    assert (bc.count, bc.statement_ids) == (2, (2, 4))
    assert bc.p == pytest.approx(fisher_exact([[2, 2], [1, 3]], alternative="greater").pvalue)
    # Coded together once, but each theme often enough to test: tested, whatever the count
    # (choosing the pairs by their count would bias the adjustment).
    ac = found.pair("a", "c")
    assert ac.count == 1 and not ac.significant
    assert ac.p == pytest.approx(fisher_exact([[1, 3], [2, 2]], alternative="greater").pvalue)
    assert ac.jaccard == pytest.approx(1 / 6) and ac.lift == pytest.approx(1 / (12 / 8))
    # A theme nobody coded: no lift (nothing expected), Jaccard 0, not tested.
    ad = found.pair("a", "d")
    assert (ad.count, ad.lift, ad.jaccard, ad.p) == (0, None, 0.0, None)
    # BH over the three pairs tested.
    assert [ab.p_adjusted, ac.p_adjusted, bc.p_adjusted] == pytest.approx(
        benjamini_hochberg([ab.p, ac.p, bc.p])
    )
    # A theme under min_count statements: its pairs are not tested.
    rare = co_occurrence(rows, ["a", "b", "c"], min_count=4)
    assert rare.pair("a", "b").p is not None and rare.pair("a", "c").p is None
    with pytest.raises(KeyError):
        found.pair("a", "zz")
    with pytest.raises(KeyError):
        found.pair("a", "a")


def test_co_occurrence_exact_p_value_of_a_perfect_pair():
    # Six statements, three coded to both a and b, three to neither: P(X >= 3) = 1 / C(6, 3).
    rows = [row(i, "a b") for i in range(3)] + [row(i, "") for i in range(3, 6)]
    pair = co_occurrence(rows, ["a", "b"]).pair("a", "b")
    assert pair.p == pytest.approx(1 / 20)
    assert pair.p_adjusted == pair.p  # the one pair tested
    assert co_occurrence(rows, ["a", "b"], alpha=0.04).pair("a", "b").significant is False
    assert co_occurrence(rows, ["a", "b"], alpha=0.06).pair("a", "b").significant is True


def test_co_occurrence_finds_a_strong_pair_and_not_an_independent_one():
    rows = []
    for _ in range(20):
        rows.append(row(len(rows) + 1, "a b"))
    for _ in range(20):
        rows.append(row(len(rows) + 1, "c"))
    for _ in range(20):
        rows.append(row(len(rows) + 1, ""))
    # a and b always together; c never with either: less often than chance, not more.
    found = co_occurrence(rows, ["a", "b", "c"])
    assert found.pair("a", "b").significant is True
    assert found.pair("a", "b").lift == pytest.approx(3.0)
    assert found.pair("a", "c").significant is False and found.pair("a", "c").count == 0


def test_co_occurrence_of_nothing():
    found = co_occurrence([], ["a", "b"])
    assert found.statements == 0 and found.totals == {"a": 0, "b": 0}
    (pair,) = found.pairs
    assert (pair.count, pair.expected, pair.lift, pair.jaccard, pair.significant) == (
        0,
        0.0,
        None,
        0.0,
        False,
    )
    with pytest.raises(AnalysisError, match="min_count"):
        co_occurrence([], ["a"], min_count=0)


def test_co_occurrence_counts_agree_with_brute_force():
    rng = random.Random(11)
    themes = ["a", "b", "c", "d", "e"]
    rows = [row(i, " ".join(rng.sample(themes, rng.randint(0, 3)))) for i in range(60)]
    found = co_occurrence(rows, themes)
    for a, b in itertools.combinations(themes, 2):
        ids = tuple(r.statement_id for r in rows if {a, b} <= r.themes)
        pair = found.pair(a, b)
        assert pair.statement_ids == ids
        if pair.p is not None:
            n_a, n_b = found.totals[a], found.totals[b]
            table = [[len(ids), n_a - len(ids)], [n_b - len(ids), 60 - n_a - n_b + len(ids)]]
            assert pair.p == pytest.approx(fisher_exact(table, alternative="greater").pvalue)


def test_association_design_effect_agrees_with_the_sandwich_worked_statement_by_statement():
    rng = random.Random(3)
    for _ in range(30):
        rows = []
        for j in range(rng.randint(3, 9)):
            lean = rng.random()
            for _ in range(rng.randint(1, 10)):
                themes = [t for t in ("a", "b") if rng.random() < lean]
                rows.append(row(len(rows) + 1, " ".join(themes), report=f"r{j}"))
        big_n = len(rows)
        n_a = sum("a" in r.themes for r in rows)
        n_b = sum("b" in r.themes for r in rows)
        null = n_a * n_b * (big_n - n_a) * (big_n - n_b) / (big_n**2 * (big_n - 1))
        if not null or big_n == len({r.report for r in rows}):
            continue
        p_a, p_b = n_a / big_n, n_b / big_n
        parts: dict[str, float] = {}
        for r in rows:  # each statement's part of U, summed by report
            u = (("a" in r.themes) - p_a) * (("b" in r.themes) - p_b)
            parts[r.report] = parts.get(r.report, 0.0) + u
        k = len(parts)
        mean = sum(parts.values()) / k
        robust = k / (k - 1) * sum((u - mean) ** 2 for u in parts.values())
        names = sorted(parts)
        got = association_design_effect(
            [sum(r.report == n for r in rows) for n in names],
            [sum(r.report == n and "a" in r.themes for r in rows) for n in names],
            [sum(r.report == n and "b" in r.themes for r in rows) for n in names],
            [sum(r.report == n and {"a", "b"} <= r.themes for r in rows) for n in names],
        )
        assert got == pytest.approx(max(1.0, robust / null))


def test_association_design_effect_special_cases():
    # Every report of one statement: nothing to be alike.
    assert association_design_effect([1, 1, 1, 1], [1, 0, 1, 0], [1, 1, 0, 0], [1, 0, 0, 0]) == 1
    # Two reports: each counts as one observation, N / k.
    assert association_design_effect([6, 4], [3, 1], [2, 2], [1, 1]) == 5.0
    # Neither property varies: no variance to compare with.
    assert association_design_effect([2, 2, 2], [0, 0, 0], [1, 2, 0], [0, 0, 0]) == 1.0
    assert association_design_effect([], [], [], []) == 1.0


def test_clustered_p_is_fisher_without_clustering_and_never_below_it():
    table = [[30, 20], [25, 125]]
    for alternative in ("greater", "two-sided"):
        exact = fisher_exact(table, alternative=alternative).pvalue
        assert clustered_p(table, 1.0, alternative) == pytest.approx(exact)
        # U = 30 - 50 * 55 / 200 = 16.25; V0 = 50 * 55 * 150 * 145 / (200^2 * 199).
        null = 50 * 55 * 150 * 145 / (200**2 * 199)
        z = 16.25 / math.sqrt(6 * null)
        normal = norm.sf(z) if alternative == "greater" else 2 * norm.sf(z)
        assert clustered_p(table, 6.0, alternative) == pytest.approx(max(exact, normal))
        assert clustered_p(table, 6.0, alternative) > 100 * exact
        assert clustered_p(table, 1.01, alternative) >= exact


def pairing(spread: bool) -> list[CodedRow]:
    """Forty statements coded to a and b together, in one report or in forty, among thirty
    reports of ten statements in which a and b are coded independently."""
    rows = []
    for j in range(30):
        for i in range(10):
            themes = ("a" if i in (0, 1) else "") + (" b" if i in (1, 5, 6, 7) else "")
            rows.append(row(len(rows) + 1, themes, report=f"r{j}"))
    for i in range(40):
        rows.append(row(len(rows) + 1, "a b", report=f"s{i}" if spread else "one"))
    return rows


def test_a_pairing_one_report_repeats_is_not_taken_for_a_pattern():
    lumped = co_occurrence(pairing(spread=False), ["a", "b"]).pair("a", "b")
    spread = co_occurrence(pairing(spread=True), ["a", "b"]).pair("a", "b")
    plain = co_occurrence(pairing(spread=False), ["a", "b"], clustered=False).pair("a", "b")
    assert lumped.count == spread.count == plain.count == 70
    assert plain.significant and plain.design_effect == 1.0
    assert spread.significant
    assert lumped.design_effect > 10 and not lumped.significant
    assert lumped.p > 0.05 > 1e-6 > plain.p


def test_a_theme_one_report_praises_throughout_does_not_lean_to_strengths():
    rows = []
    for j in range(20):  # twenty reports, half of whose strengths and weaknesses are on risk
        for i in range(2):
            rows.append(row(len(rows) + 1, "risk" if i else "", report=f"r{j}", kind="strength"))
        for i in range(4):
            rows.append(row(len(rows) + 1, "risk" if i % 2 else "", report=f"r{j}"))
    for _ in range(30):  # and one report that praises risk work thirty times
        rows.append(row(len(rows) + 1, "risk", report="keen", kind="strength"))
    (clustered,) = kind_contrast(rows, ["risk"])
    (plain,) = kind_contrast(rows, ["risk"], clustered=False)
    assert plain.leaning == "strengths" and plain.design_effect == 1.0
    assert clustered.design_effect > 3 and clustered.leaning == ""
    assert plain.p_adjusted < 0.05 < clustered.p_adjusted
    assert clustered.strengths_share == plain.strengths_share
    assert clustered.strengths_high - clustered.strengths_low > (
        plain.strengths_high - plain.strengths_low
    )


# Strengths against weaknesses ---------------------------------------------------------------


def test_kind_contrast_by_hand():
    rows = [
        row(1, "a", kind="strength"),
        row(2, "b", kind="promising_practice"),
        row(3, "b", kind="good_practice"),
        row(4, "a", kind="area_for_improvement"),
        row(5, "a", kind="cause_of_concern"),
        row(6, "a b", kind="recommendation"),
        row(7, "", kind="recommendation"),
        row(8, "a", kind="finding"),  # neither a strength nor a weakness
    ]
    a, b, c = kind_contrast(rows, ["a", "b", "c"])
    assert (a.strengths, a.strengths_total, a.strength_ids) == (1, 3, (1,))
    assert (a.weaknesses, a.weaknesses_total, a.weakness_ids) == (3, 4, (4, 5, 6))
    assert a.strengths_share == pytest.approx(1 / 3)
    assert a.weaknesses_share == pytest.approx(3 / 4)
    assert (a.strengths_low, a.strengths_high) == wilson_interval(1, 3)
    assert (a.weaknesses_low, a.weaknesses_high) == wilson_interval(3, 4)
    assert a.weakness_fraction == pytest.approx(3 / 4)
    assert a.p == pytest.approx(fisher_exact([[1, 2], [3, 1]]).pvalue)
    assert (b.strengths, b.weaknesses, b.weakness_fraction) == (2, 1, pytest.approx(1 / 3))
    assert (c.strengths, c.weaknesses, c.p, c.weakness_fraction, c.leaning) == (
        0,
        0,
        None,
        None,
        "",
    )
    assert [a.p_adjusted, b.p_adjusted] == pytest.approx(benjamini_hochberg([a.p, b.p]))
    assert a.leaning == "" and b.leaning == ""  # too few to tell


def test_kind_contrast_says_which_way_a_theme_leans():
    rows = [row(i, "risk" if i < 25 else "", kind="area_for_improvement") for i in range(40)]
    rows += [row(100 + i, "risk" if i < 2 else "praise", kind="strength") for i in range(40)]
    risk, praise = kind_contrast(rows, ["risk", "praise"])
    assert risk.leaning == "weaknesses" and risk.p_adjusted < 0.05
    assert praise.leaning == "strengths"


def test_kind_contrast_without_strengths_has_no_share():
    (a,) = kind_contrast([row(1, "a"), row(2, "")], ["a"])
    assert (a.strengths_total, a.strengths_share, a.strengths_low, a.strengths_high) == (
        0,
        None,
        None,
        None,
    )
    assert a.weaknesses_share == 0.5 and a.p is None and a.leaning == ""
    assert kind_contrast([], ["a"])[0].weaknesses_share is None


# Charts -------------------------------------------------------------------------------------


def parsed(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 - the chart this test just drew


def accessible(root: ET.Element) -> tuple[str, str]:
    """The chart's title and description, checked to be what aria-labelledby points at."""
    assert root.get("role") == "img"
    assert re.fullmatch(r"0 0 \d+ \d+", root.get("viewBox", ""))
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title is not None and desc is not None
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    assert root.get("aria-hidden") is None
    return title.text or "", desc.text or ""


def texts(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter(f"{SVG}text")]


def test_bar_chart_is_accessible_and_carries_its_figures_in_text():
    svg = bar_chart_svg(
        [
            ("Leadership and governance", 0.34, 0.28, 0.41),
            ("Voice of the child", 0.004, 0.0, 0.02),
            ("Custody", 0.0, 0.0, 0.05),
        ],
        title="Share of statements coded to each theme",
    )
    root = parsed(svg)
    title, desc = accessible(root)
    assert title == "Share of statements coded to each theme"
    assert "3 bars" in desc and "Leadership and governance at 34%" in desc and "table" in desc
    written = texts(root)
    for label in ("Leadership and governance", "Voice of the child", "Custody"):
        assert label in written
    assert {"34%", "under 1%", "0%"} <= set(written)
    # The key explains bar and whisker in words, not by colour.
    assert "Bar: share" in written and "Line: 95% interval" in written
    bars = [r for r in root.iter(f"{SVG}rect") if r.get("height") == "20"]
    assert len(bars) == 2  # a bar of nought draws nothing
    assert float(bars[0].get("width")) > float(bars[1].get("width"))
    assert root.get("class", "").startswith("app-report-chart")


def test_rare_themes_axes_name_each_tick_and_halves_round_up():
    # A highest share of 1.2%: ticks of 0.4 points, each written apart.
    written = texts(parsed(bar_chart_svg([("Rare", 0.012, None, None)], title="t")))
    assert [t for t in written if re.fullmatch(r"\d+\.\d%", t)] == [
        "0.0%",
        "0.4%",
        "0.8%",
        "1.2%",
        "1.6%",
        "2.0%",
    ]
    # 0.4%: the top tick is 0.5%, not "0%".
    line = texts(parsed(line_chart_svg([(2019, 0.001), (2020, 0.004)], title="t")))
    assert "0.5%" in line and "0.1%" in line
    # Ticks of whole points stay whole.
    assert "20%" in texts(parsed(bar_chart_svg([("a", 0.17, None, None)], title="t")))
    # A half per cent is 1%, not rounded to the even 0.
    assert whole_percent(0.005) == "1%" and whole_percent(0.125) == "13%"
    assert whole_percent(0.0) == "0%" and whole_percent(1.0) == "100%"


def test_bar_lengths_are_proportional():
    root = parsed(bar_chart_svg([("a", 0.2, None, None), ("b", 0.1, None, None)], title="t"))
    widths = [float(r.get("width")) for r in root.iter(f"{SVG}rect") if r.get("height") == "20"]
    assert widths[0] == pytest.approx(2 * widths[1], abs=0.1)
    assert "Line: 95% interval" not in texts(root)  # no intervals, no whisker in the key


def test_chart_text_is_escaped():
    nasty = 'Risk <script>alert("x")</script> & more'
    svg = bar_chart_svg([(nasty, 0.5, 0.4, 0.6)], title=nasty)
    assert "<script>" not in svg
    root = parsed(svg)
    assert accessible(root)[0] == nasty
    assert any(t.startswith("Risk <script>") for t in texts(root))
    line = line_chart_svg([(2019, 0.1), (2020, 0.2)], title=nasty)
    assert "<script>" not in line and accessible(parsed(line))[0] == nasty


def test_bar_chart_other_units_and_long_labels():
    root = parsed(
        bar_chart_svg(
            [("A theme with a very long name that goes on and on", 12, 10, 15)],
            title="Statements",
            unit=" statements",
        )
    )
    written = texts(root)
    assert "12 statements" in written
    # A long label on two lines, broken between words; shortened only past two lines.
    assert "A theme with a very long name that" in written
    assert [t.text for t in root.iter(f"{SVG}tspan")] == ["goes on and on"]
    longer = parsed(
        bar_chart_svg(
            [("Multi-agency working and information sharing between every agency", 3, 2, 4)],
            title="Statements",
            unit=" statements",
        )
    )
    second = [t.text for t in longer.iter(f"{SVG}tspan")]
    assert "Multi-agency working and" in texts(longer)
    assert len(second) == 1 and second[0].endswith("…") and len(second[0]) == 34


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ([("a", 0.5, 0.6, 0.7)], r"item 1 \(a\): the value must lie between"),
        ([("a", -0.1, None, None)], "item 1 \\(a\\): value"),
        ([("a", 1.5, None, None)], "proportions"),
        ([("a", 0.5, 0.4, None)], "both low and high"),
        ([("a", 0.5)], "item 1"),
        ([("a", math.nan, None, None)], "not a number"),
    ],
)
def test_bar_chart_refuses_bad_items(items, message):
    with pytest.raises(AnalysisError, match=message):
        bar_chart_svg(items, title="t")


def test_empty_charts_and_titles():
    assert bar_chart_svg([], title="t") == ""
    assert line_chart_svg([], title="t") == ""
    with pytest.raises(AnalysisError, match="title"):
        bar_chart_svg([("a", 0.1, None, None)], title=" ")
    with pytest.raises(AnalysisError, match="chart_id"):
        bar_chart_svg([("a", 0.1, None, None)], title="t", chart_id="a b")


def test_chart_ids_differ_between_charts_and_can_be_chosen():
    one = parsed(line_chart_svg([(2019, 0.1), (2020, 0.2)], title="Leadership"))
    two = parsed(line_chart_svg([(2019, 0.1), (2020, 0.2)], title="Workforce"))
    assert one.find(f"{SVG}title").get("id") != two.find(f"{SVG}title").get("id")
    chosen = parsed(bar_chart_svg([("a", 0.1, None, None)], title="t", chart_id="overall"))
    assert chosen.get("aria-labelledby") == "overall-title overall-desc"


def test_line_chart_draws_each_year_in_order_with_its_value():
    svg = line_chart_svg(
        [(2020, 0.25), (2016, 0.12), (2017, 0.2), (2019, 0.15, 0.1, 0.22)],
        title="Leadership: share of statements by year",
    )
    root = parsed(svg)
    _, desc = accessible(root)
    assert "from 2016 to 2020" in desc and "12% in 2016" in desc and "25% in 2020" in desc
    written = texts(root)
    assert {"2016", "2017", "2019", "2020", "12%", "20%", "15%", "25%"} <= set(written)
    points = root.find(f"{SVG}polyline").get("points").split()
    xs = [float(p.split(",")[0]) for p in points]
    ys = [float(p.split(",")[1]) for p in points]
    assert xs == sorted(xs)
    # Spaced by year: the gap 2017-2019 is twice 2016-2017.
    assert xs[2] - xs[1] == pytest.approx(2 * (xs[1] - xs[0]), abs=0.2)
    # Higher shares sit higher (smaller y): 25% above 20% above 15% above 12%.
    assert ys[3] < ys[1] < ys[2] < ys[0]
    assert len(list(root.iter(f"{SVG}circle"))) == 4
    assert len(list(root.iter(f"{SVG}path"))) == 1  # the one interval given


def test_line_chart_of_one_year_and_of_many():
    one = parsed(line_chart_svg([(2020, 0.3)], title="t"))
    assert one.find(f"{SVG}polyline") is None and len(list(one.iter(f"{SVG}circle"))) == 1
    many = [(2000 + i, 0.01 * i) for i in range(20)]
    root = parsed(line_chart_svg(many, title="t"))
    values = [t for t in texts(root) if t.endswith("%") and t not in ("0%",)]
    # Twenty points: only the first, last and highest are written (the table has the rest).
    assert "19%" in values and "1%" not in values


@pytest.mark.parametrize(
    ("series", "message"),
    [
        ([(2019, 0.1), (2019, 0.2)], "a year is given twice"),
        ([("2019", 0.1)], "point 1"),
        ([(2019, 0.1, 0.2, 0.3)], r"point 1 \(2019\): the value"),
        ([(2019, 2.0)], "proportions"),
        ([(2019,)], "point 1"),
    ],
)
def test_line_chart_refuses_bad_points(series, message):
    with pytest.raises(AnalysisError, match=message):
        line_chart_svg(series, title="t")
