"""Full-text search over published reports, on whichever database the suite runs on
(DATABASE_URL): PostgreSQL's GIN expression index, or SQLite's FTS5 table kept by triggers."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from apps.portal import search
from apps.portal.selectors import ReportFilters, listed_publications, report_list
from apps.reports.models import Publication

pytestmark = pytest.mark.django_db

BAD_QUERIES = [
    '"',
    '"unbalanced quote',
    "child AND",
    "OR OR OR",
    "NEAR(child exploitation)",
    "title:child",
    "child*",
    "-child",
    "(child",
    "'; DROP TABLE reports_publication; --",
    "<script>alert(1)</script>",
    "ä ö ü ß 子供 🙂",
    "x" * 5000,
    "child " * 500,
    "\x00\x01",
    "^ & | ! : *",
]


def _slugs(query: str, **filters) -> list[str]:
    return [r.slug for r in report_list(filters=ReportFilters(q=query, **filters)).rows]


def test_the_engine_is_the_database_of_this_run() -> None:
    assert connection.vendor in {"sqlite", "postgresql"}


def test_search_finds_words_in_title_summary_and_text(publisher) -> None:
    a = publisher.publish(title="Child exploitation in Northshire", text="Trusted adults help.")
    b = publisher.publish(summary="Missing children were not found quickly.")
    c = publisher.publish(text="Officers recognised domestic abuse at the front door.")
    assert _slugs("exploitation") == [a.slug]
    assert _slugs("missing") == [b.slug]
    assert _slugs("domestic abuse") == [c.slug]
    assert _slugs("DOMESTIC") == [c.slug]  # case does not matter
    assert _slugs("abused") == [c.slug]  # nor the form of the word (stemming)
    assert _slugs("domestic exploitation") == []  # every word must be found
    assert _slugs("nothing-like-this") == []


def test_only_current_versions_are_found_and_listed(publisher) -> None:
    published = publisher.publish(text="The first version spoke of custody suites.")
    publisher.republish(published, text="The second version speaks of detention instead.")
    assert Publication.objects.filter(slug=published.slug).count() == 2
    assert _slugs("custody") == []  # only in the superseded version
    assert _slugs("detention") == [published.slug]
    listed = list(listed_publications().values_list("slug", "version"))
    assert listed == [(published.slug, 2)]
    assert report_list(filters=ReportFilters()).total == 1


def test_welsh_versions_are_not_listed_twice(publisher) -> None:
    english = publisher.publish(text="Language test.")
    publisher.publish(
        inspection=english.inspection,
        slug=english.slug,
        language="cy",
        title="Arolygiad o amddiffyn plant",
        forces=list(english.current.forces.all()),
    )
    rows = report_list(filters=ReportFilters()).rows
    assert [(r.slug, r.language) for r in rows] == [(english.slug, "en")]
    welsh_only = publisher.publish(language="cy", title="Adroddiad Cymraeg yn unig")
    slugs = {(r.slug, r.language) for r in report_list(filters=ReportFilters()).rows}
    assert (welsh_only.slug, "cy") in slugs


def test_results_are_ranked_title_first(publisher) -> None:
    in_text = publisher.publish(text="A short note on custody and custody records.")
    in_title = publisher.publish(title="Custody of children in Westshire")
    assert _slugs("custody")[0] == in_title.slug
    assert set(_slugs("custody")) == {in_text.slug, in_title.slug}


@pytest.mark.parametrize("query", BAD_QUERIES)
def test_bad_queries_never_fail(publisher, query: str) -> None:
    publisher.publish(title="Child protection in Northshire", text="child exploitation")
    result = report_list(filters=ReportFilters(q=query))
    assert result.total >= 0
    terms = search.search_terms(query)
    assert len(terms) <= search.MAX_TERMS
    assert all(t.isalnum() for t in terms)


def test_operators_are_searched_as_words(publisher) -> None:
    publisher.publish(title="Child protection in Northshire")
    # "OR" is a word here, not an operator: no report has it, so nothing matches.
    assert _slugs("child OR nonsense") == []
    assert len(_slugs('"child"')) == 1
    assert len(_slugs("child*")) == 1


def test_snippets_are_escaped_and_highlighted(publisher) -> None:
    published = publisher.publish(
        text="Officers wrote <script>alert('x')</script> near the word safeguarding."
    )
    rows = report_list(filters=ReportFilters(q="safeguarding")).rows
    assert [r.slug for r in rows] == [published.slug]
    snippet = str(rows[0].snippet)
    assert "<mark>safeguarding</mark>" in snippet.lower()
    assert "<script>" not in snippet and "</script>" not in snippet


def test_extracts_are_escaped_before_marking() -> None:
    marked = search._highlight(f"a <b>bold</b> {search._OPEN}word{search._CLOSE} & {search._OPEN}x")
    assert str(marked) == "a &lt;b&gt;bold&lt;/b&gt; <mark>word</mark> &amp; x"


def test_filters_combine_with_search(publisher) -> None:
    from tests.factories import ForceFactory

    north, south = ForceFactory(slug="north"), ForceFactory(slug="south")
    a = publisher.publish(forces=[north], text="neglect", published_on=dt.date(2024, 5, 1))
    b = publisher.publish(forces=[south], text="neglect")
    c = publisher.publish(forces=[north], text="neglect", programme_type="jtai")
    assert set(_slugs("neglect")) == {a.slug, b.slug, c.slug}
    assert set(_slugs("neglect", force="north")) == {a.slug, c.slug}
    assert _slugs("neglect", force="north", programme_type="jtai") == [c.slug]
    assert _slugs("neglect", year=2024) == [a.slug]


def test_index_follows_updates_and_deletes(publisher) -> None:
    """Writes to the reports table keep the index in step by themselves (SQLite triggers; on
    PostgreSQL the expression index is part of the table)."""
    published = publisher.publish(title="Original heading")
    publication = published.current
    assert _slugs("original") == [published.slug]
    Publication.objects.filter(pk=publication.pk).update(
        title="Replacement heading", search_text="Replacement text"
    )
    assert _slugs("original") == []
    assert _slugs("replacement") == [published.slug]
    Publication.objects.filter(pk=publication.pk).update(pdf=b"%PDF-1.7", pdf_pages=3)
    assert _slugs("replacement") == [published.slug]
    publication.forces.clear()
    Publication.objects.filter(pk=publication.pk).delete()
    assert _slugs("replacement") == []


def _sqlite_index_is_repaired_when_a_migration_drops_its_triggers(publisher) -> None:
    published = publisher.publish(title="Before the rebuild")
    with connection.cursor() as cursor:
        for trigger in search.SQLITE_TRIGGERS:
            cursor.execute(f"DROP TRIGGER {trigger}")
    assert search.sqlite_index_ensure() is True
    assert search.sqlite_index_ensure() is False  # nothing more to do
    Publication.objects.filter(pk=published.current.pk).update(
        title="After the rebuild", search_text="After"
    )
    assert _slugs("after rebuild") == [published.slug]
    assert _slugs("before") == []


def _postgresql_search_uses_the_gin_index(publisher) -> None:
    for n in range(30):  # a table of a few reports: one row is cheaper to read than an index
        publisher.publish(title="Child exploitation" if n == 0 else f"Report {n}")
    found = search.publication_search("exploitation", within=Publication.objects.all())
    sql, params = found.publications.query.sql_with_params()
    with connection.cursor() as cursor:
        # No planner settings: the document function is declared expensive, so the planner
        # takes the index of its own accord even for a small table.
        cursor.execute("ANALYZE reports_publication")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "portal_publication_search" in plan, plan


# Each engine's own index is tested on that engine: the suite runs once on SQLite and once
# on PostgreSQL (make test), and each run collects the test of its own database.
if connection.vendor == "sqlite":
    test_sqlite_index_is_repaired_when_a_migration_drops_its_triggers = (
        _sqlite_index_is_repaired_when_a_migration_drops_its_triggers
    )
else:
    test_postgresql_search_uses_the_gin_index = _postgresql_search_uses_the_gin_index


def test_search_terms() -> None:
    assert search.search_terms('  "Child"  AND (exploitation*) ') == [
        "child",
        "and",
        "exploitation",
    ]
    assert search.search_terms("") == []
    assert search.search_terms("a_b") == ["a", "b"]
    assert len(search.search_terms(" ".join(f"w{i}" for i in range(50)))) == search.MAX_TERMS
