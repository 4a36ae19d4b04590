"""Writes of the thematic synthesis that need no model: the codebook loaded as a version, the
corpus kept in step with the findings, and people's decisions on codes (ADR 18). Embeddings,
training and the classifier's suggestions are in coding.py."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.core.audit import Actor, SystemActor, actor_fields, audit_record
from apps.core.cache import data_changed
from apps.core.models import AuditEvent
from apps.findings.models import Finding, Kind
from apps.inspections.models import Inspection, ProgrammeType

from .codebook import Codebook, CodebookError, Theme, load_codebook
from .corpus import CodedStatement, text_digest
from .models import (
    ArchiveReport,
    CodebookVersion,
    Statement,
    StatementClaim,
    ThematicReport,
    ThemeCode,
    ThemeCodeChange,
)
from .models import Theme as ThemeRow
from .selectors import PUBLISHED_STATES, claim_cutoff

# The codebook's rule: a statement has one to three themes (classifier.MAX_THEMES too).
MAX_THEMES = 3
# What the corpus takes from the findings register: every kind of finding.
STATEMENT_KINDS = [
    Kind.STRENGTH,
    Kind.PROMISING_PRACTICE,
    Kind.AREA_FOR_IMPROVEMENT,
    Kind.CAUSE_OF_CONCERN,
    Kind.RECOMMENDATION,
]


# The codebook -------------------------------------------------------------------------------


def _same(row: CodebookVersion, codebook: Codebook) -> bool:
    stored = [
        (t.key, t.name, t.covers, t.excludes, tuple(t.examples))
        for t in row.themes.order_by("order", "key")
    ]
    given = [(t.id, t.name, t.covers, t.excludes, t.examples) for t in codebook.themes]
    return stored == given


def codebook_load(*, actor: Actor, path: Path | None = None) -> tuple[CodebookVersion, bool]:
    """The codebook file as a stored version: (the version, whether it was new). Loading the
    same file again changes nothing; a file that reuses a stored version's number with other
    themes is refused (a changed codebook is a new version)."""
    codebook = load_codebook(path)
    with transaction.atomic():
        existing = CodebookVersion.objects.filter(number=codebook.version).first()
        if existing is not None:
            if _same(existing, codebook):
                return existing, False
            raise CodebookError(
                f"Codebook version {codebook.version} is already stored with other themes: "
                "give the changed codebook a new version number."
            )
        latest = CodebookVersion.objects.order_by("-number").first()
        decided = (
            ThemeCode.objects.filter(theme__codebook=latest, set_by__isnull=False)
            .values("statement")
            .distinct()
            .count()
            if latest is not None
            else 0
        )
        if latest is not None and decided:
            # A file's version would carry none of their codes over: the statements would go
            # back to the queue, and the classifier would learn nothing from them.
            raise CodebookError(
                f"People have coded {decided} statement{'s' if decided != 1 else ''} to "
                f"codebook version {latest.number}: version {codebook.version} from the file "
                "is not loaded, since it would carry none of their codes over. Make the "
                "change on the codebook page, which carries every code over."
            )
        revised = CodebookVersion.objects.filter(based_on__isnull=False).order_by("-number")
        if revised.exists():
            # A file's version would carry none of the codes over: revise it in the system.
            raise CodebookError(
                f"Analysts have revised the codebook in the system (now version "
                f"{revised[0].number}): version {codebook.version} from the file is not "
                "loaded. Make the change on the codebook page, which carries every code over."
            )
        _, label = actor_fields(actor)
        row = CodebookVersion.objects.create(
            number=codebook.version,
            source=str(path or "data/themes/codebook.yaml"),
            created_by_label=label,
        )
        ThemeRow.objects.bulk_create(
            ThemeRow(
                codebook=row,
                key=t.id,
                name=t.name,
                covers=t.covers,
                excludes=t.excludes,
                examples=list(t.examples),
                order=n,
            )
            for n, t in enumerate(codebook.themes)
        )
        audit_record(
            actor=actor,
            action=AuditEvent.Action.CREATE,
            instance=row,
            summary=f"Codebook version {row.number}: {len(codebook.themes)} themes",
        )
        data_changed("themes")
    return row, True


def current_codebook() -> CodebookVersion:
    row = CodebookVersion.objects.order_by("-number").first()
    if row is None:
        raise CodebookError("No codebook is loaded: run manage.py themes_code.")
    return row


def as_codebook(row: CodebookVersion) -> Codebook:
    return Codebook(
        version=row.number,
        themes=tuple(
            Theme(
                id=t.key,
                name=t.name,
                covers=t.covers,
                excludes=t.excludes,
                examples=tuple(t.examples),
            )
            for t in row.themes.order_by("order", "key")
        ),
    )


# The corpus ---------------------------------------------------------------------------------


@dataclass
class SyncResult:
    created: int = 0
    changed: int = 0
    unchanged: int = 0


def _single(values: list[int]) -> int | None:
    return values[0] if len(values) == 1 else None


def publication_years(inspection_ids: Iterable[int] | None = None) -> dict[int, int]:
    """The year each inspection's report was first published, by inspection, as its
    follow-up record keeps it (one query): a finding's year, as an imported report's
    statements take its publication year, so that trends count both alike."""
    from apps.followup.models import FollowUp

    first = FollowUp.objects.all()
    if inspection_ids is not None:
        first = first.filter(inspection_id__in=list(inspection_ids))
    return {
        inspection_id: day.year
        for inspection_id, day in first.values_list("inspection_id", "published_on")
    }


def _year_of(inspection: Inspection, published: dict[int, int]) -> int | None:
    """An inspection's year in the analysis: its report's first publication, else (not yet
    published) its fieldwork's start."""
    start = inspection.fieldwork_start
    return published.get(inspection.pk, start.year if start else None)


def statements_sync() -> SyncResult:
    """Every finding of the register as a statement, kept in step: a finding whose words
    changed has the classifier's suggestions withdrawn (people's codes stay). Each statement
    takes its inspection's programme type, its force where the inspection has one, and as
    its year the year the inspection's report was first published (its fieldwork's until
    it is)."""
    result = SyncResult()
    published = publication_years()
    existing = {s.finding_id: s for s in Statement.objects.filter(finding__isnull=False)}
    # The inspected force where an inspection has one (a thematic one has several): one query.
    forces: dict[int, list[int]] = {}
    for inspection_id, force_id in Inspection.forces.through.objects.values_list(
        "inspection_id", "force_id"
    ):
        forces.setdefault(inspection_id, []).append(force_id)
    findings = (
        Finding.objects.filter(kind__in=STATEMENT_KINDS)
        .select_related("inspection")
        .only(
            "id",
            "kind",
            "stage",
            "headline",
            "inspection__id",
            "inspection__title",
            "inspection__programme_type",
            "inspection__fieldwork_start",
        )
    )
    new: list[Statement] = []
    changed: list[Statement] = []
    reworded: list[int] = []
    for finding in findings.iterator(chunk_size=2000):
        text = " ".join(finding.headline.split())
        values = {
            "text": text,
            "text_sha256": text_digest(text),
            "kind": finding.kind,
            "stage": finding.stage,
            "report_title": finding.inspection.title,
            "year": _year_of(finding.inspection, published),
            "force_id": _single(forces.get(finding.inspection_id, [])),
            "programme_type": finding.inspection.programme_type,
        }
        statement = existing.get(finding.pk)
        if statement is None:
            new.append(
                Statement(
                    source=Statement.Source.FINDING,
                    finding=finding,
                    inspection=finding.inspection,
                    **values,
                )
            )
        elif any(getattr(statement, k) != v for k, v in values.items()):
            if statement.text_sha256 != values["text_sha256"]:
                reworded.append(statement.pk)
            for k, v in values.items():
                setattr(statement, k, v)
            changed.append(statement)
        else:
            result.unchanged += 1
    with transaction.atomic():
        Statement.objects.bulk_create(new, batch_size=2000)
        if new:
            data_changed("themes")
        if changed:
            Statement.objects.bulk_update(
                changed,
                [
                    "text",
                    "text_sha256",
                    "kind",
                    "stage",
                    "report_title",
                    "year",
                    "force",
                    "programme_type",
                ],
                batch_size=2000,
            )
            withdrawn = _withdraw_suggestions(reworded, "The statement's words changed")
            audit_record(
                actor=SystemActor("themes sync"),
                action=AuditEvent.Action.SYSTEM,
                object_type="themes.statements",
                object_repr="Statements of the register's findings",
                summary=f"{len(changed)} statement{'s' if len(changed) != 1 else ''} brought "
                "in step with their findings"
                + (
                    f", {len(reworded)} of them reworded ({withdrawn} suggestion"
                    f"{'s' if withdrawn != 1 else ''} of the classifier withdrawn)"
                    if reworded
                    else ""
                ),
            )
            data_changed("themes")
    result.created, result.changed = len(new), len(changed)
    return result


def _withdraw_suggestions(statement_ids: Sequence[int], note: str) -> int:
    """The classifier's suggestions for these statements withdrawn, their history kept (a
    codebook split's placeholders, waiting for a person, stay): how many."""
    now = timezone.now()
    latest = CodebookVersion.objects.order_by("-number").values("pk")[:1]
    codes = list(
        ThemeCode.objects.filter(
            statement_id__in=statement_ids,
            status=ThemeCode.Status.SUGGESTED,
            classifier__isnull=False,
            theme__codebook__in=latest,
        ).select_related("classifier")
    )
    for code in codes:
        code.status, code.confidence, code.set_at = ThemeCode.Status.WITHDRAWN, None, now
        code.set_by_label = "The register: the finding was reworded"
        code.version += 1
    ThemeCode.objects.bulk_update(
        codes, ["status", "confidence", "set_at", "set_by_label", "version"], 2000
    )
    ThemeCodeChange.objects.bulk_create([_change(c, note) for c in codes], batch_size=2000)
    return len(codes)


# Suggestions' training data -----------------------------------------------------------


def coded_by_people(codebook_row: CodebookVersion) -> list[CodedStatement]:
    """Statements whose codes a person has decided (confirmed ones are its themes); not one
    a codebook split left waiting for a person to choose among a theme's parts (its themes
    are not all known)."""
    decided: dict[int, list[str]] = {}
    texts: dict[int, tuple[str, str]] = {}
    codes = ThemeCode.objects.filter(theme__codebook=codebook_row)
    waiting = codes.filter(
        status=ThemeCode.Status.SUGGESTED, set_by__isnull=True, classifier__isnull=True
    ).values("statement_id")
    for statement_id, text, title, key, status in (
        codes.filter(set_by__isnull=False)
        .exclude(statement_id__in=waiting)
        .values_list(
            "statement_id", "statement__text", "statement__report_title", "theme__key", "status"
        )
    ):
        texts[statement_id] = (text, title)
        themes = decided.setdefault(statement_id, [])
        if status == ThemeCode.Status.CONFIRMED:
            themes.append(key)
    # With its report's title: an evaluation leaves out every statement of a report it
    # measures on (classifier.training_set), not only the same words.
    return [
        CodedStatement(text=texts[i][0], themes=tuple(themes), report_title=texts[i][1])
        for i, themes in decided.items()
        if themes
    ]


def _change(code: ThemeCode, note: str = "") -> ThemeCodeChange:
    return ThemeCodeChange(
        code=code,
        status=code.status,
        confidence=code.confidence,
        classifier=code.classifier,
        set_by=code.set_by,
        set_by_label=code.set_by_label,
        at=code.set_at,
        note=note,
    )


# People's decisions -------------------------------------------------------------------------


CODEBOOK_REVISED = (
    "The codebook was revised since you opened this statement: reload it to code it to the "
    "new version's themes."
)


class StaleCodes(Exception):
    """The statement's codes changed since the person's page was read."""


def codes_version(statement: Statement) -> int:
    """A number that moves whenever any code of the statement changes (for concurrent
    edits): the sum of its codes' versions and their count."""
    versions = list(statement.codes.values_list("version", flat=True))
    return sum(versions) + len(versions)


def _decided(code: ThemeCode, status: str, user: Any, label: str, now: dt.datetime) -> None:
    code.status, code.set_by, code.set_by_label, code.set_at = status, user, label, now
    code.version += 1
    code.save(update_fields=["status", "set_by", "set_by_label", "set_at", "version"])


def codes_decide(
    *,
    actor: Actor,
    statement: Statement,
    themes: Sequence[str],
    seen_version: int,
    now: dt.datetime | None = None,
) -> list[ThemeCode]:
    """A person's coding of one statement: the themes given are confirmed (added where no
    suggestion had them) and every other theme suggested is rejected. Refused if the
    statement's codes changed since the person read them (StaleCodes), or with no theme or
    more than three, or a theme not in the current codebook (ValidationError)."""
    user, label = actor_fields(actor)
    if user is None:
        raise ValueError("Only a person decides a statement's themes.")
    keys = list(dict.fromkeys(themes))
    if not 1 <= len(keys) <= MAX_THEMES:
        raise ValidationError({"themes": "Choose one to three themes."})
    codebook_row = current_codebook()
    by_key = {t.key: t for t in codebook_row.themes.all()}
    unknown = [k for k in keys if k not in by_key]
    if unknown:
        raise ValidationError(
            {
                "themes": f"Not in codebook version {codebook_row.number}: "
                f"{', '.join(sorted(unknown))}"
            }
        )
    now = now or timezone.now()
    with transaction.atomic():
        # Queue behind a revision of the codebook (which locks its version row), then check
        # it is still the current one.
        CodebookVersion.objects.select_for_update().get(pk=codebook_row.pk)
        locked = Statement.objects.select_for_update().get(pk=statement.pk)
        if locked.set_aside:
            raise ValidationError(
                {
                    "themes": "This statement has been set aside as not a statement: take it "
                    "back into the corpus before coding it."
                }
            )
        if current_codebook().pk != codebook_row.pk:
            raise StaleCodes(CODEBOOK_REVISED)
        if codes_version(locked) != seen_version:
            raise StaleCodes(
                "Someone else changed this statement's themes since you opened it: "
                "reload it to see their coding."
            )
        existing = {
            c.theme.key: c
            for c in locked.codes.filter(theme__codebook=codebook_row).select_related("theme")
        }
        touched: list[ThemeCode] = []
        for key in keys:
            code = existing.get(key)
            if code is None:
                code = ThemeCode(
                    statement=locked,
                    theme=by_key[key],
                    status=ThemeCode.Status.CONFIRMED,
                    set_by=user,
                    set_by_label=label,
                    set_at=now,
                )
                code.save()
            elif code.status != ThemeCode.Status.CONFIRMED:
                _decided(code, ThemeCode.Status.CONFIRMED, user, label, now)
            else:  # confirmed already, by this person or another: theirs it stays
                continue
            touched.append(code)
        for key, code in existing.items():
            if key in keys or code.status == ThemeCode.Status.REJECTED:
                continue
            _decided(code, ThemeCode.Status.REJECTED, user, label, now)
            touched.append(code)
        ThemeCodeChange.objects.bulk_create([_change(c) for c in touched])
        # Decided: no one need keep it open any more.
        StatementClaim.objects.filter(statement=locked).delete()
        if touched:
            data_changed("themes")
            audit_record(
                actor=actor,
                action=AuditEvent.Action.UPDATE,
                instance=locked,
                summary=f"Themes decided: {', '.join(keys)}",
            )
    return touched


def statement_claim(
    *, user: Any, statement: Statement, now: dt.datetime | None = None
) -> StatementClaim | None:
    """`user` opens `statement` to code it: it is theirs (the review queue gives others
    another) unless someone else opened it within the last CLAIM_MINUTES, whose claim is
    returned then (and stands); else None. Safe when two people open it at once: one gets
    it, the other is told."""
    now = now or timezone.now()
    for _ in range(2):  # a second go, should another person's claim appear or change meanwhile
        claim = StatementClaim.objects.filter(statement=statement).first()
        if claim is None:
            try:
                with transaction.atomic():
                    StatementClaim.objects.create(
                        statement=statement, claimed_by=user, claimed_at=now
                    )
                return None
            except IntegrityError:  # someone else claimed it this instant
                continue
        if claim.claimed_by_id != user.pk and claim.claimed_at > claim_cutoff(now):
            return claim
        # Mine, or lapsed: taken (only if it is still as read).
        taken = StatementClaim.objects.filter(
            pk=claim.pk, claimed_by=claim.claimed_by_id, claimed_at=claim.claimed_at
        ).update(claimed_by=user, claimed_at=now)
        if taken:
            return None
    return StatementClaim.objects.filter(statement=statement).exclude(claimed_by=user).first()


# Thematic reports ---------------------------------------------------------------------------


class StaleReport(Exception):
    """The thematic report changed since the person's form was read."""


def thematic_report_save(
    *,
    actor: Actor,
    report: ThematicReport | None,
    title: str,
    year_from: int,
    year_to: int,
    programme_types: Sequence[str] = (),
    inspections: Sequence[Inspection] = (),
    archive_reports: Sequence[ArchiveReport] = (),
    introduction: str = "",
    police_only: bool = False,
    seen_version: int | None = None,
) -> ThematicReport:
    """A draft thematic report created (`report` None) or its scope and words changed.
    Refused with ValidationError naming the field (no title, years the wrong way round, an
    unknown programme type, an inspection not yet published), or StaleReport if someone
    else saved it since `seen_version`."""
    user, _ = actor_fields(actor)
    if user is None:
        raise ValueError("Only a person drafts a thematic report.")
    errors: dict[str, str] = {}
    if not title.strip():
        errors["title"] = "Enter a title."
    if year_from > year_to:
        errors["year_to"] = "The last year must be the same as the first or after it."
    unknown = sorted(set(programme_types) - set(ProgrammeType.values))
    if unknown:
        errors["programme_types"] = f"Not a programme type: {', '.join(unknown)}"
    unpublished = [i.reference for i in inspections if i.state not in PUBLISHED_STATES]
    if unpublished:
        errors["inspections"] = (
            f"Only published inspections can be drawn on: {', '.join(sorted(unpublished))}"
        )
    # A chosen report the scope would leave out is refused by name, never dropped quietly.
    period = f"{year_from} to {year_to}" if year_from != year_to else str(year_from)
    for field, problems in scope_problems(
        year_from, year_to, programme_types, inspections, archive_reports
    ).items():
        errors.setdefault(field, problems)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        # The chosen imported reports locked, so that none is removed meanwhile (removal is
        # refused while a thematic report chooses it; archive_services.archive_delete).
        chosen = [a.pk for a in archive_reports]
        still_there = set(
            ArchiveReport.objects.select_for_update()
            .filter(pk__in=chosen)
            .values_list("pk", flat=True)
        )
        if gone := [a for a in archive_reports if a.pk not in still_there]:
            raise ValidationError(
                {
                    "archive_reports": "Removed since you opened the form: "
                    + ", ".join(f"\u201c{a.title}\u201d" for a in gone)
                }
            )
        if report is None:
            report = ThematicReport(created_by=user)
            action = AuditEvent.Action.CREATE
        else:
            report = ThematicReport.objects.select_for_update().get(pk=report.pk)
            if seen_version is None or report.version != seen_version:
                raise StaleReport(
                    "Someone else saved this thematic report since you opened it: reload it "
                    "to see their changes, then make yours again."
                )
            report.version += 1
            action = AuditEvent.Action.UPDATE
        report.title = title.strip()
        report.year_from, report.year_to = year_from, year_to
        report.programme_types = sorted(set(programme_types))
        report.introduction = introduction.strip()
        report.police_only = police_only
        report.updated_by = user
        report.save()
        report.inspections.set(inspections)
        report.archive_reports.set(archive_reports)
        audit_record(
            actor=actor,
            action=action,
            instance=report,
            summary=(
                f"Thematic report '{report.title}': {period}; programme types: "
                f"{', '.join(report.programme_types) or 'every type'}; "
                + ("about the police only; " if police_only else "")
                + (
                    # Choosing any report limits both lists to what is chosen (Scope).
                    f"inspections: {', '.join(sorted(i.reference for i in inspections)) or 'none'}"
                    f"; imported reports: "
                    f"{', '.join(sorted(str(a.pk) for a in archive_reports)) or 'none'}"
                    if inspections or archive_reports
                    else "every report in the period"
                )
            ),
        )
    return report


def scope_problems(
    year_from: int,
    year_to: int,
    programme_types: Sequence[str],
    inspections: Sequence[Inspection],
    archive_reports: Sequence[ArchiveReport],
) -> dict[str, str]:
    """What is wrong, by field, with chosen reports the scope would leave out of the figures:
    no year, a year outside the period, another programme type. An inspection's year is its
    statements' (what the figures count), else the one they will take (_year_of). Two
    queries."""
    period = f"{year_from} to {year_to}" if year_from != year_to else str(year_from)
    counted = dict(
        Statement.objects.filter(inspection__in=[i.pk for i in inspections])
        .values_list("inspection_id", "year")
        .distinct()
    )
    published = publication_years(i.pk for i in inspections if i.pk not in counted)
    found = {
        "inspections": _outside_scope(
            [
                (i.reference, counted.get(i.pk, _year_of(i, published)), i.programme_type)
                for i in inspections
            ],
            year_from,
            year_to,
            programme_types,
            period,
            undated="has no publication or fieldwork dates, so it is in no period",
        ),
        "archive_reports": _outside_scope(
            [
                (f"'{a.title}'", a.published_on.year if a.published_on else None, a.programme_type)
                for a in archive_reports
            ],
            year_from,
            year_to,
            programme_types,
            period,
            undated="has no publication date, so it is in no period: give it its date",
        ),
    }
    return {field: problems for field, problems in found.items() if problems}


def _outside_scope(
    chosen: Sequence[tuple[str, int | None, str]],
    year_from: int,
    year_to: int,
    programme_types: Sequence[str],
    period: str,
    *,
    undated: str,
) -> str:
    """What is wrong with the chosen reports ((name, year, programme type) each) that the
    scope would leave out: no year, a year outside the period, another programme type."""
    problems = []
    labels = dict(ProgrammeType.choices)
    for name, year, programme_type in chosen:
        if year is None:
            problems.append(f"{name} {undated}")
        elif not year_from <= year <= year_to:
            problems.append(f"{name} ({year}) is outside the period {period}")
        elif programme_types and programme_type not in programme_types:
            problems.append(
                f"{name} is a {labels[programme_type]}, not one of the programme types chosen"
                if programme_type in labels
                else f"{name} has no programme type, so the types chosen leave it out"
            )
    return "; ".join(problems) + "." if problems else ""
