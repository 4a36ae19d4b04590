"""The published PDF (title page, contents list with page numbers, numbered pages), and the
audit trail of the pages that show draft text or what the disclosure check found."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from django.urls import reverse
from pdfminer.high_level import extract_text

from apps.core.models import AuditEvent
from apps.reference.models import Force
from apps.reports import services
from apps.reports.models import DisclosureHit, Publication, SectionKind, SectionRevision

from .conftest import TODAY, Drafted
from .test_permissions import _url, world  # noqa: F401
from .test_services import _sign_off_and_check
from .test_welsh import _publish_english, _translate_and_sign_off

pytestmark = pytest.mark.django_db


# Audit of views -----------------------------------------------------------------------------


def _views(**filters: Any) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=AuditEvent.Action.VIEW, **filters))


def _revision(w: dict[str, Any]) -> SectionRevision:
    return SectionRevision.objects.get(section_id=w["section"], number=1)


# (URL name, its arguments, who looks, what the event is about, its summary)
VIEWED = {
    "section": (
        "reports:section",
        ("pk", "en", "section"),
        "analyst",
        lambda w: ("reports.reportsection", w["section"]),
        "Draft report section",
    ),
    "revision": (
        "reports:revision",
        ("pk", "en", "section", 1),
        "analyst",
        lambda w: ("reports.sectionrevision", _revision(w).pk),
        "Revision of a draft report section",
    ),
    "preview": (
        "reports:preview",
        ("pk", "en"),
        "manager",
        lambda w: ("reports.report", w["drafted"].report.pk),
        "Preview of the draft report",
    ),
    "disclosure": (
        "reports:disclosure",
        ("pk", "en"),
        "admin",
        lambda w: ("reports.report", w["drafted"].report.pk),
        "Disclosure check hits",
    ),
    "dismiss": (
        "reports:hit-dismiss",
        ("pk", "en", "hit"),
        "second",
        lambda w: ("reports.disclosurehit", w["hit"]),
        "Disclosure check hit",
    ),
}


@pytest.mark.parametrize("page", VIEWED, ids=list(VIEWED))
def test_each_page_of_draft_text_or_hits_records_the_view(client, world, page):  # noqa: F811
    name, args, who, about, summary = VIEWED[page]
    drafted = world["drafted"]
    user = drafted.users[who]
    object_type, object_id = about(world)
    before = {e.pk for e in _views()}
    client.force_login(user)
    response = client.get(_url(world, name, *args))
    assert response.status_code == 200
    new = [e for e in _views() if e.pk not in before]
    assert len(new) == 1, [(e.object_type, e.summary) for e in new]
    event = new[0]
    assert (event.object_type, event.object_id) == (object_type, str(object_id))
    assert (event.actor_id, event.actor_label) == (user.pk, user.username)
    assert event.summary == summary
    assert event.request_id and event.request_id == response["X-Request-ID"]
    # Each look is a separate event.
    client.get(_url(world, name, *args))
    assert (
        len(_views(object_type=object_type, object_id=str(object_id), actor=user, summary=summary))
        == 2
    )


@pytest.mark.parametrize("page", VIEWED, ids=list(VIEWED))
@pytest.mark.parametrize("who", ["anonymous", "liaison", "outsider", "other_liaison"])
def test_a_refused_request_records_no_view(client, world, page, who):  # noqa: F811
    name, args, *_ = VIEWED[page]
    drafted = world["drafted"]
    if who != "anonymous":
        client.force_login(drafted.users[who])
    before = AuditEvent.objects.filter(action="view").count()
    response = client.get(_url(world, name, *args))
    assert (
        response.status_code
        == {
            "anonymous": 302,
            "liaison": 403,
            "outsider": 404,
            "other_liaison": 404,
        }[who]
    )
    assert AuditEvent.objects.filter(action="view").count() == before


def test_the_dismiss_page_shown_again_with_an_error_records_the_view(client, world):  # noqa: F811
    drafted = world["drafted"]
    client.force_login(drafted.users["inspector"])
    response = client.post(_url(world, "reports:hit-dismiss", "pk", "en", "hit"), {"reason": ""})
    assert response.status_code == 200
    assert "Say why this cannot identify a child or anyone else." in response.content.decode()
    assert len(_views(object_type="reports.disclosurehit", object_id=str(world["hit"]))) == 1
    assert DisclosureHit.objects.get(pk=world["hit"]).status == "open"


def test_a_disclosure_page_with_nothing_found_shows_nothing_to_record(client, drafted):
    """Before the check has run there are no hits: the page shows no found text, and (as the
    view is written) records no view of one."""
    client.force_login(drafted.users["analyst"])
    response = client.get(reverse("reports:disclosure", args=[drafted.inspection.pk, "en"]))
    assert response.status_code == 200
    assert not _views(summary="Disclosure check hits")


# The PDF ------------------------------------------------------------------------------------


@pytest.fixture
def published(drafted: Drafted) -> Publication:
    drafted.write(SectionKind.FOREWORD, "This is our second inspection of Northshire Police.")
    drafted.to_quality_assurance()
    _sign_off_and_check(drafted)
    return services.report_publish(actor=drafted.users["manager"], report=drafted.report, on=TODAY)


def _pages(publication: Publication) -> list[str]:
    data = io.BytesIO(bytes(publication.pdf))
    return [
        extract_text(data, page_numbers=[number]) for number in range(publication.pdf_pages or 0)
    ]


def _first_line(text: str) -> str:
    return next(line.strip() for line in text.splitlines() if line.strip())


def _contents_pages(contents_text: str, titles: list[str]) -> dict[str, int]:
    """Each title of the contents list and the page number its leader dots lead to."""
    found, position = {}, 0
    for title in titles:
        start = contents_text.index(title, position)
        match = re.compile(r"\s*\.{3,}\s*(\d+)").match(contents_text, start + len(title))
        assert match is not None, (title, contents_text[start : start + 200])
        found[title] = int(match.group(1))
        position = match.end()
    return found


def test_the_pdf_lists_its_sections_with_the_page_each_starts_on(published):
    pages = _pages(published)
    assert len(pages) == published.pdf_pages >= 5
    titles = [c["title"] for c in published.contents]
    sections = published.report.sections.order_by("order").values_list("title", flat=True)
    assert titles == list(sections)
    contents = pages[1]
    assert _first_line(contents) == "Contents"
    starts = _contents_pages(contents, titles)
    assert list(starts.values()) == sorted(starts.values())  # in reading order
    for title, page in starts.items():
        assert 3 <= page <= len(pages)
        # The section's heading heads the page the contents list gives (each section starts
        # a page).
        assert _first_line(pages[page - 1]) == title, (title, page)


def test_every_page_but_the_title_page_has_its_number_and_the_reference(published):
    pages = _pages(published)
    total = len(pages)
    reference = published.inspection.reference
    title_page = pages[0]
    assert "Page 1" not in title_page and "of " + str(total) not in title_page
    assert published.title in title_page
    assert "Published 26 November 2026" in title_page
    for number, text in enumerate(pages[1:], start=2):
        assert f"Page {number} of {total}" in text, number
        assert reference in text, number
        assert text.count("Page ") == 1, number


def test_the_pdf_carries_the_report_text_and_findings(published, drafted):
    text = " ".join(_pages(published))
    text = re.sub(r"\s+", " ", text)
    assert "This is our second inspection of Northshire Police." in text
    assert "but too many children still wait too long for help." in text
    assert drafted.cause.headline in text
    assert "Make sure officers record the voice of the child at every incident." in text
    assert "If a child is in immediate danger, call 999." in text


def test_the_portal_serves_the_stored_pdf(client, published):
    response = client.get(reverse("portal:report-pdf", args=[published.slug]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content == bytes(published.pdf)
    assert response["Content-Disposition"] == f'inline; filename="{published.slug}-v1.pdf"'
    versioned = client.get(reverse("portal:report-version-pdf", args=[published.slug, 1]))
    assert versioned.content == bytes(published.pdf)
    assert client.get(
        reverse("portal:report-version-pdf", args=[published.slug, 2])
    ).status_code == (404)


def test_the_welsh_pdf_numbers_its_pages_and_contents_in_welsh(drafted):
    Force.objects.filter(slug="northshire").update(country="wales")
    welsh = services.welsh_report_start(
        actor=drafted.users["inspector"], inspection=drafted.inspection
    )
    _publish_english(drafted)
    _translate_and_sign_off(drafted, welsh)
    publication = services.report_publish(actor=drafted.users["manager"], report=welsh, on=TODAY)
    pages = _pages(publication)
    total = len(pages)
    assert _first_line(pages[1]) == "Cynnwys"
    titles = [c["title"] for c in publication.contents]
    assert "Crynodeb" in titles
    for title, page in _contents_pages(pages[1], titles).items():
        assert _first_line(pages[page - 1]) == title
    for number, text in enumerate(pages[1:], start=2):
        assert f"Tudalen {number} o {total}" in text, number
        assert "Page " not in text
    assert "Os yw plentyn mewn perygl uniongyrchol, ffoniwch 999." in pages[0]
