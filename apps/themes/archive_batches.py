"""Published reports imported through the page, in the background.

A long PDF takes several seconds to read, and its statements seconds more to embed; a batch
of long reports takes a minute and more (ten: see docs/benchmarks.md), and a very long
report (up to 600 pages) could too: longer than a web worker may. So the page stores the
files it is given, one or several, as a batch, and the background worker
(`manage.py db_worker`, django-tasks) imports them: each file whole or not at all, as
`archive_services.archive_import` does, in the order chosen, then the classifier's themes
suggested once for every statement of the batch. The batch's page shows how far it has got
and, when it has finished, what was imported, what was taken from the reports and which files
were not imported and why.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Iterable

from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import DatabaseError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from apps.core.audit import Actor, actor_fields, audit_record
from apps.core.models import AuditEvent
from apps.reference.models import Force, LocalAuthority

from . import archive_services
from .archive import ArchiveError
from .codebook import CodebookError
from .corpus import CorpusError
from .models import ArchiveImportBatch, ArchiveImportFile, ArchiveReport, Statement
from .services import StaleCodes

logger = logging.getLogger(__name__)

# The details that are one report's, refused with several files.
ONE_REPORTS_ONLY = {
    "title": "A title is one report's: leave it blank when importing several files, and each "
    "takes its own.",
    "source_url": "A web address is one report's: leave it blank when importing several "
    "files, and give each its own afterwards on its page (beside the date published).",
}


def suggest_themes(*, actor: Actor, statements: QuerySet[Statement]) -> tuple[str, str]:
    """The classifier's themes for new statements: (what it did, in words; or why it could
    not, in words), one of the two empty."""
    from . import coding  # the model's libraries: loaded only when there are statements

    try:
        result = coding.suggest(actor=actor, statements=statements)
    except (CodebookError, CorpusError, ImproperlyConfigured, StaleCodes) as error:
        return "", f"Themes could not be suggested yet: {error}"
    return (
        f"The classifier (version {result.classifier}) suggested themes for "
        f"{result.statements} statement{'s' if result.statements != 1 else ''}: check them in "
        "the review queue.",
        "",
    )


def batch_create(
    *,
    actor: Actor,
    files: Iterable[tuple[str, bytes]],
    force: Force | None = None,
    local_authority: LocalAuthority | None = None,
    programme_type: str = "",
    published_on: dt.date | None = None,
    title: str = "",
    source_url: str = "",
) -> ArchiveImportBatch:
    """The files stored as a batch, with the details that apply to every one of them (and,
    for one file only, its `title` and `source_url`), and its import queued for the
    background worker, in one transaction with the audit event. What can be told before a
    file is read is checked here: the details (ValidationError naming the field, nothing
    stored), and each file (empty, not HTML or PDF, imported already: marked as not
    imported, with why; if every file is, ValidationError naming each, nothing stored).
    `files` is read one at a time, so that only one is in memory."""
    user, _ = actor_fields(actor)
    if user is None:
        raise ValueError("A batch is imported for a person, who follows it on its page.")
    archive_services.check_import_fields(
        programme_type=programme_type,
        published_on=published_on,
        title=title,
        source_url=source_url,
    )
    archive_services.check_area_and_force(
        force=force, local_authority=local_authority, programme_type=programme_type
    )
    from .tasks import archive_import_batch_task

    names: list[str] = []
    problems: list[str] = []
    with transaction.atomic():
        batch = ArchiveImportBatch.objects.create(
            created_by=user,
            force=force,
            local_authority=local_authority,
            programme_type=programme_type,
            published_on=published_on,
            title=title,
            source_url=source_url,
        )
        for position, (file_name, data) in enumerate(files, start=1):
            name = archive_services.stored_file_name(file_name)
            names.append(name)
            try:
                archive_services.check_import_file(name, data)
            except ArchiveError as error:
                problems.append(str(error))
                ArchiveImportFile.objects.create(
                    batch=batch,
                    position=position,
                    name=name,
                    size=len(data),
                    status=ArchiveImportFile.Status.REFUSED,
                    problem=str(error),
                )
            else:
                ArchiveImportFile.objects.create(
                    batch=batch, position=position, name=name, size=len(data), data=data
                )
        if not names:
            raise ValidationError({"file": "Choose the report files to import."})
        given = {"title": title, "source_url": source_url}
        if len(names) > 1 and any(given.values()):
            raise ValidationError({k: v for k, v in ONE_REPORTS_ONLY.items() if given[k]})
        if len(problems) == len(names):
            raise ValidationError({"file": problems})
        audit_record(
            actor=actor,
            action=AuditEvent.Action.CREATE,
            instance=batch,
            summary=f"{len(names)} report file{'s' if len(names) > 1 else ''} queued for "
            f"import: {', '.join(names)}"
            + (f" ({len(problems)} refused at once)" if problems else ""),
        )
        archive_import_batch_task.enqueue(batch.pk)
    return batch


def batch_continue(*, actor: Actor, batch: ArchiveImportBatch) -> ArchiveImportBatch:
    """A batch stopped by an error, or by the worker stopping in the middle of it (still
    running long after it should have finished), queued again: the files not yet read are
    imported, and themes suggested for every report the batch has imported. Refused
    (ValidationError) for a batch that has not stopped."""
    from .tasks import archive_import_batch_task

    with transaction.atomic():
        locked = ArchiveImportBatch.objects.select_for_update(of=("self",)).get(pk=batch.pk)
        if not locked.can_continue():
            raise ValidationError(
                "This import has not stopped: it is "
                f"{locked.get_status_display().lower()}, so there is nothing to continue."
            )
        locked.status = ArchiveImportBatch.Status.QUEUED
        locked.queued_at = timezone.now()
        locked.finished_at = None
        locked.run = ""  # a run that is somehow still going writes nothing more
        locked.save(update_fields=["status", "queued_at", "finished_at", "run"])
        audit_record(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            instance=locked,
            summary="Import continued after it stopped"
            + (f" ({locked.error})" if locked.error else ""),
        )
        archive_import_batch_task.enqueue(locked.pk)
    return locked


def batch_run(batch_id: int) -> ArchiveImportBatch:
    """The batch imported, once for each time it is queued (a batch not queued is left as
    it is): each file not yet read, in turn, whole or not at all, marked in the transaction
    that stores its report, its content emptied. A file that cannot be imported, or that an
    unexpected error stops, is marked with why, and the others go on. Then themes are
    suggested for the statements of every report the batch has imported. What stops the
    run (the worker stopping, the database failing) marks the batch stopped, with where; the
    reports imported before keep their statements, and (but when the worker is stopping)
    still get their themes. It can then be continued (`batch_continue`). Each run writes
    only while the batch is still its own, so a run continued past cannot overwrite the
    next."""
    Status = ArchiveImportBatch.Status
    run = uuid.uuid4().hex
    # Claimed by one run only: a conditional update, atomic on every database.
    claimed = ArchiveImportBatch.objects.filter(pk=batch_id, status=Status.QUEUED).update(
        status=Status.RUNNING, started_at=timezone.now(), error="", run=run
    )
    batch = ArchiveImportBatch.objects.select_related("created_by", "force", "local_authority").get(
        pk=batch_id
    )
    if not claimed:
        return batch
    reading = ""
    reports: list[ArchiveReport] = []
    finished = False
    try:
        reports = list(
            ArchiveReport.objects.filter(
                pk__in=batch.files.filter(status=ArchiveImportFile.Status.IMPORTED).values("report")
            )
        )
        waiting = batch.files.filter(status=ArchiveImportFile.Status.WAITING)
        for pk, name in list(waiting.values_list("pk", "name")):  # one file's content at once
            reading = name
            report = _import_file(batch, pk, run)
            if report is not None:
                reports.append(report)
        reading = ""
        batch.suggested, batch.not_suggested = "", ""
        if reports:
            _suggest(batch, reports)
        _finish(batch, run, Status.DONE)
        finished = True
    except BaseException as error:  # the worker stopping (SystemExit, KeyboardInterrupt) too
        logger.exception("The import of batch %s stopped", batch.pk)
        what = (
            f"An unexpected error ({type(error).__name__})"
            if isinstance(error, Exception)
            else "The background worker stopping"
        )
        batch.error = (
            f"{what} stopped the import while reading {reading}. The reports listed as "
            "imported were imported whole. Continue the import to import the other files."
            if reading
            else f"{what} stopped the themes being suggested. Every report listed as "
            "imported was imported whole. Continue the import to suggest their themes."
        )
        try:
            if reports and reading and isinstance(error, Exception):
                # Those imported before it still get their themes.
                _suggest(batch, reports)
        except Exception:
            logger.exception("Themes for the reports of batch %s", batch.pk)
        finally:
            if not finished:
                _finish(batch, run, Status.FAILED)
        raise
    return batch


def _suggest(batch: ArchiveImportBatch, reports: list[ArchiveReport]) -> None:
    """Themes for the statements of the batch's `reports`, and what to say of them, on the
    batch. In this process: at a batch's size (8,600 statements for ten long reports) worker
    processes were slower, for starting and loading the model (74.7 s against 67.2 s,
    docs/benchmarks.md)."""
    batch.suggested, batch.not_suggested = suggest_themes(
        actor=batch.created_by,
        statements=Statement.objects.filter(archive_report__in=reports),
    )


def _import_file(batch: ArchiveImportBatch, pk: int, run: str) -> ArchiveReport | None:
    """One file of the batch imported, and marked in the transaction that stores its report
    (nothing, if another run has it); refused with why, or with an unexpected error's name
    (the error in the log). The database failing stops the batch."""
    file = ArchiveImportFile.objects.filter(pk=pk, status=ArchiveImportFile.Status.WAITING).first()
    if file is None:  # read by another run meanwhile
        return None

    def mark(report: ArchiveReport) -> None:
        marked = ArchiveImportFile.objects.filter(
            pk=pk, status=ArchiveImportFile.Status.WAITING, batch__run=run
        ).update(status=ArchiveImportFile.Status.IMPORTED, report=report, data=b"")
        if not marked:
            raise _TakenOver

    try:
        return archive_services.archive_import(
            actor=batch.created_by,
            file_name=file.name,
            data=bytes(file.data),
            force=batch.force,
            local_authority=batch.local_authority,
            programme_type=batch.programme_type,
            published_on=batch.published_on,
            title=batch.title,
            source_url=batch.source_url,
            on_stored=mark,
        )
    except _TakenOver:
        return None  # its report was not stored: the run that has the batch reads it
    except ArchiveError as error:
        _refuse(pk, run, str(error))
    except ValidationError as error:  # what depends on the file: an area given for a
        _refuse(pk, run, f"{file.name}: {' '.join(error.messages)}")  # report not joint
    except DatabaseError:
        raise
    except Exception as error:  # this file's, not the others': they go on
        logger.exception("Batch %s could not read %s", batch.pk, file.name)
        _refuse(
            pk,
            run,
            f"{file.name} could not be read: an unexpected error ({type(error).__name__}), "
            "which is in the service's log.",
        )
    return None


class _TakenOver(Exception):
    """The batch is no longer this run's (continued meanwhile): nothing more is written."""


def _refuse(pk: int, run: str, problem: str) -> None:
    ArchiveImportFile.objects.filter(
        pk=pk, status=ArchiveImportFile.Status.WAITING, batch__run=run
    ).update(status=ArchiveImportFile.Status.REFUSED, problem=problem, data=b"")


def _finish(batch: ArchiveImportBatch, run: str, status: str) -> None:
    """The run's end recorded, if the batch is still its own."""
    ArchiveImportBatch.objects.filter(pk=batch.pk, run=run).update(
        status=status,
        finished_at=timezone.now(),
        suggested=batch.suggested,
        not_suggested=batch.not_suggested,
        error=batch.error,
    )
    batch.refresh_from_db()
