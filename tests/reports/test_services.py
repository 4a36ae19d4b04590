"""Drafting, the disclosure check, sign-off and publication, through the services."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from apps.core.models import AuditEvent
from apps.findings.models import Finding, Kind, RecommendationStatusChange
from apps.inspections import services as inspection_services
from apps.inspections.models import State
from apps.reports import services
from apps.reports.models import DisclosureHit, Publication, ReportSection, SectionKind
from apps.reports.services import ReportError

from .conftest import TODAY

pytestmark = pytest.mark.django_db

PLANTED = (
    "We spoke to Jane Smith, whose daughter was seen by officers at home in LS6 2AB. The "
    "force's response was slow."
)


def test_a_report_has_the_structure_real_reports_use(drafted):
    sections = list(drafted.report.sections.order_by("order").values_list("kind", "stage"))
    stages = [s["code"] for s in drafted.inspection.methodology.stages]
    assert sections == [
        ("foreword", ""),
        ("summary", ""),
        ("context", ""),
        *(("stage", code) for code in stages),
        ("case_files", ""),
        ("conclusion", ""),
        ("next_steps", ""),
        ("methodology", ""),
    ]
    # Starting again returns the same report.
    again = services.report_start(actor=drafted.users["lead"], inspection=drafted.inspection)
    assert again == drafted.report


def test_only_the_team_drafts(drafted):
    for user in ("outsider", "analyst", "manager", "liaison"):
        with pytest.raises(ReportError):
            services.section_save(
                actor=drafted.users[user],
                section=drafted.section(SectionKind.FOREWORD),
                body="x",
                expected_version=1,
            )


def test_every_save_is_a_revision_with_its_author_and_conflicts_are_refused(drafted):
    section = drafted.section(SectionKind.FOREWORD)
    services.section_save(
        actor=drafted.users["inspector"], section=section, body="One.", expected_version=1
    )
    services.section_save(
        actor=drafted.users["second"], section=section, body="Two.", expected_version=2
    )
    with pytest.raises(services.SectionConflict, match="Second saved"):
        services.section_save(
            actor=drafted.users["third"], section=section, body="Three.", expected_version=2
        )
    section.refresh_from_db()
    assert section.body == "Two."
    revisions = list(section.revisions.order_by("number").values_list("number", "by_label", "body"))
    assert revisions == [(1, "inspector", "One."), (2, "second", "Two.")]
    assert (
        AuditEvent.objects.filter(
            object_type="reports.reportsection", object_id=str(section.pk), action="update"
        ).count()
        == 2
    )
    # Draft text is encrypted at rest.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT body FROM reports_reportsection WHERE id = %s", [section.pk])
        assert "Two." not in cursor.fetchone()[0]


def _sign_off_and_check(drafted):
    services.disclosure_run(actor=drafted.users["inspector"], report=drafted.report)
    services.small_numbers_withhold_all(actor=drafted.users["inspector"], report=drafted.report)
    services.report_sign_off(actor=drafted.users["lead"], report=drafted.report)


def test_a_planted_name_and_postcode_block_publication_until_resolved(drafted):
    drafted.write(SectionKind.FOREWORD, PLANTED)
    drafted.to_quality_assurance()
    result = services.disclosure_run(actor=drafted.users["inspector"], report=drafted.report)
    hits = {h.hit_type: h for h in DisclosureHit.objects.filter(report=drafted.report)}
    assert {"PERSON", "POSTCODE"} <= set(hits)
    assert hits["PERSON"].text == "Jane Smith"
    assert hits["POSTCODE"].text == "LS6 2AB"
    assert result.open == len(hits)
    # Sign-off waits until every hit is resolved, so that it covers those decisions.
    with pytest.raises(ReportError, match="Resolve every disclosure check hit"):
        services.report_sign_off(actor=drafted.users["lead"], report=drafted.report)
    drafted.report.refresh_from_db()
    reasons = services.publication_blockers(drafted.report)
    assert any("still to resolve" in r for r in reasons)
    with pytest.raises(ReportError, match="still to resolve"):
        services.report_publish(actor=drafted.users["manager"], report=drafted.report, on=TODAY)
    assert not Publication.objects.exists()

    # Redact the postcode, dismiss the name with a reason.
    services.hit_redact(actor=drafted.users["inspector"], hit=hits["POSTCODE"])
    foreword = drafted.section(SectionKind.FOREWORD)
    assert "LS6 2AB" not in foreword.body
    assert "[postcode removed]" in foreword.body
    assert foreword.revisions.order_by("-number").first().note == "redacted a postcode"
    with pytest.raises(ReportError) as caught:
        services.hit_dismiss(actor=drafted.users["inspector"], hit=hits["PERSON"], reason="")
    assert "reason" in caught.value.message_dict
    # The name's offsets moved with the redaction before it? It comes first, so they did not;
    # redact it instead, and the text reads cleanly.
    services.hit_redact(actor=drafted.users["inspector"], hit=hits["PERSON"])
    foreword.refresh_from_db()
    assert foreword.body.startswith("We spoke to [name removed], whose daughter")
    for hit in DisclosureHit.objects.filter(report=drafted.report, status="open"):
        services.hit_redact(actor=drafted.users["inspector"], hit=hit)
    # The redactions changed the text in exactly the way the check asked: it stays current.
    drafted.report.refresh_from_db()
    reasons = services.publication_blockers(drafted.report)
    assert reasons == ["A lead inspector who did not write the report must sign it off."]
    services.report_sign_off(actor=drafted.users["lead"], report=drafted.report)
    publication = services.report_publish(
        actor=drafted.users["manager"], report=drafted.report, on=TODAY
    )
    assert "Jane Smith" not in publication.body_html
    assert "LS6 2AB" not in publication.search_text
    assert (
        AuditEvent.objects.filter(
            object_type="reports.disclosurehit", summary__startswith="Redacted"
        ).count()
        >= 2
    )


def test_a_dismissal_holds_when_the_check_runs_again(drafted):
    drafted.write(SectionKind.FOREWORD, PLANTED)
    services.disclosure_run(actor=drafted.users["inspector"], report=drafted.report)
    person = DisclosureHit.objects.get(report=drafted.report, hit_type="PERSON")
    services.hit_dismiss(
        actor=drafted.users["inspector"], hit=person, reason="A made-up name in a quoted example"
    )
    again = services.disclosure_run(actor=drafted.users["inspector"], report=drafted.report)
    assert again.already_decided >= 1
    statuses = DisclosureHit.objects.filter(report=drafted.report, hit_type="PERSON")
    assert list(statuses.values_list("status", flat=True)) == ["dismissed"]


def test_a_redaction_refuses_when_the_text_moved_on(drafted):
    drafted.write(SectionKind.FOREWORD, PLANTED)
    services.disclosure_run(actor=drafted.users["inspector"], report=drafted.report)
    drafted.write(SectionKind.FOREWORD, "Rewritten. " + PLANTED)
    hit = DisclosureHit.objects.get(report=drafted.report, hit_type="POSTCODE")
    with pytest.raises(ReportError, match="Run the disclosure check again"):
        services.hit_redact(actor=drafted.users["inspector"], hit=hit)


def test_findings_text_is_checked_and_redacted_too(drafted):
    Finding.objects.filter(pk=drafted.cause.pk).update(
        narrative="In one case a 14-year-old girl from Barrow, Aisha Khan, was not seen."
    )
    services.disclosure_run(actor=drafted.users["inspector"], report=drafted.report)
    hits = DisclosureHit.objects.filter(
        report=drafted.report, location=f"finding:{drafted.cause.pk}:narrative"
    )
    assert ("PERSON", "Aisha Khan") in {(h.hit_type, h.text) for h in hits}
    for hit in hits.order_by("-start"):
        services.hit_redact(actor=drafted.users["inspector"], hit=hit)
    drafted.cause.refresh_from_db()
    assert "Aisha Khan" not in drafted.cause.narrative
    assert "[name removed]" in drafted.cause.narrative


def test_small_numbers_in_tables_are_hits_and_withheld(drafted):
    fw = drafted.fw
    fw.upload()
    fw.draw(quotas={"domestic_abuse": 6, "missing_children": 5, "child_sexual_exploitation": 5})
    cases = list(fw.inspection.sampled_cases.filter(for_moderation=False).order_by("pk"))
    grades = ["good", "good", "requires improvement", "inadequate", "good", "good", "good"]
    for case, grade in zip(cases, grades, strict=False):
        fw.complete(fw.audit(case, "inspector"), grade)
    result = services.disclosure_run(actor=drafted.users["inspector"], report=drafted.report)
    assert result.small_numbers > 0
    small = DisclosureHit.objects.filter(report=drafted.report, hit_type="SMALL_NUMBER")
    assert small.count() == result.small_numbers
    assert all(1 <= int(h.text) <= 4 for h in small)
    # Showing one with a reason puts the number in the report; the rest stay withheld.
    shown = small.first()
    services.hit_dismiss(actor=drafted.users["inspector"], hit=shown, reason="Counts of cases only")
    withheld = services.small_numbers_withhold_all(
        actor=drafted.users["inspector"], report=drafted.report
    )
    assert withheld == result.small_numbers - 1
    from apps.reports.content import report_content
    from apps.reports.render import render_body

    body = render_body(report_content(drafted.report))
    assert "fewer than 5" in body


def test_sign_off_needs_a_lead_inspector_who_wrote_none_of_it(drafted):
    with pytest.raises(ReportError, match="Only a lead inspector"):
        services.report_sign_off(actor=drafted.users["second"], report=drafted.report)
    with pytest.raises(ReportError, match="Only a lead inspector"):
        services.report_sign_off(actor=drafted.users["manager"], report=drafted.report)
    drafted.write(SectionKind.CONCLUSION, "The lead wrote this.", user="lead")
    with pytest.raises(ReportError, match="someone else must sign it off"):
        services.report_sign_off(actor=drafted.users["lead"], report=drafted.report)


def test_publication_is_refused_with_every_reason(drafted):
    with pytest.raises(ReportError) as caught:
        services.report_publish(actor=drafted.users["manager"], report=drafted.report, on=TODAY)
    messages = caught.value.messages
    assert any("quality assurance to publish" in m for m in messages)
    assert any("Run the disclosure check" in m for m in messages)
    assert any("must sign it off" in m for m in messages)
    with pytest.raises(ReportError, match="programme manager"):
        services.report_publish(actor=drafted.users["lead"], report=drafted.report, on=TODAY)


def test_a_cause_of_concern_without_a_recommendation_blocks_publication(drafted):
    # The services never allow it; data put in by other means is caught at publication.
    Finding.objects.filter(cause_of_concern=drafted.cause).update(cause_of_concern=None)
    reasons = services.publication_blockers(drafted.report)
    assert any("has no recommendation" in r for r in reasons)


def test_recording_publication_by_hand_is_refused_once_a_report_is_drafted(drafted):
    drafted.to_quality_assurance()
    with pytest.raises(inspection_services.TransitionRefused, match="publish it from its report"):
        inspection_services.inspection_transition(
            actor=drafted.users["manager"],
            inspection=drafted.inspection,
            target=State.PUBLISHED,
            on=TODAY,
        )


def test_publication_freezes_html_data_and_pdf_and_republication_keeps_the_address(drafted):
    drafted.to_quality_assurance()
    _sign_off_and_check(drafted)
    publication = services.report_publish(
        actor=drafted.users["manager"], report=drafted.report, on=TODAY
    )
    drafted.inspection.refresh_from_db()
    assert drafted.inspection.state == State.PUBLISHED
    assert publication.version == 1 and publication.is_current
    assert publication.slug == f"{drafted.inspection.reference.lower()}-northshire"
    assert publication.pdf[:5] == b"%PDF-"
    assert publication.pdf_pages >= 5
    assert "Officers too often fail to see the risk" in publication.body_html
    assert [c["title"] for c in publication.contents][:2] == ["Foreword", "Summary"]
    rec = Finding.objects.get(kind=Kind.RECOMMENDATION)
    assert rec.number == 1
    assert rec.due_on == dt.date(2027, 2, 26)  # three months after publication
    assert publication.data["recommendations"] == [
        {
            "finding_id": rec.pk,
            "number": 1,
            "text": rec.headline,
            "addressees": ["the force"],
            "timescale": "Within 3 months of publication",
            "due_on": "2027-02-26",
            "stage": "Initial contact",
            "cause_of_concern": drafted.cause.headline,
        }
    ]
    assert RecommendationStatusChange.objects.filter(
        recommendation=rec, status="awaiting_response", on=TODAY
    ).exists()

    # Working data changes; the publication does not.
    drafted.write(SectionKind.SUMMARY, "A corrected summary.", user="second")
    publication.refresh_from_db()
    assert "A corrected summary." not in publication.body_html

    # A new version needs the check, the sign-off and a change note again.
    with pytest.raises(ReportError) as caught:
        services.report_publish(actor=drafted.users["manager"], report=drafted.report, on=TODAY)
    assert any("Say what has changed" in m for m in caught.value.messages)
    assert any("signing off again" in m for m in caught.value.messages)
    _sign_off_and_check(drafted)
    second = services.report_publish(
        actor=drafted.users["manager"],
        report=drafted.report,
        on=TODAY + dt.timedelta(days=0),
        change_note="Corrected the summary.",
    )
    publication.refresh_from_db()
    assert second.slug == publication.slug
    assert (second.version, second.is_current) == (2, True)
    assert publication.is_current is False
    assert "A corrected summary." in second.body_html
    # Due dates and the public status history run from the first publication.
    assert RecommendationStatusChange.objects.filter(recommendation=rec).count() == 1


def test_an_older_publication_gets_its_pdf_when_first_asked(drafted):
    drafted.to_quality_assurance()
    _sign_off_and_check(drafted)
    publication = services.report_publish(
        actor=drafted.users["manager"], report=drafted.report, on=TODAY
    )
    Publication.objects.filter(pk=publication.pk).update(pdf=None, pdf_pages=None, pdf_sha256="")
    publication.refresh_from_db()
    data = services.publication_pdf(publication=publication)
    assert data[:5] == b"%PDF-"
    publication.refresh_from_db()
    assert publication.pdf_pages and len(publication.pdf_sha256) == 64


def test_sections_are_unique_per_report(drafted):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        ReportSection.objects.create(
            report=drafted.report, kind=SectionKind.SUMMARY, stage="", title="Again", order=99
        )


def test_words_put_back_after_a_redaction_are_found_again(drafted):
    drafted.write(SectionKind.FOREWORD, PLANTED)
    services.disclosure_run(actor=drafted.users["inspector"], report=drafted.report)
    for hit in DisclosureHit.objects.filter(report=drafted.report, status="open"):
        services.hit_redact(actor=drafted.users["inspector"], hit=hit)
    drafted.write(SectionKind.FOREWORD, PLANTED, user="second")  # pasted back
    again = services.disclosure_run(actor=drafted.users["inspector"], report=drafted.report)
    assert again.open >= 2
    found = {(h.hit_type, h.text) for h in DisclosureHit.objects.filter(status="open")}
    assert {("PERSON", "Jane Smith"), ("POSTCODE", "LS6 2AB")} <= found


def test_the_title_and_change_note_are_checked(drafted):
    services.report_retitle(
        actor=drafted.users["inspector"], report=drafted.report, title="Jane Smith's force"
    )
    services.disclosure_run(actor=drafted.users["inspector"], report=drafted.report)
    title_hits = DisclosureHit.objects.filter(location=f"report:{drafted.report.pk}:title")
    assert [h.text for h in title_hits] == ["Jane Smith"]
    services.hit_redact(actor=drafted.users["inspector"], hit=title_hits.get())
    drafted.report.refresh_from_db()
    assert drafted.report.title == "[name removed]'s force"
    drafted.to_quality_assurance()
    _sign_off_and_check(drafted)
    services.report_publish(actor=drafted.users["manager"], report=drafted.report, on=TODAY)
    drafted.write(SectionKind.SUMMARY, "A corrected summary.", user="second")
    _sign_off_and_check(drafted)
    with pytest.raises(ReportError, match="change note may identify someone"):
        services.report_publish(
            actor=drafted.users["manager"],
            report=drafted.report,
            on=TODAY,
            change_note="Corrected after a complaint from Jane Smith.",
        )


def test_an_earlier_version_can_be_withdrawn_but_not_the_current_one(drafted):
    drafted.to_quality_assurance()
    _sign_off_and_check(drafted)
    first = services.report_publish(actor=drafted.users["manager"], report=drafted.report, on=TODAY)
    with pytest.raises(ReportError, match="current version"):
        services.publication_withdraw(
            actor=drafted.users["manager"], publication=first, reason="It named a child"
        )
    drafted.write(SectionKind.SUMMARY, "A corrected summary.", user="second")
    _sign_off_and_check(drafted)
    services.report_publish(
        actor=drafted.users["manager"], report=drafted.report, on=TODAY, change_note="Fixed."
    )
    first.refresh_from_db()
    with pytest.raises(ReportError, match="programme manager"):
        services.publication_withdraw(
            actor=drafted.users["lead"], publication=first, reason="It named a child"
        )
    services.publication_withdraw(
        actor=drafted.users["manager"], publication=first, reason="It named a child"
    )
    first.refresh_from_db()
    assert first.withdrawn_at is not None
    assert first.body_html == "" and first.pdf is None and first.search_text == ""
    assert AuditEvent.objects.filter(summary__startswith="Withdrew version 1").exists()


def test_a_future_publication_date_is_refused(drafted):
    drafted.to_quality_assurance()
    _sign_off_and_check(drafted)
    with pytest.raises(ReportError, match="cannot be in the future"):
        services.report_publish(
            actor=drafted.users["manager"],
            report=drafted.report,
            on=timezone.localdate() + dt.timedelta(days=3),
        )


def test_sign_off_is_refused_when_the_report_changed_since_it_was_read(drafted):
    services.disclosure_run(actor=drafted.users["inspector"], report=drafted.report)
    services.small_numbers_withhold_all(actor=drafted.users["inspector"], report=drafted.report)
    with pytest.raises(ReportError, match="changed while you were reading it"):
        services.report_sign_off(actor=drafted.users["lead"], report=drafted.report, seen="0" * 64)


def test_withholding_every_small_number_keeps_the_check_current(small_numbers):
    drafted = small_numbers
    services.small_numbers_withhold_all(actor=drafted.users["inspector"], report=drafted.report)
    services.report_sign_off(actor=drafted.users["lead"], report=drafted.report)
    drafted.report.refresh_from_db()
    assert services.publication_blockers(drafted.report) == [
        "The inspection must be in quality assurance to publish its report; it is fieldwork."
    ]
