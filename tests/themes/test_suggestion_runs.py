"""A curator's "Suggest themes again", run by the background worker: one run at a time, its
page and progress, what it says when it cannot suggest or stops, and who may see it. The
classifier's own work (retraining, the codes it writes) is tested in test_services, through
the same button."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from apps.core.models import AuditEvent
from apps.themes import coding, services, suggestion_runs
from apps.themes.models import SuggestionRun
from tests.factories import UserFactory
from tests.themes.test_synthesis import CODERS, CURATORS, REFUSED, SYSTEM, client_for


def _ask(user) -> SuggestionRun:
    response = client_for(user).post(reverse("themes:suggest-again"))
    assert response.status_code == 302
    run = SuggestionRun.objects.order_by("-pk").first()
    assert response.url == reverse("themes:suggestion-run", args=[run.pk])
    return run


def test_a_run_is_queued_for_the_worker_and_asking_again_shows_that_one(fw):
    analyst, manager = fw.users["analyst"], fw.users["manager"]
    run = _ask(analyst)
    assert (run.status, run.active, run.created_by) == ("queued", True, analyst)
    task = DBTaskResult.objects.get()
    assert task.task_path == "apps.themes.tasks.suggest_again_task" and task.args_kwargs[
        "args"
    ] == [run.pk]
    assert AuditEvent.objects.filter(
        action="create", object_type="themes.suggestionrun", object_id=str(run.pk), actor=analyst
    ).exists()
    page = client_for(analyst).get(reverse("themes:suggestion-run", args=[run.pk]))
    body = page.content.decode()
    assert "Suggesting themes again" in body and "Waiting to start." in body
    assert "job-progress.js" in body and "may not be running" not in body
    # Another curator asks meanwhile: shown the same run, nothing more queued.
    again = client_for(manager).post(reverse("themes:suggest-again"), follow=True)
    assert again.context["run"] == run and SuggestionRun.objects.count() == 1
    assert DBTaskResult.objects.count() == 1
    assert "already being suggested again, asked for by" in again.content.decode()
    # The model page points to it instead of offering the button.
    model = client_for(manager).get(reverse("themes:model")).content.decode()
    assert "Themes are being suggested again" in model
    assert reverse("themes:suggestion-run", args=[run.pk]) in model
    assert "<button" not in model.split("Suggest themes again</h2>")[1].split("</div>")[0]


def test_two_runs_are_never_active_at_once(fw):
    SuggestionRun.objects.create(created_by=fw.users["analyst"])
    with pytest.raises(IntegrityError), transaction.atomic():
        SuggestionRun.objects.create(created_by=fw.users["manager"])
    # Finished runs are not active, and any number are kept.
    SuggestionRun.objects.update(active=None, status="done")
    SuggestionRun.objects.create(created_by=fw.users["manager"], active=None, status="failed")
    SuggestionRun.objects.create(created_by=fw.users["manager"])
    assert SuggestionRun.objects.filter(active=True).count() == 1


def test_a_finished_runs_page_says_what_it_did_and_the_next_can_be_asked_for(fw):
    """(A real run's figures are checked in test_services, where the classifier trains.)"""
    analyst = fw.users["analyst"]
    run = _ask(analyst)
    SuggestionRun.objects.filter(pk=run.pk).update(
        status="done",
        active=None,
        started_at=timezone.now(),
        finished_at=timezone.now(),
        classifier="abc123def456",
        statements=1234,
        changed=1,
        new_statements=0,
    )
    page = client_for(analyst).get(reverse("themes:suggestion-run", args=[run.pk]))
    body = page.content.decode()
    assert "Themes suggested again" in body and "job-progress.js" not in body
    assert (
        "Classifier abc123def456 suggested themes again for 1,234 statements no person has "
        "coded: 1 of them has other themes than before"
    ) in body
    assert "came from findings" not in body  # none did
    assert "0 statements wait for a person in the review queue." in body
    progress = client_for(analyst).get(reverse("themes:suggestion-run-progress", args=[run.pk]))
    assert progress.json() == {
        "status": "done",
        "finished": True,
        "line": "Finished.",
        "not_started": False,
        "stopped": False,
    }
    # The model page offers the button again, and links to what the last run did.
    model = client_for(analyst).get(reverse("themes:model")).content.decode()
    assert "what it did" in model and "Themes are being suggested again" not in model
    assert _ask(analyst).pk != run.pk


def test_a_run_that_cannot_suggest_says_why_and_the_next_can_be_asked_for(fw):
    analyst = fw.users["analyst"]
    run = _ask(analyst)  # no codebook loaded yet
    stopped = suggestion_runs.run_execute(run.pk)
    assert stopped.status == "failed" and stopped.active is None
    assert stopped.problem == "No codebook is loaded: run manage.py themes_code."
    body = client_for(analyst).get(reverse("themes:suggestion-run", args=[run.pk])).content
    assert "Themes were not suggested again" in body.decode()
    assert "No codebook is loaded: run manage.py themes_code." in body.decode()
    # Delivered again (a worker may deliver a job twice): nothing more happens.
    finished_at = stopped.finished_at
    assert suggestion_runs.run_execute(run.pk).finished_at == finished_at
    assert _ask(analyst).pk != run.pk


def test_an_unexpected_error_stops_the_run_and_is_raised_for_the_worker(fw, monkeypatch):
    services.codebook_load(actor=SYSTEM)
    run = _ask(fw.users["analyst"])

    def fails(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(coding, "suggest_again", fails)
    with pytest.raises(RuntimeError, match="disk full"):
        suggestion_runs.run_execute(run.pk)
    run.refresh_from_db()
    assert run.status == "failed" and run.active is None and not run.problem
    assert run.error.startswith("An unexpected error (RuntimeError) stopped it.")
    assert "keep the suggestions they had" in run.error
    body = client_for(fw.users["analyst"]).get(reverse("themes:suggestion-run", args=[run.pk]))
    assert "What went wrong is in the service's log." in body.content.decode()
    # The worker being told to stop: marked so too.
    second = _ask(fw.users["analyst"])

    def stopping(**kwargs):
        raise SystemExit(1)

    monkeypatch.setattr(coding, "suggest_again", stopping)
    with pytest.raises(SystemExit):
        suggestion_runs.run_execute(second.pk)
    second.refresh_from_db()
    assert second.status == "failed"
    assert second.error.startswith("The background worker stopped in the middle of it.")


def test_a_run_the_worker_never_started_or_stopped_in_is_shown_so(fw):
    analyst = fw.users["analyst"]
    run = _ask(analyst)
    SuggestionRun.objects.filter(pk=run.pk).update(
        created_at=timezone.now() - dt.timedelta(minutes=3)
    )
    page = client_for(analyst).get(reverse("themes:suggestion-run", args=[run.pk]))
    assert "(<code>manage.py db_worker</code>) may not be running" in page.content.decode()
    progress = reverse("themes:suggestion-run-progress", args=[run.pk])
    assert client_for(analyst).get(progress).json()["not_started"] is True
    # Started long ago and never finished: the worker stopped in the middle of it.
    SuggestionRun.objects.filter(pk=run.pk).update(
        status="running", started_at=timezone.now() - dt.timedelta(minutes=31), run="gone"
    )
    body = client_for(analyst).get(reverse("themes:suggestion-run", args=[run.pk]))
    assert "may have stopped in the middle of it" in body.content.decode()
    assert client_for(analyst).get(progress).json()["stopped"] is True
    # Asked for again: that run is marked stopped, and a new one queued.
    fresh = _ask(fw.users["manager"])
    run.refresh_from_db()
    assert fresh.pk != run.pk and fresh.active
    assert run.status == "failed" and run.active is None and run.run == ""
    assert run.error == suggestion_runs.STOPPED_BY_THE_WORKER
    # Its run, should it be alive after all, records nothing more over that.
    suggestion_runs._finish(run, "gone", SuggestionRun.Status.DONE, statements=5)
    assert (run.status, run.statements) == ("failed", None)


def test_only_curators_ask_for_a_run_or_follow_one(fw):
    run = _ask(fw.users["analyst"])
    urls = [
        reverse("themes:suggestion-run", args=[run.pk]),
        reverse("themes:suggestion-run-progress", args=[run.pk]),
    ]
    for url in urls:
        assert client_for(fw.users["manager"]).get(url).status_code == 200, url
        assert client_for(fw.users["manager"]).post(url).status_code == 405, url
        anonymous = client_for(fw.users["analyst"])
        anonymous.logout()
        assert anonymous.get(url).status_code == 302, url
        for name in (CODERS | REFUSED) - CURATORS:
            assert client_for(fw.users[name]).get(url).status_code == 403, (name, url)
    missing = reverse("themes:suggestion-run", args=[run.pk + 1000])
    assert client_for(fw.users["analyst"]).get(missing).status_code == 404
    for name in (CODERS | REFUSED) - CURATORS:
        response = client_for(fw.users[name]).post(reverse("themes:suggest-again"))
        assert response.status_code == 403, name
    assert SuggestionRun.objects.count() == 1


@pytest.mark.django_db(transaction=True)  # the worker closes connections between tasks
def test_the_background_worker_runs_a_queued_run():
    """Here, with no codebook loaded, it finishes at once saying why."""
    analyst = UserFactory(role="analyst")
    run, queued = suggestion_runs.run_request(actor=analyst)
    assert queued
    call_command("db_worker", "--batch", "--no-startup-delay", "--queue-name", "default")
    result = DBTaskResult.objects.get()
    assert result.status == "SUCCESSFUL", result.exception_class_path
    assert result.return_value == "failed"
    run.refresh_from_db()
    assert run.status == "failed" and run.active is None and run.finished_at is not None
    assert run.problem == "No codebook is loaded: run manage.py themes_code."
