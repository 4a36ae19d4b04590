"""Open data: the published reports, their recommendations (with current public status) and
their case grade counts, as CSV and JSON.

Each dataset's columns are declared once, here: the open data page documents them, the CSV
header and the JSON `fields` list come from them, and docs/open-data.md repeats them (a test
checks it does). Only current versions of published reports are included, one row per report
(the English version, or the Welsh for a report published only in Welsh).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from apps.core.views import spreadsheet_safe
from apps.frameworks.loaders import COMPARABLE_SCALE
from apps.reports.models import Language, Publication

from . import selectors

LICENCE = "Open Government Licence v3.0"
LICENCE_URL = "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"
LIST_SEPARATOR = "; "
FORMATS = ("csv", "json")


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    meaning: str


@dataclass(frozen=True)
class Dataset:
    slug: str
    title: str
    description: str
    row_meaning: str
    columns: tuple[Column, ...]
    kinds: tuple[str, ...]  # the data versions the content depends on
    rows: Callable[[], list[dict[str, Any]]]

    def filename(self, fmt: str) -> str:
        return f"{self.slug}.{fmt}"


def _site(path: str) -> str:
    return settings.INSPECTORATE_SITE_URL.rstrip("/") + path


def _current() -> list[Publication]:
    return list(selectors.listed_publications().order_by("-published_on", "slug"))


def _forces(data: dict[str, Any]) -> tuple[list[str], list[str]]:
    forces = data.get("forces") or []
    return [str(f.get("slug", "")) for f in forces], [str(f.get("name", "")) for f in forces]


# Reports -----------------------------------------------------------------------------------

REPORT_COLUMNS = (
    Column("slug", "text", "The report's identifier, which stays the same across versions"),
    Column("reference", "text", "The inspection's reference, for example NCPI-2024-017"),
    Column("title", "text", "The report's title"),
    Column(
        "programme_type",
        "code",
        "ncpi, ncpi_review, ncpi_reinspection, jtai, jicpa, thematic or other",
    ),
    Column("programme_type_label", "text", "The programme type in words"),
    Column(
        "forces", "list of text", "The police forces inspected, by their data.police.uk force id"
    ),
    Column("force_names", "list of text", "The police forces inspected, by name"),
    Column(
        "local_authorities",
        "list of text",
        "The local authority areas of a joint inspection, by ONS code (empty for others)",
    ),
    Column("local_authority_names", "list of text", "The local authority areas, by name"),
    Column("published_on", "date", "When the current version was published"),
    Column("version", "integer", "The current version's number: 1, then 2 if republished"),
    Column("fieldwork_start", "date or empty", "The first day of fieldwork"),
    Column("fieldwork_end", "date or empty", "The last day of fieldwork"),
    Column("methodology", "code", "The methodology the inspection followed"),
    Column(
        "cases_graded",
        "integer or empty",
        "Case files graded by inspectors (empty: no case audits in this inspection, or the "
        "report withholds the total because a small number could be worked out from it)",
    ),
    Column("recommendations", "integer", "The number of recommendations in the report"),
    Column("summary", "text", "A short summary of the report"),
    Column("url", "URL", "The report's web page"),
    Column("pdf_url", "URL", "The report as a PDF"),
    Column("welsh_url", "URL or empty", "The report's Welsh version, if there is one"),
)


def report_rows() -> list[dict[str, Any]]:
    """Two queries."""
    publications = _current()
    welsh = set(
        Publication.objects.filter(is_current=True, language=Language.WELSH).values_list(
            "slug", flat=True
        )
    )
    rows = []
    for p in publications:
        data = p.data or {}
        slugs, names = _forces(data)
        areas = data.get("local_authorities") or []
        grades = data.get("case_grades") or None
        rows.append(
            {
                "slug": p.slug,
                "reference": data.get("reference") or "",
                "title": p.title,
                "programme_type": p.programme_type,
                "programme_type_label": data.get("programme_type_label")
                or selectors.programme_type_label(p.programme_type),
                "forces": slugs,
                "force_names": names,
                "local_authorities": [str(a.get("code", "")) for a in areas],
                "local_authority_names": [str(a.get("name", "")) for a in areas],
                "published_on": p.published_on.isoformat(),
                "version": p.version,
                "fieldwork_start": data.get("fieldwork_start") or None,
                "fieldwork_end": data.get("fieldwork_end") or None,
                "methodology": (data.get("methodology") or {}).get("code") or "",
                "cases_graded": grades.get("total") if grades else None,
                "recommendations": len(data.get("recommendations") or []),
                "summary": p.summary,
                "url": _site(selectors.report_url(p.slug, p.language)),
                "pdf_url": _site(selectors.pdf_url(p.slug, p.language)),
                "welsh_url": _site(selectors.report_url(p.slug, Language.WELSH))
                if p.language == Language.ENGLISH and p.slug in welsh
                else None,
            }
        )
    return rows


# Recommendations ---------------------------------------------------------------------------

RECOMMENDATION_COLUMNS = (
    Column("recommendation_id", "integer", "The recommendation's identifier; it does not change"),
    Column("report_slug", "text", "The report it was made in (see the reports dataset)"),
    Column("reference", "text", "The inspection's reference"),
    Column("forces", "list of text", "The police forces inspected, by data.police.uk force id"),
    Column("published_on", "date", "When the report's current version was published"),
    Column("number", "integer", "The recommendation's number in the report"),
    Column("text", "text", "The recommendation as published"),
    Column("addressees", "list of text", "Who it is addressed to"),
    Column("timescale", "text", "When it is to be done, as the report says"),
    Column("due_on", "date or empty", "The date it is due, worked out at publication"),
    Column("stage", "text", "The stage of the child's journey or topic it belongs to"),
    Column(
        "cause_of_concern",
        "text or empty",
        "The cause of concern it answers, if it answers one",
    ),
    Column(
        "status",
        "code or empty",
        "Its current public status: awaiting_response, action_plan_received, "
        "being_progressed, evidence_submitted, achieved, partly_achieved, not_achieved, "
        "closed or carried_over",
    ),
    Column("status_label", "text or empty", "The current status in words"),
    Column("status_on", "date or empty", "When the current status was recorded"),
    Column(
        "history",
        "list of steps",
        "Every status step, oldest first. JSON: objects with status, on and note. CSV: "
        "'YYYY-MM-DD status' for each step (notes are in the JSON only)",
    ),
)


def recommendation_rows() -> list[dict[str, Any]]:
    """Two queries."""
    publications = _current()
    histories = selectors.status_histories(
        int(r["finding_id"])
        for p in publications
        for r in (p.data or {}).get("recommendations") or []
        if r.get("finding_id")
    )
    rows = []
    for p in publications:
        data = p.data or {}
        slugs, _names = _forces(data)
        for line in selectors.recommendation_lines(data, histories):
            current = line.current
            rows.append(
                {
                    "recommendation_id": line.finding_id,
                    "report_slug": p.slug,
                    "reference": data.get("reference") or "",
                    "forces": slugs,
                    "published_on": p.published_on.isoformat(),
                    "number": line.number,
                    "text": line.text,
                    "addressees": line.addressees,
                    "timescale": line.timescale,
                    "due_on": line.due_on.isoformat() if line.due_on else None,
                    "stage": line.stage,
                    "cause_of_concern": line.cause_of_concern,
                    "status": current.status if current else None,
                    "status_label": current.label if current else None,
                    "status_on": current.on.isoformat() if current else None,
                    "history": [
                        {"status": s.status, "on": s.on.isoformat(), "note": s.note}
                        for s in line.history
                    ],
                }
            )
    return rows


# Case grade counts -------------------------------------------------------------------------

CASE_GRADE_COLUMNS = (
    Column("report_slug", "text", "The report the counts were published in"),
    Column("reference", "text", "The inspection's reference"),
    Column("forces", "list of text", "The police forces inspected, by data.police.uk force id"),
    Column("programme_type", "code", "The inspection's programme type"),
    Column("published_on", "date", "When the report's current version was published"),
    Column("fieldwork_start", "date or empty", "The first day of fieldwork"),
    Column("methodology", "code", "The methodology the cases were graded under"),
    Column(
        "scale",
        "code",
        "methodology: the grades the inspectors gave; common: the same cases on the common "
        "scale (good, requires_improvement, inadequate) that lines up different methodologies",
    ),
    Column("grade", "text", "The grade, as the scale names it"),
    Column("grade_order", "integer", "The grade's place on its scale, 1 being the best"),
    Column(
        "count",
        "integer or empty",
        "Cases with this grade. Empty when withheld: fewer than 5 cases, or another count "
        "withheld so that a count of fewer than 5 cannot be worked out from the totals",
    ),
    Column("suppressed", "boolean", "true when the count is withheld"),
    Column(
        "cases_graded",
        "integer or empty",
        "All cases graded in the inspection (empty when the report withholds it)",
    ),
)


def case_grade_rows() -> list[dict[str, Any]]:
    """One query."""
    rows = []
    for p in _current():
        data = p.data or {}
        grades = selectors.grade_counts(data)
        if grades is None:
            continue
        slugs, _names = _forces(data)
        common = {
            "report_slug": p.slug,
            "reference": data.get("reference") or "",
            "forces": slugs,
            "programme_type": p.programme_type,
            "published_on": p.published_on.isoformat(),
            "fieldwork_start": data.get("fieldwork_start") or None,
            "methodology": (data.get("methodology") or {}).get("code") or "",
            "cases_graded": grades.total,
        }
        scales: list[tuple[str, list[str], list[int | None]]] = [
            ("methodology", grades.scale, grades.counts)
        ]
        if grades.comparable is not None:
            scales.append(("common", [code for code, _ in COMPARABLE_SCALE], grades.comparable))
        for scale, names, counts in scales:
            for order, (grade, count) in enumerate(zip(names, counts, strict=True), start=1):
                rows.append(
                    common
                    | {
                        "scale": scale,
                        "grade": grade,
                        "grade_order": order,
                        "count": count,
                        "suppressed": count is None,
                    }
                )
    return rows


DATASETS: dict[str, Dataset] = {
    d.slug: d
    for d in (
        Dataset(
            slug="reports",
            title="Published reports",
            description="Every published report, at its current version.",
            row_meaning="one report",
            columns=REPORT_COLUMNS,
            kinds=("publications",),
            rows=report_rows,
        ),
        Dataset(
            slug="recommendations",
            title="Recommendations and their progress",
            description="Every recommendation in a published report, with its current public "
            "status and the dated history of its status.",
            row_meaning="one recommendation",
            columns=RECOMMENDATION_COLUMNS,
            kinds=("publications", "findings"),
            rows=recommendation_rows,
        ),
        Dataset(
            slug="case-grades",
            title="Case grade counts",
            description="How many case files inspectors graded at each grade, for every "
            "published report with case audits: on the methodology's own scale and on the "
            "common scale.",
            row_meaning="one grade of one report on one scale",
            columns=CASE_GRADE_COLUMNS,
            kinds=("publications",),
            rows=case_grade_rows,
        ),
    )
}


# Formats -----------------------------------------------------------------------------------


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        parts = []
        for item in value:
            if isinstance(item, dict):  # a status step
                parts.append(f"{item.get('on', '')} {item.get('status', '')}".strip())
            else:
                parts.append(str(item))
        value = LIST_SEPARATOR.join(parts)
    return spreadsheet_safe(value) if isinstance(value, str) else value


def as_csv(dataset: Dataset) -> bytes:
    """UTF-8 with a byte order mark (so spreadsheet programs read accented names correctly);
    every text cell safe from formula injection."""
    out = io.StringIO()
    names = [c.name for c in dataset.columns]
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(names)
    for row in dataset.rows():
        writer.writerow([_csv_cell(row.get(name)) for name in names])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def as_json(dataset: Dataset) -> bytes:
    names = [c.name for c in dataset.columns]
    document = {
        "dataset": dataset.slug,
        "title": dataset.title,
        "description": dataset.description,
        "licence": LICENCE,
        "licence_url": LICENCE_URL,
        "fields": [{"name": c.name, "type": c.type, "meaning": c.meaning} for c in dataset.columns],
        "records": [{name: row.get(name) for name in names} for row in dataset.rows()],
    }
    return json.dumps(document, ensure_ascii=False, indent=1).encode("utf-8")


def render(dataset: Dataset, fmt: str) -> bytes:
    if fmt == "csv":
        return as_csv(dataset)
    if fmt == "json":
        return as_json(dataset)
    raise ValueError(f"Unknown format {fmt!r}")
