"""A curator's "Suggest themes again", in the background.

Suggesting again retrains the classifier first when people's decisions have changed, and
training grows faster than the statements it learns from: 2,238 statements took 27 s, and a
few thousand decisions would near a web worker's 60 s limit (docs/benchmarks.md). So the
model page's button stores a run and the background worker (`manage.py db_worker`,
django-tasks) does it, as it imports reports; the run's page follows it and then says what
it did. One run at a time: asked for again while one waits or runs, that one is shown. A run
stopped by the worker stopping (still running long after it started) is replaced by the next
one asked for.
"""

from __future__ import annotations

import logging
import uuid

from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.core.audit import Actor, actor_fields, audit_record
from apps.core.models import AuditEvent

from .codebook import CodebookError
from .corpus import CorpusError
from .models import SuggestionRun
from .services import StaleCodes

logger = logging.getLogger(__name__)

KEPT = (
    "The statements keep the suggestions they had: each version's suggestions are stored "
    "whole or not at all."
)
STOPPED_BY_THE_WORKER = f"The background worker stopped in the middle of it. {KEPT}"


def run_request(*, actor: Actor) -> tuple[SuggestionRun, bool]:
    """A run queued for the background worker, with its audit event, in one transaction:
    (the run, True). While another waits or runs, nothing is queued: (that one, False). One
    the worker stopped in the middle of (`SuggestionRun.stalled`) is marked stopped first."""
    user, _ = actor_fields(actor)
    if user is None:
        raise ValueError("Themes are suggested again for a person, who follows it on its page.")
    from .tasks import suggest_again_task

    with transaction.atomic():
        current = SuggestionRun.objects.select_for_update().filter(active=True).first()
        if current is not None and not current.stalled():
            return current, False
        if current is not None:  # taken from its run, which writes nothing more if alive
            SuggestionRun.objects.filter(pk=current.pk).update(
                status=SuggestionRun.Status.FAILED,
                active=None,
                finished_at=timezone.now(),
                error=STOPPED_BY_THE_WORKER,
                run="",
            )
        try:
            with transaction.atomic():  # another person's run, queued a moment before
                run = SuggestionRun.objects.create(created_by=user)
        except IntegrityError:
            return SuggestionRun.objects.get(active=True), False
        audit_record(
            actor=actor,
            action=AuditEvent.Action.CREATE,
            instance=run,
            summary="Asked for themes to be suggested again"
            + (f" (run {current.pk} had stopped)" if current is not None else ""),
        )
        suggest_again_task.enqueue(run.pk)
    return run, True


def run_execute(run_id: int) -> SuggestionRun:
    """The run done, once (a run not waiting is left as it is): the corpus brought in step
    with the register, the classifier retrained if people's decisions have changed, and
    themes suggested again for every statement no person has coded (`coding.suggest_again`,
    as the person who asked). What it did, or why themes could not be suggested (the
    codebook or corpus not ready, the codebook revised meanwhile), is kept on the run. An
    unexpected error or the worker stopping marks it stopped, and is raised again for the
    worker to record. Each run writes only while it is still its own."""
    Status = SuggestionRun.Status
    token = uuid.uuid4().hex
    # Claimed by one run only: a conditional update, atomic on every database.
    claimed = SuggestionRun.objects.filter(pk=run_id, status=Status.QUEUED).update(
        status=Status.RUNNING, started_at=timezone.now(), run=token
    )
    run = SuggestionRun.objects.select_related("created_by").get(pk=run_id)
    if not claimed:
        return run
    from . import coding  # the model's libraries: loaded in the worker only

    try:
        synced, result = coding.suggest_again(actor=run.created_by)
    except (CodebookError, CorpusError, ImproperlyConfigured, StaleCodes) as error:
        _finish(run, token, Status.FAILED, problem=str(error))
        return run
    except BaseException as error:  # the worker stopping (SystemExit, KeyboardInterrupt) too
        logger.exception("Suggesting themes again (run %s) stopped", run.pk)
        _finish(
            run,
            token,
            Status.FAILED,
            error=f"An unexpected error ({type(error).__name__}) stopped it. {KEPT}"
            if isinstance(error, Exception)
            else STOPPED_BY_THE_WORKER,
        )
        raise
    _finish(
        run,
        token,
        Status.DONE,
        classifier=result.classifier,
        statements=result.statements,
        changed=result.changed,
        new_statements=synced.created,
        examples=result.examples,
    )
    return run


def _finish(run: SuggestionRun, token: str, status: str, **outcome: object) -> None:
    """The run's end recorded, if it is still `token`'s: no longer active, so the next can
    be asked for."""
    SuggestionRun.objects.filter(pk=run.pk, run=token).update(
        status=status, active=None, finished_at=timezone.now(), **outcome
    )
    run.refresh_from_db()
