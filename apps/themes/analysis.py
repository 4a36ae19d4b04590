"""The statistics of the thematic analysis, as pure functions of coded statements: no database,
no models. The selectors turn the corpus into `CodedRow`s; the pages show what these return.

Every figure keeps the ids of the statements behind it, so a page can link each number to its
evidence.

- **Prevalence** (`prevalence`): the share of a group's statements coded to each theme, with
  its Wilson score interval (`wilson_interval`) for the effective sample.
- **Trends** (`trends`): each theme's share by year, the Cochran-Armitage test for a linear
  trend in those shares (`cochran_armitage`), adjusted for the statements of one report being
  alike (Rao and Scott, 1992), p-values adjusted for testing every theme (Benjamini-Hochberg,
  `benjamini_hochberg`), and the least-squares slope of the share a year.
- **Co-occurrence** (`co_occurrence`): for each pair of themes, the statements coded to both,
  Jaccard index, lift, and a test for co-occurring more often than chance (`clustered_p`).
- **Strengths against weaknesses** (`kind_contrast`): each theme's share of the strengths and
  of the areas for improvement, causes of concern and recommendations.
- **Charts** (`bar_chart_svg`, `line_chart_svg`): inline SVG with a title and a short
  description, drawn like the reports' charts (apps/reports/charts.py); the page shows the
  data table beside each chart.

Statements of one report are not independent: one report on online abuse contributes dozens of
statements to that theme in its year. Every interval and test allows for this, the reports
being the clusters: the intervals are those of the effective sample (`design_effects`, from
the correlation of a report's statements, `intraclass_correlation`), the trend test divides
each year's counts by its design effect (Rao and Scott, 1992), and the 2 x 2 tests of
co-occurrence and of strengths against weaknesses estimate their variance from the spread
between reports (`association_design_effect`, `clustered_p`). Each figure also says how many
reports it rests on, so a page can show where one report carries a figure.

Bad input (a row that is not what it claims, a theme listed twice, an unknown grouping, counts
that do not add up) raises `AnalysisError` naming the field or item.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape

import numpy as np
from django.utils.safestring import SafeString, mark_safe

from .archive import STAGES

CONFIDENCE = 0.95
ALPHA = 0.05
MIN_YEARS = 3
# A year with fewer reports than this has too few to estimate how alike a report's statements
# are (one or two degrees of freedom): each of its reports counts as one observation.
MIN_REPORTS_TO_ESTIMATE = 3
MIN_PAIR_COUNT = 3  # pairs coded together less often than this are not tested

GROUPINGS = ("force", "region", "programme_type", "year", "kind", "stage")
ALL = "All statements"
NOT_KNOWN = "Not known"
NATIONAL = "National or several forces"
# The findings vocabulary in the order reports use it (see DOMAIN.md); other kinds follow.
KIND_ORDER = (
    "strength",
    "promising_practice",
    "good_practice",
    "area_for_improvement",
    "cause_of_concern",
    "recommendation",
    "finding",
)
# The stages of the child's journey, then the topics, in the order the import names them.
STAGE_ORDER = tuple(name for name, _ in STAGES)
STRENGTH_KINDS = frozenset({"strength", "promising_practice", "good_practice"})
WEAKNESS_KINDS = frozenset({"area_for_improvement", "cause_of_concern", "recommendation"})

EMERGING = "emerging"
DECLINING = "declining"
NO_CLEAR_TREND = "no clear trend"
TOO_FEW_YEARS = "too few years"


class AnalysisError(ValueError):
    """Input the analysis cannot use: the message names the field, row or item."""


# The input ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CodedRow:
    """One statement of the corpus with its current themes and what it is grouped by.

    `report` identifies the report or inspection it comes from (statements of one report are
    alike: the trend test treats each report as a cluster); `force` is "" for a national or
    multi-force report; `year` is None if not known."""

    statement_id: int
    themes: frozenset[str]
    report: str
    force: str
    region: str
    programme_type: str
    year: int | None
    kind: str
    stage: str = ""  # the stage of the child's journey (or topic) in words; "" if not known

    def __post_init__(self) -> None:
        if not isinstance(self.statement_id, int) or isinstance(self.statement_id, bool):
            raise AnalysisError(f"statement_id: {self.statement_id!r} is not a whole number")
        where = f"statement {self.statement_id}"
        if not isinstance(self.themes, frozenset) or not all(
            isinstance(t, str) for t in self.themes
        ):
            raise AnalysisError(f"{where}: themes must be a frozenset of theme keys")
        for name in ("report", "force", "region", "programme_type", "kind", "stage"):
            if not isinstance(getattr(self, name), str):
                raise AnalysisError(f"{where}: {name} must be text ('' if none)")
        if self.year is not None and (
            not isinstance(self.year, int) or isinstance(self.year, bool)
        ):
            raise AnalysisError(f"{where}: year must be a whole number or None")


def _rows(rows: Iterable[CodedRow]) -> list[CodedRow]:
    out = list(rows)
    seen: set[int] = set()
    for row in out:
        if not isinstance(row, CodedRow):
            raise AnalysisError(f"rows: {row!r} is not a CodedRow")
        if row.statement_id in seen:
            raise AnalysisError(f"rows: statement {row.statement_id} is given twice")
        seen.add(row.statement_id)
    return out


def _themes(themes: Sequence[str]) -> list[str]:
    if isinstance(themes, str):
        raise AnalysisError("themes: expected a list of theme keys, not one string")
    out = list(themes)
    seen: set[str] = set()
    for theme in out:
        if not isinstance(theme, str) or not theme:
            raise AnalysisError(f"themes: {theme!r} is not a theme key")
        if theme in seen:
            raise AnalysisError(f"themes: {theme!r} is listed twice")
        seen.add(theme)
    return out


def _level(value: float, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1:
        raise AnalysisError(f"{name}: {value!r} must be a number between 0 and 1")
    return float(value)


# Groups -------------------------------------------------------------------------------------


def group_label(row: CodedRow, by: str) -> str:
    """The group `row` falls in when statements are grouped `by` one of GROUPINGS: the value
    itself (a year as "2019"; a programme type or kind as its code), or for a blank value
    NATIONAL (no force: a national or multi-force report) or NOT_KNOWN."""
    if by == "force":
        return row.force or NATIONAL
    if by == "region":
        return row.region or (NOT_KNOWN if row.force else NATIONAL)
    if by == "programme_type":
        return row.programme_type or NOT_KNOWN
    if by == "year":
        return str(row.year) if row.year is not None else NOT_KNOWN
    if by == "kind":
        return row.kind or NOT_KNOWN
    if by == "stage":
        return row.stage or NOT_KNOWN
    raise AnalysisError(f"by: {by!r} is not one of {', '.join(GROUPINGS)}")


def _group_key(by: str | None, label: str) -> tuple[int, float, str]:
    """Years ascending; kinds in the findings vocabulary's order; anything else by name; the
    blank groups (not known, national) last."""
    if label in (NOT_KNOWN, NATIONAL):
        return (2, 0.0, label)
    if by == "year":
        return (0, float(label), label)
    if by == "kind" and label in KIND_ORDER:
        return (0, float(KIND_ORDER.index(label)), label)
    if by == "stage" and label in STAGE_ORDER:
        return (0, float(STAGE_ORDER.index(label)), label)
    return (1, 0.0, label.casefold())


# Intervals and tests ------------------------------------------------------------------------


def _fisher(table: list[list[int]], alternative: str) -> float:
    from scipy.stats import fisher_exact

    return float(fisher_exact(table, alternative=alternative).pvalue)


def association_design_effect(
    sizes: Sequence[float] | np.ndarray,
    a: Sequence[float] | np.ndarray,
    b: Sequence[float] | np.ndarray,
    both: Sequence[float] | np.ndarray,
) -> float:
    """The design effect of the association of two yes-or-no properties of statements
    (coded to theme a, coded to theme b; or, a strength, coded to a theme) when statements
    come in reports: report j has `sizes[j]` statements, `a[j]` with the first property,
    `b[j]` with the second and `both[j]` with both.

    The 2 x 2 tests (`clustered_p`) rest on U = n_ab - n_a n_b / N, the count of both over
    what independence predicts. With independent statements its variance is the
    hypergeometric V0 = n_a n_b (N - n_a)(N - n_b) / (N^2 (N - 1)). With reports, U is the
    sum of each report's part,

        U_j = both_j - p_a b_j - p_b a_j + m_j p_a p_b,    p_a = n_a / N, p_b = n_b / N,

    and its variance is estimated from the spread of those parts between the k reports (the
    cluster-robust "sandwich" estimate, as in generalised estimating equations: Liang and
    Zeger, 1986, Biometrika 73: 13-22): V = k / (k - 1) sum_j (U_j - U / k)^2. The design
    effect is V / V0, never below 1. A report that repeats one pairing throughout makes V
    grow with the square of its length and V0 only with its length.

    With every report of one statement there is nothing to be alike (1). With fewer than
    MIN_REPORTS_TO_ESTIMATE reports the spread cannot be estimated, and each report counts
    as one observation (N / k), as in the trend test (`_design_effects`)."""
    m = np.asarray(sizes, dtype=float)
    x, y, xy = (np.asarray(v, dtype=float) for v in (a, b, both))
    k, big_n = len(m), float(m.sum())
    if not k or big_n == k:
        return 1.0
    if k < MIN_REPORTS_TO_ESTIMATE:
        return big_n / k
    n_a, n_b = float(x.sum()), float(y.sum())
    null = n_a * n_b * (big_n - n_a) * (big_n - n_b) / (big_n * big_n * (big_n - 1))
    if null <= 0:
        return 1.0
    p_a, p_b = n_a / big_n, n_b / big_n
    parts = xy - p_a * y - p_b * x + m * (p_a * p_b)
    robust = k / (k - 1) * float(((parts - parts.sum() / k) ** 2).sum())
    return max(1.0, robust / null)


def clustered_p(table: list[list[int]], design_effect: float, alternative: str) -> float:
    """The p-value of the 2 x 2 `table` [[n11, n12], [n21, n22]] for association
    ("greater": n11 above what independence predicts; "two-sided": either way), allowing for
    statements of one report being alike.

    It is the larger of two: Fisher's exact test, which is exact for independent statements
    however few; and the normal test of U = n11 - r1 c1 / N with its variance multiplied by
    the `design_effect` (`association_design_effect`), z = U / sqrt(d V0), as Rao and Scott
    (1981, JASA 76: 221-230) divide the chi-squared statistic by a design effect. With d = 1
    it is Fisher's test. Taking the larger never claims more than either test would."""
    exact = _fisher(table, alternative)
    (n11, n12), (n21, n22) = table
    big_n = n11 + n12 + n21 + n22
    r1, c1 = n11 + n12, n11 + n21
    if design_effect <= 1 or big_n < 2:
        return exact
    null = r1 * c1 * (big_n - r1) * (big_n - c1) / (big_n * big_n * (big_n - 1))
    if null <= 0:
        return exact
    from scipy.stats import norm

    z = (n11 - r1 * c1 / big_n) / math.sqrt(design_effect * null)
    normal = float(norm.sf(z)) if alternative == "greater" else float(2 * norm.sf(abs(z)))
    return max(exact, min(1.0, normal))


def _z(confidence: float) -> float:
    from scipy.stats import norm  # here: scipy.stats costs 0.7 s at start-up (urls import this)

    return float(norm.ppf(1 - (1 - _level(confidence, "confidence")) / 2))


def wilson_interval(
    successes: int, n: int, confidence: float = CONFIDENCE, design_effect: float = 1.0
) -> tuple[float, float]:
    """The Wilson score interval for a proportion `successes` / `n` (Wilson, 1927):

        centre = (x + z^2 / 2) / (n + z^2)
        half   = z * sqrt(n) / (n + z^2) * sqrt(p(1 - p) + z^2 / (4n)),   p = x / n

    with z the normal quantile for `confidence`; the interval is [centre - half, centre +
    half], 0 exactly at x = 0 and 1 exactly at x = n. Unlike p +/- z sqrt(p(1-p)/n) it never
    leaves [0, 1] and does not collapse to a point at 0 or n (Newcombe, 1998).

    With a `design_effect` d above 1 (statements that are alike because they come from the
    same report: `design_effects`) the interval is the Wilson interval of the effective
    sample, x / d of n / d (Kish, 1965, Survey Sampling; the effective sample
    size of Korn and Graubard, 1998, "Confidence intervals for proportions with small
    expected number of positive counts estimated from survey data", Survey Methodology 24:
    193-201): the same share, a wider interval.

    n == 0 (no statements): nothing is known about the proportion, and the interval is the
    whole range, (0.0, 1.0). Pages should show no figure rather than this interval."""
    for name, value in (("successes", successes), ("n", n)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise AnalysisError(f"{name}: {value!r} must be a whole number from 0")
    if successes > n:
        raise AnalysisError(f"successes: {successes} is more than n ({n})")
    if (
        isinstance(design_effect, bool)
        or not isinstance(design_effect, int | float)
        or not math.isfinite(design_effect)
        or design_effect < 1
    ):
        raise AnalysisError(f"design_effect: {design_effect!r} must be a number from 1")
    z = _z(confidence)
    if n == 0:
        return (0.0, 1.0)
    p = successes / n
    x, n_eff = successes / design_effect, n / design_effect
    z2 = z * z
    centre = (x + z2 / 2) / (n_eff + z2)
    half = z * math.sqrt(n_eff) / (n_eff + z2) * math.sqrt(p * (1 - p) + z2 / (4 * n_eff))
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return (low, high)


def cochran_armitage(
    counts: Sequence[float], totals: Sequence[float], scores: Sequence[float]
) -> tuple[float, float] | None:
    """The Cochran-Armitage test for a linear trend in proportions (Cochran, 1954; Armitage,
    1955; Agresti, Categorical Data Analysis, 2nd ed., section 5.3.5): (z, two-sided p).

    Group i has x_i successes of n_i at score t_i; N = sum n_i and p = sum x_i / N. Then

        T      = sum t_i (x_i - n_i p)
        Var(T) = p (1 - p) [sum n_i t_i^2 - (sum n_i t_i)^2 / N]
        z      = T / sqrt(Var(T)),   p-value = 2 (1 - Phi(|z|))

    z > 0 when the proportion rises with the score. z^2 is the trend component of Pearson's
    chi-squared (R's prop.trend.test gives the same statistic; the linear-by-linear M^2 is
    z^2 (N - 1) / N). Counts and totals may be fractional (the Rao-Scott adjusted counts of
    `trends`). None when the test is undefined: no variation in the outcome (p is 0 or 1) or
    in the scores of the groups with statements."""
    if not len(counts) == len(totals) == len(scores):
        raise AnalysisError("counts, totals and scores must be the same length")
    for i, (x, n, t) in enumerate(zip(counts, totals, scores, strict=True)):
        if not all(math.isfinite(float(v)) for v in (x, n, t)):
            raise AnalysisError(f"group {i + 1}: counts, totals and scores must be finite")
        if n < 0 or x < 0 or x > n + 1e-9 * max(1.0, float(n)):
            raise AnalysisError(f"group {i + 1}: need 0 <= count ({x}) <= total ({n})")
    big_n = float(sum(totals))
    if big_n <= 0:
        return None
    p = float(sum(counts)) / big_n
    t_stat = sum(t * (x - n * p) for x, n, t in zip(counts, totals, scores, strict=True))
    spread = sum(n * t * t for n, t in zip(totals, scores, strict=True)) - (
        sum(n * t for n, t in zip(totals, scores, strict=True)) ** 2 / big_n
    )
    variance = p * (1 - p) * spread
    if variance <= 1e-12 * max(1.0, big_n):
        return None
    z = t_stat / math.sqrt(variance)
    from scipy.stats import norm

    return (float(z), float(2 * norm.sf(abs(z))))


def benjamini_hochberg(p_values: Sequence[float | None]) -> list[float | None]:
    """Benjamini-Hochberg adjusted p-values (1995), in the order given: with the m p-values
    ranked p_(1) <= ... <= p_(m),

        adjusted p_(i) = min over j >= i of min(1, m p_(j) / j)

    so rejecting every adjusted p <= alpha keeps the false discovery rate at alpha (R's
    p.adjust(method = "BH")). None (a test that could not be done) stays None and does not
    count in m."""
    given: list[tuple[float, int]] = []
    for i, p in enumerate(p_values):
        if p is None:
            continue
        if isinstance(p, bool) or not isinstance(p, int | float) or not 0 <= p <= 1:
            raise AnalysisError(f"p-value {i + 1}: {p!r} is not between 0 and 1")
        given.append((float(p), i))
    out: list[float | None] = [None] * len(p_values)
    m = len(given)
    running = 1.0
    for rank, (p, i) in reversed(list(enumerate(sorted(given), start=1))):
        running = min(running, p * m / rank)
        out[i] = running
    return out


# Statements of one report are alike ---------------------------------------------------------


@dataclass(frozen=True)
class Reports:
    """A group's statements by report: `sizes[j]` statements in report j, `coded[j]` how many
    of them are coded to each theme."""

    sizes: tuple[int, ...]
    coded: tuple[Counter[str], ...]

    @classmethod
    def of(cls, members: Iterable[CodedRow]) -> Reports:
        sizes: dict[str, int] = {}
        coded: dict[str, Counter[str]] = {}
        for row in members:
            sizes[row.report] = sizes.get(row.report, 0) + 1
            coded.setdefault(row.report, Counter()).update(row.themes)
        return cls(tuple(sizes.values()), tuple(coded[r] for r in sizes))

    @property
    def statements(self) -> int:
        return sum(self.sizes)

    @property
    def weighted_size(self) -> float:
        """The statements of the report a statement comes from, on average over the
        statements: sum m_j^2 / sum m_j (Kish's cluster size for unequal clusters)."""
        n = self.statements
        return sum(m * m for m in self.sizes) / n if n else 1.0


def intraclass_correlation(groups: Sequence[Reports], theme: str) -> float | None:
    """How alike the statements of one report are in being coded to `theme` (rho: 0, no more
    than statements chosen at random; 1, a report's statements are all coded to it or none
    are), estimated by moments from the spread between the reports of each group, pooled
    over the groups so that a group of one or two reports borrows from the others.

    Report j of a group, with m_j statements of which y_j are coded, has variance
    m_j p (1 - p) (1 + (m_j - 1) rho) about m_j p when statements of one report have
    correlation rho (the common correlation model of Rao and Scott, 1992, Biometrics 48:
    577-585, and Kish, 1965). So in a group with k reports, n statements and share p,

        k / (k - 1) * sum_j (y_j - m_j p)^2 / (p (1 - p))   estimates   n + rho sum_j m_j (m_j - 1)

    and rho is the excess over n summed over the groups, over sum m_j (m_j - 1) summed over
    them, kept within [0, 1]. A group counts when it has two reports or more and a share
    strictly between 0 and 1 (no spread to measure otherwise). None when the groups that
    count have fewer than MIN_REPORTS_TO_ESTIMATE - 1 degrees of freedom between them (too
    few reports to tell), or when every report of the groups that count has one statement:
    their spread says nothing of how alike the statements of a longer report are (a group
    whose reports all have one statement has design effect 1 whatever rho is)."""
    excess = 0.0
    pairs = 0
    freedom = 0
    for group in groups:
        k, n = len(group.sizes), group.statements
        x = sum(c[theme] for c in group.coded)
        if k < 2 or not 0 < x < n:
            continue
        p = x / n
        spread = sum((c[theme] - m * p) ** 2 for m, c in zip(group.sizes, group.coded, strict=True))
        excess += k / (k - 1) * spread / (p * (1 - p)) - n
        pairs += sum(m * (m - 1) for m in group.sizes)
        freedom += k - 1
    if freedom < MIN_REPORTS_TO_ESTIMATE - 1 or not pairs:
        return None
    return min(1.0, max(0.0, excess / pairs))


def design_effects(
    groups: Sequence[Reports], theme: str, together: Reports | None = None
) -> list[float]:
    """Each group's design effect for `theme`: how many times the variance of its share is
    that of independent statements, d = 1 + (m - 1) rho, with m the group's
    `Reports.weighted_size` and rho the `intraclass_correlation` of the theme over the groups.
    When the groups cannot tell rho (each has one report, say: a force with one inspection),
    it is estimated from all the statements `together` (the groups' statements by report),
    which also counts differences between the groups as reports being alike (so errs wide);
    when that cannot tell either (or `together` is not given),
    rho is 1: each report counts as one observation (d = m). A group whose reports have one
    statement each has d = 1, as if independent."""
    rho = intraclass_correlation(groups, theme)
    if rho is None and together is not None:
        rho = intraclass_correlation([together], theme)
    if rho is None:
        rho = 1.0
    return [1.0 + (g.weighted_size - 1.0) * rho for g in groups]


# Prevalence ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PrevalenceCell:
    """Statements of one group coded to one theme: `count` of the group's `total`, their
    `share` with its Wilson interval [`low`, `high`], the statements behind `count`, how
    many distinct reports they come from (`reports`, of the group's `group_reports`), and
    the design effect the interval allows for (1.0: as if independent)."""

    theme: str
    group: str
    count: int
    total: int
    share: float
    low: float
    high: float
    statement_ids: tuple[int, ...]
    reports: int
    group_reports: int
    design_effect: float


def prevalence(
    rows: Iterable[CodedRow],
    themes: Sequence[str],
    by: str | None = None,
    *,
    confidence: float = CONFIDENCE,
    clustered: bool = True,
) -> list[PrevalenceCell]:
    """For each group of the statements by `by` (one of GROUPINGS; None: one group, ALL) and
    each of `themes` in the order given: the statements coded to the theme, out of all the
    group's statements. Groups as `group_label` names them, ordered by `_group_key`; a group
    appears only if it has statements. A theme nobody coded has count 0.

    With `clustered` (the default) each interval allows for the statements of one report
    being alike: it is the Wilson interval of the effective sample (`wilson_interval` with
    the cell's `design_effects`, the reports being the clusters). Without, the statements
    are taken as independent (design effect 1)."""
    rows, themes = _rows(rows), _themes(themes)
    if by is not None and by not in GROUPINGS:
        raise AnalysisError(f"by: {by!r} is not one of {', '.join(GROUPINGS)}")
    _z(confidence)
    groups: dict[str, list[CodedRow]] = {}
    for row in rows:
        groups.setdefault(group_label(row, by) if by else ALL, []).append(row)
    ordered = sorted(groups, key=lambda g: _group_key(by, g))
    reports = [Reports.of(groups[g]) for g in ordered]
    together = Reports.of(rows) if len(ordered) > 1 else None
    effects = {
        theme: (design_effects(reports, theme, together) if clustered else [1.0] * len(ordered))
        for theme in themes
    }
    out: list[PrevalenceCell] = []
    for place, group in enumerate(ordered):
        members = groups[group]
        ids: dict[str, list[int]] = {t: [] for t in themes}
        coded_in: dict[str, set[str]] = {t: set() for t in themes}
        for row in members:
            for theme in row.themes:
                if theme in ids:
                    ids[theme].append(row.statement_id)
                    coded_in[theme].add(row.report)
        total = len(members)
        group_reports = len({r.report for r in members})
        for theme in themes:
            count = len(ids[theme])
            effect = effects[theme][place]
            low, high = wilson_interval(count, total, confidence, effect)
            out.append(
                PrevalenceCell(
                    theme=theme,
                    group=group,
                    count=count,
                    total=total,
                    share=count / total,
                    low=low,
                    high=high,
                    statement_ids=tuple(sorted(ids[theme])),
                    reports=len(coded_in[theme]),
                    group_reports=group_reports,
                    design_effect=effect,
                )
            )
    return out


# Trends -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class YearCount:
    """One theme in one year: `count` of the year's `total` statements, the share with its
    Wilson interval, the statements behind `count`, the reports the year's statements come
    from, and the design effect the trend test used for the year (1.0: as if independent),
    which the interval allows for too."""

    year: int
    count: int
    total: int
    share: float
    low: float
    high: float
    statement_ids: tuple[int, ...]
    reports: int
    design_effect: float


@dataclass(frozen=True)
class Trend:
    """One theme over the years: its `years` (those with statements, ascending), the trend
    test's `z` and two-sided `p` (None if not done), `p_adjusted` across the themes
    (Benjamini-Hochberg), `direction` (EMERGING, DECLINING, NO_CLEAR_TREND or TOO_FEW_YEARS)
    and `slope`: the change of the share a year (0.01 is one percentage point a year), None
    with fewer than two years."""

    theme: str
    years: tuple[YearCount, ...]
    z: float | None
    p: float | None
    p_adjusted: float | None
    direction: str
    slope: float | None


def _design_effects(
    by_year: dict[int, list[CodedRow]], theme: str, clustered: bool
) -> dict[int, float]:
    """Each year's design effect for `theme` (Rao and Scott, 1992, "A simple method for the
    analysis of clustered binary data", Biometrics 48: 577-585), the reports being the
    clusters. In year i with k reports, n statements of which x are coded to the theme,
    p = x / n, and report j having y_j of its m_j statements coded:

        v_i = k / (k - 1) * sum_j (y_j - m_j p)^2 / n^2     (the variance of p)
        d_i = n v_i / (p (1 - p))                            (over the binomial variance)

    A year with fewer than MIN_REPORTS_TO_ESTIMATE reports has too few to estimate v from
    (with two, one degree of freedom: its estimate can be near 0 by chance, and two reports
    would outweigh dozens): each of its reports counts as one observation (d = n / k; with
    one report, d = n). A year where the theme's share is 0 or 1 has no spread to estimate
    from and takes the pooled design effect of the other years (their d weighted by n; 1 if
    none). A design effect is never below 1: statements of one report are not taken as more
    informative than independent ones."""
    if not clustered:
        return dict.fromkeys(by_year, 1.0)
    found: dict[int, float] = {}
    estimated: list[int] = []
    pending: list[int] = []
    for year, members in by_year.items():
        n = len(members)
        clusters: dict[str, list[int]] = {}
        for row in members:
            cell = clusters.setdefault(row.report, [0, 0])
            cell[0] += theme in row.themes
            cell[1] += 1
        x = sum(y for y, _ in clusters.values())
        k = len(clusters)
        if k < MIN_REPORTS_TO_ESTIMATE:
            found[year] = n / k
        elif 0 < x < n:
            p = x / n
            residuals = sum((y - m * p) ** 2 for y, m in clusters.values())
            v = k / (k - 1) * residuals / (n * n)
            found[year] = n * v / (p * (1 - p))
            estimated.append(year)
        else:
            pending.append(year)
    weight = sum(len(by_year[y]) for y in estimated)
    pooled = sum(found[y] * len(by_year[y]) for y in estimated) / weight if weight else 1.0
    for year in pending:
        found[year] = pooled
    return {year: max(1.0, d) for year, d in found.items()}


def _slope(years: Sequence[YearCount]) -> float | None:
    """Least squares of the share on the year, each year weighted as the trend test weighs
    it, by its statements over its design effect (w_i = n_i / d_i):
    sum w_i (t_i - t)(f_i - f) / sum w_i (t_i - t)^2 with t, f the weighted means. With the
    same weights, the slope has the sign of the test's z: a theme called emerging never
    shows a falling share."""
    if len(years) < 2:
        return None
    weights = [y.total / y.design_effect for y in years]
    big_w = sum(weights)
    t_mean = sum(w * y.year for w, y in zip(weights, years, strict=True)) / big_w
    f_mean = sum(w * y.share for w, y in zip(weights, years, strict=True)) / big_w
    spread = sum(w * (y.year - t_mean) ** 2 for w, y in zip(weights, years, strict=True))
    return (
        sum(w * (y.year - t_mean) * (y.share - f_mean) for w, y in zip(weights, years, strict=True))
        / spread
    )


def trends(
    rows: Iterable[CodedRow],
    themes: Sequence[str],
    *,
    min_years: int = MIN_YEARS,
    alpha: float = ALPHA,
    clustered: bool = True,
    confidence: float = CONFIDENCE,
) -> list[Trend]:
    """Each theme's share of the statements year by year, and whether it is rising or
    falling, in the order of `themes`. Statements with no year are left out.

    The test is the Cochran-Armitage test (`cochran_armitage`) with the years as scores.
    With `clustered` (the default) each year's counts are first divided by its design effect
    (`_design_effects`: Rao and Scott, 1992), so that a burst of statements from one report
    weighs as what it is, one report's view; with every statement from a different report
    the design effect is about 1 and the test is the textbook one. The themes' p-values are
    adjusted together (`benjamini_hochberg`); a theme is EMERGING (its share rises) or
    DECLINING (falls) if its adjusted p is at most `alpha`, NO_CLEAR_TREND otherwise or when
    the test cannot be done (nobody coded it, or every statement), and TOO_FEW_YEARS when
    fewer than `min_years` years have statements (no test then)."""
    rows, themes = _rows(rows), _themes(themes)
    if isinstance(min_years, bool) or not isinstance(min_years, int) or min_years < 2:
        raise AnalysisError(f"min_years: {min_years!r} must be a whole number from 2")
    alpha = _level(alpha, "alpha")
    _z(confidence)
    by_year: dict[int, list[CodedRow]] = {}
    for row in rows:
        if row.year is not None:
            by_year.setdefault(row.year, []).append(row)
    years = sorted(by_year)
    enough = len(years) >= min_years
    found: list[tuple[str, tuple[YearCount, ...], tuple[float, float] | None]] = []
    for theme in themes:
        effects = _design_effects(by_year, theme, clustered)
        cells: list[YearCount] = []
        for year in years:
            members = by_year[year]
            coded = [r for r in members if theme in r.themes]
            low, high = wilson_interval(len(coded), len(members), confidence, effects[year])
            cells.append(
                YearCount(
                    year=year,
                    count=len(coded),
                    total=len(members),
                    share=len(coded) / len(members),
                    low=low,
                    high=high,
                    statement_ids=tuple(sorted(r.statement_id for r in coded)),
                    reports=len({r.report for r in members}),
                    design_effect=effects[year],
                )
            )
        test = (
            cochran_armitage(
                [c.count / c.design_effect for c in cells],
                [c.total / c.design_effect for c in cells],
                [float(c.year) for c in cells],
            )
            if enough
            else None
        )
        found.append((theme, tuple(cells), test))
    adjusted = benjamini_hochberg([test[1] if test else None for _, _, test in found])
    out: list[Trend] = []
    for (theme, counted, test), p_adjusted in zip(found, adjusted, strict=True):
        if not enough:
            direction = TOO_FEW_YEARS
        elif test is not None and p_adjusted is not None and p_adjusted <= alpha:
            direction = EMERGING if test[0] > 0 else DECLINING
        else:
            direction = NO_CLEAR_TREND
        out.append(
            Trend(
                theme=theme,
                years=counted,
                z=test[0] if test else None,
                p=test[1] if test else None,
                p_adjusted=p_adjusted,
                direction=direction,
                slope=_slope(counted),
            )
        )
    return out


# Co-occurrence ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pair:
    """Two themes (`a` before `b` in the order given) and the statements coded to both.

    `expected` = n_a n_b / N is the count if the themes were independent; `lift` = count /
    expected (None if either theme has no statements); `jaccard` = count / (n_a + n_b -
    count) (0 if neither has any). `p` is Fisher's exact test, one-sided, for co-occurring
    more often than chance, done only for pairs of themes each coded to at least
    `min_count` statements (None otherwise), allowing for statements of one report being
    alike (`clustered_p`, with the pair's `design_effect`; None if not tested);
    `p_adjusted` is Benjamini-Hochberg over the pairs tested, and `significant` says it is
    at most alpha."""

    a: str
    b: str
    count: int
    statement_ids: tuple[int, ...]
    expected: float
    jaccard: float
    lift: float | None
    p: float | None
    p_adjusted: float | None
    significant: bool
    design_effect: float | None


@dataclass(frozen=True)
class CoOccurrence:
    """All pairs of themes, with each theme's `totals` among the `statements`."""

    statements: int
    totals: dict[str, int]
    pairs: tuple[Pair, ...]

    def pair(self, a: str, b: str) -> Pair:
        """The pair of `a` and `b`, in either order; KeyError if either is not a theme."""
        for found in self.pairs:
            if {found.a, found.b} == {a, b} and a != b:
                return found
        raise KeyError((a, b))


def co_occurrence(
    rows: Iterable[CodedRow],
    themes: Sequence[str],
    *,
    min_count: int = MIN_PAIR_COUNT,
    alpha: float = ALPHA,
    clustered: bool = True,
) -> CoOccurrence:
    """Every pair of `themes`, in their order (a before b), over all the statements (those
    coded to neither theme count in N too). The test is on the 2 x 2 table

        [[both, a not b], [b not a, neither]]

    with the alternative that the odds ratio is above 1, allowing with `clustered` (the
    default) for statements of one report being alike (`clustered_p`); without, it is
    Fisher's exact test, taking the statements as independent."""
    rows, themes = _rows(rows), _themes(themes)
    if isinstance(min_count, bool) or not isinstance(min_count, int) or min_count < 1:
        raise AnalysisError(f"min_count: {min_count!r} must be a whole number from 1")
    alpha = _level(alpha, "alpha")
    wanted = set(themes)
    position = {t: i for i, t in enumerate(themes)}
    totals = dict.fromkeys(themes, 0)
    both: dict[tuple[str, str], list[int]] = {}
    # Each report's statements, and how many are coded to each theme and to each pair.
    report_of: dict[str, int] = {}
    sizes: list[int] = []
    by_report: dict[str, dict[int, int]] = {t: {} for t in themes}
    pair_by_report: dict[tuple[str, str], dict[int, int]] = {}
    for row in rows:
        j = report_of.setdefault(row.report, len(report_of))
        if j == len(sizes):
            sizes.append(0)
        sizes[j] += 1
        coded = sorted((t for t in row.themes if t in wanted), key=position.__getitem__)
        for i, a in enumerate(coded):
            totals[a] += 1
            by_report[a][j] = by_report[a].get(j, 0) + 1
            for b in coded[i + 1 :]:
                both.setdefault((a, b), []).append(row.statement_id)
                cell = pair_by_report.setdefault((a, b), {})
                cell[j] = cell.get(j, 0) + 1
    big_n = len(rows)

    def per_report(counts: dict[int, int]) -> np.ndarray:
        out = np.zeros(len(sizes))
        if counts:
            out[list(counts)] = list(counts.values())
        return out

    theme_by_report = {t: per_report(by_report[t]) for t in themes}

    found: list[tuple[str, str, list[int], float | None, float | None]] = []
    for i, a in enumerate(themes):
        for b in themes[i + 1 :]:
            ids = both.get((a, b), [])
            p: float | None = None
            effect: float | None = None
            # Tested when each theme has min_count statements: a filter on the margins,
            # which Fisher's test holds fixed. A filter on the count tested (n_ab) would pick
            # the pairs by their outcome and bias the adjustment.
            if min(totals[a], totals[b]) >= min_count:
                n_ab, n_a, n_b = len(ids), totals[a], totals[b]
                table = [[n_ab, n_a - n_ab], [n_b - n_ab, big_n - n_a - n_b + n_ab]]
                effect = (
                    association_design_effect(
                        sizes,
                        theme_by_report[a],
                        theme_by_report[b],
                        per_report(pair_by_report.get((a, b), {})),
                    )
                    if clustered
                    else 1.0
                )
                p = clustered_p(table, effect, "greater")
            found.append((a, b, ids, p, effect))
    adjusted = benjamini_hochberg([p for *_, p, _ in found])
    pairs = []
    for (a, b, ids, p, effect), p_adjusted in zip(found, adjusted, strict=True):
        n_ab, n_a, n_b = len(ids), totals[a], totals[b]
        expected = n_a * n_b / big_n if big_n else 0.0
        union = n_a + n_b - n_ab
        pairs.append(
            Pair(
                a=a,
                b=b,
                count=n_ab,
                statement_ids=tuple(sorted(ids)),
                expected=expected,
                jaccard=n_ab / union if union else 0.0,
                lift=n_ab / expected if expected else None,
                p=p,
                p_adjusted=p_adjusted,
                significant=p_adjusted is not None and p_adjusted <= alpha,
                design_effect=effect,
            )
        )
    return CoOccurrence(statements=big_n, totals=totals, pairs=tuple(pairs))


# Strengths against weaknesses ---------------------------------------------------------------


@dataclass(frozen=True)
class KindContrast:
    """One theme's share of the strengths (strengths, promising and good practice) and of
    the weaknesses (areas for improvement, causes of concern, recommendations), each with its
    Wilson interval (None when there are no statements of that sort).

    `weakness_fraction` is the share of the theme's own strength and weakness statements that
    are weaknesses. `p` is the test (two-sided; `clustered_p`, with its `design_effect`) that
    the theme is as common among strengths as among weaknesses, `p_adjusted`
    Benjamini-Hochberg over the themes, and
    `leaning` says where it is relatively more common: "weaknesses", "strengths", or "" (no
    clear difference, or nothing to compare)."""

    theme: str
    strengths: int
    strengths_total: int
    strengths_share: float | None
    strengths_low: float | None
    strengths_high: float | None
    strength_ids: tuple[int, ...]
    weaknesses: int
    weaknesses_total: int
    weaknesses_share: float | None
    weaknesses_low: float | None
    weaknesses_high: float | None
    weakness_ids: tuple[int, ...]
    weakness_fraction: float | None
    p: float | None
    p_adjusted: float | None
    leaning: str
    design_effect: float | None


def _share(
    count: int, total: int, confidence: float, design_effect: float
) -> tuple[float | None, ...]:
    if not total:
        return (None, None, None)
    return (count / total, *wilson_interval(count, total, confidence, design_effect))


def kind_contrast(
    rows: Iterable[CodedRow],
    themes: Sequence[str],
    *,
    alpha: float = ALPHA,
    confidence: float = CONFIDENCE,
    clustered: bool = True,
) -> list[KindContrast]:
    """For each of `themes` in order: its share among the strengths against its share
    among the weaknesses. Statements of other kinds (e.g. "finding") are in neither.

    The test is on the 2 x 2 table [[strengths coded, strengths not], [weaknesses coded,
    weaknesses not]], two-sided. With `clustered` (the default) the test and the intervals
    allow for statements of one report being alike (`clustered_p` with the
    `association_design_effect` of being a strength and being coded; the intervals with
    each side's `design_effects`); without, the test is Fisher's exact test and the
    intervals take the statements as independent."""
    rows, themes = _rows(rows), _themes(themes)
    alpha = _level(alpha, "alpha")
    _z(confidence)
    strengths = [r for r in rows if r.kind in STRENGTH_KINDS]
    weaknesses = [r for r in rows if r.kind in WEAKNESS_KINDS]
    s_total, w_total = len(strengths), len(weaknesses)
    sides = [Reports.of(strengths), Reports.of(weaknesses)]
    together = Reports.of(strengths + weaknesses)
    strength_counts = Counter(r.report for r in strengths)
    sizes = list(together.sizes)
    # `together` lists the reports in the order they first appear among strengths, then
    # weaknesses: the same order as this.
    order = list(dict.fromkeys(r.report for r in strengths + weaknesses))
    found = []
    for theme in themes:
        s_ids = tuple(sorted(r.statement_id for r in strengths if theme in r.themes))
        w_ids = tuple(sorted(r.statement_id for r in weaknesses if theme in r.themes))
        s, w = len(s_ids), len(w_ids)
        p: float | None = None
        effect: float | None = None
        if s_total and w_total and s + w:
            table = [[s, s_total - s], [w, w_total - w]]
            effect = 1.0
            if clustered:
                strong = Counter(r.report for r in strengths if theme in r.themes)
                effect = association_design_effect(
                    sizes,
                    [strength_counts[r] for r in order],
                    [c[theme] for c in together.coded],
                    [strong[r] for r in order],
                )
            p = clustered_p(table, effect, "two-sided")
        found.append((theme, s_ids, w_ids, p, effect))
    adjusted = benjamini_hochberg([p for *_, p, _ in found])
    out = []
    for (theme, s_ids, w_ids, p, effect), p_adjusted in zip(found, adjusted, strict=True):
        s, w = len(s_ids), len(w_ids)
        s_effect, w_effect = design_effects(sides, theme, together) if clustered else [1.0, 1.0]
        s_share, s_low, s_high = _share(s, s_total, confidence, s_effect)
        w_share, w_low, w_high = _share(w, w_total, confidence, w_effect)
        leaning = ""
        if p_adjusted is not None and p_adjusted <= alpha:  # a test: both totals are known
            leaning = "weaknesses" if w * s_total > s * w_total else "strengths"
        out.append(
            KindContrast(
                theme=theme,
                strengths=s,
                strengths_total=s_total,
                strengths_share=s_share,
                strengths_low=s_low,
                strengths_high=s_high,
                strength_ids=s_ids,
                weaknesses=w,
                weaknesses_total=w_total,
                weaknesses_share=w_share,
                weaknesses_low=w_low,
                weaknesses_high=w_high,
                weakness_ids=w_ids,
                weakness_fraction=w / (s + w) if s + w else None,
                p=p,
                p_adjusted=p_adjusted,
                leaning=leaning,
                design_effect=effect,
            )
        )
    return out


# Charts -------------------------------------------------------------------------------------
# Drawn like apps/reports/charts.py: inline SVG with its own attributes (no style sheet, so the
# PDF carries it), Arial, near-black text, GOV.UK blue. Here the chart is announced as one image
# with a title and a short description, and the page's data table gives every figure.

TEXT = "#0b0c0c"
BAR = "#1d70b8"
GRID = "#b1b4b6"
FONT = 'font-family="Arial, Helvetica, sans-serif" font-size="13"'
WIDTH = 640
LABEL_WIDTH = 230
VALUE_WIDTH = 64
BAR_HEIGHT = 20
ROW_GAP = 10
LEGEND_HEIGHT = 26
AXIS_HEIGHT = 22
LABEL_CHARACTERS = 34


def whole_percent(share: float) -> str:
    """A proportion as a whole per cent, a half rounded up (0.005 is "1%", 0.125 "13%"):
    Python's own rounding takes a half to the even number."""
    return f"{math.floor(share * 100 + 0.5 + 1e-9):d}%"


def _figure(value: float, unit: str) -> str:
    """A value as the chart writes it: with unit "%", a proportion as a whole per cent
    ("under 1%" for one below a half per cent that is not nought)."""
    if unit == "%":
        if 0 < value < 0.005:
            return "under 1%"
        return whole_percent(value)
    text = f"{value:.1f}".removesuffix(".0") if value != int(value) else f"{int(value)}"
    return f"{text}{unit}"


def _tick_figure(tick: float, step: float, unit: str) -> str:
    """An axis tick as the chart writes it: a percentage with as many decimals as the step
    between ticks needs (0.4% steps: "0.8%"), so that no two ticks read alike."""
    if unit != "%":
        return _figure(tick, "")
    points = step * 100
    decimals = 0 if points >= 1 - 1e-9 else math.ceil(-math.log10(points) - 1e-9)
    return f"{tick * 100:.{decimals}f}%"


def _nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 x 10^k at or above `value` (1 for nothing)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if step * power >= value * (1 - 1e-12):
            return step * power
    return 10 * power


def _scale(highest: float, unit: str) -> tuple[float, list[float]]:
    """The axis maximum and its ticks (five steps)."""
    if unit == "%":
        top = min(1.0, _nice_ceiling(highest * 100) / 100) if highest > 0 else 0.1
    else:
        top = _nice_ceiling(highest) if highest > 0 else 1.0
    return top, [top * i / 5 for i in range(6)]


def _number(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise AnalysisError(f"{where}: {value!r} is not a number")
    if value < 0:
        raise AnalysisError(f"{where}: {value!r} is below 0 (bars start at 0)")
    return float(value)


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARACTERS else label[: LABEL_CHARACTERS - 1] + "…"


def _label_lines(label: str) -> list[str]:
    """A bar's label on one line, or on two broken between words ("Multi-agency working
    and" / "information sharing"), the second shortened with "…" only if still too long."""
    if len(label) <= LABEL_CHARACTERS:
        return [label]
    first, rest = "", label
    for word in label.split(" "):
        candidate = f"{first} {word}".strip()
        if len(candidate) > LABEL_CHARACTERS:
            break
        first = candidate
    if not first:  # one word longer than a line
        return [_short(label)]
    rest = label[len(first) :].strip()
    return [first, _short(rest)]


def _open(chart_id: str, width: int, height: int, title: str, desc: str) -> str:
    return (
        f'<svg class="app-report-chart app-theme-chart" xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        # Sized by the stylesheets (the site's .app-theme-chart; the PDF's .app-report-chart),
        # not an inline style: WeasyPrint takes an inline "height: auto" on the root <svg>
        # for no height, and lays the chart out in a square box with empty space above and
        # below it (tests/reports/test_pdf_layout.py).
        f'role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" {FONT}>'
        f'<title id="{chart_id}-title">{escape(title)}</title>'
        f'<desc id="{chart_id}-desc">{escape(desc)}</desc>'
    )


def _chart_id(kind: str, title: str, data: object, given: str | None) -> str:
    if given is not None:
        if not given or not all(c.isalnum() or c in "-_" for c in given):
            raise AnalysisError(f"chart_id: {given!r} must be letters, digits, - or _")
        return given
    return f"{kind}-" + hashlib.sha256(repr((title, data)).encode()).hexdigest()[:10]


def bar_chart_svg(
    items: Sequence[tuple[str, float, float | None, float | None]],
    *,
    title: str,
    unit: str = "%",
    interval_label: str = "95% interval",
    chart_id: str | None = None,
) -> SafeString:
    """Horizontal bars, one an item (label, value, low, high), each with its value written at
    its end and, if low and high are given, a whisker with end caps over the interval. With
    unit "%" values are proportions (0 to 1) written as per cents; otherwise as they are, the
    unit after them. Empty for no items. The SVG is one image (role "img") labelled by its
    title and a short description that points to the data table the page shows with it."""
    if not isinstance(title, str) or not title.strip():
        raise AnalysisError("title: a chart needs a title")
    checked: list[tuple[str, float, float | None, float | None]] = []
    for n, item in enumerate(items, 1):
        if not isinstance(item, tuple | list) or len(item) != 4:
            raise AnalysisError(f"item {n}: expected (label, value, low, high)")
        label, value, low, high = item
        where = f"item {n} ({label})"
        v = _number(value, f"{where}: value")
        if (low is None) != (high is None):
            raise AnalysisError(f"{where}: give both low and high, or neither")
        lo = hi = None
        if low is not None and high is not None:
            lo, hi = _number(low, f"{where}: low"), _number(high, f"{where}: high")
            if not lo - 1e-9 <= v <= hi + 1e-9:
                raise AnalysisError(f"{where}: the value must lie between low and high")
        if unit == "%" and max(v, hi or 0.0) > 1 + 1e-9:
            raise AnalysisError(f"{where}: with unit '%' values are proportions from 0 to 1")
        checked.append((str(label), v, lo, hi))
    if not checked:
        return mark_safe("")
    top, ticks = _scale(max(max(v, hi or 0.0) for _, v, _, hi in checked), unit)
    plot = WIDTH - LABEL_WIDTH - VALUE_WIDTH

    def x(value: float) -> float:
        return LABEL_WIDTH + plot * value / top

    has_intervals = any(lo is not None for _, _, lo, _ in checked)
    top_y = LEGEND_HEIGHT + AXIS_HEIGHT
    height = top_y + len(checked) * (BAR_HEIGHT + ROW_GAP) + 4
    highest = max(checked, key=lambda c: c[1])
    desc = (
        f"Bar chart of {len(checked)} bar{'s' if len(checked) != 1 else ''}, "
        f"the highest {highest[0]} at {_figure(highest[1], unit)}"
        + (f", each with its {interval_label}" if has_intervals else "")
        + ". The figures are in the table with the chart."
    )
    chosen_id = _chart_id("bars", title, checked, chart_id)
    parts = [_open(chosen_id, WIDTH, height, title, desc)]
    # The key says in words what the bar and the whisker are: nothing rests on colour alone.
    parts.append(
        f'<rect x="0" y="4" width="14" height="14" fill="{BAR}"/>'
        f'<text x="20" y="16" fill="{TEXT}">Bar: {"share" if unit == "%" else "value"}</text>'
    )
    if has_intervals:
        parts.append(
            f'<path d="M130 11H160M130 6V16M160 6V16" stroke="{TEXT}" stroke-width="2" '
            f'fill="none"/><text x="166" y="16" fill="{TEXT}">Line: {escape(interval_label)}'
            "</text>"
        )
    bottom = height - 4
    for tick in ticks:
        parts.append(
            f'<line x1="{x(tick):.1f}" y1="{top_y - 4}" x2="{x(tick):.1f}" y2="{bottom}" '
            f'stroke="{GRID}" stroke-width="1"/>'
            f'<text x="{x(tick):.1f}" y="{top_y - 8}" text-anchor="middle" fill="{TEXT}" '
            f'font-size="12">{escape(_tick_figure(tick, top / 5, unit))}</text>'
        )
    y = top_y
    for label, value, lo, hi in checked:
        middle = y + BAR_HEIGHT / 2
        lines = _label_lines(label)
        if len(lines) == 1:
            parts.append(
                f'<text x="0" y="{middle + 4.5:.1f}" fill="{TEXT}">{escape(lines[0])}</text>'
            )
        else:  # two lines in the row's height (the bar's and the gap after it)
            parts.append(
                f'<text x="0" y="{middle - 2:.1f}" fill="{TEXT}">{escape(lines[0])}'
                f'<tspan x="0" dy="14">{escape(lines[1])}</tspan></text>'
            )
        if value > 0:
            parts.append(
                f'<rect x="{LABEL_WIDTH}" y="{y}" width="{x(value) - LABEL_WIDTH:.1f}" '
                f'height="{BAR_HEIGHT}" fill="{BAR}"/>'
            )
        end = x(value)
        if lo is not None and hi is not None:
            a, b = x(lo), x(hi)
            parts.append(
                f'<path d="M{a:.1f} {middle:.1f}H{b:.1f}M{a:.1f} {middle - 6:.1f}V'
                f'{middle + 6:.1f}M{b:.1f} {middle - 6:.1f}V{middle + 6:.1f}" '
                f'stroke="{TEXT}" stroke-width="2" fill="none"/>'
            )
            end = max(end, b)
        parts.append(
            f'<text x="{end + 6:.1f}" y="{middle + 4.5:.1f}" fill="{TEXT}" font-weight="bold">'
            f"{escape(_figure(value, unit))}</text>"
        )
        y += BAR_HEIGHT + ROW_GAP
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every interpolated text is escaped


LINE_WIDTH = 640
LINE_HEIGHT = 280
LEFT = 56
RIGHT = 24
TOP = 36
BOTTOM = 36
MAX_LABELLED = 12


def line_chart_svg(
    series: Sequence[tuple[int, float] | tuple[int, float, float | None, float | None]],
    *,
    title: str,
    unit: str = "%",
    chart_id: str | None = None,
) -> SafeString:
    """A theme's share year by year: a line through a marked point a year, the value written
    over each point (over the first, last and highest when there are more than
    MAX_LABELLED), and, for items (year, value, low, high), a whisker over each interval.
    Years are spaced by their distance, so a gap shows. With unit "%" values are proportions
    (0 to 1). Empty for no points. One image (role "img") with a title and a short
    description that points to the data table the page shows with it."""
    if not isinstance(title, str) or not title.strip():
        raise AnalysisError("title: a chart needs a title")
    points: list[tuple[int, float, float | None, float | None]] = []
    for n, item in enumerate(series, 1):
        if not isinstance(item, tuple | list) or len(item) not in (2, 4):
            raise AnalysisError(f"point {n}: expected (year, value) or (year, value, low, high)")
        year = item[0]
        if isinstance(year, bool) or not isinstance(year, int):
            raise AnalysisError(f"point {n}: year {year!r} is not a whole number")
        where = f"point {n} ({year})"
        value = _number(item[1], f"{where}: value")
        lo = hi = None
        if len(item) == 4 and (item[2] is not None or item[3] is not None):
            if item[2] is None or item[3] is None:
                raise AnalysisError(f"{where}: give both low and high, or neither")
            lo, hi = _number(item[2], f"{where}: low"), _number(item[3], f"{where}: high")
            if not lo - 1e-9 <= value <= hi + 1e-9:
                raise AnalysisError(f"{where}: the value must lie between low and high")
        if unit == "%" and max(value, hi or 0.0) > 1 + 1e-9:
            raise AnalysisError(f"{where}: with unit '%' values are proportions from 0 to 1")
        points.append((year, value, lo, hi))
    if len({p[0] for p in points}) != len(points):
        raise AnalysisError("series: a year is given twice")
    if not points:
        return mark_safe("")
    points.sort()
    top, ticks = _scale(max(max(v, hi or 0.0) for _, v, _, hi in points), unit)
    first, last = points[0][0], points[-1][0]
    plot_w = LINE_WIDTH - LEFT - RIGHT
    plot_h = LINE_HEIGHT - TOP - BOTTOM

    def x(year: int) -> float:
        return LEFT + (plot_w / 2 if first == last else plot_w * (year - first) / (last - first))

    def y(value: float) -> float:
        return TOP + plot_h * (1 - value / top)

    highest = max(points, key=lambda p: p[1])
    span = f"in {first}" if first == last else f"from {first} to {last}"
    desc = (
        f"Line chart {span}: {_figure(points[0][1], unit)} in {first}"
        + (f", {_figure(points[-1][1], unit)} in {last}" if first != last else "")
        + f"; highest {_figure(highest[1], unit)} in {highest[0]}. "
        "The figures are in the table with the chart."
    )
    chosen_id = _chart_id("line", title, points, chart_id)
    parts = [_open(chosen_id, LINE_WIDTH, LINE_HEIGHT, title, desc)]
    for tick in ticks:
        parts.append(
            f'<line x1="{LEFT}" y1="{y(tick):.1f}" x2="{LINE_WIDTH - RIGHT}" y2="{y(tick):.1f}" '
            f'stroke="{GRID}" stroke-width="1"/>'
            f'<text x="{LEFT - 6}" y="{y(tick) + 4:.1f}" text-anchor="end" fill="{TEXT}" '
            f'font-size="12">{escape(_tick_figure(tick, top / 5, unit))}</text>'
        )
    parts.append(
        f'<line x1="{LEFT}" y1="{y(0):.1f}" x2="{LINE_WIDTH - RIGHT}" y2="{y(0):.1f}" '
        f'stroke="{TEXT}" stroke-width="1"/>'
    )
    step = max(1, math.ceil(len(points) / MAX_LABELLED))
    for i, (year, *_) in enumerate(points):
        if i % step == 0 or i == len(points) - 1:
            parts.append(
                f'<text x="{x(year):.1f}" y="{LINE_HEIGHT - BOTTOM + 20}" text-anchor="middle" '
                f'fill="{TEXT}">{year}</text>'
            )
    for year, _, lo, hi in points:
        if lo is not None and hi is not None:
            cx = x(year)
            parts.append(
                f'<path d="M{cx:.1f} {y(lo):.1f}V{y(hi):.1f}M{cx - 5:.1f} {y(lo):.1f}H'
                f'{cx + 5:.1f}M{cx - 5:.1f} {y(hi):.1f}H{cx + 5:.1f}" stroke="{TEXT}" '
                f'stroke-width="1.5" fill="none"/>'
            )
    if len(points) > 1:
        line = " ".join(f"{x(year):.1f},{y(value):.1f}" for year, value, *_ in points)
        parts.append(f'<polyline points="{line}" fill="none" stroke="{BAR}" stroke-width="3"/>')
    labelled = {0, len(points) - 1, points.index(highest)}
    for i, (year, value, _, hi) in enumerate(points):
        cx, cy = x(year), y(value)
        parts.append(
            f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="5" fill="{BAR}" stroke="{TEXT}" '
            f'stroke-width="1.5"/>'
        )
        if len(points) <= MAX_LABELLED or i in labelled:
            above = min(cy, y(hi)) if hi is not None else cy
            parts.append(
                f'<text x="{cx:.1f}" y="{max(12.0, above - 9):.1f}" text-anchor="middle" '
                f'fill="{TEXT}" font-weight="bold">{escape(_figure(value, unit))}</text>'
            )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every interpolated text is escaped
