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
from apps.inspections.models import Inspection

from .models import DisclosureHit, Report, ReportSection, SectionKind

SMALL_NUMBER_MAX = 4
SUPPRESSED_LABEL = "fewer than 5"


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
    percent: float
    suppressed: bool = False
    secondary: bool = False  # suppressed so that another suppressed cell cannot be worked out
    shown_reason: str = ""  # a small number shown, and why


@dataclass
class Row:
    label: str
    cells: list[Cell]
    total: int


@dataclass
class Table:
    key: str
    caption: str
    columns: list[str]
    rows: list[Row]
    total_row: Row | None = None
    note: str = ""

    def cell_location(self, row: Row, column: int) -> str:
        return table_location(self.key, row.label, self.columns[column])


def table_location(key: str, row: str, column: str) -> str:
    return f"table:{key}:{row}:{column}"[:120]


def _from_grade_table(key: str, table: GradeTable, note: str = "") -> Table:
    def row(grade_row: Any) -> Row:
        return Row(
            grade_row.label,
            [Cell(n, p) for n, p in grade_row.cells],
            grade_row.total,
        )

    return Table(
        key=key,
        caption=table.caption,
        columns=list(table.grades),
        rows=[row(r) for r in table.rows],
        total_row=row(table.total) if table.total else None,
        note=note,
    )


def suppress(table: Table, shown: dict[str, str]) -> list[tuple[Row, int]]:
    """Mark counts of 1 to 4 as suppressed unless `shown` (location -> reason) says to show
    them, then suppress further cells so that no suppressed count can be worked out from the
    row and column totals: while a row or column has exactly one suppressed cell, the smallest
    other non-zero cell in it is suppressed too. Returns the small cells (primary ones)."""
    small: list[tuple[Row, int]] = []
    rows = table.rows
    for row in rows:
        for i, cell in enumerate(row.cells):
            if 1 <= cell.count <= SMALL_NUMBER_MAX:
                small.append((row, i))
                reason = shown.get(table.cell_location(row, i))
                if reason:
                    cell.shown_reason = reason
                else:
                    cell.suppressed = True
    width = len(table.columns)
    lines: list[list[Cell]] = [r.cells for r in rows] + [
        [r.cells[i] for r in rows] for i in range(width)
    ]
    changed = True
    while changed:
        changed = False
        for line in lines:
            hidden = [c for c in line if c.suppressed]
            if len(hidden) != 1:
                continue
            others = [c for c in line if not c.suppressed and c.count > 0]
            if not others:
                continue
            smallest = min(others, key=lambda c: c.count)
            smallest.suppressed = smallest.secondary = True
            changed = True
    if table.total_row is not None:
        # A total of the whole column that is itself small is suppressed like any count.
        for i, cell in enumerate(table.total_row.cells):
            if 1 <= cell.count <= SMALL_NUMBER_MAX and not shown.get(
                table.cell_location(table.total_row, i)
            ):
                cell.suppressed = True
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

    def texts(self) -> list[tuple[str, str, str]]:
        """Every piece of free text that will be published: (location, label, text)."""
        items: list[tuple[str, str, str]] = []
        for content in self.sections:
            items.append(
                (f"section:{content.section.pk}", content.section.title, content.section.body)
            )
        for finding in self.findings:
            what = str(finding)[:80]
            items.append(
                (f"finding:{finding.pk}:headline", f"Headline of {what}", finding.headline)
            )
            if finding.narrative:
                items.append(
                    (f"finding:{finding.pk}:narrative", f"Narrative of {what}", finding.narrative)
                )
        return items

    def fingerprint(self) -> str:
        """SHA-256 of everything the report would publish (text, findings, tables)."""
        payload = {
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
                (t.key, [(r.label, [c.count for c in r.cells]) for r in t.rows])
                for t in self.tables
            ],
            "shown": sorted(
                (t.cell_location(r, i), r.cells[i].shown_reason) for t, r, i in self.small_cells
            ),
        }
        encoded = json.dumps(payload, sort_keys=True, default=str).encode()
        return hashlib.sha256(encoded).hexdigest()


def _shown_small_numbers(report: Report) -> dict[str, str]:
    return dict(
        DisclosureHit.objects.filter(
            report=report,
            hit_type=DisclosureHit.SMALL_NUMBER,
            status=DisclosureHit.Status.DISMISSED,
        ).values_list("location", "reason")
    )


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
    shown = _shown_small_numbers(report)
    small_cells = [(t, row, i) for t in tables for row, i in suppress(t, shown)]
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
    )
