"""The thematic synthesis's background jobs (django-tasks, run by `manage.py db_worker`)."""

from __future__ import annotations

from django_tasks import task


@task()
def archive_import_batch_task(batch_id: int) -> str:
    """A batch of report files imported (archive_batches.batch_run): its status after."""
    from .archive_batches import batch_run

    return str(batch_run(batch_id).status)
