"""Reads of the thematic analysis and the thematic report: which statements a scope takes,
each with its current themes, and the figures worked out from them (the statistics are in
analysis.py). Every figure keeps the statements behind it, so that a page can link each
number and quotation to its evidence (`evidence`).

A statement's themes are those a person confirmed if a person has coded it under the
current codebook, and the classifier's suggestions if not. The pages say how many of the
statements a person has checked.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlencode

from django.db.models import Q, QuerySet
from django.utils import timezone

from apps.findings.models import Finding, RecommendationStatus
from apps.frameworks.loaders import COMPARABLE_SCALE
from apps.inspections.models import ProgrammeType
from apps.portal.selectors import grade_counts, listed_publications, report_url
from apps.reference.models import Country, LocalAuthority
from apps.reports.models import Language, Publication

from . import analysis
from .analysis import CodedRow
from .models import (
    KIND_LABELS,
    POLICE_AGENCIES,
    ClassifierVersion,
    CodebookVersion,
    Statement,
    ThematicReport,
    Theme,
    ThemeCode,
    stage_words,
)
from .selectors import coding_corpus

FACETS = {
    "force": "Force",
    "region": "Region",
    "programme_type": "Programme type",
    "year": "Year",
    "kind": "Kind of statement",
    "stage": "Stage or topic",
}
STRENGTH_KINDS = frozenset({"strength", "promising_practice", "good_practice"})
STRENGTH_KINDS_ORDER = ("strength", "promising_practice", "good_practice")
WEAKNESS_KINDS = ("area_for_improvement", "cause_of_concern", "recommendation")
REPRESENTATIVE = 4
NO_STATUS = "none"  # in a query string: recommendations with no status yet
EVIDENCE_PAGE = 50  # statements, or reports, a page of evidence
SHOW, SHOW_REPORTS = "show", "reports"  # evidence pages: ?show=reports lists the reports
ABOUT, ABOUT_POLICE = "about", "police"  # the scope: ?about=police (Scope.police_only)
CHECKED = ("", "yes", "no")  # in a query string: statements a person has coded, or not
YEAR_RANGE = (1990, 2100)


class ScopeError(ValueError):
    """A scope asked for in a query string that cannot be read: names the parameter."""


class ThemeMoved(ScopeError):
    """A link's theme (`parameter`) is an earlier codebook version's, renamed or merged since
    into the current codebook's theme `now` (a link from an older PDF, say)."""

    def __init__(self, parameter: str, key: str, now: str, was: str, becomes: str) -> None:
        super().__init__(f"{parameter}: {key!r} has become {now!r} in a codebook revision")
        self.parameter, self.key, self.now = parameter, key, now
        self.was, self.becomes = was, becomes  # their names


class ThemeSplit(ScopeError):
    """A link's theme (`parameter`) was split since into `parts` ((key, name) of each of the
    current codebook's themes it became)."""

    def __init__(self, message: str, parameter: str, parts: list[tuple[str, str]]) -> None:
        super().__init__(message)
        self.parameter, self.parts = parameter, parts


def _unknown_theme(parameter: str, key: str) -> ScopeError:
    """Why `key` is not a theme of the current codebook: renamed or merged since (ThemeMoved),
    split or removed since, or never one."""
    from .codebook_revise import key_changes

    current = CodebookVersion.objects.order_by("-number").first()
    mapping, split = key_changes(current) if current is not None else ({}, {})
    now = mapping.get(key)
    if now is not None and now != key:
        was = Theme.objects.filter(key=key).order_by("-codebook__number").values("name")[:1]
        becomes = Theme.objects.filter(codebook=current, key=now).values("name")[:1]
        return ThemeMoved(parameter, key, now, was=was[0]["name"], becomes=becomes[0]["name"])
    parts = split.get(key)
    if parts:
        became = list(
            Theme.objects.filter(codebook=current, key__in=parts)
            .order_by("order", "key")
            .values_list("key", "name")
        )
        names = [name for _, name in became]
        return ThemeSplit(
            f"{parameter}: {key!r} was a theme of an earlier codebook version and has since "
            f"been split into {', '.join(names[:-1])} and {names[-1]}: its statements are "
            "coded to those now, or wait in the review queue for a person to choose",
            parameter,
            became,
        )
    if Theme.objects.filter(key=key).exists():
        return ScopeError(
            f"{parameter}: {key!r} was a theme of an earlier codebook version and has since "
            "been split or removed: its statements are now coded to the themes that replaced it"
        )
    return ScopeError(f"{parameter}: {key!r} is not a theme of the current codebook")


MAX_ID = 2**63 - 1


def _int(value: str, name: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise ScopeError(f"{name}: {value!r} is not a whole number") from None
    return number


def _id(value: str, name: str) -> int:
    number = _int(value, name)
    if not 1 <= number <= MAX_ID:
        raise ScopeError(f"{name}: {value!r} is not the number of a report")
    return number


@dataclass(frozen=True)
class Scope:
    """Which statements an analysis takes: a period (years, inclusive), programme types, and
    the inspections and imported reports chosen (none chosen: all in the period)."""

    year_from: int | None = None
    year_to: int | None = None
    programme_types: tuple[str, ...] = ()
    inspections: tuple[int, ...] = ()
    archive_reports: tuple[int, ...] = ()
    # Only statements about the police and about agencies working together (POLICE_AGENCIES):
    # a joint inspection's statements about one other agency left out.
    police_only: bool = False

    @classmethod
    def from_query(cls, query: Mapping[str, Any]) -> Scope:
        """The scope in a query string (a QueryDict or a dict of lists); ScopeError naming
        the parameter if it cannot be read."""

        def values(name: str) -> list[str]:
            got = query.getlist(name) if hasattr(query, "getlist") else query.get(name, [])
            return [v for v in (got if isinstance(got, list) else [got]) if str(v).strip()]

        years: dict[str, int | None] = {}
        for name in ("from", "to"):
            given = values(name)
            years[name] = _int(given[0], name) if given else None
            year = years[name]
            if year is not None and not YEAR_RANGE[0] <= year <= YEAR_RANGE[1]:
                raise ScopeError(f"{name}: {year} is not a year this programme could cover")
        if years["from"] and years["to"] and years["from"] > years["to"]:
            raise ScopeError("to: the last year is before the first")
        types = values("type")
        unknown = sorted(set(types) - set(ProgrammeType.values))
        if unknown:
            raise ScopeError(f"type: not a programme type: {', '.join(unknown)}")
        about = values(ABOUT)
        if any(v != ABOUT_POLICE for v in about):
            raise ScopeError(
                f"{ABOUT}: only \u201c{ABOUT_POLICE}\u201d (statements about the police and "
                "about agencies working together), or leave it out for every agency"
            )
        return cls(
            year_from=years["from"],
            year_to=years["to"],
            programme_types=tuple(sorted(set(types))),
            inspections=tuple(sorted({_id(v, "inspection") for v in values("inspection")})),
            archive_reports=tuple(sorted({_id(v, "archive") for v in values("archive")})),
            police_only=bool(about),
        )

    @classmethod
    def of_report(cls, report: ThematicReport) -> Scope:
        return cls(
            year_from=report.year_from,
            year_to=report.year_to,
            programme_types=tuple(sorted(report.programme_types)),
            inspections=tuple(sorted(i.pk for i in report.inspections.all())),
            archive_reports=tuple(sorted(a.pk for a in report.archive_reports.all())),
            police_only=report.police_only,
        )

    def pairs(self) -> list[tuple[str, str | int]]:
        out: list[tuple[str, str | int]] = []
        if self.year_from is not None:
            out.append(("from", self.year_from))
        if self.year_to is not None:
            out.append(("to", self.year_to))
        out += [("type", t) for t in self.programme_types]
        out += [("inspection", i) for i in self.inspections]
        out += [("archive", a) for a in self.archive_reports]
        if self.police_only:
            out.append((ABOUT, ABOUT_POLICE))
        return out

    def query(self, **more: Any) -> str:
        """The scope as a query string, with `more` (lists repeat their parameter)."""
        pairs: list[tuple[str, Any]] = list(self.pairs())
        for name, value in more.items():
            if value is None or value == "":
                continue
            pairs += (
                [(name, v) for v in value] if isinstance(value, list | tuple) else [(name, value)]
            )
        return urlencode(pairs)

    def describe(self) -> str:
        parts = []
        if self.year_from and self.year_to:
            parts.append(
                f"{self.year_from} to {self.year_to}"
                if self.year_from != self.year_to
                else str(self.year_from)
            )
        elif self.year_from:
            parts.append(f"from {self.year_from}")
        elif self.year_to:
            parts.append(f"up to {self.year_to}")
        else:
            parts.append("all years")
        labels = dict(ProgrammeType.choices)
        if self.programme_types:
            parts.append(", ".join(labels[t] for t in self.programme_types))
        else:
            parts.append("every programme type")
        chosen = len(self.inspections) + len(self.archive_reports)
        if chosen:
            parts.append(f"{chosen} chosen report{'s' if chosen != 1 else ''}")
        if self.police_only:
            parts.append("statements about the police and agencies working together")
        return "; ".join(parts)

    def statements(self) -> QuerySet[Statement]:
        chosen = coding_corpus()
        if self.year_from is not None:
            chosen = chosen.filter(year__gte=self.year_from)
        if self.year_to is not None:
            chosen = chosen.filter(year__lte=self.year_to)
        if self.programme_types:
            chosen = chosen.filter(programme_type__in=self.programme_types)
        if self.inspections or self.archive_reports:
            chosen = chosen.filter(
                Q(inspection__in=self.inspections) | Q(archive_report__in=self.archive_reports)
            )
        if self.police_only:
            chosen = chosen.filter(agency__in=POLICE_AGENCIES)
        return chosen


def force_regions() -> dict[int, str]:
    """Each force's region: Wales for the Welsh forces, else the English region most of its
    local authorities are in (one query)."""
    counts: dict[int, Counter[str]] = {}
    for force_id, country, region in LocalAuthority.objects.values_list(
        "force_id", "force__country", "region_name"
    ):
        name = "Wales" if country == Country.WALES else (region or "")
        if name:
            counts.setdefault(force_id, Counter())[name] += 1
    return {force_id: c.most_common(1)[0][0] for force_id, c in counts.items()}


@dataclass
class Corpus:
    """A scope's statements with their current themes, and what the pages need about them."""

    scope: Scope
    codebook: CodebookVersion | None
    themes: list[tuple[str, str]]  # (key, name) in the codebook's order
    rows: list[CodedRow]
    checked: int  # statements a person has coded
    decided: set[int] = field(default_factory=set)  # of them, those in the scope
    confidence: dict[tuple[int, str], float | None] = field(default_factory=dict)
    confirmed: set[tuple[int, str]] = field(default_factory=set)
    classifiers: set[int] = field(default_factory=set)  # the versions of its suggestions

    @property
    def names(self) -> dict[str, str]:
        return dict(self.themes)

    @property
    def reports(self) -> int:
        return len({r.report for r in self.rows})


def corpus(scope: Scope) -> Corpus:
    """The scope's statements as CodedRows: six queries whatever their number (the codebook,
    its themes, the codes, the statements people decided, the forces' regions, the
    statements)."""
    codebook = CodebookVersion.objects.order_by("-number").first()
    if codebook is None:
        return Corpus(scope=scope, codebook=None, themes=[], rows=[], checked=0)
    themes = list(codebook.themes.order_by("order", "key").values_list("key", "name"))
    chosen = scope.statements()
    person: dict[int, list[str]] = {}
    suggested: dict[int, list[str]] = {}
    waiting: set[int] = set()
    out = Corpus(scope=scope, codebook=codebook, themes=themes, rows=[], checked=0)
    for statement_id, key, status, set_by, confidence, classifier in ThemeCode.objects.filter(
        theme__codebook=codebook,
        statement__in=chosen.values("pk"),
        status__in=[ThemeCode.Status.CONFIRMED, ThemeCode.Status.SUGGESTED],
    ).values_list(
        "statement_id", "theme__key", "status", "set_by_id", "confidence", "classifier_id"
    ):
        if status == ThemeCode.Status.CONFIRMED and set_by is not None:
            person.setdefault(statement_id, []).append(key)
            out.confirmed.add((statement_id, key))
        elif status == ThemeCode.Status.SUGGESTED and classifier is not None:
            suggested.setdefault(statement_id, []).append(key)
            out.confidence[(statement_id, key)] = confidence
            out.classifiers.add(classifier)
        elif status == ThemeCode.Status.SUGGESTED and set_by is None:
            # A codebook split's placeholder, waiting for a person: not counted, and the
            # statement, back in the review queue, is not "checked by a person" until then
            # (its other themes, a person's, still count).
            waiting.add(statement_id)
    decided = set(
        ThemeCode.objects.filter(
            theme__codebook=codebook, statement__in=chosen.values("pk"), set_by__isnull=False
        ).values_list("statement_id", flat=True)
    )
    regions = force_regions()
    stages: dict[str, str] = {}  # a stage as stored (a methodology's code, or words): in words
    for (
        pk,
        kind,
        stage,
        year,
        programme,
        force_id,
        force_name,
        inspection_id,
        archive_id,
    ) in chosen.order_by("id").values_list(
        "id",
        "kind",
        "stage",
        "year",
        "programme_type",
        "force_id",
        "force__name",
        "inspection_id",
        "archive_report_id",
    ):
        themes_of = person.get(pk, []) if pk in decided else suggested.get(pk, [])
        if stage not in stages:
            stages[stage] = stage_words(stage)
        out.rows.append(
            CodedRow(
                statement_id=pk,
                themes=frozenset(themes_of),
                report=f"inspection:{inspection_id}" if inspection_id else f"archive:{archive_id}",
                force=force_name or "",
                region=regions.get(force_id, "") if force_id else "",
                programme_type=programme or "",
                year=year,
                kind=kind,
                stage=stages[stage],
            )
        )
    out.decided = (decided - waiting) & {r.statement_id for r in out.rows}
    out.checked = len(out.decided)
    return out


def label(facet: str, value: Any) -> str:
    """A facet's value in words."""
    if facet == "programme_type":
        return str(dict(ProgrammeType.choices).get(value, value or "Not known"))
    if facet == "kind":
        return KIND_LABELS.get(value, str(value).replace("_", " ").capitalize())
    return str(value)


def rows_for(
    data: Corpus,
    *,
    theme: str = "",
    facet: str = "",
    value: str = "",
    also: str = "",
    kinds: Sequence[str] = (),
) -> list[CodedRow]:
    """The rows behind a figure: coded to `theme` (and `also`, for a pair), where `facet`
    has `value` (as the analysis labels it), of `kinds`."""
    chosen = data.rows
    if theme:
        chosen = [r for r in chosen if theme in r.themes]
    if also:
        chosen = [r for r in chosen if also in r.themes]
    if kinds:
        chosen = [r for r in chosen if r.kind in kinds]
    if facet:
        chosen = [r for r in chosen if analysis.group_label(r, facet) == value]
    return chosen


@dataclass
class Quote:
    statement: Statement
    confirmed: bool
    confidence: float | None
    source_url: str


def source_links(statements: Sequence[Statement]) -> dict[int, str]:
    """Where each statement can be read in its report: the finding in the published report's
    page (a recommendation by its number), the imported report's paragraph for an archive
    statement. Two queries at most.

    The published page is the one source every analyst may read (an inspection's register is
    for its team). Reports published before findings carried anchors open at the top."""
    from django.urls import NoReverseMatch, reverse

    slugs = dict(
        Publication.objects.filter(
            inspection_id__in={s.inspection_id for s in statements if s.inspection_id},
            is_current=True,
            language="en",
        ).values_list("inspection_id", "slug")
    )
    numbers = dict(
        Finding.objects.filter(
            pk__in={
                s.finding_id for s in statements if s.finding_id and s.kind == "recommendation"
            },
            number__isnull=False,
        ).values_list("pk", "number")
    )
    out: dict[int, str] = {}
    for s in statements:
        if s.inspection_id and s.inspection_id in slugs:
            page = reverse("portal:report", args=[slugs[s.inspection_id]])
            if s.finding_id in numbers:
                out[s.pk] = f"{page}#recommendation-{numbers[s.finding_id]}"
            elif s.finding_id:
                out[s.pk] = f"{page}#finding-{s.finding_id}"
            else:
                out[s.pk] = page
        elif s.archive_report_id and s.paragraph is not None:
            try:
                url = reverse("themes:archive-report", args=[s.archive_report_id])
            except NoReverseMatch:
                continue
            out[s.pk] = f"{url}#p{s.paragraph.number}"
    return out


def pick(data: Corpus, rows: Sequence[CodedRow], theme: str, limit: int) -> list[CodedRow]:
    """Up to `limit` statements to quote for a theme: those a person confirmed first, then
    the classifier's surest, one a report while others remain."""
    ranked = sorted(
        rows,
        key=lambda r: (
            (r.statement_id, theme) not in data.confirmed,
            -(data.confidence.get((r.statement_id, theme)) or 0.0),
            r.statement_id,
        ),
    )
    picked: list[CodedRow] = []
    reports: set[str] = set()
    for row in ranked:
        if len(picked) == limit:
            break
        if row.report not in reports:
            picked.append(row)
            reports.add(row.report)
    chosen = {r.statement_id for r in picked}
    for row in ranked:
        if len(picked) >= limit:
            break
        if row.statement_id not in chosen:
            picked.append(row)
            chosen.add(row.statement_id)
    return picked


def materialise(
    data: Corpus, wanted: Mapping[str, tuple[str, Sequence[CodedRow]]]
) -> dict[str, list[Quote]]:
    """The quotes picked for each list (`wanted`: a name for the list to the theme they
    are quoted for and their rows) as statements with where to read them, each marked as
    a person's coding or the classifier's for that theme: three queries at most for all."""
    ids = {r.statement_id for _, rows in wanted.values() for r in rows}
    statements = Statement.objects.select_related("paragraph").in_bulk(list(ids))
    sources = source_links(list(statements.values()))
    return {
        name: [
            Quote(
                statement=statements[r.statement_id],
                confirmed=(r.statement_id, theme) in data.confirmed,
                confidence=data.confidence.get((r.statement_id, theme)),
                source_url=sources.get(r.statement_id, ""),
            )
            for r in rows
            if r.statement_id in statements
        ]
        for name, (theme, rows) in wanted.items()
    }


def recommendation_statuses(data: Corpus, rows: Sequence[CodedRow]) -> dict[int, str]:
    """The follow-up status of each recommendation among `rows` (of `data`) that the system
    tracks (one query, reading only the recommendations of the corpus's scope);
    recommendations from imported reports are not tracked here."""
    wanted = {r.statement_id for r in rows if r.kind == "recommendation"}
    found = (
        data.scope.statements()
        .filter(kind="recommendation", finding__isnull=False)
        .values_list("pk", "finding__status")
    )
    return {pk: status for pk, status in found.iterator(chunk_size=2000) if pk in wanted}


def status_counts(
    rows: Sequence[CodedRow], statuses: Mapping[int, str]
) -> tuple[list[tuple[str, str, int]], int]:
    """(status, label, count) of the recommendations among `rows`, in the status list's
    order, and how many are not tracked (from imported reports)."""
    recommendations = [r for r in rows if r.kind == "recommendation"]
    found = Counter(statuses[r.statement_id] for r in recommendations if r.statement_id in statuses)
    labels = dict(RecommendationStatus.choices)
    ordered = [(s, labels[s], found[s]) for s in RecommendationStatus.values if found[s]]
    if found.get(""):
        ordered.append(("", "No status yet", found[""]))
    return ordered, len(recommendations) - sum(found.values())


@dataclass(frozen=True)
class Figure:
    """What one number counts, as its evidence link asks: statements coded to `theme` (and
    to `also`, for a pair of themes), where `facet` has `value`, of `kinds`, or of a
    recommendation `status`. With no theme: every statement of the scope (that facet)."""

    theme: str = ""
    also: str = ""
    facet: str = ""
    value: str = ""
    kinds: tuple[str, ...] = ()
    status: str | None = None
    checked: str = ""  # "yes": only statements a person has coded; "no": only the others
    report: str = ""  # only the statements of one report (CodedRow.report)

    @classmethod
    def from_query(cls, query: Any, data: Corpus) -> Figure:
        names = data.names
        theme, also = query.get("theme", ""), query.get("also", "")
        for name, key in (("theme", theme), ("also", also)):
            if key and key not in names:
                raise _unknown_theme(name, key)
        if also and not theme:
            raise ScopeError("also: a second theme, for statements coded to both: give theme too")
        facet = query.get("facet", "")
        if facet and facet not in FACETS:
            raise ScopeError(f"facet: {facet!r} is not one of {', '.join(FACETS)}")
        kinds = tuple(query.getlist("kind")) if hasattr(query, "getlist") else ()
        unknown = sorted(set(kinds) - set(KIND_LABELS))
        if unknown:
            raise ScopeError(f"kind: not a kind of statement: {', '.join(unknown)}")
        status = query.get("status")
        if status == NO_STATUS:
            status = ""
        elif status is not None and status not in RecommendationStatus.values:
            raise ScopeError(f"status: {status!r} is not a recommendation status")
        value = query.get("value", "") if facet else ""
        if facet and value not in {analysis.group_label(r, facet) for r in data.rows}:
            noun = "kind" if facet == "kind" else FACETS[facet].lower()
            raise ScopeError(f"value: no statement in this scope has the {noun} {value!r}")
        checked = query.get("checked", "")
        if checked not in CHECKED:
            raise ScopeError(f"checked: {checked!r} is not one of {', '.join(CHECKED[1:])}")
        report = query.get("report", "")
        if report and report not in {r.report for r in data.rows}:
            raise ScopeError(f"report: no statement in this scope comes from report {report!r}")
        return cls(
            theme=theme,
            also=also,
            facet=facet,
            value=value,
            kinds=kinds,
            status=status,
            checked=checked,
            report=report,
        )

    def query(self, scope: Scope, **more: Any) -> str:
        return scope.query(
            **more,
            theme=self.theme,
            also=self.also,
            facet=self.facet,
            value=self.value if self.facet else "",
            kind=list(self.kinds),
            status=NO_STATUS if self.status == "" else self.status,
            checked=self.checked,
            report=self.report,
        )

    def rows(self, data: Corpus) -> list[CodedRow]:
        chosen = rows_for(
            data,
            theme=self.theme,
            also=self.also,
            facet=self.facet,
            value=self.value,
            kinds=self.kinds,
        )
        if self.checked:
            by_person = self.checked == "yes"
            chosen = [r for r in chosen if (r.statement_id in data.decided) == by_person]
        if self.report:
            chosen = [r for r in chosen if r.report == self.report]
        if self.status is not None:
            chosen = [r for r in chosen if r.kind == "recommendation"]
            statuses = recommendation_statuses(data, chosen)
            chosen = [r for r in chosen if statuses.get(r.statement_id) == self.status]
        return chosen

    def describe(self, data: Corpus) -> str:
        names = data.names
        parts = []
        if self.theme:
            parts.append(f"coded to {names.get(self.theme, self.theme)}")
        if self.also:
            parts.append(f"and to {names.get(self.also, self.also)}")
        if self.facet:
            parts.append(f"{FACETS[self.facet].lower()}: {label(self.facet, self.value)}")
        if self.kinds:
            words = [label("kind", k).lower() for k in self.kinds]
            either = ", ".join(words[:-1]) + " or " + words[-1] if len(words) > 1 else words[0]
            parts.append(f"of kind {either}")
        if self.status is not None:
            status = dict(RecommendationStatus.choices).get(self.status, "no status yet")
            parts.append(f"recommendations whose status is {status.lower()}")
        if self.checked:
            parts.append(
                "checked by a person" if self.checked == "yes" else "not yet checked by a person"
            )
        if self.report:
            parts.append(f"from {report_titles(data, [self.report])[self.report]}")
        return "Statements " + ("; ".join(parts) if parts else "in the scope")


def report_counts(rows: Sequence[CodedRow]) -> list[tuple[str, int]]:
    """The reports `rows` come from (CodedRow.report), each with its number of them: the
    most first, and reports with as many in the order they were added ("archive:99" before
    "archive:100")."""

    def order(kv: tuple[str, int]) -> tuple[int, str, int]:
        source, _, pk = kv[0].partition(":")
        return -kv[1], source, int(pk)

    return sorted(Counter(r.report for r in rows).items(), key=order)


def _first_statements(data: Corpus, keys: Sequence[str]) -> dict[str, Statement]:
    """One statement of each report `keys` names (its first), which carries the report's
    title, year, force and where it is read. One query."""
    wanted = set(keys)
    first: dict[str, int] = {}
    for row in data.rows:  # in statement order
        if row.report in wanted and row.report not in first:
            first[row.report] = row.statement_id
    statements = (
        Statement.objects.select_related("paragraph", "force")
        .defer("force__boundary", "force__boundary_map")
        .in_bulk(first.values())
    )
    return {key: statements[pk] for key, pk in first.items() if pk in statements}


def report_titles(data: Corpus, keys: Sequence[str]) -> dict[str, str]:
    """Each report's title, by its CodedRow.report key. One query."""
    found = _first_statements(data, keys)
    return {key: found[key].report_title if key in found else key for key in keys}


def reports_page(data: Corpus, counts: Sequence[tuple[str, int]]) -> list[dict[str, Any]]:
    """The reports of one page of a figure's reports: title, year, force, how many of the
    figure's statements come from each, and where to read it. Three queries at most."""
    from django.urls import reverse

    found = _first_statements(data, [key for key, _ in counts])
    sources = source_links(list(found.values()))
    out = []
    for key, count in counts:
        statement = found.get(key)
        if statement is None:
            continue
        # The report itself, not the first statement's place in it.
        url = sources.get(statement.pk, "").split("#")[0]
        if not url and statement.archive_report_id:
            url = reverse("themes:archive-report", args=[statement.archive_report_id])
        out.append(
            {
                "key": key,
                "title": statement.report_title,
                "year": statement.year,
                "force": statement.force.name if statement.force else "",
                "count": count,
                "source_url": url,
            }
        )
    return out


def _statements_of(rows: Sequence[CodedRow]) -> tuple[dict[int, Statement], dict[int, str]]:
    """The statements of `rows` by id, with their force, and where each can be read
    (source_links): three queries (in_bulk batches a very long list)."""
    statements = (
        Statement.objects.select_related("paragraph", "force")
        .defer("force__boundary", "force__boundary_map")  # the map's data: not shown here
        .in_bulk([r.statement_id for r in rows])
    )
    return statements, source_links(list(statements.values()))


def statements_page(data: Corpus, rows: Sequence[CodedRow]) -> list[dict[str, Any]]:
    """The statements of one page of evidence, with their themes (names) and where to read
    them. Three queries at most."""
    statements, sources = _statements_of(rows)
    names = data.names
    out = []
    for row in rows:
        statement = statements.get(row.statement_id)
        if statement is None:
            continue
        out.append(
            {
                "statement": statement,
                "themes": [
                    {
                        "name": names.get(key, key),
                        "confirmed": (row.statement_id, key) in data.confirmed,
                    }
                    for key, _ in data.themes
                    if key in row.themes
                ],
                "source_url": sources.get(row.statement_id, ""),
            }
        )
    return out


def evidence_context(
    data: Corpus, figure: Figure, *, show: str, page: Any
) -> tuple[str, dict[str, Any]]:
    """The evidence page of `figure`, page `page`: its statements, or with `show` "reports"
    the reports they come from, each linked to its own statements. The template and its
    context; ScopeError for a `show` it does not know."""
    from django.core.paginator import Paginator

    if show not in ("", SHOW_REPORTS):
        raise ScopeError(f"show: {show!r} is not {SHOW_REPORTS!r}")
    rows = figure.rows(data)
    counts = report_counts(rows)
    context: dict[str, Any] = {
        "scope": data.scope,
        "figure": figure.describe(data),
        "count": len(rows),
        "report_count": len(counts),
        "statements_link": evidence_link(data, figure),
        "reports_link": evidence_link(data, figure, reports=True),
    }
    if show:
        listed = Paginator(counts, EVIDENCE_PAGE).get_page(page)
        reports = reports_page(data, list(listed.object_list))
        for report in reports:
            report["link"] = evidence_link(data, replace(figure, report=report["key"]))
        described = context["figure"]
        return "themes/_evidence_reports.html", context | {
            "page": listed,
            "reports": reports,
            "query": figure.query(data.scope, **{SHOW: SHOW_REPORTS}),
            "heading": f"Reports with {described[:1].lower()}{described[1:]}",
        }
    shown = Paginator(rows, EVIDENCE_PAGE).get_page(page)
    return "themes/_evidence_body.html", context | {
        "page": shown,
        "statements": statements_page(data, list(shown.object_list)),
        "query": figure.query(data.scope),
    }


# Downloads ------------------------------------------------------------------------------------


def statements_table(data: Corpus, rows: Sequence[CodedRow], base: str) -> list[list[Any]]:
    """The statements `rows`, all of them, as a table with a header: what an analyst takes
    away to work on (the evidence page's download). `base`: the site's address, for the
    links. Three queries, and one more for every further batch of the database's
    parameter limit."""
    from django.urls import reverse

    statements, sources = _statements_of(rows)
    names = data.names
    out: list[list[Any]] = [
        [
            "Statement",
            "Text",
            "Kind",
            "Stage",
            "About",
            "Report",
            "Year",
            "Force",
            "Region",
            "Programme type",
            "Themes",
            "Checked by a person",
            "Read it in its report",
            "Code it",
        ]
    ]
    for row in rows:
        statement = statements.get(row.statement_id)
        if statement is None:
            continue
        source = sources.get(row.statement_id, "")
        out.append(
            [
                statement.pk,
                statement.text,
                statement.kind_label,
                statement.stage_label if statement.stage else "",
                statement.get_agency_display(),
                statement.report_title,
                statement.year,
                row.force,
                row.region,
                label("programme_type", row.programme_type) if row.programme_type else "",
                "; ".join(names.get(k, k) for k, _ in data.themes if k in row.themes),
                "yes" if row.statement_id in data.decided else "no",
                f"{base}{source}" if source else "",
                f"{base}{reverse('themes:statement', args=[statement.pk])}",
            ]
        )
    return out


def figures_table(data: Corpus, facet: str) -> list[list[Any]]:
    """Each theme's prevalence, over the whole scope and by `facet`'s groups, as a table with
    a header: the analysis page's figures to take away. Shares and interval bounds are
    proportions (0 to 1). Each row also says what it counts and when (the scope, the
    codebook's version, the time), so a copy taken away can be read on its own."""
    keys = [k for k, _ in data.themes]
    names = data.names
    made = [
        data.scope.describe(),
        data.codebook.number if data.codebook else "",
        timezone.localtime().strftime("%Y-%m-%d %H:%M"),
    ]
    out: list[list[Any]] = [
        [
            "Theme",
            FACETS[facet],
            "Statements coded to the theme",
            "All statements",
            "Share",
            "95% interval, low",
            "95% interval, high",
            "Design effect",
            "Reports",
            "Scope",
            "Codebook version",
            "Figures as of",
        ]
    ]
    if not data.rows:
        return out
    cells = [
        *analysis.prevalence(data.rows, keys, None),
        *analysis.prevalence(data.rows, keys, facet),
    ]
    for c in cells:
        group = "All" if c.group == analysis.ALL else label(facet, c.group)
        out.append(
            [
                names[c.theme],
                group,
                c.count,
                c.total,
                round(c.share, 4),
                round(c.low, 4),
                round(c.high, 4),
                round(c.design_effect, 3),
                c.reports,
                *made,
            ]
        )
    return out


def report_pdf(
    report: ThematicReport, body_html: str, contents: list[dict[str, str]], on: dt.date
) -> bytes:
    """The thematic report as a PDF (WeasyPrint): title page, contents, page numbers."""
    from apps.reports.pdf import render_pdf

    data, _, _ = render_pdf(
        title=report.title,
        body_html=body_html,
        contents=contents,
        meta={
            "programme": "Draft national thematic report",
            "reference": f"Thematic report {report.pk}, version {report.version}",
            "published_on": on.isoformat(),
            "date_line": f"Draft of {on:%-d %B %Y}: not for publication",
            "publisher": "The inspectorate's thematic synthesis",
        },
    )
    return data


# What the pages show -------------------------------------------------------------------------


def evidence_link(data: Corpus, figure: Figure, *, reports: bool = False) -> str:
    """The evidence page of `figure`: its statements or, with `reports`, their reports."""
    from django.urls import reverse

    query = figure.query(data.scope, **{SHOW: SHOW_REPORTS if reports else ""})
    return f"{reverse('themes:evidence')}?{query}"


def _cell(data: Corpus, cell: Any, figure: Figure) -> dict[str, Any]:
    return {
        "count": cell.count,
        "total": cell.total,
        "share": cell.share,
        "low": cell.low,
        "high": cell.high,
        "reports": cell.reports,
        "link": evidence_link(data, figure),
    }


# How well the classifier's suggestions agree with people's coding of real published
# statements from reports it has not seen: `themes_evaluate` on the development set, held
# out, with the codebook the project ships (docs/themes.md, "Theme coding: accuracy"). Said
# where its suggestions are counted, as a measurement of that codebook.
HELD_OUT_MACRO_F1 = 0.70


def _reports_by_type(data: Corpus) -> list[dict[str, Any]]:
    """How many of the scope's reports are of each programme type, as a national thematic
    says what it draws on ("64 inspections: 17 NCPIs, 21 reviews, 26 JTAIs"), each number
    linked to those reports; the types in the vocabulary's order, "Not known" last."""
    reports: dict[str, set[str]] = {}
    for row in data.rows:
        reports.setdefault(analysis.group_label(row, "programme_type"), set()).add(row.report)
    order = {code: n for n, code in enumerate(ProgrammeType.values)}
    return [
        {
            "label": label("programme_type", value if value != analysis.NOT_KNOWN else ""),
            "reports": len(reports[value]),
            "link": evidence_link(data, Figure(facet="programme_type", value=value), reports=True),
        }
        for value in sorted(reports, key=lambda v: (order.get(v, len(order)), v))
    ]


def _summary(data: Corpus) -> dict[str, Any]:
    return {
        # When the figures were worked out, and from what: they change as people code and
        # the classifier retrains, so a printed copy says which state it shows.
        "as_of": timezone.now(),
        "classifiers": list(
            ClassifierVersion.objects.filter(pk__in=data.classifiers)
            .order_by("trained_at")
            .values_list("version", flat=True)
        )
        if data.classifiers
        else [],
        "held_out_f1": HELD_OUT_MACRO_F1,
        "statements": len(data.rows),
        "reports": data.reports,
        "checked": data.checked,
        "checked_share": data.checked / len(data.rows) if data.rows else 0.0,
        "codebook": data.codebook,
        "scope": data.scope.describe(),
        "police_only": data.scope.police_only,
        "all_link": evidence_link(data, Figure()),
        "reports_link": evidence_link(data, Figure(), reports=True),
        "checked_link": evidence_link(data, Figure(checked="yes")) if data.checked else "",
        # No theme yet: a codebook revision withdrew the classifier's suggestions and
        # themes have not been suggested again, or none fits; counted in no theme.
        "themeless": sum(1 for r in data.rows if not r.themes),
    }


def _overall(data: Corpus) -> list[dict[str, Any]]:
    names = data.names
    cells = analysis.prevalence(data.rows, [k for k, _ in data.themes], None)
    reports = data.reports  # a pass over every row: once, not once a theme
    out = [
        {
            "key": c.theme,
            "name": names[c.theme],
            **_cell(data, c, Figure(theme=c.theme)),
            "reports_link": evidence_link(data, Figure(theme=c.theme), reports=True),
            # As a national thematic puts it ("raised in 17 of the 64 inspections"): a
            # report that makes the same point in its summary and its body counts once.
            "reports_share": c.reports / reports if reports else 0.0,
        }
        for c in cells
    ]
    return sorted(out, key=lambda c: (-c["count"], c["name"]))


def _by_facet(data: Corpus, facet: str) -> dict[str, Any]:
    """A table of themes (rows) by the facet's groups (columns)."""
    keys = [k for k, _ in data.themes]
    cells = analysis.prevalence(data.rows, keys, facet)
    groups: list[str] = list(dict.fromkeys(c.group for c in cells))
    table: dict[str, dict[str, Any]] = {}
    totals: dict[str, Any] = {}
    for c in cells:
        table.setdefault(c.theme, {})[c.group] = _cell(
            data, c, Figure(theme=c.theme, facet=facet, value=c.group)
        )
        totals[c.group] = {
            "count": c.total,
            "reports": c.group_reports,
            "link": evidence_link(data, Figure(facet=facet, value=c.group)),
        }
    return {
        "facet": facet,
        "label": FACETS[facet],
        "groups": [{"value": g, "label": label(facet, g), **totals[g]} for g in groups],
        "rows": [
            {"name": name, "cells": [table[key][g] for g in groups]}
            for key, name in data.themes
            if key in table
        ],
    }


def _trends(data: Corpus) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    names = data.names
    for t in analysis.trends(data.rows, [k for k, _ in data.themes]):
        years: list[dict[str, Any]] = [
            {
                "year": y.year,
                "count": y.count,
                "total": y.total,
                "share": y.share,
                "low": y.low,
                "high": y.high,
                "link": evidence_link(data, Figure(theme=t.theme, facet="year", value=str(y.year))),
                "total_link": evidence_link(data, Figure(facet="year", value=str(y.year))),
            }
            for y in t.years
        ]
        out[t.theme] = {
            "key": t.theme,
            "name": names[t.theme],
            "direction": t.direction,
            "z": t.z,
            "p": t.p,
            "p_adjusted": t.p_adjusted,
            "slope": t.slope,
            "years": years,
            "chart": analysis.line_chart_svg(
                [(int(y["year"]), float(y["share"]), y["low"], y["high"]) for y in years],
                title=f"{names[t.theme]}: share of statements by year, with 95% intervals",
            )
            if len(years) > 1
            else "",
        }
    return out


def _pairs(data: Corpus, limit: int | None = None) -> list[dict[str, Any]]:
    names = data.names
    found = analysis.co_occurrence(data.rows, [k for k, _ in data.themes])
    pairs: list[dict[str, Any]] = [
        {
            "a": p.a,
            "b": p.b,
            "a_name": names[p.a],
            "b_name": names[p.b],
            "count": p.count,
            "jaccard": p.jaccard,
            "lift": p.lift,
            "p_adjusted": p.p_adjusted,
            "significant": p.significant,
            "link": evidence_link(data, Figure(theme=p.a, also=p.b)),
        }
        for p in found.pairs
        if p.count
    ]
    pairs.sort(key=lambda p: (-p["count"], p["a_name"], p["b_name"]))
    return pairs[:limit] if limit else pairs


def _contrast(data: Corpus) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for c in analysis.kind_contrast(data.rows, [k for k, _ in data.themes]):
        out[c.theme] = {
            "strengths": c.strengths,
            "strengths_total": c.strengths_total,
            "strengths_share": c.strengths_share,
            "strengths_interval": {"low": c.strengths_low, "high": c.strengths_high},
            "weaknesses": c.weaknesses,
            "weaknesses_total": c.weaknesses_total,
            "weaknesses_share": c.weaknesses_share,
            "weaknesses_interval": {"low": c.weaknesses_low, "high": c.weaknesses_high},
            "p_adjusted": c.p_adjusted,
            "leaning": c.leaning,
            "strengths_link": evidence_link(
                data, Figure(theme=c.theme, kinds=tuple(STRENGTH_KINDS_ORDER))
            ),
            "weaknesses_link": evidence_link(
                data, Figure(theme=c.theme, kinds=tuple(WEAKNESS_KINDS))
            ),
            "strengths_total_link": evidence_link(data, Figure(kinds=tuple(STRENGTH_KINDS_ORDER))),
            "weaknesses_total_link": evidence_link(data, Figure(kinds=tuple(WEAKNESS_KINDS))),
        }
    return out


def analysis_context(data: Corpus, *, facet: str = "year") -> dict[str, Any]:
    """Everything the analysis page shows, each figure with its evidence link."""
    overall = _overall(data)
    trends = _trends(data)
    contrast = _contrast(data)
    return {
        "summary": _summary(data),
        "overall": overall,
        "overall_chart": analysis.bar_chart_svg(
            [(c["name"], c["share"], c["low"], c["high"]) for c in overall],
            title="Share of statements coded to each theme, with 95% intervals",
        )
        if data.rows
        else "",
        "facets": FACETS,
        "by_facet": _by_facet(data, facet) if data.rows else None,
        "trends": [trends[c["key"]] for c in overall if c["key"] in trends],
        "pairs": _pairs(data, limit=30),
        "contrast": [
            {"name": c["name"], **contrast[c["key"]]} for c in overall if c["key"] in contrast
        ],
        "scope_query": data.scope.query(),
        "export_query": data.scope.query(by=facet),
    }


def case_files(data: Corpus) -> dict[str, Any] | None:
    """The case file grades of the scope's inspections, as their reports published them on
    the common scale (frameworks.loaders.COMPARABLE_SCALE), each linked to its report; None
    if no inspection of the scope has any. One query.

    A count the report withholds (fewer than 5, or one that would reveal such a count) stays
    withheld. So does an inspection's number of cases graded when only one of its counts is
    withheld, since the others and that number would give it away. The totals take only the
    inspections whose counts are all published, so no withheld count can be worked out from
    them."""
    ids = {
        int(r.report.removeprefix("inspection:"))
        for r in data.rows
        if r.report.startswith("inspection:")
    }
    if not ids:
        return None
    bands = [label for _, label in COMPARABLE_SCALE]
    # One publication an inspection: its English report, or its Welsh one if it has only that
    # (two languages can have two addresses if its forces changed between them).
    chosen: dict[int, Publication] = {}
    for publication in (
        listed_publications()
        .filter(inspection_id__in=ids)
        .only("inspection_id", "slug", "language", "title", "published_on", "data")
    ):
        have = chosen.get(publication.inspection_id)
        if have is None or (
            have.language != Language.ENGLISH and publication.language == Language.ENGLISH
        ):
            chosen[publication.inspection_id] = publication
    rows: list[dict[str, Any]] = []
    other_scale: list[dict[str, Any]] = []
    for publication in sorted(chosen.values(), key=lambda p: (p.published_on, p.slug)):
        grades = grade_counts(publication.data or {})
        if grades is None:
            continue
        row: dict[str, Any] = {
            "reference": (publication.data or {}).get("reference") or publication.slug,
            "title": publication.title,
            "language": publication.language,
            "published_on": publication.published_on,
            "link": report_url(publication.slug, publication.language),
            "cases": grades.total,
        }
        comparable = grades.comparable
        if comparable is None or (
            None not in comparable and not sum(c or 0 for c in comparable) and grades.total
        ):
            other_scale.append(row)  # graded on a scale with no common bands
            continue
        withheld = sum(1 for count in comparable if count is None)
        if withheld == 1:
            row["cases"] = None
        row["counts"] = [
            {"band": band, "count": count} for band, count in zip(bands, comparable, strict=True)
        ]
        row["complete"] = not withheld
        rows.append(row)
    if not rows and not other_scale:
        return None
    complete = [r for r in rows if r["complete"]]
    sums = [sum(r["counts"][i]["count"] for r in complete) for i in range(len(bands))]
    cases = sum(sums)
    totals = [
        {"band": band, "count": n, "share": n / cases if cases else 0.0}
        for band, n in zip(bands, sums, strict=True)
    ]
    return {
        "bands": bands,
        "rows": rows,
        "other_scale": other_scale,
        "graded": len(rows) + len(other_scale),
        "totals": totals,
        "cases": cases,
        "inspections": len(complete),
        "withheld": len(rows) - len(complete),
        "chart": analysis.bar_chart_svg(
            [(t["band"], t["share"], None, None) for t in totals],
            title=f"Cases by grade, {cases:,} case{'s' if cases != 1 else ''} from "
            f"{len(complete)} inspection{'s' if len(complete) != 1 else ''}",
            chart_id="case-files-chart",
        )
        if cases
        else "",
    }


def report_context(data: Corpus) -> dict[str, Any]:
    """Everything a thematic report shows: per theme, its prevalence, trend, representative
    statements, good practice, and the recommendations made with their follow-up status.
    A fixed number of queries whatever the corpus (the quotes of every theme at once)."""
    overall = _overall(data)
    trends = _trends(data)
    contrast = _contrast(data)
    pairs = _pairs(data)
    statuses = recommendation_statuses(data, data.rows)
    wanted: dict[str, tuple[str, list[CodedRow]]] = {}
    sections = []
    for theme in overall:
        if not theme["count"]:
            continue
        key = theme["key"]
        coded = rows_for(data, theme=key)
        good = [r for r in coded if r.kind in STRENGTH_KINDS]
        wanted[f"good:{key}"] = (key, good_picked := pick(data, good, key, 3))
        recommendations = [r for r in coded if r.kind == "recommendation"]
        wanted[f"rec:{key}"] = (key, rec_picked := pick(data, recommendations, key, 5))
        # What inspectors found: the theme's other statements, none quoted twice in the
        # section (good practice and the recommendations are quoted under their own heads).
        below = {r.statement_id for r in (*good_picked, *rec_picked)}
        others = [r for r in coded if r.statement_id not in below]
        wanted[key] = (key, pick(data, others, key, REPRESENTATIVE))
        counted, untracked = status_counts(recommendations, statuses)
        sections.append(
            {
                **theme,
                "id": f"theme-{key}",
                "trend": trends.get(key),
                "contrast": contrast.get(key),
                "related": [p for p in pairs if key in (p["a"], p["b"])][:3],
                "recommendations": len(recommendations),
                "recommendations_link": evidence_link(
                    data, Figure(theme=key, kinds=("recommendation",))
                ),
                "statuses": [
                    {
                        "label": status_label,
                        "count": n,
                        "link": evidence_link(data, Figure(theme=key, status=status)),
                    }
                    for status, status_label, n in counted
                ],
                "untracked": untracked,
            }
        )
    quotes = materialise(data, wanted)
    for section in sections:
        key = section["key"]
        section["quotes"] = quotes[key]
        section["good_practice"] = quotes[f"good:{key}"]
        section["recommendation_quotes"] = [
            (q, dict(RecommendationStatus.choices).get(statuses.get(q.statement.pk, ""), ""))
            for q in quotes[f"rec:{key}"]
        ]
    emerging = [t for t in trends.values() if t["direction"] == "emerging"]
    declining = [t for t in trends.values() if t["direction"] == "declining"]
    cases = case_files(data)
    return {
        # The report says what it draws on by programme type; the analysis page has facets.
        "summary": {**_summary(data), "by_type": _reports_by_type(data)},
        "case_files": cases,
        "overall": overall,
        "overall_chart": analysis.bar_chart_svg(
            [(c["name"], c["share"], c["low"], c["high"]) for c in overall],
            title="Share of statements coded to each theme, with 95% intervals",
        )
        if data.rows
        else "",
        "sections": sections,
        "emerging": emerging,
        "declining": declining,
        "pairs": [p for p in pairs if p["significant"]][:15],
        "contents": [
            {"id": "summary", "title": "Summary"},
            *([{"id": "case-files", "title": "Case files"}] if cases else []),
            *({"id": s["id"], "title": s["name"]} for s in sections),
            {"id": "co-occurrence", "title": "Themes found together"},
            {"id": "method", "title": "How the figures were made"},
        ],
    }
