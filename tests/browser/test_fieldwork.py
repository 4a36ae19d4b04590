"""Fieldwork end to end, as a new user would do it in Chromium, checked by axe-core.

The demo programme has one NCPI of Cumbria Constabulary in fieldwork with the demo users
`lead` (lead inspector), `inspector` and `colleague` on its team and no case list yet. One
test walks it through the issue's "Done when", in steps, each building on the last:

1. a refused case list (a name column), then one with many row errors, all listed at once
   and nothing stored; then a good one, and its counts;
2. the sample size calculator and a seeded draw, repeated in this process with
   apps.fieldwork.draw;
3. a case audit partly by keyboard, autosaved, kept over a reload; an edit conflict with the
   lead in a second browser; an incomplete submission refused with what is missing; then
   submitted;
4. a child at risk referral, seen by the lead in Notices, answered by the force liaison and
   closed by the lead;
5. blind second marking by `colleague`, the disagreement resolved by the lead, kappa per
   criterion matching the statistic computed here;
6. the results page against the grades submitted, with the common-scale comparison and its
   mapping note; the national page;
7. the natural end of an audit (type the summary, submit at once) is not an edit conflict.

A last test looks at the fieldwork pages of an earlier, finished inspection of the demo.
Every page type is checked with axe-core; each test asserts no violation at its end, after
its other checks, listing every violation of the pages it visited. The audit form is
photographed at 1280x900 for docs/screenshots/case-audit.png.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from .conftest import PAGE_TIMEOUT_MS, ROOT, axe_violations, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

VIEWPORT = {"width": 1280, "height": 900}
SEED = "walk-through-2026"
# The README's picture of the audit page is refreshed only when asked (UPDATE_SCREENSHOTS=1), so
# a test run never changes a tracked file; otherwise the picture goes to var/ for a look.
SCREENSHOT = (
    ROOT / "docs" / "screenshots" / "case-audit.png"
    if os.environ.get("UPDATE_SCREENSHOTS") == "1"
    else ROOT / "var" / "screenshots" / "case-audit.png"
)


# Shared state ---------------------------------------------------------------------------------


@dataclass
class Audit:
    """One submitted audit, as this test filled it in."""

    reference: str
    url: str
    kind: str  # "primary" or "second"
    grades: dict[str, str]  # radio group name -> grade
    legends: dict[str, str]  # radio group name -> its legend (a criterion's text)

    @property
    def overall(self) -> str:
        return self.grades["overall_grade"]


@dataclass
class Walkthrough:
    overview: str = ""  # the fieldwork overview's path
    reference: str = ""  # e.g. NCPI-2026-004
    methodology: dict[str, Any] = field(default_factory=dict)  # the YAML definition
    scale: list[str] = field(default_factory=list)
    areas: dict[str, str] = field(default_factory=dict)  # name -> code, the three uploaded
    case_list: dict[str, list[str]] = field(default_factory=dict)  # code -> references
    sample: dict[str, list[str]] = field(default_factory=dict)  # code -> drawn, in order
    moderated: list[str] = field(default_factory=list)
    not_moderated: list[str] = field(default_factory=list)
    sample_path: str = ""
    names: dict[str, str] = field(default_factory=dict)  # username -> full name
    audits: list[Audit] = field(default_factory=list)
    resolved: dict[str, str] = field(default_factory=dict)  # reference -> agreed grade


WALK = Walkthrough()


class People:
    """people("lead") -> a page in a browser context of its own, signed in as `lead`."""

    def __init__(self, browser: Any, base_url: str) -> None:
        self.browser = browser
        self.base_url = base_url
        self.contexts: list[Any] = []

    def __call__(self, username: str) -> Any:
        context = self.browser.new_context(base_url=self.base_url, viewport=VIEWPORT)
        self.contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(PAGE_TIMEOUT_MS)
        sign_in(page, username)
        name = re.sub(r"^Hello,\s*", "", page.locator("h1").inner_text()).strip()
        WALK.names[username] = name
        return page

    def close_all(self) -> None:
        while self.contexts:
            self.contexts.pop().close()


class Axe:
    """axe-core on each page checked; the test ends by asserting none had a violation, so
    one test reports every violation of the pages it visits, after its other checks."""

    def __init__(self) -> None:
        self.violations: dict[str, list[dict]] = {}

    def check(self, page, what: str) -> None:
        found = axe_violations(page)
        if found:
            self.violations[f"{what} ({page.url})"] = found

    def assert_clean(self) -> None:
        assert not self.violations, "axe violations:\n" + json.dumps(self.violations, indent=1)


@pytest.fixture
def axe() -> Axe:
    return Axe()


# Helpers ------------------------------------------------------------------------------------


def expect(*args: Any, **kwargs: Any) -> Any:
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(*args, **kwargs)


def squash(text: str) -> str:
    return " ".join(text.split())


def success_banner(page) -> str:
    return page.locator(".govuk-notification-banner--success").inner_text()


def table_rows(page, selector: str) -> list[list[str]]:
    """The body rows of a table as lists of cell texts (header cells included)."""
    return page.eval_on_selector_all(
        f"{selector} tbody tr",
        "rows => rows.map(r => [...r.children].map(c => c.innerText.trim()))",
    )


def notices_count(page) -> int:
    label = page.locator(".govuk-service-navigation__link", has_text="Notices").inner_text()
    match = re.search(r"Notices \((\d+) new\)", label)
    return int(match.group(1)) if match else 0


def upload(page, name: str, content: bytes) -> None:
    page.get_by_label("Case list file").set_input_files(
        files=[{"name": name, "mimeType": "text/csv", "buffer": content}]
    )
    page.get_by_role("button", name="Check and upload").click()
    page.wait_for_load_state()


def csv_bytes(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode()


def load_methodology(title: str) -> dict[str, Any]:
    for path in sorted((ROOT / "data" / "methodologies").glob("*.yaml")):
        definition = yaml.safe_load(Path(path).read_text())
        if definition.get("title") == title:
            return definition
    raise AssertionError(f"No methodology file has the title {title!r}")


def open_walkthrough_inspection(page) -> str:
    """From the signed-in person's home, the Cumbria NCPI in fieldwork: its fieldwork overview.

    Returns the overview's path."""
    page.locator(".govuk-service-navigation__link", has_text="Home").click()
    assert page.locator("h1").inner_text().startswith("Hello,")
    rows = page.locator("table tbody tr").filter(has_text="Cumbria Constabulary")
    matches = [
        i
        for i in range(rows.count())
        if rows.nth(i).locator("td").nth(4).inner_text().strip() == "Fieldwork"
        and rows.nth(i).locator("a").inner_text().startswith("NCPI")
    ]
    assert len(matches) == 1, (
        "expected exactly one Cumbria NCPI in fieldwork on the home page, found "
        f"{[rows.nth(i).inner_text() for i in matches]}"
    )
    rows.nth(matches[0]).locator("a").click()
    page.get_by_role("link", name="Case lists, sample, case audits and results").click()
    assert page.locator("h1").inner_text() == "Fieldwork"
    return re.sub(r"^https?://[^/]+", "", page.url)


def radio_groups(page) -> list[str]:
    return page.eval_on_selector_all(
        "#audit-form input[type=radio]", "els => [...new Set(els.map(e => e.name))]"
    )


def audit_state(page) -> tuple[dict[str, str], dict[str, str]]:
    """The checked grade of every radio group, and each group's legend."""
    return page.evaluate(
        """() => {
          const grades = {}, legends = {};
          for (const input of document.querySelectorAll('#audit-form input[type=radio]')) {
            if (!(input.name in grades)) grades[input.name] = '';
            if (input.checked) grades[input.name] = input.value;
            const legend = input.closest('fieldset').querySelector('legend');
            legends[input.name] = legend.innerText.replace(/\\s+/g, ' ').trim();
          }
          return [grades, legends];
        }"""
    )


def checked(page, name: str) -> str:
    box = page.locator(f'#audit-form input[type=radio][name="{name}"]:checked')
    return box.get_attribute("value") if box.count() else ""


def wait_saved(page) -> None:
    expect(page.locator("#save-status")).to_contain_text("All changes saved", timeout=15000)


def grade_everything(page, *, criterion: str, stage: str, overall: str) -> None:
    """Choose a grade, with the mouse, for every group not yet answered."""
    # The click that opened the audit may still be navigating: read the form once it is there.
    expect(page.locator("#audit-form input[type=radio]").first).to_be_visible()
    changed = False
    for name in radio_groups(page):
        if checked(page, name):
            continue
        changed = True
        if name == "overall_grade":
            value = overall
        elif name.endswith("::grade"):
            value = stage
        else:
            value = criterion
        page.locator(f'#audit-form input[type=radio][name="{name}"][value="{value}"]').check()
    if changed:
        wait_saved(page)


def submit_audit(page, reference: str, kind: str) -> Audit:
    grades, legends = audit_state(page)
    url = re.sub(r"^https?://[^/]+", "", page.url)
    page.get_by_role("button", name="Submit the audit").click()
    page.wait_for_load_state()
    assert f"Audit of case {reference} submitted." in success_banner(page)
    audit = Audit(reference, url, kind, grades, legends)
    WALK.audits.append(audit)
    return audit


def grade_table(page, caption: str) -> list[list[str]]:
    """The rows of the grade table with this caption, without its total row."""
    table = page.locator("table").filter(
        has=page.locator("caption", has_text=re.compile(f"^{re.escape(caption)}"))
    )
    return table.evaluate(
        """t => [...t.tBodies[0].rows].filter(r => !r.classList.contains('app-total-row'))
                 .map(r => [...r.cells].map(c => c.innerText.trim()))"""
    )


def column_sums(rows: list[list[str]]) -> list[int]:
    """Per grade column (then the cases column), the sum of the counts ("3 (25%)")."""
    sums: list[int] = []
    for row in rows:
        counts = [int(cell.split()[0]) for cell in row[1:]]
        sums = [a + b for a, b in zip(sums, counts, strict=True)] if sums else counts
    return sums


def sample_row(page, reference: str) -> Any:
    return page.locator("#sample-table tbody tr").filter(
        has=page.locator("th", has_text=re.compile(rf"^{re.escape(reference)}$"))
    )


# 1. Case list ---------------------------------------------------------------------------------


def step_1_case_list_refused_with_every_problem_then_accepted(person: People, axe: Axe) -> None:
    lead = person("lead")
    WALK.overview = open_walkthrough_inspection(lead)
    assert "No case list yet." in lead.content()
    axe.check(lead, "overview, before anything")
    found = re.search(r"NCPI-\d{4}-\d+", lead.locator(".govuk-caption-l").inner_text())
    titled = re.search(r"Methodology: (.+?)\. Case grades:", lead.locator("main").inner_text())
    assert found and titled
    WALK.reference = found[0]
    methodology_title = titled[1]
    WALK.methodology = load_methodology(methodology_title)
    WALK.scale = list(WALK.methodology["grade_scale"])
    assert len(WALK.scale) >= 3

    lead.get_by_role("link", name="Upload a case list").click()
    axe.check(lead, "upload")
    # The area names, as a person would read them in "What the file must contain".
    lead.get_by_text("What the file must contain").click()
    areas_cell = lead.locator("tr", has_text="audit_area").locator("td").nth(1).inner_text()
    area_names = [a.strip() for a in areas_cell.removeprefix("Required. One of:").split(";")]
    area_names[-1] = area_names[-1].rstrip(".")
    codes = {a["name"]: a["code"] for a in WALK.methodology["audit_areas"]}
    assert set(area_names) == set(codes), area_names
    # The last three areas have the fewest stages in NCPI 2024: quicker audits.
    WALK.areas = {name: codes[name] for name in area_names[-3:]}
    first_area = area_names[-1]

    # A file with a name column is refused outright, with the reason.
    upload(
        lead,
        "with-names.csv",
        csv_bytes(
            [
                ["case_reference", "audit_area", "date_opened", "Child name"],
                ["CU-0001", first_area, "2025-03-01", "Someone"],
            ]
        ),
    )
    summary = lead.locator(".govuk-error-summary").inner_text()
    assert "The file has 1 problem and nothing from it has been stored" in summary
    rows = table_rows(lead, "#problem-table")
    assert len(rows) == 1
    assert rows[0][:2] == ["(header)", "Child name"]
    assert "personal information (a name)" in rows[0][2]
    assert "Error:" in lead.title()
    axe.check(lead, "upload with errors")

    # A file with many row errors: every one listed at once, by row and column.
    bad = [
        ["case_reference", "audit_area", "date_opened", "date_closed", "team"],
        ["CU-0001", first_area, "2025-03-01", "", "Public protection"],  # row 2: fine
        ["CU-0002", first_area, "31/02/2025", "", ""],  # 3: no 31 February
        ["9434765919", first_area, "2025-03-02", "", ""],  # 4: an NHS number
        ["CU-0004", "Burglary", "2025-03-03", "", ""],  # 5: unknown area
        ["CU-0005", first_area, "03/15/2025", "", ""],  # 6: month first
        ["CU-0006", first_area, "2027-01-05", "", ""],  # 7: after today
        ["CU-0007", "Shoplifting", "15/03/25", "2025-01-01", ""],  # 8: area, 2-digit year
        ["CU-0008", first_area, "2025-04-01", "2025-03-01", ""],  # 9: closed before opened
    ]
    upload(lead, "with-errors.csv", csv_bytes(bad))
    assert "The file has 8 problems and nothing from it has been stored" in (
        lead.locator(".govuk-error-summary").inner_text()
    )
    assert lead.locator("#problems").inner_text() == "8 problems in the file"
    rows = table_rows(lead, "#problem-table")
    expected = [
        ("3", "date_opened", "not a real calendar date"),
        ("4", "case_reference", "looks like an NHS number"),
        ("5", "audit_area", "is not one of this inspection's areas"),
        ("6", "date_opened", "written month first"),
        ("7", "date_opened", "is after today"),
        ("8", "audit_area", "is not one of this inspection's areas"),
        ("8", "date_opened", "two-digit year"),
        ("9", "date_closed", "before the date opened"),
    ]
    assert [(r[0], r[1]) for r in rows] == [(e[0], e[1]) for e in expected], rows
    for row, (_, _, reason) in zip(rows, expected, strict=True):
        assert reason in row[2], (row, reason)
    assert "9434765919" not in lead.content(), "a refused value must not be echoed"
    axe.check(lead, "upload with row errors")

    # Nothing was stored.
    lead.goto(WALK.overview)
    assert "No case list yet." in lead.content()

    # A good file: three areas of 40 cases.
    rows_out = [["case_reference", "audit_area", "date_opened", "date_closed", "team"]]
    for name, code in WALK.areas.items():
        prefix = "".join(word[0] for word in code.split("_")).upper()
        references = [f"CU/{prefix}/25-{n:04d}" for n in range(1, 41)]
        WALK.case_list[code] = references
        for n, reference in enumerate(references):
            opened = f"2025-{1 + n % 9:02d}-{1 + n % 27:02d}"
            closed = f"2025-{1 + n % 9:02d}-28" if n % 3 == 0 else ""
            rows_out.append([reference, name, opened, closed, "Public protection unit"])
    lead.get_by_role("link", name="Upload a case list").click()
    upload(lead, "cumbria-cases.csv", csv_bytes(rows_out))
    assert "cumbria-cases.csv: 120 eligible cases stored." in success_banner(lead)
    assert "cumbria-cases.csv: 120 cases, uploaded by" in lead.content()
    progress = {r[0]: r[1] for r in table_rows(lead, "main table")}
    for name in WALK.areas:
        assert progress[name] == "40", progress
    assert progress["Total"] == "120"
    axe.check(lead, "overview with a case list")


# 2. Sample ------------------------------------------------------------------------------------


def step_2_calculator_and_reproducible_draw(person: People, axe: Axe) -> None:
    from apps.fieldwork import draw, sample_size

    lead = person("lead")
    lead.goto(WALK.overview)
    lead.get_by_role("link", name="Draw the sample").click()
    assert lead.locator("h1").inner_text() == "Draw the sample"
    axe.check(lead, "sample draw")

    lead.get_by_label("Expected proportion (%)").fill("50")
    lead.get_by_label("Margin of error (%)").fill("15")
    lead.get_by_label("Confidence level").select_option(label="90%")
    lead.get_by_label("Minimum cases per audit area").fill("5")
    lead.get_by_role("button", name="Calculate").click()
    expected = sample_size.sample_size(population=120, proportion=0.5, margin=0.15, confidence=0.90)
    quotas = sample_size.allocate_quotas(
        expected.required, {code: 40 for code in WALK.areas.values()}, minimum=5
    )
    calculation = lead.locator("#calculation").inner_text()
    assert f"{expected.required} cases from 120 eligible." in calculation
    assert "finite population correction" in calculation
    for name, code in WALK.areas.items():
        assert lead.get_by_label(name, exact=True).input_value() == str(quotas[code])
    axe.check(lead, "the calculator's result")

    # A draw without a rationale is refused.
    lead.get_by_label("Seed (optional)").fill(SEED)
    lead.get_by_role("button", name="Draw the sample").click()
    assert "Explain why these numbers of cases were chosen." in (
        lead.locator(".govuk-error-summary").inner_text()
    )
    axe.check(lead, "sample draw with errors")
    lead.get_by_label("Rationale").fill(
        "The calculator's sample for a 15-point margin at 90% confidence, shared by area size."
    )
    lead.get_by_role("button", name="Draw the sample").click()
    assert f"Sample drawn with seed {SEED}" in success_banner(lead)
    assert lead.locator("h1").inner_text() == "The sample"
    assert lead.locator("dd code").first.inner_text() == SEED
    axe.check(lead, "the sample list")
    WALK.sample_path = re.sub(r"^https?://[^/]+", "", lead.url)

    codes = WALK.areas
    drawn: dict[str, list[str]] = {code: [] for code in codes.values()}
    for row in table_rows(lead, "#sample-table"):
        reference, area, _audit, second = row[0], row[1], row[2], row[3]
        drawn[codes[area]].append(reference)
        (WALK.moderated if second == "Selected" else WALK.not_moderated).append(reference)
    # The draw is reproducible: the same seed and case list give the same cases, in order.
    for code, references in WALK.case_list.items():
        assert drawn[code] == draw.stratum_order(SEED, code, references)[: quotas[code]], code
    WALK.sample = drawn
    # The lead asked for 10% (at least 5) to be second-marked blind.
    drawn_total = sum(quotas.values())
    assert len(WALK.moderated) == min(drawn_total, max(5, -(-drawn_total // 10)))

    # The replacement page, refused without a reason; nothing is replaced here.
    last = WALK.not_moderated[-1]
    lead.get_by_role("link", name=f"Replace case {last}").click()
    assert lead.locator("h1").inner_text() == f"Replace case {last}"
    axe.check(lead, "replace a case")
    lead.get_by_role("button", name="Replace the case").click()
    assert (
        "Say why the case cannot be audited." in lead.locator(".govuk-error-summary").inner_text()
    )
    axe.check(lead, "replace a case, with errors")
    lead.goto(WALK.sample_path)
    assert last in [row[0] for row in table_rows(lead, "#sample-table")]


# 3. A case audit ------------------------------------------------------------------------------


def step_3_keyboard_audit_autosave_conflict_and_submission(person: People, axe: Axe) -> None:
    scale = WALK.scale
    inspector = person("inspector")
    assert open_walkthrough_inspection(inspector) == WALK.overview
    inspector.get_by_role("link", name="The sample and its case audits").click()
    case = WALK.not_moderated[0]
    inspector.get_by_role("button", name=f"Audit case {case}").click()
    assert inspector.locator("h1").inner_text() == f"Audit of case {case}"
    audit_url = re.sub(r"^https?://[^/]+", "", inspector.url)
    axe.check(inspector, "the audit form")
    groups = radio_groups(inspector)
    first, second, third = groups[0], groups[1], groups[2]
    first_radio = inspector.locator(f'#audit-form input[type=radio][name="{first}"]').first
    first_id = first_radio.get_attribute("id")

    # By keyboard only: Tab to the first grade, Space to choose, arrows to change,
    # Tab to the evidence notes and type, on to the next criterion.
    for _ in range(120):
        inspector.keyboard.press("Tab")
        if inspector.evaluate("() => document.activeElement.id") == first_id:
            break
    else:
        pytest.fail("Tab never reached the first grade of the audit form")
    inspector.keyboard.press("Space")
    assert checked(inspector, first) == scale[0]
    inspector.keyboard.press("ArrowRight")
    assert checked(inspector, first) == scale[1]
    inspector.keyboard.press("Tab")
    assert inspector.evaluate("() => document.activeElement.tagName") == "TEXTAREA"
    notes_first = "Strategy discussion the same day; the police actions were completed."
    inspector.keyboard.type(notes_first)
    inspector.keyboard.press("Tab")
    assert inspector.evaluate("() => document.activeElement.name") == second
    inspector.keyboard.press("Space")
    inspector.keyboard.press("ArrowRight")
    inspector.keyboard.press("ArrowRight")
    assert checked(inspector, second) == scale[2]
    inspector.keyboard.press("Tab")
    notes_second = "The referral was late & did not say what the police had done."
    inspector.keyboard.type(notes_second)
    inspector.keyboard.press("Tab")  # leaving the notes saves them at once
    wait_saved(inspector)

    # Kept over a reload.
    inspector.reload()
    assert checked(inspector, first) == scale[1]
    assert checked(inspector, second) == scale[2]
    notes = inspector.locator("#audit-form textarea")
    assert notes.nth(0).input_value() == notes_first
    assert notes.nth(1).input_value() == notes_second
    inspector_name = WALK.names["inspector"]
    expect(inspector.locator("#save-status")).to_contain_text(f"by {inspector_name}.")
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    inspector.evaluate("window.scrollTo(0, 0)")
    inspector.screenshot(path=str(SCREENSHOT))

    # The lead opens the same audit in another browser and changes a grade...
    lead = person("lead")
    lead.goto(audit_url)
    lead.locator(f'#audit-form input[type=radio][name="{third}"][value="{scale[0]}"]').check()
    wait_saved(lead)
    # ...then the inspector, whose page is now out of date, types a summary.
    typed = "Typed while the lead was changing the audit."
    inspector.locator("#overall-notes").click()
    inspector.keyboard.type(typed)
    alert = inspector.get_by_role("alert").filter(has_text="Your change was not saved")
    expect(alert).to_be_visible()
    lead_name = WALK.names["lead"]
    assert f"{lead_name} saved this audit at" in alert.inner_text()
    assert inspector.locator("#overall-notes").input_value() == typed
    expect(inspector.locator("#save-status")).to_have_text(
        "Not saved: someone else changed this audit."
    )
    axe.check(inspector, "the conflict message")
    # A reload shows what was typed and was not saved, with the warning...
    inspector.reload()
    expect(inspector.get_by_role("alert")).to_contain_text("could not be saved")
    assert inspector.locator("#overall-notes").input_value() == typed
    # ...and the next, the lead's version.
    inspector.reload()
    assert inspector.get_by_role("alert").count() == 0
    assert inspector.locator("#overall-notes").input_value() == ""
    assert checked(inspector, third) == scale[0]
    inspector.locator("#overall-notes").fill(typed)
    inspector.locator("#overall-notes").blur()
    wait_saved(inspector)

    # Submitting an incomplete audit lists what is still to do.
    inspector.get_by_role("button", name="Submit the audit").click()
    problem = inspector.locator(".govuk-error-summary").inner_text()
    assert "The audit is not complete. Still to do:" in problem
    assert "Give the case its overall grade" in problem
    assert "give the stage an overall grade" in problem
    assert inspector.title().startswith("Error:")
    assert inspector.locator("#overall-notes").input_value() == typed
    axe.check(inspector, "audit with an incomplete submission")

    grade_everything(inspector, criterion=scale[1], stage=scale[1], overall=scale[1])
    audit = submit_audit(inspector, case, "primary")
    assert audit.grades[first] == scale[1] and audit.grades[third] == scale[0]
    assert "Submitted" in sample_row(inspector, case).inner_text()
    assert f"{inspector_name}: {scale[1]}" in sample_row(inspector, case).inner_text()


# 4. Child at risk now ------------------------------------------------------------------------


def step_4_child_at_risk_referral(person: People, axe: Axe) -> None:
    case = WALK.not_moderated[1]
    lead = person("lead")
    lead.goto(WALK.overview)
    before = notices_count(lead)

    inspector = person("inspector")
    inspector.goto(WALK.sample_path)
    sample_row(inspector, case).get_by_role("link", name=re.compile("^Child at risk")).click()
    axe.check(inspector, "referral create")
    inspector.get_by_role("button", name="Refer to the force now").click()
    assert "Describe why the child appears to be at risk now." in (
        inspector.locator(".govuk-error-summary").inner_text()
    )
    axe.check(inspector, "referral create with errors")
    inspector.get_by_label("Why does the child appear to be at risk now?").fill(
        "The suspect is back living in the household and no safeguarding visit is recorded."
    )
    inspector.get_by_role("button", name="Refer to the force now").click()
    assert "The lead inspector and the force have been told." in success_banner(inspector)
    assert inspector.locator("h1").inner_text() == f"Child at risk: case {case}"
    axe.check(inspector, "referral detail")
    referral_path = re.sub(r"^https?://[^/]+", "", inspector.url)

    # The lead is told, in the header and in Notices.
    lead.reload()
    assert notices_count(lead) == before + 1
    lead.get_by_role("link", name=re.compile(r"^Notices \(\d+ new\)$")).click()
    axe.check(lead, "notices")
    notice = lead.locator(".app-notice").filter(has_text=f"child at risk referral for case {case}")
    assert "Urgent" in notice.inner_text() and "New" in notice.inner_text()
    notice.get_by_role("link").click()
    assert lead.url.endswith(referral_path)
    assert "Referred to the force" in lead.locator("main").inner_text()
    lead.get_by_role("link", name="All referrals").click()
    axe.check(lead, "referral list")
    assert [case, "Referred to the force"] == [table_rows(lead, "main table")[0][i] for i in (0, 2)]

    # The force's liaison acknowledges it and records what the force did.
    liaison = person("liaison")
    assert notices_count(liaison) >= 1
    liaison.get_by_role("link", name=re.compile(r"^Notices")).click()
    liaison.get_by_role(
        "link", name=f"Child at risk: case {case} referred back by the inspectorate"
    ).click()
    assert liaison.url.endswith(referral_path)
    axe.check(liaison, "referral detail, the force's view")
    liaison.get_by_role("button", name="Acknowledge the referral").click()
    assert "Referral acknowledged." in success_banner(liaison)
    liaison.get_by_label("What has the force done?").fill(
        "A safeguarding visit today; the suspect was arrested and bailed away from the home."
    )
    liaison.get_by_role("button", name="Record the action").click()
    assert "The force's action is recorded." in success_banner(liaison)
    assert "Force action recorded" in liaison.locator("main").inner_text()
    axe.check(liaison, "referral detail, action recorded")
    # The force sees its referrals and nothing else of the case audits.
    liaison.goto(WALK.overview)
    assert "1 child at risk referral still open" in squash(liaison.locator("main").inner_text())
    assert liaison.get_by_role("link", name="Draw the sample").count() == 0
    axe.check(liaison, "overview, the force's view")
    assert liaison.goto(WALK.sample_path).status == 403

    # The lead closes it.
    lead.goto(referral_path)
    lead.get_by_label("Why can the referral be closed?").fill(
        "The force's action makes the child safe; checked with the duty inspector."
    )
    lead.get_by_role("button", name="Close the referral").click()
    assert "Referral closed." in success_banner(lead)
    assert "Closed" in lead.locator("main .govuk-tag").first.inner_text()
    lead.goto(WALK.overview)
    assert "Child at risk referrals (1, all closed)" in lead.content()


# 5. Blind second marking ---------------------------------------------------------------------


def step_5_blind_second_marking_moderation_and_agreement(person: People, axe: Axe) -> None:
    from apps.fieldwork.agreement import pair_agreement

    scale = WALK.scale
    cases = WALK.moderated[:3]
    # (criterion and stage grade, overall grade) of the audit, then of the second marking.
    plan = {
        cases[0]: ((scale[1], scale[1]), (scale[1], scale[-1])),  # overall grades differ
        cases[1]: ((scale[2], scale[2]), (scale[-1], scale[2])),
        cases[2]: ((scale[-1], scale[-1]), (scale[-1], scale[-1])),
    }
    inspector = person("inspector")
    inspector.goto(WALK.sample_path)
    primary: dict[str, Audit] = {}
    for case in cases:
        inspector.get_by_role("button", name=f"Audit case {case}").click()
        (grade, overall), _ = plan[case]
        grade_everything(inspector, criterion=grade, stage=grade, overall=overall)
        primary[case] = submit_audit(inspector, case, "primary")

    colleague = person("colleague")
    assert open_walkthrough_inspection(colleague) == WALK.overview
    colleague.get_by_role("link", name="The sample and its case audits").click()
    axe.check(colleague, "the sample, second marker's view")
    # Blind: nothing of the inspector's grades for these cases, and no way to the audit.
    html = colleague.content()
    for case in cases:
        row = sample_row(colleague, case).inner_text()
        assert "Submitted" in row
        row = row.replace(WALK.names["inspector"], "").lower()
        assert not any(grade in row for grade in scale), row
        assert primary[case].url not in html
    assert colleague.goto(primary[cases[0]].url).status == 404
    assert "Page not found" in colleague.locator("h1").inner_text()
    colleague.goto(WALK.sample_path)

    second: dict[str, Audit] = {}
    for case in cases:
        colleague.get_by_role("button", name=f"Second-mark case {case} blind").click()
        assert colleague.locator("h1").inner_text() == f"Blind second marking of case {case}"
        assert "This is a blind second marking" in colleague.locator("main").inner_text()
        grades, _ = audit_state(colleague)
        assert not any(grades.values()), "the second marker must start from a blank form"
        if case == cases[0]:
            axe.check(colleague, "blind second marking form")
        _, (grade, overall) = plan[case]
        grade_everything(colleague, criterion=grade, stage=grade, overall=overall)
        second[case] = submit_audit(colleague, case, "second")

    # The lead sees the disagreement and agrees a grade.
    lead = person("lead")
    lead.goto(WALK.overview)
    lead.get_by_role("link", name="Moderation: second marking and agreed grades").click()
    axe.check(lead, "moderation")
    rows = table_rows(lead, "#disagreements")
    assert [r[0] for r in rows] == [cases[0]], rows
    assert rows[0][1] == f"{scale[1]} ({WALK.names['inspector']})"
    assert rows[0][2] == f"{scale[-1]} ({WALK.names['colleague']})"
    lead.get_by_role("link", name=f"Agree the grade of {cases[0]}").click()
    axe.check(lead, "resolve")
    lead.get_by_role("button", name="Record the agreed grade").click()
    errors = lead.locator(".govuk-error-summary").inner_text()
    assert "Choose the agreed grade." in errors and "Say why this grade was agreed." in errors
    axe.check(lead, "resolve with errors")
    agreed = scale[2]
    lead.get_by_label(agreed.capitalize(), exact=True).check()
    lead.get_by_label("Why this grade?").fill(
        "Partnership working was good but the referral was late: the middle grade fits."
    )
    lead.get_by_role("button", name="Record the agreed grade").click()
    assert f"Agreed grade recorded for case {cases[0]}." in success_banner(lead)
    assert table_rows(lead, "#disagreements")[0][3] == agreed
    WALK.resolved[cases[0]] = agreed

    # Agreement: kappa per criterion, as computed here from the grades given.
    lead.goto(WALK.overview)
    lead.get_by_role("link", name="Agreement between markers").click()
    axe.check(lead, "agreement")
    assert f"{len(cases)} of {len(WALK.moderated)} cases selected" in lead.content()
    shown = {squash(r[1]): r for r in table_rows(lead, "#agreement-criteria")}
    expected: dict[str, tuple[list[str], list[str]]] = {}
    for case in cases:
        a, b = primary[case], second[case]
        for name, grade in a.grades.items():
            if name.endswith(":grade") and not name.endswith("::grade"):
                firsts, seconds = expected.setdefault(a.legends[name], ([], []))
                firsts.append(grade)
                seconds.append(b.grades[name])
    assert set(shown) == set(expected), set(shown) ^ set(expected)
    defined = 0
    for text, (firsts, seconds) in expected.items():
        stats = pair_agreement(firsts, seconds, scale)
        row = shown[text]
        assert row[2] == str(stats.n), (text, row)
        kappa = "undefined" if stats.kappa is None else f"{stats.kappa:.2f}"
        assert row[4].startswith(kappa), (text, row, kappa)
        defined += stats.kappa is not None
    assert defined, "some criterion should have a kappa"
    agreement = pair_agreement(
        [primary[c].overall for c in cases], [second[c].overall for c in cases], scale
    )
    assert agreement.kappa is not None
    summary = squash(lead.locator("main dl").first.inner_text())
    assert f"Cohen's kappa {agreement.kappa:.2f}" in summary, summary


# 6. Results -----------------------------------------------------------------------------------


def step_6_results_match_the_submitted_audits(person: People, axe: Axe) -> None:
    scale = WALK.scale
    finals: Counter[str] = Counter()
    for audit in WALK.audits:
        if audit.kind == "primary":
            finals[WALK.resolved.get(audit.reference, audit.overall)] += 1
    total = sum(finals.values())

    lead = person("lead")
    lead.goto(WALK.overview)
    progress = {r[0]: r for r in table_rows(lead, "main table")}
    assert progress["Total"][4] == str(total)  # audited
    assert progress["Total"][6].startswith("3 of ")  # second-marked

    lead.get_by_role("link", name="Results: case grades").click()
    axe.check(lead, "results")
    text = squash(lead.locator("main").inner_text())
    breakdown = ", ".join(f"{finals[g]} {g}" for g in scale)
    assert f"{total} cases graded: {breakdown}." in text, text[:400]

    by_area = grade_table(lead, "Case grades by audit area")
    assert column_sums(by_area) == [finals[g] for g in scale] + [total]

    # On the common scale, through the mapping the page explains.
    mapping = dict(WALK.methodology["grade_mapping"])
    bands = [
        ("good", "Good or better"),
        ("requires_improvement", "Requires improvement or adequate"),
        ("inadequate", "Inadequate"),
    ]
    comparable: Counter[str] = Counter()
    for grade, n in finals.items():
        comparable[mapping[grade]] += n
    comparison = lead.locator("table", has_text="Case grades on the common scale")
    headers = comparison.locator("thead th").all_inner_texts()
    assert headers[1:4] == [label for _, label in bands]
    this = comparison.locator("tr", has_text=f"This inspection ({WALK.reference})")
    cells = this.locator("td").all_inner_texts()
    assert [int(c.split()[0]) for c in cells[:3]] == [comparable[code] for code, _ in bands]
    national = comparison.locator("tr", has_text="All inspections nationally")
    national_total = int(national.locator("td").last.inner_text())
    assert national_total > total, "the demo's earlier inspections count nationally"
    assert "How grades are made comparable" in text
    assert squash(WALK.methodology["mapping_note"]) in text
    lead.get_by_role("link", name="How the grades are mapped onto the common scale").click()

    lead.get_by_role("link", name="National grades").click()
    axe.check(lead, "national")
    assert column_sums(grade_table(lead, "Case grades nationally, by year"))[-1] == national_total


def step_7_submitting_straight_after_typing_is_not_a_conflict(person: People, axe: Axe) -> None:
    """The natural end of an audit: choose the overall grade, type the summary, press
    "Submit the audit" at once. Leaving the summary autosaves it while the form posts;
    the two must not collide into an edit conflict with oneself."""
    scale = WALK.scale
    case = WALK.not_moderated[2]
    inspector = person("inspector")
    inspector.goto(WALK.sample_path)
    inspector.get_by_role("button", name=f"Audit case {case}").click()
    grade_everything(inspector, criterion=scale[0], stage=scale[0], overall=scale[0])
    inspector.locator("#overall-notes").click()
    inspector.keyboard.type("Consistently good practice with effective partnership working.")
    inspector.get_by_role("button", name="Submit the audit").click()
    inspector.wait_for_load_state()
    assert inspector.locator(".govuk-error-summary").count() == 0, inspector.locator(
        ".govuk-error-summary"
    ).inner_text()
    assert f"Audit of case {case} submitted." in success_banner(inspector)


# The walk-through, as one test --------------------------------------------------------------
# One test, not seven: each step needs the one before, and tests of one module can be spread
# over xdist workers (each with a server of its own).

STEPS = (
    step_1_case_list_refused_with_every_problem_then_accepted,
    step_2_calculator_and_reproducible_draw,
    step_3_keyboard_audit_autosave_conflict_and_submission,
    step_4_child_at_risk_referral,
    step_5_blind_second_marking_moderation_and_agreement,
    step_6_results_match_the_submitted_audits,
    step_7_submitting_straight_after_typing_is_not_a_conflict,
)


def test_fieldwork_walk_through(person, axe):
    global WALK
    WALK = Walkthrough()
    try:
        for step in STEPS:
            step(person, axe)
            person.close_all()
    finally:
        if axe.violations:  # shown with a failure of a later check too
            print("axe violations:\n" + json.dumps(axe.violations, indent=1))
    axe.assert_clean()


# Earlier inspections -------------------------------------------------------------------------


def test_fieldwork_pages_of_a_finished_inspection(person, axe):
    """The demo's earlier inspections have their fieldwork: the lead's pages for one."""
    lead = person("lead")
    lead.goto("/inspections/?state=published")
    links = lead.locator("table tbody tr a")
    assert links.count() > 0
    for i in range(links.count()):
        lead.goto("/inspections/?state=published")
        lead.locator("table tbody tr a").nth(i).click()
        fieldwork = lead.get_by_role("link", name="Case lists, sample, case audits and results")
        if not fieldwork.count():
            continue
        fieldwork.click()
        if not lead.get_by_role("link", name="The sample and its case audits").count():
            continue
        break
    else:
        pytest.fail("the lead should have an earlier inspection with a sample")
    axe.check(lead, "overview with progress")
    overview = lead.url
    lead.get_by_role("link", name="The sample and its case audits").click()
    axe.check(lead, "the sample of a finished inspection")
    lead.get_by_role("link", name=re.compile(r"^View the audit")).first.click()
    assert lead.locator("#audit-form input[type=radio]:disabled").count() > 0
    assert lead.get_by_role("button", name="Submit the audit").count() == 0
    axe.check(lead, "a submitted audit, read only")
    for link in ("Agreement between markers", "Results: case grades"):
        lead.goto(overview)
        lead.get_by_role("link", name=link).click()
        axe.check(lead, f"{link} of a finished inspection")
    assert "cases graded" in lead.content()
    axe.assert_clean()
