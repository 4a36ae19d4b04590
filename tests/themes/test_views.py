"""The review queue and a statement's coding page: who may use them, what they show (only
published findings), the least sure first, decisions saved, stale and bad input refused, and
a fixed number of queries."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.core.audit import SystemActor
from apps.inspections.models import Inspection, State
from apps.themes import coding, services
from apps.themes.models import Statement, ThemeCode

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
    nav = client_for(corpus.users["analyst"]).get(reverse("inspections:staff-home"))
    assert reverse("themes:home") in nav.content.decode()
    nav = client_for(corpus.users["admin"]).get(reverse("inspections:staff-home"))
    assert reverse("themes:home") not in nav.content.decode()


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
