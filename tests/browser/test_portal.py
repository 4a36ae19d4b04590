"""The public portal in Chromium, every page type checked by axe-core: the report list and
search results, a report and an earlier version of it, a Welsh report where there is one, a
force's page with its reports, the map, open data, the accessibility statement, the contact
form (with its errors, its confirmation and its rate limit page), and the inspectorate's inbox.

The live site is built with the demo programme, whose published inspections have
publications. To have an earlier version to look at, a module fixture republishes the newest
report in the server's own database (creating a first publication if the demo has none), before
any portal page is visited in this module.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from .conftest import ROOT, assert_accessible, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

# Runs inside the server's database (manage.py shell): republish the newest current English
# report as version 2, as the publish service would, and give it a Welsh version if the demo
# has no Welsh report.
REPUBLISH = r"""
import json
from django.db import transaction
from apps.core.cache import data_changed
from apps.inspections.models import Inspection
from apps.reports.models import Publication, Report

with transaction.atomic():
    p = Publication.objects.filter(is_current=True, language="en").order_by("-published_on").first()
    if p is None:
        inspection = Inspection.objects.filter(forces__isnull=False).order_by("id").first()
        report, _ = Report.objects.get_or_create(
            inspection=inspection, language="en", defaults={"title": inspection.title}
        )
        p = Publication.objects.create(
            report=report, inspection=inspection, language="en",
            slug="browser-test-" + inspection.reference.lower(), version=1, is_current=True,
            title=inspection.title, summary="A report made by the browser test.",
            programme_type=inspection.programme_type, published_on="2026-01-05",
            body_html='<section id="summary"><h2 class="govuk-heading-l">Summary</h2>'
            '<p class="govuk-body">Child protection.</p></section>',
            contents=[{"id": "summary", "title": "Summary"}],
            data={"reference": inspection.reference,
                  "forces": [{"slug": f.slug, "name": f.name} for f in inspection.forces.all()],
                  "recommendations": []},
            search_text="Summary Child protection.",
        )
        p.forces.set(inspection.forces.all())
    forces, areas = list(p.forces.all()), list(p.local_authorities.all())
    Publication.objects.filter(pk=p.pk).update(is_current=False)
    p.pk = None
    p._state.adding = True
    p.version += 1
    p.is_current = True
    p.change_note = "Corrected a figure in the case file tables"
    p.pdf = None
    p.save()
    p.forces.set(forces)
    p.local_authorities.set(areas)
    # A Welsh version of the same report, if the demo has no Welsh report to look at.
    if not Publication.objects.filter(is_current=True, language="cy").exists():
        welsh, _ = Report.objects.get_or_create(
            inspection=p.inspection, language="cy", defaults={"title": "Adroddiad arolygu"}
        )
        p.pk = None
        p._state.adding = True
        p.report, p.language, p.version, p.change_note = welsh, "cy", 1, ""
        p.title = "Arolygiad cenedlaethol o amddiffyn plant"
        p.save()
        p.forces.set(forces)
        p.local_authorities.set(areas)
    data_changed("publications")
english = Publication.objects.get(slug=p.slug, language="en", is_current=True)
print(json.dumps({
    "slug": english.slug,
    "version": english.version,
    "force": forces[0].slug if forces else "",
    "title": english.title,
    "welsh": Publication.objects.filter(is_current=True, language="cy")
    .values_list("slug", flat=True)
    .first(),
}))
"""


def _server_database_url(worker_id: str) -> str:
    """The live site's database, named as tests/browser/conftest.py names it."""
    url = os.environ.get("DATABASE_URL", "sqlite:///var/test-root.sqlite3")
    if url.startswith("sqlite"):
        stem = Path(url.removeprefix("sqlite:///")).stem
        return f"sqlite:///{ROOT / 'var' / f'browser-{stem}-{worker_id}.sqlite3'}"
    base, _, _ = url.rpartition("/")
    return f"{base}/inspectorate_browser_{worker_id}"


@pytest.fixture(scope="module")
def published(live_site: str, worker_id: str) -> Iterator[dict]:
    env = {
        **os.environ,
        "DATABASE_URL": _server_database_url(worker_id),
        "DJANGO_SETTINGS_MODULE": "inspectorate.settings.test",
    }
    completed = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "shell", "-c", REPUBLISH],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    yield json.loads(completed.stdout.strip().splitlines()[-1])


def test_reports_search_and_a_report_with_its_versions(page, published) -> None:
    slug, version = published["slug"], published["version"]
    page.goto("/")
    expect(page.get_by_role("heading", name="Latest reports")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name="Reports", exact=True).click()
    expect(page.get_by_role("heading", level=1, name="Inspection reports")).to_be_visible()
    expect(page.locator("#result-count")).to_contain_text("report")
    assert_accessible(page)

    # Search, from the list's own form.
    word = next(w for w in published["title"].split() if len(w) > 4)
    page.get_by_label("Search reports").fill(word)
    page.get_by_role("button", name="Show reports").click()
    expect(page.locator("#result-count")).to_contain_text("match")
    assert_accessible(page)

    # A filter nobody offers is a clear error, not a failure.
    page.goto("/reports/?force=atlantis")
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    assert_accessible(page)

    page.goto(f"/reports/{slug}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(published["title"])
    expect(page.get_by_role("heading", name="Versions of this report")).to_be_visible()
    expect(page.get_by_text("Corrected a figure in the case file tables")).to_be_visible()
    expect(page.get_by_role("link", name="Download this report as a PDF")).to_be_visible()
    assert page.locator(".govuk-notification-banner").count() == 0
    assert_accessible(page)

    # The earlier version, still at its address, says it has been replaced.
    page.get_by_role("link", name=f"Version {version - 1}", exact=True).click()
    expect(page.get_by_text("This version of the report has been replaced")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Read the current version").click()
    assert page.url.endswith(f"/reports/{slug}/")

    if published["welsh"]:
        page.goto(f"/reports/{published['welsh']}/cy/")
        expect(page.locator("h1[lang=cy]")).to_be_visible()
        assert_accessible(page)


def test_force_page_map_and_open_data(page, published) -> None:
    if published["force"]:
        page.goto(f"/forces/{published['force']}/")
        expect(page.get_by_role("heading", name="Published inspection reports")).to_be_visible()
        expect(
            page.get_by_role("heading", name="Recommendations and their progress")
        ).to_be_visible()
        assert_accessible(page)

    page.goto("/map/")
    expect(
        page.get_by_role("heading", level=1, name="Map of the latest inspections")
    ).to_be_visible()
    areas = page.locator("svg.app-national-map a")
    assert areas.count() == 43
    expect(page.locator("table tbody tr").first).to_be_visible()
    assert_accessible(page)
    # Each area is a link a keyboard reaches, named for people who cannot see the colours.
    cumbria = page.locator('svg.app-national-map a[data-force="cumbria"]')
    assert (cumbria.get_attribute("aria-label") or "").startswith("Cumbria Constabulary: ")
    cumbria.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1, name="Cumbria Constabulary")).to_be_visible()

    page.goto("/open-data/")
    expect(page.get_by_role("heading", level=1, name="Open data")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download published reports as CSV").click()
    assert download.value.suggested_filename == "reports.csv"
    assert_accessible(page)

    page.goto("/accessibility/")
    expect(page.get_by_role("heading", name="Enforcement procedure")).to_be_visible()
    assert_accessible(page)


def test_contact_form_its_errors_thanks_and_rate_limit(page, published) -> None:
    page.goto("/contact/")
    expect(page.get_by_text("This form is not for reporting a child in danger")).to_be_visible()
    assert_accessible(page)

    page.get_by_label("Your message").fill("<script>alert('x')</script>")
    page.get_by_role("button", name="Send message").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Select what your message is about"
    )
    expect(page.locator(".govuk-error-summary")).to_contain_text("must not contain HTML")
    assert_accessible(page)

    page.get_by_label("A published report").check()
    page.get_by_label("Your message").fill("When is the next inspection of my force?")
    page.get_by_label("Your email address (optional)").fill("reader@example.test")
    page.get_by_role("button", name="Send message").click()
    expect(page.get_by_role("heading", name="Message sent")).to_be_visible()
    reference = page.locator(".govuk-panel__body strong").inner_text()
    assert reference.startswith("MSG-")
    assert_accessible(page)

    # The inbox, as a programme manager: the message, then marked handled.
    inbox = page.context.browser.new_context(base_url=page.url.split("/contact")[0])
    staff = inbox.new_page()
    sign_in(staff, "manager")
    staff.goto("/contact-messages/")
    expect(staff.get_by_role("link", name=reference)).to_be_visible()
    assert_accessible(staff)
    staff.get_by_role("link", name=reference).click()
    expect(staff.get_by_text("When is the next inspection of my force?")).to_be_visible()
    assert_accessible(staff)
    staff.get_by_role("button", name="Mark as handled").click()
    expect(staff.locator(".govuk-notification-banner--success")).to_be_visible()
    inbox.close()

    # A flood from one address: the form pauses with a clear page (429), not an error.
    status = 0
    for _ in range(10):
        page.goto("/contact/")
        page.get_by_label("Something else").check()
        page.get_by_label("Your message").fill("Testing the limit.")
        with page.expect_response(lambda r: r.request.method == "POST") as response:
            page.get_by_role("button", name="Send message").click()
        status = response.value.status
        if status == 429:
            break
    assert status == 429
    expect(page.get_by_role("heading", name="Too many messages sent")).to_be_visible()
    assert_accessible(page)
