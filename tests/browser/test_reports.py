"""Findings, the report and its publication end to end, as new users would do it in Chromium,
checked by axe-core on every staff page of the issue.

The demo programme has NCPI-2026-002 of North Wales Police in quality assurance, with the
demo users `lead` (lead inspector) and `inspector` on its team and a draft report written by
an inspector. The walk-through:

1. `inspector` logs an evidence item and records a cause of concern with its first
   recommendation, tied to that evidence;
2. `inspector` writes a planted name and postcode into the summary and runs the disclosure
   check, which finds both;
3. `manager` tries to publish and is refused, with the reasons;
4. `inspector` redacts them (and withholds the small numbers); `lead`, who wrote none of it,
   signs off; `manager` publishes, and the report page lists the HTML and the PDF;
5. a member of the public finds it (tests/browser/test_portal.py covers the portal's pages).
"""

from __future__ import annotations

import re
from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect

from .test_fieldwork import Axe

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

REFERENCE = "NCPI-2026-002"
PLANTED = "We spoke to Gwen Roberts at her home, LL57 2DG, about her son."


def _open_inspection(page) -> str:
    page.goto("/inspections/")
    page.get_by_role("link", name=re.compile(REFERENCE)).first.click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    return page.url


def test_findings_report_disclosure_sign_off_and_publication(person):
    axe = Axe()
    inspector = person("inspector")
    inspection_url = _open_inspection(inspector)

    # 1. Evidence, then a cause of concern with its recommendation, tied to it.
    inspector.get_by_role("link", name="Evidence log").click()
    axe.check(inspector, "evidence log")
    inspector.get_by_role("link", name="Log evidence").click()
    inspector.get_by_role("button", name="Log evidence").click()
    expect(inspector.locator(".govuk-error-summary")).to_be_visible()
    axe.check(inspector, "log evidence form with errors")
    inspector.get_by_label("Interview, focus group or meeting").check()
    inspector.get_by_label("Title").fill("Focus group with the MASH team")
    axe.check(inspector, "log evidence form")
    inspector.get_by_role("button", name="Log evidence").click()
    expect(inspector.get_by_role("link", name="Focus group with the MASH team")).to_be_visible()
    inspector.get_by_role("link", name="Findings register").click()
    axe.check(inspector, "findings register")
    inspector.get_by_role("link", name="Add cause of concern").click()
    # Sent empty: the errors are listed, and the page with them is accessible too.
    inspector.get_by_role("button", name="Record cause of concern").click()
    # One summary for the cause and its recommendation (GOV.UK: one a page).
    expect(inspector.locator(".govuk-error-summary")).to_have_count(1)
    expect(inspector.locator(".govuk-error-summary")).to_be_visible()
    axe.check(inspector, "cause of concern form with errors")
    inspector.get_by_label("Finding in one sentence").fill(
        "Children referred to the MASH wait too long for a decision."
    )
    inspector.get_by_label(re.compile("Focus group with the MASH team")).check()
    inspector.get_by_label("Recommendation", exact=True).fill(
        "Within three months, make sure every referral is decided within one working day."
    )
    inspector.locator("#id_rec-to_force").check()
    inspector.locator("input[name='rec-timescale'][value='months']").check()
    inspector.locator("#id_rec-timescale_months").fill("3")
    axe.check(inspector, "cause of concern form")
    inspector.get_by_role("button", name="Record cause of concern").click()
    expect(
        inspector.get_by_text(
            "Children referred to the MASH wait too long for a decision.", exact=True
        )
    ).to_be_visible()

    finding = inspector.locator("li.app-finding").filter(
        has_text="Children referred to the MASH wait too long for a decision."
    )
    finding.get_by_role("link", name=re.compile("^Change .*Cause of concern")).click()
    expect(inspector.get_by_label("Finding in one sentence")).to_be_visible()
    axe.check(inspector, "change a finding")
    inspector.go_back()
    finding.get_by_role("link", name=re.compile("^Remove .*Cause of concern")).click()
    expect(inspector.get_by_text("Its recommendations are removed with it")).to_be_visible()
    axe.check(inspector, "remove a finding (not confirmed)")
    inspector.goto(inspection_url)
    inspector.get_by_role("link", name="Evidence log").click()
    inspector.get_by_role("link", name="Focus group with the MASH team").click()
    expect(inspector.get_by_role("heading", name="Findings it supports")).to_be_visible()
    axe.check(inspector, "evidence item")

    # 2. A planted name and postcode in the summary, found by the check.
    inspector.goto(inspection_url)
    inspector.get_by_role("link", name=re.compile("Report: draft")).click()
    axe.check(inspector, "report page")
    report_url = inspector.url
    inspector.get_by_role("link", name="Summary", exact=True).click()
    text = inspector.get_by_label("Text")
    text.fill(text.input_value() + "\n\n" + PLANTED)
    axe.check(inspector, "section page")
    inspector.get_by_role("button", name="Save").click()
    expect(inspector.get_by_text("“Summary” saved.")).to_be_visible()
    inspector.get_by_role("link", name="Summary", exact=True).click()
    inspector.get_by_role("link", name=re.compile("^Revision \\d+")).first.click()
    expect(inspector.get_by_role("heading", name="This revision")).to_be_visible()
    axe.check(inspector, "revision")
    inspector.goto(report_url)
    inspector.get_by_role("link", name="Preview the whole report").click()
    expect(
        inspector.get_by_role("heading", name="Children referred to the MASH wait too long")
    ).to_be_visible()
    axe.check(inspector, "preview")
    inspector.goto(report_url)
    inspector.get_by_role("link", name="Open the disclosure check").click()
    inspector.get_by_role("button", name="Run the check").click()
    expect(inspector.get_by_text(re.compile("The check found \\d+ thing"))).to_be_visible()
    hits = inspector.locator("table").first
    expect(hits.get_by_text("Gwen Roberts", exact=True)).to_be_visible()
    expect(hits.get_by_text("LL57 2DG", exact=True)).to_be_visible()
    axe.check(inspector, "disclosure check")
    inspector.get_by_role("link", name=re.compile("^Dismiss")).first.click()
    expect(inspector.get_by_label("Why it cannot identify anyone")).to_be_visible()
    axe.check(inspector, "dismiss a hit (not confirmed)")
    inspector.go_back()

    # 3. Publication is refused while hits are open.
    manager = person("manager")
    manager.goto(report_url)
    expect(manager.get_by_text(re.compile("still to resolve"))).to_be_visible()
    manager.get_by_role("button", name="Publish").click()
    expect(manager.get_by_text(re.compile("Not published: .*still to resolve"))).to_be_visible()
    axe.check(manager, "report page with refusal")

    # 4. Resolve, sign off, publish.
    withhold = inspector.get_by_role("button", name="Withhold every small number")
    if withhold.count():
        withhold.click()
        expect(inspector.get_by_text(re.compile(r"^Withheld \d+ small number"))).to_be_visible()
    # count() does not wait for a navigation: after each click, wait until the page has changed.
    redact = inspector.get_by_role("button", name=re.compile("^Redact"))
    while hits := redact.count():
        redact.first.click()
        expect(redact).not_to_have_count(hits)
    expect(inspector.get_by_text("Nothing to resolve.")).to_be_visible()
    axe.check(inspector, "disclosure check resolved")

    lead = person("lead")
    lead.goto(report_url)
    lead.get_by_role("button", name="Sign off quality assurance").click()
    expect(lead.get_by_text("You signed off quality assurance.")).to_be_visible()
    axe.check(lead, "report page signed off")

    manager.goto(report_url)
    manager.get_by_role("button", name="Publish").click()
    expect(manager.get_by_text(re.compile("Published version 1"))).to_be_visible()
    expect(manager.get_by_role("heading", name="Published versions")).to_be_visible()
    pdf_link = manager.get_by_role("link", name=re.compile("PDF of version 1"))
    expect(pdf_link).to_be_visible()
    axe.check(manager, "report page published")
    # The current version cannot be withdrawn: a corrected version must replace it first.
    manager.goto(report_url.rstrip("/") + "/en/versions/1/withdraw/")
    axe.check(manager, "withdraw a version")
    manager.get_by_label("Why it is withdrawn").fill("It named a child")
    manager.get_by_role("button", name="Withdraw version 1").click()
    expect(manager.get_by_text(re.compile("This is the current version"))).to_be_visible()
    axe.check(manager, "withdraw refused")

    # 5. A member of the public finds it: by search, on the map and in the open data.
    public = person.browser.new_context(base_url=person.base_url)
    reader = public.new_page()
    reader.goto("/reports/")
    reader.get_by_label("Search reports").fill("North Wales")
    reader.get_by_role("button", name="Show reports").click()
    result = reader.get_by_role("link", name=re.compile("North Wales Police")).first
    expect(result).to_be_visible()
    result.click()
    expect(reader.get_by_role("heading", level=1)).to_contain_text("North Wales Police")
    public_path = urlparse(reader.url).path
    expect(
        reader.get_by_role("heading", name="Children referred to the MASH wait too long")
    ).to_be_visible()
    assert "Gwen Roberts" not in reader.content() and "LL57 2DG" not in reader.content()
    pdf = reader.request.get(reader.url.rstrip("/") + "/report.pdf")
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.body()[:5] == b"%PDF-"
    reader.goto("/map/")
    # The map's table gives the force's latest report: this one.
    latest = reader.locator("tr[data-force='north-wales'] td a").first
    expect(latest).to_have_attribute("href", public_path)
    reader.locator("a[data-force='north-wales']").first.click()
    expect(reader.locator("#reports ~ ul [data-report]").first).to_contain_text(
        "North Wales Police"
    )
    csv_text = reader.request.get("/open-data/reports.csv").text()
    assert REFERENCE in csv_text
    public.close()

    # An inspection in fieldwork has no report yet: its report page offers to start one.
    inspector.goto("/inspections/")
    inspector.get_by_role("link", name=re.compile("NCPI-2026-004")).first.click()
    inspector.get_by_role("link", name=re.compile("Report: draft")).click()
    expect(inspector.get_by_role("button", name="Start the report")).to_be_visible()
    axe.check(inspector, "start a report")

    # 6. North Wales is in Wales: the report can carry a Welsh-language version.
    inspector.goto(report_url)
    inspector.get_by_role("button", name="Start the Welsh-language version").click()
    expect(inspector.get_by_text("This is the Welsh-language version.")).to_be_visible()
    expect(inspector.get_by_role("link", name="Crynodeb")).to_be_visible()
    axe.check(inspector, "Welsh report page")
    inspector.get_by_role("link", name="Crynodeb").click()
    axe.check(inspector, "Welsh section page")
    axe.assert_clean()
