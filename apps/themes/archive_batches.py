"""Several published reports imported at once, in the background.

The import page reads one report in the web request (about 10 s for a long PDF), but a
batch of long reports takes longer than a web worker may (a minute and more for ten: see
docs/benchmarks.md), so the page stores the files as a batch and the background worker
(`manage.py db_worker`, django-tasks) imports them: each file whole or not at all, as
`archive_services.archive_import` does, in the order chosen, then the classifier's themes
suggested once for every statement of the batch. The batch's page shows how far it has got
and, when it has finished, what was imported, what was taken from the reports and which files
were not imported and why.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence

from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import transaction
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
    files: Sequence[tuple[str, bytes]],
    force: Force | None = None,
    local_authority: LocalAuthority | None = None,
    programme_type: str = "",
    published_on: dt.date | None = None,
) -> ArchiveImportBatch:
    """The files stored as a batch, with the details that apply to every one of them, and
    its import queued for the background worker, in one transaction with the audit event.
    The details are checked first (ValidationError naming the field), and nothing is stored
    if one is wrong; each file is checked when it is imported."""
    user, _ = actor_fields(actor)
    if user is None:
        raise ValueError("A batch is imported for a person, who follows it on its page.")
    if len(files) < 1:
        raise ValidationError({"file": "Choose the report files to import."})
    archive_services.check_import_fields(
        programme_type=programme_type, published_on=published_on, title="", source_url=""
    )
    from .tasks import archive_import_batch_task

    with transaction.atomic():
        batch = ArchiveImportBatch.objects.create(
            created_by=user,
            force=force,
            local_authority=local_authority,
            programme_type=programme_type,
            published_on=published_on,
        )
        ArchiveImportFile.objects.bulk_create(
            [
                ArchiveImportFile(
                    batch=batch,
                    position=n,
                    name=archive_services.stored_file_name(name),
                    size=len(data),
                    data=data,
                )
                for n, (name, data) in enumerate(files, start=1)
            ]
        )
        audit_record(
            actor=actor,
            action=AuditEvent.Action.CREATE,
            instance=batch,
            summary=f"{len(files)} report files queued for import: "
            + ", ".join(archive_services.stored_file_name(name) for name, _ in files),
        )
        archive_import_batch_task.enqueue(batch.pk)
    return batch


def batch_run(batch_id: int) -> ArchiveImportBatch:
    """The batch imported, once (a batch already started is left as it is): each file in
    turn, whole or not at all (a file that cannot be imported is marked with why, and the
    others go on), its content emptied once read; then themes suggested for the statements
    of every report imported. An unexpected error stops the batch, marked with where it
    stopped; the reports imported before it keep their statements and still get their
    themes."""
    with transaction.atomic():
        batch = (
            ArchiveImportBatch.objects.select_for_update(of=("self",))
            .select_related("created_by", "force", "local_authority")
            .get(pk=batch_id)
        )
        if batch.status != ArchiveImportBatch.Status.QUEUED:
            return batch
        batch.status = ArchiveImportBatch.Status.RUNNING
        batch.started_at = timezone.now()
        batch.save(update_fields=["status", "started_at"])
    reports: list[ArchiveReport] = []
    name = ""
    try:
        waiting = batch.files.filter(status=ArchiveImportFile.Status.WAITING)
        for pk in waiting.values_list("pk", flat=True):  # one file's content in memory at once
            file = ArchiveImportFile.objects.get(pk=pk)
            name = file.name
            try:
                report = archive_services.archive_import(
                    actor=batch.created_by,
                    file_name=file.name,
                    data=bytes(file.data),
                    force=batch.force,
                    local_authority=batch.local_authority,
                    programme_type=batch.programme_type,
                    published_on=batch.published_on,
                )
            except ArchiveError as error:
                file.status, file.problem = ArchiveImportFile.Status.REFUSED, str(error)
            except ValidationError as error:  # what depends on the file: an area given
                file.status = ArchiveImportFile.Status.REFUSED  # for a report not joint
                file.problem = f"{file.name}: {' '.join(error.messages)}"
            else:
                reports.append(report)
                file.status, file.report = ArchiveImportFile.Status.IMPORTED, report
            file.data = b""
            file.save(update_fields=["status", "problem", "report", "data"])
        name = ""
        if reports:
            # In this process: at a batch's size (8,600 statements for ten long reports)
            # worker processes were slower, for starting and loading the model (74.7 s
            # against 67.2 s, docs/benchmarks.md).
            batch.suggested, batch.not_suggested = suggest_themes(
                actor=batch.created_by,
                statements=Statement.objects.filter(archive_report__in=reports),
            )
    except Exception as error:
        logger.exception("The import of batch %s stopped", batch.pk)
        batch.error = (
            f"An unexpected error ({type(error).__name__}) stopped the import "
            + (f"while reading {name}" if name else "while suggesting themes")
            + ". The reports listed as imported were imported whole; import the others again. "
            "The error is in the service's log."
        )
        if reports and name and not batch.suggested:
            try:  # those imported before the failure still get their themes
                batch.suggested, batch.not_suggested = suggest_themes(
                    actor=batch.created_by,
                    statements=Statement.objects.filter(archive_report__in=reports),
                )
            except Exception:
                logger.exception("Themes for the reports of batch %s", batch.pk)
        _finish(batch, ArchiveImportBatch.Status.FAILED)
        raise
    _finish(batch, ArchiveImportBatch.Status.DONE)
    return batch


def _finish(batch: ArchiveImportBatch, status: str) -> None:
    batch.status = status
    batch.finished_at = timezone.now()
    batch.save(update_fields=["status", "finished_at", "suggested", "not_suggested", "error"])
