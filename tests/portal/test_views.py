"""The public portal's pages: what they show, that they cache safely, and that each makes a
fixed number of queries whatever the number of publications."""

from __future__ import annotations

import datetime as dt
import html
import re
import xml.etree.ElementTree as ET

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.core.cache import data_changed
from apps.findings.models import RecommendationStatusChange
from apps.reports.models import Publication
from tests.factories import ForceFactory, LocalAuthorityFactory

from .conftest import Publisher

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"


def get(client: Client, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    return html.unescape(response.content.decode())


def queries_for(client: Client, url: str) -> int:
    cache.clear()  # the uncached path, where an N+1 would show
    with CaptureQueriesContext(connection) as context:
        assert client.get(url).status_code == 200
    return len(context.captured_queries)


# The report list ---------------------------------------------------------------------------


def test_report_list_shows_current_reports_newest_first(client, publisher: Publisher) -> None:
    older = publisher.publish(title="Older report", published_on=dt.date(2024, 3, 1))
    newer = publisher.publish(title="Newer report", published_on=dt.date(2025, 9, 1))
    publisher.republish(older, change_note="Fixed a typo")
    page = get(client, reverse("portal:report-list"))
    assert page.index("Newer report") < page.index("Older report")
    assert page.count('data-report="') == 2
    assert "(updated: version 2)" in page
    assert '<link rel="alternate" type="application/atom+xml"' in page
    assert 'href="/reports/feed.atom"' in page
    assert "2 reports" in page
    assert f'href="/reports/{newer.slug}/"' in page
    assert "If a child is in danger" in page and "0800 1111" in page


def test_report_list_filters(client, publisher: Publisher) -> None:
    north = ForceFactory(slug="northshire", name="Northshire Police")
    south = ForceFactory(slug="southshire", name="Southshire Police")
    area = LocalAuthorityFactory(code="E06000099", name="Testborough", force=north)
    a = publisher.publish(forces=[north], published_on=dt.date(2024, 5, 1))
    b = publisher.publish(forces=[south], programme_type="jtai", areas=[area])
    url = reverse("portal:report-list")
    page = get(client, f"{url}?force=northshire")
    assert f'data-report="{a.slug}"' in page and f'data-report="{b.slug}"' not in page
    page = get(client, f"{url}?programme_type=jtai")
    assert f'data-report="{b.slug}"' in page and f'data-report="{a.slug}"' not in page
    page = get(client, f"{url}?area=E06000099")
    assert f'data-report="{b.slug}"' in page and f'data-report="{a.slug}"' not in page
    page = get(client, f"{url}?year=2024")
    assert f'data-report="{a.slug}"' in page and f'data-report="{b.slug}"' not in page
    # Only values some report has are offered.
    assert '<option value="northshire">Northshire Police</option>' in page
    assert '<option value="2025">2025</option>' in page
    assert '<option value="ncpi_review"' not in page


def test_report_list_refuses_unknown_filters_with_a_clear_error(client, publisher) -> None:
    publisher.publish()
    page = get(client, reverse("portal:report-list") + "?force=atlantis&year=abc&page=x")
    assert "govuk-error-summary" in page
    assert "Choose a police force from the list" in page
    assert page.count('data-report="') == 1  # the bad filters are ignored


def test_report_list_pages(client, publisher: Publisher) -> None:
    force = ForceFactory()
    for n in range(23):
        publisher.publish(forces=[force], published_on=dt.date(2025, 1, 1) + dt.timedelta(n))
    url = reverse("portal:report-list")
    first = get(client, url)
    assert first.count('data-report="') == 20
    assert "23 reports, showing 1 to 20" in first
    assert 'rel="next"' in first
    second = get(client, f"{url}?page=2")
    assert second.count('data-report="') == 3
    assert get(client, f"{url}?page=99").count('data-report="') == 3  # the last page


def test_search_results_page(client, publisher: Publisher) -> None:
    found = publisher.publish(text="Officers missed signs of exploitation online.")
    publisher.publish(text="Nothing relevant here.")
    page = get(client, reverse("portal:report-list") + "?q=exploitation")
    assert "1 report matches \u2018exploitation\u2019" in page
    assert f'data-report="{found.slug}"' in page
    assert "<mark>exploitation</mark>" in page
    page = get(client, reverse("portal:report-list") + '?q="NEAR(AND*')
    assert "No reports match" in page


def test_report_list_is_cached_for_visitors_and_refreshed_on_publication(
    client, publisher: Publisher
) -> None:
    publisher.publish(title="First report")
    url = reverse("portal:report-list")
    get(client, url)
    with CaptureQueriesContext(connection) as context:
        page = get(client, url)
    assert len(context.captured_queries) == 0  # the whole page, from the cache
    assert "First report" in page
    publisher.publish(title="Second report")
    data_changed("publications")  # what the publish service does
    assert "Second report" in get(client, url)


# The report page ---------------------------------------------------------------------------


def test_report_page_shows_the_report(client, publisher: Publisher) -> None:
    force = ForceFactory(slug="northshire", name="Northshire Police")
    published = publisher.publish(
        forces=[force],
        title="An inspection of child protection in Northshire",
        recommendations=["Improve the response to missing children", "Train every officer"],
        statuses=[("being_progressed", dt.date(2025, 9, 1), "Action plan accepted")],
    )
    url = reverse("portal:report", args=[published.slug])
    assert url == f"/reports/{published.slug}/"
    page = get(client, url)
    assert (
        '<h1 class="govuk-heading-xl">An inspection of child protection in Northshire</h1>' in page
    )
    assert '<a class="govuk-link" href="/forces/northshire/">Northshire Police</a>' in page
    assert "National child protection inspection" in page
    assert "2 June 2025" in page  # published
    assert "1 of 1" in page  # version
    assert f'href="/reports/{published.slug}/v1/report.pdf"' in page
    assert '<a class="govuk-link" href="#summary">Summary</a>' in page  # contents
    assert 'id="summary-heading">Summary</h2>' in page  # the frozen body, as HTML
    assert "Recommendations and their progress" in page
    assert "Improve the response to missing children" in page
    assert 'Being progressed</strong> since <time datetime="2025-09-01">1 September 2025' in page
    assert "Awaiting response" in page and "Action plan accepted" in page  # the history
    assert "This version of the report has been replaced" not in page


def test_a_republished_report_keeps_every_version_at_its_address(
    client, publisher: Publisher
) -> None:
    published = publisher.publish(title="Versioned report", text="Original wording.")
    publisher.republish(published, change_note="Corrected the case grade table")
    slug = published.slug
    current = get(client, f"/reports/{slug}/")
    assert "2 of 2" in current
    assert "Corrected the case grade table" in current
    assert "This version of the report has been replaced" not in current
    assert f'href="/reports/{slug}/v1/"' in current
    old = get(client, f"/reports/{slug}/v1/")
    assert "This version of the report has been replaced" in old
    assert "You are reading version 1" in old
    assert f'href="/reports/{slug}/">Read the current version</a>' in old
    assert "Original wording." in old
    assert "Original wording." not in current
    same = get(client, f"/reports/{slug}/v2/")
    assert "has been replaced" not in same
    assert f'<link rel="canonical" href="/reports/{slug}/">' in same
    get(client, f"/reports/{slug}/v3/", status=404)


def test_welsh_version_and_language_switch(client, publisher: Publisher) -> None:
    english = publisher.publish(title="Child protection in Gwent")
    publisher.publish(
        inspection=english.inspection,
        slug=english.slug,
        language="cy",
        title="Amddiffyn plant yng Ngwent",
        forces=list(english.current.forces.all()),
    )
    page = get(client, f"/reports/{english.slug}/")
    assert f'href="/reports/{english.slug}/cy/" hreflang="cy" lang="cy">Cymraeg</a>' in page
    welsh = get(client, f"/reports/{english.slug}/cy/")
    assert '<h1 class="govuk-heading-xl" lang="cy">Amddiffyn plant yng Ngwent</h1>' in welsh
    assert f'href="/reports/{english.slug}/" hreflang="en" lang="en">English</a>' in welsh
    assert '<div class="app-report-body" lang="cy">' in welsh
    assert f'href="/reports/{english.slug}/cy/v1/report.pdf"' in welsh
    get(client, f"/reports/{english.slug}/cy/v1/")


def test_unknown_reports_are_not_found(client, publisher: Publisher) -> None:
    published = publisher.publish()
    get(client, "/reports/no-such-report/", status=404)
    get(client, f"/reports/{published.slug}/cy/", status=404)
    get(client, "/reports/no-such-report/v1/", status=404)
    get(client, "/reports/no-such-report/report.pdf", status=404)


def test_related_reports_most_relevant_first(client, publisher: Publisher) -> None:
    force = ForceFactory(name="Northshire Police", slug="northshire")
    other = ForceFactory(name="Southshire Police", slug="southshire")
    first = publisher.publish(
        forces=[force], title="The first NCPI", published_on=dt.date(2023, 1, 9)
    )
    review = publisher.publish(
        forces=[force],
        title="The review",
        programme_type="ncpi_review",
        follows=first.inspection,
        published_on=dt.date(2024, 4, 1),
    )
    same_force = publisher.publish(
        forces=[force], title="A JTAI in Northshire", programme_type="jtai"
    )
    same_year = publisher.publish(
        forces=[other], title="Southshire NCPI", published_on=dt.date(2023, 6, 1)
    )
    unrelated = publisher.publish(
        forces=[other],
        title="Unrelated",
        programme_type="thematic",
        published_on=dt.date(2020, 1, 1),
    )
    page = get(client, f"/reports/{first.slug}/")
    related = re.findall(r'data-related="([^"]+)"', page)
    assert related == [review.slug, same_force.slug, same_year.slug]
    assert unrelated.slug not in related
    assert "A follow-up of this inspection" in page
    review_page = get(client, f"/reports/{review.slug}/")
    assert re.findall(r'data-related="([^"]+)"', review_page)[0] == first.slug
    assert "Follows up" in review_page and "The first NCPI" in review_page


def test_report_page_is_cached_whole_for_visitors(client, publisher: Publisher, staff) -> None:
    published = publisher.publish(recommendations=["Do better"])
    url = f"/reports/{published.slug}/"
    get(client, url)
    with CaptureQueriesContext(connection) as context:
        get(client, url)
    assert len(context.captured_queries) == 0
    # A new status is shown once the findings data version moves (as follow-up's service does).
    RecommendationStatusChange.objects.create(
        recommendation=published.recommendations[0],
        status="achieved",
        on=dt.date(2026, 1, 5),
        by_label="tests",
    )
    data_changed("findings")
    assert "Achieved" in get(client, url)
    # Signed-in people get the cached body inside their own page (their navigation).
    client.force_login(staff["programme_manager"])
    page = get(client, url)
    assert "Sign out" in page and "Achieved" in page


def test_report_page_without_recommendations_or_grades(client, publisher: Publisher) -> None:
    published = publisher.publish(grades=None)
    page = get(client, f"/reports/{published.slug}/")
    assert "This report made no recommendations." in page


# Feed --------------------------------------------------------------------------------------


def test_atom_feed_lists_newest_first(client, publisher: Publisher) -> None:
    older = publisher.publish(title="Older", published_on=dt.date(2024, 1, 1))
    newer = publisher.publish(title="Newer", published_on=dt.date(2025, 1, 1))
    Publication.objects.filter(pk=older.current.pk).update(
        published_at=dt.datetime(2024, 1, 1, 9, tzinfo=dt.UTC)
    )
    Publication.objects.filter(pk=newer.current.pk).update(
        published_at=dt.datetime(2025, 1, 1, 9, tzinfo=dt.UTC)
    )
    response = client.get("/reports/feed.atom")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    root = ET.fromstring(response.content)  # noqa: S314 - our own feed
    assert root.tag == f"{ATOM}feed"
    entries = root.findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}title") for e in entries] == ["Newer", "Older"]
    link = entries[0].find(f"{ATOM}link").get("href")
    assert link.endswith(f"/reports/{newer.slug}/")
    ids = [e.findtext(f"{ATOM}id") for e in entries]
    assert len(set(ids)) == 2
    # A republication is a new entry, on top.
    publisher.republish(older, change_note="New annex")
    Publication.objects.filter(pk=older.current.pk).update(
        published_at=dt.datetime(2025, 6, 1, 9, tzinfo=dt.UTC)
    )
    root = ET.fromstring(client.get("/reports/feed.atom").content)  # noqa: S314
    titles = [e.findtext(f"{ATOM}title") for e in root.findall(f"{ATOM}entry")]
    assert titles == ["Older (version 2)", "Newer"]


# The map -----------------------------------------------------------------------------------


@pytest.mark.usefixtures("loaded_reference")
class TestMap:
    def test_every_territorial_force_is_a_link_on_the_map(self, client, publisher) -> None:
        from apps.reference.models import Force

        cumbria = Force.objects.get(slug="cumbria")
        published = publisher.publish(forces=[cumbria], published_on=dt.date(2025, 3, 3))
        page = get(client, reverse("portal:map"))
        svg = re.search(r"<svg class=\"app-national-map\".*?</svg>", page, re.S).group(0)
        links = re.findall(r'<a class="app-national-map__area" href="/forces/([^/]+)/"', svg)
        assert len(links) == 43 and len(set(links)) == 43
        assert "btp" not in links
        assert (
            'aria-label="Cumbria Constabulary: latest report National child protection '
            'inspection, 2025"' in svg
        )
        assert 'aria-label="Gwent Police: no published report yet"' in svg
        assert 'fill="#0072b2"' in svg  # NCPI blue for Cumbria
        # The text alternative: every force, with its latest report.
        assert page.count('<tr class="govuk-table__row" data-force="') == 43
        assert f'href="/reports/{published.slug}/"' in page
        assert "No published report yet" in page
        assert "Key" in page

    def test_map_queries_do_not_grow_with_publications(self, client, publisher) -> None:
        from apps.reference.models import Force

        forces = list(Force.objects.filter(territorial=True).order_by("name"))
        for force in forces[:2]:
            publisher.publish(forces=[force])
        two = queries_for(client, reverse("portal:map"))
        for force in forces[2:20]:
            publisher.publish(forces=[force])
        twenty = queries_for(client, reverse("portal:map"))
        assert two == twenty, (two, twenty)


# The force page ----------------------------------------------------------------------------


def test_force_page_shows_reports_grades_and_recommendations(client, publisher) -> None:
    force = ForceFactory(slug="northshire", name="Northshire Police")
    first = publisher.publish(
        forces=[force], published_on=dt.date(2022, 5, 1), recommendations=["Lead better"]
    )
    second = publisher.publish(
        forces=[force],
        published_on=dt.date(2025, 5, 1),
        recommendations=["Answer calls faster"],
        statuses=[("achieved", dt.date(2025, 12, 1), "Evidence checked")],
        grades={
            "scale": ["outstanding", "good", "adequate", "requires improvement", "inadequate"],
            "counts": {
                "outstanding": 5,
                "good": 10,
                "adequate": 12,
                "requires improvement": 8,
                "inadequate": 6,
            },
            "total": 41,
            "comparable": {"good": 15, "requires_improvement": 20, "inadequate": 6},
        },
    )
    page = get(client, reverse("reference:force-detail", args=["northshire"]))
    assert "Published inspection reports" in page
    assert page.index(f'data-report="{second.slug}"') < page.index(f'data-report="{first.slug}"')
    assert "Case grades over time" in page
    assert "common scale" in page
    rows = re.findall(r'data-grades="([^"]+)"', page)
    assert rows == [first.slug, second.slug]  # oldest first
    assert "fewer than 5" in page  # the suppressed count of the first
    assert "Good or better" in page and "Requires improvement or adequate" in page
    assert '<div class="app-chart-figure" aria-hidden="true">' in page
    assert "Lead better" in page and "Answer calls faster" in page
    assert "Achieved" in page and "Evidence checked" in page


def test_force_page_cache_follows_publications(client, publisher) -> None:
    force = ForceFactory(slug="northshire", name="Northshire Police")
    url = reverse("reference:force-detail", args=["northshire"])
    assert "No inspection report about Northshire Police" in get(client, url)
    published = publisher.publish(forces=[force])
    data_changed("publications")
    assert f'data-report="{published.slug}"' in get(client, url)


def test_pages_make_a_fixed_number_of_queries(client, publisher: Publisher) -> None:
    force = ForceFactory(slug="northshire", name="Northshire Police")

    def publish(n: int) -> list:
        return [
            publisher.publish(
                forces=[force],
                recommendations=["One", "Two"],
                published_on=dt.date(2025, 1, 1) + dt.timedelta(days=len(made) + i),
            )
            for i in range(n)
        ]

    made: list = []
    made += publish(2)
    target = made[0]
    urls = {
        "list": reverse("portal:report-list"),
        "search": reverse("portal:report-list") + "?q=protects",
        "report": f"/reports/{target.slug}/",
        "force": reverse("reference:force-detail", args=["northshire"]),
        "home": reverse("core:home"),
    }
    before = {name: queries_for(client, url) for name, url in urls.items()}
    made += publish(18)
    after = {name: queries_for(client, url) for name, url in urls.items()}
    assert before == after
    assert after["report"] <= 6, after
    assert after["list"] <= 8, after


# Other public pages ------------------------------------------------------------------------


def test_accessibility_statement(client) -> None:
    page = get(client, reverse("portal:accessibility"))
    assert '<h1 class="govuk-heading-l">Accessibility statement</h1>' in page
    assert "WCAG" in page or "Web Content Accessibility Guidelines version 2.2" in page
    assert "axe-core" in page
    assert "Equality and Human Rights Commission" in page
    assert "Equality Advisory and Support Service" in page
    assert 'href="/contact/"' in page


def test_home_page_surfaces_the_portal(client, publisher: Publisher) -> None:
    published = publisher.publish(title="The newest report")
    page = get(client, "/")
    assert 'action="/reports/"' in page and 'name="q"' in page
    assert "Latest reports" in page and "The newest report" in page
    assert f'href="/reports/{published.slug}/"' in page
    assert 'href="/map/"' in page and 'href="/open-data/"' in page


def test_service_navigation_has_the_public_links(client) -> None:
    page = get(client, "/map/")
    nav = re.search(r'<ul class="govuk-service-navigation__list".*?</ul>', page, re.S).group(0)
    labels = re.findall(r'class="govuk-service-navigation__link" href="([^"]+)"', nav)
    assert labels[labels.index("/areas/") + 1 : labels.index("/areas/") + 4] == [
        "/reports/",
        "/map/",
        "/open-data/",
    ]
    assert 'href="/map/" aria-current="page"' in nav


def test_public_pages_need_no_sign_in(client) -> None:
    for url in (
        "/reports/",
        "/map/",
        "/open-data/",
        "/accessibility/",
        "/contact/",
        "/contact/thanks/",
        "/reports/feed.atom",
    ):
        assert client.get(url).status_code == 200, url


# PDF ---------------------------------------------------------------------------------------


def test_pdf_of_the_current_and_each_version(client, publisher: Publisher) -> None:
    published = publisher.publish()
    publisher.republish(published)
    first, second = published.publications
    Publication.objects.filter(pk=first.pk).update(pdf=b"%PDF-1.7 first", pdf_pages=1)
    Publication.objects.filter(pk=second.pk).update(pdf=b"%PDF-1.7 second", pdf_pages=1)
    slug = published.slug
    response = client.get(f"/reports/{slug}/report.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'inline; filename="{slug}-v2.pdf"'
    assert response.content == b"%PDF-1.7 second"
    response = client.get(f"/reports/{slug}/v1/report.pdf")
    assert response.content == b"%PDF-1.7 first"
    assert response["Content-Disposition"] == f'inline; filename="{slug}-v1.pdf"'
    assert client.get(f"/reports/{slug}/v3/report.pdf").status_code == 404
    assert client.get(f"/reports/{slug}/cy/report.pdf").status_code == 404


def test_pdf_is_made_when_not_stored(client, publisher: Publisher) -> None:
    published = publisher.publish(title="A report to print")
    response = client.get(f"/reports/{published.slug}/report.pdf")
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF-")
    published.current.refresh_from_db()
    assert bytes(published.current.pdf) == response.content  # stored for next time


def test_pages_in_memory_are_bounded_and_keyed_by_version() -> None:
    from apps.portal.pagecache import _Recent

    recent = _Recent(max_bytes=10)
    recent.put("a:1", (b"12345", "text/html"))
    recent.put("b:1", (b"12345", "text/html"))
    assert recent.get("a:1") is not None  # now the most recently used
    recent.put("c:1", (b"123", "text/html"))
    assert recent.get("b:1") is None  # the least recently used went
    assert recent.get("a:1") and recent.get("c:1")
    assert recent.size == 8
    recent.put("big", (b"x" * 11, "text/html"))
    assert recent.get("big") is None


def test_map_lists_every_force_even_without_a_boundary(client, publisher: Publisher) -> None:
    force = ForceFactory(name="Boundaryless Police", slug="boundaryless")
    published = publisher.publish(forces=[force], programme_type="jtai")
    page = get(client, reverse("portal:map"))
    assert 'data-force="boundaryless"' in page  # its row in the table
    assert f'href="/reports/{published.slug}/"' in page
    svg = re.search(r"<svg class=\"app-national-map\".*?</svg>", page, re.S).group(0)
    assert "/forces/boundaryless/" not in svg  # nothing to draw
