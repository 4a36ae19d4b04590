"""The recommendation lifecycle, the force's and the inspectorate's sides, evidence files
and causes of concern, through the services."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest
from django.db import connection
from django.test import override_settings

from apps.core.models import AuditEvent
from apps.findings.models import Finding, RecommendationStatusChange
from apps.followup import services
from apps.followup.files import decrypt
from apps.followup.models import (
    ActionPlan,
    Assessment,
    Comment,
    ConcernClosure,
    EvidenceFile,
    FollowUp,
    ProgressUpdate,
    Route,
)
from apps.followup.services import FollowUpError, PlannedActionInput
from apps.inspections.models import State
from apps.notifications.models import Notification

from .conftest import PUBLISHED_ON

TXT = ("evidence.txt", b"Audit of 40 cases: officers recorded the child's views in 38.\n")


def _docx() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<document/>")
    return out.getvalue()


def _history(rec: Finding) -> list[str]:
    return list(
        RecommendationStatusChange.objects.filter(recommendation=rec)
        .order_by("on", "id")
        .values_list("status", flat=True)
    )


def _plan(pub) -> ActionPlan:
    actions = {
        rec.pk: PlannedActionInput(
            action="Brief every response officer on recording the child's voice.",
            expected_impact="Children's views shape the decisions made about them.",
            target_date=dt.date(2027, 3, 1),
            evidence_measure="A monthly audit of 40 domestic abuse incidents.",
        )
        for rec in services.plan_recommendations(pub.inspection)
    }
    return services.action_plan_submit(
        actor=pub.users["liaison"], inspection=pub.inspection, summary="Our plan", actions=actions
    )


def test_the_whole_lifecycle_is_dated_attributed_and_kept(pub):
    liaison, lead = pub.users["liaison"], pub.users["lead"]
    # The action plan covers every open recommendation but the "immediately" one.
    covered = services.plan_recommendations(pub.inspection)
    assert {r.pk for r in covered} == {pub.concern_rec.pk, pub.later.pk}
    plan = _plan(pub)
    pub.refresh()
    assert pub.later.status == "action_plan_received"
    assert pub.immediate.status == "awaiting_response"
    # The inspectorate hears of it.
    assert Notification.objects.filter(recipient=lead, subject__contains="action plan 1").exists()
    services.action_plan_review(actor=lead, plan=plan, accept=True, note="", version=plan.version)
    pub.refresh()
    assert pub.later.status == "being_progressed"
    # The force posts progress, then evidence.
    services.progress_post(
        actor=liaison, recommendation=pub.later, text="Supervisors now review cases weekly."
    )
    services.progress_post(
        actor=liaison,
        recommendation=pub.later,
        text="Our audit shows the change.",
        kind=ProgressUpdate.Kind.EVIDENCE,
        files=[TXT, ("audit.docx", _docx())],
    )
    pub.refresh()
    assert pub.later.status == "evidence_submitted"
    # The inspectorate assesses, with reasoning, then closes.
    assessment = services.assessment_record(
        actor=lead,
        recommendation=pub.later,
        outcome=Assessment.Outcome.ACHIEVED,
        reasoning="The audit of 40 cases shows weekly supervision in all but two.",
        public_note="Supervision of investigations has improved.",
    )
    services.recommendation_close(
        actor=lead, recommendation=pub.later, note="Achieved and sustained."
    )
    pub.refresh()
    assert pub.later.status == "closed"
    assert _history(pub.later) == [
        "awaiting_response",
        "action_plan_received",
        "being_progressed",
        "evidence_submitted",
        "achieved",
        "closed",
    ]
    changes = list(RecommendationStatusChange.objects.filter(recommendation=pub.later))
    assert all(c.by_label for c in changes)
    assert {c.by for c in changes[1:]} == {liaison, lead}
    assert changes[4].note == "Supervision of investigations has improved."
    # The reasoning is encrypted at rest.
    with connection.cursor() as cursor:
        cursor.execute("SELECT reasoning FROM followup_assessment WHERE id = %s", [assessment.pk])
        assert "weekly supervision" not in cursor.fetchone()[0]
    # Every status step is in the audit trail.
    assert (
        AuditEvent.objects.filter(
            object_type="findings.finding", object_id=str(pub.later.pk), action="transition"
        ).count()
        == 6
    )


def test_a_closed_recommendation_takes_no_more_updates(pub):
    lead = pub.users["lead"]
    services.assessment_record(
        actor=lead, recommendation=pub.later, outcome="achieved", reasoning="Done."
    )
    services.recommendation_close(actor=lead, recommendation=pub.later, note="Achieved.")
    before = ProgressUpdate.objects.count(), Comment.objects.count()
    with pytest.raises(FollowUpError, match="closed: it takes no more updates"):
        services.progress_post(actor=pub.users["liaison"], recommendation=pub.later, text="More")
    with pytest.raises(FollowUpError, match="closed"):
        services.comment_post(actor=pub.users["liaison"], recommendation=pub.later, text="Hi")
    with pytest.raises(FollowUpError, match="closed"):
        services.assessment_record(
            actor=lead, recommendation=pub.later, outcome="achieved", reasoning="Again"
        )
    assert (ProgressUpdate.objects.count(), Comment.objects.count()) == before


def test_only_the_inspected_forces_liaison_acts_for_the_force(pub):
    for name in ("other_liaison", "lead", "manager", "partner"):
        with pytest.raises(FollowUpError, match="liaison officers act for the force"):
            services.progress_post(actor=pub.users[name], recommendation=pub.later, text="Not mine")
    with pytest.raises(FollowUpError, match="liaison officers act for the force"):
        _plan_for(pub, pub.users["other_liaison"])
    assert not ProgressUpdate.objects.exists()
    assert not ActionPlan.objects.exists()


def _plan_for(pub, actor):
    return services.action_plan_submit(
        actor=actor, inspection=pub.inspection, summary="", actions={}
    )


def test_the_inspectorates_side_is_for_the_manager_and_the_team(pub):
    plan = _plan(pub)
    for name in ("inspector", "analyst", "outsider", "liaison", "admin"):
        with pytest.raises(FollowUpError, match="programme manager or the lead"):
            services.action_plan_review(
                actor=pub.users[name], plan=plan, accept=True, note="", version=plan.version
            )
        with pytest.raises(FollowUpError, match="programme manager or the inspection's lead"):
            services.route_choose(
                actor=pub.users[name],
                inspection=pub.inspection,
                route=Route.LIGHT_TOUCH,
                rationale="Why not",
                version=1,
            )
    for name in ("analyst", "outsider", "liaison", "admin", "partner"):
        with pytest.raises(FollowUpError, match="assess recommendations"):
            services.assessment_record(
                actor=pub.users[name], recommendation=pub.later, outcome="achieved", reasoning="x"
            )
    # An inspector of the team may assess.
    services.assessment_record(
        actor=pub.users["second"], recommendation=pub.later, outcome="not_achieved", reasoning="x"
    )


def test_the_action_plan_names_every_missing_answer_and_saves_nothing(pub):
    bad = PlannedActionInput(action="", expected_impact="", target_date=None, evidence_measure="")
    half = PlannedActionInput(
        action="Train staff", expected_impact="", target_date=None, evidence_measure=""
    )
    with pytest.raises(FollowUpError) as caught:
        services.action_plan_submit(
            actor=pub.users["liaison"],
            inspection=pub.inspection,
            summary="",
            actions={pub.concern_rec.pk: bad, pub.later.pk: half},
        )
    errors = caught.value.message_dict
    assert f"rec_{pub.concern_rec.pk}_action" in errors
    assert f"rec_{pub.later.pk}_expected_impact" in errors
    assert f"rec_{pub.later.pk}_target_date" in errors
    assert "Recommendation" in errors[f"rec_{pub.later.pk}_evidence_measure"][0]
    assert not ActionPlan.objects.exists()


def test_a_plan_awaiting_review_cannot_be_replaced_and_a_returned_one_can(pub):
    plan = _plan(pub)
    with pytest.raises(FollowUpError, match="awaiting the inspectorate's review"):
        _plan(pub)
    services.action_plan_review(
        actor=pub.users["manager"], plan=plan, accept=False, note="Add dates.", version=plan.version
    )
    assert Notification.objects.filter(
        recipient=pub.users["liaison"], subject__contains="needs changes"
    ).exists()
    second = _plan(pub)
    assert second.number == 2
    with pytest.raises(services.ConcurrentFollowUpEdit):
        services.action_plan_review(
            actor=pub.users["lead"], plan=second, accept=True, note="", version=second.version - 1
        )


def test_a_changes_request_needs_a_note(pub):
    plan = _plan(pub)
    with pytest.raises(FollowUpError) as caught:
        services.action_plan_review(
            actor=pub.users["lead"], plan=plan, accept=False, note=" ", version=plan.version
        )
    assert "note" in caught.value.message_dict


def test_a_response_is_only_for_an_immediate_recommendation(pub):
    with pytest.raises(FollowUpError) as caught:
        services.progress_post(
            actor=pub.users["liaison"],
            recommendation=pub.later,
            text="Done at once",
            kind=ProgressUpdate.Kind.RESPONSE,
        )
    assert "kind" in caught.value.message_dict
    services.progress_post(
        actor=pub.users["liaison"],
        recommendation=pub.immediate,
        text="Every open investigation was reviewed by 10 October.",
        kind=ProgressUpdate.Kind.RESPONSE,
    )
    pub.refresh()
    assert pub.immediate.status == "being_progressed"
    assert RecommendationStatusChange.objects.filter(
        recommendation=pub.immediate, note="Response received"
    ).exists()


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("tool.exe", b"MZ\x90\x00", "not accepted"),
        ("report.pdf", b"<html>not a pdf</html>", "not a complete PDF"),
        ("plan.docx", b"plain text, not a zip", "not a readable DOCX"),
        ("photo.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, "damaged or not an image"),
        ("notes.txt", b"\xff\xfe\x00binary", "not UTF-8"),
        ("empty.csv", b"", "empty"),
    ],
)
def test_bad_evidence_files_are_refused_with_the_reason_and_nothing_is_stored(
    pub, name, data, reason
):
    with pytest.raises(FollowUpError) as caught:
        services.progress_post(
            actor=pub.users["liaison"],
            recommendation=pub.later,
            text="Evidence attached",
            files=[TXT, (name, data)],
        )
    messages = caught.value.message_dict["files"]
    assert any(m.startswith(name) and reason in m for m in messages), messages
    assert not ProgressUpdate.objects.exists()
    assert not EvidenceFile.objects.exists()


@override_settings(FOLLOWUP_MAX_FILE_BYTES=100)
def test_an_oversize_file_is_refused(pub):
    with pytest.raises(FollowUpError, match=r"evidence.txt: the file is .* the most is"):
        services.progress_post(
            actor=pub.users["liaison"],
            recommendation=pub.later,
            text="x",
            files=[("evidence.txt", b"a" * 101)],
        )


def test_a_docx_with_macros_is_refused(pub):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<document/>")
        archive.writestr("word/vbaProject.bin", "macro")
    with pytest.raises(FollowUpError, match="macros"):
        services.progress_post(
            actor=pub.users["liaison"],
            recommendation=pub.later,
            text="x",
            files=[("plan.docx", out.getvalue())],
        )


def test_evidence_files_are_encrypted_at_rest(pub):
    update = services.progress_post(
        actor=pub.users["liaison"], recommendation=pub.later, text="See the audit", files=[TXT]
    )
    stored = update.files.get()
    assert stored.name == "evidence.txt"
    assert stored.size == len(TXT[1])
    assert TXT[1] not in bytes(stored.content)
    assert decrypt(stored.content) == TXT[1]
    with connection.cursor() as cursor:
        cursor.execute("SELECT text FROM followup_progressupdate WHERE id = %s", [update.pk])
        assert "audit" not in cursor.fetchone()[0]


def test_a_public_note_that_identifies_someone_is_refused(pub):
    with pytest.raises(FollowUpError) as caught:
        services.assessment_record(
            actor=pub.users["lead"],
            recommendation=pub.later,
            outcome="achieved",
            reasoning="Fine",
            public_note="Jane Smith of 14 Acacia Avenue, LS6 2AB, said the force did well.",
        )
    assert "may identify someone" in caught.value.message_dict["public_note"][0]
    assert not Assessment.objects.exists()


def test_a_cause_of_concern_closes_by_letter_once_its_recommendations_are_assessed(pub):
    lead = pub.users["lead"]
    letter = ("closure-letter.pdf", b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n%%EOF\n")
    with pytest.raises(FollowUpError, match="Assess every recommendation"):
        services.concern_close(
            actor=lead, cause_of_concern=pub.cause, letter=letter, summary="Resolved."
        )
    services.assessment_record(
        actor=lead, recommendation=pub.concern_rec, outcome="achieved", reasoning="Done"
    )
    with pytest.raises(FollowUpError, match="programme manager or the lead"):
        services.concern_close(
            actor=pub.users["inspector"],
            cause_of_concern=pub.cause,
            letter=letter,
            summary="Resolved.",
        )
    closure = services.concern_close(
        actor=lead,
        cause_of_concern=pub.cause,
        letter=letter,
        summary="The force has addressed the cause of concern.",
    )
    pub.refresh()
    assert pub.cause.status == "closed"
    assert pub.concern_rec.status == "closed"
    assert decrypt(closure.letter.content) == letter[1]
    assert ConcernClosure.objects.get().summary.startswith("The force")
    with pytest.raises(FollowUpError, match="closed"):
        services.concern_close(
            actor=lead, cause_of_concern=pub.cause, letter=letter, summary="Again"
        )


def test_choosing_the_route_starts_follow_up(pub):
    follow_up = FollowUp.objects.get(inspection=pub.inspection)
    services.route_choose(
        actor=pub.users["lead"],
        inspection=pub.inspection,
        route=Route.REVIEW,
        rationale="Three causes of concern; the plan is credible but untested.",
        version=follow_up.version,
        on=dt.date(2026, 11, 20),
    )
    pub.inspection.refresh_from_db()
    assert pub.inspection.state == State.FOLLOW_UP
    follow_up.refresh_from_db()
    assert follow_up.route == Route.REVIEW
    assert follow_up.route_decided_by == pub.users["lead"]
    with pytest.raises(services.ConcurrentFollowUpEdit):
        services.route_choose(
            actor=pub.users["manager"],
            inspection=pub.inspection,
            route=Route.REINSPECTION,
            rationale="Changed my mind",
            version=follow_up.version - 1,
        )
    with pytest.raises(FollowUpError) as caught:
        services.route_choose(
            actor=pub.users["manager"],
            inspection=pub.inspection,
            route=Route.REINSPECTION,
            rationale="",
            version=follow_up.version,
        )
    assert "rationale" in caught.value.message_dict


def test_comments_go_to_the_other_side(pub):
    services.comment_post(
        actor=pub.users["liaison"], recommendation=pub.later, text="Is our plan enough?"
    )
    assert Notification.objects.filter(recipient=pub.users["lead"]).exists()
    services.comment_post(
        actor=pub.users["inspector"], recommendation=pub.later, text="Add the audit dates."
    )
    assert Notification.objects.filter(recipient=pub.users["liaison"]).exists()
    comments = list(Comment.objects.order_by("id"))
    assert [c.from_force for c in comments] == [True, False]
    with pytest.raises(FollowUpError, match="comment"):
        services.comment_post(actor=pub.users["analyst"], recommendation=pub.later, text="Hi")
    with pytest.raises(FollowUpError, match="comment"):
        services.comment_post(actor=pub.users["other_liaison"], recommendation=pub.later, text="Hi")


def test_an_assessment_cannot_predate_the_last_status(pub):
    with pytest.raises(FollowUpError) as caught:
        services.assessment_record(
            actor=pub.users["lead"],
            recommendation=pub.later,
            outcome="achieved",
            reasoning="x",
            on=PUBLISHED_ON - dt.timedelta(days=1),
        )
    assert "on" in caught.value.message_dict


def test_a_reviews_lead_manages_the_follow_up_but_the_route_is_the_originals_to_choose(pub):
    """The lead of a review that follows the inspection reviews plans like its own lead, but
    while the original is only published, choosing the route moves it into follow-up: only
    its own lead or the programme manager may (as the lifecycle says), and the refusal
    changes nothing. (Once it is in follow-up the review's lead may change the choice:
    tests/followup/test_permissions.py.)"""
    from apps.accounts.models import Role
    from apps.followup import permissions
    from apps.inspections.models import Inspection, ProgrammeType, TeamMember, TeamRole
    from tests.factories import UserFactory

    original = pub.inspection
    review_lead = UserFactory(
        username="review_lead",
        role=Role.LEAD_INSPECTOR,
        organisation=pub.users["lead"].organisation,
        full_name="Review Lead",
    )
    review = Inspection.objects.create(
        reference="PIR-2027-001",
        title="Post-inspection review",
        programme_type=ProgrammeType.NCPI_REVIEW,
        methodology=original.methodology,
        lead_inspectorate=original.lead_inspectorate,
        follows=original,
    )
    TeamMember.objects.create(inspection=review, user=review_lead, role=TeamRole.LEAD_INSPECTOR)
    assert permissions.can_manage_follow_up(review_lead, original)
    assert not permissions.can_choose_route(review_lead, original)
    assert permissions.can_choose_route(pub.users["lead"], original)
    assert permissions.can_choose_route(pub.users["manager"], original)
    follow_up = FollowUp.objects.get(inspection=original)
    with pytest.raises(FollowUpError, match="lead inspector chooses the follow-up"):
        services.route_choose(
            actor=review_lead,
            inspection=original,
            route=Route.REVIEW,
            rationale="A return visit.",
            version=follow_up.version,
        )
    follow_up.refresh_from_db()
    original.refresh_from_db()
    assert follow_up.route == "" and original.state == State.PUBLISHED
