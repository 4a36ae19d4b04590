"""The reads behind the archive's pages: imported reports, a report's paragraphs with their
statements and codes, and what removing one would take with it. A fixed number of queries
whatever the archive's size."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from apps.inspections.models import ProgrammeType

from .models import (
    KIND_LABELS,
    ArchiveImportBatch,
    ArchiveImportFile,
    ArchiveParagraph,
    ArchiveReport,
    Statement,
    ThemeCode,
)
from .selectors import current_codes, worker_not_started


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


def taken_from_report(report: ArchiveReport, given: dict[str, Any]) -> set[str]:
    """What an import took from the report rather than from the details `given` (the
    import's "programme_type", "published_on", "force" and "local_authority"): of its
    "type", "date", "force" (from its title) and "area" (from its title, with the area's
    force)."""
    return {
        what
        for what, taken in (
            ("type", report.programme_type and not given["programme_type"]),
            ("date", report.published_on and not given["published_on"]),
            ("force", report.force_id and not given["force"] and not report.local_authority_id),
            ("area", report.local_authority_id and not given["local_authority"]),
        )
        if taken
    }


def taken_in_words(report: ArchiveReport, given: dict[str, Any]) -> list[str]:
    """What an import took from the report rather than from the details `given`
    (`taken_from_report`), each with its value: "type: National child protection
    inspection", "date: 14 March 2017", "area: Leeds (and its force, West Yorkshire
    Police)"."""
    from .archive import area_display

    taken = taken_from_report(report, given)
    return [
        words
        for what, words in (
            ("type", f"type: {programme_type_label(report.programme_type)}"),
            ("date", f"date: {report.published_on:%-d %B %Y}" if report.published_on else ""),
            ("force", f"force: {report.force}" if report.force_id else ""),
            (
                "area",
                f"area: {area_display(report.local_authority.name)}"
                + (f" (and its force, {report.force})" if not given["force"] else "")
                if report.local_authority is not None
                else "",
            ),
        )
        if what in taken and words
    ]


def _not_started(batch: ArchiveImportBatch) -> bool:
    return batch.status == ArchiveImportBatch.Status.QUEUED and worker_not_started(batch.queued_at)


def _batch_line(batch: ArchiveImportBatch, read: int, files: int) -> str:
    """How far a batch has got, in words: its page's status line."""
    if batch.status == ArchiveImportBatch.Status.QUEUED:
        return "Waiting to start."
    if read == files:
        return "Every file read: suggesting themes."
    return f"Read {read} of {files} files."


def archive_batch_page(batch: ArchiveImportBatch) -> dict[str, Any]:
    """A batch import's page: each file and what became of it (for a report imported, its
    statements and what was taken from it), which reports have no date, and whether it seems
    not to have started or to have stopped. Four queries whatever the number of files."""
    files = list(
        batch.files.defer("data", "report__force__boundary", "report__force__boundary_map")
        .select_related("report__force", "report__local_authority")
        .order_by("position")
    )
    reports = [f.report for f in files if f.report is not None]
    counts = dict(
        Statement.objects.filter(archive_report__in=reports, set_aside=False)
        .order_by()
        .values_list("archive_report")
        .annotate(n=Count("pk"))
    )
    given = {
        "programme_type": batch.programme_type,
        "published_on": batch.published_on,
        "force": batch.force_id,
        "local_authority": batch.local_authority_id,
    }
    rows = [
        {
            "file": f,
            "statements": counts.get(f.report_id, 0) if f.report_id else 0,
            "taken": taken_in_words(f.report, given) if f.report is not None else [],
        }
        for f in files
    ]
    Status = ArchiveImportBatch.Status
    read = sum(f.status != ArchiveImportFile.Status.WAITING for f in files)
    return {
        "batch": batch,
        "files": rows,
        "finished": batch.status in (Status.DONE, Status.FAILED),
        "read": read,
        "line": _batch_line(batch, read, len(files)),
        "imported": len([f for f in files if f.status == ArchiveImportFile.Status.IMPORTED]),
        "any_taken": any(row["taken"] for row in rows),
        "undated": ", ".join(f"\u201c{r.title}\u201d" for r in reports if r.published_on is None),
        "not_started": _not_started(batch),
        "stopped": batch.stalled(),
        "can_continue": batch.can_continue(),
    }


def archive_batch_progress(batch: ArchiveImportBatch) -> dict[str, Any]:
    """How far a batch has got, for its page to follow, and whether it seems not to have
    started or to have stopped: two queries besides the batch's."""
    statuses = list(batch.files.values_list("status", flat=True))
    read = sum(s != ArchiveImportFile.Status.WAITING for s in statuses)
    return {
        "status": batch.status,
        "finished": batch.status
        in (ArchiveImportBatch.Status.DONE, ArchiveImportBatch.Status.FAILED),
        "read": read,
        "files": len(statuses),
        "line": _batch_line(batch, read, len(statuses)),
        "not_started": _not_started(batch),
        "stopped": batch.stalled(),
    }


# How long a finished batch import stays listed on the imported reports' page.
BATCH_LISTED = dt.timedelta(days=7)


def archive_batches_recent(limit: int = 10) -> list[ArchiveImportBatch]:
    """Batch imports queued or under way, and those finished in the past week, newest
    first, each with its number of files (`files_count`) and of files imported
    (`imported_count`): one query."""
    Status = ArchiveImportBatch.Status
    return list(
        ArchiveImportBatch.objects.filter(
            Q(status__in=(Status.QUEUED, Status.RUNNING))
            | Q(finished_at__gte=timezone.now() - BATCH_LISTED)
        )
        .select_related("created_by")
        .annotate(
            files_count=Count("files"),
            imported_count=Count(
                "files", filter=Q(files__status=ArchiveImportFile.Status.IMPORTED)
            ),
        )
        .order_by("-created_at", "-id")[:limit]
    )
