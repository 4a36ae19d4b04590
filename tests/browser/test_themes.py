"""Theme coding as an analyst would do it in Chromium, axe-checked: the review queue, a
statement's page with the classifier's suggestions, a refusal, and a decision saved."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .test_fieldwork import Axe

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def test_an_analyst_reviews_the_least_sure_suggestions(person):
    axe = Axe()
    analyst = person("analyst")
    analyst.get_by_role("link", name="Themes", exact=True).click()
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
