"""Every page type, as a person would use it in Chromium, checked by axe-core."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages.storage.cookie import CookieStorage
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.utils import timezone
from playwright.sync_api import expect

from .conftest import assert_accessible, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def choose_person(page, name: str) -> None:
    value = page.locator("#id_user option", has_text=name).get_attribute("value")
    page.get_by_label("Person").select_option(value=value)


def test_public_pages(page):
    for path, heading in [
        ("/", "Child protection inspections of police forces"),
        ("/about-the-data/", "About the data"),
        ("/forces/", "Police forces"),
        ("/areas/", "Local authority areas"),
        ("/sign-in/", "Sign in"),
    ]:
        page.goto(path)
        assert heading in page.locator("h1").inner_text()
        assert "Childline" in page.content() and "999" in page.content()
        assert_accessible(page)

    page.goto("/forces/")
    rows = page.locator("table tbody tr")
    assert rows.count() == 44
    page.get_by_role("link", name="Cumbria Constabulary").click()
    assert "Cumbria" in page.locator("h1").inner_text()
    assert (page.locator("svg[role=img] title").first.text_content() or "").startswith("Map of")
    assert_accessible(page)

    page.goto("/areas/")
    page.get_by_role("link", name="Hartlepool").first.click()
    assert "Hartlepool" in page.locator("h1").inner_text()
    assert_accessible(page)


def test_not_found_and_sign_in_errors(page):
    response = page.goto("/no-such-page/")
    assert response.status == 404
    assert "Page not found" in page.locator("h1").inner_text()
    assert_accessible(page)

    page.goto("/sign-in/")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    assert_accessible(page)


def test_server_error_page(page, live_site):
    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    request.request_id = "abc123"
    request._messages = CookieStorage(request)
    html = render_to_string("500.html", request=request)
    page.goto("/healthz")
    page.set_content(html.replace('href="/static/', f'href="{live_site}/static/'))
    assert "Sorry, there is a problem" in page.locator("h1").inner_text()
    assert_accessible(page)


def test_programme_manager_pages_and_journey(page):
    sign_in(page, "manager")
    assert_accessible(page)  # staff home
    page.get_by_role("link", name="Inspections", exact=True).click()
    assert_accessible(page)

    # Plan an inspection, with a mistake first.
    page.get_by_role("link", name="Plan an inspection").click()
    page.get_by_role("button", name="Plan the inspection").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("National child protection inspection", exact=True).check()
    page.get_by_label("Title").fill("Browser-planned inspection")
    page.get_by_label("Methodology").select_option(
        label="NCPI 2024 (graded topics, five-point scale)"
    )
    page.get_by_label("Force or forces inspected").select_option(label="Cumbria Constabulary")
    start = timezone.localdate() + dt.timedelta(days=90)  # the notice (today) must come first
    page.get_by_label("Fieldwork starts").fill(start.isoformat())
    page.get_by_label("Fieldwork ends").fill((start + dt.timedelta(days=11)).isoformat())
    page.get_by_role("button", name="Plan the inspection").click()
    assert "Browser-planned inspection" in page.locator("h1").inner_text()
    reference = re.search(rf"NCPI-{start.year}-\d{{3}}", page.locator("h1").inner_text()).group(0)
    assert_accessible(page)

    page.get_by_role("link", name="Change the team").click()
    assert_accessible(page)
    choose_person(page, "Daniel Whitlock")
    page.get_by_label("Lead inspector", exact=True).check()
    page.get_by_role("button", name="Add to the team").click()
    expect(page.locator(".govuk-notification-banner--success")).to_be_visible()
    # A second lead is refused with the reason, in the error summary.
    choose_person(page, "Ruth Adeyemi")
    page.get_by_label("Lead inspector", exact=True).check()
    page.get_by_role("button", name="Add to the team").click()
    assert "already has a lead inspector" in page.locator(".govuk-error-summary").inner_text()
    assert_accessible(page)

    page.get_by_role("link", name=f"Back to {reference}").click()
    page.get_by_role("link", name="Change the plan").click()
    assert_accessible(page)
    publication = start + dt.timedelta(days=140)
    page.get_by_label("Planned publication").fill(publication.isoformat())
    page.get_by_role("button", name="Save the plan").click()
    expect(page.locator("main")).to_contain_text(f"{publication.day} {publication:%B %Y}")

    # The next lifecycle step, dated today by default.
    page.get_by_label("Record that the force was notified").check()
    page.get_by_role("button", name="Record this step").click()
    assert "is now at notified" in page.locator(".govuk-notification-banner").inner_text()
    expect(page.locator(".govuk-tag", has_text="Notified").first).to_be_visible()

    # Everything above is in the audit trail.
    page.get_by_role("link", name="Audit trail").click()
    assert_accessible(page)
    page.get_by_label("Object or summary contains").fill(reference)
    page.get_by_role("button", name="Search").click()
    table = page.locator("table").inner_text()
    assert "Created" in table and "Changed" in table
    assert "Moved to a new stage" in table
    assert "planned_publication" in table


def test_force_liaison_sees_only_their_force(page):
    """The demo liaison works for Cumbria Constabulary (areas Cumberland, Westmorland and
    Furness)."""
    sign_in(page, "liaison")
    assert_accessible(page)
    page.goto("/inspections/")
    rows = page.locator("table tbody tr")
    texts = [rows.nth(i).inner_text() for i in range(rows.count())]
    assert texts, "the liaison should see their force's notified inspections"
    for text in texts:
        assert re.search(r"Cumbria|Cumberland|Westmorland", text), text
        assert "Planned" not in text, "a force must not see inspections still being planned"
    response = page.goto("/audit/")
    assert response.status == 403
    assert "You cannot see this page" in page.locator("h1").inner_text()
    assert_accessible(page)


def test_inspection_detail_and_two_factor_pages(page):
    sign_in(page, "lead")
    page.goto("/inspections/")
    page.locator("table tbody tr a").first.click()
    expect(page.locator("h2", has_text="History")).to_be_visible()
    assert_accessible(page)
    page.goto("/two-factor/set-up/")
    assert "Set up two-factor sign-in" in page.locator("h1").inner_text()
    assert page.locator("svg").count() >= 1
    assert_accessible(page)
    page.goto("/two-factor/")
    assert_accessible(page)


@pytest.mark.parametrize(
    "username", ["manager", "lead", "inspector", "analyst", "partner", "liaison", "admin"]
)
def test_every_demo_role_has_an_accessible_home(page, username):
    sign_in(page, username)
    assert "Hello," in page.locator("h1").inner_text()
    expect(page.get_by_role("heading", name="Due this week")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name=re.compile("Sign out")).click()
    expect(page.locator("main")).to_contain_text("You have signed out.")


def test_repeated_failed_sign_ins_lock_out(page):
    for _ in range(5):
        page.goto("/sign-in/")
        page.get_by_label("User name").fill("someone-guessing")
        page.get_by_label("Password").fill("not the password")
        page.get_by_role("button", name="Sign in").click()
    page.goto("/sign-in/")
    page.get_by_label("User name").fill("someone-guessing")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    assert "Too many attempts to sign in" in page.locator("h1").inner_text()
    assert_accessible(page)


def test_admin_for_reference_data(page):
    sign_in(page, "admin")
    page.goto("/admin/")
    assert_accessible(page)
    page.goto("/admin/reference/force/")
    assert "Cumbria Constabulary" in page.content()
    assert_accessible(page)
    page.get_by_role("link", name="Cumbria Constabulary").click()
    assert_accessible(page)
