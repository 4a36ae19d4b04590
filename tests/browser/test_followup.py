"""Follow-up end to end, as new users would do it in Chromium, checked by axe-core on every
page type of the issue.

The demo programme has Cumbria's JTAI-2026-001 published on 21 August 2026 and in follow-up,
its action plan about eight weeks overdue. `liaison` is Cumbria's force liaison; `inspector`
is on the JTAI's team (led by ruth.adeyemi, who has no demo sign-in); `manager` runs the
programme. NCPI-2020-001 (Cumbria) was followed by a post-inspection review, PIR-2021-001,
that re-audited cases. The walk-through:

1. the reminder job runs twice against the server's database: the overdue plan is notified
   once, in the app and by email, to the liaison and the lead;
2. `liaison` follows the notice, sends the action plan (refused, with the reason, while a
   recommendation has no action), posts evidence on a recommendation (a file that is not
   what its name says is refused first) and a comment, and makes, uses and revokes an API
   key;
3. `manager` accepts the plan; `inspector` downloads the evidence, assesses and closes the
   recommendation; the liaison's later update on it is refused;
4. `manager` is told why the cause of concern cannot be closed yet, chooses a
   post-inspection review, reads NCPI-2020-001's re-audited grades against the original's
   (checked against the server's database), and uses the national tracker, its download
   and the summary for the police and crime commissioner;
5. a member of the public reads the dated history on the force's page, with none of the
   private text.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import time

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from . import test_fieldwork as fw
from .conftest import DEMO_TODAY, server_manage
from .test_fieldwork import Axe

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

REFERENCE = "JTAI-2026-001"
FORCE = "Cumbria Constabulary"
# A complete (if blank) one-page PDF: the evidence check wants the signature and the end.
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)
PROGRESS_TEXT = "Supervisors now review every referral within a day; the audit of 40 is attached."
COMMENT_TEXT = "Would a dip sample of January's referrals help the assessment?"
REASONING = "The audit shows every referral in the sample reviewed within one working day."
PUBLIC_NOTE = "Achieved: the force's audit shows referrals are reviewed within a day."


def long_date(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


def banner(page) -> str:
    return page.locator(".govuk-notification-banner").first.inner_text()


def open_follow_up(page, reference: str = REFERENCE) -> str:
    """From the Follow-up section of the navigation to an inspection's follow-up page."""
    page.get_by_role("link", name="Follow-up", exact=True).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Follow-up of published inspections")
    page.get_by_role("link", name=reference, exact=True).click()
    expect(page.locator(".govuk-caption-l")).to_have_text(reference)
    return page.url


def open_recommendation(page, number: int) -> None:
    row = page.locator("table tbody tr").filter(
        has=page.locator("td:first-child").get_by_text(str(number), exact=True)
    )
    row.get_by_role("link").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Recommendation {number}")


def history_rows(page, selector: str = "#history ~ table") -> list[list[str]]:
    return page.eval_on_selector_all(
        f"{selector} tbody tr",
        "rows => rows.map(r => [...r.cells].map(c => c.innerText.trim()))",
    )


def server_json(code: str) -> object:
    """The last line a Python snippet prints, run in the server's environment."""
    lines = server_manage("shell", "-c", code).strip().splitlines()
    return json.loads(lines[-1])


def _clear_of_midnight(minutes: int = 15) -> None:
    """Wait out the last minutes of the server's day (more than the walk-through takes, about
    two): the walk-through compares the dates the
    server stamps with today's, and a form filled before midnight and saved after it is
    refused ("before the last status")."""
    now = timezone.localtime()
    midnight = (now + dt.timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    if midnight - now < dt.timedelta(minutes=minutes):
        time.sleep((midnight - now).total_seconds() + 1)


def test_follow_up_walk_through(person):
    axe = Axe()
    _clear_of_midnight()
    today = timezone.localdate()

    # 1. Reminders: two runs, one notice ---------------------------------------------------
    first = server_manage("send_reminders", "--now", "--today", DEMO_TODAY)
    second = server_manage("send_reminders", "--now", "--today", DEMO_TODAY)
    plans_overdue = re.search(r"(\d+) overdue and \d+ due-soon action plan", first)
    assert plans_overdue and int(plans_overdue[1]) >= 1, first
    assert re.search(r"; [1-9]\d* notices? sent", first), first
    assert second.strip().endswith("0 notices sent"), second
    assert "0 overdue and 0 due-soon action plan reminders" in second, second
    subject = f"{REFERENCE}: action plan overdue"
    sent = server_json(
        "import json; from apps.notifications.models import Notification as N; "
        f"q = N.objects.filter(subject={subject!r}); "
        "print(json.dumps(sorted([n.recipient.username, n.emailed_at is not None] for n in q)))"
    )
    assert sent == [["liaison", True], ["ruth.adeyemi", True]], sent

    # 2. The force's side ----------------------------------------------------------------
    liaison = person("liaison")
    liaison.get_by_role("link", name=re.compile(r"^Notices")).click()
    notices = liaison.locator(".app-notice").filter(has_text=subject)
    expect(notices).to_have_count(1)
    axe.check(liaison, "notices")
    notices.get_by_role("link", name=subject).click()

    # The notice leads to the plan form; a recommendation without an action is refused.
    expect(liaison.get_by_role("heading", level=1)).to_have_text("Send the action plan")
    expect(liaison.get_by_text("(it is overdue)")).to_be_visible()
    axe.check(liaison, "action plan form")
    groups = liaison.locator("form fieldset").filter(
        has=liaison.get_by_role("heading", name=re.compile(r"^Recommendation \d+$"))
    )
    numbers = [int(re.sub(r"\D", "", t)) for t in groups.locator("h2").all_inner_texts()]
    assert len(numbers) >= 2, numbers

    def fill_plan(group, number: int) -> None:
        group.get_by_label("What the force will do").fill(
            f"Recommendation {number}: supervisors review each referral within a working day."
        )
        group.get_by_label("The difference it will make for children").fill(
            "Children at risk are seen and protected sooner."
        )
        group.get_by_label("What data or evidence will show it worked").fill(
            "A monthly audit of 40 referrals, reported to the vulnerability board."
        )

    for i, number in enumerate(numbers[:-1]):
        fill_plan(groups.nth(i), number)
    liaison.get_by_label("The plan as a document (optional)").set_input_files(
        {"name": "action-plan.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    liaison.get_by_role("button", name="Send the action plan").click()
    summary = liaison.locator(".govuk-error-summary")
    expect(summary).to_contain_text(f"Recommendation {numbers[-1]}: enter what the force will do.")
    axe.check(liaison, "action plan form with an error")
    fill_plan(groups.nth(len(numbers) - 1), numbers[-1])
    liaison.get_by_label("The plan as a document (optional)").set_input_files(
        {"name": "action-plan.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    liaison.get_by_role("button", name="Send the action plan").click()
    expect(liaison.locator(".govuk-notification-banner")).to_contain_text(
        "Action plan 1 sent to the inspectorate."
    )
    expect(liaison.get_by_role("heading", level=1)).to_have_text("Action plan 1")
    expect(liaison.get_by_role("link", name="action-plan.pdf")).to_be_visible()
    expect(liaison.get_by_role("heading", name="Review the plan")).to_have_count(0)
    axe.check(liaison, "action plan, the force's view")
    liaison.get_by_role("link", name="Back to the follow-up").click()
    follow_up_url = liaison.url
    expect(liaison.get_by_text(re.compile(r"Plan 1 received .*: submitted"))).to_be_visible()
    axe.check(liaison, "follow-up of an inspection, the force's view")

    # Evidence on the recommendation not tied to the cause of concern (the last one).
    number = numbers[-1]
    liaison.goto(follow_up_url)
    open_recommendation(liaison, number)
    rec_path = re.sub(r"^https?://[^/]+", "", liaison.url)
    rec_id = int(re.search(r"/recommendations/(\d+)/", rec_path)[1])  # type: ignore[index]
    axe.check(liaison, "recommendation, the force's view")
    liaison.get_by_role("link", name="Post an update or evidence").click()
    axe.check(liaison, "progress form")
    liaison.get_by_label("Evidence that it is done, for the inspectorate to assess").check()
    liaison.get_by_label("Update", exact=True).fill(PROGRESS_TEXT)
    files = liaison.get_by_label("Evidence files (optional)")
    files.set_input_files(
        {"name": "audit.pdf", "mimeType": "application/pdf", "buffer": b"<script>x</script>"}
    )
    liaison.get_by_role("button", name="Post the update").click()
    expect(liaison.locator(".govuk-error-summary")).to_contain_text("audit.pdf")
    expect(liaison.locator(".govuk-error-summary")).to_contain_text("not a complete PDF")
    axe.check(liaison, "progress form with a refused file")
    liaison.get_by_label("Evidence that it is done, for the inspectorate to assess").check()
    liaison.get_by_label("Update", exact=True).fill(PROGRESS_TEXT)
    files.set_input_files(
        {"name": "referral-audit.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    liaison.get_by_role("button", name="Post the update").click()
    expect(liaison.locator(".govuk-notification-banner")).to_contain_text("Update posted.")
    expect(liaison.get_by_text(PROGRESS_TEXT)).to_be_visible()
    expect(liaison.get_by_role("link", name="referral-audit.pdf")).to_be_visible()
    liaison.get_by_label("Comment").fill(COMMENT_TEXT)
    liaison.get_by_role("button", name="Post the comment").click()
    expect(liaison.locator(".govuk-notification-banner")).to_contain_text("Comment posted.")
    expect(liaison.get_by_text(COMMENT_TEXT)).to_be_visible()

    # An API key: made, used for the force's own recommendations only, revoked.
    liaison.get_by_role("link", name="Follow-up", exact=True).first.click()
    liaison.get_by_role("link", name="API keys").click()
    expect(liaison.get_by_role("heading", level=1)).to_have_text(f"API keys of {FORCE}")
    axe.check(liaison, "API keys")
    liaison.get_by_label("What will use the key").fill("Force performance tracker")
    liaison.get_by_role("button", name="Create key").click()
    expect(liaison.get_by_role("heading", level=1)).to_have_text("API key created")
    axe.check(liaison, "API key created")
    key = liaison.get_by_label("The key").input_value()
    auth = {"Authorization": f"Bearer {key}"}
    mine = liaison.request.get("/api/v1/recommendations?limit=200", headers=auth)
    assert mine.status == 200, mine.text()
    items = mine.json()["items"]
    assert rec_id in {i["id"] for i in items}
    references = {i["inspection"] for i in items}
    assert REFERENCE in references, references
    assert "NCPI-2026-001" not in references, references  # Lancashire's
    liaison.get_by_role("link", name="Back to the API keys").click()
    liaison.get_by_role("link", name="Revoke the key Force performance tracker").click()
    axe.check(liaison, "revoke an API key (not confirmed)")
    liaison.get_by_role("button", name=re.compile("^Revoke")).click()
    expect(liaison.get_by_text("Revoked").first).to_be_visible()
    refused = liaison.request.get("/api/v1/me", headers=auth)
    assert refused.status == 401, refused.text()

    # 3. The inspectorate: the plan accepted, the evidence read and assessed -------------
    # The programme manager reviews the plan (as the lead may); an inspector of the team
    # reads it but may not review it.
    manager = person("manager")
    open_follow_up(manager)
    axe.check(manager, "follow-up of an inspection, the inspectorate's view")
    manager.get_by_role("link", name="Action plan 1").click()
    axe.check(manager, "action plan with its review form")
    manager.get_by_label("Accept the plan").check()
    manager.get_by_label("Notes for the force (needed when asking for changes)").fill(
        "A clear plan with measures for every recommendation."
    )
    manager.get_by_role("button", name="Record the review").click()
    expect(manager.locator(".govuk-notification-banner")).to_contain_text("Action plan 1 reviewed.")
    expect(manager.get_by_role("heading", name="Review the plan")).to_have_count(0)
    inspector = person("inspector")
    open_follow_up(inspector)
    expect(inspector.get_by_text(re.compile(r"Plan 1 received .*: accepted"))).to_be_visible()
    inspector.goto(rec_path)
    expect(inspector.get_by_text(PROGRESS_TEXT)).to_be_visible()
    expect(inspector.get_by_text(COMMENT_TEXT)).to_be_visible()
    expect(inspector.locator(".govuk-summary-list").first).to_contain_text("Evidence submitted")
    link = inspector.get_by_role("link", name="referral-audit.pdf")
    download = inspector.request.get(link.get_attribute("href") or "")
    assert download.status == 200
    assert download.body() == PDF
    assert "attachment" in download.headers["content-disposition"]
    axe.check(inspector, "recommendation, the inspectorate's view")
    inspector.get_by_role("link", name="Assess").click()
    axe.check(inspector, "assessment form")
    inspector.get_by_label("Achieved", exact=True).check()
    inspector.get_by_label(re.compile("^Your reasoning")).fill(REASONING)
    inspector.get_by_label("Public note for the tracker (optional)").fill(PUBLIC_NOTE)
    inspector.get_by_role("button", name=re.compile("^Record")).click()
    expect(inspector.locator(".govuk-notification-banner")).to_contain_text("Assessment recorded.")
    expect(inspector.get_by_text(REASONING)).to_be_visible()
    steps = history_rows(inspector)
    # The evidence came before the plan's acceptance, so the recommendation went straight
    # from "action plan received" to "evidence submitted".
    assert [s[:2] for s in steps] == [
        ["21 August 2026", "Awaiting response"],
        [long_date(today), "Action plan received"],
        [long_date(today), "Evidence submitted"],
        [long_date(today), "Achieved"],
    ], steps
    assert steps[-1][2:] == [PUBLIC_NOTE, fw.WALK.names["inspector"]], steps

    # The liaison sees the assessment and can post no more once it is closed.
    inspector.get_by_role("link", name="Close", exact=True).click()
    axe.check(inspector, "close a recommendation form")
    inspector.get_by_label("Public note: why it is closed").fill(
        "Closed: the change is in place and the force checks it monthly."
    )
    inspector.get_by_role("button", name=re.compile("^Close")).click()
    expect(inspector.locator(".govuk-notification-banner")).to_contain_text("closed.")
    liaison.goto(rec_path)
    expect(liaison.get_by_text(REASONING)).to_be_visible()
    expect(liaison.get_by_role("link", name="Post an update or evidence")).to_have_count(0)
    # An update on a closed recommendation, from a page opened before it closed, is refused.
    liaison.goto(f"{rec_path}update/")
    liaison.get_by_label("A progress update").check()
    liaison.get_by_label("Update", exact=True).fill("One more thing.")
    liaison.get_by_role("button", name="Post the update").click()
    expect(liaison.locator(".govuk-error-summary")).to_contain_text(
        f"Recommendation {number} is closed: it takes no more updates."
    )
    axe.check(liaison, "progress form, refused on a closed recommendation")
    liaison.goto(rec_path)
    expect(liaison.get_by_text("One more thing.")).to_have_count(0)

    # 4. The lead and the programme manager ----------------------------------------------
    open_follow_up(manager)
    manager.locator("h2:has-text('Causes of concern') + ul a").first.click()
    expect(manager.get_by_role("heading", level=1)).to_have_text("Cause of concern")
    axe.check(manager, "cause of concern")
    manager.get_by_role("link", name="Close by letter").click()
    manager.get_by_label("The closure letter to the force").set_input_files(
        {"name": "closure-letter.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    manager.get_by_label("Public summary").fill("The force has done what was asked.")
    manager.get_by_role("button", name=re.compile("^Close")).click()
    expect(manager.locator(".govuk-error-summary")).to_contain_text("assessed")
    axe.check(manager, "close a cause of concern, refused")

    open_follow_up(manager)
    manager.get_by_role("link", name=re.compile("^(Change|Choose) the follow-up")).click()
    axe.check(manager, "follow-up route form")
    manager.get_by_label(re.compile("^Post-inspection review")).check()
    manager.get_by_label(re.compile("^Why")).fill(
        "Recommendations 1 and 2 need cases re-audited to show the change reached children."
    )
    manager.get_by_role("button", name=re.compile("^(Record|Save|Choose)")).click()
    expect(manager.locator(".govuk-notification-banner")).to_contain_text("Follow-up chosen.")
    expect(manager.locator(".govuk-summary-list")).to_contain_text(
        f"Post-inspection review (a return visit, cases re-audited), {long_date(today)}"
    )
    # Reviews follow NCPIs: a joint inspection's review is the partners' to plan.
    expect(manager.get_by_role("link", name="Plan the post-inspection review")).to_have_count(0)

    # The earlier review's re-audited grades beside the original's.
    manager.goto("/inspections/")
    manager.get_by_role("link", name=re.compile("NCPI-2020-001")).first.click()
    manager.get_by_role("link", name="Action plan, recommendations and their progress").click()
    expect(
        manager.get_by_role("heading", name="Re-audited case grades: PIR-2021-001")
    ).to_be_visible()
    axe.check(manager, "follow-up with re-audited grades")
    table = manager.locator("h2:has-text('Re-audited case grades') + p + table")
    rows = table.locator("tbody tr")
    cells = [
        [c.strip() for c in r]
        for r in rows.evaluate_all("rows => rows.map(r => [...r.cells].map(c => c.innerText))")
    ]
    before = [int(r[1]) for r in cells]
    after = [int(r[3]) for r in cells]
    expected = server_json(
        "import json; from django.db.models import Count; "
        "from apps.fieldwork.models import SampledCase as S; "
        "from apps.followup.selectors import COMPARABLE_SCALE as C; "
        "c = {(i, g): n for i, g, n in S.objects.filter(status='in_sample', "
        "inspection__reference__in=['NCPI-2020-001', 'PIR-2021-001']).exclude("
        "comparable_grade='').values_list('inspection__reference', 'comparable_grade')"
        ".annotate(n=Count('id'))}; "
        "print(json.dumps([[c.get((r, g), 0) for g, _ in C] "
        "for r in ('NCPI-2020-001', 'PIR-2021-001')]))"
    )
    assert [before, after] == expected
    share = lambda part, whole: round(100 * part / whole)  # noqa: E731
    headline = manager.locator("h2:has-text('Re-audited case grades') + p").inner_text()
    assert headline.startswith(
        f"{share(before[0], sum(before))}% of cases {cells[0][0].lower()} before, "
        f"{share(after[0], sum(after))}% after"
    ), headline
    assert cells[0][2] == f"{share(before[0], sum(before))}%"

    # The national tracker, its download, and the commissioner's summary.
    manager.get_by_role("link", name="Follow-up", exact=True).first.click()
    manager.get_by_role("link", name="The national recommendation tracker").click()
    axe.check(manager, "national tracker")
    manager.get_by_label("Force").select_option(label=FORCE)
    manager.get_by_label("Status").select_option(label="Closed")
    manager.get_by_label("Type of inspection").select_option(label="Joint targeted area inspection")
    manager.get_by_role("button", name=re.compile("^(Apply|Show|Filter)")).click()
    found = manager.locator("table tbody tr").filter(has_text=REFERENCE)
    expect(found).to_have_count(1)
    axe.check(manager, "national tracker, filtered")
    csv_link = manager.get_by_role("link", name=re.compile("CSV"))
    exported = manager.request.get(csv_link.get_attribute("href") or "")
    assert exported.status == 200
    lines = list(csv.reader(io.StringIO(exported.text())))
    assert len(lines) == 2 and REFERENCE in lines[1], lines
    found.get_by_role("link").first.click()
    manager.get_by_role(
        "link", name="Summary for the police and crime commissioner's response"
    ).click()
    expect(
        manager.get_by_text("Supervisors review each referral", exact=False).first
    ).to_be_visible()
    axe.check(manager, "summary for the police and crime commissioner")

    # 5. The public tracker -----------------------------------------------------------------
    public = liaison.context.browser.new_context(base_url=liaison.url.split("/follow-up")[0])
    try:
        visitor = public.new_page()
        visitor.goto("/forces/")
        visitor.get_by_role("link", name=FORCE, exact=True).first.click()
        block = visitor.locator(f"#force-recommendation-{rec_id}")
        expect(block).to_contain_text("Closed")
        expect(block).to_contain_text(f"since {long_date(today)}")
        block.locator("summary").click()
        public_steps = history_rows(visitor, f"#force-recommendation-{rec_id} table")
        short = f"{today.day} {today:%b %Y}"
        assert [s[:2] for s in public_steps] == [
            ["21 Aug 2026", "Awaiting response"],
            [short, "Action plan received"],
            [short, "Evidence submitted"],
            [short, "Achieved"],
            [short, "Closed"],
        ], public_steps
        assert PUBLIC_NOTE in public_steps[-2][2]
        page_text = visitor.content()
        for private in (PROGRESS_TEXT, COMMENT_TEXT, REASONING, "referral-audit.pdf"):
            assert private not in page_text
        axe.check(visitor, "force page with the public tracker")
        # The report's own page shows the same history, though its body is frozen.
        block.locator("xpath=preceding::h3[1]//a").click()
        expect(visitor.get_by_role("heading", level=1)).to_contain_text(
            "Joint targeted area inspection"
        )
        on_report = visitor.locator(f"#progress-{rec_id}")
        expect(on_report).to_contain_text(f"since {long_date(today)}")
        on_report.locator("summary").click()
        assert history_rows(visitor, f"#progress-{rec_id} table") == public_steps
        assert PROGRESS_TEXT not in visitor.content()
    finally:
        public.close()

    axe.assert_clean()
