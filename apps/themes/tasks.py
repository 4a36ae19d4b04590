"""The thematic synthesis's background jobs (django-tasks, run by `manage.py db_worker`)."""

from __future__ import annotations

from django_tasks import task


@task()
def archive_import_batch_task(batch_id: int) -> str:
    """A batch of report files imported (archive_batches.batch_run): its status after."""
    from .archive_batches import batch_run

    return str(batch_run(batch_id).status)


@task()
def suggest_again_task(run_id: int) -> str:
    """A curator's "Suggest themes again" (suggestion_runs.run_execute): its status after."""
    from .suggestion_runs import run_execute

    return str(run_execute(run_id).status)
