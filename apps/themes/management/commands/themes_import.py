"""``python manage.py themes_import FILE [FILE ...] [--force SLUG] [--type TYPE]
[--area NAME] [--published YYYY-MM-DD] [--url URL]``

Imports published reports (HTML or PDF) from the archive into the statement corpus, each file
its own all-or-nothing import: a file that cannot be imported is reported, naming it and
why, and the others still are. Prints the statements found in each by kind, then has the
current classifier suggest themes for the new statements (loading the codebook first if
none is loaded). A joint inspection's report is of the local authority area `--area` names
(its name or ONS code), or else of the one its title names; its force is the area's unless
`--force` is given. Without `--type`, each report's type is the one it names itself by (its
title, else its opening paragraphs), if any; without `--force` or an area, a force's own
inspection (or one of no known type) is of the one force its title names, if any. Each
line says what was taken from the report. Exits with an error if any file was not imported.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.core.audit import SystemActor
from apps.inspections.models import ProgrammeType
from apps.reference.models import Force, LocalAuthority
from apps.themes import archive, archive_selectors, archive_services, services
from apps.themes.archive import ArchiveError
from apps.themes.codebook import CodebookError
from apps.themes.corpus import CorpusError
from apps.themes.models import ArchiveReport, CodebookVersion, Statement

ACTOR = SystemActor("themes_import")


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--published: {value!r} is not a date like 2019-03-14.") from None


class Command(BaseCommand):
    help = "Import published reports (HTML or PDF) into the statement corpus and suggest themes."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", type=Path, metavar="FILE")
        parser.add_argument(
            "--force",
            metavar="SLUG",
            help="The inspected force (its slug); else the one its title names, if any",
        )
        parser.add_argument(
            "--type",
            dest="programme_type",
            default="",
            metavar="TYPE",
            help=f"The programme type: {', '.join(ProgrammeType.values)} (else the one each "
            "report names itself by, if any)",
        )
        parser.add_argument(
            "--area",
            metavar="NAME",
            help="A joint inspection's local authority area: its name (as reports give it, "
            "'Kingston upon Hull', or the ONS's) or ONS code (else the one its title names)",
        )
        parser.add_argument("--published", metavar="YYYY-MM-DD", help="The publication date")
        parser.add_argument("--url", default="", help="Where the report is published")

    def handle(self, *args: Any, **options: Any) -> None:
        force = None
        if options["force"]:
            force = (
                Force.objects.defer("boundary", "boundary_map")
                .filter(slug=options["force"])
                .first()
            )
            if force is None:
                raise CommandError(
                    f"--force: no force has the slug {options['force']!r} "
                    "(see the reference data, e.g. manage.py load_reference)."
                )
        if options["programme_type"] and options["programme_type"] not in ProgrammeType.values:
            raise CommandError(
                f"--type: {options['programme_type']!r} is not a programme type: use one of "
                f"{', '.join(ProgrammeType.values)}."
            )
        area = None
        if options["area"]:
            wanted = options["area"].strip()
            area = next(
                (
                    a
                    for a in LocalAuthority.objects.order_by("name")
                    if wanted.upper() == a.code
                    or wanted.casefold()
                    in {n.casefold() for n in archive.area_names(a.name, a.name_welsh)}
                ),
                None,
            )
            if area is None:
                raise CommandError(
                    f"--area: no local authority has the name or ONS code {wanted!r} "
                    "(see the reference data, e.g. manage.py load_reference)."
                )
        published = _date(options["published"]) if options["published"] else None
        imported: list[ArchiveReport] = []
        failed: list[str] = []
        for path in options["files"]:
            report = self._import(path, force, area, options, published)
            if report is None:
                failed.append(path.name)
            else:
                imported.append(report)
        if imported:
            self._suggest(imported)
        if failed:
            raise CommandError(
                f"{len(failed)} of {len(options['files'])} files not imported: {', '.join(failed)}."
            )

    def _import(
        self,
        path: Path,
        force: Force | None,
        area: LocalAuthority | None,
        options: dict[str, Any],
        published: dt.date | None,
    ) -> ArchiveReport | None:
        try:
            size = path.stat().st_size
        except OSError as error:
            self.stderr.write(f"{path}: cannot be read ({error.strerror or error}).")
            return None
        if size > archive.MAX_BYTES:
            self.stderr.write(
                f"{path.name} is {size / 1024 / 1024:.1f} MB: reports larger than "
                f"{archive.MAX_BYTES // 1024 // 1024} MB cannot be imported."
            )
            return None
        try:
            report = archive_services.archive_import(
                actor=ACTOR,
                file_name=path.name,
                data=path.read_bytes(),
                force=force,
                local_authority=area,
                programme_type=options["programme_type"],
                published_on=published,
                source_url=options["url"],
            )
        except ArchiveError as error:
            self.stderr.write(str(error))
            return None
        except ValidationError as error:
            for field, problems in error.message_dict.items():
                self.stderr.write(f"{path.name}: {field}: {' '.join(problems)}")
            return None
        kinds = Counter(report.statements.filter(set_aside=False).values_list("kind", flat=True))
        repeats = report.statements.filter(repeat_of__isnull=False).count()
        self.stdout.write(
            f"{path.name}: imported \u201c{report.title}\u201d (report {report.pk}, "
            + (
                f"published {report.published_on:%-d %B %Y}, "
                if report.published_on
                else "no publication date: in no period until it is given on the report's page, "
            )
            + (
                # The area as reports name it ("Kingston upon Hull", not the ONS's "Kingston
                # upon Hull, City of", whose comma would run into the message's)
                f"area {archive.area_display(report.local_authority.name)}, force {report.force}, "
                if report.local_authority
                else ""
            )
            + (
                f"{archive_selectors.programme_type_label(report.programme_type)} "
                "(as the report says), "
                if report.programme_type and not options["programme_type"]
                else ""
            )
            + (
                f"force {report.force} (as its title says), "
                if report.force and force is None and not report.local_authority
                else ""
            )
            + f"{report.paragraphs.count()} paragraphs): {sum(kinds.values())} statements: "
            f"{archive_selectors.kinds_in_words(kinds)}"
            + (
                f"; {repeats} more {'repeats a point' if repeats == 1 else 'repeat points'} "
                "made in another statement, set aside."
                if repeats
                else "."
            )
        )
        return report

    def _suggest(self, reports: list[ArchiveReport]) -> None:
        from apps.themes import coding, embedding  # the model's libraries: once there is work

        try:
            if not CodebookVersion.objects.exists():
                services.codebook_load(actor=ACTOR)
            with embedding.worker_processes_allowed():  # many reports: workers may help
                result = coding.suggest(
                    actor=ACTOR, statements=Statement.objects.filter(archive_report__in=reports)
                )
        except (CodebookError, CorpusError, ImproperlyConfigured) as error:
            raise CommandError(
                f"Imported, but themes could not be suggested: {error} Run manage.py "
                "themes_code once that is put right."
            ) from None
        self.stdout.write(
            f"Classifier {result.classifier}: themes suggested for {result.statements} "
            f"statements ({result.suggestions} suggestions)."
        )
