"""Turning report content into what is published: the body HTML, its contents list, the
plain text for search, and the frozen data (grade counts and recommendations) for the portal
and open data."""

from __future__ import annotations

import html
import re
from typing import Any

from django.template.loader import render_to_string
from django.utils.html import strip_tags

from apps.findings.models import Kind
from apps.frameworks.loaders import COMPARABLE_SCALE
from apps.inspections.models import Inspection
from apps.reference.selectors import figure_lines

from .content import SUPPRESSED_LABEL, WITHHELD_LABEL, Cell, ReportContent, Table
from .models import Publication


def _figures(inspection: Inspection) -> tuple[list[Any], str]:
    """The force's latest context figures (the first force's, for a joint inspection): only
    the figures, not the force page's areas and map. Two queries."""
    force = (
        inspection.forces.defer("boundary", "boundary_map")
        .prefetch_related("context_figures")
        .order_by("name")
        .first()
    )
    if force is None or not force.territorial:
        return [], ""
    lines = figure_lines(
        force.context_figures.all(), country=force.country, territorial=force.territorial
    )
    return lines, force.name


def _audited_total(content: ReportContent) -> int | None:
    """The number of cases audited, unless the tables withhold it."""
    for table in content.tables:
        if table.key == "by-area" and table.total_row is not None:
            total = table.total_row.total
            return None if total.suppressed else total.count
    return None


def render_body(content: ReportContent) -> str:
    figures, figures_for = _figures(content.inspection)
    return render_to_string(
        "reports/_body.html",
        {
            "content": content,
            "figures": figures,
            "figures_for": figures_for,
            "suppressed_label": SUPPRESSED_LABEL,
            "withheld_label": WITHHELD_LABEL,
            "audited_total": _audited_total(content),
            "welsh": content.report.language == "cy",
        },
    )


def contents_list(content: ReportContent) -> list[dict[str, str]]:
    return [{"id": c.anchor, "title": c.section.title} for c in content.sections]


def search_text(body_html: str) -> str:
    """The words of the body, tags replaced by spaces so that table cells stay apart."""
    spaced = re.sub(r"<[^>]*>", " ", body_html)
    return re.sub(r"\s+", " ", html.unescape(strip_tags(spaced))).strip()


def summary_text(content: ReportContent) -> str:
    """A short summary for lists and the feed: the summary section's first paragraph."""
    for section in content.sections:
        if section.section.kind == "summary":
            for block in section.blocks:
                if block.kind == "p":
                    return block.text[:600]
    return content.report.title


def _count(cell: Cell) -> int | None:
    return None if cell.suppressed else cell.count


def _grade_counts(table: Table | None, scale: list[str]) -> dict[str, Any] | None:
    """The inspection's case grade counts as published: None where the report withholds one."""
    if table is None or table.total_row is None or not table.total_row.total.count:
        return None
    totals = table.total_row
    return {
        "scale": scale,
        "counts": {g: _count(c) for g, c in zip(scale, totals.cells, strict=True)},
        "total": _count(totals.total),
    }


def publication_data(content: ReportContent, *, due_dates: dict[int, str | None]) -> dict[str, Any]:
    inspection = content.inspection
    methodology = inspection.methodology
    by_area = next((t for t in content.tables if t.key == "by-area"), None)
    grades = _grade_counts(by_area, list(methodology.grade_scale))
    if grades is not None:
        comparison = next((t for t in content.tables if t.key == "comparison"), None)
        row = comparison.rows[0] if comparison and comparison.rows else None
        grades["comparable"] = (
            {
                code: (None if cell.suppressed else cell.count)
                for code, cell in zip(
                    (code for code, _ in COMPARABLE_SCALE), row.cells, strict=True
                )
            }
            if row is not None
            else None
        )
    counts = dict.fromkeys(Kind.values, 0)
    for finding in content.findings:
        counts[finding.kind] += 1
    stage_names = {s["code"]: s["name"] for s in methodology.stages}
    follows = inspection.follows
    followed_slug = (
        Publication.objects.filter(inspection=follows, is_current=True)
        .values_list("slug", flat=True)
        .first()
        if follows
        else None
    )
    return {
        "reference": inspection.reference,
        "programme_type": inspection.programme_type,
        "programme_type_label": inspection.get_programme_type_display(),
        "forces": [{"slug": f.slug, "name": f.name} for f in inspection.forces.order_by("name")],
        "local_authorities": [
            {"code": a.code, "name": a.name} for a in inspection.local_authorities.order_by("name")
        ],
        "fieldwork_start": inspection.fieldwork_start.isoformat()
        if inspection.fieldwork_start
        else None,
        "fieldwork_end": inspection.fieldwork_end.isoformat() if inspection.fieldwork_end else None,
        "methodology": {
            "code": methodology.code,
            "title": methodology.title,
            "scale": list(methodology.grade_scale),
        },
        "case_grades": grades,
        "findings_counts": counts,
        "recommendations": [
            {
                "finding_id": rec.pk,
                "number": rec.number,
                "text": rec.headline,
                "addressees": rec.addressees(),
                "timescale": rec.timescale_text(),
                "due_on": due_dates.get(rec.pk),
                "stage": stage_names.get(rec.stage, ""),
                "cause_of_concern": rec.cause_of_concern.headline if rec.cause_of_concern else None,
            }
            for rec in content.recommendations
        ],
        "follows": {
            "slug": followed_slug,
            "reference": follows.reference,
            "title": follows.title,
        }
        if follows
        else None,
    }
