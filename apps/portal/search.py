"""Full-text search over published reports, on whichever database runs the service.

* PostgreSQL: `to_tsvector('english', title || summary || search_text)` matched against the
  words asked for, using the GIN expression index this app's migration creates over it (as
  the function `portal_publication_document`, which the query must call just as the index
  does). Ranking weighs the title, then the summary; snippets come from `ts_headline`.
* SQLite (the embedded default): an external-content FTS5 table over `reports_publication`,
  created by the migration and kept in step by triggers on the table itself, so no Python code
  has to remember to index anything. Ranking is FTS5's bm25; snippets come from `snippet()`.

`publication_search` hides the difference. Whatever people type is reduced to at most
`MAX_TERMS` plain words before it reaches either engine, so quotes, operators (AND, NEAR,
column filters, `*`, `-`) and very long input cannot make a query fail.
"""

# Every statement here is built from constants of this module; what people type reaches the
# database only as a bound parameter (and only after search_terms has reduced it to words).
# ruff: noqa: S608, S611

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import BooleanField, FloatField, Q, QuerySet, Value
from django.db.models.expressions import RawSQL
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from apps.reports.models import Publication

MAX_QUERY_CHARS = 200
MAX_TERMS = 12
MAX_TERM_CHARS = 40

# Markers put around matched words by the engines, replaced by <mark> after escaping the text;
# private-use characters never found in a report.
_OPEN, _CLOSE = "\ue000", "\ue001"
_WORD = re.compile(r"\w+", re.UNICODE)
_MARKED = re.compile(f"{_OPEN}(.*?){_CLOSE}", re.S)

# PostgreSQL --------------------------------------------------------------------------------

# The document searched: to_tsvector('english', title, summary and text), through a function
# the migration creates and indexes (GIN). The function is declared expensive, so the planner
# uses the index instead of parsing each report's text, even when there are few reports.
# Columns are qualified, as a filter may join another table with a "title".
_T = "reports_publication"
PG_DOCUMENT = f"portal_publication_document({_T}.title, {_T}.summary, {_T}.search_text)"
PG_QUERY = "plainto_tsquery('english'::regconfig, %s)"
# Ranking weighs the title, then the summary. Ranking by the whole text would re-parse every
# matching report (about 5 ms for 150 KB each); the match itself comes from the index.
PG_RANK = (
    f"ts_rank(setweight(to_tsvector('english'::regconfig, coalesce({_T}.title, '')), 'A') "
    f"|| setweight(to_tsvector('english'::regconfig, coalesce({_T}.summary, '')), 'B'), "
    f"{PG_QUERY})"
)
PG_HEADLINE_OPTIONS = (
    f'StartSel="{_OPEN}", StopSel="{_CLOSE}", MaxWords=30, MinWords=12, MaxFragments=2, '
    'FragmentDelimiter=" … "'
)
# ts_headline reads the whole text it is given (about 1 ms a page of text); the summary and the
# opening of a report make the extract, which keeps a results page fast. SQLite's snippet()
# reads the index instead, so it can show a match from anywhere in the text.
PG_HEADLINE_CHARS = 6_000

# SQLite ------------------------------------------------------------------------------------

FTS_TABLE = "portal_publication_fts"
SQLITE_CREATE = [
    f"""CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5(
        title, summary, search_text,
        content='reports_publication', content_rowid='id',
        tokenize='porter unicode61 remove_diacritics 2'
    )""",
    f"""CREATE TRIGGER IF NOT EXISTS portal_publication_fts_insert
        AFTER INSERT ON reports_publication BEGIN
        INSERT INTO {FTS_TABLE}(rowid, title, summary, search_text)
        VALUES (new.id, new.title, new.summary, new.search_text);
    END""",
    f"""CREATE TRIGGER IF NOT EXISTS portal_publication_fts_delete
        AFTER DELETE ON reports_publication BEGIN
        INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, title, summary, search_text)
        VALUES ('delete', old.id, old.title, old.summary, old.search_text);
    END""",
    f"""CREATE TRIGGER IF NOT EXISTS portal_publication_fts_update
        AFTER UPDATE OF title, summary, search_text ON reports_publication BEGIN
        INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, title, summary, search_text)
        VALUES ('delete', old.id, old.title, old.summary, old.search_text);
        INSERT INTO {FTS_TABLE}(rowid, title, summary, search_text)
        VALUES (new.id, new.title, new.summary, new.search_text);
    END""",
]
SQLITE_TRIGGERS = (
    "portal_publication_fts_insert",
    "portal_publication_fts_delete",
    "portal_publication_fts_update",
)
# Title counts most, then the summary, then the text.
SQLITE_RANK = f"bm25({FTS_TABLE}, 10.0, 4.0, 1.0)"


def search_terms(query: str) -> list[str]:
    """The plain words of a query: letters and digits only, at most MAX_TERMS of them, each at
    most MAX_TERM_CHARS long, lower-cased, without repeats."""
    words = _WORD.findall((query or "")[:MAX_QUERY_CHARS].replace("_", " "))
    terms: list[str] = []
    for word in words:
        term = word.lower()[:MAX_TERM_CHARS]
        if term not in terms:
            terms.append(term)
        if len(terms) == MAX_TERMS:
            break
    return terms


def _fts5_query(terms: Sequence[str]) -> str:
    # Each term as a quoted string: FTS5 then reads it as text, never as an operator.
    return " ".join(f'"{term}"' for term in terms)


@dataclass
class SearchResult:
    """Matching publications (a queryset, best first, with a `relevance` annotation) and the
    words that were searched for."""

    publications: QuerySet[Publication]
    terms: list[str]

    def snippets(self, ids: Sequence[int]) -> dict[int, SafeString]:
        """Highlighted extracts for these publications (a page of results), as safe HTML."""
        return publication_snippets(ids, self.terms)


def publication_search(query: str, *, within: QuerySet[Publication]) -> SearchResult:
    """The publications of `within` that match `query`, most relevant first (then newest)."""
    terms = search_terms(query)
    if not terms:
        return SearchResult(within.none(), terms)
    text = " ".join(terms)
    vendor = connection.vendor
    if vendor == "postgresql":
        found = within.filter(
            RawSQL(f"{PG_DOCUMENT} @@ {PG_QUERY}", [text], output_field=BooleanField())
        ).annotate(relevance=RawSQL(PG_RANK, [text], output_field=FloatField()))
    elif vendor == "sqlite":
        match = _fts5_query(terms)
        found = within.filter(
            id__in=RawSQL(f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s", [match])
        ).annotate(
            relevance=RawSQL(
                f"(SELECT -{SQLITE_RANK} FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s "
                f"AND {FTS_TABLE}.rowid = reports_publication.id)",
                [match],
                output_field=FloatField(),
            )
        )
    else:  # another database: plain containment, every word somewhere
        condition = Q()
        for term in terms:
            condition &= (
                Q(title__icontains=term)
                | Q(summary__icontains=term)
                | Q(search_text__icontains=term)
            )
        found = within.filter(condition).annotate(relevance=Value(0.0, FloatField()))
    return SearchResult(found.order_by("-relevance", "-published_on", "-id"), terms)


def _highlight(text: str) -> SafeString:
    """Escape an engine's extract, then turn its markers into <mark>."""
    escaped = str(escape(" ".join(text.split())))
    marked = _MARKED.sub(r"<mark>\1</mark>", escaped)
    return mark_safe(marked.replace(_OPEN, "").replace(_CLOSE, ""))  # noqa: S308 - escaped above


def publication_snippets(ids: Sequence[int], terms: Sequence[str]) -> dict[int, SafeString]:
    """For each publication id, an extract of its text around the matched words, escaped, with
    the words in <mark>. One query."""
    ids = [int(i) for i in ids]
    if not ids or not terms:
        return {}
    vendor = connection.vendor
    with connection.cursor() as cursor:
        if vendor == "postgresql":
            placeholders = ", ".join(["%s"] * len(ids))
            cursor.execute(
                f"SELECT id, ts_headline('english'::regconfig, "
                f"coalesce(summary, '') || ' … ' "
                f"|| left(coalesce(search_text, ''), {int(PG_HEADLINE_CHARS)}), "
                f"{PG_QUERY}, %s) FROM reports_publication WHERE id IN ({placeholders})",
                [" ".join(terms), PG_HEADLINE_OPTIONS, *ids],
            )
        elif vendor == "sqlite":
            placeholders = ", ".join(["%s"] * len(ids))
            cursor.execute(
                f"SELECT rowid, snippet({FTS_TABLE}, -1, %s, %s, ' … ', 32) FROM {FTS_TABLE} "
                f"WHERE {FTS_TABLE} MATCH %s AND rowid IN ({placeholders})",
                [_OPEN, _CLOSE, _fts5_query(terms), *ids],
            )
        else:
            return {}
        rows = cursor.fetchall()
    return {row[0]: _highlight(row[1] or "") for row in rows}


# Keeping the SQLite index whole ------------------------------------------------------------


def sqlite_index_ensure(using_connection: Any = None) -> bool:
    """Make sure the FTS5 table and its triggers exist; rebuild the index if any were missing.

    Django's SQLite schema editor changes a table by copying it to a new one and dropping the
    old, which drops the old table's triggers with it: a later migration of `reports` would
    otherwise leave the index silently out of step. Runs after every `migrate` (apps.py).
    Returns True when it had to repair something.
    """
    conn = using_connection or connection
    if conn.vendor != "sqlite":
        return False
    with conn.cursor() as cursor:
        cursor.execute(
            "SELECT type, name FROM sqlite_master WHERE name IN (%s, %s, %s, %s, %s)",
            ["reports_publication", FTS_TABLE, *SQLITE_TRIGGERS],
        )
        present = {name for _type, name in cursor.fetchall()}
        if "reports_publication" not in present:
            return False
        missing = {FTS_TABLE, *SQLITE_TRIGGERS} - present
        if not missing:
            return False
        for statement in SQLITE_CREATE:
            cursor.execute(statement)
        cursor.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')")
    return True
