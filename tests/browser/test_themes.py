"""Theme coding as an analyst would do it in Chromium, axe-checked: the review queue, a
statement's page with the classifier's suggestions, a refusal, and a decision saved."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from .conftest import server_manage
from .test_fieldwork import Axe

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def test_an_analyst_reviews_the_least_sure_suggestions(person):
    axe = Axe()
    analyst = person("analyst")
    analyst.get_by_role("link", name="Themes", exact=True).click()
    expect(analyst.get_by_role("heading", level=1)).to_have_text("Thematic synthesis")
    axe.check(analyst, "thematic synthesis")
    analyst.get_by_role("link", name=re.compile("^Review queue")).click()
    expect(analyst.get_by_role("heading", level=1)).to_have_text("Themes: review queue")
    caption = analyst.locator("caption").inner_text()
    to_review = int(re.search(r"(\d+) statements? to review", caption)[1])  # type: ignore[index]
    assert to_review > 0
    axe.check(analyst, "review queue")
    first = analyst.locator("table tbody tr a").first
    text = first.inner_text()
    first.click()
    expect(analyst.get_by_role("heading", level=1)).to_have_text("Code a statement")
    expect(analyst.locator(".govuk-inset-text")).to_contain_text(text.rstrip("…")[:60])
    suggested = analyst.get_by_role("checkbox", name=re.compile(r"\(suggested, \d+% sure\)"))
    assert suggested.count() >= 1
    axe.check(analyst, "code a statement")

    # None ticked: refused, with the reason.
    for box in analyst.get_by_role("checkbox").all():
        box.uncheck()
    analyst.get_by_role("button", name="Save the themes").click()
    expect(analyst.locator(".govuk-error-summary")).to_contain_text("Choose at least one theme.")
    axe.check(analyst, "code a statement, refused")

    # A decision: saved, and the next statement is shown.
    analyst.get_by_role("checkbox", name=re.compile("^Workforce capacity")).check()
    analyst.get_by_role("button", name="Save the themes").click()
    expect(analyst.locator(".govuk-notification-banner")).to_contain_text("Themes saved.")
    analyst.get_by_role("link", name="Back to the review queue").click()
    caption = analyst.locator("caption").inner_text()
    assert f"{to_review - 1} statement" in caption
    axe.assert_clean()


SAMPLES = Path(__file__).resolve().parents[2] / "data" / "themes" / "archive_samples"


def _import(page, name: str, programme: str) -> None:
    page.get_by_role("link", name="Import a report").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Import a published report")
    page.get_by_label("Report file").set_input_files(str(SAMPLES / name))
    page.get_by_label("Type of inspection").select_option(programme)
    page.get_by_role("button", name="Import and suggest themes").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Importing {name}")
    _run_worker()
    expect(page.get_by_role("heading", level=1)).to_have_text("Report imported", timeout=60_000)
    page.locator("table").get_by_role("link").click()


def _run_worker() -> None:
    """The background worker, run until it has done every queued job."""
    server_manage("db_worker", "--batch", "--no-startup-delay", "--queue-name", "default")


def test_an_analyst_imports_reports_codes_them_and_drafts_a_thematic_report(person):
    """The issue's "done when": import published-style reports, see suggested themes, correct
    a few in the review queue and watch the model learn, read the analysis, and draft a
    thematic report whose figures lead back to their statements; axe on every page type."""
    axe = Axe()
    analyst = person("analyst")
    analyst.set_default_timeout(60_000)
    analyst.get_by_role("link", name="Themes", exact=True).click()
    analyst.get_by_role("link", name=re.compile("^Archive")).click()
    expect(analyst.get_by_role("heading", level=1)).to_have_text("Imported reports")
    axe.check(analyst, "imported reports")

    # A report that is not a report is refused, naming the file.
    analyst.get_by_role("link", name="Import a report").click()
    analyst.get_by_label("Report file").set_input_files(
        {"name": "notes.pdf", "mimeType": "application/pdf", "buffer": b"not a pdf at all"}
    )
    analyst.get_by_role("button", name="Import and suggest themes").click()
    expect(analyst.locator(".govuk-error-summary")).to_contain_text("notes.pdf")
    axe.check(analyst, "import refused")
    analyst.get_by_role("link", name="Back to the imported reports").click()

    # An HTML report and a PDF one: their statements appear beside their paragraphs, with the
    # classifier's suggested themes.
    _import(analyst, "northshire-ncpi-2017.html", "ncpi")
    expect(analyst.locator("#p1")).to_be_visible()
    assert analyst.get_by_text(re.compile(r"\(suggested, 0\.\d\d\)")).count() > 5
    axe.check(analyst, "imported report")
    # A point the report makes twice: the summary's is set aside as a repeat, and the
    # statement that stays lists it.
    assert analyst.get_by_text("Repeat", exact=True).count() == 2
    analyst.get_by_role("link", name=re.compile("^We found that the force manages")).click()
    expect(analyst.locator(".govuk-warning-text")).to_contain_text("Set aside at import")
    # Read in its report: its paragraph, its words marked, between its neighbours.
    expect(analyst.locator("#in-its-report mark")).to_contain_text("registered sex offenders")
    expect(analyst.locator("#in-its-report p")).to_have_count(4)  # 3 paragraphs, a heading
    axe.check(analyst, "a repeat set aside at import")
    analyst.get_by_role("link", name="another statement").click()
    expect(analyst.get_by_text("The report makes this point again in")).to_be_visible()
    axe.check(analyst, "a statement with its repeats")
    # Two more chosen at once, their types left for the reports to say: imported by the
    # background worker, the batch's page following it until it says what was imported and
    # what was taken from the reports.
    analyst.get_by_role("link", name="Themes", exact=True).click()
    analyst.get_by_role("link", name=re.compile("^Archive")).click()
    analyst.get_by_role("link", name="Import a report").click()
    analyst.get_by_label("Report files").set_input_files(
        [str(SAMPLES / "westmere-ncpi-2021.pdf"), str(SAMPLES / "eastmarch-ncpi-2025.html")]
    )
    analyst.get_by_role("button", name="Import and suggest themes").click()
    expect(analyst.get_by_role("heading", level=1)).to_have_text("Importing 2 report files")
    expect(analyst.get_by_role("status")).to_have_text("Waiting to start.")
    axe.check(analyst, "several reports being imported")
    # The worker not running for minutes since: the page, polling, reloads by itself to say
    # so (the warning is the server's, on the page it sends).
    batch = analyst.url.rstrip("/").rsplit("/", 1)[1]
    server_manage(
        "shell",
        "-c",
        "import datetime as dt; from django.utils import timezone; "
        "from apps.themes.models import ArchiveImportBatch as B; "
        f"B.objects.filter(pk={batch}).update(queued_at=timezone.now() - dt.timedelta(minutes=5))",
    )
    expect(analyst.get_by_text(re.compile("may not be running"))).to_be_visible(timeout=30_000)
    axe.check(analyst, "several reports waiting for a worker not running")
    _run_worker()
    expect(analyst.get_by_role("heading", level=1)).to_have_text(
        "Imported 2 of 2 report files", timeout=60_000
    )
    expect(
        analyst.get_by_text(re.compile("^Taken from the report: type: National child"))
    ).to_have_count(2)
    axe.check(analyst, "several reports imported")
    # Had the worker stopped as it suggested their themes: the page says so, and the import
    # is continued from it.
    server_manage(
        "shell",
        "-c",
        "from apps.themes.models import ArchiveImportBatch as B; "
        f"B.objects.filter(pk={batch}).update(status='failed', suggested='', error="
        "'The background worker stopping stopped the themes being suggested.')",
    )
    analyst.reload()
    expect(analyst.locator(".govuk-notification-banner")).to_contain_text("The import stopped")
    axe.check(analyst, "several reports, the import stopped")
    analyst.get_by_role("button", name="Continue the import").click()
    expect(analyst.get_by_role("status")).to_have_text("Waiting to start.")
    _run_worker()
    expect(analyst.get_by_role("heading", level=1)).to_have_text(
        "Imported 2 of 2 report files", timeout=60_000
    )
    expect(analyst.get_by_text(re.compile("suggested themes for"))).to_be_visible()
    analyst.get_by_role("link", name=re.compile("^Westmere Constabulary")).click()
    expect(analyst.locator(".govuk-summary-list")).to_contain_text(
        "National child protection inspection"
    )
    assert analyst.get_by_text(re.compile(r"\(page \d+\)")).count() > 5

    # The review queue: correct three statements.
    analyst.get_by_role("link", name="Themes", exact=True).click()
    analyst.get_by_role("link", name=re.compile("^How it has learnt")).click()
    # count() does not wait: be on the page before counting its rows.
    expect(analyst.get_by_role("heading", level=1)).to_have_text("How the classifier has learnt")
    versions_before = analyst.locator("table tbody tr").count()
    people_before = int(analyst.locator("table tbody tr").first.locator("td").nth(4).inner_text())
    analyst.get_by_role("link", name="Back to the thematic synthesis").click()
    analyst.get_by_role("link", name=re.compile("^Review queue")).click()
    analyst.locator("table tbody tr a").first.click()
    for _ in range(3):
        for box in analyst.get_by_role("checkbox").all():
            box.uncheck()
        analyst.get_by_role("checkbox", name=re.compile("^Workforce capacity")).check()
        analyst.get_by_role("button", name="Save the themes").click()
        expect(analyst.locator(".govuk-notification-banner")).to_contain_text("Themes saved.")

    # A third report: the classifier retrains on those decisions before suggesting.
    analyst.goto("/themes/archive/")
    _import(analyst, "thematic-missing-exploited-2023.pdf", "thematic")
    analyst.get_by_role("link", name="Themes", exact=True).click()
    analyst.get_by_role("link", name=re.compile("^How it has learnt")).click()
    expect(analyst.locator("table tbody tr")).to_have_count(versions_before + 1)
    newest = analyst.locator("table tbody tr").first.locator("td")
    # It learnt from the three decisions (and any made before, in other tests).
    assert int(newest.nth(4).inner_text()) >= people_before + 3
    # Its score on people's statements, marked as rough while few are coded.
    assert re.fullmatch(r"0\.\d{3} \(rough: \d+ coded\)", newest.nth(6).inner_text().strip())
    axe.check(analyst, "classifier versions")
    # The rest of the queue: suggested again by the retrained classifier, on request.
    # The background worker does it; its page follows it and then says what it did.
    analyst.get_by_role("button", name="Suggest themes again").click()
    expect(analyst.get_by_role("heading", level=1)).to_have_text("Suggesting themes again")
    expect(analyst.get_by_role("status")).to_have_text("Waiting to start.")
    axe.check(analyst, "suggesting themes again")
    _run_worker()
    expect(analyst.get_by_role("heading", level=1)).to_have_text(
        "Themes suggested again", timeout=60_000
    )
    expect(
        analyst.get_by_text(re.compile("suggested themes again for \\d+ statements"))
    ).to_be_visible()
    axe.check(analyst, "themes suggested again")
    analyst.get_by_role("link", name="Back to how the classifier has learnt").click()
    up_to_date = re.compile("Every statement no person has coded holds")
    expect(analyst.get_by_text(up_to_date)).to_be_visible()
    expect(analyst.get_by_role("link", name="what it did")).to_be_visible()
    # A run that stopped says why and offers to ask again (set so here: axe on that state).
    stopped = server_manage(
        "shell",
        "-c",
        "from apps.themes.models import SuggestionRun as R; run = R.objects.latest('pk'); "
        "R.objects.filter(pk=run.pk).update(status='failed', "
        "error='An unexpected error (RuntimeError) stopped it.'); print(run.pk)",
    )
    analyst.goto(f"/themes/model/suggest-again/{stopped.strip().splitlines()[-1]}/")
    expect(analyst.get_by_role("heading", level=1)).to_have_text("Themes were not suggested again")
    expect(analyst.get_by_text("An unexpected error (RuntimeError) stopped it.")).to_be_visible()
    axe.check(analyst, "themes not suggested again")
    analyst.get_by_role("link", name="Back to how the classifier has learnt").click()
    expect(analyst.get_by_role("link", name="why it stopped")).to_be_visible()

    # The codebook and discovery pages.
    analyst.get_by_role("link", name="Back to the thematic synthesis").click()
    analyst.get_by_role("link", name=re.compile("^Codebook")).click()
    expect(analyst.get_by_role("heading", level=1)).to_contain_text("Codebook")
    axe.check(analyst, "codebook")
    for url, what in (
        ("/themes/codebook/versions/1/", "codebook version"),
        ("/themes/codebook/add/?name=Interpreters&example=No+interpreter+was+used.", "add"),
        ("/themes/codebook/themes/supervision/rename/", "rename a theme"),
        ("/themes/codebook/merge/", "merge themes"),
        ("/themes/codebook/split/?key=records_systems", "split a theme"),
    ):
        assert analyst.goto(url).status == 200, url
        axe.check(analyst, what)
    # A revision refused: the form again, its error summary naming the field.
    analyst.goto("/themes/codebook/split/?key=records_systems")
    analyst.get_by_role("button", name="Split the theme").click()
    expect(analyst.locator(".govuk-error-summary")).to_be_visible()
    axe.check(analyst, "split a theme, refused")
    analyst.goto("/themes/discovery/")
    axe.check(analyst, "discovery")
    analyst.goto("/themes/archive/")
    analyst.get_by_role("link", name=re.compile("Northshire")).first.click()
    analyst.get_by_role("link", name="Change the date published or the web address").click()
    expect(analyst.get_by_role("heading", level=1)).to_have_text("When and where was it published?")
    expect(analyst.get_by_label("Date published")).to_have_value("2017-03-14")
    expect(analyst.get_by_label("Web address of the published report")).to_have_value("")
    axe.check(analyst, "date published")
    analyst.go_back()
    analyst.get_by_role("link", name="Change the type of inspection").click()
    expect(analyst.get_by_role("heading", level=1)).to_contain_text("What kind of inspection")
    axe.check(analyst, "type and force of an import")
    analyst.go_back()
    # A statement the import misread is set aside, then taken back.
    analyst.locator("a[href^='/themes/statements/']").first.click()
    analyst.get_by_text("Correct how the import read it").click()
    axe.check(analyst, "correct how a statement was read")
    analyst.get_by_label("Not a statement: leave it out").check()
    analyst.get_by_role("button", name="Save the correction").click()
    expect(analyst.locator(".govuk-notification-banner")).to_contain_text("Set aside")
    axe.check(analyst, "a statement set aside")
    analyst.get_by_label("Not a statement: leave it out").uncheck()
    analyst.get_by_role("button", name="Save the correction").click()
    expect(analyst.locator(".govuk-notification-banner")).to_contain_text("Taken back")
    analyst.get_by_role("link", name="Back to the imported report").click()
    analyst.get_by_role("link", name=re.compile("^Remove this report")).click()
    expect(analyst.get_by_role("heading", level=1)).to_contain_text("Remove")
    axe.check(analyst, "remove an imported report")

    # The analysis: a number leads to exactly that many statements.
    analyst.goto("/themes/")
    analyst.get_by_role("link", name=re.compile("^Analysis")).click()
    expect(analyst.get_by_role("heading", level=1)).to_have_text("Analysis of the themes")
    axe.check(analyst, "analysis")
    first = analyst.locator("#prevalence ~ div table tbody tr").first.locator("td a").first
    count = int(first.inner_text().split()[0].replace(",", ""))
    first.click()
    expect(analyst.locator("ol.govuk-list > li")).to_have_count(min(count, 50))
    axe.check(analyst, "evidence")
    # The reports those statements come from, each with its own number of them.
    reports = analyst.get_by_role("link", name=re.compile(r"^\d+ reports?$"))
    listed = int(reports.inner_text().split()[0])
    reports.click()
    expect(analyst.locator("table.govuk-table tbody tr")).to_have_count(min(listed, 50))
    axe.check(analyst, "evidence, reports")
    # A scope that is not one: the page says what is wrong (status 400).
    for url, what in (
        ("/themes/analysis/?from=soon", "analysis, bad scope"),
        ("/themes/analysis/evidence/?theme=nonsense", "evidence, bad figure"),
    ):
        assert analyst.goto(url).status == 400, url
        axe.check(analyst, what)

    # A draft thematic report, its figures and quotations linked; and its PDF.
    analyst.goto("/themes/reports/")
    axe.check(analyst, "thematic reports")
    analyst.get_by_role("link", name="Draft a thematic report").click()
    # Refused first (the years the wrong way round), with the reason.
    analyst.get_by_label("Title").fill("Missing and exploited children")
    analyst.get_by_label("First year").fill("2026")
    analyst.get_by_label("Last year").fill("2016")
    analyst.get_by_role("button", name="Save").click()
    expect(analyst.locator(".govuk-error-summary")).to_contain_text("The last year")
    axe.check(analyst, "thematic report form, refused")
    analyst.get_by_label("Title").fill("Missing and exploited children, 2016 to 2026")
    analyst.get_by_label("First year").fill("2016")
    analyst.get_by_label("Last year").fill("2026")
    analyst.get_by_label("Introduction").fill("What the inspections found.")
    axe.check(analyst, "thematic report form")
    analyst.get_by_role("button", name="Save").click()
    expect(analyst.get_by_role("heading", level=1)).to_have_text(
        "Missing and exploited children, 2016 to 2026"
    )
    axe.check(analyst, "thematic report")  # its case files among it
    # The case files: the demo's published grade counts, each inspection's to its report.
    files = analyst.locator("section#case-files")
    expect(files).to_contain_text("cases were graded")
    report_link = files.locator("#case-files-by-inspection tbody a").first
    title = report_link.inner_text()
    report_link.click()
    expect(analyst.get_by_role("heading", level=1)).to_have_text(title)
    analyst.go_back()
    quote = analyst.locator("blockquote.app-quote").first
    expect(quote).to_be_visible()
    link = analyst.locator("section[id^=theme-] p a[href*='/themes/analysis/evidence/']").first
    count = int(link.inner_text().split()[0].replace(",", ""))
    link.click()
    expect(analyst.locator("ol.govuk-list > li")).to_have_count(min(count, 50))
    analyst.go_back()
    href = analyst.get_by_role("link", name=re.compile("^Download the PDF")).get_attribute("href")
    pdf = analyst.request.get(href or "")
    assert pdf.status == 200 and pdf.body().startswith(b"%PDF")
    axe.assert_clean()
