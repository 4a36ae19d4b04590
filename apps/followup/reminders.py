"""The reminder job: due-soon and overdue notices for recommendations and action plans.

Run daily. `manage.py send_reminders` enqueues `send_reminders_task` on the django-tasks
database backend and `manage.py db_worker` runs it (`send_reminders --now` runs it in the
calling process). Each reminder sent is stored (`Reminder`, unique per kind, recommendation or
plan, and due date), so a second run on the same day, a run that overlaps another (the job
holds a row lock for its whole run) or a rerun after a crash never sends a reminder twice.
A recommendation whose due date moves gets reminded again for the new date.

One notice per inspection and kind goes to the force's liaison officers, listing the
recommendations; overdue notices also go to the inspection's lead inspector. The work is a
fixed number of queries plus one write per notice, whatever the number of recommendations.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone
from django_tasks import task

from apps.accounts.models import Role, User
from apps.core.audit import SystemActor, audit_record
from apps.core.models import AuditEvent
from apps.findings.models import Finding, Kind, RecommendationStatus
from apps.inspections.models import Inspection, TeamMember, TeamRole
from apps.notifications.services import notify

from .models import ActionPlan, FollowUp, JobLock, Reminder

S = RecommendationStatus
# Statuses in which the next move is the force's: the ones a reminder is about. (Evidence
# submitted waits on the inspectorate; assessed-as-achieved and closed need nothing more.)
FORCE_TO_ACT = (
    S.AWAITING_RESPONSE,
    S.ACTION_PLAN_RECEIVED,
    S.BEING_PROGRESSED,
    S.PARTLY_ACHIEVED,
    S.NOT_ACHIEVED,
)
ACTOR = SystemActor("send_reminders")
JOB = "reminders"


@dataclass
class ReminderSummary:
    today: dt.date
    due_soon: int = 0
    overdue: int = 0
    plan_due_soon: int = 0
    plan_overdue: int = 0
    notices: int = 0
    inspections: list[str] = field(default_factory=list)

    def text(self) -> str:
        return (
            f"{self.overdue} overdue and {self.due_soon} due-soon recommendation reminders, "
            f"{self.plan_overdue} overdue and {self.plan_due_soon} due-soon action plan "
            f"reminders; {self.notices} notices sent"
        )


def _recommendations(
    kind: str, today: dt.date, soon: dt.date
) -> list[tuple[int, int, int | None, dt.date | None]]:
    """(finding id, inspection id, number, due date) of recommendations needing a reminder
    of `kind` that has not been sent for their current due date."""
    window = (
        {"due_on__lt": today}
        if kind == Reminder.Kind.OVERDUE
        else {"due_on__gte": today, "due_on__lte": soon}
    )
    sent = Reminder.objects.filter(
        kind=kind, recommendation=OuterRef("pk"), due_on=OuterRef("due_on")
    )
    return list(
        Finding.objects.filter(
            kind=Kind.RECOMMENDATION, status__in=FORCE_TO_ACT, due_on__isnull=False, **window
        )
        .filter(~Exists(sent))
        .order_by("inspection_id", "number", "id")
        .values_list("pk", "inspection_id", "number", "due_on")
    )


def _plans(kind: str, today: dt.date, soon: dt.date) -> list[tuple[int, dt.date]]:
    """(inspection id, plan due date) of inspections whose action plan has not arrived."""
    window = (
        {"action_plan_due_on__lt": today}
        if kind == Reminder.Kind.PLAN_OVERDUE
        else {"action_plan_due_on__gte": today, "action_plan_due_on__lte": soon}
    )
    sent = Reminder.objects.filter(
        kind=kind,
        recommendation__isnull=True,
        inspection=OuterRef("inspection_id"),
        due_on=OuterRef("action_plan_due_on"),
    )
    has_plan = ActionPlan.objects.filter(inspection=OuterRef("inspection_id"))
    open_recs = Finding.objects.filter(
        inspection=OuterRef("inspection_id"), kind=Kind.RECOMMENDATION, status__in=FORCE_TO_ACT
    ).exclude(timescale="immediately")
    return list(
        FollowUp.objects.filter(**window)
        .filter(~Exists(sent), ~Exists(has_plan), Exists(open_recs))
        .order_by("inspection_id")
        .values_list("inspection_id", "action_plan_due_on")
    )


def _people(inspection_ids: set[int]) -> tuple[dict[int, list[User]], dict[int, list[User]]]:
    """Force liaisons and lead inspectors of each inspection: three queries."""
    forces: dict[int, set[int]] = defaultdict(set)
    for inspection_id, force_id in Inspection.forces.through.objects.filter(
        inspection_id__in=inspection_ids
    ).values_list("inspection_id", "force_id"):
        forces[inspection_id].add(force_id)
    by_force: dict[int, list[User]] = defaultdict(list)
    for user in User.objects.filter(
        role=Role.FORCE_LIAISON, is_active=True, organisation__force__isnull=False
    ).select_related("organisation"):
        if user.organisation is not None and user.organisation.force_id is not None:
            by_force[user.organisation.force_id].append(user)
    leads: dict[int, list[User]] = defaultdict(list)
    for member in TeamMember.objects.filter(
        inspection_id__in=inspection_ids, role=TeamRole.LEAD_INSPECTOR, user__is_active=True
    ).select_related("user"):
        leads[member.inspection_id].append(member.user)
    liaisons = {
        i: [u for f in sorted(forces[i]) for u in by_force.get(f, [])] for i in inspection_ids
    }
    return liaisons, leads


def _numbers(items: list[tuple[int, int | None, dt.date]]) -> str:
    parts = [f"{n}" if n else "unnumbered" for _, n, _ in items]
    if len(parts) == 1:
        return f"recommendation {parts[0]}"
    return "recommendations " + ", ".join(parts[:-1]) + " and " + parts[-1]


def send_reminders(*, today: dt.date | None = None) -> ReminderSummary:
    """Send every reminder due today and not yet sent. Safe to run any number of times."""
    today = today or timezone.localdate()
    soon = today + dt.timedelta(days=settings.FOLLOWUP_DUE_SOON_DAYS)
    summary = ReminderSummary(today=today)
    with transaction.atomic():
        JobLock.objects.get_or_create(name=JOB)
        lock = JobLock.objects.select_for_update().get(name=JOB)
        lock.last_started_at = timezone.now()
        rec_kinds = {
            kind: _recommendations(kind, today, soon)
            for kind in (Reminder.Kind.OVERDUE, Reminder.Kind.DUE_SOON)
        }
        plan_kinds = {
            kind: _plans(kind, today, soon)
            for kind in (Reminder.Kind.PLAN_OVERDUE, Reminder.Kind.PLAN_DUE_SOON)
        }
        inspection_ids = {row[1] for rows in rec_kinds.values() for row in rows} | {
            row[0] for rows in plan_kinds.values() for row in rows
        }
        references = dict(
            Inspection.objects.filter(pk__in=inspection_ids).values_list("pk", "reference")
        )
        liaisons, leads = _people(inspection_ids)
        reminders: list[Reminder] = []

        def send(
            kind: str, inspection_id: int, subject: str, body: str, link: str, key: str
        ) -> None:
            recipients = list(liaisons.get(inspection_id, []))
            if kind in (Reminder.Kind.OVERDUE, Reminder.Kind.PLAN_OVERDUE):
                recipients += leads.get(inspection_id, [])
            summary.notices += len(
                notify(
                    recipients=recipients,
                    subject=subject,
                    body=body,
                    link=link,
                    urgent=kind == Reminder.Kind.PLAN_OVERDUE,
                    dedupe_key=key,
                )
            )

        for kind, rows in rec_kinds.items():
            grouped: dict[int, list[tuple[int, int | None, dt.date]]] = defaultdict(list)
            for pk, inspection_id, number, due in rows:
                if due is None:  # excluded by the query; for the type checker
                    continue
                grouped[inspection_id].append((pk, number, due))
                reminders.append(
                    Reminder(
                        kind=kind,
                        recommendation_id=pk,
                        inspection_id=inspection_id,
                        due_on=due,
                        sent_on=today,
                    )
                )
            for inspection_id, items in grouped.items():
                reference = references[inspection_id]
                dates = sorted({d for _, _, d in items})
                when = ", ".join(f"{d:%-d %B %Y}" for d in dates)
                if kind == Reminder.Kind.OVERDUE:
                    subject = f"{reference}: {_numbers(items)} overdue"
                    body = (
                        f"{_numbers(items).capitalize()} of {reference} "
                        f"{'was' if len(items) == 1 else 'were'} due by {when} and "
                        f"{'is' if len(items) == 1 else 'are'} not yet done. Post progress, "
                        "or the evidence for assessment, on the follow-up page."
                    )
                else:
                    subject = f"{reference}: {_numbers(items)} due soon"
                    verb = "is" if len(items) == 1 else "are"
                    body = f"{_numbers(items).capitalize()} of {reference} {verb} due by {when}."
                digest = hashlib.sha256(
                    ",".join(f"{pk}:{d}" for pk, _, d in items).encode()
                ).hexdigest()[:24]
                send(
                    kind,
                    inspection_id,
                    subject,
                    body,
                    reverse("followup:inspection", args=[inspection_id]),
                    f"reminder:{kind}:{inspection_id}:{digest}",
                )
            setattr(summary, kind, len(rows))
        for kind, plan_rows in plan_kinds.items():
            for inspection_id, due in plan_rows:
                reference = references[inspection_id]
                reminders.append(
                    Reminder(kind=kind, inspection_id=inspection_id, due_on=due, sent_on=today)
                )
                late = kind == Reminder.Kind.PLAN_OVERDUE
                send(
                    kind,
                    inspection_id,
                    f"{reference}: action plan {'overdue' if late else 'due soon'}",
                    f"The action plan for {reference} {'was' if late else 'is'} due by "
                    f"{due:%-d %B %Y}, six weeks after publication."
                    + (" It has not arrived." if late else ""),
                    reverse("followup:plan-submit", args=[inspection_id]),
                    f"reminder:{kind}:{inspection_id}:{due}",
                )
            setattr(summary, kind, len(plan_rows))
        Reminder.objects.bulk_create(reminders, batch_size=1000)
        summary.inspections = sorted(references[i] for i in inspection_ids)
        lock.last_finished_at = timezone.now()
        lock.last_summary = summary.text()[:500]
        lock.save()
        if reminders:
            audit_record(
                actor=ACTOR,
                action=AuditEvent.Action.SYSTEM,
                object_type="followup.reminder",
                object_repr=f"Reminders of {today:%-d %B %Y}",
                summary=summary.text(),
            )
    return summary


@task()
def send_reminders_task() -> dict[str, Any]:
    """The scheduled job (django-tasks). Returns the summary, kept with the task's result."""
    result = asdict(send_reminders())
    result["today"] = result["today"].isoformat()
    return result
