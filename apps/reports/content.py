"""What a report says, gathered in one place: its sections' text, the findings of each stage,
the case file tables (with small numbers suppressed) and the context figures.

The same content feeds the draft preview, the disclosure check, the fingerprint that sign-off
and the check record, and the frozen publication, so what was checked and signed off is
exactly what is published.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Prefetch

from apps.fieldwork.selectors import GradeTable, inspection_results
from apps.fieldwork.services import grades_cases
from apps.findings.models import Finding, Kind
from apps.findings.selectors import KIND_ORDER, kind_labels
from apps.frameworks.loaders import COMPARABLE_SCALE
from apps.inspections.models import Inspection

from .models import DisclosureHit, Publication, Report, ReportSection, SectionKind

SMALL_NUMBER_MAX = 4
SUPPRESSED_LABEL = "fewer than 5"
WITHHELD_LABEL = "withheld"


# Text -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    """A block of section text: a paragraph, a subheading or a bullet list."""

    kind: str  # "p", "h3" or "ul"
    text: str = ""
    items: tuple[str, ...] = ()


def blocks(body: str) -> list[Block]:
    """Section text in a plain format authors can type: paragraphs separated by blank lines,
    "### " starts a subheading, lines starting "- " make a bullet list."""
    result: list[Block] = []
    for chunk in re.split(r"\n\s*\n", body.replace("\r\n", "\n").strip()):
        lines = [line.strip() for line in chunk.split("\n") if line.strip()]
        if not lines:
            continue
        if all(line.startswith("- ") for line in lines):
            result.append(Block("ul", items=tuple(line[2:].strip() for line in lines)))
        elif lines[0].startswith("### ") and len(lines) == 1:
            result.append(Block("h3", text=lines[0][4:].strip()))
        else:
            result.append(Block("p", text=" ".join(lines)))
    return result


# Tables -----------------------------------------------------------------------------------


@dataclass
class Cell:
    count: int
    suppressed: bool = False
    secondary: bool = False  # withheld so that another withheld count cannot be worked out
    shown_reason: str = ""  # a small number shown, and why

    @property
    def label(self) -> str:
        """What the public sees for a withheld count."""
        return WITHHELD_LABEL if self.secondary else SUPPRESSED_LABEL


@dataclass
class Row:
    label: str
    cells: list[Cell]
    total: Cell  # the row's margin: its number of cases

    def percent(self, cell: Cell) -> float | None:
        """A cell's share of the row, where both are shown (a percentage and its count would
        otherwise give the withheld total away)."""
        if cell.suppressed or self.total.suppressed or not self.total.count:
            return None
        return 100 * cell.count / self.total.count

    @property
    def shown(self) -> list[tuple[Cell, float | None]]:
        return [(cell, self.percent(cell)) for cell in self.cells]

    @property
    def any_withheld(self) -> bool:
        return self.total.suppressed or any(c.suppressed for c in self.cells)


TOTAL_COLUMN = "Cases"


@dataclass
class Table:
    key: str
    caption: str
    columns: list[str]
    rows: list[Row]
    total_row: Row | None = None
    note: str = ""

    def cell_location(self, row: Row, column: int) -> str:
        """column -1 is the row's total."""
        name = TOTAL_COLUMN if column < 0 else self.columns[column]
        return table_location(self.key, row.label, name)

    def cell(self, row: Row, column: int) -> Cell:
        return row.total if column < 0 else row.cells[column]

    @property
    def all_rows(self) -> list[Row]:
        return [*self.rows, *([self.total_row] if self.total_row else [])]


def table_location(key: str, row: str, column: str) -> str:
    return f"table:{key}:{row}:{column}"[:120]


def _from_grade_table(key: str, table: GradeTable, note: str = "") -> Table:
    def row(grade_row: Any) -> Row:
        return Row(grade_row.label, [Cell(n) for n in grade_row.counts], Cell(grade_row.total))

    return Table(
        key=key,
        caption=table.caption,
        columns=list(table.grades),
        rows=[row(r) for r in table.rows],
        total_row=row(table.total) if table.total else None,
        note=note,
    )


Shown = dict[tuple[str, int], str]  # (location, count) -> why that small number may be shown


def suppress(
    table: Table, shown: Shown, forced: frozenset[tuple[int, int]] = frozenset()
) -> list[tuple[Row, int]]:
    """Withhold the table's small numbers so that none can be read or worked out.

    Every count of 1 to 4, in a cell or a total, is withheld as "fewer than 5" unless `shown`
    records why that count, in that place, may be shown. `forced` cells (row index, column;
    -1 for the row's total) are withheld too, because another table withholds the same
    number. Then, while any line (a row with its total, a column with the column total, the
    row totals with the grand total) has exactly one withheld number among its counts and
    its total, which subtraction would give away, another is withheld: the smallest other
    non-zero count of the line, or else the line's total. Such cells show as "withheld".
    Returns the small numbers found (the hits of the disclosure check)."""
    small: list[tuple[Row, int]] = []
    width = len(table.columns)
    for row in table.all_rows:
        for column in [*range(width), -1]:
            cell = table.cell(row, column)
            if 1 <= cell.count <= SMALL_NUMBER_MAX:
                small.append((row, column))
                reason = shown.get((table.cell_location(row, column), cell.count))
                if reason:
                    cell.shown_reason = reason
                else:
                    cell.suppressed = True
    for index, column in forced:
        cell = table.cell(table.rows[index], column)
        if not cell.suppressed and cell.count:
            cell.suppressed = cell.secondary = True
    lines: list[tuple[list[Cell], Cell]] = [(row.cells, row.total) for row in table.rows]
    if table.total_row is not None:
        totals = table.total_row
        lines.append((totals.cells, totals.total))
        lines += [([row.cells[j] for row in table.rows], totals.cells[j]) for j in range(width)]
        lines.append(([row.total for row in table.rows], totals.total))
    # Each line is a sum: its cells add up to its total. A line with exactly one withheld
    # number (a cell or the total) would give it away, so another is withheld with it.
    changed = True
    while changed:
        changed = False
        for cells, margin in lines:
            if sum(c.suppressed for c in [*cells, margin]) != 1:
                continue
            others = [c for c in cells if not c.suppressed and c.count > 0]
            chosen = min(others, key=lambda c: c.count) if others else margin
            if chosen.suppressed:  # cannot happen: a withheld count makes its total non-zero
                continue
            chosen.suppressed = chosen.secondary = True
            changed = True
    return small


# The content ------------------------------------------------------------------------------


@dataclass
class SectionContent:
    section: ReportSection
    blocks: list[Block]
    findings: list[Finding] = field(default_factory=list)
    recommendations: list[Finding] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        return self.section.slug


@dataclass
class ReportContent:
    report: Report
    inspection: Inspection
    sections: list[SectionContent]
    findings: list[Finding]
    recommendations: list[Finding]
    causes: list[Finding]
    tables: list[Table]
    small_cells: list[tuple[Table, Row, int]]
    labels: dict[str, str]
    results: dict[str, Any] | None
    decisions: list[tuple[str, str, str]]

    def texts(self) -> list[tuple[str, str, str]]:
        """Every piece of free text that will be published: (location, label, text)."""
        items: list[tuple[str, str, str]] = [
            (f"report:{self.report.pk}:title", "The report's title", self.report.title)
        ]
        for content in self.sections:
            items.append(
                (
                    f"section:{content.section.pk}:title",
                    f"Title of {content.section.title}",
                    content.section.title,
                )
            )
            items.append(
                (f"section:{content.section.pk}", content.section.title, content.section.body)
            )
        if self.report.language != "en":
            return items  # the translator's sections carry the findings in Welsh
        for finding in self.findings:
            what = str(finding)[:80]
            if finding.national_bodies:
                items.append(
                    (
                        f"finding:{finding.pk}:national_bodies",
                        f"Addressees of {what}",
                        finding.national_bodies,
                    )
                )
            items.append(
                (f"finding:{finding.pk}:headline", f"Headline of {what}", finding.headline)
            )
            if finding.narrative:
                items.append(
                    (f"finding:{finding.pk}:narrative", f"Narrative of {what}", finding.narrative)
                )
        return items

    def fingerprint(self) -> str:
        """SHA-256 of everything the report would publish (title, text, findings, tables) and
        of the decisions on what the disclosure check found, so that a change to any of them
        lapses a sign-off."""
        payload = {
            "title": self.report.title,
            "sections": [(c.section.pk, c.section.title, c.section.body) for c in self.sections],
            "findings": [
                (
                    f.pk,
                    f.kind,
                    f.stage,
                    f.headline,
                    f.narrative,
                    f.number,
                    f.cause_of_concern_id,
                    f.addressees(),
                    f.timescale_text(),
                )
                for f in self.findings
            ],
            "tables": [
                (
                    t.key,
                    [
                        (r.label, [(c.count, c.suppressed) for c in [*r.cells, r.total]])
                        for r in t.all_rows
                    ],
                )
                for t in self.tables
            ],
            "decisions": self.decisions,
        }
        encoded = json.dumps(payload, sort_keys=True, default=str).encode()
        return hashlib.sha256(encoded).hexdigest()


def _decisions(report: Report) -> list[tuple[str, str, str]]:
    return sorted(
        DisclosureHit.objects.filter(report=report)
        .exclude(status=DisclosureHit.Status.OPEN)
        .values_list("fingerprint", "status", "reason")
    )


def _shown_small_numbers(report: Report) -> Shown:
    """Small numbers someone decided may be shown, by place and count: a dismissal holds for
    that count only, so a count that changes is checked again."""
    return {
        (location, int(text)): reason
        for location, text, reason in DisclosureHit.objects.filter(
            report=report,
            hit_type=DisclosureHit.SMALL_NUMBER,
            status=DisclosureHit.Status.DISMISSED,
        ).values_list("location", "text", "reason")
    }


def case_tables(inspection: Inspection) -> tuple[list[Table], dict[str, Any] | None]:
    if not grades_cases(inspection):
        return [], None
    results = inspection_results(inspection)
    if not results["by_area"].total or not results["by_area"].total.total:
        return [], results
    tables = [
        _from_grade_table("by-area", results["by_area"]),
        _from_grade_table("by-stage", results["by_stage"]),
    ]
    comparison = results["comparison"]
    # The national row is every case in the programme: shown as it is, never small.
    tables.append(
        _from_grade_table(
            "comparison",
            GradeTable(comparison.caption, comparison.grades, comparison.rows[:-1], None),
            note="On the common three-point scale, so that inspections graded under different "
            "methodologies can be compared.",
        )
    )
    return tables, results


def _comparison_forced(
    inspection: Inspection, by_area: Table, previous: Inspection | None
) -> frozenset[tuple[int, int]]:
    """The comparison table repeats numbers of other tables: this inspection's grades on the
    common scale (sums of the by-area totals) and the previous inspection's (as its own report
    published them). A number withheld there is withheld here too, so that no table gives
    away what another withholds."""
    forced: set[tuple[int, int]] = set()
    totals = by_area.total_row
    assert totals is not None
    codes = [code for code, _ in COMPARABLE_SCALE]
    methodology = inspection.methodology
    for grade, cell in zip(by_area.columns, totals.cells, strict=True):
        if cell.suppressed and (code := methodology.comparable(grade)) in codes:
            forced.add((0, codes.index(code)))
    if totals.total.suppressed:
        forced.add((0, -1))
    if previous is not None:
        published = (
            Publication.objects.filter(inspection=previous, is_current=True, language="en")
            .values_list("data", flat=True)
            .first()
        )
        grades = (published or {}).get("case_grades") or {}
        comparable = grades.get("comparable") or {}
        forced |= {(1, i) for i, code in enumerate(codes) if comparable.get(code, 0) is None}
        if comparable and grades.get("total", 0) is None:
            forced.add((1, -1))
    return frozenset(forced)


def _suppress_all(
    inspection: Inspection, tables: list[Table], results: dict[str, Any] | None, shown: Shown
) -> list[tuple[Table, Row, int]]:
    small: list[tuple[Table, Row, int]] = []
    by_area = next((t for t in tables if t.key == "by-area"), None)
    for table in tables:
        forced: frozenset[tuple[int, int]] = frozenset()
        if table.key == "comparison" and by_area is not None and results is not None:
            forced = _comparison_forced(inspection, by_area, results.get("previous"))
        small += [(table, row, column) for row, column in suppress(table, shown, forced)]
    return small


def report_content(report: Report) -> ReportContent:
    inspection = report.inspection
    sections = list(
        ReportSection.objects.filter(report=report).select_related("updated_by").order_by("order")
    )
    findings = list(
        Finding.objects.filter(inspection=inspection)
        .select_related("cause_of_concern")
        .prefetch_related(
            Prefetch("recommendations", queryset=Finding.objects.order_by("number", "id"))
        )
        .order_by("order", "id")
    )
    rank = {kind: i for i, kind in enumerate(KIND_ORDER)}
    findings.sort(key=lambda f: (rank[Kind(f.kind)], f.order, f.pk))
    recommendations = sorted(
        (f for f in findings if f.kind == Kind.RECOMMENDATION), key=lambda f: (f.number or 0, f.pk)
    )
    by_stage: dict[str, list[Finding]] = defaultdict(list)
    recs_by_stage: dict[str, list[Finding]] = defaultdict(list)
    for finding in findings:
        target = recs_by_stage if finding.kind == Kind.RECOMMENDATION else by_stage
        target[finding.stage].append(finding)
    stage_codes = {s.stage for s in sections if s.kind == SectionKind.STAGE}
    content_sections = []
    for section in sections:
        content = SectionContent(section, blocks(section.body))
        if section.kind == SectionKind.STAGE:
            content.findings = by_stage.get(section.stage, [])
            content.recommendations = recs_by_stage.get(section.stage, [])
        elif section.kind == SectionKind.CONCLUSION:
            # Findings about the force as a whole (or a stage without a section) go here.
            content.findings = [
                f for stage, items in by_stage.items() if stage not in stage_codes for f in items
            ]
            content.recommendations = [
                f
                for stage, items in recs_by_stage.items()
                if stage not in stage_codes
                for f in items
            ]
        content_sections.append(content)
    tables, results = case_tables(inspection)
    small_cells = _suppress_all(inspection, tables, results, _shown_small_numbers(report))
    return ReportContent(
        report=report,
        inspection=inspection,
        sections=content_sections,
        findings=findings,
        recommendations=recommendations,
        causes=[f for f in findings if f.kind == Kind.CAUSE_OF_CONCERN],
        tables=tables,
        small_cells=small_cells,
        labels=kind_labels(inspection),
        results=results,
        decisions=_decisions(report),
    )
