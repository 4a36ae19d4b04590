"""The analysis, its evidence and draft thematic reports: figures worked out from the current
codes (a person's where they coded, else the classifier's), every figure's link listing
exactly the statements it counts, scopes read and refused, reports saved (stale saves
refused), their HTML and PDF, who may see and change them, and fixed query counts."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from html import unescape
from urllib.parse import parse_qs, urlparse

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import QueryDict
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.core.audit import SystemActor
from apps.core.cache import data_changed
from apps.core.models import AuditEvent
from apps.inspections.models import Inspection, State
from apps.themes import services, synthesis
from apps.themes.corpus import text_digest
from apps.themes.models import (
    ArchiveParagraph,
    ArchiveReport,
    Statement,
    ThematicReport,
    Theme,
    ThemeCode,
)
from tests.themes.conftest import stand_in_classifier

SYSTEM = SystemActor("tests")
CODERS = {"manager", "lead", "inspector", "analyst"}
CURATORS = {"manager", "analyst"}
REFUSED = {"admin", "partner", "liaison"}


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _archive(n: int, year: int) -> ArchiveReport:
    return ArchiveReport.objects.create(
        title=f"Sample report {n}",
        programme_type="ncpi",
        published_on=dt.date(year, 6, 1),
        file_name=f"sample-{n}.html",
        file_sha256=text_digest(f"sample-{n}"),
        file_format="html",
        imported_by_label="tests",
    )


def coded_statement(
    report: ArchiveReport, number: int, text: str, kind: str, themes: list, person
) -> Statement:
    """A statement of `report` (under its own paragraph `number`, in the report's year), of
    `kind`, confirmed by `person` to `themes`."""
    paragraph = ArchiveParagraph.objects.create(
        report=report, number=number, heading="Findings", text=f"Paragraph {number}"
    )
    statement = Statement.objects.create(
        source=Statement.Source.ARCHIVE,
        archive_report=report,
        paragraph=paragraph,
        text=text,
        text_sha256=text_digest(text),
        kind=kind,
        report_title=report.title,
        year=report.published_on.year,
        programme_type=report.programme_type,
    )
    for theme in themes:
        ThemeCode.objects.create(
            statement=statement,
            theme=theme,
            status=ThemeCode.Status.CONFIRMED,
            set_by=person,
            set_by_label=person.username,
            set_at=timezone.now(),
        )
    return statement


def build(person, reports_per_year: int = 3, per_report: int = 10) -> dict[str, list[int]]:
    """Imported reports for 2021 to 2024, whose statements are coded so that online abuse
    rises year on year and workforce falls; "partnership" goes with "workforce"."""
    codebook = services.current_codebook()
    themes = {t.key: t for t in codebook.themes.all()}
    made: dict[str, list[int]] = {"online_abuse": [], "workforce": [], "all": []}
    n = 0
    for year_index, year in enumerate(range(2021, 2025)):
        for _ in range(reports_per_year):
            n += 1
            report = _archive(n, year)
            for i in range(per_report):
                online = i < 2 + 2 * year_index  # 2, 4, 6, 8 of 10
                keys = ["online_abuse"] if online else ["workforce", "partnership"]
                statement = coded_statement(
                    report,
                    i + 1,
                    f"Statement {n}.{i} about the force's work in {year}.",
                    "strength" if i % 2 else "area_for_improvement",
                    [themes[key] for key in keys],
                    person,
                )
                made["all"].append(statement.pk)
                for key in keys:
                    made.setdefault(key, [])
                    made[key].append(statement.pk)
    return made


@pytest.fixture
def coded(pub):
    services.codebook_load(actor=SYSTEM)
    made = build(pub.users["analyst"])
    return pub, made


def _evidence_ids(client: Client, link: str) -> set[int]:
    """Every statement an evidence link lists, over all its pages, read from the HTML (the
    page's body may come from the cache)."""
    ids: set[int] = set()
    url = link
    while url:
        page = client.get(url)
        assert page.status_code == 200, url
        html = page.content.decode()
        ids |= {int(pk) for pk in re.findall(r'href="/themes/statements/(\d+)/"', html)}
        nxt = re.search(r'href="\?([^"]*)" rel="next"', html)
        url = f"{reverse('themes:evidence')}?{unescape(nxt.group(1))}" if nxt else ""
    return ids


def _evidence_reports(client: Client, link: str) -> dict[str, int]:
    """Every report a `show=reports` evidence link lists, over all its pages: the link to
    its statements, with the number that is that link's text."""
    found: dict[str, int] = {}
    url = link
    while url:
        page = client.get(url)
        assert page.status_code == 200, url
        html = page.content.decode()
        for href, number in re.findall(
            r'<td class="govuk-table__cell govuk-table__cell--numeric">'
            r'<a class="govuk-link" href="([^"]+)">([\d,]+)<',
            html,
        ):
            found[unescape(href)] = int(number.replace(",", ""))
        nxt = re.search(r'href="\?([^"]*)" rel="next"', html)
        url = f"{reverse('themes:evidence')}?{unescape(nxt.group(1))}" if nxt else ""
    return found


def _check_numbered(client: Client, numbered: set[tuple[str, int]]) -> None:
    """Each number that is a link lists exactly that many statements or, for a number of
    reports, that many reports, each listing as many statements as its row says."""
    for link, number in numbered:
        if "show=reports" in link:
            reports = _evidence_reports(client, link)
            assert len(reports) == number, link
            for report_link, count in reports.items():
                assert "show=" not in report_link and "report=" in report_link
                assert len(_evidence_ids(client, report_link)) == count, report_link
        else:
            assert len(_evidence_ids(client, link)) == number, link


def _pdf_links(data: bytes) -> list[str]:
    """Every web address a PDF's link annotations point to."""
    from pdfminer.pdfdocument import PDFDocument
    from pdfminer.pdfpage import PDFPage
    from pdfminer.pdfparser import PDFParser
    from pdfminer.pdftypes import resolve1

    found = []
    for page in PDFPage.create_pages(PDFDocument(PDFParser(io.BytesIO(data)))):
        for annotation in resolve1(page.annots) or []:
            action = resolve1(resolve1(annotation).get("A"))
            if action and "URI" in action:
                found.append(resolve1(action["URI"]).decode())
    return found


def _numbered_links(html: str) -> set[tuple[str, int]]:
    """(evidence link, the number that is its text) for every number on the page that is a
    link to its statements."""
    found = re.findall(r'href="(/themes/analysis/evidence/\?[^"]+)">([\d,]+)', html)
    return {(unescape(href), int(number.replace(",", ""))) for href, number in found}


def test_the_corpus_counts_peoples_codes_and_else_the_classifiers(coded):
    pub, made = coded
    data = synthesis.corpus(synthesis.Scope())
    assert len(data.rows) == len(made["all"])
    assert data.checked == len(made["all"])
    by_id = {r.statement_id: r for r in data.rows}
    assert by_id[made["online_abuse"][0]].themes == {"online_abuse"}
    # A statement no person coded counts with its suggestion; a person's decision wins.
    statement = Statement.objects.get(pk=made["online_abuse"][0])
    theme = Theme.objects.get(codebook=services.current_codebook(), key="supervision")
    row = stand_in_classifier(codebook=theme.codebook)
    ThemeCode.objects.filter(statement=statement).update(
        set_by=None, status="suggested", classifier=row
    )
    ThemeCode.objects.create(
        statement=statement,
        theme=theme,
        status="withdrawn",
        classifier=row,
        set_by_label="classifier",
        set_at=timezone.now(),
    )
    data = synthesis.corpus(synthesis.Scope())
    assert {r.statement_id: r for r in data.rows}[statement.pk].themes == {"online_abuse"}
    assert data.checked == len(made["all"]) - 1
    # Scopes: years, programme types, chosen reports.
    assert {r.year for r in synthesis.corpus(synthesis.Scope(year_from=2023)).rows} == {
        2023,
        2024,
    }
    assert not synthesis.corpus(synthesis.Scope(programme_types=("jtai",))).rows
    first = ArchiveReport.objects.order_by("id").first()
    chosen = synthesis.corpus(synthesis.Scope(archive_reports=(first.pk,)))
    assert {r.report for r in chosen.rows} == {f"archive:{first.pk}"}
    # Findings of inspections not yet published are never counted.
    services.statements_sync()
    reports = {r.report for r in synthesis.corpus(synthesis.Scope()).rows}
    assert f"inspection:{pub.inspection.pk}" in reports
    Inspection.objects.filter(pk=pub.inspection.pk).update(state=State.REPORTING)
    reports = {r.report for r in synthesis.corpus(synthesis.Scope()).rows}
    assert f"inspection:{pub.inspection.pk}" not in reports
    assert f"inspection:{pub.other.pk}" in reports


def test_scopes_are_read_from_the_query_and_bad_ones_named():
    scope = synthesis.Scope.from_query({"from": ["2021"], "to": ["2024"], "type": ["ncpi"]})
    assert scope == synthesis.Scope(2021, 2024, ("ncpi",))
    assert synthesis.Scope.from_query(parse_qs(scope.query())) == scope
    police = synthesis.Scope.from_query({"about": ["police"]})
    assert police.police_only and synthesis.Scope.from_query(parse_qs(police.query())) == police
    assert "about the police" in police.describe()
    for query, named in (
        ({"from": ["twenty"]}, "from"),
        ({"from": ["2024"], "to": ["2021"]}, "to"),
        ({"type": ["ncpi", "bogus"]}, "type"),
        ({"to": ["3000"]}, "to"),
        ({"inspection": ["x"]}, "inspection"),
        ({"about": ["health"]}, "about"),
    ):
        with pytest.raises(synthesis.ScopeError, match=f"^{named}:"):
            synthesis.Scope.from_query(query)


def test_every_figure_of_the_analysis_links_to_exactly_its_statements(coded):
    pub, made = coded
    analyst = client_for(pub.users["analyst"])
    page = analyst.get(reverse("themes:analysis"), {"from": 2021, "to": 2024, "by": "year"})
    assert page.status_code == 200
    body = page.content.decode()
    # Each year's column, and each cell, says how many reports its statements come from.
    assert body.count('>30</a> <span class="govuk-body-s">(3 reports)</span>') == 4
    assert "; 3 reports)</span>" in body
    overall = {
        c["key"]: c
        for c in synthesis.analysis_context(
            synthesis.corpus(synthesis.Scope(2021, 2024)), facet="year"
        )["overall"]
    }
    assert overall["online_abuse"]["count"] == len(made["online_abuse"]) == 60
    assert overall["workforce"]["count"] == 60
    assert _evidence_ids(analyst, overall["online_abuse"]["link"]) == set(made["online_abuse"])
    # Online abuse rises 20% -> 80% over four years; workforce falls.
    context = synthesis.analysis_context(synthesis.corpus(synthesis.Scope()), facet="year")
    trends = {t["key"]: t for t in context["trends"]}
    assert trends["online_abuse"]["direction"] == "emerging"
    assert trends["workforce"]["direction"] == "declining"
    year_2024 = next(y for y in trends["online_abuse"]["years"] if y["year"] == 2024)
    assert (year_2024["count"], year_2024["total"]) == (24, 30)
    listed = _evidence_ids(analyst, year_2024["link"])
    assert len(listed) == 24
    assert {Statement.objects.get(pk=i).year for i in listed} == {2024}
    # The pair workforce and partnership: always together.
    pair = next(p for p in context["pairs"] if {p["a"], p["b"]} == {"workforce", "partnership"})
    assert pair["count"] == 60 and pair["significant"]
    assert _evidence_ids(analyst, pair["link"]) == set(made["workforce"])
    # Every number on the page that is a link lists exactly that many statements: counts,
    # the totals they are shares of, the strengths and weaknesses.
    numbered = _numbered_links(body)
    assert len(numbered) > 50
    assert any("kind=" in link and "theme=" not in link for link, _ in numbered)
    # The numbers of reports and of statements a person checked are links too.
    themes_found = sum(1 for c in overall.values() if c["count"])
    assert sum("show=reports" in link for link, _ in numbered) == 1 + themes_found == 4
    assert any("checked=yes" in link for link, _ in numbered)
    _check_numbered(analyst, numbered)
    assert "Online abuse" in body or "online" in body.lower()
    # Bad scope: a clear error, status 400.
    bad = analyst.get(reverse("themes:analysis"), {"from": "soon"})
    assert bad.status_code == 400
    assert 'href="#id_from">The first year must be a whole number' in bad.content.decode()
    bad = analyst.get(reverse("themes:analysis"), {"from": "2024", "to": "2021"})
    assert bad.status_code == 400 and "to:" in bad.content.decode()
    bad = analyst.get(reverse("themes:evidence"), {"theme": "nonsense"})
    assert bad.status_code == 400 and "theme:" in bad.content.decode()
    # A facet's value no statement of the scope has is an error, not an empty list.
    for facet, value in (("force", "atlantis"), ("year", "1066"), ("kind", "rumour")):
        bad = analyst.get(reverse("themes:evidence"), {"facet": facet, "value": value})
        assert bad.status_code == 400, (facet, value)
        assert f"value: no statement in this scope has the {facet} &#x27;{value}&#x27;" in (
            bad.content.decode()
        )
    real = next(link for link, _ in numbered if "facet=" in link and "value=" in link)
    assert analyst.get(real).status_code == 200


def test_the_pages_make_the_same_queries_whatever_the_corpus(pub):
    """The analysis, a thematic report, the list of reports, a statement's page, the
    evidence pages (statements and reports) and both downloads."""
    from django.core.cache import cache

    services.codebook_load(actor=SYSTEM)
    person = pub.users["analyst"]
    analyst = client_for(person)

    def counts() -> list[int]:
        for n in range(3):
            services.thematic_report_save(
                actor=person, report=None, title=f"Report {n}", year_from=2021, year_to=2024
            )
        report = ThematicReport.objects.order_by("pk").first()
        statement = Statement.objects.order_by("pk").first()
        cache.clear()
        out = []
        for url, query in (
            (reverse("themes:analysis"), {"by": "force"}),
            (reverse("themes:report", args=[report.pk]), {}),
            (reverse("themes:reports"), {}),
            (reverse("themes:statement", args=[statement.pk]), {}),
            (reverse("themes:evidence"), {"theme": "workforce"}),
            (reverse("themes:evidence"), {"show": "reports"}),
            (reverse("themes:evidence-export", args=["csv"]), {"theme": "workforce"}),
            (reverse("themes:analysis-export", args=["xlsx"]), {"by": "year"}),
        ):
            with CaptureQueriesContext(connection) as queries:
                assert analyst.get(url, query).status_code == 200, url
            out.append(len(queries.captured_queries))
        return out

    build(person, reports_per_year=1, per_report=4)
    few = counts()
    ThemeCode.objects.all().delete()
    Statement.objects.filter(source="archive").delete()
    ArchiveReport.objects.all().delete()
    build(person, reports_per_year=3, per_report=12)
    # More history on the statement's codes, too.
    statement = Statement.objects.order_by("pk").first()
    for themes in (["workforce"], ["partnership", "supervision"], ["online_abuse"]):
        services.codes_decide(
            actor=person,
            statement=statement,
            themes=themes,
            seen_version=services.codes_version(statement),
        )
    assert counts() == few


def test_a_thematic_report_is_saved_and_a_stale_save_refused(coded):
    pub, _ = coded
    analyst = pub.users["analyst"]
    with pytest.raises(Exception, match="title"):
        services.thematic_report_save(
            actor=analyst, report=None, title=" ", year_from=2021, year_to=2024
        )
    with pytest.raises(Exception, match="year_to"):
        services.thematic_report_save(
            actor=analyst, report=None, title="Online abuse", year_from=2024, year_to=2021
        )
    Inspection.objects.filter(pk=pub.other.pk).update(state=State.REPORTING)
    with pytest.raises(Exception, match="inspections"):
        services.thematic_report_save(
            actor=analyst,
            report=None,
            title="Online abuse",
            year_from=2021,
            year_to=2024,
            inspections=[Inspection.objects.get(pk=pub.other.pk)],
        )
    assert not ThematicReport.objects.exists()
    report = services.thematic_report_save(
        actor=analyst, report=None, title="Online abuse", year_from=2021, year_to=2024
    )
    assert AuditEvent.objects.filter(object_type="themes.thematicreport").exists()
    services.thematic_report_save(
        actor=pub.users["manager"],
        report=report,
        title="Online abuse of children",
        year_from=2021,
        year_to=2024,
        seen_version=1,
    )
    with pytest.raises(services.StaleReport):
        services.thematic_report_save(
            actor=analyst,
            report=report,
            title="Mine",
            year_from=2021,
            year_to=2024,
            seen_version=1,
        )
    report.refresh_from_db()
    assert (report.title, report.version) == ("Online abuse of children", 2)


@pytest.mark.django_db
def test_a_theme_quotes_each_statement_once(pub):
    """A strength is quoted as good practice and a recommendation among the recommendations,
    not again among what inspectors found, which quotes the theme's other statements (and
    is left out when there are none)."""
    services.codebook_load(actor=SYSTEM)
    themes = {t.key: t for t in services.current_codebook().themes.all()}
    analyst = pub.users["analyst"]
    report = _archive(1, 2022)
    made = {
        (kind, key): coded_statement(report, n + 1, f"Statement {n}.", kind, [themes[key]], analyst)
        for n, (kind, key) in enumerate(
            [
                ("strength", "workforce"),
                ("recommendation", "workforce"),
                ("area_for_improvement", "workforce"),
                ("strength", "custody_detention"),
            ]
        )
    }
    context = synthesis.report_context(synthesis.corpus(synthesis.Scope()))
    sections = {s["key"]: s for s in context["sections"]}

    def quoted(section: dict, part: str) -> list[int]:
        return [(q[0] if isinstance(q, tuple) else q).statement.pk for q in section[part]]

    workforce = sections["workforce"]
    assert quoted(workforce, "good_practice") == [made["strength", "workforce"].pk]
    assert quoted(workforce, "recommendation_quotes") == [made["recommendation", "workforce"].pk]
    assert quoted(workforce, "quotes") == [made["area_for_improvement", "workforce"].pk]
    custody = sections["custody_detention"]
    assert quoted(custody, "good_practice") == [made["strength", "custody_detention"].pk]
    assert quoted(custody, "quotes") == []
    report = services.thematic_report_save(
        actor=analyst, report=None, title="Workforce", year_from=2022, year_to=2022
    )
    page = client_for(analyst).get(reverse("themes:report", args=[report.pk])).content.decode()
    custody_part = page.split('id="theme-custody_detention"')[1].split('id="theme-')[0]
    assert "Good practice" in custody_part and "What inspectors found" not in custody_part


def test_a_chosen_report_the_scope_would_leave_out_is_refused_by_name(coded):
    """Never dropped quietly: an imported report with no date or outside the period, an
    inspection outside the period or of a programme type not chosen."""
    pub, _ = coded
    analyst = pub.users["analyst"]
    undated = ArchiveReport.objects.create(
        title="Undated review", file_name="u.html", file_sha256="u" * 64, imported_by_label="t"
    )
    old = _archive(999, 2015)
    inspection = Inspection.objects.get(pk=pub.other.pk)
    year = inspection.follow_up_record.published_on.year
    asked = {"actor": analyst, "report": None, "title": "T", "year_from": year, "year_to": year}
    with pytest.raises(ValidationError) as refused:
        services.thematic_report_save(**asked, archive_reports=[undated, old])
    assert refused.value.message_dict == {
        "archive_reports": [
            "'Undated review' has no publication date, so it is in no period: give it its "
            f"date; '{old.title}' (2015) is outside the period {year}."
        ]
    }
    with pytest.raises(ValidationError) as refused:
        services.thematic_report_save(
            **{**asked, "year_from": year + 1, "year_to": year + 2}, inspections=[inspection]
        )
    assert refused.value.message_dict == {
        "inspections": [
            f"{inspection.reference} ({year}) is outside the period {year + 1} to {year + 2}."
        ]
    }
    other_type = "jtai" if inspection.programme_type != "jtai" else "ncpi"
    with pytest.raises(ValidationError, match="not one of the programme types chosen"):
        services.thematic_report_save(
            **asked, programme_types=[other_type], inspections=[inspection]
        )
    assert not ThematicReport.objects.exists()
    # Within the scope: saved, and the audit trail names what was chosen.
    report = services.thematic_report_save(**asked, inspections=[inspection])
    event = AuditEvent.objects.get(object_type="themes.thematicreport", object_id=str(report.pk))
    assert f"inspections: {inspection.reference}; imported reports: none" in event.summary
    # Its statements' year moves (the report published the next year, say): the report page
    # says what its figures now leave out.
    services.statements_sync()
    Statement.objects.filter(inspection=inspection).update(year=year + 1)
    page = client_for(analyst).get(reverse("themes:report", args=[report.pk])).content.decode()
    assert f"{inspection.reference} ({year + 1}) is outside the period {year}." in page


def test_the_thematic_report_links_every_figure_and_quotation(coded):
    pub, made = coded
    analyst = client_for(pub.users["analyst"])
    # Nothing filled in: each missing field named, nothing saved.
    empty = analyst.post(
        reverse("themes:report-new"), {"title": "", "year_from": "", "year_to": ""}
    )
    body = empty.content.decode()
    for field, message in (
        ("title", "Enter a title"),
        ("year_from", "Enter the first year"),
        ("year_to", "Enter the last year"),
    ):
        assert f'href="#id_{field}">{message}' in body, field
    assert "This field is required" not in body
    assert not ThematicReport.objects.exists()
    response = analyst.post(
        reverse("themes:report-new"),
        {
            "title": "Online abuse 2021 to 2024",
            "year_from": 2021,
            "year_to": 2024,
            "programme_types": ["ncpi"],
            "introduction": "Why we looked at online abuse.",
        },
    )
    assert response.status_code == 302
    report = ThematicReport.objects.get()
    page = analyst.get(reverse("themes:report", args=[report.pk]))
    body = page.content.decode()
    assert "Why we looked at online abuse." in body
    assert "emerging" in body.lower()
    links = {
        unescape(link) for link in re.findall(r'href="(/themes/analysis/evidence/\?[^"]+)"', body)
    }
    assert len(links) > 10
    for link in links:
        query = parse_qs(urlparse(link).query)
        if query.get("show") == ["reports"]:
            assert _evidence_reports(analyst, link), link
            continue
        listed = _evidence_ids(analyst, link)
        if query.get("theme") == ["online_abuse"] and "facet" not in query and "kind" not in query:
            assert listed == set(made["online_abuse"])
        assert listed, link
    # A number that is a link lists exactly that many statements.
    numbered = _numbered_links(body)
    assert len(numbered) > 10
    assert any("show=reports" in link for link, _ in numbered)
    assert any("checked=yes" in link for link, _ in numbered)
    _check_numbered(analyst, numbered)
    # Every statement here was coded by a person, and every quotation says so: those of
    # what inspectors found, of good practice and of the recommendations.
    assert "Good practice" in body and "Examples of the recommendations" not in body
    assert "suggested by the classifier" not in body
    good = body.split('<h3 class="govuk-heading-m">Good practice</h3>')[1].split("<h3")[0]
    assert "coded by a person" in good
    # No statement is quoted twice in a theme: what inspectors found is of the statements
    # not quoted as good practice or as a recommendation.
    sections = page.context["sections"]
    assert any(s["good_practice"] for s in sections)
    for section in sections:
        quoted = [
            *(q.statement.pk for q in section["quotes"]),
            *(q.statement.pk for q in section["good_practice"]),
            *(q.statement.pk for q, _ in section["recommendation_quotes"]),
        ]
        assert quoted and len(quoted) == len(set(quoted)), section["key"]
    # Quotations link to their statement and to the paragraph of their report.
    statement_links = re.findall(r'href="/themes/statements/(\d+)/"', body)
    assert statement_links
    assert all(int(pk) in made["all"] for pk in statement_links)
    # The PDF: a real PDF, its links absolute.
    pdf = analyst.get(reverse("themes:report-pdf", args=[report.pk]))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    pdf_links = _pdf_links(pdf.content)
    evidence = [u for u in pdf_links if "/themes/analysis/evidence/?" in u]
    assert len(evidence) > 10
    assert all(u.startswith("http://testserver/") for u in pdf_links if "/themes/" in u)
    exports = AuditEvent.objects.filter(action="export", object_type="themes.thematicreport")
    assert exports.count() == 1
    # A HEAD (a link checker, a prefetch) is no download: not rendered, not audited.
    assert analyst.head(reverse("themes:report-pdf", args=[report.pk])).status_code == 405
    assert exports.count() == 1
    # A stale edit is refused.
    edit = reverse("themes:report-edit", args=[report.pk])
    form = analyst.get(edit).context["form"]
    assert form.initial["seen_version"] == 1
    analyst.post(edit, {"title": "First", "year_from": 2021, "year_to": 2024, "seen_version": 1})
    stale = analyst.post(
        edit, {"title": "Second", "year_from": 2021, "year_to": 2024, "seen_version": 1}
    )
    assert "Someone else saved this thematic report" in stale.content.decode()
    report.refresh_from_db()
    assert report.title == "First"


def test_who_may_see_and_change_the_analysis_and_reports(coded):
    pub, _ = coded
    report = services.thematic_report_save(
        actor=pub.users["analyst"], report=None, title="Online abuse", year_from=2021, year_to=2024
    )
    read = [
        reverse("themes:home"),
        reverse("themes:model"),
        reverse("themes:analysis"),
        reverse("themes:evidence") + "?theme=online_abuse",
        reverse("themes:reports"),
        reverse("themes:report", args=[report.pk]),
        reverse("themes:evidence-export", args=["csv"]) + "?theme=online_abuse",
        reverse("themes:analysis-export", args=["xlsx"]) + "?by=force",
    ]
    change = [reverse("themes:report-new"), reverse("themes:report-edit", args=[report.pk])]
    for url in read + change + [reverse("themes:report-pdf", args=[report.pk])]:
        assert Client().get(url).status_code == 302, url
    for name in CODERS | REFUSED:
        client = client_for(pub.users[name])
        for url in read:
            expected = 200 if name in CODERS else 403
            assert client.get(url).status_code == expected, (name, url)
        if name not in CODERS:  # (the PDF itself is made in the report's own test)
            pdf = reverse("themes:report-pdf", args=[report.pk])
            assert client.get(pdf).status_code == 403, name
        for url in change:
            expected = 200 if name in CURATORS else 403
            assert client.get(url).status_code == expected, (name, url)
            if name not in CURATORS:
                posted = client.post(url, {"title": "X", "year_from": 2021, "year_to": 2021})
                assert posted.status_code == 403
    report.refresh_from_db()
    assert report.title == "Online abuse" and ThematicReport.objects.count() == 1
    for url in read:
        assert client_for(pub.users["analyst"]).post(url).status_code == 405, url
    pdf = reverse("themes:report-pdf", args=[report.pk])
    assert client_for(pub.users["analyst"]).post(pdf).status_code == 405
    for url in change:
        for method in ("put", "patch", "delete"):
            response = getattr(client_for(pub.users["analyst"]), method)(url)
            assert response.status_code == 405, (method, url)
    assert ThematicReport.objects.count() == 1
    # Suggesting themes again: curators only, and only by POST (it runs in test_services).
    again = reverse("themes:suggest-again")
    assert Client().post(again).status_code == 302
    for name in (CODERS | REFUSED) - CURATORS:
        assert client_for(pub.users[name]).post(again).status_code == 403, name
    assert client_for(pub.users["analyst"]).get(again).status_code == 405
    assert not AuditEvent.objects.filter(object_type="themes.suggestions").exists()
    shown = {
        name: "Suggest themes again" in client_for(pub.users[name]).get(read[1]).content.decode()
        for name in CODERS
    }
    assert shown == {name: name in CURATORS for name in CODERS}


def test_the_evidence_page_is_kept_until_a_person_codes(coded, django_assert_max_num_queries):
    """The second view of a figure's statements reads no statement; a person's decision
    changes what it lists at once."""
    pub, made = coded
    analyst = client_for(pub.users["analyst"])
    link = reverse("themes:evidence") + "?theme=online_abuse"
    first = _evidence_ids(analyst, link)
    assert first == set(made["online_abuse"])
    with django_assert_max_num_queries(8):  # the session, the user, the data versions
        again = analyst.get(link)
    assert again.status_code == 200 and "statements" not in (again.context or {})
    statement = Statement.objects.get(pk=min(first))
    services.codes_decide(
        actor=pub.users["analyst"],
        statement=statement,
        themes=["workforce"],
        seen_version=services.codes_version(statement),
    )
    assert _evidence_ids(analyst, link) == first - {statement.pk}


def test_figures_that_differ_only_in_a_repeated_kind_are_kept_apart(coded):
    """A theme's weaknesses (three kinds) and its recommendations (one of them) are two
    figures: whichever is read first, the other lists its own statements."""
    pub, _ = coded
    analyst = client_for(pub.users["analyst"])
    data = synthesis.corpus(synthesis.Scope())
    weaknesses = "kind=area_for_improvement&kind=cause_of_concern&kind=recommendation"
    expected = {}
    for theme in data.names:
        for kinds in (weaknesses, "kind=recommendation"):
            query = QueryDict(f"theme={theme}&{kinds}")
            rows = synthesis.Figure.from_query(query, data).rows(data)
            expected[(theme, kinds)] = {row.statement_id for row in rows}
    theme = next(
        t for t in data.names if expected[(t, weaknesses)] != expected[(t, "kind=recommendation")]
    )
    for kinds in (weaknesses, "kind=recommendation"):
        link = f"{reverse('themes:evidence')}?theme={theme}&{kinds}"
        assert _evidence_ids(analyst, link) == expected[(theme, kinds)], kinds


def test_odd_figures_and_scopes_are_refused_clearly(coded):
    pub, _ = coded
    analyst = client_for(pub.users["analyst"])
    evidence = reverse("themes:evidence")
    for query, named in (
        ({"status": "bogus"}, "status:"),
        ({"kind": "rumour"}, "kind:"),
        ({"inspection": "99999999999999999999"}, "inspection:"),
        ({"archive": "0"}, "archive:"),
        ({"facet": "colour"}, "facet:"),
        ({"also": "nonsense"}, "also:"),
        ({"also": "workforce"}, "also: a second theme, for statements coded to both"),
    ):
        response = analyst.get(evidence, query)
        assert response.status_code == 400, query
        assert named in response.content.decode(), query
    big = analyst.get(reverse("themes:analysis"), {"inspection": "99999999999999999999"})
    assert big.status_code == 400
    odd = analyst.get(reverse("themes:analysis"), {"type": "zzz"})
    assert odd.status_code == 400
    assert "Programme types: zzz is not a programme type" in odd.content.decode()


def test_reports_with_as_many_statements_are_listed_in_the_order_they_were_added():
    """Ties go by the report's number, not its text: "archive:99" before "archive:100" (as
    text it came after, so the first-added report fell to a later page once the database's
    numbers reached three digits)."""
    from types import SimpleNamespace

    keys = "archive:100 archive:99 inspection:7 archive:99 archive:100 archive:100"
    rows = [SimpleNamespace(report=key) for key in f"{keys} inspection:12 archive:8".split()]
    assert synthesis.report_counts(rows) == [  # type: ignore[arg-type]
        ("archive:100", 3),
        ("archive:99", 2),
        ("archive:8", 1),
        ("inspection:7", 1),
        ("inspection:12", 1),
    ]


def test_a_figures_reports_and_who_checked_its_statements_are_listed(coded, monkeypatch):
    pub, made = coded
    analyst = client_for(pub.users["analyst"])
    monkeypatch.setattr(synthesis, "EVIDENCE_PAGE", 5)  # so the twelve reports take pages
    # One report's statements go back to the classifier's suggestions.
    first = ArchiveReport.objects.order_by("pk").first()
    row = stand_in_classifier()
    ThemeCode.objects.filter(statement__archive_report=first).update(
        set_by=None, status="suggested", classifier=row, confidence=0.7
    )
    theirs = set(Statement.objects.filter(archive_report=first).values_list("pk", flat=True))
    data = synthesis.corpus(synthesis.Scope())
    summary = synthesis.analysis_context(data)["summary"]
    assert summary["reports"] == 12 and summary["checked"] == len(made["all"]) - 10
    assert _evidence_ids(analyst, summary["checked_link"]) == set(made["all"]) - theirs
    unchecked = summary["checked_link"].replace("checked=yes", "checked=no")
    assert _evidence_ids(analyst, unchecked) == theirs
    assert "not yet checked by a person" in analyst.get(unchecked).content.decode()
    # The reports behind all the statements: twelve, the first report's statements its own.
    reports = _evidence_reports(analyst, summary["reports_link"])
    assert len(reports) == 12 and set(reports.values()) == {10}
    own = next(
        link
        for link in reports
        if parse_qs(urlparse(link).query)["report"] == [f"archive:{first.pk}"]
    )
    assert _evidence_ids(analyst, own) == theirs
    assert all("from=" not in link and "show=" not in link for link in reports)
    page = analyst.get(summary["reports_link"]).content.decode()
    assert f'href="/themes/archive/{first.pk}/"' in page and "Sample report 1" in page
    assert "from Sample report 1" in analyst.get(own).content.decode()
    # A theme's reports: the first report's online abuse statements are its first two.
    online = synthesis.Figure(theme="online_abuse", report=f"archive:{first.pk}")
    assert len(online.rows(data)) == 2
    # A theme in two reports, three statements in one and one in the other: two reports,
    # the one with more first.
    supervision = Theme.objects.get(codebook=services.current_codebook(), key="supervision")
    second, fifth = ArchiveReport.objects.order_by("pk")[1], ArchiveReport.objects.order_by("pk")[4]
    chosen = [*Statement.objects.filter(archive_report=fifth).order_by("pk")[:1]]
    chosen += [*Statement.objects.filter(archive_report=second).order_by("pk")[:3]]
    for statement in chosen:
        ThemeCode.objects.create(
            statement=statement,
            theme=supervision,
            status=ThemeCode.Status.CONFIRMED,
            set_by=pub.users["analyst"],
            set_by_label="analyst",
            set_at=timezone.now(),
        )
    overall = {
        c["key"]: c
        for c in synthesis.analysis_context(synthesis.corpus(synthesis.Scope()))["overall"]
    }
    assert overall["supervision"]["reports"] == 2
    listed = _evidence_reports(analyst, overall["supervision"]["reports_link"])
    assert [parse_qs(urlparse(link).query)["report"] for link in listed] == [
        [f"archive:{second.pk}"],
        [f"archive:{fifth.pk}"],
    ]
    assert list(listed.values()) == [3, 1]
    assert all(parse_qs(urlparse(link).query)["theme"] == ["supervision"] for link in listed)
    # A parameter given twice is read as the page reads it, the last value, and is kept
    # apart in the cache from the same values the other way round.
    twice = analyst.get(f"{reverse('themes:evidence')}?show=reports&show=").content.decode()
    assert "Reports with" not in twice
    twice = analyst.get(f"{reverse('themes:evidence')}?show=&show=reports").content.decode()
    assert "Reports with statements in the scope" in twice
    # A report, or a check, the scope does not have is named.
    evidence = reverse("themes:evidence")
    for query, named in (
        ({"report": "archive:0"}, "report: no statement in this scope comes from report"),
        ({"checked": "maybe"}, "checked: &#x27;maybe&#x27; is not one of yes, no"),
        ({"show": "forces"}, "show: &#x27;forces&#x27; is not &#x27;reports&#x27;"),
    ):
        response = analyst.get(evidence, query)
        assert response.status_code == 400 and named in response.content.decode(), query
    later = synthesis.Scope(year_from=2024)
    response = analyst.get(evidence, {**parse_qs(later.query()), "report": f"archive:{first.pk}"})
    assert response.status_code == 400  # the first report is of 2021


def test_a_recommendation_with_no_status_yet_links_to_itself_alone(pub):
    services.codebook_load(actor=SYSTEM)
    services.statements_sync()
    statement = Statement.objects.get(finding=pub.later)
    statement.finding.__class__.objects.filter(pk=pub.later.pk).update(status="")
    theme = Theme.objects.get(codebook=services.current_codebook(), key="workforce")
    for s in Statement.objects.filter(inspection__in=[pub.inspection, pub.other]):
        ThemeCode.objects.create(
            statement=s,
            theme=theme,
            status="confirmed",
            set_by=pub.users["analyst"],
            set_by_label="analyst",
            set_at=timezone.now(),
        )
    data = synthesis.corpus(synthesis.Scope())
    context = synthesis.report_context(data)
    section = next(s for s in context["sections"] if s["key"] == "workforce")
    none_yet = next(s for s in section["statuses"] if s["label"] == "No status yet")
    assert "status=none" in none_yet["link"]
    listed = _evidence_ids(client_for(pub.users["analyst"]), none_yet["link"])
    assert listed == {statement.pk} and none_yet["count"] == 1
    # Statuses are read for the scope's recommendations only, in one query: a scope of the
    # other inspection reads none of this one's, whatever rows it is asked about.
    assert synthesis.recommendation_statuses(data, data.rows)[statement.pk] == ""
    narrow = synthesis.corpus(synthesis.Scope(inspections=(pub.other.pk,)))
    assert statement.pk not in {r.statement_id for r in narrow.rows}
    with CaptureQueriesContext(connection) as queries:
        statuses = synthesis.recommendation_statuses(narrow, data.rows)
    assert len(queries) == 1 and statement.pk not in statuses
    assert set(statuses) == {
        r.statement_id for r in narrow.rows if r.kind == "recommendation"
    } & set(Statement.objects.filter(finding__isnull=False).values_list("pk", flat=True))


def test_a_split_themes_placeholders_are_not_counted_until_a_person_codes(coded):
    from apps.themes import codebook_revise

    pub, made = coded
    before = {
        c["key"]: c["count"]
        for c in synthesis.analysis_context(synthesis.corpus(synthesis.Scope()))["overall"]
    }
    codebook_revise.theme_split(
        actor=pub.users["analyst"],
        based_on_number=1,
        key="workforce",
        parts=[
            codebook_revise.ThemePart(
                key="capacity", name="Capacity", covers="Enough staff.", examples=["Too few."]
            ),
            codebook_revise.ThemePart(
                key="training", name="Training", covers="Skills.", examples=["Untrained."]
            ),
        ],
    )
    after = {
        c["key"]: c["count"]
        for c in synthesis.analysis_context(synthesis.corpus(synthesis.Scope()))["overall"]
    }
    assert after["capacity"] == after["training"] == 0
    # Every other theme counts as before: a person's decisions on them stand.
    others = set(before) - {"workforce"}
    assert {k: after[k] for k in others} == {k: before[k] for k in others}
    assert before["partnership"] > 0
    # Those statements wait in the review queue for a person's choice: not "checked by a
    # person" until then, though their other themes, a person's, count.
    data = synthesis.corpus(synthesis.Scope())
    assert data.checked == len(made["all"]) - len(made["workforce"])
    assert not data.decided & set(made["workforce"])
    # A statement left with no theme (its suggestions withdrawn by a revision, not yet
    # suggested again) counts in no theme, and the pages say how many there are.
    assert (
        synthesis.analysis_context(synthesis.corpus(synthesis.Scope()))["summary"]["themeless"] == 0
    )
    bare = Statement.objects.order_by("pk").first()
    ThemeCode.objects.filter(statement=bare).update(
        status="withdrawn", set_by=None, confidence=None
    )
    context = synthesis.analysis_context(synthesis.corpus(synthesis.Scope()))
    assert context["summary"]["themeless"] == 1
    page = client_for(pub.users["analyst"]).get(reverse("themes:analysis")).content.decode()
    assert (
        "1 statement in this scope has no theme yet. It counts in the totals every share is "
        "of, but under no theme, so the share of a theme it will be coded to is too low"
    ) in unescape(page)


def test_a_quoted_finding_links_to_its_place_in_the_published_report(drafted):
    """A statement from a finding is read where it is published: the report's page at the
    finding, or at a recommendation's number. Every such anchor is in the frozen page."""
    from apps.findings.models import Kind
    from apps.reports import services as reports_services
    from apps.reports.models import Publication
    from tests.reports.conftest import TODAY
    from tests.reports.test_services import _sign_off_and_check

    drafted.to_quality_assurance()
    _sign_off_and_check(drafted)
    reports_services.report_publish(actor=drafted.users["manager"], report=drafted.report, on=TODAY)
    publication = Publication.objects.get(report=drafted.report, is_current=True)
    services.statements_sync()
    statements = list(Statement.objects.filter(inspection=drafted.inspection))
    kinds = {s.kind for s in statements}
    assert {Kind.CAUSE_OF_CONCERN, Kind.RECOMMENDATION, Kind.STRENGTH} <= kinds
    sources = synthesis.source_links(statements)
    page = reverse("portal:report", args=[publication.slug])
    for statement in statements:
        link = sources[statement.pk]
        path, _, anchor = link.partition("#")
        assert path == page
        expected = (
            f"recommendation-{statement.finding.number}"
            if statement.kind == Kind.RECOMMENDATION
            else f"finding-{statement.finding_id}"
        )
        assert anchor == expected
        assert f'id="{anchor}"' in publication.body_html
        # The statement's own page links there too.
        page_html = client_for(drafted.users["analyst"]).get(
            reverse("themes:statement", args=[statement.pk])
        )
        assert f'href="{link}"' in page_html.content.decode()


def test_the_statements_and_figures_download_as_csv_and_xlsx(coded):
    import csv

    from openpyxl import load_workbook

    pub, made = coded
    analyst = client_for(pub.users["analyst"])
    page = analyst.get(
        reverse("themes:evidence"), {"from": 2021, "to": 2024, "theme": "online_abuse"}
    )
    link = unescape(
        re.search(r'download href="([^"]+statements\.csv[^"]*)"', page.content.decode())[1]
    )
    response = analyst.get(link)
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="theme-statements.csv"'
    table = list(csv.reader(io.StringIO(response.content.decode())))
    header, rows = table[0], table[1:]
    assert header[:2] == ["Statement", "Text"] and "Checked by a person" in header
    # All 60 statements of the figure, not the page's 50.
    assert {int(r[0]) for r in rows} == set(made["online_abuse"]) and len(rows) == 60
    column = {name: n for n, name in enumerate(header)}
    first = Statement.objects.get(pk=int(rows[0][0]))
    assert rows[0][column["Text"]] == first.text
    assert rows[0][column["Report"]] == first.report_title
    assert {r[column["Themes"]] for r in rows} == {"Online child sexual abuse and exploitation"}
    assert {r[column["Checked by a person"]] for r in rows} == {"yes"}
    assert rows[0][column["Read it in its report"]].startswith(
        f"http://testserver/themes/archive/{first.archive_report_id}/#p"
    )
    assert rows[0][column["Code it"]] == f"http://testserver/themes/statements/{first.pk}/"
    assert AuditEvent.objects.filter(action="export", object_type="themes.statement").count() == 1
    xlsx = analyst.get(link.replace("statements.csv", "statements.xlsx"))
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet.max_row == 61
    # The figures: each theme over the scope and by year.
    figures = analyst.get(reverse("themes:analysis-export", args=["csv"]), {"by": "year"})
    table = list(csv.reader(io.StringIO(figures.content.decode())))
    assert table[0][:2] == ["Theme", "Year"]
    by = {(r[0].split()[0], r[1]): r for r in table[1:]}  # "Online child sexual abuse ..."
    themes = services.current_codebook().themes.count()
    assert len(table) - 1 == themes * (1 + 4)  # all years, and each of 2021 to 2024
    assert by[("Online", "All")][2:4] == ["60", "120"]
    assert by[("Online", "2024")][2:4] == ["24", "30"]
    assert by[("Online", "2024")][4] == "0.8"
    # The interval's design effect (statements of one report being alike), from 1 up.
    assert table[0][5:8] == ["95% interval, low", "95% interval, high", "Design effect"]
    assert all(float(r[7]) >= 1 for r in table[1:])
    # Each row says what it counts and when, to be read on its own.
    assert table[0][-3:] == ["Scope", "Codebook version", "Figures as of"]
    number = str(services.current_codebook().number)
    assert {(r[-3], r[-2]) for r in table[1:]} == {("all years; every programme type", number)}
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", table[1][-1])
    assert AuditEvent.objects.filter(action="export", object_type="themes.analysis").count() == 1
    # A text that a spreadsheet would read as a formula is written as text.
    Statement.objects.filter(pk=first.pk).update(text='=HYPERLINK("http://x.example")')
    table = list(csv.reader(io.StringIO(analyst.get(link).content.decode())))
    assert [r[1] for r in table if r[0] == str(first.pk)] == ['\'=HYPERLINK("http://x.example")']
    # Refused, nothing recorded: another format, a figure or a scope that cannot be read,
    # or a HEAD request (nothing is downloaded).
    events = AuditEvent.objects.count()
    assert analyst.head(link).status_code == 405
    assert analyst.head(reverse("themes:analysis-export", args=["csv"])).status_code == 405
    assert analyst.get(reverse("themes:evidence-export", args=["pdf"])).status_code == 404
    assert analyst.get(reverse("themes:analysis-export", args=["txt"])).status_code == 404
    bad = analyst.get(reverse("themes:evidence-export", args=["csv"]), {"theme": "nonsense"})
    assert bad.status_code == 400 and "theme:" in bad.content.decode()
    bad = analyst.get(reverse("themes:analysis-export", args=["csv"]), {"from": "soon"})
    assert bad.status_code == 400
    assert AuditEvent.objects.count() == events


def test_a_joint_letters_statements_about_another_agency_can_be_left_out(coded):
    """The analysis, its evidence and a thematic report, over every agency or only the
    police's statements and those about agencies working together."""
    pub, made = coded
    person = pub.users["analyst"]
    analyst = client_for(person)
    # One report of 2024 becomes a joint inspection's letter: of its ten statements, two are
    # about health, one about children's social care, two about agencies working together.
    letter = Statement.objects.get(pk=made["all"][-1]).archive_report
    ArchiveReport.objects.filter(pk=letter.pk).update(programme_type="jtai")
    ids = list(letter.statements.order_by("pk").values_list("pk", flat=True))
    Statement.objects.filter(pk__in=ids).update(programme_type="jtai")
    agencies = ["health", "health", "social_care", "multi_agency", "multi_agency"]
    for pk, agency in zip(ids[: len(agencies)], agencies, strict=True):
        Statement.objects.filter(pk=pk).update(agency=agency)
    other = {ids[0], ids[1], ids[2]}

    every = synthesis.corpus(synthesis.Scope(2021, 2024))
    police = synthesis.corpus(synthesis.Scope(2021, 2024, police_only=True))
    assert {r.statement_id for r in every.rows} - {r.statement_id for r in police.rows} == other
    assert len(police.rows) == len(every.rows) - 3

    page = analyst.get(reverse("themes:analysis"), {"from": 2021, "to": 2024, "about": "police"})
    html = page.content.decode()
    assert page.status_code == 200 and "about the police and agencies working together" in html
    assert 'value="police" checked' in html  # the box stays ticked
    link = unescape(re.search(r'href="(/themes/analysis/evidence/\?[^"]*)"', html)[1])
    assert "about=police" in link
    assert _evidence_ids(analyst, link) == set(made["all"]) - other
    assert analyst.get(reverse("themes:analysis"), {"about": "health"}).status_code == 400

    # The download says whom each statement is about.
    download = analyst.get(
        reverse("themes:evidence-export", args=["csv"]), {"from": 2021, "to": 2024}
    )
    table = list(csv.reader(io.StringIO(download.content.decode())))
    about = {int(r[0]): r[table[0].index("About")] for r in table[1:]}
    assert about[ids[0]] == "Health services" and about[ids[3]] == "Agencies working together"
    assert about[made["all"][0]] == "The police"

    # A thematic report chooses it; its page says so and counts accordingly.
    form = analyst.post(
        reverse("themes:report-new"),
        {"title": "Police only", "year_from": 2021, "year_to": 2024, "police_only": "on"},
    )
    report = ThematicReport.objects.get(title="Police only")
    assert form.status_code == 302 and report.police_only
    body = analyst.get(reverse("themes:report", args=[report.pk])).content.decode()
    assert f"{len(police.rows)} statements" in body
    assert "counts only those about the police" in body
    edit = analyst.get(reverse("themes:report-edit", args=[report.pk])).content.decode()
    assert re.search(r'name="police_only"[^>]*checked', edit)


def test_the_figures_say_when_and_from_which_coding_they_were_made(coded):
    """A printed copy shows which state of the coding it counts: the time, the codebook's
    version and the classifier versions whose suggestions count, with how far to trust
    them."""
    pub, made = coded
    analyst = client_for(pub.users["analyst"])
    page = analyst.get(reverse("themes:analysis"), {"from": 2021, "to": 2024}).content.decode()
    number = services.current_codebook().number
    assert f"with codebook version {number}." in page  # every statement coded by a person
    assert "classifier version" not in page
    row = stand_in_classifier()
    ThemeCode.objects.filter(statement_id=made["all"][0]).update(
        set_by=None, status="suggested", classifier=row, confidence=0.6
    )
    data_changed("themes")  # as the services do
    page = analyst.get(reverse("themes:analysis"), {"from": 2021, "to": 2024}).content.decode()
    assert f"with codebook version {number} and the suggestions of classifier version test" in (
        page
    )
    assert f"macro F1 of about {synthesis.HELD_OUT_MACRO_F1:.2f}" in page
    assert re.search(r"Figures as of \d{1,2} \w+ \d{4}, \d\d:\d\d", page)


def test_each_theme_says_how_many_of_the_reports_raise_it(coded):
    """As a national thematic says it: a theme raised in so many of the reports, however
    many times each raises it."""
    pub, made = coded
    # Supervision: raised by one statement of one report.
    person = pub.users["analyst"]
    one = Statement.objects.get(pk=made["workforce"][0])
    services.codes_decide(
        actor=person,
        statement=one,
        themes=["workforce", "supervision"],
        seen_version=services.codes_version(one),
    )
    page = client_for(person).get(reverse("themes:analysis"), {"from": 2021, "to": 2024})
    overall = {c["key"]: c for c in page.context["overall"]}
    assert overall["supervision"]["reports"] == 1
    assert overall["supervision"]["reports_share"] == pytest.approx(1 / 12)
    assert page.context["summary"]["reports"] == 12
    # Online abuse: in every report of 2021 to 2024; workforce likewise (the rest of each).
    assert overall["online_abuse"]["reports"] == 12
    assert overall["online_abuse"]["reports_share"] == 1.0
    html = page.content.decode()
    assert "Reports raising it, of 12" in html and "(100%)" in html and "(8%)" in html


def test_a_theme_no_statement_is_coded_to_is_not_tested_for_a_trend(coded):
    pub, _ = coded
    page = client_for(pub.users["analyst"]).get(
        reverse("themes:analysis"), {"from": 2021, "to": 2024}
    )
    trends = {t["key"]: t for t in page.context["trends"]}
    assert trends["custody_detention"]["p"] is None  # nothing coded to it
    row = re.search(
        r"<th[^>]*>Children in police custody[^<]*</th>\s*<td[^>]*>([^<]*)</td>",
        page.content.decode().split('id="trends"', 1)[1],
    )
    assert row is not None and row[1] == "Not tested (no statement is coded to it, or every one is)"


def test_the_analysis_by_stage_reads_a_methodologys_codes_as_the_imports_words(coded):
    """A finding's stage is a methodology's code ("trusted_adult"), an imported statement's
    is in words ("Trusted adults"): by stage, they are one group, in the journey's order."""
    pub, made = coded
    words, codes = made["online_abuse"][:3], made["online_abuse"][3:5]
    Statement.objects.filter(pk__in=words).update(stage="Trusted adults")
    Statement.objects.filter(pk__in=codes).update(stage="trusted_adult")
    Statement.objects.filter(pk=made["workforce"][0]).update(stage="initial_contact")
    analyst = client_for(pub.users["analyst"])
    page = analyst.get(reverse("themes:analysis"), {"from": 2021, "to": 2024, "by": "stage"})
    assert page.status_code == 200
    by = page.context["by_facet"]
    assert by["label"] == "Stage or topic"
    assert [g["value"] for g in by["groups"]] == ["Initial contact", "Trusted adults", "Not known"]
    trusted = next(g for g in by["groups"] if g["value"] == "Trusted adults")
    assert trusted["count"] == 5
    assert _evidence_ids(analyst, trusted["link"]) == set(words) | set(codes)
    online = Theme.objects.get(codebook=services.current_codebook(), key="online_abuse")
    row = next(r for r in by["rows"] if r["name"] == online.name)
    assert [c["count"] for c in row["cells"][:2]] == [0, 5]
    assert "Stage or topic" in page.content.decode()
    # The figures download says the groups the same way.
    download = analyst.get(
        reverse("themes:analysis-export", args=["csv"]), {"from": 2021, "to": 2024, "by": "stage"}
    )
    table = list(csv.reader(io.StringIO(download.content.decode())))
    assert table[0][1] == "Stage or topic"
    assert {r[1] for r in table[1:]} >= {"Initial contact", "Trusted adults", "Not known"}


def test_the_analysis_keeps_the_reports_a_link_chose_and_says_so(coded):
    pub, made = coded
    analyst = client_for(pub.users["analyst"])
    chosen = Statement.objects.get(pk=made["all"][0]).archive_report_id
    page = analyst.get(reverse("themes:analysis"), {"from": 2021, "archive": chosen, "by": "kind"})
    body = unescape(page.content.decode())
    assert "Only the 1 report chosen by the link you followed is analysed" in body
    # Changing the years keeps the choice: it goes with the form.
    assert f'<input type="hidden" name="archive" value="{chosen}">' in body
    every = page.context["every_report"]
    assert "archive=" not in every and "from=2021" in every and "by=kind" in every
    assert "Only the" not in analyst.get(every).content.decode()
