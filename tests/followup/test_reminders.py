"""The reminder job: due-soon and overdue notices, by email and in the app, never twice."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection

from apps.findings.models import Finding
from apps.followup import services
from apps.followup.models import JobLock, Reminder
from apps.followup.reminders import send_reminders
from apps.notifications.models import Notification

from .conftest import PUBLISHED_ON


def test_overdue_and_due_soon_notices_go_once(pub, django_capture_on_commit_callbacks):
    # On 26 November: the "immediately" recommendations (due on publication) and the action
    # plan (due 12 November) are overdue; Southshire's 3-month one is due on 1 January.
    today = dt.date(2026, 11, 26)
    with django_capture_on_commit_callbacks(execute=True):
        summary = send_reminders(today=today)
    assert summary.overdue == 1  # Northshire's immediate recommendation
    assert summary.plan_overdue == 2  # both inspections' plans
    assert summary.due_soon == 0
    liaison, lead = pub.users["liaison"], pub.users["lead"]
    notices = Notification.objects.filter(recipient=liaison)
    subjects = sorted(notices.values_list("subject", flat=True))
    assert subjects == [
        f"{pub.inspection.reference}: action plan overdue",
        f"{pub.inspection.reference}: recommendation {pub.immediate.number} overdue",
    ]
    # The lead inspector is told of overdue ones too; the other force hears only of its own.
    assert Notification.objects.filter(recipient=lead).count() == 2
    other = Notification.objects.filter(recipient=pub.users["other_liaison"])
    assert list(other.values_list("subject", flat=True)) == [
        f"{pub.other.reference}: action plan overdue"
    ]
    assert {m.to[0] for m in mail.outbox} >= {liaison.email, lead.email}
    sent = len(mail.outbox)

    # Run again, the same day and the next: nothing new.
    with django_capture_on_commit_callbacks(execute=True):
        again = send_reminders(today=today)
        next_day = send_reminders(today=today + dt.timedelta(days=1))
    assert again.notices == next_day.notices == 0
    assert len(mail.outbox) == sent
    assert Notification.objects.filter(recipient=liaison).count() == 2
    assert JobLock.objects.get(name="reminders").last_summary.startswith("0 overdue")


def test_due_soon_then_overdue_then_reminded_again_for_a_new_date(pub):
    rec = pub.other_rec  # due 1 January 2027
    assert rec.due_on == dt.date(2027, 1, 1)
    summary = send_reminders(today=dt.date(2026, 12, 20))
    assert summary.due_soon == 2  # with Northshire's 3-month recommendation, one notice each
    assert set(
        Notification.objects.filter(subject__endswith="due soon").values_list(
            "recipient__username", "subject"
        )
    ) == {
        ("other_liaison", f"{pub.other.reference}: recommendation 1 due soon"),
        (
            "liaison",
            f"{pub.inspection.reference}: recommendation {pub.concern_rec.number} due soon",
        ),
    }
    summary = send_reminders(today=dt.date(2027, 1, 2))
    assert summary.overdue >= 1
    assert Reminder.objects.filter(recommendation=rec).count() == 2
    # A new due date (say, agreed with the force) is reminded for again.
    Finding.objects.filter(pk=rec.pk).update(due_on=dt.date(2027, 1, 10))
    summary = send_reminders(today=dt.date(2027, 1, 11))
    assert Reminder.objects.filter(recommendation=rec, kind="overdue").count() == 2


def test_nothing_is_sent_for_a_recommendation_the_force_has_done(pub):
    liaison = pub.users["liaison"]
    services.progress_post(
        actor=liaison,
        recommendation=pub.immediate,
        text="Reviewed them all.",
        kind="evidence",
        files=[("review.txt", b"All 31 reviewed.\n")],
    )
    summary = send_reminders(today=dt.date(2026, 11, 26))
    assert summary.overdue == 0  # evidence submitted: the inspectorate's move


def test_no_plan_reminder_once_the_plan_arrived(pub):
    services.action_plan_submit(
        actor=pub.users["liaison"],
        inspection=pub.inspection,
        summary="",
        actions={
            rec.pk: services.PlannedActionInput("Act", "Impact", dt.date(2027, 2, 1), "Audit")
            for rec in services.plan_recommendations(pub.inspection)
        },
    )
    summary = send_reminders(today=dt.date(2026, 11, 26))
    assert summary.plan_overdue == 1  # Southshire's only


@pytest.mark.django_db(transaction=True)  # the worker closes connections between tasks
def test_the_command_runs_it_or_enqueues_it_for_the_worker(pub, capsys):
    call_command("send_reminders", "--now", "--today", "2026-11-26")
    assert "1 overdue" in capsys.readouterr().out
    assert Notification.objects.exists()
    count = Notification.objects.count()
    # Enqueued on the django-tasks database backend, and run by its worker.
    call_command("send_reminders")
    out = capsys.readouterr().out
    assert "Enqueued the reminder job" in out
    call_command("db_worker", "--batch", "--no-startup-delay", "--queue-name", "default")
    assert Notification.objects.count() == count  # the worker's run sent nothing twice
    from django_tasks_db.models import DBTaskResult

    result = DBTaskResult.objects.get()
    assert result.status == "SUCCESSFUL", result.exception_class_path
    assert result.return_value["notices"] == 0


def test_bad_command_input_is_refused():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--today needs --now"):
        call_command("send_reminders", "--today", "2026-11-26")
    with pytest.raises(CommandError, match="is not a date"):
        call_command("send_reminders", "--now", "--today", "26/11/2026")


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_send_each_reminder_once(pub):
    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers; the row lock is PostgreSQL's to test")
    results = []

    def run() -> None:
        try:
            results.append(send_reminders(today=dt.date(2026, 11, 26)).notices)
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results)[0] == 0
    assert Reminder.objects.filter(due_on=PUBLISHED_ON).count() == 1
