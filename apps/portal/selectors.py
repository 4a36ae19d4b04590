"""Reads for the public portal: published reports, their versions, related reports, the
recommendations with their public status history, and a force's record.

Only what `apps.reports` published is read, and lists show only current versions. Every
function runs a fixed number of queries whatever the number of publications: the frozen
`Publication.data` carries forces, areas, grade counts and recommendations, so nothing is
read one row at a time; the large columns (body, search text, PDF) are read only by the
report page and the PDF.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.paginator import Paginator
from django.db.models import Case, Exists, F, IntegerField, OuterRef, Q, QuerySet, Value, When
from django.http import Http404
from django.urls import reverse
from django.utils.safestring import SafeString

from apps.findings.models import RecommendationStatus, RecommendationStatusChange
from apps.frameworks.loaders import COMPARABLE_SCALE
from apps.inspections.models import ProgrammeType
from apps.reference.models import Force, LocalAuthority
from apps.reports.models import Language, Publication

from .search import publication_search

# Columns only the report page (and the PDF) need: never read for lists.
HEAVY_FIELDS = ("body_html", "search_text", "pdf", "contents")
PER_PAGE = 20
RELATED_SHOWN = 4
RELATED_CANDIDATES = 40
LATEST_SHOWN = 5
SUPPRESSED_TEXT = "fewer than 5"


def report_url(slug: str, language: str = Language.ENGLISH, version: int | None = None) -> str:
    welsh = language == Language.WELSH
    if version is None:
        return reverse("portal:report-cy" if welsh else "portal:report", args=[slug])
    name = "portal:report-cy-version" if welsh else "portal:report-version"
    return reverse(name, args=[slug, version])


def pdf_url(slug: str, language: str = Language.ENGLISH, version: int | None = None) -> str:
    welsh = language == Language.WELSH
    if version is None:
        return reverse("portal:report-cy-pdf" if welsh else "portal:report-pdf", args=[slug])
    name = "portal:report-cy-version-pdf" if welsh else "portal:report-version-pdf"
    return reverse(name, args=[slug, version])


def programme_type_label(code: str) -> str:
    try:
        return str(ProgrammeType(code).label)
    except ValueError:
        return code


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    if not value:
        return None
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        return None


def listed_publications() -> QuerySet[Publication]:
    """The publications lists show: each report's current version, in English, or in Welsh
    for a report published only in Welsh. Without the large columns."""
    english = Publication.objects.filter(
        slug=OuterRef("slug"), language=Language.ENGLISH, is_current=True
    )
    return (
        Publication.objects.filter(is_current=True)
        .filter(Q(language=Language.ENGLISH) | ~Exists(english))
        .defer(*HEAVY_FIELDS)
    )


# Rows of lists -----------------------------------------------------------------------------


@dataclass
class ReportRow:
    """A published report as lists show it (a current version)."""

    id: int
    slug: str
    language: str
    title: str
    summary: str
    reference: str
    programme_type: str
    programme_type_label: str
    forces: list[dict[str, str]]
    local_authorities: list[dict[str, str]]
    published_on: dt.date
    published_at: dt.datetime | None
    version: int
    url: str
    snippet: SafeString | None = None

    @property
    def year(self) -> int:
        return self.published_on.year


def report_row(publication: Publication) -> ReportRow:
    data = publication.data or {}
    return ReportRow(
        id=publication.pk,
        slug=publication.slug,
        language=publication.language,
        title=publication.title,
        summary=publication.summary,
        reference=str(data.get("reference") or ""),
        programme_type=publication.programme_type,
        programme_type_label=str(
            data.get("programme_type_label") or programme_type_label(publication.programme_type)
        ),
        forces=list(data.get("forces") or []),
        local_authorities=list(data.get("local_authorities") or []),
        published_on=publication.published_on,
        published_at=publication.published_at,
        version=publication.version,
        url=report_url(publication.slug, publication.language),
    )


# The report list ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportFilters:
    q: str = ""
    force: str = ""
    area: str = ""
    programme_type: str = ""
    year: int | None = None

    @property
    def is_empty(self) -> bool:
        return not (self.q or self.force or self.area or self.programme_type or self.year)

    def key(self) -> str:
        return f"{self.q}|{self.force}|{self.area}|{self.programme_type}|{self.year or ''}"


@dataclass
class Facets:
    """What the filters offer: only values some current report has."""

    forces: list[tuple[str, str]]
    areas: list[tuple[str, str]]
    programme_types: list[tuple[str, str]]
    years: list[int]


def report_facets() -> Facets:
    """Four queries."""
    listed = listed_publications()
    forces = (
        Force.objects.filter(Exists(listed.filter(forces=OuterRef("pk"))))
        .order_by("name")
        .values_list("slug", "name")
    )
    areas = (
        LocalAuthority.objects.filter(Exists(listed.filter(local_authorities=OuterRef("pk"))))
        .order_by("name")
        .values_list("code", "name")
    )
    types = set(listed.order_by().values_list("programme_type", flat=True).distinct())
    years = sorted({d.year for d in listed.order_by().dates("published_on", "year")}, reverse=True)
    return Facets(
        forces=list(forces),
        areas=list(areas),
        programme_types=[(t.value, str(t.label)) for t in ProgrammeType if t.value in types],
        years=years,
    )


@dataclass
class ReportList:
    rows: list[ReportRow]
    total: int
    number: int
    num_pages: int
    terms: list[str] = field(default_factory=list)

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.num_pages

    @property
    def previous_page_number(self) -> int:
        return self.number - 1

    @property
    def next_page_number(self) -> int:
        return self.number + 1

    @property
    def has_other_pages(self) -> bool:
        return self.num_pages > 1

    @property
    def paginator(self) -> ReportList:  # what includes/pagination.html reads the page count from
        return self

    @property
    def start_index(self) -> int:
        return (self.number - 1) * PER_PAGE + 1 if self.total else 0

    @property
    def end_index(self) -> int:
        return min(self.number * PER_PAGE, self.total)


def _filtered(filters: ReportFilters) -> QuerySet[Publication]:
    found = listed_publications()
    if filters.force:
        found = found.filter(forces__slug=filters.force)
    if filters.area:
        found = found.filter(local_authorities__code=filters.area)
    if filters.programme_type:
        found = found.filter(programme_type=filters.programme_type)
    if filters.year:
        found = found.filter(published_on__year=filters.year)
    return found


def report_list(*, filters: ReportFilters, page: int = 1) -> ReportList:
    """A page of current reports, newest first, or most relevant first when searching, with
    highlighted extracts. Two queries (three when searching)."""
    found = _filtered(filters)
    terms: list[str] = []
    search = None
    if filters.q:
        search = publication_search(filters.q, within=found)
        found, terms = search.publications, search.terms
    else:
        found = found.order_by("-published_on", "-id")
    # Django's paginator does the counting and clamping; the result keeps plain values only,
    # since it is cached (a Page would carry its queryset into the cache).
    paged = Paginator(found, PER_PAGE).get_page(page)
    rows = [report_row(p) for p in paged.object_list]
    total, number, num_pages = paged.paginator.count, paged.number, paged.paginator.num_pages
    if search is not None and rows:
        snippets = search.snippets([row.id for row in rows])
        for row in rows:
            row.snippet = snippets.get(row.id)
    return ReportList(rows=rows, total=total, number=number, num_pages=num_pages, terms=terms)


def latest_reports(limit: int = LATEST_SHOWN) -> list[ReportRow]:
    """The newest current reports. One query."""
    return [report_row(p) for p in listed_publications().order_by("-published_on", "-id")[:limit]]


def feed_publications(limit: int = 20) -> list[Publication]:
    """Newly published (or republished) current reports, newest first. One query."""
    return list(listed_publications().order_by("-published_at", "-id")[:limit])


# Recommendations and their public status ---------------------------------------------------


@dataclass
class StatusStep:
    status: str
    label: str
    on: dt.date
    note: str


@dataclass
class RecommendationLine:
    finding_id: int
    number: int | None
    text: str
    addressees: list[str]
    timescale: str
    due_on: dt.date | None
    stage: str
    cause_of_concern: str | None
    history: list[StatusStep] = field(default_factory=list)

    @property
    def current(self) -> StatusStep | None:
        return self.history[-1] if self.history else None


STATUS_LABELS: dict[str, str] = {s.value: str(s.label) for s in RecommendationStatus}


def status_histories(finding_ids: Iterable[int]) -> dict[int, list[StatusStep]]:
    """The public status history of each recommendation, oldest first. One query (none for no
    ids)."""
    ids = sorted({int(i) for i in finding_ids})
    histories: dict[int, list[StatusStep]] = defaultdict(list)
    if not ids:
        return histories
    changes = (
        RecommendationStatusChange.objects.filter(recommendation_id__in=ids)
        .order_by("recommendation_id", "on", "id")
        .values_list("recommendation_id", "status", "on", "note")
    )
    for finding_id, status, on, note in changes:
        histories[finding_id].append(
            StatusStep(status, STATUS_LABELS.get(status, status), on, note or "")
        )
    return histories


def recommendation_lines(
    data: dict[str, Any], histories: dict[int, list[StatusStep]]
) -> list[RecommendationLine]:
    lines = []
    for rec in data.get("recommendations") or []:
        finding_id = int(rec.get("finding_id") or 0)
        lines.append(
            RecommendationLine(
                finding_id=finding_id,
                number=rec.get("number"),
                text=str(rec.get("text") or ""),
                addressees=[str(a) for a in rec.get("addressees") or []],
                timescale=str(rec.get("timescale") or ""),
                due_on=_date(rec.get("due_on")),
                stage=str(rec.get("stage") or ""),
                cause_of_concern=rec.get("cause_of_concern"),
                history=list(histories.get(finding_id, [])),
            )
        )
    return lines


def _finding_ids(data: dict[str, Any]) -> list[int]:
    return [int(r["finding_id"]) for r in data.get("recommendations") or [] if r.get("finding_id")]


def report_recommendations(data: dict[str, Any]) -> list[RecommendationLine]:
    """A publication's recommendations (from its frozen data) with their live public status
    history. One query (none without recommendations)."""
    return recommendation_lines(data, status_histories(_finding_ids(data)))


# The report page ---------------------------------------------------------------------------


@dataclass
class VersionLine:
    version: int
    published_on: dt.date
    change_note: str
    is_current: bool
    url: str
    pdf_url: str


@dataclass
class RelatedReport:
    row: ReportRow
    reason: str
    score: int
    follows: bool = False  # the inspection this report follows up
    follow_up: bool = False  # a follow-up of this report's inspection


@dataclass
class Translation:
    language: str
    label: str
    url: str


@dataclass
class GradeCounts:
    """A report's case grade counts: on its methodology's scale and on the common scale."""

    scale: list[str]
    counts: list[int | None]
    total: int | None  # None: withheld by the report
    comparable: list[int | None] | None


@dataclass
class ReportPage:
    publication: Publication
    row: ReportRow
    current: VersionLine
    current_url: str  # the report's stable address, which always shows the current version
    this_version: VersionLine
    versions: list[VersionLine]
    translations: list[Translation]
    related: list[RelatedReport]
    follows: RelatedReport | None
    fieldwork_start: dt.date | None
    fieldwork_end: dt.date | None
    methodology: str
    grades: GradeCounts | None

    @property
    def is_superseded(self) -> bool:
        return not self.this_version.is_current

    @property
    def language(self) -> str:
        return self.publication.language


def grade_counts(data: dict[str, Any]) -> GradeCounts | None:
    grades = data.get("case_grades")
    if not grades:
        return None
    scale = [str(g) for g in grades.get("scale") or []]
    counts = grades.get("counts") or {}
    comparable = grades.get("comparable")
    return GradeCounts(
        scale=scale,
        counts=[counts.get(g) for g in scale],
        total=None if grades.get("total") is None else int(grades["total"]),
        comparable=[comparable.get(code) for code, _ in COMPARABLE_SCALE] if comparable else None,
    )


def _related(publication: Publication, follows_inspection_id: int | None) -> list[RelatedReport]:
    """Up to RELATED_CANDIDATES current reports that share something with this one, scored:
    the inspection it follows up and its own follow-ups first, then shared forces, then the
    same programme type and year. One query."""
    data = publication.data or {}
    force_slugs = [f.get("slug") for f in data.get("forces") or [] if f.get("slug")]
    year = publication.published_on.year
    follow_up = Q(inspection__follows_id=publication.inspection_id)
    followed = Q(inspection_id=follows_inspection_id) if follows_inspection_id else Q(pk__in=[])
    shares_force = Exists(
        Publication.forces.through.objects.filter(
            publication_id=OuterRef("pk"), force__slug__in=force_slugs
        )
    )
    same_kind = Q(programme_type=publication.programme_type, published_on__year=year)
    candidates = (
        listed_publications()
        .exclude(slug=publication.slug)
        .filter(followed | follow_up | same_kind | Q(shares_force))
        .annotate(
            follows_inspection_id=F("inspection__follows_id"),
            priority=Case(
                When(followed | follow_up, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            ),
        )
        .order_by("priority", "-published_on", "-id")[:RELATED_CANDIDATES]
    )
    related = []
    mine = set(force_slugs)
    for candidate in candidates:
        row = report_row(candidate)
        shared = [f["name"] for f in row.forces if f.get("slug") in mine]
        score, reasons = 0, []
        follows = bool(follows_inspection_id) and candidate.inspection_id == follows_inspection_id
        follow_up = candidate.follows_inspection_id == publication.inspection_id
        if follows:
            score += 1000
            reasons.append("The inspection this report follows up")
        if follow_up:
            score += 1000
            reasons.append("A follow-up of this inspection")
        if shared:
            score += 10 * len(shared)
            reasons.append("Also about " + ", ".join(shared))
        if candidate.programme_type == publication.programme_type:
            score += 5 if candidate.published_on.year == year else 1
            if candidate.published_on.year == year:
                reasons.append(f"{row.programme_type_label}, {year}")
        related.append(
            RelatedReport(
                row=row,
                reason="; ".join(reasons),
                score=score,
                follows=follows,
                follow_up=follow_up,
            )
        )
    related.sort(key=lambda r: (-r.score, -r.row.published_on.toordinal(), -r.row.id))
    return related


def report_page(
    *, slug: str, language: str = Language.ENGLISH, version: int | None = None
) -> ReportPage:
    """A published report (its current version, or the version asked for) with everything its
    page shows but the progress of its recommendations, which changes after publication (see
    `report_recommendations`). Raises Http404 for an unknown report, language or version.
    Three queries."""
    rows = list(
        Publication.objects.filter(slug=slug, withdrawn_at=None)
        .order_by("language", "-version")
        .values_list("id", "language", "version", "published_on", "change_note", "is_current")
    )
    mine = [r for r in rows if r[1] == language]
    if not mine:
        raise Http404("No such report")
    chosen = next(
        (r for r in mine if (r[2] == version if version is not None else r[5])),
        None,
    )
    if chosen is None:
        raise Http404("No such version of the report")
    versions = [
        VersionLine(
            version=v,
            published_on=on,
            change_note=note,
            is_current=current,
            url=report_url(slug, language, v),
            pdf_url=pdf_url(slug, language, v),
        )
        for _id, _lang, v, on, note, current in mine
    ]
    current = next((v for v in versions if v.is_current), versions[0])
    this_version = next(v for v in versions if v.version == chosen[2])
    translations = [
        Translation(
            language=code,
            label=str(label),
            url=report_url(slug, code),
        )
        for code, label in Language.choices
        if code != language and any(r[1] == code and r[5] for r in rows)
    ]
    publication = (
        Publication.objects.defer("pdf", "search_text")
        .annotate(follows_inspection_id=F("inspection__follows_id"))
        .get(pk=chosen[0])
    )
    data = publication.data or {}
    follows_id = publication.follows_inspection_id
    related = _related(publication, follows_id)
    follows = next((r for r in related if r.follows), None)
    methodology = data.get("methodology") or {}
    return ReportPage(
        publication=publication,
        row=report_row(publication),
        current=current,
        current_url=report_url(slug, language),
        this_version=this_version,
        versions=versions,
        translations=translations,
        related=related[:RELATED_SHOWN],
        follows=follows,
        fieldwork_start=_date(data.get("fieldwork_start")),
        fieldwork_end=_date(data.get("fieldwork_end")),
        methodology=str(methodology.get("title") or ""),
        grades=grade_counts(data),
    )


# A force's public record -------------------------------------------------------------------


@dataclass
class GradeRow:
    row: ReportRow
    counts: list[int | None]  # on the common scale, best first; None: suppressed
    total: int | None  # None: withheld, and then no percentages (they would give it away)

    @property
    def cells(self) -> list[tuple[int | None, float | None]]:
        """(count, percent of the total) per grade; a percent only where the count is known."""
        return [
            (count, (100 * count / self.total) if count is not None and self.total else None)
            for count in self.counts
        ]

    @property
    def any_suppressed(self) -> bool:
        return any(c is None for c in self.counts)


@dataclass
class ReportRecommendations:
    row: ReportRow
    recommendations: list[RecommendationLine]


@dataclass
class ForceRecord:
    suppressed_text = SUPPRESSED_TEXT

    reports: list[ReportRow]
    grade_labels: list[str]
    grades: list[GradeRow]  # oldest first
    recommendations: list[ReportRecommendations]  # newest report first

    @property
    def recommendation_count(self) -> int:
        return sum(len(r.recommendations) for r in self.recommendations)


def force_record(force_slug: str) -> ForceRecord:
    """A force's current published reports (newest first), the case grade counts of each on
    the common scale (oldest first) and every recommendation with its public status history.
    Two queries (one when there are no recommendations)."""
    publications = list(
        listed_publications().filter(forces__slug=force_slug).order_by("-published_on", "-id")
    )
    rows = [report_row(p) for p in publications]
    histories = status_histories(i for p in publications for i in _finding_ids(p.data or {}))
    grades = []
    recommendations = []
    for publication, row in zip(publications, rows, strict=True):
        data = publication.data or {}
        counts = grade_counts(data)
        if counts is not None and counts.comparable is not None:
            grades.append(GradeRow(row=row, counts=counts.comparable, total=counts.total))
        lines = recommendation_lines(data, histories)
        if lines:
            recommendations.append(ReportRecommendations(row=row, recommendations=lines))
    grades.sort(key=lambda g: (g.row.published_on, g.row.id))
    return ForceRecord(
        reports=rows,
        grade_labels=[label for _, label in COMPARABLE_SCALE],
        grades=grades,
        recommendations=recommendations,
    )


# The map -----------------------------------------------------------------------------------


def latest_by_force(force_slugs: Sequence[str] | None = None) -> dict[str, ReportRow]:
    """Each force's latest current report (by publication date). One query."""
    found = listed_publications().order_by("-published_on", "-id")
    latest: dict[str, ReportRow] = {}
    for publication in found:
        row = None
        for force in (publication.data or {}).get("forces") or []:
            slug = force.get("slug")
            if not slug or slug in latest or (force_slugs is not None and slug not in force_slugs):
                continue
            row = row or report_row(publication)
            latest[slug] = row
    return latest
