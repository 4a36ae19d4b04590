"""Discovery of candidate new themes: the clustering recovers made-up topics and names them by
their distinctive terms (c-TF-IDF checked by hand), always the same way; which statements fit
no theme well; the clusters with their representative statements; and the page: who may see
it, what it shows, its link to the codebook's add form, a fixed number of queries, and its
cache."""

from __future__ import annotations

import itertools
import math
import re
import types
from html import unescape
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
import scipy.sparse as sp
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import resolve_url
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, include, path, reverse
from django.utils import timezone

import inspectorate.urls as project_urls
from apps.core.audit import SystemActor
from apps.inspections.models import Inspection, State
from apps.themes import coding, discovery, services
from apps.themes import urls as theme_urls
from apps.themes.corpus import text_digest
from apps.themes.discovery import Term, class_tfidf, cluster, poorly_fitting, working_name
from apps.themes.embedding import DIMENSIONS, embed
from apps.themes.models import (
    ArchiveReport,
    ClassifierVersion,
    CodebookVersion,
    Statement,
    Theme,
    ThemeCode,
)

SYSTEM = SystemActor("tests")
CODERS = {"manager", "lead", "inspector", "analyst"}
REFUSED = {"admin", "partner", "liaison"}

# Three subjects the codebook has no theme for, six statements each, and six statements about
# nothing in particular.
INTERPRETERS = [
    "Officers rarely used interpreters when the child's first language was not English.",
    "Interpreters were not booked for interviews with children who spoke little English.",
    "Children who did not speak English were sometimes interviewed through a family member "
    "instead of an independent interpreter.",
    "The force has no quick way to find an interpreter out of hours for a child who speaks "
    "no English.",
    "A parent acted as interpreter for the child in several interviews, which is poor practice.",
    "Telephone interpreting was used well for children whose first language was not English.",
]
BODY_WORN = [
    "Officers did not always switch on body-worn video cameras at incidents involving children.",
    "Body-worn video footage of the child's home was rarely reviewed by investigators.",
    "Officers used body-worn video cameras well to record what they saw in the homes of children.",
    "Supervisors did not check whether body-worn video had been recorded at domestic incidents.",
    "Body-worn video cameras were often not available to officers attending incidents "
    "involving children.",
    "Body-worn video footage was not kept long enough to support prosecutions.",
]
FGM = [
    "Officers had little understanding of female genital mutilation and how to respond to it.",
    "The force has not trained staff to recognise girls at risk of female genital mutilation.",
    "No protection orders for female genital mutilation had been sought in the last two years.",
    "Female genital mutilation referrals from schools were not always passed to specialist "
    "officers.",
    "Partners told us that the police response to concerns about female genital mutilation "
    "was slow.",
    "The force's policy on female genital mutilation is out of date.",
]
NOISE = [
    "The new headquarters building opened in 2019 after long delays.",
    "Fleet vehicles are replaced every five years.",
    "The chief constable's annual budget statement was published on time.",
    "Staff survey response rates have fallen since last year.",
    "Several officers praised the canteen and gym facilities.",
    "Parking at the main station is limited.",
]
TOPICS = {"interpret": INTERPRETERS, "video": BODY_WORN, "genital": FGM}


# The clustering -----------------------------------------------------------------------------


def test_the_clusters_recover_the_topics_and_their_terms_name_them():
    texts = INTERPRETERS + BODY_WORN + FGM + NOISE
    vectors = embed(texts)
    found = cluster(texts, vectors)

    assert len(found) == 3
    for c in found:
        members = [texts[i] for i in c.members]
        keyword, topic = next((k, t) for k, t in TOPICS.items() if members[0] in t)
        assert sorted(members) == sorted(topic)  # the whole topic and nothing else
        # Its terms, and the working name made from them, say what it is about.
        assert any(keyword in t.term for t in c.terms[:3]), (keyword, c.terms)
        assert keyword in c.name.lower(), c.name
        scores = [t.score for t in c.terms]
        assert scores == sorted(scores, reverse=True) and 0 < len(scores) <= 8
        # Members closest to the centre first; cohesion is their mean similarity to it.
        centre = vectors[list(c.members)].mean(axis=0)
        centre /= np.linalg.norm(centre)
        closeness = vectors[list(c.members)] @ centre
        assert all(a >= b - 1e-6 for a, b in itertools.pairwise(closeness))
        assert c.cohesion == pytest.approx(float(closeness.mean()), abs=1e-3)
        assert 0.6 < c.cohesion < 1
    clustered = {i for c in found for i in c.members}
    assert not clustered & set(range(18, 24))  # the noise stays out


def test_the_clustering_is_deterministic():
    texts = INTERPRETERS + NOISE + FGM + BODY_WORN
    vectors = embed(texts)
    first = cluster(texts, vectors)
    assert cluster(texts, vectors) == first
    assert cluster(list(texts), vectors.copy()) == first
    # The same statements in another order: the same groups, terms and order of clusters.
    order = np.random.default_rng(7).permutation(len(texts))
    shuffled = cluster([texts[i] for i in order], vectors[order])
    assert [[texts[order[i]] for i in c.members] for c in shuffled] == [
        [texts[i] for i in c.members] for c in first
    ]
    assert [c.terms for c in shuffled] == [c.terms for c in first]


def _direction(n: int, wobble: int | None = None) -> np.ndarray:
    vector = np.zeros(DIMENSIONS)
    vector[n] = 1.0
    if wobble is not None:
        vector[wobble] = 0.1
    return vector


def test_terms_leave_out_stop_words_near_universal_words_and_one_statements_words():
    texts = [
        "Children waited hours for an interpreter at the station.",
        "The force makes sure an interpreter is booked for children.",
        "Children did not get an interpreter on the telephone.",
        "An interpreter was rarely offered to children in custody.",
        "Children were interviewed without an interpreter.",
        "Cameras were not switched on when officers met children.",
        "Children were not filmed because cameras were missing.",
        "Officers forgot their cameras when visiting children.",
        "Cameras recorded the homes of children well.",
        "Children's homes were filmed on cameras.",
        "Children liked the new waiting room.",
        "Children were given leaflets in 2019.",
    ]
    # Two tight groups (near one direction each) and two statements on their own.
    vectors = np.stack(
        [_direction(0, 10 + i) for i in range(5)]
        + [_direction(1, 20 + i) for i in range(5)]
        + [_direction(2), _direction(3)]
    )
    interpreters, cameras = cluster(texts, vectors)
    assert set(interpreters.members) == set(range(5))
    assert set(cameras.members) == set(range(5, 10))
    assert interpreters.terms[0].term == "interpreter"
    assert cameras.terms[0].term == "cameras"
    every_term = {t.term for c in (interpreters, cameras) for t in c.terms}
    words = {w for term in every_term for w in term.split()}
    # "children" is in every statement: neither a term nor part of one.
    assert "children" not in words
    # Stop words, the reports' own phrasing, numbers and words of one statement alone.
    assert not words & {"the", "an", "were", "force", "makes", "sure", "did", "2019"}
    assert not words & {"telephone", "custody", "station", "forgot", "liked"}
    assert "homes" in words  # in two statements of the cameras' cluster
    assert interpreters.name == "Interpreter"
    assert "cameras" in cameras.name.lower()


def test_class_tfidf_is_bertopics_formula_worked_by_hand():
    # Three statements, two terms: statements 0 and 1 in class 0, statement 2 in class 1.
    counts = sp.csr_matrix(np.array([[2, 0], [1, 1], [0, 3]]))
    scores = class_tfidf(counts, np.array([0, 0, 1]), 2)
    # Class 0 has the terms 3 and 1 times, class 1 0 and 3 times: A = int((4 + 3) / 2) = 3;
    # idf = log(1 + 3/3) and log(1 + 3/4); tf (L1) = 3/4, 1/4 and 0, 1, square-rooted.
    expected = [
        [math.sqrt(0.75) * math.log(2), math.sqrt(0.25) * math.log(1.75)],
        [0.0, math.log(1.75)],
    ]
    assert scores.ravel().tolist() == pytest.approx(np.ravel(expected).tolist())


def test_the_working_name_takes_the_two_most_distinctive_terms():
    def name(*terms: str) -> str:
        return working_name([Term(t, 1.0 - n / 10) for n, t in enumerate(terms)])

    assert name("custody", "arresting", "charging") == "Custody and arresting"
    assert name("marriage", "forced marriage", "honour") == "Forced marriage and honour"
    assert name("forced marriage", "marriage", "honour") == "Forced marriage and honour"
    assert name("female genital", "genital mutilation", "officers") == (
        "Female genital mutilation and officers"
    )
    assert name("video", "body", "body worn", "worn video", "footage") == (
        "Body worn video and footage"
    )
    assert name("indecent", "indecent images", "people sharing", "kirat", "sharing indecent") == (
        "People sharing indecent images"
    )
    assert name() == "Unnamed cluster"
    # A word and its plural are one term.
    assert name("inspector", "inspectors", "direction") == "Inspector and direction"
    assert name("sex offender", "offenders", "visits") == "Sex offender and visits"


def test_only_noun_phrases_name_a_cluster():
    from apps.themes.discovery import noun_phrases

    terms = [
        "safety planning",
        "sex offenders",
        "strip searches",
        "custody",
        "consistently",
        "includes",
        "went missing",
        "children improved",
        "supervisors rarely",
        "criminal exploitation",
    ]
    assert noun_phrases(terms) == {
        "safety planning",
        "sex offenders",
        "strip searches",
        "custody",
        "criminal exploitation",
    }
    # In the clustering: the terms it keeps, in their order; all of them if it keeps none.
    texts = [
        "Interpreters were consistently booked.",
        "Interpreters consistently arrived late.",
        "Interpreters consistently attended.",
        "Officers consistently waited for interpreters.",
        "Cameras were on.",
        "Leaflets were given.",
    ]
    vectors = np.stack([_direction(0, 10 + i) for i in range(4)] + [_direction(1), _direction(2)])
    (plain,) = cluster(texts, vectors)
    assert "consistently" in plain.name.lower().split()
    (nouns,) = cluster(texts, vectors, keep_terms=noun_phrases)
    assert nouns.name == "Interpreters"
    assert {"consistently", "interpreters consistently"} <= {t.term for t in plain.terms}
    assert [t.term for t in nouns.terms] == ["interpreters"]
    (kept_none,) = cluster(texts, vectors, keep_terms=lambda terms: set())
    assert kept_none.terms == plain.terms


def test_the_tagger_is_refused_if_its_weights_are_not_the_reviewed_ones(monkeypatch):
    from apps.disclosure.engine import ModelIntegrityError
    from apps.themes import discovery

    discovery._tagger.cache_clear()
    try:
        with monkeypatch.context() as patched:
            patched.setitem(discovery.TAGGER_SHA256, "tagger/model", "0" * 64)
            with pytest.raises(ModelIntegrityError, match=r"tagger/model.*name discovery's"):
                discovery.noun_phrases(["custody"])
            # Discovery still clusters, naming each cluster by all its terms.
            assert discovery._naming_filter() is None
            assert discovery._naming_terms(["consistently", "custody"]) == {
                "consistently",
                "custody",
            }
        # With the reviewed weights: noun phrases.
        assert discovery._naming_filter() is discovery.noun_phrases
        assert discovery._naming_terms(["consistently", "custody"]) == {"custody"}
    finally:
        discovery._tagger.cache_clear()


def test_the_clustering_refuses_what_it_cannot_use():
    vectors = embed(INTERPRETERS)
    with pytest.raises(ValueError, match="one vector a text"):
        cluster(INTERPRETERS, vectors[:3])
    with pytest.raises(ValueError, match="min_size"):
        cluster(INTERPRETERS, vectors, min_size=1)
    with pytest.raises(ValueError, match="max_distance"):
        cluster(INTERPRETERS, vectors, max_distance=0)
    assert cluster(INTERPRETERS[:3], vectors[:3]) == []  # fewer than min_size
    assert cluster(INTERPRETERS, vectors, min_size=7) == []
    # Statements with no word to score still cluster; they just have no terms.
    bare = ["The", "It was", "A 1", "Of the"]
    found = cluster(bare, np.stack([_direction(0, 10 + i) for i in range(4)]))
    assert len(found) == 1 and found[0].terms == () and found[0].name == "Unnamed cluster"


# The statements that fit no theme well -------------------------------------------------------


@pytest.fixture
def corpus(pub):
    services.codebook_load(actor=SYSTEM)
    services.statements_sync()
    return pub


def archive_report(n: int) -> ArchiveReport:
    return ArchiveReport.objects.create(
        title=f"Imported report {n}",
        file_name=f"report-{n}.html",
        file_sha256=f"{n:064x}",
        file_format=ArchiveReport.Format.HTML,
        imported_by_label="tests",
    )


def archive_statement(report: ArchiveReport, text: str) -> Statement:
    return Statement.objects.create(
        source=Statement.Source.ARCHIVE,
        archive_report=report,
        text=text,
        text_sha256=text_digest(text),
        kind="area_for_improvement",
        report_title=report.title,
        year=2021,
    )


def suggest(statement: Statement, key: str, confidence: float) -> ThemeCode:
    """A classifier's suggestion, as coding.suggest stores it, of the current codebook."""
    codebook = CodebookVersion.objects.order_by("-number").first()
    classifier, _ = ClassifierVersion.objects.get_or_create(
        version=f"tests{codebook.number}",
        defaults={"codebook": codebook, "embedding_model": "m", "trained_on": 1, "model": b""},
    )
    return ThemeCode.objects.create(
        statement=statement,
        theme=Theme.objects.get(codebook=codebook, key=key),
        status=ThemeCode.Status.SUGGESTED,
        confidence=confidence,
        classifier=classifier,
        set_by_label="Classifier (tests)",
        set_at=timezone.now(),
    )


def decide(statement: Statement, user, themes: list[str]) -> None:
    services.codes_decide(
        actor=user,
        statement=statement,
        themes=themes,
        seen_version=services.codes_version(statement),
    )


def test_poorly_fitting_statements_are_undecided_published_and_unsure(corpus):
    report = archive_report(1)
    low = archive_statement(report, "Low")
    suggest(low, "workforce", 0.3)
    suggest(low, "supervision", 0.2)
    lowest = archive_statement(report, "Lowest")
    suggest(lowest, "partnership", 0.1)
    published = Statement.objects.get(finding=corpus.later)
    suggest(published, "supervision", 0.45)
    # Fits well: its likeliest theme reaches 0.5 (the boundary counts as fitting).
    boundary = archive_statement(report, "Boundary")
    suggest(boundary, "workforce", 0.5)
    sure = archive_statement(report, "Sure of one theme")
    suggest(sure, "workforce", 0.2)
    suggest(sure, "partnership", 0.9)
    # Not scored by the classifier: it has not said the statement fits nothing.
    archive_statement(report, "Not scored")
    # Decided by a person, though the classifier was unsure.
    decided = archive_statement(report, "Decided")
    suggest(decided, "workforce", 0.2)
    decide(decided, corpus.users["analyst"], ["workforce"])
    # A finding of an inspection back in reporting: its words are its team's.
    Inspection.objects.filter(pk=corpus.other.pk).update(state=State.REPORTING)
    draft = Statement.objects.get(finding=corpus.other_rec)
    suggest(draft, "missing_children", 0.2)

    found = poorly_fitting()
    assert [s.pk for s in found] == [lowest.pk, low.pk, published.pk]
    assert [s.top for s in found] == [0.1, 0.3, 0.45]
    assert [s.pk for s in poorly_fitting(limit=2)] == [lowest.pk, low.pk]

    # Only the current codebook's suggestions count: after a revision, nothing is scored.
    old = CodebookVersion.objects.get()
    new = CodebookVersion.objects.create(number=old.number + 1, created_by_label="tests")
    for theme in old.themes.all():
        Theme.objects.create(codebook=new, key=theme.key, name=theme.name, covers=theme.covers)
    assert poorly_fitting() == []
    suggest(low, "workforce", 0.3)
    assert [s.pk for s in poorly_fitting()] == [low.pk]


def topic_corpus() -> dict[str, list[Statement]]:
    """The made-up topics as statements of imported reports, each suggested a theme with
    little confidence: interpreters from three reports, body-worn video from two, female
    genital mutilation from one, and the noise from a fourth."""
    reports = [archive_report(n) for n in range(1, 5)]
    made: dict[str, list[Statement]] = {}
    for key, texts, spread in [
        ("interpret", INTERPRETERS, reports[:3]),
        ("video", BODY_WORN, reports[:2]),
        ("genital", FGM, reports[2:3]),
        ("noise", NOISE, reports[3:]),
    ]:
        made[key] = []
        for n, text in enumerate(texts):
            statement = archive_statement(spread[n % len(spread)], text)
            suggest(statement, "workforce", round(0.2 + n / 100, 2))
            made[key].append(statement)
    return made


def test_discover_clusters_them_with_their_representative_statements(corpus):
    made = topic_corpus()
    result = discovery.discover()
    assert (result.poorly_fitting, result.reports, result.clustered_from) == (24, 4, 24)
    assert not result.capped and result.unclustered == 6
    assert len(result.clusters) == 3
    reports = {"interpret": 3, "video": 2, "genital": 1}
    for c in result.clusters:
        key = next(k for k in TOPICS if k in c.name.lower())
        assert c.size == 6 and c.reports == reports[key]
        assert len(c.statements) == discovery.REPRESENTATIVES
        assert {s.pk for s in c.statements} <= {s.pk for s in made[key]}
        assert all(s.report_title.startswith("Imported report") for s in c.statements)
        assert c.terms and c.cohesion > 0.6

    # The least fitting only, when there are more than the limit.
    capped = discovery.discover(limit=10)
    assert (capped.poorly_fitting, capped.clustered_from, capped.capped) == (24, 10, True)
    # Every embedding was stored the first time: nothing is embedded or stored again.
    with CaptureQueriesContext(connection) as queries:
        discovery.discover()
    assert not [q for q in queries.captured_queries if q["sql"].startswith("INSERT")]
    with pytest.raises(ValueError, match="limit"):
        discovery.discover(limit=0)


# The page -----------------------------------------------------------------------------------


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_page_is_for_inspectorate_coders_only(corpus):
    url = reverse("themes:discovery")
    signed_out = Client().get(url)
    assert signed_out.status_code == 302
    assert signed_out.url.startswith(resolve_url(settings.LOGIN_URL))
    assert Client().post(url).status_code == 302
    for name in CODERS:
        assert client_for(corpus.users[name]).get(url).status_code == 200, name
    for name in REFUSED:
        assert client_for(corpus.users[name]).get(url).status_code == 403, name
        # A read-only page: posting is not allowed, whoever posts.
        assert client_for(corpus.users[name]).post(url).status_code == 405, name
    assert client_for(corpus.users["analyst"]).post(url).status_code == 405


def test_the_page_shows_each_cluster_with_its_statements(corpus):
    made = topic_corpus()
    response = client_for(corpus.users["analyst"]).get(reverse("themes:discovery"))
    body = unescape(response.content.decode())
    assert "24 statements from 4 reports fit no theme of the codebook well." in body
    assert "What the clusters are not" in body
    assert "6 statements are in no cluster." in body
    result = response.context["result"]
    for c in result.clusters:
        assert c.name in body
        assert f"6, from {c.reports} report" in body
        for s in c.statements:
            assert f'href="{reverse("themes:statement", args=[s.pk])}"' in body
            assert s.text in body
    shown = {s.pk for c in result.clusters for s in c.statements}
    assert not shown & {s.pk for s in made["noise"]}


def _codebook_add(request: HttpRequest) -> HttpResponse:
    return HttpResponse("The codebook's add form")


def _urlconf(*, with_add: bool) -> types.ModuleType:
    """The project's URLs with the codebook's add form present or absent, whichever the
    project has today."""
    themes: list[URLPattern | URLResolver] = [
        p for p in theme_urls.urlpatterns if getattr(p, "name", None) != "codebook-add"
    ]
    if with_add:
        themes.append(path("themes/codebook/add/", _codebook_add, name="codebook-add"))
    module = types.ModuleType(f"discovery_urls_{with_add}")
    module.urlpatterns = [
        *(p for p in project_urls.urlpatterns if getattr(p, "namespace", None) != "themes"),
        path("", include((themes, "themes"))),
    ]
    return module


def test_propose_opens_the_codebook_form_prefilled_or_is_left_out(corpus):
    topic_corpus()
    analyst = client_for(corpus.users["analyst"])
    with override_settings(ROOT_URLCONF=_urlconf(with_add=True)):
        response = analyst.get(reverse("themes:discovery"))
        add = reverse("themes:codebook-add")
    body = response.content.decode()
    links = re.findall(r'href="([^"]+)">Propose as a new theme', body)
    clusters = response.context["result"].clusters
    assert len(links) == len(clusters) == 3
    for link, c in zip(links, clusters, strict=True):
        parts = urlsplit(unescape(link))
        assert parts.path == add
        query = parse_qs(parts.query, keep_blank_values=True)
        assert query["name"] == [c.name]
        assert query["covers"] == [""]
        assert query["example"] == list(dict.fromkeys(s.text for s in c.statements))[:3]
        assert len(set(query["example"])) == len(query["example"])
    # Only curators revise the codebook: an inspector is not offered what they cannot do.
    with override_settings(ROOT_URLCONF=_urlconf(with_add=True)):
        inspector = client_for(corpus.users["inspector"]).get(reverse("themes:discovery"))
    assert len(inspector.context["result"].clusters) == 3
    assert "Propose as a new theme" not in inspector.content.decode()

    with override_settings(ROOT_URLCONF=_urlconf(with_add=False)):
        response = analyst.get(reverse("themes:discovery"))
    assert response.status_code == 200
    assert len(response.context["result"].clusters) == 3
    assert "Propose as a new theme" not in response.content.decode()


def test_the_page_makes_the_same_queries_whatever_the_corpus(corpus):
    from django.core.cache import cache

    analyst = client_for(corpus.users["analyst"])
    url = reverse("themes:discovery")
    report = archive_report(1)
    statements = [archive_statement(report, t) for t in INTERPRETERS + NOISE[:2]]
    for s in statements:
        suggest(s, "workforce", 0.3)
    coding.embed_cached([s.text for s in statements])
    cache.clear()
    with CaptureQueriesContext(connection) as few:
        small = analyst.get(url)
    assert len(small.context["result"].clusters) == 1

    more = [archive_statement(archive_report(n), t) for n, t in enumerate(BODY_WORN + FGM, 2)]
    for s in more:
        suggest(s, "partnership", 0.25)
    coding.embed_cached([s.text for s in more])
    cache.clear()
    with CaptureQueriesContext(connection) as many:
        large = analyst.get(url)
    assert len(large.context["result"].clusters) == 3
    assert large.context["result"].reports == 13
    assert len(many.captured_queries) == len(few.captured_queries)


def test_the_page_is_cached_until_the_coding_changes(corpus, monkeypatch):
    made = topic_corpus()
    computed: list[int] = []
    real = discovery.discover

    def counting(limit: int = discovery.LIMIT) -> discovery.DiscoveryResult:
        computed.append(limit)
        return real(limit)

    monkeypatch.setattr(discovery, "discover", counting)
    analyst = client_for(corpus.users["analyst"])
    url = reverse("themes:discovery")
    with CaptureQueriesContext(connection) as first:
        before = analyst.get(url).context["result"]
    with CaptureQueriesContext(connection) as second:
        again = analyst.get(url).context["result"]
    assert len(computed) == 1
    assert again == before
    assert len(second.captured_queries) < len(first.captured_queries)

    # A person codes one of the clustered statements: it no longer fits no theme.
    coded = made["interpret"][0]
    decide(coded, corpus.users["inspector"], ["partnership"])
    after = analyst.get(url).context["result"]
    assert len(computed) == 2
    assert after.poorly_fitting == before.poorly_fitting - 1
    assert coded.pk not in {s.pk for c in after.clusters for s in c.statements}


def test_a_proposal_gives_each_example_text_once():
    """The same words in two reports (a standard phrase, say) are one example."""
    from apps.themes.discovery import FoundCluster, Representative
    from apps.themes.views_discovery import _propose_url

    said = "Officers did not record the child's views."

    def rep(pk: int, text: str) -> Representative:
        return Representative(pk, text, "Finding", f"Report {pk}", 2024)

    cluster = FoundCluster(
        name="Voice",
        size=4,
        reports=4,
        cohesion=0.9,
        terms=(),
        statements=(rep(1, said), rep(2, said), rep(3, "Views went unrecorded."), rep(4, "A")),
    )
    query = parse_qs(urlsplit(_propose_url(cluster) or "").query, keep_blank_values=True)
    assert query["example"] == [said, "Views went unrecorded.", "A"]


def test_a_pair_of_words_is_two_words_next_to_each_other():
    """Not two words a stop word stood between: "risks to children" is no pair "risks
    children" (a cluster was once named so); "safety planning" is one."""
    from apps.themes.discovery import _vocabulary

    texts = [
        "Risks to children were missed by the safety planning team.",
        "Safety planning for risks to children was late.",
    ]
    counts, terms = _vocabulary(texts)
    vocabulary = dict(zip(terms.tolist(), np.asarray(counts.sum(axis=0)).ravel(), strict=True))
    assert vocabulary["safety planning"] == 2 and vocabulary["risks"] == 2
    assert vocabulary["children"] == 2
    assert "risks children" not in vocabulary
    assert "missed safety" not in vocabulary  # "by the" stood between them
    assert not any(w in {"to", "the", "by", "for", "was"} for t in vocabulary for w in t.split())
    # Nor across punctuation or a number.
    _, terms = _vocabulary(
        ["Section 47 enquiries are late. Children wait, officers say.", "Officers say so."]
    )
    pairs = {t for t in terms.tolist() if " " in t}
    assert pairs == {"children wait", "officers say"}, pairs
