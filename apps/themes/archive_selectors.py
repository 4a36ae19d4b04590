"""The reads behind the archive's pages: imported reports, a report's paragraphs with their
statements and codes, and what removing one would take with it. A fixed number of queries
whatever the archive's size."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, Prefetch, Q, QuerySet

from apps.inspections.models import ProgrammeType

from .models import KIND_LABELS, ArchiveParagraph, ArchiveReport, Statement, ThemeCode
from .selectors import current_codes


def kinds_in_words(counts: Counter[str] | dict[str, int]) -> str:
    """ "3 recommendations, 1 cause of concern": the statements' kinds, most first."""
    plural = {
        "strength": "strengths",
        "promising_practice": "promising practice",
        "good_practice": "good practice",
        "area_for_improvement": "areas for improvement",
        "cause_of_concern": "causes of concern",
        "recommendation": "recommendations",
        "finding": "findings",
    }
    parts = []
    for kind, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        label = KIND_LABELS.get(kind, kind).lower() if n == 1 else plural.get(kind, kind)
        parts.append(f"{n} {label}")
    return ", ".join(parts)


def archive_reports(page: str | int | None, per_page: int = 50) -> dict[str, Any]:
    """Imported reports, newest publication first, each with its number of statements: two
    queries whatever their number."""
    reports = (
        ArchiveReport.objects.select_related("force", "local_authority")
        .defer("force__boundary", "force__boundary_map")
        # Those a curator set aside as not statements are not counted (as on its page).
        .annotate(statement_count=Count("statements", filter=Q(statements__set_aside=False)))
        .order_by("-published_on", "title", "id")
    )
    paginator = Paginator(reports, per_page)
    page_obj: Page = paginator.get_page(page)
    rows = [
        ReportRow(
            report=r,
            statements=r.statement_count,
            programme_type=programme_type_label(r.programme_type),
        )
        for r in page_obj.object_list
    ]
    return {"page": page_obj, "reports": rows, "count": paginator.count}


@dataclass
class ReportRow:
    report: ArchiveReport
    statements: int
    programme_type: str


def programme_type_label(value: str) -> str:
    """The programme type in words ("" when not known)."""
    return str(ProgrammeType(value).label) if value in ProgrammeType.values else ""


@dataclass
class ParagraphRow:
    paragraph: ArchiveParagraph
    statements: list[Statement]
    heading_changed: bool


def archive_report_detail(report: ArchiveReport) -> dict[str, Any]:
    """The report's paragraphs in reading order, each with its statements and their current
    codes (suggested or confirmed, of the current codebook), and counts by kind and of the
    statements people have coded: three queries whatever the report's length."""
    codes = Prefetch(
        "codes",
        queryset=current_codes()
        .filter(status__in=[ThemeCode.Status.SUGGESTED, ThemeCode.Status.CONFIRMED])
        .select_related("theme")
        .order_by("theme__order", "theme__key"),
        to_attr="current",
    )
    statements: QuerySet[Statement] = (
        Statement.objects.filter(archive_report=report)
        .select_related("repeat_of__paragraph")
        .prefetch_related(codes)
        .order_by("id")
    )
    by_paragraph: dict[int | None, list[Statement]] = {}
    kinds: Counter[str] = Counter()
    decided = set_aside = repeats = 0
    for statement in statements:
        by_paragraph.setdefault(statement.paragraph_id, []).append(statement)
        if statement.repeat_of_id is not None:  # listed, marked, counted where it stays
            repeats += 1
            continue
        if statement.set_aside:  # listed, marked, but not counted
            set_aside += 1
            continue
        kinds[statement.kind] += 1
        if any(c.set_by_id is not None for c in statement.current):  # type: ignore[attr-defined]
            decided += 1
    rows: list[ParagraphRow] = []
    previous = None
    for paragraph in report.paragraphs.order_by("number"):
        rows.append(
            ParagraphRow(
                paragraph=paragraph,
                statements=by_paragraph.get(paragraph.pk, []),
                heading_changed=paragraph.heading != previous,
            )
        )
        previous = paragraph.heading
    return {
        "rows": rows,
        "statement_count": sum(kinds.values()),
        "kinds": kinds_in_words(kinds),
        "decided": decided,
        "set_aside": set_aside,
        "repeats": repeats,
    }


def archive_chosen_by(report: ArchiveReport) -> list[str]:
    """The titles of the thematic reports that chose this imported report by name."""
    return list(report.thematic_reports.order_by("title").values_list("title", flat=True))


def archive_delete_counts(report: ArchiveReport) -> dict[str, int]:
    """What goes with the report: its statements, and those people have coded."""
    return Statement.objects.filter(archive_report=report).aggregate(
        statements=Count("pk", distinct=True),
        decided=Count("codes__statement", filter=Q(codes__set_by__isnull=False), distinct=True),
    )
