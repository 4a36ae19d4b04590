"""The review queue and a statement's coding page: who may use them, what they show (only
published findings), the least sure first, decisions saved, stale and bad input refused, and
a fixed number of queries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from apps.core.audit import SystemActor
from apps.inspections.models import Inspection, State
from apps.themes import coding, selectors, services
from apps.themes.models import Statement, StatementClaim, Theme, ThemeCode
from tests.themes.conftest import stand_in_classifier

SYSTEM = SystemActor("tests")
CODERS = {"manager", "lead", "inspector", "analyst"}
REFUSED = {"admin", "partner", "liaison"}


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def corpus(pub):
    services.codebook_load(actor=SYSTEM)
    services.statements_sync()
    return pub


def test_only_inspectorate_coders_may_code(corpus):
    statement = Statement.objects.filter(inspection=corpus.inspection).first()
    urls = [reverse("themes:review"), reverse("themes:statement", args=[statement.pk])]
    for url in urls:
        assert Client().get(url).status_code == 302  # to sign in
        for name in CODERS:
            assert client_for(corpus.users[name]).get(url).status_code == 200, (name, url)
        for name in REFUSED:
            assert client_for(corpus.users[name]).get(url).status_code == 403, (name, url)
    # Refused people change nothing by posting.
    for name in REFUSED:
        response = client_for(corpus.users[name]).post(
            urls[1], {"themes": ["workforce"], "seen_version": 0}
        )
        assert response.status_code == 403
    assert not ThemeCode.objects.exists()
    assert client_for(corpus.users["analyst"]).post(urls[0]).status_code == 405
    for method in ("put", "patch", "delete"):
        assert getattr(client_for(corpus.users["analyst"]), method)(urls[1]).status_code == 405
    assert not ThemeCode.objects.exists()
    nav = client_for(corpus.users["analyst"]).get(reverse("inspections:staff-home"))
    assert reverse("themes:home") in nav.content.decode()
    nav = client_for(corpus.users["admin"]).get(reverse("inspections:staff-home"))
    assert reverse("themes:home") not in nav.content.decode()


def test_a_statement_with_no_suggestion_stays_in_the_queue_first(corpus):
    """None fits, or a codebook revision withdrew its only suggestion: it still waits for a
    person, before any the classifier is sure of, and the queue counts it."""
    coding.suggest(actor=SYSTEM)
    analyst = client_for(corpus.users["analyst"])
    before = analyst.get(reverse("themes:review")).context
    bare = before["statements"][-1]
    ThemeCode.objects.filter(statement=bare).update(
        status=ThemeCode.Status.WITHDRAWN, confidence=None
    )
    page = analyst.get(reverse("themes:review"))
    assert page.context["count"] == before["count"]
    assert page.context["statements"][0].pk == bare.pk
    assert "None yet" in page.content.decode()
    # A codebook split's placeholder (no classifier, no person, 0.0): a part to choose.
    ThemeCode.objects.filter(statement=bare).update(
        status=ThemeCode.Status.SUGGESTED, confidence=0.0, classifier=None
    )
    page = analyst.get(reverse("themes:review"))
    assert "(a part of a split theme: choose)" in page.content.decode()
    # It comes before statements with no suggestion at all: a person's coding waits on it.
    other = page.context["statements"][-1]
    ThemeCode.objects.filter(statement=other).update(
        status=ThemeCode.Status.WITHDRAWN, confidence=None
    )
    page = analyst.get(reverse("themes:review"))
    assert [s.pk for s in page.context["statements"][:2]] == [bare.pk, other.pk]


def test_the_queue_codes_published_statements_least_sure_first(corpus):
    # One inspection back in reporting: its findings are not the corpus's to show.
    Inspection.objects.filter(pk=corpus.other.pk).update(state=State.REPORTING)
    coding.suggest(actor=SYSTEM)
    analyst = client_for(corpus.users["analyst"])
    page = analyst.get(reverse("themes:review"))
    statements = page.context["statements"]
    shown = {s.pk for s in statements}
    assert shown == set(
        Statement.objects.filter(inspection=corpus.inspection).values_list("pk", flat=True)
    )
    tops = [max(c.confidence for c in s.suggestions) for s in statements]
    assert tops == sorted(tops)
    hidden = Statement.objects.filter(inspection=corpus.other).first()
    assert analyst.get(reverse("themes:statement", args=[hidden.pk])).status_code == 404

    # The least sure statement: its page pre-ticks the suggestions.
    first = statements[0]
    url = reverse("themes:statement", args=[first.pk])
    form_page = analyst.get(url)
    body = form_page.content.decode()
    assert first.text in body and "suggested" in body
    seen = form_page.context["form"].initial["seen_version"]
    # Bad input: no theme, four themes; nothing changes.
    for bad in ([], ["workforce", "supervision", "partnership", "investigation"]):
        response = analyst.post(url, {"themes": bad, "seen_version": seen})
        assert response.status_code == 200 and response.context["form"].errors
    assert not ThemeCode.objects.filter(set_by__isnull=False).exists()
    # A decision: saved, and the next statement of the queue is shown.
    response = analyst.post(url, {"themes": ["workforce"], "seen_version": seen})
    assert response.status_code == 302
    assert response.url != url
    assert first.codes.get(theme__key="workforce").status == "confirmed"
    assert first.pk not in {
        s.pk for s in analyst.get(reverse("themes:review")).context["statements"]
    }
    # A page opened before that decision cannot overwrite it.
    stale = analyst.post(url, {"themes": ["supervision"], "seen_version": seen})
    assert "Someone else changed this statement" in stale.content.decode()
    assert first.codes.get(theme__key="workforce").status == "confirmed"

    # The queue makes the same number of queries whatever its length.
    with CaptureQueriesContext(connection) as few:
        analyst.get(reverse("themes:review"))
    Inspection.objects.filter(pk=corpus.other.pk).update(state=State.PUBLISHED)
    coding.suggest(actor=SYSTEM)
    with CaptureQueriesContext(connection) as more:
        longer = analyst.get(reverse("themes:review"))
    assert len(longer.context["statements"]) > len(statements) - 1
    assert len(more.captured_queries) == len(few.captured_queries)


def test_the_national_tracker_filters_recommendations_by_theme(corpus):
    coding.suggest(actor=SYSTEM)
    statement = Statement.objects.get(finding=corpus.later)
    theme = statement.codes.filter(status="suggested").first().theme.key
    manager = client_for(corpus.users["manager"])
    tracker = reverse("followup:tracker")
    page = manager.get(tracker, {"theme": theme}).content.decode()
    assert corpus.later.headline[:60] in page
    coded = set(
        Statement.objects.filter(
            finding__kind="recommendation", codes__theme__key=theme, codes__status="suggested"
        ).values_list("finding_id", flat=True)
    )
    assert f"{len(coded)} recommendation{'s' if len(coded) != 1 else ''} match" in page
    # A person recodes it to another theme: the (cached) tracker follows at once.
    other = next(
        k for k in ("custody_detention", "online_abuse", "offender_management") if k != theme
    )
    services.codes_decide(
        actor=corpus.users["analyst"],
        statement=statement,
        themes=[other],
        seen_version=services.codes_version(statement),
    )
    assert corpus.later.headline[:60] not in manager.get(tracker, {"theme": theme}).content.decode()
    assert corpus.later.headline[:60] in manager.get(tracker, {"theme": other}).content.decode()
    # A codebook split's placeholder (a part left for a person to choose) codes it to nothing.
    ThemeCode.objects.create(
        statement=statement,
        theme=Theme.objects.get(codebook=services.current_codebook(), key="early_help_prevention"),
        status="suggested",
        confidence=0.0,
        set_by_label="ana (codebook version 2)",
        set_at=timezone.now(),
    )
    placeholder = manager.get(tracker, {"theme": "early_help_prevention"}).content.decode()
    assert corpus.later.headline[:60] not in placeholder


def _suggested(corpus) -> list[Statement]:
    """Every published statement with one suggestion of a stand-in classifier version, the
    first the least sure: the queue's order, without the model."""
    row = stand_in_classifier()
    theme = Theme.objects.get(codebook=row.codebook, key="workforce")
    statements = list(Statement.objects.filter(inspection=corpus.inspection).order_by("pk"))
    others = Statement.objects.exclude(inspection=corpus.inspection).order_by("pk")
    for n, statement in enumerate([*statements, *others]):
        ThemeCode.objects.create(
            statement=statement,
            theme=theme,
            status="suggested",
            confidence=0.1 + n / 100,
            classifier=row,
            set_by_label="classifier test",
            set_at=timezone.now(),
        )
    assert len(statements) >= 3
    return statements


def test_two_people_coding_at_once_are_given_different_statements(corpus):
    first, second, third, *_ = _suggested(corpus)
    ana, lee = corpus.users["analyst"], corpus.users["lead"]
    analyst, lead = client_for(ana), client_for(lee)
    queue = reverse("themes:review")

    # Reading a statement (from a report's quotation, say) claims nothing.
    assert analyst.get(reverse("themes:statement", args=[first.pk])).context["held"] is None
    assert not StatementClaim.objects.exists()
    # The analyst opens the least sure statement from the queue: theirs for a while.
    page = analyst.get(reverse("themes:statement", args=[first.pk]) + "?queue=1")
    assert page.context["held"] is None
    # The lead's queue gives it last, saying who has it open; the analyst's does not.
    theirs = lead.get(queue)
    assert [s.pk for s in theirs.context["statements"]][-1] == first.pk
    assert f"Open: {ana.get_full_name()}" in theirs.content.decode()
    assert analyst.get(queue).context["statements"][0].pk == first.pk
    # Opened anyway: a warning naming the analyst, and the claim stands.
    page = lead.get(reverse("themes:statement", args=[first.pk]) + "?queue=1")
    assert page.context["held"].claimed_by == ana
    assert f"{ana.get_full_name()} ({ana.username}) opened this statement" in page.content.decode()
    assert StatementClaim.objects.get(statement=first).claimed_by == ana
    # ... and read from elsewhere, the same warning.
    read = lead.get(reverse("themes:statement", args=[first.pk]))
    assert read.context["held"].claimed_by == ana

    # The lead codes the second; after saving, the analyst is given the third, not the second
    # the lead has open... and the lead's save releases theirs.
    lead_page = lead.get(reverse("themes:statement", args=[second.pk]) + "?queue=1")
    saved = analyst.post(
        reverse("themes:statement", args=[first.pk]),
        {"themes": ["workforce"], "seen_version": services.codes_version(first)},
    )
    assert saved.url == reverse("themes:statement", args=[third.pk]) + "?queue=1"
    assert not StatementClaim.objects.filter(statement=first).exists()
    lead.post(
        reverse("themes:statement", args=[second.pk]),
        {
            "themes": ["partnership"],
            "seen_version": lead_page.context["form"].initial["seen_version"],
        },
    )
    assert not StatementClaim.objects.filter(statement=second).exists()

    # A claim lapses: after CLAIM_MINUTES the statement is anyone's.
    analyst.get(saved.url)
    assert lead.get(queue).context["statements"][-1].pk == third.pk
    StatementClaim.objects.filter(statement=third, claimed_by=ana).update(
        claimed_at=timezone.now() - dt.timedelta(minutes=selectors.CLAIM_MINUTES + 1)
    )
    assert lead.get(queue).context["statements"][0].pk == third.pk
    assert services.statement_claim(user=lee, statement=third) is None
    assert StatementClaim.objects.get(statement=third).claimed_by == lee
    # The same person opening it again keeps it.
    assert services.statement_claim(user=lee, statement=third) is None
    assert services.statement_claim(user=ana, statement=third).claimed_by == lee


def test_back_links_go_back_to_the_page_a_person_came_from(corpus):
    """A statement opened from the evidence, a thematic report or discovery goes back there;
    opened from nowhere known (or another site), back to the review queue. Likewise the
    evidence's back link."""
    coding.suggest(actor=SYSTEM)
    analyst = client_for(corpus.users["analyst"])
    statement = Statement.objects.filter(inspection=corpus.inspection).first()
    url = reverse("themes:statement", args=[statement.pk])
    evidence = reverse("themes:evidence") + "?theme=workforce&from=2020"
    for referrer, expected in (
        (f"http://testserver{evidence}", (evidence, "Back to the statements")),
        (
            "http://testserver/themes/reports/7/",
            ("/themes/reports/7/", "Back to the thematic report"),
        ),
        (
            "http://testserver/themes/discovery/",
            ("/themes/discovery/", "Back to the candidate themes"),
        ),
        (
            "https://elsewhere.example/themes/discovery/",
            (reverse("themes:review"), "Back to the review queue"),
        ),
        (f"http://testserver{url}", (reverse("themes:review"), "Back to the review queue")),
        ("http://testserver/inspections/", (reverse("themes:review"), "Back to the review queue")),
        ("", (reverse("themes:review"), "Back to the review queue")),
    ):
        page = analyst.get(url, HTTP_REFERER=referrer)
        assert page.context["back"] == expected, referrer
        assert f'class="govuk-back-link">{expected[1]}</a>' in page.content.decode()
    # Saving it goes back there too; from the queue, on to the queue's next statement.
    page = analyst.get(url, HTTP_REFERER=f"http://testserver{evidence}")
    assert f'name="back" value="{escape(evidence)}"' in page.content.decode()

    def save(back: str):
        seen = services.codes_version(statement)
        return analyst.post(url, {"themes": ["workforce"], "seen_version": seen, "back": back})

    assert save(evidence).url == evidence
    for back in ("https://elsewhere.example/themes/discovery/", reverse("themes:review"), ""):
        following = save(back).url  # the queue's next statement, or the queue
        assert following.endswith("/?queue=1") or following == reverse("themes:review"), back
        assert following != evidence
    # A refused save (nothing ticked) keeps where it came from.
    refused = analyst.post(
        url, {"seen_version": services.codes_version(statement), "back": evidence}
    )
    assert refused.status_code == 200
    assert refused.context["back"] == (evidence, "Back to the statements")
    listed = analyst.get(evidence, HTTP_REFERER="http://testserver/themes/reports/7/")
    assert listed.context["back"] == ("/themes/reports/7/", "Back to the thematic report")
    listed = analyst.get(evidence)
    assert listed.context["back"] == (
        reverse("themes:analysis") + "?from=2020",
        "Back to the analysis",
    )
