"""The fieldwork services: the rules of the domain, the audit trail they leave, and what
they refuse (with every reason, named by field)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import cast

import pytest
from django.db import connection
from django.urls import reverse

from apps.accounts.models import Role
from apps.core.models import AuditEvent
from apps.fieldwork import draw, selectors, services
from apps.fieldwork.intake import CaseListRejected
from apps.fieldwork.models import (
    CaseAudit,
    CaseList,
    EligibleCase,
    Judgement,
    Referral,
    Resolution,
    Sample,
    SampledCase,
)
from apps.fieldwork.services import AuditConflict, DrawRequest, FieldworkError
from apps.frameworks.models import MethodologyVersion
from apps.inspections.models import Inspection, ProgrammeType, State
from apps.notifications.models import Notification
from tests.factories import InspectionFactory, UserFactory

from .conftest import AREAS, TODAY

GOOD, RI, INADEQUATE = "good", "requires improvement", "inadequate"
SECRET = "Seen at 14 Elm Road with her stepfather"  # stands for text that identifies a child


def _csv(*rows: str, header: str = "case_reference,audit_area,date_opened") -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


def _upload(fw, content: bytes, inspection: Inspection | None = None) -> CaseList:
    return services.case_list_upload(
        actor=fw.users["lead"],
        inspection=inspection or fw.inspection,
        filename="cases.csv",
        content=content,
        today=TODAY,
    )


def _draw(fw, inspection: Inspection, actor: str, quotas: dict[str, int], **kwargs) -> Sample:
    return services.sample_draw(
        actor=fw.users[actor],
        inspection=inspection,
        request=DrawRequest(quotas=quotas, rationale=kwargs.pop("rationale", "Tests"), **kwargs),
    )


def _in_sample(sample: Sample) -> list[SampledCase]:
    return list(SampledCase.objects.filter(sample=sample, status=SampledCase.Status.IN_SAMPLE))


def _moderated(sample: Sample) -> list[SampledCase]:
    return [c for c in _in_sample(sample) if c.for_moderation]


def _plain(sample: Sample) -> list[SampledCase]:
    return [c for c in _in_sample(sample) if not c.for_moderation]


def _raw(model, column: str, pk: int) -> str:
    """The value as stored in the database, bypassing the model field."""
    table = connection.ops.quote_name(model._meta.db_table)
    column = connection.ops.quote_name(column)
    with connection.cursor() as cursor:
        # Names from the model's own metadata, quoted; the value is a parameter.
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608
        return cursor.fetchone()[0]


def _events(instance, action: str | None = None):
    events = AuditEvent.objects.filter(
        object_type=instance._meta.label_lower, object_id=str(instance.pk)
    )
    return events.filter(action=action) if action else events


def _trail_text(events) -> str:
    return " ".join(json.dumps(e.changes) + e.summary + e.object_repr for e in events)


def _set_state(inspection: Inspection, state: str) -> None:
    Inspection.objects.filter(pk=inspection.pk).update(state=state)
    inspection.state = state


def _jtai() -> Inspection:
    """A joint inspection in fieldwork, under a methodology that grades no case files."""
    made = InspectionFactory(
        programme_type=ProgrammeType.JTAI,
        methodology=MethodologyVersion.objects.get(code="jtai"),
        state=State.FIELDWORK,
    )
    return cast(Inspection, made)


# Case lists ---------------------------------------------------------------------------------


def test_case_list_is_stored_with_counts_and_audited(fw):
    case_list = _upload(fw, fw.case_list_csv(per_area=12))
    assert case_list.row_count == 36
    assert case_list.area_counts == {area: 12 for area in sorted(AREAS)}
    assert EligibleCase.objects.filter(inspection=fw.inspection).count() == 36
    event = _events(case_list, AuditEvent.Action.CREATE).get()
    assert event.actor == fw.users["lead"]
    assert "36 eligible cases" in event.summary


def test_a_bad_case_list_stores_nothing_and_lists_every_problem(fw):
    content = _csv(
        "DA-00001,domestic_abuse,2026-01-10",
        "DA-00002,space_crime,2026-01-10",
        "DA-00003,domestic_abuse,not a date",
        "DA-00001,domestic_abuse,2026-01-11",
        ",missing_children,2026-01-11",
    )
    with pytest.raises(CaseListRejected) as rejected:
        _upload(fw, content)
    found = {(p.row, p.column) for p in rejected.value.problems}
    assert found == {
        (3, "audit_area"),
        (4, "date_opened"),
        (5, "case_reference"),
        (6, "case_reference"),
    }
    assert all(p.reason for p in rejected.value.problems)
    assert not CaseList.objects.filter(inspection=fw.inspection).exists()
    assert not EligibleCase.objects.filter(inspection=fw.inspection).exists()
    assert not AuditEvent.objects.filter(object_type="fieldwork.caselist").exists()


def test_a_bad_case_list_leaves_the_earlier_list_alone(fw):
    _upload(fw, fw.case_list_csv(per_area=5))
    with pytest.raises(CaseListRejected):
        _upload(fw, _csv("DA-99999,domestic_abuse,2026-01-10", "X,domestic_abuse,2026-01-10"))
    assert EligibleCase.objects.filter(inspection=fw.inspection).count() == 15
    assert CaseList.objects.filter(inspection=fw.inspection).count() == 1


def test_a_later_list_replaces_the_earlier_cases_in_its_areas_only(fw):
    first = _upload(fw, fw.case_list_csv(per_area=10))
    second = _upload(
        fw,
        _csv(
            "NEW-00001,domestic_abuse,2026-02-01",
            "NEW-00002,domestic_abuse,2026-02-02",
            "NEW-00003,domestic_abuse,2026-02-03",
        ),
    )
    cases = EligibleCase.objects.filter(inspection=fw.inspection)
    domestic = cases.filter(audit_area="domestic_abuse")
    assert sorted(domestic.values_list("reference", flat=True)) == [
        "NEW-00001",
        "NEW-00002",
        "NEW-00003",
    ]
    assert set(domestic.values_list("case_list", flat=True)) == {second.pk}
    # The other areas keep the first list's cases.
    assert cases.filter(audit_area="missing_children", case_list=first).count() == 10
    assert cases.filter(audit_area="child_sexual_exploitation", case_list=first).count() == 10
    assert "replacing 10" in _events(second, AuditEvent.Action.CREATE).get().summary


def test_case_list_refused_once_a_sample_exists(fw):
    fw.upload()
    fw.draw()
    with pytest.raises(FieldworkError, match="sample has already been drawn"):
        _upload(fw, _csv("NEW-00001,domestic_abuse,2026-02-01"))
    assert not EligibleCase.objects.filter(reference="NEW-00001").exists()


@pytest.mark.parametrize("state", [State.PLANNED, State.REPORTING, State.PUBLISHED])
def test_case_list_refused_outside_notified_and_fieldwork(fw, state):
    _set_state(fw.inspection, state)
    with pytest.raises(FieldworkError, match="notified"):
        _upload(fw, fw.case_list_csv(per_area=3))
    assert not EligibleCase.objects.exists()


def test_case_list_accepted_while_notified(fw):
    _set_state(fw.inspection, State.NOTIFIED)
    assert _upload(fw, fw.case_list_csv(per_area=3)).row_count == 9


def test_case_list_refused_for_a_methodology_that_does_not_grade(fw):
    jtai = _jtai()
    with pytest.raises(FieldworkError, match="does not grade case files"):
        _upload(fw, fw.case_list_csv(per_area=3), inspection=jtai)
    assert not EligibleCase.objects.exists()


# Sampling -----------------------------------------------------------------------------------


def test_draw_respects_the_quotas_and_takes_each_stratum_in_its_order(fw):
    fw.upload(per_area=40)
    quotas = {"domestic_abuse": 12, "missing_children": 7, "child_sexual_exploitation": 3}
    sample = fw.draw(quotas=quotas, seed="quota-seed")
    cases = _in_sample(sample)
    assert len(cases) == 22
    for area, quota in quotas.items():
        frame = EligibleCase.objects.filter(inspection=fw.inspection, audit_area=area)
        expected = draw.stratum_order("quota-seed", area, frame.values_list("reference", flat=True))
        chosen = sorted((c for c in cases if c.audit_area == area), key=lambda c: c.position)
        assert [c.reference for c in chosen] == expected[:quota]
        assert [c.position for c in chosen] == list(range(quota))
    assert sample.quotas == quotas
    assert sample.frame_sizes == {area: 40 for area in AREAS}
    assert _events(sample, AuditEvent.Action.CREATE).get().actor == fw.users["lead"]


def test_an_area_with_no_quota_is_left_out(fw):
    fw.upload(per_area=10)
    sample = fw.draw(quotas={"domestic_abuse": 4, "missing_children": 0})
    assert sample.quotas == {"domestic_abuse": 4}
    assert {c.audit_area for c in _in_sample(sample)} == {"domestic_abuse"}


def _picks(sample: Sample) -> list[tuple[str, int, str, bool]]:
    return sorted(
        (c.audit_area, c.position, c.reference, c.for_moderation) for c in _in_sample(sample)
    )


def test_same_seed_and_frame_give_the_same_sample_whatever_the_row_order(fw):
    content = fw.case_list_csv(per_area=40)
    header, *rows = content.decode().splitlines()
    shuffled = "\n".join([header, *reversed(rows)]) + "\n"
    assert shuffled.encode() != content
    _upload(fw, content)
    _upload(fw, shuffled.encode(), inspection=fw.other_inspection)
    quotas = {area: 9 for area in AREAS}
    first = _draw(fw, fw.inspection, "lead", quotas, seed="repeatable")
    again = _draw(fw, fw.other_inspection, "outsider", quotas, seed="repeatable")
    assert _picks(first) == _picks(again)
    assert first.frame_sha256 == again.frame_sha256


def test_a_different_seed_gives_a_different_sample(fw):
    content = fw.case_list_csv(per_area=40)
    _upload(fw, content)
    _upload(fw, content, inspection=fw.other_inspection)
    quotas = {area: 9 for area in AREAS}
    first = _draw(fw, fw.inspection, "lead", quotas, seed="one seed")
    other = _draw(fw, fw.other_inspection, "outsider", quotas, seed="another seed")
    assert {(a, r) for a, _, r, _ in _picks(first)} != {(a, r) for a, _, r, _ in _picks(other)}


def test_a_blank_seed_is_replaced_by_a_fresh_recorded_one(fw):
    fw.upload(per_area=5)
    sample = fw.draw(quotas={"domestic_abuse": 2}, seed="  ")
    assert len(sample.seed) == 16
    assert sample.seed in _events(sample, AuditEvent.Action.CREATE).get().summary


def test_frame_fingerprint_ignores_order_and_notices_changes():
    frame = {"domestic_abuse": ["DA-1", "DA-2"], "missing_children": ["MC-1"]}
    same = {"missing_children": ["MC-1"], "domestic_abuse": ["DA-2", "DA-1"]}
    assert services.frame_fingerprint(frame) == services.frame_fingerprint(same)
    changed = {"domestic_abuse": ["DA-1", "DA-3"], "missing_children": ["MC-1"]}
    moved = {"domestic_abuse": ["DA-1"], "missing_children": ["MC-1", "DA-2"]}
    assert services.frame_fingerprint(frame) != services.frame_fingerprint(changed)
    assert services.frame_fingerprint(frame) != services.frame_fingerprint(moved)
    assert len(services.frame_fingerprint(frame)) == 64


def test_the_sample_records_the_fingerprint_of_its_frame(fw):
    fw.upload(per_area=6)
    sample = fw.draw(quotas={"domestic_abuse": 2})
    frame: dict[str, list[str]] = {}
    for area, reference in EligibleCase.objects.values_list("audit_area", "reference"):
        frame.setdefault(area, []).append(reference)
    assert sample.frame_sha256 == services.frame_fingerprint(frame)


@pytest.mark.parametrize(
    ("total", "share", "minimum", "expected"),
    [
        (30, "0.1", 5, 5),  # 3 by share, raised to the minimum
        (30, "0.25", 5, 8),  # 7.5 rounded up
        (90, "0.1", 5, 9),
        (90, "0.101", 5, 10),  # 9.09 rounded up
        (30, "1", 5, 30),
        (6, "0.1", 10, 6),  # never more than the cases there are
        (0, "0.5", 5, 0),
    ],
)
def test_moderation_count(total, share, minimum, expected):
    assert services.moderation_count(total, Decimal(share), minimum) == expected


def test_draw_selects_the_moderation_share_in_the_sample_order(fw):
    fw.upload(per_area=40)
    sample = _draw(
        fw,
        fw.inspection,
        "lead",
        {area: 10 for area in AREAS},
        seed="mod-seed",
        moderation_share=Decimal("0.25"),
    )
    cases = _in_sample(sample)
    keys = [f"{c.audit_area}/{c.reference}" for c in cases]
    expected = set(draw.stratum_order("mod-seed", "moderation", keys)[:8])
    assert {f"{c.audit_area}/{c.reference}" for c in cases if c.for_moderation} == expected
    assert "8 to second-mark" in _events(sample, AuditEvent.Action.CREATE).get().summary


def test_draw_selects_every_case_when_the_minimum_exceeds_the_sample(fw):
    fw.upload(inspection=fw.other_inspection, per_area=10)
    sample = _draw(
        fw, fw.other_inspection, "outsider", {area: 2 for area in AREAS}, moderation_minimum=10
    )
    assert len(_in_sample(sample)) == 6
    assert all(c.for_moderation for c in _in_sample(sample))


def test_draw_validation_names_each_field(fw):
    fw.upload(per_area=40)
    with pytest.raises(FieldworkError) as refused:
        _draw(
            fw,
            fw.inspection,
            "lead",
            {"domestic_abuse": 41, "missing_children": -1, "child_sexual_exploitation": 2},
            rationale="   ",
        )
    errors = refused.value.message_dict
    assert set(errors) == {"quota_domestic_abuse", "quota_missing_children", "rationale"}
    assert "41" in errors["quota_domestic_abuse"][0]
    assert "only 40" in errors["quota_domestic_abuse"][0]
    assert "negative" in errors["quota_missing_children"][0]
    assert not Sample.objects.exists()


def test_draw_refuses_an_all_zero_sample(fw):
    fw.upload(per_area=5)
    with pytest.raises(FieldworkError) as refused:
        fw.draw(quotas={area: 0 for area in AREAS})
    assert "at least one case" in " ".join(refused.value.message_dict["__all__"])
    assert not Sample.objects.exists()


def test_draw_refuses_an_area_of_another_methodology(fw):
    fw.upload(per_area=5)
    with pytest.raises(FieldworkError) as refused:
        fw.draw(quotas={"domestic_abuse": 2, "burglary": 1})
    assert "quota_burglary" in refused.value.message_dict


def test_draw_refuses_moderation_settings_out_of_range(fw):
    fw.upload(per_area=5)
    with pytest.raises(FieldworkError) as refused:
        _draw(
            fw,
            fw.inspection,
            "lead",
            {"domestic_abuse": 2},
            moderation_share=Decimal("0"),
            kappa_threshold=Decimal("1.5"),
        )
    assert set(refused.value.message_dict) == {"moderation_share", "kappa_threshold"}


def test_draw_refused_without_a_case_list(fw):
    with pytest.raises(FieldworkError, match="case list"):
        fw.draw()


def test_draw_refused_twice(fw):
    fw.upload()
    first = fw.draw()
    with pytest.raises(FieldworkError, match="already been drawn"):
        fw.draw(seed="another")
    assert Sample.objects.get(inspection=fw.inspection).pk == first.pk
    assert SampledCase.objects.filter(inspection=fw.inspection).count() == 30


def test_draw_refused_for_a_methodology_that_does_not_grade(fw):
    jtai = _jtai()
    with pytest.raises(FieldworkError, match="does not grade"):
        _draw(fw, jtai, "lead", {"domestic_abuse": 1})


# Replacing a case ---------------------------------------------------------------------------


def test_replacement_is_the_next_case_of_the_same_area(fw):
    fw.upload(per_area=40)
    sample = fw.draw(seed="replace-seed")
    case = next(c for c in _in_sample(sample) if c.audit_area == "missing_children")
    replacement = services.case_replace(
        actor=fw.users["lead"], case=case, reason="  The file was destroyed.  "
    )
    frame = EligibleCase.objects.filter(inspection=fw.inspection, audit_area="missing_children")
    order = draw.stratum_order(
        "replace-seed", "missing_children", frame.values_list("reference", flat=True)
    )
    assert replacement.reference == order[10]
    assert replacement.position == 10
    assert replacement.audit_area == "missing_children"
    assert replacement.for_moderation == case.for_moderation
    assert replacement.eligible_case.reference == order[10]
    case.refresh_from_db()
    assert case.status == SampledCase.Status.REPLACED
    assert case.replaced_reason == "The file was destroyed."
    assert case.replacement == replacement
    event = _events(case, AuditEvent.Action.UPDATE).get()
    assert event.actor == fw.users["lead"]
    assert replacement.reference in event.summary
    assert event.changes["status"] == ["in_sample", "replaced"]
    # A second replacement in the area takes the case after that.
    other = next(
        c for c in _in_sample(sample) if c.audit_area == "missing_children" and c != replacement
    )
    again = services.case_replace(actor=fw.users["lead"], case=other, reason="Sealed")
    assert again.reference == order[11]
    assert len([c for c in _in_sample(sample) if c.audit_area == "missing_children"]) == 10


def test_replacement_needs_a_reason(fw):
    fw.upload()
    case = _in_sample(fw.draw())[0]
    with pytest.raises(FieldworkError) as refused:
        services.case_replace(actor=fw.users["lead"], case=case, reason="  ")
    assert "reason" in refused.value.message_dict
    case.refresh_from_db()
    assert case.status == SampledCase.Status.IN_SAMPLE


def test_a_case_is_replaced_once(fw):
    fw.upload()
    case = _in_sample(fw.draw())[0]
    services.case_replace(actor=fw.users["lead"], case=case, reason="Unusable")
    with pytest.raises(FieldworkError, match="already been replaced"):
        services.case_replace(actor=fw.users["lead"], case=case, reason="Again")


def test_a_case_with_a_submitted_audit_is_not_replaced(fw):
    fw.upload()
    case = _plain(fw.draw())[0]
    fw.complete(fw.audit(case, "inspector"), GOOD)
    with pytest.raises(FieldworkError, match="submitted audit"):
        services.case_replace(actor=fw.users["lead"], case=case, reason="Unusable")
    case.refresh_from_db()
    assert case.status == SampledCase.Status.IN_SAMPLE


def test_a_case_with_a_referral_is_not_replaced(fw):
    fw.upload()
    case = _in_sample(fw.draw())[0]
    services.referral_raise(actor=fw.users["inspector"], case=case, concern="At risk now")
    with pytest.raises(FieldworkError, match="referral"):
        services.case_replace(actor=fw.users["lead"], case=case, reason="Unusable")


def test_no_replacement_once_the_stratum_is_exhausted(fw):
    fw.upload(per_area=5)
    sample = fw.draw(quotas={"domestic_abuse": 5, "missing_children": 1})
    case = next(c for c in _in_sample(sample) if c.audit_area == "domestic_abuse")
    with pytest.raises(FieldworkError, match="Every eligible case"):
        services.case_replace(actor=fw.users["lead"], case=case, reason="Unusable")
    assert SampledCase.objects.filter(sample=sample).count() == 6


def test_replacing_a_case_removes_its_draft_audits_and_records_that(fw):
    fw.upload()
    case = _moderated(fw.draw())[0]
    primary = fw.audit(case, "inspector")
    services.audit_save(
        actor=fw.users["inspector"],
        audit=primary,
        version=primary.version,
        values={"overall_grade": GOOD, "overall_notes": SECRET},
    )
    second = fw.audit(case, "second", "second")
    services.case_replace(actor=fw.users["lead"], case=case, reason="Wrong area")
    assert not CaseAudit.objects.filter(sampled_case=case).exists()
    assert not Judgement.objects.filter(audit__sampled_case=case).exists()
    for audit in (primary, second):
        event = _events(audit, AuditEvent.Action.DELETE).get()
        assert event.actor == fw.users["lead"]
        assert "removed" in event.summary
    assert SECRET not in _trail_text(AuditEvent.objects.all())


# Starting audits ----------------------------------------------------------------------------


def test_audit_start_opens_one_primary_audit(fw):
    fw.upload()
    case = _plain(fw.draw())[0]
    audit = fw.audit(case, "inspector")
    assert (audit.kind, audit.auditor, audit.status) == (
        CaseAudit.Kind.PRIMARY,
        fw.users["inspector"],
        CaseAudit.Status.DRAFT,
    )
    assert _events(audit, AuditEvent.Action.CREATE).get().actor == fw.users["inspector"]
    # Starting again (by anyone) returns the audit there is; no second one is made.
    assert fw.audit(case, "third").pk == audit.pk
    assert CaseAudit.objects.filter(sampled_case=case).count() == 1


def test_second_marking_only_for_selected_cases(fw):
    fw.upload()
    case = _plain(fw.draw())[0]
    with pytest.raises(FieldworkError, match="not selected for second marking"):
        fw.audit(case, "second", "second")
    assert not CaseAudit.objects.filter(sampled_case=case).exists()


def test_second_marking_not_by_the_primary_auditor(fw):
    fw.upload()
    case = _moderated(fw.draw())[0]
    fw.audit(case, "inspector")
    with pytest.raises(FieldworkError, match="someone else must second-mark"):
        fw.audit(case, "inspector", "second")


def test_second_marking_not_by_the_lead_inspector(fw):
    fw.upload()
    case = _moderated(fw.draw())[0]
    with pytest.raises(FieldworkError, match="lead inspector"):
        fw.audit(case, "lead", "second")
    assert not CaseAudit.objects.filter(sampled_case=case).exists()


def test_primary_audit_not_by_the_second_marker(fw):
    fw.upload()
    case = _moderated(fw.draw())[0]
    fw.audit(case, "second", "second")
    with pytest.raises(FieldworkError, match="second-marked this case"):
        fw.audit(case, "second")
    assert fw.audit(case, "inspector").kind == CaseAudit.Kind.PRIMARY


def test_a_replaced_case_is_not_audited(fw):
    fw.upload()
    case = _in_sample(fw.draw())[0]
    services.case_replace(actor=fw.users["lead"], case=case, reason="Unusable")
    case.refresh_from_db()
    with pytest.raises(FieldworkError, match="replaced"):
        fw.audit(case, "inspector")


def test_audits_are_not_started_after_reporting(fw):
    fw.upload()
    case = _in_sample(fw.draw())[0]
    _set_state(fw.inspection, State.QUALITY_ASSURANCE)
    case.inspection = fw.inspection
    with pytest.raises(FieldworkError, match="fieldwork and reporting"):
        fw.audit(case, "inspector")


# Saving audits ------------------------------------------------------------------------------


@pytest.fixture
def draft(fw) -> CaseAudit:
    fw.upload()
    return fw.audit(_plain(fw.draw())[0], "inspector")


def _save(fw, audit: CaseAudit, values: dict[str, str], user: str = "inspector", version=None):
    return services.audit_save(
        actor=fw.users[user],
        audit=audit,
        version=audit.version if version is None else version,
        values=values,
    )


def _first_criterion(audit: CaseAudit) -> tuple[str, str]:
    stage = audit.inspection.methodology.stages_for_area(audit.sampled_case.audit_area)[0]
    return stage["code"], stage["criteria"][0]["code"]


def test_saved_values_round_trip(fw, draft):
    stage, criterion = _first_criterion(draft)
    notes = "Strategy discussion held late; ünïcode kept"
    saved = _save(
        fw,
        draft,
        {
            "overall_grade": RI,
            "overall_notes": "Overall notes",
            f"j:{stage}:{criterion}:grade": "n/a",
            f"j:{stage}:{criterion}:notes": notes,
            f"j:{stage}::grade": INADEQUATE,
        },
    )
    assert saved.version == draft.version + 1
    fresh = CaseAudit.objects.get(pk=draft.pk)
    assert (fresh.overall_grade, fresh.overall_notes, fresh.version) == (
        RI,
        "Overall notes",
        saved.version,
    )
    assert fresh.updated_by == fw.users["inspector"]
    judgement = Judgement.objects.get(audit=draft, stage=stage, criterion=criterion)
    assert (judgement.grade, judgement.notes) == ("n/a", notes)
    assert Judgement.objects.get(audit=draft, stage=stage, criterion="").grade == INADEQUATE
    assert services.audit_fields(fresh)[f"j:{stage}:{criterion}:grade"].criterion == criterion


def test_saving_with_a_stale_version_changes_nothing(fw, draft):
    stage, criterion = _first_criterion(draft)
    loaded = draft.version
    _save(fw, draft, {"overall_grade": GOOD}, user="lead")
    before = AuditEvent.objects.count()
    with pytest.raises(AuditConflict) as conflict:
        _save(
            fw,
            draft,
            {"overall_grade": INADEQUATE, f"j:{stage}:{criterion}:grade": INADEQUATE},
            version=loaded,
        )
    assert "Lead saved this audit" in str(conflict.value)
    assert conflict.value.audit.version == loaded + 1
    fresh = CaseAudit.objects.get(pk=draft.pk)
    assert (fresh.overall_grade, fresh.version) == (GOOD, loaded + 1)
    assert not Judgement.objects.filter(audit=draft).exists()
    assert AuditEvent.objects.count() == before


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("colour", "blue", "not a field"),
        ("j:leadership:leadership.priority:grade", "good", "not a field"),  # not of this area
        ("overall_grade", "outstanding", "not a grade"),
        ("overall_grade", "n/a", "not a grade"),  # a case always has an overall grade
        ("j:initial_contact::grade", "excellent", "not a grade"),
    ],
)
def test_save_refuses_unknown_fields_and_grades(fw, draft, name, value, message):
    with pytest.raises(FieldworkError, match=message):
        _save(fw, draft, {"overall_notes": "kept out too", name: value})
    fresh = CaseAudit.objects.get(pk=draft.pk)
    assert (fresh.version, fresh.overall_notes) == (draft.version, "")


def test_notes_are_encrypted_at_rest(fw, draft):
    stage, criterion = _first_criterion(draft)
    _save(fw, draft, {"overall_notes": SECRET, f"j:{stage}:{criterion}:notes": SECRET})
    judgement = Judgement.objects.get(audit=draft, stage=stage, criterion=criterion)
    for raw in (_raw(CaseAudit, "overall_notes", draft.pk), _raw(Judgement, "notes", judgement.pk)):
        assert raw
        assert SECRET not in raw
        assert "Elm Road" not in raw
    assert CaseAudit.objects.get(pk=draft.pk).overall_notes == SECRET
    assert judgement.notes == SECRET


def test_every_save_is_audited_without_the_notes(fw, draft):
    stage, criterion = _first_criterion(draft)
    _save(fw, draft, {"overall_notes": SECRET})
    draft.refresh_from_db()
    _save(fw, draft, {f"j:{stage}:{criterion}:notes": SECRET, f"j:{stage}:{criterion}:grade": GOOD})
    draft.refresh_from_db()
    _save(fw, draft, {"overall_grade": RI}, user="lead")
    events = list(_events(draft, AuditEvent.Action.UPDATE).order_by("id"))
    assert len(events) == 3
    assert [e.actor_label for e in events] == ["inspector", "inspector", "lead"]
    assert events[0].changes == {"overall_notes": ["(encrypted)", "(encrypted)"]}
    assert events[1].changes[f"{stage}:{criterion} grade"] == ["", GOOD]
    assert events[2].changes == {"overall_grade": ["", RI]}
    assert SECRET not in _trail_text(AuditEvent.objects.all())
    assert "Elm Road" not in _trail_text(AuditEvent.objects.all())


# Submitting audits --------------------------------------------------------------------------


def test_submit_refused_until_everything_is_graded(fw, draft):
    values = {
        name: GOOD for name, field in services.audit_fields(draft).items() if field.part == "grade"
    }
    stage, criterion = _first_criterion(draft)
    del values[f"j:{stage}:{criterion}:grade"]
    del values["overall_grade"]
    audit = _save(fw, draft, values)
    with pytest.raises(FieldworkError) as refused:
        services.audit_submit(actor=fw.users["inspector"], audit=audit, version=audit.version)
    message = " ".join(refused.value.messages)
    criterion_text = fw.methodology.criteria_by_code[criterion]["text"]
    assert criterion_text in message
    assert "overall grade" in message
    assert message.count("grade '") == 1  # only the one criterion left
    fresh = CaseAudit.objects.get(pk=draft.pk)
    assert fresh.status == CaseAudit.Status.DRAFT
    assert fresh.sampled_case.final_grade == ""


def test_submit_names_missing_stage_grades(fw, draft):
    stages = fw.methodology.stages_for_area(draft.sampled_case.audit_area)
    assert services.missing_for_submission(draft)[-1] == "Give the case its overall grade"
    missing = services.missing_for_submission(draft)
    assert f"{stages[0]['name']}: give the stage an overall grade" in missing
    expected = sum(len(s["criteria"]) + 1 for s in stages) + 1
    assert len(missing) == expected


def test_submit_sets_the_final_and_comparable_grade(fw, draft):
    submitted = fw.complete(draft, RI)
    assert submitted.status == CaseAudit.Status.SUBMITTED
    assert submitted.submitted_at is not None
    case = SampledCase.objects.get(pk=draft.sampled_case_id)
    assert case.final_grade == RI
    assert case.comparable_grade == fw.methodology.comparable(RI) == "requires_improvement"
    event = _events(draft, AuditEvent.Action.UPDATE).filter(changes__has_key="status").get()
    assert event.changes == {"status": ["draft", "submitted"]}


def test_a_submitted_audit_cannot_be_saved_or_submitted_again(fw, draft):
    submitted = fw.complete(draft, GOOD)
    with pytest.raises(FieldworkError, match="submitted"):
        _save(fw, submitted, {"overall_grade": INADEQUATE}, version=submitted.version)
    with pytest.raises(FieldworkError, match="already been submitted"):
        services.audit_submit(
            actor=fw.users["inspector"], audit=submitted, version=submitted.version
        )
    assert CaseAudit.objects.get(pk=draft.pk).overall_grade == GOOD


# Second marking and agreement ---------------------------------------------------------------


def _disagreement_notices(fw, case: SampledCase):
    return Notification.objects.filter(dedupe_key=f"disagreement:{case.pk}")


def test_a_disagreement_is_sent_to_the_lead_once(fw):
    fw.upload()
    case = _moderated(fw.draw())[0]
    fw.complete(fw.audit(case, "inspector"), GOOD)
    assert not _disagreement_notices(fw, case).exists()
    fw.complete(fw.audit(case, "second", "second"), INADEQUATE)
    notice = _disagreement_notices(fw, case).get()
    assert notice.recipient == fw.users["lead"]
    assert case.reference in notice.subject
    assert notice.link == reverse("fieldwork:moderation", args=[fw.inspection.pk])
    services._after_second_marking(case)  # anything that looks again sends nothing new
    assert _disagreement_notices(fw, case).count() == 1


def test_agreement_sends_no_disagreement(fw):
    fw.upload()
    case = _moderated(fw.draw())[0]
    fw.complete(fw.audit(case, "second", "second"), RI)  # the second marking may come first
    fw.complete(fw.audit(case, "inspector"), RI)
    assert not _disagreement_notices(fw, case).exists()
    assert SampledCase.objects.get(pk=case.pk).final_grade == RI


def _agreement_notices(fw):
    return Notification.objects.filter(
        recipient=fw.users["lead"], subject__contains="agreement below the threshold"
    )


def _second_mark_all(fw, sample: Sample, primary: list[str], second: list[str]) -> None:
    cases = _moderated(sample)
    assert len(cases) == len(primary) == len(second)
    for case, first, other in zip(cases, primary, second, strict=True):
        fw.complete(fw.audit(case, "inspector"), first)
        fw.complete(fw.audit(case, "second", "second"), other)


def test_low_agreement_is_flagged_to_the_lead_once(fw):
    fw.upload()
    sample = fw.draw()
    _second_mark_all(
        fw,
        sample,
        [GOOD, RI, INADEQUATE, GOOD, RI],
        [RI, INADEQUATE, GOOD, INADEQUATE, GOOD],
    )
    sample.refresh_from_db()
    assert "overall" in sample.flagged
    notices = _agreement_notices(fw)
    assert notices.exists()
    assert any("Overall case grade" in n.body for n in notices)
    assert {n.link for n in notices} == {reverse("fieldwork:agreement", args=[fw.inspection.pk])}
    count = notices.count()
    assert services.flag_low_agreement(fw.inspection) == sample.flagged
    assert _agreement_notices(fw).count() == count


def test_good_agreement_is_not_flagged(fw):
    fw.upload()
    sample = fw.draw()
    grades = [GOOD, RI, INADEQUATE, GOOD, RI]
    _second_mark_all(fw, sample, grades, grades)
    sample.refresh_from_db()
    assert selectors.agreement_report(fw.inspection).pairs == 5
    assert sample.flagged == []
    assert not _agreement_notices(fw).exists()
    assert services.flag_low_agreement(fw.inspection) == []


# Agreeing a grade ---------------------------------------------------------------------------


@pytest.fixture
def disputed(fw) -> SampledCase:
    fw.upload()
    case = _moderated(fw.draw())[0]
    fw.complete(fw.audit(case, "inspector"), GOOD)
    fw.complete(fw.audit(case, "second", "second"), INADEQUATE)
    return case


def test_resolution_sets_the_final_grade(fw, disputed):
    assert SampledCase.objects.get(pk=disputed.pk).final_grade == GOOD
    resolution = services.resolution_record(
        actor=fw.users["lead"], case=disputed, agreed_grade=RI, reason=SECRET
    )
    case = SampledCase.objects.get(pk=disputed.pk)
    assert (case.final_grade, case.comparable_grade) == (RI, "requires_improvement")
    assert resolution.resolved_by == fw.users["lead"]
    assert SECRET not in _raw(Resolution, "reason", resolution.pk)
    event = _events(resolution, AuditEvent.Action.CREATE).get()
    assert "audit good" in event.summary and "second marking inadequate" in event.summary
    assert SECRET not in _trail_text(AuditEvent.objects.all())


def test_resolution_refused_twice(fw, disputed):
    services.resolution_record(actor=fw.users["lead"], case=disputed, agreed_grade=RI, reason="A")
    with pytest.raises(FieldworkError, match="already been agreed"):
        services.resolution_record(
            actor=fw.users["lead"], case=disputed, agreed_grade=GOOD, reason="B"
        )
    assert SampledCase.objects.get(pk=disputed.pk).final_grade == RI


def test_resolution_only_when_both_marks_are_submitted(fw):
    fw.upload()
    case = _moderated(fw.draw())[0]
    fw.complete(fw.audit(case, "inspector"), GOOD)
    fw.audit(case, "second", "second")  # a draft
    with pytest.raises(FieldworkError, match="Both"):
        services.resolution_record(actor=fw.users["lead"], case=case, agreed_grade=RI, reason="A")
    assert not Resolution.objects.exists()


def test_resolution_validation(fw, disputed):
    with pytest.raises(FieldworkError) as refused:
        services.resolution_record(
            actor=fw.users["lead"], case=disputed, agreed_grade="outstanding", reason=" "
        )
    assert set(refused.value.message_dict) == {"agreed_grade", "reason"}
    assert not Resolution.objects.exists()


# Moderation settings ------------------------------------------------------------------------


def _selected(sample: Sample) -> set[int]:
    return {c.pk for c in _moderated(sample)}


def _update(fw, sample: Sample, version: int, share: str, minimum: int = 5, threshold="0.6"):
    return services.moderation_update(
        actor=fw.users["lead"],
        sample=sample,
        version=version,
        share=Decimal(share),
        minimum=minimum,
        threshold=Decimal(threshold),
    )


def test_moderation_update_refuses_a_stale_version(fw):
    fw.upload()
    sample = fw.draw()
    before = _selected(sample)
    with pytest.raises(FieldworkError, match="Someone else changed"):
        _update(fw, sample, sample.version + 1, "0.5")
    sample.refresh_from_db()
    assert (sample.version, sample.moderation_share) == (1, Decimal("0.1"))
    assert _selected(sample) == before


def test_a_larger_share_adds_cases_to_the_selection(fw):
    fw.upload()
    sample = fw.draw()
    before = _selected(sample)
    updated = _update(fw, sample, 1, "0.5", threshold="0.7")
    assert updated.version == 2
    assert (updated.moderation_share, updated.kappa_threshold) == (Decimal("0.5"), Decimal("0.7"))
    after = _selected(sample)
    assert len(after) == 15
    assert before < after  # the same order, so the earlier selection stays
    event = _events(sample, AuditEvent.Action.UPDATE).get()
    assert event.changes["moderation_share"] == ["0.100", "0.5"]
    assert event.changes["version"] == [1, 2]


def test_a_smaller_share_never_drops_a_case_whose_second_marking_started(fw):
    fw.upload()
    sample = fw.draw()
    cases = _in_sample(sample)
    order = draw.stratum_order(
        sample.seed, "moderation", [f"{c.audit_area}/{c.reference}" for c in cases]
    )
    started = next(c for c in _moderated(sample) if f"{c.audit_area}/{c.reference}" != order[0])
    fw.audit(started, "second", "second")
    _update(fw, sample, 1, "0.01", minimum=1)
    after = {c.pk: c for c in _moderated(sample)}
    assert set(after) == {
        started.pk,
        next(c.pk for c in cases if f"{c.audit_area}/{c.reference}" == order[0]),
    }


def test_a_larger_share_passes_over_cases_whose_audit_the_team_has_seen(fw):
    fw.upload()
    sample = fw.draw()
    seen = next(c for c in _in_sample(sample) if not c.for_moderation)
    fw.complete(fw.audit(seen, "inspector"), "good")
    _update(fw, sample, 1, "1")
    selected = _selected(sample)
    assert seen.pk not in {c.pk for c in _moderated(sample)}
    assert len(selected) == len(_in_sample(sample)) - 1


def test_moderation_update_validation(fw):
    fw.upload()
    sample = fw.draw()
    with pytest.raises(FieldworkError) as refused:
        _update(fw, sample, 1, "0", minimum=-1, threshold="2")
    assert set(refused.value.message_dict) == {
        "moderation_share",
        "moderation_minimum",
        "kappa_threshold",
    }


# Children at risk now -----------------------------------------------------------------------


@pytest.fixture
def case(fw) -> SampledCase:
    fw.upload()
    return _in_sample(fw.draw())[0]


def test_raising_a_referral_tells_the_lead_and_the_force_at_once(
    fw, case, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        referral = services.referral_raise(actor=fw.users["inspector"], case=case, concern=SECRET)
    assert referral.status == Referral.Status.RAISED
    assert referral.reference == case.reference
    notices = Notification.objects.filter(link__endswith=f"/referrals/{referral.pk}/")
    assert {n.recipient.username for n in notices} == {"lead", "liaison"}
    assert all(n.urgent for n in notices)
    assert all(case.reference in n.subject for n in notices)
    assert all(n.emailed_at is not None for n in notices)
    assert sorted(m.to[0] for m in mailoutbox) == ["lead@example.test", "liaison@example.test"]
    for message in mailoutbox:
        assert message.subject.startswith("URGENT: ")
        assert case.reference in message.subject
        assert reverse("fieldwork:referral", args=[fw.inspection.pk, referral.pk]) in message.body
        assert SECRET not in message.body and "Elm Road" not in message.body
        assert SECRET not in message.subject
    assert not any("other_liaison" in m.to[0] for m in mailoutbox)
    assert SECRET not in _raw(Referral, "concern", referral.pk)
    assert SECRET not in " ".join(n.subject + n.body for n in Notification.objects.all())
    assert _events(referral, AuditEvent.Action.CREATE).get().actor == fw.users["inspector"]
    assert SECRET not in _trail_text(AuditEvent.objects.all())


def test_no_email_before_the_transaction_commits(fw, case, mailoutbox):
    services.referral_raise(actor=fw.users["inspector"], case=case, concern="At risk now")
    assert mailoutbox == []
    assert Notification.objects.filter(emailed_at__isnull=True).count() == 2


def test_a_referral_needs_a_concern(fw, case):
    with pytest.raises(FieldworkError) as refused:
        services.referral_raise(actor=fw.users["inspector"], case=case, concern="  ")
    assert "concern" in refused.value.message_dict
    assert not Referral.objects.exists()


def test_referral_lifecycle(fw, case):
    referral = services.referral_raise(actor=fw.users["inspector"], case=case, concern="Risk")
    liaison, lead = fw.users["liaison"], fw.users["lead"]
    referral = services.referral_acknowledge(actor=liaison, referral=referral)
    assert (referral.status, referral.acknowledged_by) == (Referral.Status.ACKNOWLEDGED, liaison)
    assert referral.acknowledged_at is not None
    referral = services.referral_record_action(
        actor=liaison, referral=referral, action=" Officers visited; child safe. "
    )
    assert (referral.status, referral.actioned_by) == (Referral.Status.ACTIONED, liaison)
    assert referral.force_action == "Officers visited; child safe."
    assert "Officers visited" not in _raw(Referral, "force_action", referral.pk)
    referral = services.referral_close(actor=lead, referral=referral, note="Force acted.")
    assert (referral.status, referral.closed_by) == (Referral.Status.CLOSED, lead)
    assert referral.closing_note == "Force acted."
    steps = _events(referral, AuditEvent.Action.UPDATE).order_by("id")
    assert [e.changes["status"] for e in steps] == [
        ["raised", "acknowledged"],
        ["acknowledged", "actioned"],
        ["actioned", "closed"],
    ]
    assert "Officers visited" not in _trail_text(AuditEvent.objects.all())
    # The lead is told of the force's acknowledgement and action (not of their own closing).
    subjects = list(
        Notification.objects.filter(recipient=lead).order_by("id").values_list("subject", flat=True)
    )
    assert len(subjects) == 3
    assert subjects[1].endswith("acknowledged by the force")
    assert subjects[2].endswith("force action recorded")


def test_recording_action_acknowledges_too(fw, case):
    referral = services.referral_raise(actor=fw.users["inspector"], case=case, concern="Risk")
    referral = services.referral_record_action(
        actor=fw.users["lead"], referral=referral, action="Phoned the duty inspector"
    )
    assert referral.status == Referral.Status.ACTIONED
    assert referral.acknowledged_by == fw.users["lead"]
    assert referral.acknowledged_at is not None


def test_referral_steps_out_of_order_are_refused(fw, case):
    referral = services.referral_raise(actor=fw.users["inspector"], case=case, concern="Risk")
    liaison, lead = fw.users["liaison"], fw.users["lead"]
    with pytest.raises(FieldworkError, match="once the force has recorded its action"):
        services.referral_close(actor=lead, referral=referral, note="Done")
    referral = services.referral_acknowledge(actor=liaison, referral=referral)
    with pytest.raises(FieldworkError, match="already"):
        services.referral_acknowledge(actor=liaison, referral=referral)
    with pytest.raises(FieldworkError, match="once the force has recorded its action"):
        services.referral_close(actor=lead, referral=referral, note="Done")
    referral = services.referral_record_action(actor=liaison, referral=referral, action="Acted")
    with pytest.raises(FieldworkError, match="already"):
        services.referral_acknowledge(actor=liaison, referral=referral)
    referral = services.referral_close(actor=lead, referral=referral, note="Done")
    with pytest.raises(FieldworkError, match="already"):
        services.referral_record_action(actor=liaison, referral=referral, action="More")
    assert Referral.objects.get(pk=referral.pk).status == Referral.Status.CLOSED


def test_referral_steps_need_their_text(fw, case):
    referral = services.referral_raise(actor=fw.users["inspector"], case=case, concern="Risk")
    with pytest.raises(FieldworkError) as refused:
        services.referral_record_action(actor=fw.users["liaison"], referral=referral, action=" ")
    assert "force_action" in refused.value.message_dict
    referral = services.referral_record_action(
        actor=fw.users["liaison"], referral=referral, action="Acted"
    )
    with pytest.raises(FieldworkError) as refused:
        services.referral_close(actor=fw.users["lead"], referral=referral, note="")
    assert "closing_note" in refused.value.message_dict
    assert Referral.objects.get(pk=referral.pk).status == Referral.Status.ACTIONED


def test_the_force_liaisons_are_the_active_liaisons_of_the_inspected_force(fw):
    gone = UserFactory(
        username="gone",
        role=Role.FORCE_LIAISON,
        organisation=fw.users["liaison"].organisation,
        is_active=False,
    )
    assert services.force_liaisons(fw.inspection) == [fw.users["liaison"]]
    assert services.force_liaisons(fw.other_inspection) == [fw.users["other_liaison"]]
    assert gone not in services.force_liaisons(fw.inspection)


def test_case_list_text_is_stored_exactly(fw):
    """The fast store (COPY on PostgreSQL) keeps backslashes, tabs and quotes as they were."""
    content = (
        b"case_reference,audit_area,date_opened,team\n"
        b'DA-1,domestic_abuse,2026-01-05,"North\\East PPU"\n'
        b'DA-2,domestic_abuse,2026-01-06,"Team\twith tab"\n'
        b'DA-3,domestic_abuse,2026-01-07,"O\'Brien \\N team"\n'
        b"DA-4,domestic_abuse,2026-01-08,\n"
    )
    services.case_list_upload(
        actor=fw.users["lead"],
        inspection=fw.inspection,
        filename="c.csv",
        content=content,
        today=TODAY,
    )
    stored = dict(
        EligibleCase.objects.filter(inspection=fw.inspection).values_list("reference", "team")
    )
    assert stored == {
        "DA-1": "North\\East PPU",
        "DA-2": "Team\twith tab",
        "DA-3": "O'Brien \\N team",
        "DA-4": "",
    }
    closed = EligibleCase.objects.get(reference="DA-4")
    assert closed.closed_on is None and closed.opened_on.isoformat() == "2026-01-08"
