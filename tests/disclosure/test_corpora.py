"""The two corpora: every planted identifier is caught, and clean report text raises (almost)
no false alarm.

``data/planted.jsonl``: paragraphs in the register of child protection inspection reports,
each with identifiers planted in it and their expected type and text. ``data/clean.jsonl``:
paragraphs with only what reports legitimately contain (force and local authority names,
office titles, statutes, helplines, fieldwork dates, counts, ages in aggregate).

The issue's targets: every planted identifier caught; at most one false alarm in ten clean
paragraphs. The figures are printed (``-s``) and recorded in ADR 14.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from apps.disclosure import allowlist
from apps.disclosure.engine import HIT_TYPES, Hit, scan_many

DATA = Path(__file__).resolve().parent / "data"


def load(name: str) -> list[dict[str, Any]]:
    with (DATA / name).open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


PLANTED = load("planted.jsonl")
CLEAN = load("clean.jsonl")


@pytest.fixture(autouse=True)
def _fresh_allow_list():
    allowlist.reset_cache()
    yield
    allowlist.reset_cache()


def missed(items: list[dict[str, Any]], results: list[list[Hit]]) -> list[str]:
    """The planted identifiers no hit of the expected type overlaps."""
    misses = []
    for item, hits in zip(items, results, strict=True):
        for expected in item["expected"]:
            start = item["text"].index(expected["text"])
            end = start + len(expected["text"])
            if not any(
                h.type == expected["type"] and h.start < end and h.end > start for h in hits
            ):
                found = [(h.type, h.text) for h in hits]
                misses.append(f"{item['id']}: {expected['type']} {expected['text']!r}; {found}")
    return misses


def false_alarms(results: list[list[Hit]]) -> list[str]:
    return [
        f"{item['id']}: {[(h.type, h.text) for h in hits]}"
        for item, hits in zip(CLEAN, results, strict=True)
        if hits
    ]


def test_the_corpora_are_well_formed():
    assert len(PLANTED) >= 60
    assert len(CLEAN) >= 40
    ids = [item["id"] for item in PLANTED + CLEAN]
    assert len(ids) == len(set(ids))
    types = Counter(e["type"] for item in PLANTED for e in item["expected"])
    assert set(types) == set(HIT_TYPES)
    assert min(types.values()) >= 6, types
    for item in PLANTED:
        for expected in item["expected"]:
            assert expected["text"] in item["text"], item["id"]


@pytest.mark.django_db
def test_every_planted_identifier_is_caught_with_the_reference_data(reference_data):
    assert allowlist.database_phrases(), "the reference names come from the database here"
    results = scan_many([item["text"] for item in PLANTED])
    misses = missed(PLANTED, results)
    total = sum(len(item["expected"]) for item in PLANTED)
    print(f"\nplanted: {total - len(misses)}/{total} caught")
    assert misses == []


# The false alarms the engine is known to raise on the clean corpus, with the reason; any other
# is a regression. c101 came from the last held-out set (ADR 14): the model tags the town of
# Llandrindod Wells as a person, and a town is neither a force nor a local authority name.
KNOWN_FALSE_ALARMS = {"c101": "PERSON 'Llandrindod Wells'"}


@pytest.mark.django_db
def test_clean_paragraphs_raise_at_most_one_false_alarm_in_ten(reference_data):
    results = scan_many([item["text"] for item in CLEAN])
    alarms = false_alarms(results)
    print(f"\nclean: {len(alarms)}/{len(CLEAN)} paragraphs with a false alarm: {alarms}")
    assert len(alarms) <= len(CLEAN) / 10
    assert {alarm.split(":")[0] for alarm in alarms} <= set(KNOWN_FALSE_ALARMS)


def test_without_a_database_the_reference_files_give_the_same_results():
    """A fresh installation (or no database access, as here) reads the reference names from
    data/reference/, so it checks text exactly as a loaded database does."""
    assert allowlist.database_phrases() == ()
    planted = scan_many([item["text"] for item in PLANTED])
    clean = scan_many([item["text"] for item in CLEAN])
    assert missed(PLANTED, planted) == []
    assert {alarm.split(":")[0] for alarm in false_alarms(clean)} <= set(KNOWN_FALSE_ALARMS)


def test_planted_paragraphs_hold_nothing_but_their_identifiers():
    """Precision inside the planted paragraphs too: no hit that is not a planted one."""
    extra = []
    for item, hits in zip(PLANTED, scan_many([i["text"] for i in PLANTED]), strict=True):
        spans = [
            (item["text"].index(e["text"]), item["text"].index(e["text"]) + len(e["text"]))
            for e in item["expected"]
        ]
        extra += [
            f"{item['id']}: {h.type} {h.text!r}"
            for h in hits
            if not any(h.start < end and h.end > start for start, end in spans)
        ]
    assert extra == []


def test_in_a_whole_report_every_planted_identifier_is_caught_and_nothing_else():
    """The corpora mixed into report sections (what the reports app will scan): context from
    the paragraphs around must not hide an identifier or raise an alarm in clean text."""
    sections: list[list[tuple[str, dict[str, Any] | None]]] = []
    clean = iter(CLEAN * 2)
    for number, item in enumerate(PLANTED):
        if number % 4 == 0:
            sections.append([])
        sections[-1] += [(next(clean)["text"], None), (item["text"], item)]
    texts = ["\n\n".join(paragraph for paragraph, _ in section) for section in sections]
    misses, alarms = [], []
    for section, text, hits in zip(sections, texts, scan_many(texts), strict=True):
        assert all(text[h.start : h.end] == h.text for h in hits)
        start, assigned = 0, 0
        for paragraph, item in section:
            end = start + len(paragraph)
            inside = [
                Hit(h.type, h.start - start, h.end - start, h.text, h.score)
                for h in hits
                if start <= h.start and h.end <= end
            ]
            if item is None:
                alarms += [f"{h.type} {h.text!r}" for h in inside]
            else:
                misses += missed([item], [inside])
            start, assigned = end + 2, assigned + len(inside)
        assert assigned == len(hits), "a hit spans two paragraphs"
    print(f"\nin report sections: {len(misses)} missed, {len(alarms)} false alarms: {alarms}")
    assert misses == []
    assert set(alarms) <= set(KNOWN_FALSE_ALARMS.values())
