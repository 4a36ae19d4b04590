"""Importing published reports from the archive into the statement corpus, and removing a
report imported by mistake (the archive's pages read through archive_selectors.py).

An import is all or nothing: the file is read and its statements found (archive.py) before
anything is stored, and the report, its paragraphs and its statements are stored in one
transaction with the audit event. The classifier is not run here (it needs the model, which
the pages do not load when the site starts): callers pass `report.statements.all()` to
`coding.suggest` straight after, as the import page and `manage.py themes_import` do.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import PurePath

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import dateformat, timezone

from apps.core.audit import Actor, actor_fields, audit_record, audit_snapshot
from apps.core.cache import data_changed
from apps.core.models import AuditEvent
from apps.inspections.models import SINGLE_FORCE_TYPES, ProgrammeType
from apps.reference.models import Force, LocalAuthority

from . import archive
from .archive import ArchiveError
from .archive_selectors import archive_chosen_by, archive_delete_counts, kinds_in_words
from .corpus import text_digest
from .models import (
    ARCHIVE_KINDS,
    Agency,
    ArchiveParagraph,
    ArchiveReport,
    Statement,
    StatementClaim,
)

TITLE_MAX = ArchiveReport._meta.get_field("title").max_length or 300
HEADING_MAX = ArchiveParagraph._meta.get_field("heading").max_length or 300
HEADING_SEPARATOR = " \u2013 "
FILE_NAME_MAX = ArchiveReport._meta.get_field("file_name").max_length or 255


def stored_file_name(name: str) -> str:
    """A file's name as stored: without any folder, at most the field's length."""
    return PurePath(name or "the file").name[:FILE_NAME_MAX]


def _earlier_import(report: ArchiveReport) -> str:
    when = dateformat.format(timezone.localtime(report.imported_at), "j F Y")
    return (
        f"\u201c{report.title}\u201d, imported from {report.file_name} on {when} by "
        f"{report.imported_by_label}"
    )


def check_import_fields(
    *, programme_type: str, published_on: dt.date | None, title: str, source_url: str
) -> None:
    """The details given for an import (or a change of them), whatever the file: refused
    with ValidationError naming each field that is wrong."""
    errors: dict[str, str] = {}
    if programme_type and programme_type not in ProgrammeType.values:
        errors["programme_type"] = (
            f"\u201c{programme_type}\u201d is not a programme type: use one of "
            f"{', '.join(ProgrammeType.values)}."
        )
    if published_on is not None and published_on > timezone.localdate():
        errors["published_on"] = "The publication date cannot be in the future."
    if published_on is not None and published_on.year < 1990:
        errors["published_on"] = "The publication date must be in 1990 or later."
    if len(title) > TITLE_MAX:
        errors["title"] = f"The title must be {TITLE_MAX} characters or fewer."
    if source_url:
        try:
            URLValidator(schemes=["http", "https"])(source_url)
        except ValidationError:
            errors["source_url"] = (
                "Enter the web address where the report is published, starting with "
                "https:// or http://."
            )
    if errors:
        raise ValidationError(errors)


def _area_named(title: str) -> LocalAuthority | None:
    """The one local authority area a joint inspection's title names, if it names one."""
    areas = {
        a.pk: a
        for a in LocalAuthority.objects.select_related("force").defer(
            "force__boundary", "force__boundary_map"
        )
    }
    found = archive.area_in_title(
        title, ((pk, archive.area_names(a.name, a.name_welsh)) for pk, a in areas.items())
    )
    return areas[found] if found is not None else None


# The reports whose force is the one their title names, when none is given.
FORCE_NAMED_TYPES = frozenset({"", *SINGLE_FORCE_TYPES})


def _force_named(title: str) -> Force | None:
    """The one force a report's title names ("Lancashire Constabulary: National child
    protection inspection"), if it names one."""
    forces = {f.pk: f for f in Force.objects.defer("boundary", "boundary_map")}
    found = archive.area_in_title(
        title, ((pk, archive.force_names(f.name)) for pk, f in forces.items())
    )
    return forces[found] if found is not None else None


def _area_and_force(joint: bool, area: LocalAuthority | None, force: Force | None) -> Force | None:
    """The force of a report of `area` (the area's, if none is given). Refused with
    ValidationError naming the field: an area for a report that is not a joint inspection's,
    or a force that does not police the area."""
    if area is None:
        return force
    if not joint:
        raise ValidationError(
            {
                "local_authority": "Only a joint inspection (a JTAI or a JICPA) is of a local "
                "authority area: give the report that type, or leave the area empty."
            }
        )
    if force is not None and force.pk != area.force_id:
        raise ValidationError(
            {
                "force": f"{archive.area_display(area.name)} is policed by "
                f"{area.force.name}, not {force.name}: choose {area.force.name}, or leave the "
                "force empty to take the area's."
            }
        )
    return area.force


def _not_imported_yet(name: str, data: bytes) -> str:
    """The file's SHA-256 digest, refused (ArchiveError) if it has been imported already."""
    digest = hashlib.sha256(data).hexdigest()
    earlier = ArchiveReport.objects.filter(file_sha256=digest).first()
    if earlier is not None:
        raise ArchiveError(f"{name} has been imported already, as {_earlier_import(earlier)}.")
    return digest


def check_import_file(file_name: str, data: bytes) -> None:
    """What can be told of a file before it is read, as `archive_import` would refuse it
    (ArchiveError, naming it): empty, too large, not HTML or PDF, or imported already."""
    name = stored_file_name(file_name)
    archive.check_file(name, data)
    _not_imported_yet(name, data)


def check_area_and_force(
    *, force: Force | None, local_authority: LocalAuthority | None, programme_type: str
) -> None:
    """What the details given say of each other, whatever the file, as `archive_import`
    would refuse them (ValidationError naming the field): an area for a type of inspection
    that is not joint, or a force that does not police the area."""
    if local_authority is None:
        return
    if programme_type:
        _area_and_force(archive.is_joint(programme_type, ""), local_authority, force)
    elif force is not None:
        _area_and_force(True, local_authority, force)


def archive_import(
    *,
    actor: Actor,
    file_name: str,
    data: bytes,
    force: Force | None = None,
    programme_type: str = "",
    published_on: dt.date | None = None,
    title: str = "",
    source_url: str = "",
    local_authority: LocalAuthority | None = None,
    on_stored: Callable[[ArchiveReport], None] | None = None,
) -> ArchiveReport:
    """The report in `data` stored with its paragraphs and statements (their year the year
    of `published_on`, or of the date the report says it was published if none is given;
    their force and programme type the report's). With no `programme_type` given, it is the
    type the report names itself by (`archive.programme_type_stated`), if any. A joint
    inspection's report is of the `local_authority` area given, or else of the one its title
    names (unless `force` does not police it); with no `force` given, its force is the
    area's, or with no area the one force its title names, if any, when it is a force's
    own inspection or of no known type (FORCE_NAMED_TYPES). Nothing is stored if
    anything is wrong: a field (ValidationError naming it: an area for a report that is not
    a joint inspection's, a force that does not police the area given), or the file
    (ArchiveError naming it: not HTML or PDF, empty, too large, encrypted, image-only, no
    statements, or imported already, which names the earlier import). `on_stored` is called
    with the report inside the transaction that stores it (a batch marks its file there)."""
    user, label = actor_fields(actor)
    name = stored_file_name(file_name)
    title = " ".join(title.split())
    check_import_fields(
        programme_type=programme_type,
        published_on=published_on,
        title=title,
        source_url=source_url,
    )
    digest = _not_imported_yet(name, data)
    parsed = archive.parse_report(name, data)
    found = archive.find_statements(parsed.paragraphs)
    if not found:
        raise ArchiveError(
            f"{name}: no findings, recommendations or other statements were found in it "
            f"(of {len(parsed.paragraphs)} paragraphs), so nothing was imported. Check that "
            "it is an inspection report with its section headings."
        )
    same = _same_statements(found)
    if same is not None:
        earlier, shared, total = same
        raise ArchiveError(
            f"{name} holds the same statements as {_earlier_import(earlier)} ({shared} of its "
            f"{total}): it is that report again, so nothing was imported. To replace the "
            "earlier import with this file, remove the earlier one first."
        )
    title = (title or parsed.title)[:TITLE_MAX]
    if published_on is None:
        # The date the report itself gives, where it gives one that could be right.
        stated = archive.publication_date(parsed.paragraphs)
        if stated is not None and stated.year >= 1990 and stated <= timezone.localdate():
            published_on = stated
    year = published_on.year if published_on else None
    # The type of inspection the report says it is, where none is given.
    programme_type = programme_type or archive.programme_type_stated(title, parsed.paragraphs)
    # A joint inspection's letter speaks of every agency of the area: each statement is
    # marked with whom it is about. Every other report is the police inspectorate's own.
    joint = archive.is_joint(programme_type, title)
    if joint and local_authority is None:
        named = _area_named(title)
        if named is not None and (force is None or force.pk == named.force_id):
            local_authority = named
    force = _area_and_force(joint, local_authority, force)
    if force is None and local_authority is None and programme_type in FORCE_NAMED_TYPES:
        # A force's own inspection (or one of no known type) is of the force its title
        # names; a thematic or other report that names one is not of that force alone.
        force = _force_named(title)
    try:
        with transaction.atomic():
            report = ArchiveReport.objects.create(
                title=title,
                force=force,
                local_authority=local_authority,
                programme_type=programme_type,
                published_on=published_on,
                source_url=source_url,
                file_name=name,
                file_sha256=digest,
                file_format=parsed.format,
                imported_by=user,
                imported_by_label=label,
            )
            ArchiveParagraph.objects.bulk_create(
                [
                    ArchiveParagraph(
                        report=report,
                        number=p.number,
                        heading=heading_path(p.headings or (p.heading,)),
                        text=p.text,
                        page=p.page,
                    )
                    for p in parsed.paragraphs
                ],
                batch_size=1000,
            )
            paragraph_ids = dict(report.paragraphs.values_list("number", "pk"))
            # A point the report makes twice counts once: the repeat is set aside, pointing
            # to the statement that stays (a curator can take it back).
            repeated = archive.repeats(found)
            created = Statement.objects.bulk_create(
                [
                    Statement(
                        source=Statement.Source.ARCHIVE,
                        archive_report=report,
                        paragraph_id=paragraph_ids[s.paragraph_number],
                        text=s.text,
                        text_sha256=text_digest(s.text),
                        kind=s.kind,
                        stage=s.stage,
                        report_title=title,
                        year=year,
                        force=force,
                        programme_type=programme_type,
                        agency=archive.agency_of(s.text) if joint else Agency.POLICE,
                        set_aside=n in repeated,
                    )
                    for n, s in enumerate(found)
                ],
                batch_size=1000,
            )
            if repeated:
                repeats = [created[n] for n in repeated]
                for n, statement in zip(repeated, repeats, strict=True):
                    statement.repeat_of = created[repeated[n]]
                Statement.objects.bulk_update(repeats, ["repeat_of"])
            audit_record(
                actor=actor,
                action=AuditEvent.Action.CREATE,
                instance=report,
                after=audit_snapshot(report),
                summary=(
                    f"Imported {name} ({parsed.format.upper()}): {len(parsed.paragraphs)} "
                    f"paragraphs, {len(found)} statements "
                    f"({kinds_in_words(Counter(s.kind for s in found))})"
                    + (
                        f", of which {len(repeated)} repeat another and are set aside"
                        if repeated
                        else ""
                    )
                ),
            )
            if on_stored is not None:  # the caller's record of it, in the same transaction
                on_stored(report)
            data_changed("themes")
    except IntegrityError:
        # Imported by someone else between the check above and this transaction.
        existing = ArchiveReport.objects.filter(file_sha256=digest).first()
        if existing is None:
            raise
        raise ArchiveError(
            f"{name} has been imported already, as {_earlier_import(existing)}."
        ) from None
    return report


# A file whose statements are this share or more of one earlier import's statements, word for
# word, and the other way round, is that report again (saved twice, say, or with a changed
# byte), not a new report. A summary of a long report, or a report sharing a few standard
# sentences with another, is not; nor is a review quoting its inspection's findings.
SAME_REPORT_SHARE = 0.8
SAME_REPORT_MIN = 3  # statements in common, at least: a one-line file is not "the same report"


def _same_statements(
    found: Sequence[archive.FoundStatement],
) -> tuple[ArchiveReport, int, int] | None:
    """The earlier import that holds SAME_REPORT_SHARE or more of these statements' distinct
    texts, and these SAME_REPORT_SHARE or more of its own; with how many they share and of
    how many. None if none does. Three queries at most."""
    digests = {text_digest(s.text) for s in found}
    best = (
        Statement.objects.filter(source=Statement.Source.ARCHIVE, text_sha256__in=digests)
        .values("archive_report")
        .annotate(shared=Count("text_sha256", distinct=True))
        .order_by("-shared", "archive_report")
        .first()
    )
    if best is None:
        return None
    shared = int(best["shared"])
    if shared < max(SAME_REPORT_MIN, SAME_REPORT_SHARE * len(digests)):
        return None
    theirs = (
        Statement.objects.filter(archive_report_id=best["archive_report"])
        .values("text_sha256")
        .distinct()
        .count()
    )
    if shared < SAME_REPORT_SHARE * theirs:
        return None
    return ArchiveReport.objects.get(pk=best["archive_report"]), shared, len(digests)


def heading_path(headings: tuple[str, ...]) -> str:
    """A paragraph's headings as one, outermost first ("Partnership working, en dash, What
    we found"), so that a section's sub-headings keep their place; the innermost kept if
    too long."""
    path = HEADING_SEPARATOR.join(h for h in headings if h)
    while len(path) > HEADING_MAX and len(headings) > 1:
        headings = headings[1:]
        path = HEADING_SEPARATOR.join(h for h in headings if h)
    return path[:HEADING_MAX]


class StaleArchiveReport(Exception):
    """The report's date, type or force changed since the person's form was read."""


def archive_report_publication(
    *,
    actor: Actor,
    report: ArchiveReport,
    published_on: dt.date | None,
    source_url: str,
    seen: tuple[dt.date | None, str],
) -> ArchiveReport:
    """When and where a report was published, set or corrected: its date, and its statements'
    year with it (what places them in the analysis' periods and in thematic reports), and the
    web address where people can read it (so that quotations can be checked; "" for none);
    people's coding stays. Refused with ValidationError naming `published_on` (in the future,
    before 1990) or `source_url` (not a web address), or StaleArchiveReport if someone else
    changed either since `seen` (date, web address) was read."""
    check_import_fields(
        programme_type="", published_on=published_on, title="", source_url=source_url
    )
    with transaction.atomic():
        locked = ArchiveReport.objects.select_for_update().get(pk=report.pk)
        if (locked.published_on, locked.source_url) != seen:
            raise StaleArchiveReport(
                "Someone else changed the report's date or web address since you opened this "
                "page: it is now published "
                + (
                    f"{locked.published_on:%-d %B %Y}"
                    if locked.published_on
                    else "on a date not known"
                )
                + (f" at {locked.source_url}" if locked.source_url else ", with no web address")
                + ". Check them, then make your change again if it is still needed."
            )
        if (locked.published_on, locked.source_url) == (published_on, source_url):
            return locked
        before = audit_snapshot(locked)
        said = []
        # Only the date moves figures (its statements' year): a web address alone leaves the
        # analysis' and thematic reports' cached pages as they are (none shows it).
        redated = locked.published_on != published_on
        if redated:
            moved = Statement.objects.filter(archive_report=locked).update(
                year=published_on.year if published_on else None
            )
            said.append(
                "Publication date "
                + (f"{published_on:%-d %B %Y}" if published_on else "removed")
                + f": {moved} statements counted in "
                + (str(published_on.year) if published_on else "no year")
            )
        if locked.source_url != source_url:
            said.append(f"Web address {source_url}" if source_url else "Web address removed")
        locked.published_on, locked.source_url = published_on, source_url
        locked.save(update_fields=["published_on", "source_url"])
        audit_record(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            instance=locked,
            before=before,
            after=audit_snapshot(locked),
            summary="; ".join(said),
        )
        if redated:
            data_changed("themes")
    return locked


def archive_report_details(
    *,
    actor: Actor,
    report: ArchiveReport,
    programme_type: str,
    force: Force | None,
    seen: tuple[str, int | None, int | None],
    local_authority: LocalAuthority | None,
) -> ArchiveReport:
    """A report's programme type, force and (a joint inspection's) local authority area, set
    or corrected after its import, and its statements' type and force with them (what the
    analysis counts them under); with an area and no force, the area's force. A change to
    or from a joint inspection marks again whom each statement is about, except where a
    curator corrected it. People's coding stays. Refused with ValidationError naming the
    field (`programme_type`; `local_authority` for a report that is not a joint
    inspection's; `force` if it does not police the area), or StaleArchiveReport if someone
    else changed them since `seen` (type, force id, area id) was read."""
    check_import_fields(programme_type=programme_type, published_on=None, title="", source_url="")
    joint = archive.is_joint(programme_type, report.title)
    force = _area_and_force(joint, local_authority, force)
    with transaction.atomic():
        locked = ArchiveReport.objects.select_for_update().get(pk=report.pk)
        if (locked.programme_type, locked.force_id, locked.local_authority_id) != seen:
            raise StaleArchiveReport(
                "Someone else changed the report's type, force or area since you opened this "
                "page: check them, then make your change again if it is still needed."
            )
        if (locked.programme_type, locked.force_id, locked.local_authority_id) == (
            programme_type,
            force.pk if force else None,
            local_authority.pk if local_authority else None,
        ):
            return locked
        before = audit_snapshot(locked)
        remark = joint != archive.is_joint(locked.programme_type, locked.title)
        locked.programme_type, locked.force = programme_type, force
        locked.local_authority = local_authority
        locked.save(update_fields=["programme_type", "force", "local_authority"])
        statements = Statement.objects.filter(archive_report=locked)
        statements.update(programme_type=programme_type, force=force)
        marked = 0
        if remark:
            # Locked, so that no correction lands in between; each one's version moves on,
            # so a correction form read before this is refused rather than saving the old
            # agency back.
            uncorrected = list(
                statements.filter(corrected_at__isnull=True)
                .select_for_update()
                .only("pk", "text", "version")
            )
            for statement in uncorrected:
                statement.agency = archive.agency_of(statement.text) if joint else Agency.POLICE
                statement.version += 1
            Statement.objects.bulk_update(uncorrected, ["agency", "version"], batch_size=1000)
            marked = len(uncorrected)
        audit_record(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            instance=locked,
            before=before,
            after=audit_snapshot(locked),
            summary=f"Type, force or area of \u201c{locked.title}\u201d changed; "
            + (
                f"whom {marked} of its statements are about marked again"
                if remark
                else "its statements follow"
            ),
        )
        data_changed("themes")
    return locked


def archive_delete(*, actor: Actor, report: ArchiveReport) -> None:
    """A report imported by mistake removed, with its paragraphs, its statements and every
    theme code of them (people's decisions too), in one transaction with the audit event.
    Thematic reports that drew on it in their period no longer do. One chosen by name for a
    thematic report is refused (ValidationError naming those reports): removing it would
    leave that report's choice empty, which means every report of the period."""
    with transaction.atomic():
        locked = ArchiveReport.objects.select_for_update().get(pk=report.pk)
        chosen_by = archive_chosen_by(locked)
        if chosen_by:
            raise ValidationError(
                "It is chosen for the thematic report"
                + ("s " if len(chosen_by) > 1 else " ")
                + ", ".join(f"\u201c{title}\u201d" for title in chosen_by)
                + ": take it out of "
                + ("their" if len(chosen_by) > 1 else "its")
                + " chosen reports first."
            )
        counted = archive_delete_counts(locked)
        before = audit_snapshot(locked)
        summary = (
            f"Removed {locked.file_name} with its {counted['statements']} statements "
            f"({counted['decided']} coded by people)"
        )
        pk, shown = locked.pk, str(locked)
        # Paragraphs, statements and their codes (with their history) go with the report.
        locked.delete()
        audit_record(
            actor=actor,
            action=AuditEvent.Action.DELETE,
            object_type=ArchiveReport._meta.label_lower,
            object_id=str(pk),
            object_repr=shown,
            before=before,
            summary=summary,
        )
        data_changed("themes")


# Correcting how a statement was read ---------------------------------------------------------


class StaleStatement(Exception):
    """The statement was corrected by someone else since the person's form was read."""


def statement_correct(
    *,
    actor: Actor,
    statement: Statement,
    kind: str,
    stage: str,
    agency: str,
    set_aside: bool,
    seen_version: int | None,
) -> Statement:
    """A curator corrects how an imported report's statement was read: its kind, its stage
    (one of the system's or "" for none; a heading it was given stays allowed), whom it is
    about, or that it is not a statement at all (set aside: out of every figure, the review
    queue and discovery until taken back; its themes are kept). Refused with
    ValidationError naming the field (a finding's statement is corrected in its report, not
    here), or StaleStatement if someone else corrected it since `seen_version`. Recorded in
    the audit trail; nothing is recorded if nothing changed."""
    user, _ = actor_fields(actor)
    if user is None:
        raise ValueError("Only a person corrects a statement.")
    if statement.source != Statement.Source.ARCHIVE:
        raise ValidationError(
            {
                "kind": "This statement is a finding of an inspection in the system: correct "
                "it in its report, and the statement follows."
            }
        )
    errors: dict[str, str] = {}
    if kind not in ARCHIVE_KINDS:
        errors["kind"] = f"\u201c{kind}\u201d is not a kind of statement."
    stage = " ".join(stage.split())
    if stage and stage not in stage_names() and stage != statement.stage:
        errors["stage"] = f"\u201c{stage}\u201d is not a stage or topic the system knows."
    if agency not in Agency.values:
        errors["agency"] = f"\u201c{agency}\u201d is not an agency a statement can be about."
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        locked = Statement.objects.select_for_update().get(pk=statement.pk)
        if seen_version is None or locked.version != seen_version:
            raise StaleStatement(
                "Someone else corrected this statement since you opened it: here it is as "
                "they left it. Make your correction again if it is still needed."
            )
        before = audit_snapshot(locked)
        changed = (locked.kind, locked.stage, locked.agency, locked.set_aside) != (
            kind,
            stage,
            agency,
            set_aside,
        )
        if not changed:
            return locked
        locked.kind, locked.stage, locked.agency, locked.set_aside = (
            kind,
            stage,
            agency,
            set_aside,
        )
        if not set_aside:
            locked.repeat_of = None  # a repeat taken back counts as a statement of its own
        locked.corrected_by = user
        locked.corrected_at = timezone.now()
        locked.version += 1
        locked.save(
            update_fields=[
                "kind",
                "stage",
                "agency",
                "set_aside",
                "repeat_of",
                "corrected_by",
                "corrected_at",
                "version",
                "updated_at",
            ]
        )
        if set_aside:
            StatementClaim.objects.filter(statement=locked).delete()  # out of the queue
        audit_record(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            instance=locked,
            before=before,
            after=audit_snapshot(locked),
            summary=(
                f"Statement {locked.pk} of \u201c{locked.report_title}\u201d "
                + (
                    "set aside: not a statement"
                    if set_aside and not before["set_aside"]
                    else "taken back into the corpus"
                    if before["set_aside"] and not set_aside
                    else "corrected"
                )
            ),
        )
        data_changed("themes")
    return locked


def stage_names() -> list[str]:
    """The stages and topics the import names, in the system's words."""
    return [name for name, _ in archive.STAGES]
