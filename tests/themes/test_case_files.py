"""The thematic report's case files: the grades of its inspections' audited cases, as their
published reports give them, each linked to its report, with withheld counts kept withheld."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pdfminer.high_level import extract_text

from apps.accounts.models import Role
from apps.core.audit import SystemActor
from apps.inspections.models import Inspection, State
from apps.portal.selectors import report_url
from apps.themes import services, synthesis
from tests.factories import UserFactory
from tests.portal.conftest import GRADES, Publisher, publisher  # noqa: F401
from tests.themes.test_synthesis import _check_numbered, _numbered_links, _pdf_links

SYSTEM = SystemActor("tests")
ALL_PUBLISHED = {
    "scale": ["good", "requires improvement", "inadequate"],
    "counts": {"good": 12, "requires improvement": 30, "inadequate": 8},
    "total": 50,
    "comparable": {"good": 12, "requires_improvement": 30, "inadequate": 8},
}


def _published(publisher: Publisher, grades, on: dt.date, n: int):  # noqa: F811
    made = publisher.publish(
        grades=grades,
        published_on=on,
        recommendations=[f"Make sure that supervisors review every referral, number {n}."],
    )
    Inspection.objects.filter(pk=made.inspection.pk).update(
        state=State.PUBLISHED, state_changed_on=on
    )
    return made


@pytest.fixture
def four(publisher):  # noqa: F811
    """Four published inspections: every count published; one withheld (the portal's
    GRADES); graded on a scale with no common bands; and no case grades at all."""
    other_scale = {**ALL_PUBLISHED, "comparable": None, "total": 17}
    made = [
        _published(publisher, grades, dt.date(2024, 3, n), n)
        for n, grades in enumerate((ALL_PUBLISHED, GRADES, other_scale, None), start=1)
    ]
    services.codebook_load(actor=SYSTEM)
    services.statements_sync()
    return made


def test_the_case_files_are_the_published_counts_and_totals_leave_out_a_withheld_one(four):
    full, withheld, other, ungraded = four
    files = synthesis.case_files(synthesis.corpus(synthesis.Scope()))
    assert files is not None
    assert [r["reference"] for r in files["rows"]] == [
        full.inspection.reference,
        withheld.inspection.reference,
    ]
    first, second = files["rows"]
    assert [c["count"] for c in first["counts"]] == [12, 30, 8]
    assert first["complete"] and first["cases"] == 50
    assert first["link"] == report_url(full.slug)
    # The portal's GRADES withhold "inadequate": kept withheld, and out of the totals; and
    # with one count withheld, the number of cases graded (55) would give it away (4).
    assert [c["count"] for c in second["counts"]] == [20, 31, None]
    assert not second["complete"] and second["cases"] is None
    assert [t["count"] for t in files["totals"]] == [12, 30, 8]
    assert files["cases"] == 50 and files["inspections"] == 1 and files["withheld"] == 1
    assert [round(t["share"], 2) for t in files["totals"]] == [0.24, 0.6, 0.16]
    assert [r["reference"] for r in files["other_scale"]] == [other.inspection.reference]
    assert files["graded"] == 3
    assert ungraded.inspection.reference not in str(files)


def test_the_case_files_follow_the_scope(four):
    _, withheld, *_ = four
    only = synthesis.Scope(inspections=(withheld.inspection.pk,))
    files = synthesis.case_files(synthesis.corpus(only))
    assert files is not None
    assert [r["reference"] for r in files["rows"]] == [withheld.inspection.reference]
    assert files["cases"] == 0 and files["chart"] == ""  # nothing complete to total
    assert synthesis.case_files(synthesis.corpus(synthesis.Scope(year_from=2025))) is None


def test_the_case_files_are_one_query_whatever_the_number_of_inspections(publisher):  # noqa: F811
    def queries() -> int:
        data = synthesis.corpus(synthesis.Scope())
        with CaptureQueriesContext(connection) as ctx:
            assert synthesis.case_files(data) is not None
        return len(ctx.captured_queries)

    services.codebook_load(actor=SYSTEM)
    _published(publisher, ALL_PUBLISHED, dt.date(2024, 3, 1), 1)
    services.statements_sync()
    one = queries()
    for n in range(2, 6):
        _published(publisher, ALL_PUBLISHED, dt.date(2024, 3, n), n)
    services.statements_sync()
    assert queries() == one == 1


def test_the_thematic_report_shows_the_case_files_and_links_each_report(four):
    full, withheld, other, _ = four
    analyst = UserFactory(role=Role.ANALYST)
    report = services.thematic_report_save(
        actor=analyst, report=None, title="Referrals", year_from=2023, year_to=2024
    )
    client = Client()
    client.force_login(analyst)
    body = client.get(reverse("themes:report", args=[report.pk])).content.decode()
    section = body.split('id="case-files"')[1].split("</section>")[0]
    assert "50 cases were graded: 24% good or better, 60% requires improvement or adequate and" in (
        " ".join(section.split())
    )
    assert "1 inspection withholds a count" in " ".join(section.split())
    for made in (full, withheld, other):
        title = made.current.title
        assert f'href="{report_url(made.slug)}"><span>{title}</span></a>' in section
    assert section.count("withheld</td>") == 2  # the count, and the cases graded
    assert ">55<" not in section
    # The summary says what kinds of report it draws on, each number linked to its reports.
    by_type = body.split('id="reports-by-type"')[1].split("</table>")[0]
    assert "National child protection inspection" in by_type
    numbered = _numbered_links(by_type)
    assert [n for _, n in numbered] == [4]  # the four, graded or not
    _check_numbered(client, numbered)
    # The PDF: the section in its contents and its text, its links to the reports absolute.
    pdf = client.get(reverse("themes:report-pdf", args=[report.pk]))
    assert pdf.status_code == 200
    text = " ".join(extract_text(io.BytesIO(pdf.content)).split())
    assert text.count("Case files") >= 2  # the contents, and the section's heading
    assert "50 cases were graded: 24% good or better" in text
    links = set(_pdf_links(pdf.content))
    for made in (full, withheld, other):
        assert f"http://testserver{report_url(made.slug)}" in links


def test_a_welsh_report_is_marked_as_welsh_and_an_inspection_counts_once(publisher):  # noqa: F811
    services.codebook_load(actor=SYSTEM)
    welsh = publisher.publish(
        grades=ALL_PUBLISHED,
        published_on=dt.date(2024, 3, 1),
        language="cy",
        title="Arolygiad amddiffyn plant",
        recommendations=["Sicrhau bod goruchwylwyr yn adolygu pob atgyfeiriad."],
    )
    both = _published(publisher, ALL_PUBLISHED, dt.date(2024, 3, 2), 2)
    # Its Welsh report at another address (its forces changed between the two).
    publisher.publish(
        inspection=both.inspection,
        grades=ALL_PUBLISHED,
        published_on=dt.date(2024, 3, 9),
        language="cy",
        slug="another-address",
        title="Adroddiad",
    )
    Inspection.objects.filter(pk=welsh.inspection.pk).update(state=State.PUBLISHED)
    services.statements_sync()
    files = synthesis.case_files(synthesis.corpus(synthesis.Scope()))
    assert files is not None
    assert [(r["reference"], r["language"]) for r in files["rows"]] == [
        (welsh.inspection.reference, "cy"),
        (both.inspection.reference, "en"),
    ]
    assert files["cases"] == 100 and files["inspections"] == 2
    html = render_to_string("themes/_case_files.html", {"case_files": files, "base": ""})
    assert (
        f'href="{report_url(welsh.slug, "cy")}" hreflang="cy"><span lang="cy">'
        "Arolygiad amddiffyn plant</span> (in Welsh)</a>"
    ) in html
    assert "Adroddiad" not in html


def test_a_row_of_published_counts_that_add_up_to_nothing_is_on_another_scale(publisher):  # noqa: F811
    """Counts on the common scale that are all 0 while cases were graded mean the grades did
    not map to the common bands: listed apart, not counted as an inspection of 0 cases."""
    services.codebook_load(actor=SYSTEM)
    unmapped = {**ALL_PUBLISHED, "comparable": dict.fromkeys(ALL_PUBLISHED["comparable"], 0)}
    made = _published(publisher, unmapped, dt.date(2024, 3, 1), 1)
    services.statements_sync()
    files = synthesis.case_files(synthesis.corpus(synthesis.Scope()))
    assert files is not None
    assert files["rows"] == [] and files["inspections"] == 0
    assert [r["reference"] for r in files["other_scale"]] == [made.inspection.reference]
