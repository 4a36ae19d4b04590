"""Reads of reference data for the public pages.

Every function here runs a fixed number of queries, whatever the number of forces, areas or
figures: related rows come by select_related or prefetch_related, never one query a row.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db.models import Max, Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from .models import ContextFigure, Country, Force, LocalAuthority, OfstedJudgement

if TYPE_CHECKING:
    from apps.portal.selectors import ForceRecord

Measure = ContextFigure.Measure

# The order figures are shown in.
MEASURES: Sequence[str] = [
    Measure.POPULATION_0_17,
    Measure.CIN_COUNT,
    Measure.CIN_RATE,
    Measure.CPP_COUNT,
    Measure.CPP_RATE,
]
DFE_MEASURES = frozenset({Measure.CIN_COUNT, Measure.CIN_RATE, Measure.CPP_COUNT, Measure.CPP_RATE})
RATE_MEASURES = frozenset({Measure.CIN_RATE, Measure.CPP_RATE})
LIST_MEASURES = (Measure.CIN_RATE, Measure.CPP_RATE)

# Why a figure is missing: the full reason (summary lists) and a short one (table cells).
NOT_COLLECTED_FOR_WALES = (
    "The Department for Education publishes this for England only",
    "England only",
)
NO_FORCE_AREA = ("The force has no police force area", "No force area")
NO_FIGURE = ("No figure in the reference data", "No figure")


@dataclass
class FigureLine:
    """One measure for a force or an area: the figure, or why there is none."""

    measure: str
    label: str
    figure: ContextFigure | None
    reason: str = ""
    short_reason: str = ""

    @property
    def available(self) -> bool:
        return self.figure is not None and self.figure.value is not None

    @property
    def is_rate(self) -> bool:
        return self.measure in RATE_MEASURES

    @property
    def value(self) -> Decimal | None:
        return self.figure.value if self.figure else None


@dataclass
class SeriesYear:
    period: str
    lines: list[FigureLine] = field(default_factory=list)


def _reason(measure: str, country: str, territorial: bool) -> tuple[str, str]:
    if not territorial:
        return NO_FORCE_AREA
    if measure in DFE_MEASURES and country == Country.WALES:
        return NOT_COLLECTED_FOR_WALES
    return NO_FIGURE


def figure_lines(
    figures: Iterable[ContextFigure],
    *,
    country: str,
    territorial: bool = True,
    measures: Sequence[str] = MEASURES,
) -> list[FigureLine]:
    """The latest figure of each measure, in display order, with a reason for any missing.
    Periods compare as text, which orders both "2025" and "mid-2023" correctly."""
    latest: dict[str, ContextFigure] = {}
    for figure in figures:
        current = latest.get(figure.measure)
        if current is None or figure.period > current.period:
            latest[figure.measure] = figure
    lines = []
    for measure in measures:
        found = latest.get(measure)
        reason = short = ""
        if found is None:
            reason, short = _reason(measure, country, territorial)
        elif found.value is None:
            reason = short = found.note or "not published"
        lines.append(FigureLine(measure, Measure(measure).label, found, reason, short))
    return lines


def latest_period(measures: Sequence[str] = LIST_MEASURES) -> str | None:
    """The latest period with figures for these measures (one query)."""
    period = ContextFigure.objects.filter(measure__in=measures).aggregate(p=Max("period"))["p"]
    return str(period) if period is not None else None


def _current_figures(period: str | None) -> Prefetch:
    return Prefetch(
        "context_figures",
        queryset=ContextFigure.objects.filter(measure__in=LIST_MEASURES, period=period or ""),
        to_attr="current_figures",
    )


def _latest_judgement() -> Prefetch:
    return Prefetch(
        "ofsted_judgements",
        queryset=OfstedJudgement.objects.filter(is_latest=True),
        to_attr="latest_judgements",
    )


def _attach_rates(subject: Force | LocalAuthority, *, country: str, territorial: bool) -> None:
    lines = figure_lines(
        subject.current_figures,  # type: ignore[union-attr]
        country=country,
        territorial=territorial,
        measures=LIST_MEASURES,
    )
    subject.cin_rate, subject.cpp_rate = lines  # type: ignore[union-attr]


def _attach_area(area: LocalAuthority) -> None:
    _attach_rates(area, country=area.country, territorial=True)
    judgements = area.latest_judgements  # type: ignore[attr-defined]
    area.latest_judgement = judgements[0] if judgements else None  # type: ignore[attr-defined]


def _forces() -> QuerySet[Force]:
    """Forces without their geometry, which list pages do not need."""
    return Force.objects.defer("boundary", "boundary_map")


@dataclass
class ForceList:
    groups: dict[str, list[Force]]
    period: str | None

    @property
    def total(self) -> int:
        return sum(len(forces) for forces in self.groups.values())


def force_list() -> ForceList:
    """All forces, grouped: England, Wales, then non-territorial forces. Each force has
    `cin_rate` and `cpp_rate` (FigureLine) for the latest period. Three queries."""
    period = latest_period()
    forces = _forces().defer("population_all_ages").prefetch_related(_current_figures(period))
    groups: dict[str, list[Force]] = {"england": [], "wales": [], "non_territorial": []}
    for force in forces:
        _attach_rates(force, country=force.country, territorial=force.territorial)
        if not force.territorial:
            groups["non_territorial"].append(force)
        else:
            groups[force.country].append(force)
    return ForceList(groups=groups, period=period)


@dataclass
class ForceDetail:
    force: Force
    figures: list[FigureLine]
    areas: list[LocalAuthority]
    period: str | None


def force_detail(slug: str) -> ForceDetail:
    """A force with its latest figures and its local authority areas (each with rates and
    latest Ofsted judgement). Raises Http404 for an unknown slug. Six queries."""
    force = get_object_or_404(
        Force.objects.defer("boundary").prefetch_related("context_figures"), slug=slug
    )
    period = latest_period()
    areas = list(
        LocalAuthority.objects.filter(force=force).prefetch_related(
            _current_figures(period), _latest_judgement()
        )
    )
    for area in areas:
        _attach_area(area)
    figures = figure_lines(
        force.context_figures.all(), country=force.country, territorial=force.territorial
    )
    return ForceDetail(force=force, figures=figures, areas=areas, period=period)


def territorial_forces() -> list[Force]:
    """Forces with an area, for the area filter. One query."""
    return list(_forces().filter(territorial=True).only("id", "slug", "name", "country"))


@dataclass
class AreaList:
    areas: list[LocalAuthority]
    period: str | None


def area_list(force: Force | None = None) -> AreaList:
    """Local authority areas, optionally of one force, each with its force, rates and latest
    Ofsted judgement. Four queries."""
    period = latest_period()
    areas = LocalAuthority.objects.select_related("force").defer(
        "force__boundary", "force__boundary_map"
    )
    if force is not None:
        areas = areas.filter(force=force)
    result = list(areas.prefetch_related(_current_figures(period), _latest_judgement()))
    for area in result:
        _attach_area(area)
    return AreaList(areas=result, period=period)


@dataclass
class AreaDetail:
    area: LocalAuthority
    figures: list[FigureLine]
    series: list[SeriesYear]
    judgements: list[OfstedJudgement]
    districts: list[str]


def area_detail(code: str) -> AreaDetail:
    """An area with its force (and the force's map), latest figures, the children in need
    and child protection plan series, Ofsted judgements and districts. Raises Http404 for
    an unknown code. Four queries."""
    area = get_object_or_404(
        LocalAuthority.objects.select_related("force")
        .defer("force__boundary")
        .prefetch_related("context_figures", "ofsted_judgements", "districts"),
        code=code.upper(),
    )
    figures = list(area.context_figures.all())
    by_period: dict[str, dict[str, ContextFigure]] = {}
    for figure in figures:
        if figure.measure in DFE_MEASURES:
            by_period.setdefault(figure.period, {})[figure.measure] = figure
    series = [
        SeriesYear(
            period=period,
            lines=figure_lines(
                by_period[period].values(),
                country=area.country,
                measures=[m for m in MEASURES if m in DFE_MEASURES],
            ),
        )
        for period in sorted(by_period, reverse=True)
    ]
    return AreaDetail(
        area=area,
        figures=figure_lines(figures, country=area.country),
        series=series,
        judgements=list(area.ofsted_judgements.all()),
        districts=[d.name for d in area.districts.all()],
    )


def force_public_record(slug: str) -> ForceRecord:
    """The force's published reports, case grades over time and recommendations with their
    public status history, read by the public portal from what was published (two queries;
    see apps.portal.selectors.force_record)."""
    from apps.portal.selectors import force_record  # the portal reads publications

    return force_record(slug)
