"""Writes for reports: drafting, the disclosure check, sign-off and publication.

The order that keeps a child from being identified, whatever pages call these:
1. the team drafts the sections (every save is a revision, with its author);
2. the disclosure check runs over everything that would be published, and every hit is
   redacted or dismissed with a reason;
3. a lead inspector who wrote none of the draft signs off quality assurance;
4. the programme manager publishes: refused with every reason if the check or the sign-off is
   missing or out of date (each records a fingerprint of the content), if a hit is unresolved,
   or if a cause of concern has no recommendation. Publication freezes the HTML, the data and
   the PDF, sets the recommendations' due dates and moves the inspection to "published".
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import F, Max, Q
from django.utils import timezone

from apps.accounts.models import User
from apps.core.audit import Actor, actor_fields, audit_record, audit_snapshot
from apps.core.cache import data_changed
from apps.core.models import AuditEvent
from apps.findings import services as findings_services
from apps.findings.models import Finding, RecommendationStatus
from apps.followup import services as followup_services
from apps.inspections import services as inspection_services
from apps.inspections.models import Inspection, State

from . import permissions
from .content import TOTAL_COLUMN, ReportContent, report_content
from .models import (
    DisclosureHit,
    Language,
    Publication,
    Report,
    ReportSection,
    SectionKind,
    SectionRevision,
)
from .pdf import render_pdf
from .render import contents_list, publication_data, render_body, search_text, summary_text

PUBLISHER = "The police inspectorate for England and Wales"

SECTION_TITLES = {
    SectionKind.FOREWORD: "Foreword",
    SectionKind.SUMMARY: "Summary",
    SectionKind.CONTEXT: "Context for the force",
    SectionKind.CASE_FILES: "Case file analysis",
    SectionKind.CONCLUSION: "Conclusion",
    SectionKind.NEXT_STEPS: "Next steps",
    SectionKind.METHODOLOGY: "Annex: methodology",
}
# Section titles of the Welsh-language version; the translator can change any of them.
WELSH_TITLES = {
    SectionKind.FOREWORD: "Rhagair",
    SectionKind.SUMMARY: "Crynodeb",
    SectionKind.CONTEXT: "Cyd-destun yr heddlu",
    SectionKind.CASE_FILES: "Dadansoddiad o ffeiliau achos",
    SectionKind.CONCLUSION: "Casgliad",
    SectionKind.NEXT_STEPS: "Camau nesaf",
    SectionKind.METHODOLOGY: "Atodiad: methodoleg",
}
NEXT_STEPS_TEXT = (
    "We expect the force to tell us within six weeks of publication how it will act on our "
    "recommendations, in an action plan. Recommendations to be acted on immediately should be "
    "acted on now, and the force should tell us what it has done.\n\n"
    "We will review the plan and decide how to follow up: by discussion with the force's "
    "leaders, by a post-inspection review, or by a further inspection.\n\n"
    "The police and crime commissioner must publish a response to this report."
)
PLACEHOLDERS = {
    "PERSON": "[name removed]",
    "DATE_OF_BIRTH": "[date removed]",
    "ADDRESS": "[address removed]",
    "POSTCODE": "[postcode removed]",
    "PHONE": "[number removed]",
    "EMAIL": "[email removed]",
    "NHS_NUMBER": "[number removed]",
    "CASE_REFERENCE": "[reference removed]",
    "SCHOOL": "[school removed]",
    "AGE_AND_PLACE": "[detail removed]",
}
CONTEXT_CHARS = 60


class ReportError(ValidationError):
    """A request the rules refuse; the message says why and what to do."""


class SectionConflict(Exception):
    def __init__(self, section: ReportSection) -> None:
        who = section.updated_by.full_name if section.updated_by else "someone else"
        when = timezone.localtime(section.updated_at).strftime("%-d %B %Y at %H:%M")
        super().__init__(
            f"{who} saved “{section.title}” on {when}, after you opened it. Your text has not "
            "been saved, so that neither of you overwrites the other: it is still in the box "
            "below. Copy it, reload the page to see their version, and make your change again."
        )
        self.section = section


def _person(actor: Actor) -> User | None:
    return actor_fields(actor)[0]


def _recorded_by(actor: Actor) -> dict[str, Any]:
    by, label = actor_fields(actor)
    return {"by": by, "by_label": label}


# Drafting ---------------------------------------------------------------------------------


def section_plan(inspection: Inspection) -> list[tuple[str, str, str]]:
    plan: list[tuple[str, str, str]] = [
        (SectionKind.FOREWORD, "", SECTION_TITLES[SectionKind.FOREWORD]),
        (SectionKind.SUMMARY, "", SECTION_TITLES[SectionKind.SUMMARY]),
        (SectionKind.CONTEXT, "", SECTION_TITLES[SectionKind.CONTEXT]),
    ]
    plan += [(SectionKind.STAGE, s["code"], s["name"]) for s in inspection.methodology.stages]
    plan += [
        (kind, "", SECTION_TITLES[kind])
        for kind in (
            SectionKind.CASE_FILES,
            SectionKind.CONCLUSION,
            SectionKind.NEXT_STEPS,
            SectionKind.METHODOLOGY,
        )
    ]
    return plan


def report_start(*, actor: Actor, inspection: Inspection) -> Report:
    """The inspection's English report, with a section for each part of the structure (made
    the first time; later calls return it)."""
    if isinstance(actor, User) and not permissions.can_write_report(actor, inspection):
        raise ReportError("Only the inspection's lead inspector and inspectors draft its report.")
    if inspection.state not in permissions.DRAFTING_STATES:
        raise ReportError(
            f"The report is drafted from fieldwork onwards; {inspection.reference} is "
            f"{inspection.get_state_display().lower()}."
        )
    with transaction.atomic():
        Inspection.objects.select_for_update().filter(pk=inspection.pk).first()
        report = Report.objects.filter(inspection=inspection, language=Language.ENGLISH).first()
        if report is not None:
            return report
        report = Report.objects.create(
            inspection=inspection,
            language=Language.ENGLISH,
            title=f"{inspection.title}",
        )
        for order, (kind, stage, title) in enumerate(section_plan(inspection), start=1):
            body = NEXT_STEPS_TEXT if kind == SectionKind.NEXT_STEPS else ""
            ReportSection.objects.create(
                report=report, kind=kind, stage=stage, title=title, order=order, body=body
            )
        audit_record(
            actor=actor,
            action=AuditEvent.Action.CREATE,
            instance=report,
            after=audit_snapshot(report),
            summary=f"Started the report of {inspection.reference}",
        )
        data_changed("findings")
    return report


def has_welsh_force(inspection: Inspection) -> bool:
    return inspection.forces.filter(country="wales").exists()


def welsh_report_start(*, actor: Actor, inspection: Inspection) -> Report:
    """The Welsh-language version of a Welsh force's report: the same sections, for the whole
    translated text of each (findings and recommendations included, as the translator words
    them). The case file tables are added with their numbers, as in the English version."""
    if isinstance(actor, User) and not permissions.can_write_report(actor, inspection):
        raise ReportError("Only the inspection's lead inspector and inspectors draft its report.")
    if not has_welsh_force(inspection):
        raise ReportError("Only the reports of forces in Wales have a Welsh-language version.")
    if inspection.state not in permissions.DRAFTING_STATES:
        raise ReportError(f"{inspection.reference} is {inspection.get_state_display().lower()}.")
    with transaction.atomic():
        english = (
            Report.objects.select_for_update()
            .filter(inspection=inspection, language=Language.ENGLISH)
            .first()
        )
        if english is None:
            raise ReportError("Start the English report first.")
        welsh = Report.objects.filter(inspection=inspection, language=Language.WELSH).first()
        if welsh is not None:
            return welsh
        welsh = Report.objects.create(
            inspection=inspection, language=Language.WELSH, title=english.title
        )
        for section in english.sections.order_by("order"):
            ReportSection.objects.create(
                report=welsh,
                kind=section.kind,
                stage=section.stage,
                title=WELSH_TITLES.get(SectionKind(section.kind), section.title),
                order=section.order,
            )
        audit_record(
            actor=actor,
            action=AuditEvent.Action.CREATE,
            instance=welsh,
            after=audit_snapshot(welsh),
            summary=f"Started the Welsh-language version of {inspection.reference}",
        )
        data_changed("findings")
    return welsh


def report_retitle(*, actor: Actor, report: Report, title: str) -> Report:
    """Change the report's title (the Welsh version's is the translator's)."""
    if isinstance(actor, User) and not permissions.can_write_report(actor, report.inspection):
        raise ReportError("Only the inspection's lead inspector and inspectors draft its report.")
    title = title.strip()
    if not title:
        raise ReportError({"title": "Enter the report's title."})
    if report.inspection.state not in permissions.DRAFTING_STATES:
        raise ReportError(
            f"{report.inspection.reference} is {report.inspection.get_state_display().lower()}."
        )
    with transaction.atomic():
        current = Report.objects.select_for_update().get(pk=report.pk)
        before = audit_snapshot(current)
        current.title = title[:300]
        current.save(update_fields=["title"])
        audit_record(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            instance=current,
            before=before,
            after=audit_snapshot(current),
        )
        data_changed("findings")
    return current


def section_save(
    *,
    actor: Actor,
    section: ReportSection,
    body: str,
    expected_version: int,
    note: str = "",
    title: str | None = None,
) -> ReportSection:
    """Save a section's text as a new revision. Refused if someone saved since
    `expected_version` was read. `title` (the Welsh version's sections only) renames it."""
    inspection = section.report.inspection
    if isinstance(actor, User) and not permissions.can_write_report(actor, inspection):
        raise ReportError("Only the inspection's lead inspector and inspectors draft its report.")
    if inspection.state not in permissions.DRAFTING_STATES:
        raise ReportError(f"{inspection.reference} is {inspection.get_state_display().lower()}.")
    body = body.replace("\r\n", "\n").strip()
    with transaction.atomic():
        current = ReportSection.objects.select_for_update().get(pk=section.pk)
        if current.version != expected_version:
            raise SectionConflict(current)
        if title is not None and section.report.language == Language.WELSH and title.strip():
            current.title = title.strip()[:200]
        elif current.body == body:
            return current
        before = audit_snapshot(current)
        current.body = body
        current.updated_by = _person(actor)
        current.version = F("version") + 1
        current.save()
        current.refresh_from_db()
        number = (current.revisions.aggregate(m=Max("number"))["m"] or 0) + 1
        SectionRevision.objects.create(
            section=current,
            number=number,
            body=body,
            **_recorded_by(actor),
            note=note[:200],
        )
        audit_record(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            instance=current,
            before=before,
            after=audit_snapshot(current),
            summary=f"Revision {number} of “{current.title}”" + (f": {note}" if note else ""),
        )
        data_changed("findings")
    return current


# The disclosure check -----------------------------------------------------------------------


@dataclass
class CheckResult:
    found: int
    open: int
    already_decided: int
    small_numbers: int


def _fingerprint(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()


def _context(text: str, start: int, end: int) -> str:
    left = text[max(0, start - CONTEXT_CHARS) : start]
    right = text[end : end + CONTEXT_CHARS]
    return f"{'…' if start > CONTEXT_CHARS else ''}{left}⟦{text[start:end]}⟧{right}"


def _renumber(report: Report, actor: Actor) -> None:
    """Fix the recommendations' numbers in the order the report presents them (the English
    report's order; the register is the English report's)."""
    if report.language != Language.ENGLISH:
        return
    order = [s.stage for s in report.sections.filter(kind=SectionKind.STAGE).order_by("order")]
    findings_services.recommendations_renumber(
        actor=actor, inspection=report.inspection, stage_order=order
    )


def _require_writer(actor: Actor, report: Report) -> None:
    if isinstance(actor, User) and not permissions.can_write_report(actor, report.inspection):
        raise ReportError(
            "Only the inspection's lead inspector and inspectors run the disclosure check and "
            "resolve what it finds."
        )


def disclosure_run(*, actor: Actor, report: Report) -> CheckResult:
    """Check everything the report would publish. Every possible identifier in the text and
    every count of 1 to 4 in the tables becomes a hit to resolve, except those already
    dismissed (the same thing in the same place)."""
    from apps.disclosure.engine import scan_many

    _require_writer(actor, report)
    with transaction.atomic():
        _renumber(Report.objects.select_for_update().get(pk=report.pk), actor)
    # The scan takes a second or two, so it runs without holding the report's lock. It
    # records the fingerprint of the content it read: if anyone changes the report
    # meanwhile, the fingerprint no longer matches and publication asks for another run.
    report = Report.objects.select_related("inspection__lead_inspectorate").get(pk=report.pk)
    content = report_content(report)
    texts = content.texts()
    results = scan_many([text for _, _, text in texts], allow=_allowed_names(report))
    with transaction.atomic():
        report = Report.objects.select_for_update().get(pk=report.pk)
        # A dismissal holds for the same words in the same place and context; a redaction
        # does not, so words put back after a redaction are found again. For a small number,
        # either decision holds for that count in that cell.
        decided = set(
            DisclosureHit.objects.filter(report=report)
            .filter(
                Q(status=DisclosureHit.Status.DISMISSED)
                | Q(status=DisclosureHit.Status.REDACTED, hit_type=DisclosureHit.SMALL_NUMBER)
            )
            .values_list("fingerprint", flat=True)
        )
        DisclosureHit.objects.filter(report=report, status=DisclosureHit.Status.OPEN).delete()
        new: list[DisclosureHit] = []
        skipped = 0
        for (location, label, text), hits in zip(texts, results, strict=True):
            for hit in hits:
                fingerprint = _fingerprint(
                    location,
                    hit.type,
                    hit.text,
                    text[max(0, hit.start - CONTEXT_CHARS) : hit.start],
                    text[hit.end : hit.end + CONTEXT_CHARS],
                )
                if fingerprint in decided:
                    skipped += 1
                    continue
                new.append(
                    DisclosureHit(
                        report=report,
                        location=location,
                        location_label=label[:300],
                        hit_type=hit.type,
                        start=hit.start,
                        end=hit.end,
                        text=hit.text,
                        context=_context(text, hit.start, hit.end),
                        fingerprint=fingerprint,
                    )
                )
        small = 0
        for table, row, column in content.small_cells:
            cell = table.cell(row, column)
            location = table.cell_location(row, column)
            where = TOTAL_COLUMN if column < 0 else table.columns[column]
            fingerprint = _fingerprint(location, DisclosureHit.SMALL_NUMBER, cell.count)
            if fingerprint in decided:
                skipped += 1
                continue
            small += 1
            new.append(
                DisclosureHit(
                    report=report,
                    location=location,
                    location_label=f"{table.caption}: {row.label}, {where}"[:300],
                    hit_type=DisclosureHit.SMALL_NUMBER,
                    text=str(cell.count),
                    fingerprint=fingerprint,
                )
            )
        DisclosureHit.objects.bulk_create(new)
        report.checked_fingerprint = content.fingerprint()
        report.checked_at = timezone.now()
        report.checked_by = _person(actor)
        report.save(update_fields=["checked_fingerprint", "checked_at", "checked_by"])
        audit_record(
            actor=actor,
            action=AuditEvent.Action.SYSTEM,
            instance=report,
            summary=f"Disclosure check: {len(new)} to resolve ({small} small numbers), "
            f"{skipped} already decided",
        )
        data_changed("findings")
    return CheckResult(
        found=len(new) + skipped, open=len(new), already_decided=skipped, small_numbers=small
    )


def _allowed_names(report: Report) -> list[str]:
    """Names a report may carry besides the engine's own list: the inspectorate and the
    inspection team (in a foreword, say). Forces and areas the engine knows already."""
    inspection = report.inspection
    team = inspection.team.select_related("user").values_list("user__full_name", flat=True)
    return [inspection.lead_inspectorate.name, *(name for name in team if name)]


def _open_hit(hit: DisclosureHit) -> DisclosureHit:
    current = DisclosureHit.objects.select_for_update().select_related("report").get(pk=hit.pk)
    if current.status != DisclosureHit.Status.OPEN:
        raise ReportError("This has already been resolved.")
    return current


def _lock_content(report: Report) -> bool:
    """Lock the report, its sections and its findings (so no one saves while a redaction or
    a decision is made), and say whether the check is current."""
    Report.objects.select_for_update().get(pk=report.pk)
    list(ReportSection.objects.select_for_update().filter(report=report).values_list("pk"))
    list(
        Finding.objects.select_for_update()
        .filter(inspection_id=report.inspection_id)
        .values_list("pk")
    )
    report.refresh_from_db()
    return report.is_checked(report_content(report).fingerprint())


def _still_checked(report: Report, was_checked: bool) -> None:
    """A redaction or a decision on a small number changes the content in exactly the way the
    check asked for, so a check that was current stays current."""
    if was_checked:
        report.checked_fingerprint = report_content(report).fingerprint()
        report.save(update_fields=["checked_fingerprint"])


def hit_redact(*, actor: Actor, hit: DisclosureHit) -> DisclosureHit:
    """Remove what was found: the words are replaced in the text by a placeholder (a new
    revision of the section, or a change to the finding); a small number is withheld."""
    _require_writer(actor, hit.report)
    with transaction.atomic():
        report = Report.objects.select_related("inspection").get(pk=hit.report_id)
        was_checked = _lock_content(report)
        current = _open_hit(hit)
        if not current.is_small_number:
            placeholder = PLACEHOLDERS.get(current.hit_type, "[removed]")
            _replace_span(actor, current, placeholder)
            _shift_later_hits(current, len(placeholder) - (current.end - current.start))
        current.status = DisclosureHit.Status.REDACTED
        current.resolved_by = _person(actor)
        current.resolved_at = timezone.now()
        current.reason = "Withheld as “fewer than 5”" if current.is_small_number else "Redacted"
        current.save()
        _still_checked(report, was_checked)
        audit_record(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            instance=current,
            summary=f"Redacted: {current.hit_type} at {current.location_label}",
        )
        data_changed("findings")
    return current


REDACTABLE = {
    "section": {"body", "title"},
    "report": {"title"},
    "finding": {"headline", "narrative", "national_bodies"},
}


def _source(hit: DisclosureHit) -> tuple[models.Model, str]:
    """The record and field a hit was found in, locked: "section:<id>" (its text),
    "section:<id>:title", "report:<id>:title" or "finding:<id>:<field>"."""
    kind, _, rest = hit.location.partition(":")
    pk_text, _, field = rest.partition(":")
    field = field or "body"
    if kind not in REDACTABLE or field not in REDACTABLE[kind] or not pk_text.isdigit():
        raise ReportError("This hit is not in the text.")
    pk = int(pk_text)
    record: models.Model
    if kind == "section":
        record = ReportSection.objects.select_for_update().get(pk=pk, report=hit.report)
    elif kind == "report":
        record = Report.objects.select_for_update().get(pk=pk, pk__in=[hit.report_id])
    else:
        record = Finding.objects.select_for_update().get(
            pk=pk, inspection_id=hit.report.inspection_id
        )
    return record, field


def _replace_span(actor: Actor, hit: DisclosureHit, placeholder: str) -> None:
    record, field = _source(hit)
    text = getattr(record, field)
    if text[hit.start : hit.end] != hit.text:
        raise ReportError(
            "The text has changed since the check ran, so this cannot be redacted in place. "
            "Run the disclosure check again."
        )
    new_text = text[: hit.start] + placeholder + text[hit.end :]
    what = hit.hit_type.lower().replace("_", " ")
    if isinstance(record, ReportSection) and field == "body":
        section_save(
            actor=actor,
            section=record,
            body=new_text,
            expected_version=record.version,
            note=f"redacted a {what}",
        )
        return
    # Titles and findings are written directly, with their own audit event: redaction goes
    # on after publication too (for a republication), when the register is closed.
    before = audit_snapshot(record)
    setattr(record, field, new_text)
    update = [field]
    if isinstance(record, Finding | ReportSection):
        record.version = F("version") + 1
        update.append("version")
    record.save(update_fields=update)
    record.refresh_from_db()
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        instance=record,
        before=before,
        after=audit_snapshot(record),
        summary=f"Redacted a {what} in its {field.replace('_', ' ')}",
    )


def _shift_later_hits(hit: DisclosureHit, delta: int) -> None:
    if not delta:
        return
    DisclosureHit.objects.filter(
        report=hit.report,
        location=hit.location,
        status=DisclosureHit.Status.OPEN,
        start__gte=hit.end,
    ).update(start=F("start") + delta, end=F("end") + delta)


def hit_dismiss(*, actor: Actor, hit: DisclosureHit, reason: str) -> DisclosureHit:
    """Keep what was found, with the reason it cannot identify anyone (for a small number,
    why it may be shown)."""
    _require_writer(actor, hit.report)
    reason = reason.strip()
    if len(reason) < 5:
        raise ReportError({"reason": "Say why this cannot identify a child or anyone else."})
    with transaction.atomic():
        report = Report.objects.select_related("inspection").get(pk=hit.report_id)
        was_checked = _lock_content(report)
        current = _open_hit(hit)
        current.status = DisclosureHit.Status.DISMISSED
        current.reason = reason[:500]
        current.resolved_by = _person(actor)
        current.resolved_at = timezone.now()
        current.save()
        _still_checked(report, was_checked)
        audit_record(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            instance=current,
            summary=f"Dismissed: {current.hit_type} at {current.location_label}: {reason}"[:500],
        )
        data_changed("findings")
    return current


def small_numbers_withhold_all(*, actor: Actor, report: Report) -> int:
    """Withhold every small number still to be decided (the usual decision)."""
    _require_writer(actor, report)
    with transaction.atomic():
        report = Report.objects.select_related("inspection").get(pk=report.pk)
        was_checked = _lock_content(report)
        hits = DisclosureHit.objects.select_for_update().filter(
            report=report, hit_type=DisclosureHit.SMALL_NUMBER, status=DisclosureHit.Status.OPEN
        )
        count = hits.update(
            status=DisclosureHit.Status.REDACTED,
            reason="Withheld as “fewer than 5”",
            resolved_by=_person(actor),
            resolved_at=timezone.now(),
        )
        if count:
            _still_checked(report, was_checked)
            audit_record(
                actor=actor,
                action=AuditEvent.Action.UPDATE,
                instance=report,
                summary=f"Withheld {count} small number{'s' if count != 1 else ''} in tables",
            )
            data_changed("findings")
    return count


# Sign-off and publication -----------------------------------------------------------------


def report_sign_off(*, actor: User, report: Report, seen: str | None = None) -> Report:
    """Quality assurance: a lead inspector who wrote none of it signs off this content, with
    the disclosure check current and every hit resolved, so that they see those decisions.
    `seen` is the fingerprint of the content on the page they signed from: if the report has
    changed since, the sign-off is refused."""
    refusal = permissions.sign_off_refusal(actor, report)
    if refusal:
        raise ReportError(refusal)
    with transaction.atomic():
        report = Report.objects.select_for_update().get(pk=report.pk)
        _renumber(report, actor)
        fingerprint = report_content(report).fingerprint()
        if seen is not None and seen != fingerprint:
            raise ReportError(
                "The report changed while you were reading it. Read it again, then sign off."
            )
        if not report.is_checked(fingerprint):
            raise ReportError("Run the disclosure check on this version before signing off.")
        if DisclosureHit.objects.filter(report=report, status=DisclosureHit.Status.OPEN).exists():
            raise ReportError(
                "Resolve every disclosure check hit before signing off, so that the sign-off "
                "covers those decisions."
            )
        before = audit_snapshot(report)
        report.signed_off_by = actor
        report.signed_off_at = timezone.now()
        report.signed_off_fingerprint = fingerprint
        report.save(update_fields=["signed_off_by", "signed_off_at", "signed_off_fingerprint"])
        audit_record(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            instance=report,
            before=before,
            after=audit_snapshot(report),
            summary="Signed off quality assurance",
        )
        data_changed("findings")
    return report


def publication_withdraw(*, actor: User, publication: Publication, reason: str) -> Publication:
    """Take an earlier version down, for instance one found after publication to identify
    someone: its page and PDF stop being public, and its text is no longer kept. The current
    version cannot be withdrawn: publish a corrected version first."""
    if not permissions.can_publish(actor, publication.inspection):
        raise ReportError("Only the programme manager withdraws a published version.")
    reason = reason.strip()
    if len(reason) < 5:
        raise ReportError({"reason": "Say why the version is withdrawn."})
    with transaction.atomic():
        current = Publication.objects.select_for_update().get(pk=publication.pk)
        if current.is_current:
            raise ReportError(
                "This is the current version: publish a corrected version first, then "
                "withdraw this one."
            )
        if current.withdrawn_at is not None:
            raise ReportError("This version has already been withdrawn.")
        Publication.objects.filter(pk=current.pk).update(
            withdrawn_at=timezone.now(),
            withdrawn_by=actor,
            withdrawn_reason=reason[:500],
            body_html="",
            search_text="",
            pdf=None,
            pdf_sha256="",
        )
        current.refresh_from_db()
        audit_record(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            instance=current,
            summary=f"Withdrew version {current.version}: {reason}"[:500],
        )
        data_changed("publications")
    return current


def publication_blockers(report: Report, content: ReportContent | None = None) -> list[str]:
    """Every reason the report cannot be published now (an empty list means it can)."""
    content = content or report_content(report)
    fingerprint = content.fingerprint()
    inspection = report.inspection
    reasons = []
    first = not Publication.objects.filter(report=report).exists()
    if report.language == Language.WELSH:
        if not Publication.objects.filter(
            inspection=inspection, language=Language.ENGLISH, is_current=True
        ).exists():
            reasons.append("Publish the English report first.")
    elif first and inspection.state != State.QUALITY_ASSURANCE:
        reasons.append(
            "The inspection must be in quality assurance to publish its report; it is "
            f"{inspection.get_state_display().lower()}."
        )
    if not first and inspection.state not in permissions.REPUBLISH_STATES:
        reasons.append("Only a published report can be republished.")
    summary = next((c for c in content.sections if c.section.kind == SectionKind.SUMMARY), None)
    if summary is None or not summary.section.body.strip():
        reasons.append("Write the summary: every report needs one.")
    if report.language == Language.WELSH:
        blank = [c.section.title for c in content.sections if not c.section.body.strip()]
        if blank:
            reasons.append("Translate every section: " + ", ".join(blank) + " still empty.")
    for cause in findings_services.causes_without_recommendations(inspection):
        reasons.append(f"The cause of concern “{cause.headline}” has no recommendation.")
    if not report.is_checked(fingerprint):
        reasons.append(
            "Run the disclosure check: the report has changed since it last ran."
            if report.checked_fingerprint
            else "Run the disclosure check."
        )
    open_hits = DisclosureHit.objects.filter(report=report, status=DisclosureHit.Status.OPEN)
    if open_hits.exists():
        count = open_hits.count()
        reasons.append(
            f"{count} disclosure check hit{'s' if count != 1 else ''} still to resolve: redact "
            "or dismiss each with a reason."
        )
    if not report.signed_off_by_id:
        reasons.append("A lead inspector who did not write the report must sign it off.")
    elif not report.is_signed_off(fingerprint):
        reasons.append(
            "The report has changed since it was signed off: it needs signing off again."
        )
    return reasons


def publication_slug(inspection: Inspection) -> str:
    force = inspection.forces.order_by("name").values_list("slug", flat=True).first()
    base = inspection.reference.lower()
    return re.sub(r"[^a-z0-9-]+", "-", f"{base}-{force}" if force else base).strip("-")[:80]


def report_publish(
    *, actor: User, report: Report, on: dt.date, change_note: str = ""
) -> Publication:
    """Publish the report (or a new version of it), frozen as it is now."""
    inspection = report.inspection
    if not permissions.can_publish(actor, inspection):
        raise ReportError("Only the programme manager publishes reports.")
    with transaction.atomic():
        report = Report.objects.select_for_update().select_related("inspection").get(pk=report.pk)
        inspection = report.inspection
        content = report_content(report)
        reasons = publication_blockers(report, content)
        previous = (
            Publication.objects.select_for_update().filter(report=report, is_current=True).first()
        )
        if previous is not None and not change_note.strip():
            reasons.append("Say what has changed since the last version, for the version history.")
        if on > timezone.localdate():
            reasons.append("The publication date cannot be in the future.")
        if previous is not None and on < previous.published_on:
            reasons.append(
                "A new version cannot be dated before the last "
                f"({previous.published_on:%-d %B %Y})."
            )
        if change_note.strip():
            from apps.disclosure.engine import scan, type_label

            found = scan(change_note, allow=_allowed_names(report))
            if found:
                reasons.append(
                    "The change note may identify someone ("
                    + ", ".join(f"{type_label(h.type).lower()}: {h.text}" for h in found)
                    + "): reword it."
                )
        if reasons:
            raise ReportError(reasons)
        first_of_inspection = not Publication.objects.filter(inspection=inspection).exists()
        due = _set_due_dates(actor, content, on, first=first_of_inspection)
        version, slug = 1, publication_slug(inspection)
        if previous is not None:
            version, slug = previous.version + 1, previous.slug
            Publication.objects.filter(pk=previous.pk).update(is_current=False)
        publication = publication_freeze(
            content,
            on=on,
            due=due,
            version=version,
            slug=slug,
            by=actor,
            change_note=change_note.strip()[:500],
        )
        publication.pdf, publication.pdf_pages, publication.pdf_sha256 = _pdf_of(publication)
        publication.save()
        publication.forces.set(inspection.forces.all())
        publication.local_authorities.set(inspection.local_authorities.all())
        audit_record(
            actor=actor,
            action=AuditEvent.Action.CREATE,
            instance=publication,
            summary=f"Published version {version} of {inspection.reference} "
            f"({publication.pdf_pages} pages)",
        )
        if first_of_inspection:
            followup_services.follow_up_start(inspection=inspection, published_on=on)
            followup_services.carry_over_on_publication(actor=actor, inspection=inspection, on=on)
            inspection_services.inspection_transition(
                actor=actor,
                inspection=inspection,
                target=State.PUBLISHED,
                on=on,
                note=f"Report published: {slug}",
            )
        data_changed("publications")
        data_changed("findings")
    return publication


def _set_due_dates(
    actor: User, content: ReportContent, on: dt.date, *, first: bool
) -> dict[int, str | None]:
    """At first publication each recommendation gets its due date and its first public
    status; a republication keeps both (they run from first publication)."""
    due: dict[int, str | None] = {}
    for rec in content.recommendations:
        if first:
            rec.due_on = rec.due_date_on_publication(on)
            Finding.objects.filter(pk=rec.pk).update(due_on=rec.due_on)
            followup_services.status_record(
                actor=actor,
                recommendation=rec,
                status=RecommendationStatus.AWAITING_RESPONSE,
                on=on,
                note="Published",
            )
        due[rec.pk] = rec.due_on.isoformat() if rec.due_on else None
    if first:
        for cause in content.causes:  # open until closed by letter
            followup_services.status_record(
                actor=actor,
                recommendation=cause,
                status=RecommendationStatus.AWAITING_RESPONSE,
                on=on,
                note="Published",
            )
    return due


def publication_freeze(
    content: ReportContent,
    *,
    on: dt.date,
    due: dict[int, str | None],
    version: int,
    slug: str,
    by: User | None,
    change_note: str = "",
) -> Publication:
    """The publication of `content` as it is now, unsaved and without its PDF: the body HTML,
    contents list, data and search text that will never change. Used by publication and by
    the demo's history."""
    report, inspection = content.report, content.inspection
    body = render_body(content)
    return Publication(
        report=report,
        inspection=inspection,
        language=report.language,
        slug=slug,
        version=version,
        is_current=True,
        title=report.title,
        summary=summary_text(content),
        programme_type=inspection.programme_type,
        published_on=on,
        published_by=by,
        change_note=change_note,
        body_html=body,
        contents=contents_list(content),
        data=publication_data(content, due_dates=due),
        search_text=search_text(body),
    )


def _pdf_of(publication: Publication) -> tuple[bytes, int, str]:
    """The PDF of a publication's frozen HTML: its bytes, pages and SHA-256."""
    on = publication.published_on
    meta = {
        "reference": publication.data.get("reference", ""),
        "programme": publication.data.get("programme_type_label", ""),
        "publisher": PUBLISHER,
        "published_on": on.isoformat(),
        "published_on_text": f"{on:%-d %B %Y}",
        "version": publication.version,
        "language": publication.language,
    }
    return render_pdf(
        title=publication.title,
        body_html=publication.body_html,
        contents=publication.contents,
        meta=meta,
    )


def publication_pdf(*, publication: Publication) -> bytes:
    """The publication's PDF: stored at publication; made from the frozen HTML and stored the
    first time it is asked for where an older publication has none."""
    if publication.pdf:
        return bytes(publication.pdf)
    pdf, pages, digest = _pdf_of(publication)
    Publication.objects.filter(pk=publication.pk, pdf__isnull=True).update(
        pdf=pdf, pdf_pages=pages, pdf_sha256=digest
    )
    return pdf
