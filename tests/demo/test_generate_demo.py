"""`generate_programme --scale demo`: who and what it creates, through the services."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections import Counter
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction

from apps.accounts.models import Organisation, Role, User
from apps.core.models import AuditEvent
from apps.demo import generator
from apps.demo.catalogue import DEMO_CAST, DEMO_PASSWORD, SIGN_INS, STAGE_WORK, stage_work
from apps.demo.generator import GenerationError, generate_programme
from apps.demo.models import DemoProgramme
from apps.demo.reporting import CONCERNS, RECOMMENDATIONS
from apps.fieldwork.models import (
    CaseAudit,
    CaseList,
    Judgement,
    Referral,
    Resolution,
    Sample,
    SampledCase,
)
from apps.findings.models import Finding, Kind
from apps.followup.models import PlannedAction, ProgressUpdate
from apps.frameworks.models import MethodologyVersion
from apps.inspections.models import Inspection, ProgrammeType, State, TeamMember, TeamRole
from apps.inspections.permissions import inspections_visible_to
from apps.inspections.selectors import staff_home
from tests.factories import InspectionFactory, UserFactory

from .conftest import SEED, TODAY

CUMBRIA = "E23000002"
SIGN_IN_ROLES = {
    "manager": Role.PROGRAMME_MANAGER,
    "lead": Role.LEAD_INSPECTOR,
    "inspector": Role.INSPECTOR,
    "colleague": Role.INSPECTOR,
    "analyst": Role.ANALYST,
    "partner": Role.PARTNER_INSPECTOR,
    "liaison": Role.FORCE_LIAISON,
    "admin": Role.ADMINISTRATOR,
}


def _team(inspection: Inspection) -> dict[str, str]:
    return dict(inspection.team.values_list("user__username", "role"))


def test_one_sign_in_per_role_with_the_shared_password(demo):
    users = {
        u.username: u
        for u in User.objects.select_related("organisation__inspectorate", "organisation__force")
    }
    assert {name: users[name].role for name in SIGN_IN_ROLES} == SIGN_IN_ROLES
    for name in SIGN_IN_ROLES:
        assert users[name].check_password(DEMO_PASSWORD), name
    assert users["partner"].organisation.inspectorate.code == "ofsted"
    assert users["liaison"].organisation.kind == Organisation.Kind.FORCE
    assert users["liaison"].organisation.force.code == CUMBRIA
    assert users["manager"].organisation.inspectorate.code == "police"
    assert users["admin"].is_staff and users["admin"].is_superuser
    assert not any(u.is_staff or u.is_superuser for n, u in users.items() if n != "admin")
    # The rest of the cast is there to be on teams, and cannot sign in.
    for person in DEMO_CAST:
        assert not users[person.username].has_usable_password()
    assert all(u.email.endswith("@example.org") for u in users.values())
    assert len(users) == len(SIGN_INS) + len(DEMO_CAST)


def test_the_organisations(demo):
    kinds = sorted(Organisation.objects.values_list("kind", flat=True))
    assert kinds.count(Organisation.Kind.INSPECTORATE) == 1
    assert kinds.count(Organisation.Kind.PARTNER_INSPECTORATE) == 2
    assert kinds.count(Organisation.Kind.FORCE) == 3
    assert kinds.count(Organisation.Kind.NATIONAL_BODY) == 1
    partners = set(
        Organisation.objects.filter(kind="partner_inspectorate").values_list(
            "inspectorate__code", flat=True
        )
    )
    assert partners == {"ofsted", "ciw"}
    forces = set(Organisation.objects.filter(kind="force").values_list("force__code", flat=True))
    assert forces == {CUMBRIA, "E23000013", "W15000004"}


@pytest.mark.parametrize(
    "today",
    [TODAY, dt.date(2026, 3, 14), dt.date(2027, 1, 4)],
    ids=["wednesday", "saturday", "monday"],
)
def test_an_inspection_at_every_stage_around_today(programme_inputs, today):
    generate_programme(scale="demo", seed=SEED, today=today)
    inspections = list(Inspection.objects.prefetch_related("forces", "local_authorities"))
    assert {i.state for i in inspections} == set(State.values)
    by_state: dict[str, list[Inspection]] = {}
    for inspection in inspections:
        by_state.setdefault(inspection.state, []).append(inspection)
        assert inspection.state_changed_on <= today
        assert inspection.state_changes.latest("on", "id").to_state == inspection.state

    planned_ncpi = next(
        i for i in by_state[State.PLANNED] if i.programme_type == ProgrammeType.NCPI
    )
    assert 14 <= (planned_ncpi.fieldwork_start - today).days <= 28
    assert _team(planned_ncpi)["lead"] == TeamRole.LEAD_INSPECTOR
    assert _team(planned_ncpi)["inspector"] == TeamRole.INSPECTOR

    week_start = today - dt.timedelta(days=today.weekday())
    week_end = week_start + dt.timedelta(days=6)
    (on_site,) = by_state[State.FIELDWORK]
    assert on_site.fieldwork_start <= week_end and on_site.fieldwork_end >= week_start
    for name in ("lead", "manager"):
        home = staff_home(user=User.objects.get(username=name), today=today)
        assert home.due_this_week, name

    (published,) = by_state[State.PUBLISHED]
    review = published.follow_ups.get()
    assert review.programme_type == ProgrammeType.NCPI_REVIEW and review.state == State.PLANNED
    assert review.fieldwork_start > published.state_changed_on + dt.timedelta(days=365)

    old = next(i for i in by_state[State.CLOSED] if i.programme_type == ProgrammeType.NCPI)
    assert old.methodology.code == "ncpi-2016"
    assert old.follow_ups.get().state == State.CLOSED

    jtai = Inspection.objects.get(programme_type=ProgrammeType.JTAI)
    assert 1 <= jtai.local_authorities.count() <= 2
    assert set(jtai.local_authorities.values_list("country", flat=True)) == {"england"}
    assert list(jtai.forces.values_list("code", flat=True)) == [CUMBRIA]
    assert jtai.theme == "Children living with domestic abuse"
    assert jtai.lead_inspectorate.code == "ofsted"
    assert _team(jtai)["partner"] == TeamRole.PARTNER_INSPECTOR

    jicpa = Inspection.objects.get(programme_type=ProgrammeType.JICPA)
    assert set(jicpa.local_authorities.values_list("country", flat=True)) == {"wales"}
    assert jicpa.lead_inspectorate.code == "ciw"

    thematic = Inspection.objects.get(programme_type=ProgrammeType.THEMATIC, state=State.CLOSED)
    assert thematic.forces.count() >= 2
    # Another thematic inspection, of the liaison's force among others, is being planned.
    planned_thematic = Inspection.objects.get(
        programme_type=ProgrammeType.THEMATIC, state=State.PLANNED
    )
    assert CUMBRIA in set(planned_thematic.forces.values_list("code", flat=True))

    # The walk-through: the liaison's force on site this week, no case list yet, with the
    # `lead`, `inspector` and `colleague` sign-ins on the team.
    assert list(on_site.forces.values_list("code", flat=True)) == [CUMBRIA]
    assert on_site.programme_type == ProgrammeType.NCPI
    assert on_site.title == "National child protection inspection of Cumbria Constabulary"
    assert _team(on_site) == {
        "lead": TeamRole.LEAD_INSPECTOR,
        "inspector": TeamRole.INSPECTOR,
        "colleague": TeamRole.INSPECTOR,
    }

    for name in ("lead", "inspector"):
        assert TeamMember.objects.filter(user__username=name).count() >= 4, name


def test_what_the_liaison_and_partner_see(demo):
    liaison = User.objects.get(username="liaison")
    force_inspections = Inspection.objects.filter(forces__code=CUMBRIA)
    visible = set(inspections_visible_to(liaison).values_list("pk", flat=True))
    hidden = set(force_inspections.filter(state=State.PLANNED).values_list("pk", flat=True))
    assert hidden, "the liaison's force should have an inspection still being planned"
    assert visible == set(force_inspections.values_list("pk", flat=True)) - hidden
    assert len(visible) >= 3

    partner = User.objects.get(username="partner")
    assert list(inspections_visible_to(partner).values_list("programme_type", flat=True)) == [
        ProgrammeType.JTAI
    ]


def test_everything_is_in_the_audit_trail(demo):
    for inspection in Inspection.objects.prefetch_related("state_changes", "team"):
        events = AuditEvent.objects.filter(
            object_type="inspections.inspection", object_id=str(inspection.pk)
        )
        assert events.filter(action=AuditEvent.Action.CREATE).count() == 1
        transitions = events.filter(action=AuditEvent.Action.TRANSITION)
        assert transitions.count() == inspection.state_changes.count() - 1
        if inspection.state != State.PLANNED:
            assert transitions.exists()
        # Steps are taken by people: the lead inspector or the programme manager.
        team_leads = {
            m.user.username for m in inspection.team.all() if m.role == TeamRole.LEAD_INSPECTOR
        }
        assert set(transitions.values_list("actor_label", flat=True)) <= team_leads | {"manager"}
        assert (
            AuditEvent.objects.filter(
                object_type="inspections.teammember",
                action=AuditEvent.Action.CREATE,
                object_id__in=[str(m.pk) for m in inspection.team.all()],
            ).count()
            == inspection.team.count()
        )
    for model, queryset in (
        ("accounts.user", User.objects.all()),
        ("accounts.organisation", Organisation.objects.all()),
    ):
        for obj in queryset:
            event = AuditEvent.objects.get(object_type=model, object_id=str(obj.pk))
            assert event.actor_label == "system:generate_programme"
            assert "password" not in event.changes
    assert AuditEvent.objects.filter(object_type="demo.demoprogramme").count() == 1


def _snapshot() -> str:
    """Everything generated that a person would see, without database ids or timestamps."""
    rows = []
    for i in Inspection.objects.select_related("methodology", "follows").prefetch_related(
        "forces", "local_authorities", "team__user", "state_changes"
    ):
        rows.append(
            repr(
                (
                    i.reference,
                    i.title,
                    i.programme_type,
                    i.theme,
                    i.state,
                    i.fieldwork_start,
                    i.fieldwork_end,
                    i.planned_publication,
                    i.methodology.code,
                    i.follows.reference if i.follows else None,
                    i.confidential_notes,
                    sorted(f.code for f in i.forces.all()),
                    sorted(a.code for a in i.local_authorities.all()),
                    sorted((m.user.username, m.role) for m in i.team.all()),
                    [
                        (c.from_state, c.to_state, c.on, c.by_label, c.note)
                        for c in i.state_changes.all()
                    ],
                )
            )
        )
    rows += [
        repr(u)
        for u in User.objects.order_by("username").values_list(
            "username", "full_name", "email", "role", "organisation__name"
        )
    ]
    rows += _fieldwork_snapshot()
    return "\n".join(sorted(rows))


def _fieldwork_snapshot() -> list[str]:
    """The fieldwork, decrypted, by inspection reference and case reference."""
    rows = [
        repr(row)
        for row in CaseList.objects.values_list(
            "inspection__reference",
            "filename",
            "sha256",
            "row_count",
            "area_counts",
            "uploaded_by__username",
            "uploaded_at",
        )
    ]
    usernames = {
        f"inspector:{pk}": f"inspector:{name}"
        for pk, name in User.objects.values_list("pk", "username")
    }
    rows += [
        repr(
            (
                s.inspection.reference,
                s.seed,
                s.quotas,
                s.frame_sizes,
                s.frame_sha256,
                s.rationale,
                s.calculation,
                sorted(usernames.get(flag, flag) for flag in s.flagged),  # not database ids
                s.drawn_at,
            )
        )
        for s in Sample.objects.select_related("inspection")
    ]
    rows += [
        repr(row)
        for row in SampledCase.objects.values_list(
            "inspection__reference",
            "reference",
            "audit_area",
            "position",
            "status",
            "replaced_reason",
            "for_moderation",
            "final_grade",
            "comparable_grade",
        )
    ]
    judgements: dict[int, list[tuple[str, str, str, str]]] = {}
    for j in Judgement.objects.order_by("id"):
        judgements.setdefault(j.audit_id, []).append((j.stage, j.criterion, j.grade, j.notes))
    rows += [
        repr(
            (
                a.inspection.reference,
                a.sampled_case.reference,
                a.kind,
                a.auditor.username,
                a.status,
                a.overall_grade,
                a.overall_notes,
                a.version,
                a.created_at,
                a.updated_at,
                a.submitted_at,
                judgements.get(a.pk, []),
            )
        )
        for a in CaseAudit.objects.select_related("inspection", "sampled_case", "auditor")
    ]
    rows += [
        repr((r.sampled_case.reference, r.agreed_grade, r.reason, r.resolved_by.username))
        + repr(r.resolved_at)
        for r in Resolution.objects.select_related("sampled_case", "resolved_by")
    ]
    rows += [
        repr(
            (
                r.inspection.reference,
                r.reference,
                r.concern,
                r.status,
                r.raised_by.username,
                r.raised_at,
                r.acknowledged_at,
                r.actioned_at,
                r.force_action,
                r.closed_at,
                r.closing_note,
            )
        )
        for r in Referral.objects.select_related("inspection", "raised_by")
    ]
    return rows


class _Undo(Exception):
    pass


def _generate_and_undo(**kwargs) -> str:  # type: ignore[no-untyped-def]
    """Generate into the test database, take a snapshot, then roll it all back."""
    try:
        with transaction.atomic():
            generate_programme(**kwargs)
            snapshot = _snapshot()
            raise _Undo
    except _Undo:
        pass
    assert not Inspection.objects.exists() and not User.objects.exists()
    return snapshot


def test_the_same_seed_and_day_give_the_same_programme(programme_inputs):
    first = _generate_and_undo(scale="demo", seed=SEED, today=TODAY)
    second = _generate_and_undo(scale="demo", seed=SEED, today=TODAY)
    assert first.count("\n") > 20
    assert first.count("'submitted'") > 200  # the case audits are in it
    assert hashlib.sha256(first.encode()).hexdigest() == hashlib.sha256(second.encode()).hexdigest()
    assert first == second
    assert _generate_and_undo(scale="demo", seed=SEED + 1, today=TODAY) != first
    # Dates follow --today, not the real date.
    later = _generate_and_undo(scale="demo", seed=SEED, today=TODAY + dt.timedelta(weeks=10))
    assert later != first
    monday = TODAY - dt.timedelta(days=TODAY.weekday())
    planned_start = monday + dt.timedelta(weeks=10 + 3)  # the planned NCPI moved with it
    assert (
        f"datetime.date({planned_start.year}, {planned_start.month}, {planned_start.day})" in later
    )


def test_running_twice_changes_nothing(programme_inputs):
    out = StringIO()
    call_command("generate_programme", "--scale", "demo", "--today", str(TODAY), stdout=out)
    assert "Generated 13 inspections" in out.getvalue()
    counts = (
        Inspection.objects.count(),
        User.objects.count(),
        Organisation.objects.count(),
        AuditEvent.objects.count(),
    )
    again = StringIO()
    call_command("generate_programme", "--scale", "demo", "--today", str(TODAY), stdout=again)
    assert "already there" in again.getvalue()
    other = StringIO()
    call_command("generate_programme", "--scale", "national", stdout=other)
    assert "not the one asked for" in other.getvalue()
    assert counts == (
        Inspection.objects.count(),
        User.objects.count(),
        Organisation.objects.count(),
        AuditEvent.objects.count(),
    )
    assert DemoProgramme.objects.count() == 1


def test_progress_and_totals_are_printed(programme_inputs):
    out = StringIO()
    call_command("generate_programme", "--today", "2026-03-11", stdout=out)
    text = out.getvalue()
    for expected in (
        "7 organisations",
        "12 people",
        "13 of 13 inspections",
        "case audits and",
        "Inspections by stage",
        "People by role",
        "Audit events written",
    ):
        assert expected in text


def test_needs_reference_data_then_methodologies(db):
    with pytest.raises(CommandError, match="load_reference"):
        call_command("generate_programme", stdout=StringIO())
    call_command("load_reference", verbosity=0)
    with pytest.raises(CommandError, match="load_methodologies"):
        call_command("generate_programme", stdout=StringIO())
    assert not Organisation.objects.exists() and not User.objects.exists()


def test_refuses_a_database_holding_other_work(programme_inputs):
    InspectionFactory()
    with pytest.raises(CommandError, match="already holds 1 inspection"):
        call_command("generate_programme", stdout=StringIO())
    Inspection.objects.all().delete()
    UserFactory(username="manager")
    with pytest.raises(CommandError, match=r"already exist.*manager"):
        call_command("generate_programme", stdout=StringIO())


def test_a_failure_part_way_leaves_nothing(programme_inputs, monkeypatch):
    def fail(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise GenerationError("failed on purpose")

    monkeypatch.setattr(generator, "create_inspections", fail)
    with pytest.raises(CommandError, match="failed on purpose"):
        call_command("generate_programme", "--today", str(TODAY), stdout=StringIO())
    assert not Organisation.objects.exists()
    assert not User.objects.exists()
    assert not AuditEvent.objects.filter(actor_label="system:generate_programme").exists()


def test_bad_today_is_refused(db):
    with pytest.raises(CommandError, match="not a date"):
        call_command("generate_programme", "--today", "11/03/2026")


def test_every_stage_of_a_methodology_has_its_own_word_for_its_work(methodologies):
    """The demo's findings name a stage's work before "teams", "cases" and "records"; within a
    methodology each stage needs its own word, or two stages' findings would read alike."""
    versions = list(MethodologyVersion.objects.all())
    assert len(versions) >= 7
    for version in versions:
        codes = [stage["code"] for stage in version.stages]
        assert set(codes) <= set(STAGE_WORK), (version, set(codes) - set(STAGE_WORK))
        words = [stage_work(code) for code in codes]
        assert len(set(words)) == len(words), (version, words)
    assert stage_work("a_new_stage", "Sexual Harm") == "sexual harm"


def _demo_texts() -> list[str]:
    """Every text the demo writes from its templates: findings, and the forces' follow-up."""
    texts = list(Finding.objects.values_list("headline", flat=True))
    for action in PlannedAction.objects.all():
        texts += [action.action, action.expected_impact, action.evidence_measure]
    texts += [u.text for u in ProgressUpdate.objects.all()]
    return texts


def test_the_demo_reads_as_sentences_and_makes_no_point_twice(demo):
    texts = _demo_texts()
    assert len(texts) > 100
    assert PlannedAction.objects.exists() and ProgressUpdate.objects.exists()
    titles = {
        stage["name"].lower()
        for version in MethodologyVersion.objects.all()
        for stage in version.stages
        if stage["name"].lower() not in set(STAGE_WORK.values())
    }
    for text in texts:
        # No stage title dropped into a sentence ("because trusted adult is slow").
        assert not any(title in text.lower() for title in titles), text
        assert "{" not in text, text
        assert not re.search(r"\ba [aeiou]", text, re.IGNORECASE), text
    # No cause of concern or recommendation made twice in an inspection while its stage has
    # another of the list left.
    findings = Finding.objects.filter(
        inspection__isnull=False, kind__in=[Kind.CAUSE_OF_CONCERN, Kind.RECOMMENDATION]
    )
    per_stage = Counter((f.inspection_id, f.kind, f.stage) for f in findings)
    made = Counter((f.inspection_id, f.kind, f.stage, f.headline) for f in findings)
    assert made
    for (inspection, kind, stage, headline), n in made.items():
        options = len(RECOMMENDATIONS if kind == Kind.RECOMMENDATION else CONCERNS)
        assert n == 1 or per_stage[(inspection, kind, stage)] > options, headline


def test_every_template_reads_with_every_stages_word():
    """The demo's templates, each with every stage's word: no "a investigation case", and no
    slot left unfilled (the seeded demo draws only some of them)."""
    from apps.demo import followup, reporting

    templates = [
        *reporting.STRENGTHS,
        *reporting.IMPROVEMENTS,
        *reporting.CONCERNS,
        *reporting.RECOMMENDATIONS,
        *followup.RESPONSES,
        *(text for action in followup.PLANNED_ACTIONS for text in action),
        *followup.PROGRESS,
        *followup.EVIDENCE,
        followup.BRIEFING,
    ]
    uses = [t for t in templates if "{stage}" in t or "{work}" in t]
    assert len(uses) > 25
    for template in uses:
        for word in set(STAGE_WORK.values()):
            text = template.format(stage=word, work=word, n=2, m=3, p=80, q=60)
            assert not re.search(r"\ba [aeiou]", text, re.IGNORECASE), text
            assert "{" not in text and " the the " not in text, text
