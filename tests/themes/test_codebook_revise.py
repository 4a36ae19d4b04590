"""Revising the codebook: each change (a theme added, renamed, merged, split) is a new version
that carries every current code over as the rules say, with a note in each code's history;
earlier versions' codes stay as they were; bad or stale input is refused naming the field
and changes nothing; the training key map follows the revisions; and the pages: who may see
and change the codebook, prefilled forms, errors on their fields, fixed query counts."""

from __future__ import annotations

import datetime as dt
import math
from html import escape
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
import yaml
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.accounts.models import Role
from apps.core.audit import SystemActor
from apps.core.models import AuditEvent
from apps.themes import codebook_revise as revise
from apps.themes import selectors, services
from apps.themes.codebook import default_path
from apps.themes.corpus import text_digest
from apps.themes.models import (
    ClassifierVersion,
    CodebookVersion,
    Statement,
    Theme,
    ThemeCode,
    ThemeCodeChange,
)
from tests.factories import UserFactory
from tests.themes.conftest import stand_in_classifier

SYSTEM = SystemActor("tests")
T0 = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
EXAMPLE = ["The force and schools teach children how to stay safe online."]

SUPERVISION = "Supervision and management oversight of cases"
LEADERSHIP = "Leadership, governance and strategic priority"
PARTNERSHIP = "Multi-agency working and information sharing"


# Helpers ------------------------------------------------------------------------------------


@pytest.fixture
def v1(db) -> CodebookVersion:
    row, _ = services.codebook_load(actor=SYSTEM)
    return row


@pytest.fixture
def people(db):
    return {
        "analyst": UserFactory(username="ana", role=Role.ANALYST),
        "lead": UserFactory(username="lee", role=Role.LEAD_INSPECTOR),
    }


@pytest.fixture
def classifiers(v1):
    def make(version: str) -> ClassifierVersion:
        return stand_in_classifier(version, codebook=v1, trained_on=730)

    return make("aaaaaaaaaaaa"), make("bbbbbbbbbbbb")


def make_statements(n: int, prefix: str = "Statement") -> list[Statement]:
    texts = [f"{prefix} number {i} about children." for i in range(n)]
    return Statement.objects.bulk_create(
        Statement(
            source=Statement.Source.ARCHIVE,
            text=t,
            text_sha256=text_digest(t),
            kind="area_for_improvement",
            report_title="A report",
        )
        for t in texts
    )


def code(
    statement: Statement,
    key: str,
    status: str,
    *,
    confidence: float | None = None,
    by=None,
    at: dt.datetime = T0,
    classifier: ClassifierVersion | None = None,
) -> ThemeCode:
    theme = Theme.objects.get(codebook=services.current_codebook(), key=key)
    label = (
        by.username
        if by
        else f"Classifier {classifier.version if classifier else '-'}, run by tests"
    )
    return ThemeCode.objects.create(
        statement=statement,
        theme=theme,
        status=status,
        confidence=confidence,
        classifier=classifier,
        set_by=by,
        set_by_label=label,
        set_at=at,
    )


def code_state(c: ThemeCode) -> tuple:
    return (
        c.statement_id,
        c.theme.key,
        c.status,
        c.confidence,
        c.classifier_id,
        c.set_by_id,
        c.set_by_label,
        c.set_at,
    )


def codes_in(number: int) -> dict[tuple[int, str], ThemeCode]:
    return {
        (c.statement_id, c.theme.key): c
        for c in ThemeCode.objects.filter(theme__codebook__number=number).select_related("theme")
    }


def everything() -> tuple:
    """All that a revision could touch, to show a refusal changed nothing."""
    return (
        list(CodebookVersion.objects.order_by("pk").values_list("pk", "number", "note")),
        list(
            Theme.objects.order_by("pk").values_list(
                "pk", "codebook_id", "key", "name", "covers", "excludes", "examples", "order"
            )
        ),
        list(
            Theme.derived_from.through.objects.order_by("pk").values_list(
                "from_theme_id", "to_theme_id"
            )
        ),
        list(
            ThemeCode.objects.order_by("pk").values_list(
                "pk", "statement_id", "theme_id", "status", "confidence", "set_by_id", "set_at"
            )
        ),
        ThemeCodeChange.objects.count(),
        AuditEvent.objects.count(),
    )


def refused(call, **kwargs) -> dict[str, list[str]]:
    before = everything()
    with pytest.raises(ValidationError) as caught:
        call(**kwargs)
    assert everything() == before
    return caught.value.message_dict


def theme_words(name: str, **more) -> dict:
    return {
        "name": name,
        "covers": f"Everything about {name.lower()}.",
        "excludes": "",
        "examples": EXAMPLE,
        **more,
    }


def notes(c: ThemeCode) -> list[str]:
    return list(c.changes.order_by("at", "id").values_list("note", flat=True))


# Adding a theme -----------------------------------------------------------------------------


def test_adding_a_theme_makes_a_version_that_carries_every_code_over(v1, people, classifiers):
    analyst = people["analyst"]
    s = make_statements(3)
    code(s[0], "workforce", "confirmed", by=analyst)
    code(s[0], "supervision", "rejected", by=analyst)
    code(s[1], "partnership", "suggested", confidence=0.61, classifier=classifiers[0])
    code(s[2], "online_abuse", "withdrawn", classifier=classifiers[1])
    old = {k: code_state(c) for k, c in codes_in(1).items()}

    revision = revise.theme_add(
        actor=analyst,
        based_on_number=1,
        key="online_safety_education",
        name="  Online   safety education ",
        covers="Teaching children about staying safe online.",
        examples=[*EXAMPLE, "  ", EXAMPLE[0]],
    )

    v2 = revision.version
    assert (v2.number, v2.based_on, v2.created_by_label) == (2, v1, "ana")
    assert v2.note == "Added 'Online safety education' (online_safety_education)."
    assert services.current_codebook() == v2
    themes = list(v2.themes.order_by("order"))
    assert [t.key for t in themes] == [
        *v1.themes.order_by("order").values_list("key", flat=True),
        "online_safety_education",
    ]
    added = themes[-1]
    assert (added.name, added.examples, added.order) == ("Online safety education", EXAMPLE, 16)
    assert not added.derived_from.exists()
    for theme in themes[:-1]:
        (source,) = theme.derived_from.all()
        assert (source.codebook, source.key, source.name) == (v1, theme.key, theme.name)
        assert theme.covers == source.covers and theme.examples == source.examples

    # Every code carried over as it was; the old version's codes untouched.
    assert {k: code_state(c) for k, c in codes_in(1).items()} == old
    new = codes_in(2)
    assert {k: code_state(c)[2:] for k, c in new.items()} == {k: v[2:] for k, v in old.items()}
    for c in new.values():
        assert notes(c) == [
            "Carried over from codebook version 1 unchanged; version 2: Added 'Online safety "
            "education' (online_safety_education)."
        ]
        change = c.changes.get()
        assert (change.status, change.set_by_id, change.confidence) == (
            c.status,
            c.set_by_id,
            c.confidence,
        )
    assert set(selectors.current_codes()) == set(new.values())
    assert (revision.codes_before, revision.codes_after) == (4, 4)
    assert revision.message.startswith("Codebook version 2: 'Online safety education' added.")
    assert "4 codes carried over unchanged" in revision.message
    event = AuditEvent.objects.get(object_type="themes.codebookversion", object_id=str(v2.pk))
    assert event.actor == analyst and event.action == "create"
    # Codes of a statement decided under version 1 still count as decided.
    assert set(selectors.decided_statement_ids().values_list("statement_id", flat=True)) == {
        s[0].pk
    }


@pytest.mark.parametrize(
    "change, field, message",
    [
        ({"examples": []}, "examples", "at least one example"),
        ({"examples": ["  "]}, "examples", "at least one example"),
        ({"name": "   "}, "name", "Enter the theme's name"),
        ({"name": "x" * 201}, "name", "200 characters or fewer"),
        ({"name": "workforce capacity, SKILLS and training"}, "name", "already a theme's name"),
        ({"covers": ""}, "covers", "Say what the theme covers"),
        ({"key": ""}, "key", "Enter a key"),
        ({"key": "Online Safety"}, "key", "lower case letters"),
        ({"key": "workforce"}, "key", "already the key of 'Workforce capacity"),
        ({"based_on_number": 2}, "based_on_number", "Reload the page"),
    ],
)
def test_a_new_theme_is_refused_naming_the_field(v1, people, change, field, message):
    make_statements(1)
    asked = {
        "actor": people["analyst"],
        "based_on_number": 1,
        "key": "online_safety_education",
        **theme_words("Online safety education"),
        **change,
    }
    errors = refused(revise.theme_add, **asked)
    assert list(errors) == [field]
    assert message in errors[field][0]


def test_without_a_codebook_a_revision_is_refused(db, people):
    errors = refused(
        revise.theme_add,
        actor=people["analyst"],
        based_on_number=1,
        key="a_theme",
        **theme_words("A theme"),
    )
    assert "No codebook is loaded" in errors["based_on_number"][0]


# Renaming -----------------------------------------------------------------------------------


def test_renaming_carries_the_codes_over_unchanged_and_keys_are_never_reused(
    v1, people, classifiers
):
    analyst, lead = people["analyst"], people["lead"]
    s = make_statements(4)
    code(s[0], "supervision", "confirmed", by=analyst, at=T0)
    code(s[1], "supervision", "suggested", confidence=0.42, classifier=classifiers[0])
    code(s[2], "supervision", "rejected", by=lead, at=T0 + dt.timedelta(hours=1))
    code(s[3], "workforce", "suggested", confidence=0.9, classifier=classifiers[0])
    old = {k: code_state(c) for k, c in codes_in(1).items()}

    revision = revise.theme_rename(
        actor=analyst,
        based_on_number=1,
        key="supervision",
        new_key="oversight",
        name="Oversight and supervision",
        covers="Oversight of cases by supervisors and managers.",
        excludes="",
        examples=EXAMPLE,
    )
    v2 = revision.version
    what = (
        f"'{SUPERVISION}' renamed 'Oversight and supervision' (key supervision is now "
        "oversight; what it covers reworded; its examples changed)"
    )
    assert v2.note == what[0].upper() + what[1:] + "."
    renamed = v2.themes.get(key="oversight")
    old_theme = v1.themes.get(key="supervision")
    assert renamed.order == old_theme.order and list(renamed.derived_from.all()) == [old_theme]
    assert not v2.themes.filter(key="supervision").exists()
    assert {k: code_state(c) for k, c in codes_in(1).items()} == old
    new = codes_in(2)
    for statement in s[:3]:
        moved = new[(statement.pk, "oversight")]
        assert code_state(moved)[2:] == old[(statement.pk, "supervision")][2:]
        assert notes(moved) == [f"Carried over from codebook version 1: {what}"]
    assert code_state(new[(s[3].pk, "workforce")])[2:] == old[(s[3].pk, "workforce")][2:]
    assert "3 codes of the theme carried over with it; 1 other code carried over" in (
        revision.message
    )

    # Only the words: the key stays.
    reworded = revise.theme_rename(
        actor=analyst,
        based_on_number=2,
        key="oversight",
        name="Oversight and supervision",
        covers="Oversight of cases by supervisors, managers and leaders.",
        excludes="",
        examples=EXAMPLE,
    )
    assert reworded.version.note == "'Oversight and supervision': what it covers reworded."
    assert reworded.version.themes.get(key="oversight").derived_from.get() == renamed

    # A key once used means that theme for good: it cannot name a new one.
    errors = refused(
        revise.theme_add,
        actor=analyst,
        based_on_number=3,
        key="supervision",
        **theme_words("Supervision of investigations"),
    )
    assert "was used by a theme of an earlier codebook version" in errors["key"][0]


def test_a_rename_is_refused_naming_the_field(v1, people):
    current = v1.themes.get(key="supervision")
    same = {
        "actor": people["analyst"],
        "based_on_number": 1,
        "key": "supervision",
        "name": current.name,
        "covers": current.covers,
        "excludes": current.excludes,
        "examples": current.examples,
    }
    errors = refused(revise.theme_rename, **same)
    assert "Nothing would change" in errors["name"][0]
    errors = refused(revise.theme_rename, **{**same, "key": "no_such_theme"})
    assert errors == {"key": ["No theme has the key no_such_theme in codebook version 1."]}
    errors = refused(revise.theme_rename, **{**same, "new_key": "workforce"})
    assert "already the key of 'Workforce capacity" in errors["new_key"][0]
    errors = refused(
        revise.theme_rename, **{**same, "name": "Workforce capacity, skills and training"}
    )
    assert "already a theme's name" in errors["name"][0]
    errors = refused(revise.theme_rename, **{**same, "name": "", "examples": []})
    assert set(errors) == {"name", "examples"}
    errors = refused(revise.theme_rename, **{**same, "name": "Oversight", "based_on_number": 0})
    assert "Reload the page" in errors["based_on_number"][0]


# Merging ------------------------------------------------------------------------------------


def test_merging_combines_each_statements_codes_as_the_rules_say(v1, people, classifiers):
    analyst, lead = people["analyst"], people["lead"]
    first, second = classifiers
    later = T0 + dt.timedelta(days=1)
    (
        confirmed_one,
        confirmed_both,
        rejected_both,
        rejected_one,
        suggested_both,
        rejected_and_suggested,
        withdrawn,
        untouched,
    ) = s = make_statements(8)
    code(confirmed_one, "supervision", "confirmed", by=analyst, at=T0)
    code(confirmed_one, "leadership_governance", "rejected", by=lead, at=later)
    code(confirmed_both, "supervision", "confirmed", by=lead, at=T0)
    code(confirmed_both, "leadership_governance", "confirmed", by=analyst, at=later)
    code(rejected_both, "supervision", "rejected", by=analyst, at=T0)
    code(rejected_both, "leadership_governance", "rejected", by=lead, at=later)
    code(rejected_one, "supervision", "rejected", by=analyst, at=T0)
    code(suggested_both, "supervision", "suggested", confidence=0.4, classifier=first)
    code(suggested_both, "leadership_governance", "suggested", confidence=0.7, classifier=second)
    code(rejected_and_suggested, "supervision", "rejected", by=analyst)
    code(
        rejected_and_suggested,
        "leadership_governance",
        "suggested",
        confidence=0.3,
        classifier=first,
    )
    code(withdrawn, "supervision", "withdrawn", classifier=first)
    code(untouched, "workforce", "confirmed", by=lead, at=later)
    code(confirmed_one, "workforce", "confirmed", by=analyst, at=T0)
    old = {k: code_state(c) for k, c in codes_in(1).items()}

    revision = revise.themes_merge(
        actor=analyst,
        based_on_number=1,
        keys=["supervision", "leadership_governance"],
        key="leadership_oversight",
        **theme_words("Leadership and oversight"),
    )
    v2 = revision.version
    both = f"'{LEADERSHIP}' and '{SUPERVISION}'"
    assert v2.note == f"{both} merged into 'Leadership and oversight'."
    merged = v2.themes.get(key="leadership_oversight")
    assert merged.order == 0 and v2.themes.count() == 15
    assert set(merged.derived_from.values_list("key", flat=True)) == {
        "supervision",
        "leadership_governance",
    }
    assert not v2.themes.filter(key__in=["supervision", "leadership_governance"]).exists()
    assert {k: code_state(c) for k, c in codes_in(1).items()} == old

    new = codes_in(2)
    got = {st.pk: new[(st.pk, "leadership_oversight")] for st in s[:7]}

    def state(c: ThemeCode) -> tuple:
        return (c.status, c.set_by, c.set_at, c.confidence, c.classifier)

    assert state(got[confirmed_one.pk]) == ("confirmed", analyst, T0, None, None)
    assert state(got[confirmed_both.pk]) == ("confirmed", analyst, later, None, None)
    assert state(got[rejected_both.pk]) == ("rejected", lead, later, None, None)
    assert state(got[rejected_one.pk]) == ("rejected", analyst, T0, None, None)
    assert state(got[suggested_both.pk])[0] == "suggested"
    assert state(got[suggested_both.pk])[1:] == (None, T0, 0.7, second)
    assert state(got[rejected_and_suggested.pk])[::3] == ("suggested", 0.3)
    assert got[rejected_and_suggested.pk].set_by is None
    assert state(got[withdrawn.pk])[0] == "withdrawn"
    assert notes(got[confirmed_one.pk]) == [
        f"Carried over from codebook version 1: {both} merged into 'Leadership and oversight'"
    ]
    assert notes(got[rejected_one.pk]) == [
        f"Carried over from codebook version 1: '{SUPERVISION}' merged into "
        "'Leadership and oversight'"
    ]
    assert code_state(new[(untouched.pk, "workforce")])[2:] == old[(untouched.pk, "workforce")][2:]
    assert (
        code_state(new[(confirmed_one.pk, "workforce")])[2:]
        == (old[(confirmed_one.pk, "workforce")][2:])
    )
    assert len(new) == 9 and revision.codes_before == 14
    assert (
        "12 codes of the merged themes became 7 codes of 'Leadership and oversight' "
        "(2 suggested, 2 confirmed, 2 rejected, 1 no longer suggested); "
        "2 other codes carried over unchanged."
    ) in revision.message
    # Decided statements stay decided; the rest stay in the queue.
    decided = set(selectors.decided_statement_ids().values_list("statement_id", flat=True))
    assert decided == {
        confirmed_one.pk,
        confirmed_both.pk,
        rejected_both.pk,
        rejected_one.pk,
        untouched.pk,
    }


def test_a_merge_is_refused_naming_the_field(v1, people):
    asked = {
        "actor": people["analyst"],
        "based_on_number": 1,
        "keys": ["supervision", "leadership_governance"],
        "key": "leadership_oversight",
        **theme_words("Leadership and oversight"),
    }
    for keys, message in [
        (["supervision"], "Choose at least two themes"),
        ([], "Choose at least two themes"),
        (["supervision", "supervision"], "Choose each theme once: supervision"),
        (["supervision", "nothing_like_it"], "Not in codebook version 1: nothing_like_it"),
    ]:
        errors = refused(revise.themes_merge, **{**asked, "keys": keys})
        assert message in errors["keys"][0], keys
    errors = refused(revise.themes_merge, **{**asked, "key": "workforce"})
    assert "already the key of" in errors["key"][0]
    errors = refused(revise.themes_merge, **{**asked, "name": " ", "covers": ""})
    assert set(errors) == {"name", "covers"}
    errors = refused(revise.themes_merge, **{**asked, "based_on_number": 7})
    assert set(errors) == {"based_on_number"}
    # The merged theme may keep the key (and the name) of one of the themes merged.
    revision = revise.themes_merge(**{**asked, "key": "supervision", "name": SUPERVISION})
    assert revision.version.themes.get(key="supervision").derived_from.count() == 2


def test_long_names_are_shortened_to_fit_the_notes(v1, people):
    (statement,) = make_statements(1)
    for key in ("supervision", "workforce", "partnership"):
        code(statement, key, "suggested", confidence=0.5)
    long = "A very long theme name that goes on and on " * 4
    revision = revise.themes_merge(
        actor=people["analyst"],
        based_on_number=1,
        keys=["supervision", "workforce", "partnership"],
        key="everything",
        **theme_words(long[:200]),
    )
    version_note = revision.version.note
    assert len(version_note) <= 500
    (merged,) = ThemeCode.objects.filter(theme__codebook=revision.version)
    (note,) = notes(merged)
    assert len(note) == 300 and note.endswith("…")
    assert note.startswith(
        "Carried over from codebook version 1: 'Workforce capacity, skills and training', "
        f"'{SUPERVISION}' and '{PARTNERSHIP}' merged into 'A very long theme name"
    )


# Splitting ----------------------------------------------------------------------------------


PARTS = [
    revise.ThemePart(
        key="referrals_strategy",
        name="Referrals and strategy discussions",
        covers="Referrals to children's social care and strategy discussions.",
        examples=["Strategy discussions are held promptly when a child is at risk."],
    ),
    revise.ThemePart(
        key="information_sharing",
        name="Information sharing",
        covers="Sharing information with partner agencies.",
        excludes="Referrals (referrals_strategy).",
        examples=["The force shares information with health and education partners."],
    ),
]


def test_splitting_sends_peoples_codes_back_to_the_queue(v1, people, classifiers):
    analyst, lead = people["analyst"], people["lead"]
    confirmed, suggested, rejected, untouched = make_statements(4)
    code(confirmed, "partnership", "confirmed", by=analyst)
    code(confirmed, "workforce", "confirmed", by=analyst)
    code(confirmed, "supervision", "rejected", by=analyst)
    code(suggested, "partnership", "suggested", confidence=0.8, classifier=classifiers[0])
    code(suggested, "workforce", "suggested", confidence=0.5, classifier=classifiers[0])
    code(rejected, "partnership", "rejected", by=lead, at=T0)
    code(rejected, "workforce", "confirmed", by=lead, at=T0)
    code(untouched, "workforce", "suggested", confidence=0.9, classifier=classifiers[1])
    old = {k: code_state(c) for k, c in codes_in(1).items()}

    revision = revise.theme_split(actor=analyst, based_on_number=1, key="partnership", parts=PARTS)
    v2 = revision.version
    assert v2.note == (
        f"'{PARTNERSHIP}' split into 'Referrals and strategy discussions' and "
        "'Information sharing'."
    )
    partnership = v1.themes.get(key="partnership")
    keys = list(v2.themes.order_by("order").values_list("key", flat=True))
    at = partnership.order
    assert keys[at : at + 2] == ["referrals_strategy", "information_sharing"]
    assert "partnership" not in keys and len(keys) == 17
    for part in PARTS:
        theme = v2.themes.get(key=part.key)
        assert list(theme.derived_from.all()) == [partnership]
        assert theme.examples == list(part.examples) and theme.covers == part.covers
    assert v2.themes.get(key="information_sharing").excludes == "Referrals (referrals_strategy)."
    assert {k: code_state(c) for k, c in codes_in(1).items()} == old
    new = codes_in(2)
    since = "Carried over from codebook version 1"

    # A person had confirmed the split theme: its parts are placeholders at 0.0, so it comes
    # first in the review queue; the person's decisions on other themes stand.
    for part in PARTS:
        c = new[(confirmed.pk, part.key)]
        assert (c.status, c.confidence, c.set_by, c.classifier) == ("suggested", 0.0, None, None)
        assert c.set_by_label == "ana (codebook version 2)" and c.set_at > T0
        assert notes(c) == [
            f"{since}: '{PARTNERSHIP}' was split; a person had confirmed '{PARTNERSHIP}': "
            "choose among its parts"
        ]
    for key, status in (("workforce", "confirmed"), ("supervision", "rejected")):
        kept = new[(confirmed.pk, key)]
        assert code_state(kept)[2:] == old[(confirmed.pk, key)][2:]
        assert (kept.status, kept.set_by) == (status, analyst)
        assert notes(kept) == [
            f"{since} unchanged; the statement is back in the review queue because "
            f"'{PARTNERSHIP}' was split"
        ]

    # The classifier's suggestion of the split theme: withdrawn on every part.
    for part in PARTS:
        c = new[(suggested.pk, part.key)]
        assert (c.status, c.confidence, c.set_by, c.classifier) == (
            "withdrawn",
            None,
            None,
            classifiers[0],
        )
        assert "the classifier's suggestion" in notes(c)[0]
    assert code_state(new[(suggested.pk, "workforce")])[2:] == old[(suggested.pk, "workforce")][2:]

    # A person's rejection of the split theme rejects every part, by that person.
    for part in PARTS:
        c = new[(rejected.pk, part.key)]
        assert (c.status, c.set_by, c.set_at) == ("rejected", lead, T0)
        assert notes(c) == [
            f"{since}: '{PARTNERSHIP}' was split; a person had rejected '{PARTNERSHIP}', so "
            "each of its parts is rejected"
        ]
    assert new[(rejected.pk, "workforce")].status == "confirmed"
    assert code_state(new[(untouched.pk, "workforce")])[2:] == old[(untouched.pk, "workforce")][2:]
    assert len(new) == 2 + 1 + 1 + 2 + 1 + 2 + 1 + 1

    # The queue: the statement sent back first (least sure), the decided one not at all.
    queue = selectors.review_queue(1)["statements"]
    assert [q.pk for q in queue] == [confirmed.pk, suggested.pk, untouched.pk]
    assert {c.theme.key for c in queue[0].suggestions} == {
        "referrals_strategy",
        "information_sharing",
    }
    # Until a person chooses, the statement is no one's training data (its themes are not all
    # known), and its codes stay as they are.
    assert confirmed.text not in {s.text for s in services.coded_by_people(v2)}
    assert rejected.text in {s.text for s in services.coded_by_people(v2)}
    # Its page ticks the person's theme, not the parts: those are for the person to choose.
    page = client_for(lead).get(reverse("themes:statement", args=[confirmed.pk]))
    assert page.context["form"].initial["themes"] == ["workforce"]
    assert page.content.decode().count("a part of a theme you had chosen, since split") == 2
    assert revision.message == (
        f"Codebook version 2: '{PARTNERSHIP}' split into 'Referrals and strategy discussions' "
        f"and 'Information sharing'. 1 statement a person had coded to '{PARTNERSHIP}' is back "
        f"in the review queue to choose among its parts; 1 suggestion of '{PARTNERSHIP}' "
        f"withdrawn until the classifier suggests among the parts; 1 rejection of "
        f"'{PARTNERSHIP}' now rejects every part; 3 other codes carried over unchanged."
    )

    # A part split again before the person has chosen: the statement still waits, now among
    # the other part and the new parts (never taken for the classifier's suggestion).
    again = revise.theme_split(
        actor=analyst,
        based_on_number=2,
        key="information_sharing",
        parts=[
            revise.ThemePart(
                key="sharing_health",
                name="Sharing with health services",
                covers="Sharing information with health services.",
                examples=["Health visitors are told of domestic abuse incidents."],
            ),
            revise.ThemePart(
                key="sharing_schools",
                name="Sharing with schools",
                covers="Sharing information with schools.",
                examples=["Schools are told before the next school day."],
            ),
        ],
    ).version
    v3 = codes_in(3)
    for key in ("referrals_strategy", "sharing_health", "sharing_schools"):
        c = v3[(confirmed.pk, key)]
        assert c.is_split_placeholder and c.confidence == 0.0, key
    assert notes(v3[(confirmed.pk, "sharing_health")])[-1] == (
        "Carried over from codebook version 2: 'Information sharing' was split; the statement "
        "was waiting for a person to choose 'Information sharing' or another part of an "
        "earlier split: choose among its parts"
    )
    assert v3[(confirmed.pk, "workforce")].status == "confirmed"
    assert selectors.review_queue(1)["statements"][0].pk == confirmed.pk
    assert confirmed.text not in {s.text for s in services.coded_by_people(again)}

    # A person codes it again under the new version.
    services.codes_decide(
        actor=lead,
        statement=confirmed,
        themes=["sharing_health", "workforce"],
        seen_version=services.codes_version(confirmed),
    )
    assert confirmed.pk not in {q.pk for q in selectors.review_queue(1)["statements"]}
    assert confirmed.text in {s.text for s in services.coded_by_people(again)}


def test_a_statement_page_read_before_a_revision_says_so_and_saves_nothing(v1, people):
    statement, other = make_statements(2)
    url = reverse("themes:statement", args=[statement.pk])
    lead = client_for(people["lead"])
    form = lead.get(url).context["form"]
    assert form.initial["seen_codebook"] == 1
    revise.theme_split(actor=people["analyst"], based_on_number=1, key="partnership", parts=PARTS)
    # Its ticks are version 1's: a split theme is no choice now, a theme kept is another
    # version's. Either way the page says why, not that the choice is invalid.
    for themes in (["partnership"], ["workforce"]):
        response = lead.post(
            url,
            {"themes": themes, "seen_version": form.initial["seen_version"], "seen_codebook": 1},
        )
        assert response.status_code == 200, themes
        errors = response.context["form"].errors
        assert errors == {"__all__": [services.CODEBOOK_REVISED]}, themes
    assert not statement.codes.exists()
    # Read again, it is version 2's, and saved.
    form = lead.get(url).context["form"]
    saved = lead.post(
        url,
        {
            "themes": ["information_sharing"],
            "seen_version": form.initial["seen_version"],
            "seen_codebook": form.initial["seen_codebook"],
        },
    )
    assert saved.status_code == 302 and statement.codes.get().theme.key == "information_sharing"
    assert other.pk  # (a second statement, so the queue has another to go to)


def test_a_split_is_refused_naming_the_part_and_field(v1, people):
    asked = {"actor": people["analyst"], "based_on_number": 1, "key": "partnership"}
    part = PARTS[1]

    def with_part(**change) -> list[revise.ThemePart]:
        return [PARTS[0], revise.ThemePart(**{**part.__dict__, **change})]

    cases = [
        ({"parts": PARTS[:1]}, "parts", "at least two parts"),
        ({"parts": []}, "parts", "at least two parts"),
        ({"key": "nothing_like_it", "parts": PARTS}, "key", "No theme has the key"),
        ({"parts": with_part(key="referrals_strategy")}, "part_2_key", "already given to part 1"),
        ({"parts": with_part(key="partnership")}, "part_2_key", "cannot keep the key"),
        ({"parts": with_part(key="workforce")}, "part_2_key", "already the key of"),
        ({"parts": with_part(key="Bad key")}, "part_2_key", "Part 2: The key must be"),
        ({"parts": with_part(name="")}, "part_2_name", "Part 2: Enter the theme's name"),
        ({"parts": with_part(name=PARTS[0].name)}, "part_2_name", "already a theme's name"),
        ({"parts": with_part(covers=" ")}, "part_2_covers", "Part 2: Say what"),
        ({"parts": with_part(examples=[])}, "part_2_examples", "Part 2: Give at least one"),
        ({"based_on_number": 2, "parts": PARTS}, "based_on_number", "Reload the page"),
    ]
    for change, field, message in cases:
        errors = refused(revise.theme_split, **{**asked, **change})
        assert list(errors) == [field], change
        assert message in errors[field][0], (change, errors)


def test_a_stale_form_never_overwrites_another_analysts_revision(v1, people):
    s = make_statements(2)
    code(s[0], "supervision", "confirmed", by=people["lead"])
    # Both open their forms on version 1; the first saves.
    revise.theme_add(
        actor=people["lead"], based_on_number=1, key="online_safety", **theme_words("Online safety")
    )
    errors = refused(
        revise.themes_merge,
        actor=people["analyst"],
        based_on_number=1,
        keys=["supervision", "leadership_governance"],
        key="leadership_oversight",
        **theme_words("Leadership and oversight"),
    )
    assert errors == {
        "based_on_number": [
            "The codebook has changed since you opened this page: it is now version 2, and "
            "your change was to version 1. Reload the page to see the current codebook, then "
            "make your change again if it is still needed."
        ]
    }
    assert services.current_codebook().themes.filter(key="online_safety").exists()


# History across versions ---------------------------------------------------------------------


def test_a_statements_history_runs_across_versions(v1, people):
    analyst = people["analyst"]
    (statement,) = make_statements(1)
    services.codes_decide(
        actor=analyst,
        statement=statement,
        themes=["supervision", "workforce"],
        seen_version=services.codes_version(statement),
    )
    seen = services.codes_version(statement)
    revise.theme_rename(
        actor=analyst,
        based_on_number=1,
        key="supervision",
        new_key="oversight",
        **theme_words("Oversight"),
    )
    # A page opened before the revision cannot save codes of the old version.
    with pytest.raises(services.StaleCodes):
        services.codes_decide(
            actor=analyst, statement=statement, themes=["workforce"], seen_version=seen
        )
    revise.themes_merge(
        actor=analyst,
        based_on_number=2,
        keys=["oversight", "leadership_governance"],
        key="leadership_oversight",
        **theme_words("Leadership and oversight"),
    )
    detail = selectors.statement_detail(statement)
    assert [(c.theme.key, c.status, c.set_by) for c in detail["codes"]] == [
        ("leadership_oversight", "confirmed", analyst),
        ("workforce", "confirmed", analyst),
    ]
    history = [(h.code.theme.codebook.number, h.code.theme.key, h.note) for h in detail["history"]]
    assert sorted(history) == sorted(
        [
            (1, "supervision", ""),
            (1, "workforce", ""),
            (
                2,
                "oversight",
                f"Carried over from codebook version 1: '{SUPERVISION}' renamed "
                "'Oversight' (key supervision is now oversight; what it covers reworded; its "
                "examples changed)",
            ),
            (
                2,
                "workforce",
                "Carried over from codebook version 1 unchanged; version 2: "
                f"'{SUPERVISION}' renamed 'Oversight' (key supervision is now oversight; what it "
                "covers reworded; its examples changed).",
            ),
            (
                3,
                "leadership_oversight",
                "Carried over from codebook version 2: 'Oversight' "
                "merged into 'Leadership and oversight'",
            ),
            (
                3,
                "workforce",
                "Carried over from codebook version 2 unchanged; version 3: "
                f"'{LEADERSHIP}' and 'Oversight' merged into 'Leadership and oversight'.",
            ),
        ]
    )
    assert [n for n, *_ in history] == sorted(n for n, *_ in history)
    # Every version keeps its codes; people decide under the current one.
    assert ThemeCode.objects.filter(statement=statement).count() == 6
    services.codes_decide(
        actor=analyst,
        statement=statement,
        themes=["leadership_oversight"],
        seen_version=services.codes_version(statement),
    )
    assert codes_in(3)[(statement.pk, "workforce")].status == "rejected"
    assert codes_in(2)[(statement.pk, "workforce")].status == "confirmed"


# The training key map -----------------------------------------------------------------------


def test_the_training_key_map_follows_renames_and_merges_and_leaves_out_splits(
    v1, people, django_assert_num_queries
):
    analyst = people["analyst"]
    shipped = list(v1.themes.values_list("key", flat=True))
    assert revise.training_key_map(v1) == {k: k for k in shipped}
    v2 = revise.theme_rename(
        actor=analyst,
        based_on_number=1,
        key="supervision",
        new_key="oversight",
        **theme_words("Oversight"),
    ).version
    v3 = revise.themes_merge(
        actor=analyst,
        based_on_number=2,
        keys=["oversight", "leadership_governance"],
        key="leadership_oversight",
        **theme_words("Leadership and oversight"),
    ).version
    v4 = revise.theme_split(
        actor=analyst, based_on_number=3, key="partnership", parts=PARTS
    ).version

    with django_assert_num_queries(3):
        mapping = revise.training_key_map(v4)
    unchanged = set(shipped) - {"supervision", "leadership_governance", "partnership"}
    assert mapping == {
        **{k: k for k in unchanged},
        "supervision": "leadership_oversight",
        "oversight": "leadership_oversight",
        "leadership_governance": "leadership_oversight",
        "leadership_oversight": "leadership_oversight",
        "referrals_strategy": "referrals_strategy",
        "information_sharing": "information_sharing",
    }
    assert "partnership" not in mapping
    # Every value is a key of the version mapped to.
    assert set(mapping.values()) == set(v4.themes.values_list("key", flat=True))
    # Earlier versions map to themselves.
    assert revise.training_key_map(v2)["supervision"] == "oversight"
    assert revise.training_key_map(v2)["partnership"] == "partnership"
    assert revise.training_key_map(v3)["oversight"] == "leadership_oversight"

    # A split then merged back together is unambiguous again.
    v5 = revise.themes_merge(
        actor=analyst,
        based_on_number=4,
        keys=["referrals_strategy", "information_sharing"],
        key="multi_agency",
        **theme_words("Multi-agency working"),
    ).version
    assert revise.training_key_map(v5)["partnership"] == "multi_agency"


def test_the_training_key_map_across_a_version_loaded_from_a_file(v1, people, tmp_path: Path):
    data = yaml.safe_load(default_path().read_text(encoding="utf-8"))
    data["version"] = 2
    data["themes"] = [t for t in data["themes"] if t["id"] != "records_systems"]
    changed = tmp_path / "codebook.yaml"
    changed.write_text(yaml.safe_dump(data), encoding="utf-8")
    v2, _ = services.codebook_load(actor=SYSTEM, path=changed)
    v3 = revise.theme_rename(
        actor=people["analyst"],
        based_on_number=2,
        key="workforce",
        new_key="workforce_capacity",
        **theme_words("Workforce capacity"),
    ).version
    mapping = revise.training_key_map(v3)
    assert mapping["workforce"] == "workforce_capacity"
    assert mapping["voice_of_child"] == "voice_of_child"
    assert "records_systems" not in mapping
    assert len(mapping) == 16 and v2.number == 2


# Fixed query counts ---------------------------------------------------------------------------


def _coded(n: int, keys: tuple[str, str], people, classifier) -> None:
    """n codes of the current version, spread over two themes and every status."""
    statements = make_statements(n // 2 + n % 2, prefix=f"{keys[0]} {n}")
    made = 0
    for i, statement in enumerate(statements):
        for key in keys:
            if made == n:
                return
            status = ["confirmed", "suggested", "rejected", "withdrawn"][(i + made) % 4]
            code(
                statement,
                key,
                status,
                confidence=0.5 if status == "suggested" else None,
                by=people["analyst"] if status in ("confirmed", "rejected") else None,
                classifier=None if status in ("confirmed", "rejected") else classifier,
            )
            made += 1


def insert_batches(model, rows: int) -> int:
    """The INSERT statements a bulk write of `rows` rows takes on this database: one on
    PostgreSQL up to revise.BATCH_SIZE; SQLite allows 999 parameters a statement (about a
    hundred codes)."""
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    per = min(revise.BATCH_SIZE, connection.ops.bulk_batch_size(fields, [None] * rows))
    return math.ceil(rows / per)


def test_a_migration_makes_the_same_number_of_queries_for_10_or_100_codes(v1, people, classifiers):
    counts: dict[int, list[int]] = {}
    for n, based_on, merged, split in [
        (10, 1, ("supervision", "leadership_governance"), "partnership"),
        (100, 4, ("workforce", "performance_data"), "missing_children"),
    ]:
        counted = counts[n] = []

        def run(call, n=n, counted=counted, **kwargs) -> None:
            ThemeCode.objects.all().delete()
            _coded(n, kwargs.pop("coded"), people, classifiers[0])
            assert selectors.current_codes().count() == n
            with CaptureQueriesContext(connection) as ctx:
                revision = call(actor=people["analyst"], **kwargs)
            assert revision.codes_before == n
            made = revision.codes_after
            # Everything but the database's own batching of the bulk inserts is fixed.
            batches = insert_batches(ThemeCode, made) + insert_batches(ThemeCodeChange, made)
            counted.append(len(ctx.captured_queries) - batches)
            if connection.vendor == "postgresql":
                assert batches == 2

        run(
            revise.theme_add,
            coded=merged,
            based_on_number=based_on,
            key=f"added_{n}",
            **theme_words(f"Added {n}"),
        )
        run(
            revise.themes_merge,
            coded=merged,
            based_on_number=based_on + 1,
            keys=list(merged),
            key=f"merged_{n}",
            **theme_words(f"Merged {n}"),
        )
        run(
            revise.theme_split,
            coded=(split, "voice_of_child"),
            based_on_number=based_on + 2,
            key=split,
            parts=[
                revise.ThemePart(key=f"{split}_a", name=f"{split} A", covers="A", examples=["A."]),
                revise.ThemePart(key=f"{split}_b", name=f"{split} B", covers="B", examples=["B."]),
            ],
        )
    assert counts[10] == counts[100]


# Pages ----------------------------------------------------------------------------------------

CODERS = {"manager", "lead", "inspector", "analyst"}
CURATORS = {"manager", "analyst"}
EVERYONE = CODERS | {"admin", "partner", "liaison"}


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def site(pub):
    services.codebook_load(actor=SYSTEM)
    return pub


def test_who_may_see_and_change_the_codebook(site):
    read = [reverse("themes:codebook"), reverse("themes:codebook-version", args=[1])]
    change = [
        reverse("themes:codebook-add"),
        reverse("themes:codebook-rename", args=["workforce"]),
        reverse("themes:codebook-merge"),
        reverse("themes:codebook-split"),
    ]
    sign_in = reverse("accounts:sign-in")
    for url in read + change:
        response = Client().get(url)
        assert response.status_code == 302 and response.url.startswith(sign_in), url
        for name in EVERYONE:
            allowed = CURATORS if url in change else CODERS
            status = client_for(site.users[name]).get(url).status_code
            assert status == (200 if name in allowed else 403), (name, url, status)
    analyst = client_for(site.users["analyst"])
    for url in read:
        assert analyst.post(url).status_code == 405
    assert analyst.put(change[0]).status_code == 405
    before = everything()
    for name in EVERYONE - CURATORS:
        response = client_for(site.users[name]).post(
            change[0],
            {
                "based_on_number": 1,
                "key": "online_safety",
                "name": "Online safety",
                "covers": "Safety online.",
                "examples": "One.",
            },
        )
        assert response.status_code == 403
        # Renaming, merging and splitting, each posted whole, are refused alike.
        for url, data in (
            (change[1], {"based_on_number": 1, "name": "Staffing", "covers": "Staff."}),
            (
                change[2],
                {
                    "based_on_number": 1,
                    "keys": ["workforce", "supervision"],
                    "key": "people",
                    "name": "People",
                    "covers": "Staff and their supervision.",
                },
            ),
            (
                change[3],
                {
                    "based_on_number": 1,
                    "key": "workforce",
                    "part_1_name": "Training",
                    "part_1_covers": "Training.",
                    "part_2_name": "Capacity",
                    "part_2_covers": "Capacity.",
                },
            ),
        ):
            assert client_for(site.users[name]).post(url, data).status_code == 403, (name, url)
    assert everything() == before
    for url in change:
        for method in ("put", "patch", "delete"):
            assert getattr(analyst, method)(url).status_code == 405, (method, url)
    assert everything() == before
    assert analyst.get(reverse("themes:codebook-version", args=[9])).status_code == 404
    assert analyst.get(reverse("themes:codebook-rename", args=["nothing"])).status_code == 404
    # Curators see the ways to change it; other coders do not.
    page = analyst.get(read[0]).content.decode()
    assert change[0] in page and reverse("themes:codebook-merge") in page
    assert change[0] not in client_for(site.users["lead"]).get(read[0]).content.decode()


def test_the_add_page_is_prefilled_from_the_query_and_adds_the_theme(site):
    analyst = client_for(site.users["analyst"])
    url = reverse("themes:codebook-add")
    page = analyst.get(
        url,
        {
            "name": "Online safety education",
            "covers": "Teaching children about online risks.",
            "example": ["Schools teach children about online risks.", "Officers visit schools."],
        },
    )
    form = page.context["form"]
    assert form["name"].value() == "Online safety education"
    assert form["covers"].value() == "Teaching children about online risks."
    assert form["examples"].value() == (
        "Schools teach children about online risks.\nOfficers visit schools."
    )
    assert form["key"].value() == "online_safety_education"
    assert form["based_on_number"].value() == 1
    body = page.content.decode()
    assert "Officers visit schools." in body and 'value="Online safety education"' in body

    response = analyst.post(
        url,
        {
            "based_on_number": 1,
            "key": "online_safety_education",
            "name": "Online safety education",
            "covers": "Teaching children about online risks.",
            "excludes": "",
            "examples": "Schools teach children about online risks.\n\nOfficers visit schools.\n",
        },
        follow=True,
    )
    assert response.redirect_chain == [(reverse("themes:codebook"), 302)]
    body = response.content.decode()
    assert "Codebook version 2: &#x27;Online safety education&#x27; added." in body
    theme = services.current_codebook().themes.get(key="online_safety_education")
    assert theme.examples == [
        "Schools teach children about online risks.",
        "Officers visit schools.",
    ]
    assert "Online safety education" in body and "Version 2" in body


def test_form_errors_name_each_field_and_a_stale_form_asks_to_reload(site):
    analyst = client_for(site.users["analyst"])
    url = reverse("themes:codebook-add")
    before = everything()
    response = analyst.post(
        url, {"based_on_number": 1, "key": "workforce", "name": "", "covers": "x", "examples": ""}
    )
    assert response.status_code == 200 and everything() == before
    body = response.content.decode()
    assert "<title>Error: Add a theme" in body and "There is a problem" in body
    for field in ("key", "name", "examples"):
        assert f'href="#id_{field}"' in body, field
    assert set(response.context["form"].errors) == {"key", "name", "examples"}

    # Someone else changes the codebook meanwhile: the older form is refused.
    merge = analyst.get(reverse("themes:codebook-merge"))
    seen = merge.context["form"]["based_on_number"].value()
    revise.theme_add(
        actor=site.users["manager"],
        based_on_number=1,
        key="online_safety",
        **theme_words("Online safety"),
    )
    before = everything()
    response = analyst.post(
        reverse("themes:codebook-merge"),
        {
            "based_on_number": seen,
            "keys": ["supervision", "leadership_governance"],
            "key": "leadership_oversight",
            "name": "Leadership and oversight",
            "covers": "Leaders and supervisors.",
            "examples": "Leaders oversee cases.",
        },
    )
    assert response.status_code == 200 and everything() == before
    body = response.content.decode()
    assert "it is now version 2" in body and "Reload the page" in body
    assert "Open this page again with the current codebook" in body
    # The reloaded page is made against the current version.
    assert (
        analyst.get(reverse("themes:codebook-merge")).context["form"]["based_on_number"].value()
        == 2
    )


def test_rename_merge_and_split_pages(site):
    analyst = client_for(site.users["analyst"])
    rename = reverse("themes:codebook-rename", args=["supervision"])
    form = analyst.get(rename).context["form"]
    assert form["name"].value() == SUPERVISION and form["new_key"].value() == "supervision"
    response = analyst.post(
        rename,
        {
            "based_on_number": 1,
            "new_key": "oversight",
            "name": "Oversight",
            "covers": form["covers"].value(),
            "excludes": "",
            "examples": form["examples"].value(),
        },
    )
    assert response.status_code == 302 and response.url == reverse("themes:codebook")
    assert services.current_codebook().themes.filter(key="oversight").exists()

    merge = reverse("themes:codebook-merge")
    response = analyst.post(
        merge, {"based_on_number": 2, "keys": ["oversight"], "key": "x1", "name": "X"}
    )
    body = response.content.decode()
    assert 'href="#id_keys_0"' in body and "Choose at least two themes" in body
    assert 'href="#id_covers"' in body and 'href="#id_examples"' in body
    response = analyst.post(
        merge,
        {
            "based_on_number": 2,
            "keys": ["oversight", "leadership_governance"],
            "key": "leadership_oversight",
            "name": "Leadership and oversight",
            "covers": "Leaders and supervisors.",
            "examples": "Leaders oversee cases.",
        },
        follow=True,
    )
    assert "Codebook version 3: &#x27;" in response.content.decode()

    # Split: blank part fieldsets are ignored, and an error names the part it is on.
    split = reverse("themes:codebook-split")
    assert analyst.get(split, {"key": "partnership"}).context["form"]["key"].value() == (
        "partnership"
    )
    asked = {
        "based_on_number": 3,
        "key": "partnership",
        "part_1_key": "referrals_strategy",
        "part_1_name": "Referrals and strategy discussions",
        "part_1_covers": "Referrals.",
        "part_1_examples": "A referral was made.",
        "part_3_key": "information_sharing",
        "part_3_covers": "Sharing.",
        "part_3_examples": "Information was shared.",
    }
    before = everything()
    response = analyst.post(split, asked)
    assert response.status_code == 200 and everything() == before
    body = response.content.decode()
    assert 'href="#id_part_3_name"' in body
    assert "Part 3: Enter the theme&#x27;s name." in body
    assert set(response.context["form"].errors) == {"part_3_name"}
    response = analyst.post(split, {**asked, "part_3_name": "Information sharing"}, follow=True)
    assert "Codebook version 4: &#x27;Multi-agency working" in response.content.decode()
    assert "use \u201cSuggest themes again\u201d on its page" in response.content.decode()
    # An evidence link made before these revisions (in an older PDF, say): a renamed then
    # merged theme leads to what it became, saying so; a split one is refused, saying why.
    evidence = reverse("themes:evidence")
    moved = analyst.get(evidence, {"theme": "supervision", "from": "2020"})
    assert moved.status_code == 302
    assert parse_qs(urlparse(moved.url).query) == {
        "theme": ["leadership_oversight"],
        "from": ["2020"],
    }
    shown = analyst.get(moved.url).content.decode()
    assert "which has become \u201cLeadership and oversight\u201d in a codebook revision" in (shown)
    split_away = analyst.get(evidence, {"theme": "partnership"})
    assert split_away.status_code == 400
    assert "has since been split into " in split_away.content.decode()
    assert "and Information sharing: its statements are coded to those now, or wait" in (
        split_away.content.decode()
    )
    # With a link to the same figure for each of its parts.
    parts = split_away.context["parts"]
    assert [name for name, _ in parts][-1] == "Information sharing" and len(parts) >= 2
    for _, link in parts:
        assert "partnership" not in link and analyst.get(link).status_code == 200
        assert f'href="{escape(link)}"' in split_away.content.decode()
    # The split form opened for a theme split since: it says so rather than open blank.
    gone = analyst.get(split, {"key": "partnership"}).content.decode()
    assert "partnership is not a theme of the current codebook (version 4)" in gone
    gone = analyst.get(reverse("themes:codebook-merge"), {"key": ["partnership", "supervision"]})
    assert "partnership, supervision are not themes of the current codebook" in (
        gone.content.decode()
    )
    never = analyst.get(evidence, {"theme": "atlantis"})
    assert never.status_code == 400
    assert "is not a theme of the current codebook" in never.content.decode()
    assert set(
        services.current_codebook()
        .themes.filter(key__in=["referrals_strategy", "information_sharing"])
        .values_list("key", flat=True)
    ) == {"referrals_strategy", "information_sharing"}
    # Only one part: refused.
    only_one = {k: v for k, v in asked.items() if not k.startswith("part_3")}
    response = analyst.post(split, {**only_one, "based_on_number": 4, "key": "workforce"})
    assert "Give at least two parts" in response.content.decode()

    # The version page shows what each theme continues and became.
    page = analyst.get(reverse("themes:codebook-version", args=[4])).content.decode()
    assert "Referrals and strategy discussions" in page and PARTNERSHIP in page
    old = analyst.get(reverse("themes:codebook-version", args=[1]))
    themes = {t.key: t for t in old.context["themes"]}
    assert [s.key for s in themes["supervision"].successors.all()] == ["oversight"]
    assert not old.context["is_current"]


def test_the_codebook_pages_make_the_same_queries_whatever_the_data(site, people):
    analyst = client_for(site.users["analyst"])
    pages = [reverse("themes:codebook"), reverse("themes:codebook-version", args=[1])]

    def queries() -> list[int]:
        counted = []
        for url in pages:
            analyst.get(url)  # the navigation caches its counts on the first page seen
            with CaptureQueriesContext(connection) as ctx:
                assert analyst.get(url).status_code == 200
            counted.append(len(ctx.captured_queries))
        return counted

    model = stand_in_classifier("pages")
    for i, s in enumerate(make_statements(10)):
        code(
            s,
            "workforce",
            "confirmed" if i % 2 else "suggested",
            by=people["lead"] if i % 2 else None,
            confidence=None if i % 2 else 0.6,
            classifier=None if i % 2 else model,
        )
    few = queries()
    page = analyst.get(pages[0])
    workforce = next(t for t in page.context["themes"] if t.key == "workforce")
    assert (workforce.statements, workforce.confirmed) == (10, 5)
    for s in make_statements(100, prefix="More"):
        code(s, "partnership", "suggested", confidence=0.4, classifier=model)
        code(s, "workforce", "rejected", by=people["lead"])
    revise.theme_add(
        actor=site.users["analyst"],
        based_on_number=1,
        key="online_safety",
        **theme_words("Online safety"),
    )
    revise.theme_add(
        actor=site.users["analyst"],
        based_on_number=2,
        key="online_risk",
        **theme_words("Online risk"),
    )
    assert queries() == few
    page = analyst.get(pages[0])
    counts = {t.key: (t.statements, t.confirmed) for t in page.context["themes"]}
    assert counts["workforce"] == (10, 5) and counts["partnership"] == (100, 0)
    assert [v.number for v in page.context["versions"]] == [3, 2, 1]
