"""Writes of follow-up. Every write is checked, audited and dated; concurrent edits are
refused rather than overwritten.

The lifecycle of a published recommendation (its public status history):

    awaiting response -> action plan received -> being progressed -> evidence submitted
        -> achieved / partly achieved / not achieved (assessed, with reasoning) -> closed
    or, from any open status, carried into a later inspection.

Rules kept here, whatever page, API call or job calls them:
- only force liaisons of the inspected force act for the force (an API key acts for its
  force only); only the programme manager and the team act for the inspectorate;
- a closed or carried-over recommendation takes no more updates, comments or assessments;
- the action plan is due six weeks after first publication and covers every open
  recommendation that is not "immediately";
- anything shown to the public (an assessment's public note, a closure summary) is checked
  for personal data first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import Role, User
from apps.core.audit import Actor, SystemActor, actor_fields, audit_record, audit_snapshot
from apps.core.cache import data_changed
from apps.core.models import AuditEvent
from apps.fieldwork.services import force_liaisons
from apps.findings.models import (
    Finding,
    Kind,
    RecommendationStatus,
    RecommendationStatusChange,
    Timescale,
)
from apps.inspections.models import Inspection, State, TeamRole
from apps.notifications.services import notify

from . import permissions
from .files import CheckedFile, check_file
from .models import (
    ActionPlan,
    Assessment,
    Comment,
    ConcernClosure,
    EvidenceFile,
    FollowUp,
    PlannedAction,
    ProgressUpdate,
    Route,
)

S = RecommendationStatus
CLOSED_STATUSES = frozenset({S.CLOSED, S.CARRIED_OVER})
ASSESSED_STATUSES = frozenset({S.ACHIEVED, S.PARTLY_ACHIEVED, S.NOT_ACHIEVED})
# A force's update moves the recommendation on from these (work resumes after an assessment
# that found it not, or only partly, achieved).
PROGRESS_FROM = frozenset(
    {S.AWAITING_RESPONSE, S.ACTION_PLAN_RECEIVED, S.PARTLY_ACHIEVED, S.NOT_ACHIEVED}
)
MAX_TEXT = 10_000
MAX_FILES = 10


class FollowUpError(ValidationError):
    """A change the rules refuse; the message says why."""


class ConcurrentFollowUpEdit(Exception):
    def __init__(self, what: str) -> None:
        super().__init__(
            f"{what} was changed by someone else while you were looking at it. Nothing has "
            "been saved: reload the page to see the latest version, then try again."
        )


@dataclass(frozen=True)
class ApiActor(SystemActor):
    """A force's API key acting: recorded as system:api:<force>:<key prefix>."""

    force_id: int = 0
    token_id: int = 0


def _changed() -> None:
    data_changed("findings")


def _label(actor: Actor) -> tuple[User | None, str]:
    return actor_fields(actor)


def rec_label(rec: Finding) -> str:
    if rec.kind == Kind.CAUSE_OF_CONCERN:
        return "The cause of concern"
    return f"Recommendation {rec.number}" if rec.number else "The recommendation"


def _public_text_check(text: str, field: str, inspection: Inspection) -> None:
    """Refuse public text that may identify someone (names, addresses, numbers)."""
    if not text.strip():
        return
    from apps.disclosure.engine import scan, type_label

    team = inspection.team.values_list("user__full_name", flat=True)
    found = scan(text, allow=[inspection.lead_inspectorate.name, *(n for n in team if n)])
    if found:
        raise FollowUpError(
            {
                field: "This is published, and it may identify someone ("
                + ", ".join(f"{type_label(h.type).lower()}: {h.text}" for h in found)
                + "): reword it."
            }
        )


def _clean_text(text: str, field: str, what: str, *, required: bool = True) -> str:
    text = (text or "").strip()
    if required and not text:
        raise FollowUpError({field: f"Enter {what}."})
    if len(text) > MAX_TEXT:
        raise FollowUpError(
            {field: f"{what[0].upper()}{what[1:]} must be {MAX_TEXT:,} characters or fewer."}
        )
    return text


# Status ------------------------------------------------------------------------------------


def status_record(
    *, actor: Actor, recommendation: Finding, status: str, on: dt.date, note: str = ""
) -> RecommendationStatusChange:
    """One dated, attributed step of the public status history, and the finding's current
    status with it. Call inside the transaction of the change that causes it."""
    user, label = _label(actor)
    change = RecommendationStatusChange.objects.create(
        recommendation=recommendation,
        status=status,
        on=on,
        note=note[:500],
        by=user,
        by_label=label,
    )
    Finding.objects.filter(pk=recommendation.pk).update(status=status, status_on=on)
    recommendation.status, recommendation.status_on = status, on
    audit_record(
        actor=actor,
        action=AuditEvent.Action.TRANSITION,
        instance=recommendation,
        summary=f"{rec_label(recommendation)} of inspection {recommendation.inspection_id}: "
        f"{S(status).label} on {on:%-d %B %Y}" + (f" ({note})" if note else ""),
    )
    return change


def follow_up_start(*, inspection: Inspection, published_on: dt.date) -> FollowUp:
    """At first publication: the follow-up record, with the action plan's due date."""
    follow_up, _ = FollowUp.objects.get_or_create(
        inspection=inspection,
        defaults={
            "published_on": published_on,
            "action_plan_due_on": FollowUp.plan_due(published_on),
        },
    )
    return follow_up


def carry_over_on_publication(*, actor: Actor, inspection: Inspection, on: dt.date) -> int:
    """When a report is first published, each earlier recommendation or cause of concern its
    findings carry over is marked as carried into it (if still open). Returns how many."""
    earlier = Finding.objects.filter(
        carried_into__inspection=inspection,
        kind__in=[Kind.RECOMMENDATION, Kind.CAUSE_OF_CONCERN],
        inspection__follow_up_record__isnull=False,
    ).exclude(status__in=CLOSED_STATUSES)
    count = 0
    ids = set(earlier.values_list("pk", flat=True))  # FOR UPDATE refuses DISTINCT
    for rec in Finding.objects.select_for_update().filter(pk__in=ids).order_by("pk"):
        status_record(
            actor=actor,
            recommendation=rec,
            status=S.CARRIED_OVER,
            on=on,
            note=f"Carried into {inspection.reference}",
        )
        count += 1
    return count


def _locked_open(recommendation: Finding) -> Finding:
    """The recommendation, locked, if it is published and still open."""
    rec = Finding.objects.select_for_update().select_related("inspection").get(pk=recommendation.pk)
    if rec.kind not in (Kind.RECOMMENDATION, Kind.CAUSE_OF_CONCERN) or not rec.status:
        raise FollowUpError(f"{rec_label(rec)} has not been published, so it has no follow-up.")
    if rec.status in CLOSED_STATUSES:
        raise FollowUpError(
            f"{rec_label(rec)} is {S(rec.status).label.lower()}: it takes no more updates."
        )
    return rec


def _check_force(actor: Actor, inspection: Inspection) -> None:
    if isinstance(actor, ApiActor):
        if not inspection.forces.filter(pk=actor.force_id).exists():
            raise FollowUpError("This API key is not for the inspected force.")
        return
    if isinstance(actor, SystemActor):
        return
    if not permissions.is_force_of(actor, inspection):
        raise FollowUpError("Only the inspected force's liaison officers act for the force.")


def _store_files(
    actor: Actor,
    files: Sequence[CheckedFile],
    *,
    update: ProgressUpdate | None = None,
    plan: ActionPlan | None = None,
) -> list[EvidenceFile]:
    user, label = _label(actor)
    stored = []
    for checked in files:
        item = EvidenceFile.objects.create(
            update=update,
            plan=plan,
            name=checked.name,
            content_type=checked.content_type,
            size=checked.size,
            sha256=checked.sha256,
            content=checked.encrypted(),
            uploaded_by=user,
            uploaded_by_label=label,
        )
        audit_record(
            actor=actor,
            action=AuditEvent.Action.CREATE,
            instance=item,
            summary=f"Evidence file {checked.name} ({checked.size:,} bytes, sha256 "
            f"{checked.sha256[:12]}…)",
        )
        stored.append(item)
    return stored


def check_files(files: Iterable[tuple[str, bytes]]) -> list[CheckedFile]:
    """Every file checked before anything is stored: one bad file refuses them all."""
    files = list(files)
    if len(files) > MAX_FILES:
        raise FollowUpError({"files": f"Attach at most {MAX_FILES} files at a time."})
    checked, errors = [], []
    for name, data in files:
        try:
            checked.append(check_file(name, data))
        except ValidationError as error:
            errors.extend(error.messages)
    if errors:
        raise FollowUpError({"files": errors})
    return checked


def _link(name: str, *args: Any) -> str:
    return reverse(f"followup:{name}", args=args)


def _inspectorate_people(inspection: Inspection) -> list[User]:
    """Who hears of the force's follow-up: the lead inspector (of the inspection, and of a
    review or re-inspection that follows it) and the programme managers."""
    leads = User.objects.filter(
        team_places__role=TeamRole.LEAD_INSPECTOR,
        is_active=True,
    ).filter(
        team_places__inspection__in=Inspection.objects.filter(pk=inspection.pk)
        | Inspection.objects.filter(follows=inspection)
    )
    managers = User.objects.filter(role=Role.PROGRAMME_MANAGER, is_active=True)
    return list({u.pk: u for u in [*leads, *managers]}.values())


# The force's side ----------------------------------------------------------------------


def progress_post(
    *,
    actor: Actor,
    recommendation: Finding,
    text: str,
    kind: str = ProgressUpdate.Kind.PROGRESS,
    files: Iterable[tuple[str, bytes]] = (),
    on: dt.date | None = None,
) -> ProgressUpdate:
    """A force's response, progress update or evidence for assessment, with its files."""
    text = _clean_text(text, "text", "the update")
    if kind not in ProgressUpdate.Kind.values:
        raise FollowUpError({"kind": "Choose what kind of update this is."})
    checked = check_files(files)
    on = on or timezone.localdate()
    with transaction.atomic():
        rec = _locked_open(recommendation)
        _check_force(actor, rec.inspection)
        if rec.kind != Kind.RECOMMENDATION:
            raise FollowUpError("Updates are posted on the recommendations of a cause of concern.")
        if kind == ProgressUpdate.Kind.RESPONSE and rec.timescale != Timescale.IMMEDIATELY:
            raise FollowUpError(
                {
                    "kind": 'A response is for an "immediately" recommendation; post a '
                    "progress update instead."
                }
            )
        if kind == ProgressUpdate.Kind.EVIDENCE and not (checked or text):
            raise FollowUpError({"files": "Attach the evidence for assessment."})
        user, label = _label(actor)
        update = ProgressUpdate.objects.create(
            recommendation=rec,
            kind=kind,
            text=text,
            author=user,
            author_label=label,
            via_api=isinstance(actor, ApiActor),
        )
        audit_record(
            actor=actor,
            action=AuditEvent.Action.CREATE,
            instance=update,
            summary=f"{update.get_kind_display()} on {rec_label(rec).lower()} of "
            f"{rec.inspection.reference}" + (" (API)" if update.via_api else ""),
        )
        _store_files(actor, checked, update=update)
        if kind == ProgressUpdate.Kind.EVIDENCE and rec.status != S.EVIDENCE_SUBMITTED:
            status_record(
                actor=actor,
                recommendation=rec,
                status=S.EVIDENCE_SUBMITTED,
                on=on,
                note="Evidence submitted for assessment",
            )
        elif kind != ProgressUpdate.Kind.EVIDENCE and rec.status in PROGRESS_FROM:
            status_record(
                actor=actor,
                recommendation=rec,
                status=S.BEING_PROGRESSED,
                on=on,
                note="Response received"
                if kind == ProgressUpdate.Kind.RESPONSE
                else "Progress update received",
            )
        notify(
            recipients=_inspectorate_people(rec.inspection),
            subject=f"{rec.inspection.reference}: {update.get_kind_display().lower()} on "
            f"{rec_label(rec).lower()}",
            body=f"The force posted {update.get_kind_display().lower()} on "
            f"{rec_label(rec).lower()} of {rec.inspection.reference}"
            + (f" with {len(checked)} file{'s' if len(checked) != 1 else ''}" if checked else "")
            + ".",
            link=_link("recommendation", rec.pk),
        )
        _changed()
    return update


@dataclass
class PlannedActionInput:
    action: str
    expected_impact: str
    target_date: dt.date | None
    evidence_measure: str


def plan_recommendations(inspection: Inspection) -> list[Finding]:
    """The recommendations an action plan covers: every open one but "immediately"."""
    return list(
        Finding.objects.filter(inspection=inspection, kind=Kind.RECOMMENDATION)
        .exclude(status="")
        .exclude(status__in=CLOSED_STATUSES)
        .exclude(timescale=Timescale.IMMEDIATELY)
        .order_by("number", "id")
    )


def action_plan_submit(
    *,
    actor: Actor,
    inspection: Inspection,
    summary: str,
    actions: Mapping[int, PlannedActionInput],
    files: Iterable[tuple[str, bytes]] = (),
    on: dt.date | None = None,
) -> ActionPlan:
    """The force's action plan: for every recommendation it covers, what it will do, the
    impact expected, when, and what will show it worked."""
    summary = _clean_text(summary, "summary", "a summary of the plan", required=False)
    checked = check_files(files)
    on = on or timezone.localdate()
    with transaction.atomic():
        locked = Inspection.objects.select_for_update().get(pk=inspection.pk)
        _check_force(actor, locked)
        if not FollowUp.objects.filter(inspection=locked).exists():
            raise FollowUpError(f"{locked.reference} has not been published.")
        latest = ActionPlan.objects.filter(inspection=locked).order_by("-number").first()
        if latest is not None and latest.status == ActionPlan.Status.SUBMITTED:
            raise FollowUpError(
                f"Action plan {latest.number} is awaiting the inspectorate's review. Add to it "
                "in the comments on each recommendation, or wait for the review."
            )
        covered = plan_recommendations(locked)
        if not covered:
            raise FollowUpError(f"{locked.reference} has no open recommendations to plan for.")
        errors: dict[str, str] = {}
        rows = []
        for rec in covered:
            given = actions.get(rec.pk)
            prefix = f"rec_{rec.pk}_"
            name = rec_label(rec)
            if given is None or not given.action.strip():
                errors[prefix + "action"] = f"{name}: enter what the force will do."
                continue
            if not given.expected_impact.strip():
                errors[prefix + "expected_impact"] = f"{name}: enter the impact expected."
            if given.target_date is None:
                errors[prefix + "target_date"] = f"{name}: enter when it will be done."
            elif given.target_date < locked.follow_up_record.published_on:
                errors[prefix + "target_date"] = f"{name}: the date is before publication."
            if not given.evidence_measure.strip():
                errors[prefix + "evidence_measure"] = (
                    f"{name}: enter what data or evidence will show it worked."
                )
            for field in ("action", "expected_impact", "evidence_measure"):
                if len(getattr(given, field)) > MAX_TEXT:
                    errors[prefix + field] = f"{name}: {MAX_TEXT:,} characters at most."
            rows.append((rec, given))
        if errors:
            raise FollowUpError(errors)
        user, label = _label(actor)
        plan = ActionPlan.objects.create(
            inspection=locked,
            number=(latest.number + 1) if latest else 1,
            summary=summary,
            submitted_by=user,
            submitted_by_label=label,
        )
        PlannedAction.objects.bulk_create(
            PlannedAction(
                plan=plan,
                recommendation=rec,
                action=given.action.strip(),
                expected_impact=given.expected_impact.strip(),
                target_date=given.target_date,  # type: ignore[misc]  # checked above
                evidence_measure=given.evidence_measure.strip(),
            )
            for rec, given in rows
        )
        audit_record(
            actor=actor,
            action=AuditEvent.Action.CREATE,
            instance=plan,
            summary=f"Action plan {plan.number} for {locked.reference}: "
            f"{len(rows)} recommendation{'s' if len(rows) != 1 else ''}",
        )
        _store_files(actor, checked, plan=plan)
        for rec, _ in rows:
            if rec.status == S.AWAITING_RESPONSE:
                status_record(
                    actor=actor,
                    recommendation=rec,
                    status=S.ACTION_PLAN_RECEIVED,
                    on=on,
                    note="Action plan received",
                )
        notify(
            recipients=_inspectorate_people(locked),
            subject=f"{locked.reference}: action plan {plan.number} received",
            body=f"The force sent action plan {plan.number} for {locked.reference}. "
            "Review it and choose the follow-up.",
            link=_link("plan", locked.pk, plan.number),
        )
        _changed()
    return plan


def comment_post(*, actor: User, recommendation: Finding, text: str) -> Comment:
    """A message in the private thread between the force and the inspectors."""
    text = _clean_text(text, "text", "a comment")
    with transaction.atomic():
        rec = _locked_open(recommendation)
        from_force = permissions.is_force_of(actor, rec.inspection)
        if not from_force and not permissions.can_assess(actor, rec.inspection):
            raise FollowUpError(
                "Only the inspected force's liaison officers and the inspectorate's team "
                "comment on a recommendation."
            )
        comment = Comment.objects.create(
            recommendation=rec,
            text=text,
            author=actor,
            author_label=actor.get_full_name() or actor.get_username(),
            from_force=from_force,
        )
        audit_record(
            actor=actor,
            action=AuditEvent.Action.CREATE,
            instance=comment,
            summary=f"Comment on {rec_label(rec).lower()} of {rec.inspection.reference}",
        )
        others = (
            _inspectorate_people(rec.inspection) if from_force else force_liaisons(rec.inspection)
        )
        notify(
            recipients=[u for u in others if u.pk != actor.pk],
            subject=f"{rec.inspection.reference}: new comment on {rec_label(rec).lower()}",
            body=f"{comment.author_label} commented on {rec_label(rec).lower()} of "
            f"{rec.inspection.reference}.",
            link=_link("recommendation", rec.pk),
        )
    return comment


# The inspectorate's side -----------------------------------------------------------------


def action_plan_review(
    *,
    actor: User,
    plan: ActionPlan,
    accept: bool,
    note: str,
    version: int,
    on: dt.date | None = None,
) -> ActionPlan:
    """Accept the plan (its recommendations are then being progressed) or send it back."""
    note = _clean_text(note, "note", "your review", required=not accept)
    on = on or timezone.localdate()
    with transaction.atomic():
        current = (
            ActionPlan.objects.select_for_update().select_related("inspection").get(pk=plan.pk)
        )
        if not permissions.can_manage_follow_up(actor, current.inspection):
            raise FollowUpError("Only the programme manager or the lead inspector reviews plans.")
        if current.version != version:
            raise ConcurrentFollowUpEdit(f"Action plan {current.number}")
        if current.status != ActionPlan.Status.SUBMITTED:
            raise FollowUpError(
                f"Action plan {current.number} has been reviewed already "
                f"({current.get_status_display().lower()})."
            )
        before = audit_snapshot(current)
        current.status = (
            ActionPlan.Status.ACCEPTED if accept else ActionPlan.Status.CHANGES_REQUESTED
        )
        current.review_note = note
        current.reviewed_by = actor
        current.reviewed_at = timezone.now()
        current.version = F("version") + 1
        current.save()
        current.refresh_from_db()
        audit_record(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            instance=current,
            before=before,
            after=audit_snapshot(current),
            summary=f"Action plan {current.number} of {current.inspection.reference}: "
            f"{current.get_status_display().lower()}",
        )
        if accept:
            for rec in Finding.objects.select_for_update().filter(
                planned_actions__plan=current, status=S.ACTION_PLAN_RECEIVED
            ):
                status_record(
                    actor=actor,
                    recommendation=rec,
                    status=S.BEING_PROGRESSED,
                    on=on,
                    note="Action plan accepted",
                )
        notify(
            recipients=force_liaisons(current.inspection),
            subject=f"{current.inspection.reference}: action plan {current.number} "
            f"{'accepted' if accept else 'needs changes'}",
            body=(
                f"The inspectorate accepted action plan {current.number}."
                if accept
                else f"The inspectorate asks for changes to action plan {current.number}: "
                "see the review and send a revised plan."
            ),
            link=_link("plan", current.inspection_id, current.number),
        )
        _changed()
    return current


def route_choose(
    *,
    actor: User,
    inspection: Inspection,
    route: str,
    rationale: str,
    version: int,
    on: dt.date | None = None,
) -> FollowUp:
    """Choose the follow-up (light touch, post-inspection review or re-inspection) with the
    reasons. The inspection moves into follow-up if it was only published."""
    from apps.inspections.services import inspection_transition

    rationale = _clean_text(rationale, "rationale", "the reasons for this choice")
    if route not in Route.values:
        raise FollowUpError({"route": "Choose the follow-up."})
    on = on or timezone.localdate()
    with transaction.atomic():
        follow_up = (
            FollowUp.objects.select_for_update()
            .select_related("inspection")
            .get(inspection=inspection)
        )
        if not permissions.can_choose_route(actor, follow_up.inspection):
            raise FollowUpError(
                "Only the programme manager or the inspection's lead inspector chooses the "
                "follow-up."
            )
        if follow_up.version != version:
            raise ConcurrentFollowUpEdit(f"The follow-up of {follow_up.inspection.reference}")
        before = audit_snapshot(follow_up)
        follow_up.route = route
        follow_up.route_rationale = rationale
        follow_up.route_decided_by = actor
        follow_up.route_decided_on = on
        follow_up.version += 1
        follow_up.save()
        audit_record(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            instance=follow_up,
            before=before,
            after=audit_snapshot(follow_up),
            summary=f"{follow_up.inspection.reference}: follow-up by "
            f"{Route(route).label.split(' (')[0].lower()}",
        )
        if follow_up.inspection.state == State.PUBLISHED:
            inspection_transition(
                actor=actor,
                inspection=follow_up.inspection,
                target=State.FOLLOW_UP,
                on=max(on, follow_up.inspection.state_changed_on or on),
                note=f"Follow-up: {Route(route).label.split(' (')[0].lower()}",
            )
        _changed()
    return follow_up


ROUTE_PROGRAMME_TYPE = {Route.REVIEW: "ncpi_review", Route.REINSPECTION: "ncpi_reinspection"}


def assessment_record(
    *,
    actor: User,
    recommendation: Finding,
    outcome: str,
    reasoning: str,
    public_note: str = "",
    on: dt.date | None = None,
    in_inspection: Inspection | None = None,
) -> Assessment:
    """The inspectorate's judgement of a recommendation, with its reasoning (private) and a
    public note for the tracker (checked for personal data)."""
    reasoning = _clean_text(reasoning, "reasoning", "the reasoning for the assessment")
    if outcome not in Assessment.Outcome.values:
        raise FollowUpError({"outcome": "Choose achieved, partly achieved or not achieved."})
    public_note = (public_note or "").strip()
    if len(public_note) > 500:
        raise FollowUpError({"public_note": "The public note must be 500 characters or fewer."})
    on = on or timezone.localdate()
    if on > timezone.localdate():
        raise FollowUpError({"on": "The date cannot be in the future."})
    with transaction.atomic():
        rec = _locked_open(recommendation)
        if rec.kind != Kind.RECOMMENDATION:
            raise FollowUpError("Causes of concern are closed by letter, not assessed.")
        if not permissions.can_assess(actor, rec.inspection):
            raise FollowUpError(
                "Only the programme manager and the inspection team assess recommendations."
            )
        if rec.status_on and on < rec.status_on:
            raise FollowUpError(
                {"on": f"The date cannot be before the last status ({rec.status_on:%-d %B %Y})."}
            )
        if in_inspection is not None and in_inspection.follows_id != rec.inspection_id:
            raise FollowUpError(
                {"in_inspection": "Choose a review or re-inspection of this inspection."}
            )
        _public_text_check(public_note, "public_note", rec.inspection)
        assessment = Assessment.objects.create(
            recommendation=rec,
            outcome=outcome,
            reasoning=reasoning,
            public_note=public_note,
            in_inspection=in_inspection,
            assessed_by=actor,
            assessed_on=on,
        )
        audit_record(
            actor=actor,
            action=AuditEvent.Action.CREATE,
            instance=assessment,
            summary=f"{rec_label(rec)} of {rec.inspection.reference} assessed: "
            f"{assessment.get_outcome_display().lower()}",
        )
        status_record(
            actor=actor,
            recommendation=rec,
            status=outcome,
            on=on,
            note=public_note or f"Assessed as {assessment.get_outcome_display().lower()}",
        )
        notify(
            recipients=force_liaisons(rec.inspection),
            subject=f"{rec.inspection.reference}: {rec_label(rec).lower()} assessed",
            body=f"The inspectorate assessed {rec_label(rec).lower()} of "
            f"{rec.inspection.reference} as {assessment.get_outcome_display().lower()}.",
            link=_link("recommendation", rec.pk),
        )
        _changed()
    return assessment


def recommendation_close(
    *, actor: User, recommendation: Finding, note: str, on: dt.date | None = None
) -> RecommendationStatusChange:
    """Close an assessed recommendation, with a public note."""
    note = _clean_text(note, "note", "a public note saying why it is closed")
    if len(note) > 500:
        raise FollowUpError({"note": "The note must be 500 characters or fewer."})
    on = on or timezone.localdate()
    with transaction.atomic():
        rec = _locked_open(recommendation)
        if not permissions.can_assess(actor, rec.inspection):
            raise FollowUpError(
                "Only the programme manager and the inspection team close recommendations."
            )
        if rec.kind != Kind.RECOMMENDATION:
            raise FollowUpError("A cause of concern is closed by letter.")
        if rec.status not in ASSESSED_STATUSES:
            raise FollowUpError(f"{rec_label(rec)} must be assessed before it is closed.")
        _public_text_check(note, "note", rec.inspection)
        change = status_record(
            actor=actor,
            recommendation=rec,
            status=S.CLOSED,
            on=max(on, rec.status_on or on),
            note=note,
        )
        _changed()
    return change


def concern_close(
    *,
    actor: User,
    cause_of_concern: Finding,
    letter: tuple[str, bytes],
    summary: str,
    on: dt.date | None = None,
) -> ConcernClosure:
    """Formally close a cause of concern by the letter to the force, stored with it. Each of
    its recommendations must have been assessed; the open ones are closed with it."""
    summary = _clean_text(summary, "summary", "a public summary of why it is closed")
    if len(summary) > 500:
        raise FollowUpError({"summary": "The summary must be 500 characters or fewer."})
    (checked,) = check_files([letter])
    on = on or timezone.localdate()
    with transaction.atomic():
        concern = _locked_open(cause_of_concern)
        if concern.kind != Kind.CAUSE_OF_CONCERN:
            raise FollowUpError("Only a cause of concern is closed by letter.")
        if not permissions.can_manage_follow_up(actor, concern.inspection):
            raise FollowUpError(
                "Only the programme manager or the lead inspector closes a cause of concern."
            )
        recs = list(
            Finding.objects.select_for_update()
            .filter(cause_of_concern=concern)
            .order_by("number", "id")
        )
        unassessed = [
            r for r in recs if r.status not in ASSESSED_STATUSES and r.status not in CLOSED_STATUSES
        ]
        if unassessed:
            raise FollowUpError(
                "Assess every recommendation of the cause of concern first: "
                + ", ".join(rec_label(r).lower() for r in unassessed)
                + " is not assessed."
            )
        _public_text_check(summary, "summary", concern.inspection)
        (letter_file,) = _store_files(actor, [checked])
        closure = ConcernClosure.objects.create(
            cause_of_concern=concern,
            letter=letter_file,
            summary=summary,
            closed_on=on,
            closed_by=actor,
        )
        audit_record(
            actor=actor,
            action=AuditEvent.Action.CREATE,
            instance=closure,
            summary=f"Cause of concern of {concern.inspection.reference} closed by letter "
            f"({checked.name})",
        )
        for rec in recs:
            if rec.status not in CLOSED_STATUSES:
                status_record(
                    actor=actor,
                    recommendation=rec,
                    status=S.CLOSED,
                    on=max(on, rec.status_on or on),
                    note="Closed with its cause of concern",
                )
        status_record(
            actor=actor,
            recommendation=concern,
            status=S.CLOSED,
            on=max(on, concern.status_on or on),
            note=summary,
        )
        notify(
            recipients=force_liaisons(concern.inspection),
            subject=f"{concern.inspection.reference}: cause of concern closed",
            body=f"The inspectorate closed a cause of concern of {concern.inspection.reference} "
            "by letter. The letter is on the cause of concern's page.",
            link=_link("recommendation", concern.pk),
        )
        _changed()
    return closure
