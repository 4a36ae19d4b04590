"""The corpus, the embedding cache and the classifier's suggestions, in the database, on the
follow-up tests' published inspections (their findings are the statements)."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from io import StringIO
from pathlib import Path

import numpy as np
import pytest
import yaml
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.db.models import Max
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import Role
from apps.core.audit import SystemActor
from apps.core.models import AuditEvent
from apps.findings.models import Finding
from apps.inspections.models import Inspection, State
from apps.themes import coding, embedding, selectors, services, suggestion_runs
from apps.themes.classifier import codebook_statements
from apps.themes.codebook import CodebookError, default_path, load_codebook
from apps.themes.models import (
    ClassifierVersion,
    CodebookVersion,
    Embedding,
    Statement,
    SuggestionRun,
    Theme,
    ThemeCode,
    ThemeCodeChange,
)
from tests.factories import UserFactory
from tests.themes.conftest import stand_in_classifier

SYSTEM = SystemActor("tests")


def test_the_codebook_loads_once_and_a_changed_one_needs_a_new_number(db, tmp_path: Path):
    row, new = services.codebook_load(actor=SYSTEM)
    assert new and row.number == 1 and row.themes.count() == 16
    assert services.codebook_load(actor=SYSTEM) == (row, False)
    data = yaml.safe_load(default_path().read_text())
    data["themes"][0]["name"] = "Leadership"
    changed = tmp_path / "codebook.yaml"
    changed.write_text(yaml.safe_dump(data))
    with pytest.raises(CodebookError, match="version 1 is already stored with other themes"):
        services.codebook_load(actor=SYSTEM, path=changed)
    data["version"] = 2
    changed.write_text(yaml.safe_dump(data))
    second, new = services.codebook_load(actor=SYSTEM, path=changed)
    assert new and services.current_codebook() == second
    assert second.themes.get(key="leadership_governance").name == "Leadership"
    assert CodebookVersion.objects.count() == 2
    # Once people have coded to it, a version from the file would drop their codes: refused.
    statement = Statement.objects.create(
        source=Statement.Source.ARCHIVE, text="Leaders act.", text_sha256="0" * 64
    )
    person = UserFactory(username="ana", role=Role.ANALYST)
    services.codes_decide(
        actor=person, statement=statement, themes=["leadership_governance"], seen_version=0
    )
    data["version"] = 3
    changed.write_text(yaml.safe_dump(data))
    with pytest.raises(CodebookError, match="People have coded 1 statement to codebook version 2"):
        services.codebook_load(actor=SYSTEM, path=changed)
    assert CodebookVersion.objects.count() == 2


def test_embeddings_are_stored_and_only_new_text_is_embedded(db, monkeypatch):
    texts = ["The force has a clear plan for children.", "Officers lacked training."]
    first = coding.features_cached(texts)
    assert first.shape == (2, embedding.FEATURES)
    assert Embedding.objects.count() == 2
    assert {len(bytes(v)) for v in Embedding.objects.values_list("vector", flat=True)} == {
        embedding.FEATURES * 4
    }
    monkeypatch.setattr(embedding, "features", lambda texts: pytest.fail(f"embedded {texts}"))
    again = coding.features_cached(texts[::-1] + texts)
    assert np.array_equal(again[:2], first[::-1]) and np.array_equal(again[2:], first)
    # Similarity reads the sentence half of the same stored rows.
    sentences = coding.embed_cached(texts)
    assert np.array_equal(sentences, first[:, : embedding.DIMENSIONS])


def test_the_migration_to_two_vectors_a_text_removes_only_the_older_rows(db):
    """Migration 0012: rows stored under the older keys (the sentence embedding alone) are
    never read again and go; rows under the current key stay."""
    from importlib import import_module

    from django.apps import apps

    migration = import_module("apps.themes.migrations.0012_embedding_features")
    older = Embedding.objects.create(
        text_sha256="a" * 64, model="53aa51172d142c89-bf16", vector=b""
    )
    current = Embedding.objects.create(
        text_sha256="a" * 64, model=embedding.model_key(), vector=b""
    )
    migration.forward(apps, None)
    assert list(Embedding.objects.all()) == [current]
    assert not Embedding.objects.filter(pk=older.pk).exists()


def test_a_run_lists_statements_whose_themes_changed_with_before_and_after(pub):
    services.codebook_load(actor=SYSTEM)
    services.statements_sync()
    coding.suggest(actor=SYSTEM)
    classifier = ClassifierVersion.objects.get()
    suggested = ThemeCode.objects.filter(status="suggested")
    real: dict[int, set[str]] = {}
    for statement_id, key in suggested.values_list("statement_id", "theme__key"):
        real.setdefault(statement_id, set()).add(key)
    # An earlier version had suggested one other theme for each statement.
    earlier = stand_in_classifier("earlier")
    themes = {t.key: t for t in Theme.objects.filter(codebook=classifier.codebook)}
    other = {pk: sorted(set(themes) - keys)[0] for pk, keys in real.items()}
    suggested.update(status="withdrawn", classifier=earlier)
    for pk, key in other.items():
        ThemeCode.objects.update_or_create(
            statement_id=pk,
            theme=themes[key],
            defaults={
                "status": "suggested",
                "confidence": 0.9,
                "classifier": earlier,
                "set_by_label": "Classifier earlier",
                "set_at": timezone.now(),
            },
        )
    result = coding.suggest(actor=SYSTEM)
    assert result.changed == len(real)
    assert len(result.examples) == min(len(real), coding.CHANGE_EXAMPLES) > 0
    surest = dict(
        ThemeCode.objects.filter(status="suggested")
        .values("statement_id")
        .annotate(top=Max("confidence"))
        .values_list("statement_id", "top")
    )
    tops = [surest[e["statement"]] for e in result.examples]
    assert tops == sorted(tops, reverse=True)  # surest first
    for example in result.examples:
        assert example["before"] == [other[example["statement"]]]
        assert example["after"] == sorted(real[example["statement"]])
    # The run's page lists them with the themes suggested now (the new ones marked) and
    # those no longer suggested, by name, in a fixed number of queries.
    analyst = pub.users["analyst"]

    def finished(examples: list, **figures: int) -> SuggestionRun:
        return SuggestionRun.objects.create(
            created_by=analyst,
            status="done",
            active=None,
            finished_at=timezone.now(),
            classifier=result.classifier,
            examples=examples,
            **figures,
        )

    run = finished(result.examples, statements=result.statements, changed=result.changed)
    one = finished(result.examples[:1])
    client = Client()
    client.force_login(analyst)
    client.get(reverse("themes:model"))  # the first page of a visit also counts notices
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("themes:suggestion-run", args=[one.pk]))
    with CaptureQueriesContext(connection) as many:
        page = client.get(reverse("themes:suggestion-run", args=[run.pk]))
    assert len(many.captured_queries) == len(few.captured_queries)
    changes = page.context["changes"]
    assert len(changes) > 1
    assert [c["statement"].pk for c in changes] == [e["statement"] for e in result.examples][
        : selectors.CHANGES_SHOWN
    ]
    for change in changes:
        pk = change["statement"].pk
        assert change["now"] == [(themes[k].name, True) for k in sorted(real[pk])]
        assert change["dropped"] == [themes[other[pk]].name]
    body = page.content.decode()
    assert "What changed" in body
    assert reverse("themes:statement", args=[changes[0]["statement"].pk]) in body
    assert body.count("govuk-tag--green") == sum(len(c["now"]) for c in changes)
    # The findings of an inspection not yet published are not shown.
    Inspection.objects.update(state=State.FIELDWORK)
    hidden = client.get(reverse("themes:suggestion-run", args=[run.pk]))
    assert hidden.context["changes"] == [] and "What changed" not in hidden.content.decode()


def test_suggestions_with_confidence_history_and_people_first(pub):
    services.codebook_load(actor=SYSTEM)
    synced = services.statements_sync()
    findings = Finding.objects.filter(kind__in=services.STATEMENT_KINDS)
    assert synced.created == findings.count() > 0
    assert services.statements_sync().unchanged == synced.created

    result = coding.suggest(actor=SYSTEM)
    classifier = ClassifierVersion.objects.get()
    assert result.classifier == classifier.version and classifier.coded_by_people == 0
    assert result.statements == result.changed == synced.created  # none had themes before
    codes = ThemeCode.objects.all()
    assert {c.statement_id for c in codes} == set(Statement.objects.values_list("id", flat=True))
    assert all(c.status == "suggested" and c.classifier == classifier for c in codes)
    assert all(0 < c.confidence <= 1 for c in codes)
    per_statement = Counter(codes.values_list("statement_id", flat=True))
    assert all(1 <= n <= 3 for n in per_statement.values())
    assert ThemeCodeChange.objects.count() == codes.count()
    # Run again: the same classifier, the same suggestions, nothing written or changed.
    same = coding.suggest(actor=SYSTEM)
    assert same.suggestions == same.changed == 0
    assert ThemeCodeChange.objects.count() == codes.count()

    # A person confirms a theme of one statement and rejects another suggestion of it.
    statement = Statement.objects.get(finding=pub.later)
    person = pub.users["analyst"]
    suggested = list(statement.codes.all())
    now = timezone.now()
    suggested[0].status, suggested[0].set_by = "confirmed", person
    suggested[0].set_by_label, suggested[0].set_at = person.username, now
    suggested[0].save()
    other_theme = (
        Theme.objects.filter(codebook=suggested[0].theme.codebook)
        .exclude(pk__in=[c.theme_id for c in suggested])
        .first()
    )
    ThemeCode.objects.create(
        statement=statement,
        theme=other_theme,
        status="rejected",
        set_by=person,
        set_by_label=person.username,
        set_at=now,
    )
    # A codebook split's placeholder (suggested by no person and no classifier) on another
    # statement: it waits for a person to choose among the parts.
    waiting = Statement.objects.exclude(finding__in=[pub.later, pub.immediate]).first()
    placeholder = ThemeCode.objects.create(
        statement=waiting,
        theme=other_theme,
        status="suggested",
        confidence=0.0,
        set_by_label="ana (codebook version 2)",
        set_at=now,
    )
    # A curator asks for themes again (the model page's button): the classifier retrains
    # with the decided statement, and leaves both alone.
    curator = Client()
    curator.force_login(person)
    page = curator.get(reverse("themes:model"))
    assert page.context["out_of_date"] == 0  # every other statement has this version's
    waiting_before = synced.created - 2  # all but the decided one and the placeholder's

    def suggested_sets() -> dict[int, set[int]]:
        found: dict[int, set[int]] = {}
        for statement_id, theme_id in ThemeCode.objects.filter(
            status="suggested", classifier__isnull=False
        ).values_list("statement_id", "theme_id"):
            found.setdefault(statement_id, set()).add(theme_id)
        return found

    before_sets = suggested_sets()
    queued = curator.post(reverse("themes:suggest-again"))
    run = SuggestionRun.objects.get()
    assert queued.url == reverse("themes:suggestion-run", args=[run.pk])
    assert "Waiting to start." in curator.get(queued.url).content.decode()
    assert suggested_sets() == before_sets  # nothing in the request: the worker does it
    suggestion_runs.run_execute(run.pk)
    response = curator.get(queued.url)
    after_sets = suggested_sets()
    again = ClassifierVersion.objects.order_by("-trained_at", "-id").first()
    assert again.version != result.classifier and again.coded_by_people == 1
    run.refresh_from_db()
    assert (run.status, run.classifier, run.statements) == ("done", again.version, waiting_before)
    body = response.content.decode()
    assert f"Classifier {again.version} suggested themes again for {waiting_before} " in body
    # The number said to have other themes is the number whose themes differ: not every
    # code the new version restamped with the same themes.
    changed = re.search(r"no person has coded: (\d+) of them", body)
    differ = sum(before_sets.get(pk, set()) != themes for pk, themes in after_sets.items())
    assert changed and int(changed[1]) == differ < waiting_before
    # Those of them suggested for before are kept on the run, to be listed (below).
    assert len(run.examples) == sum(
        bool(before_sets.get(pk)) and before_sets[pk] != themes for pk, themes in after_sets.items()
    )
    # The count is the review queue's: every statement but the one a person decided (the one
    # a split left waiting for a person's choice included).
    waiting = selectors.review_queue(1, per_page=1)["count"]
    assert waiting == synced.created - 1
    assert f"{waiting} statements wait for a person in the review queue." in body
    assert AuditEvent.objects.filter(
        object_type="themes.suggestions", object_repr=f"Classifier {again.version}", actor=person
    ).exists()
    assert curator.get(reverse("themes:model")).context["out_of_date"] == 0
    assert statement.codes.get(theme=suggested[0].theme).status == "confirmed"
    placeholder.refresh_from_db()
    assert (placeholder.status, placeholder.classifier, placeholder.version) == (
        "suggested",
        None,
        1,
    )

    # A finding reworded loses the classifier's suggestions (withdrawn, with history), to
    # be made afresh.
    # A split's placeholder on a reworded statement stays: it waits for a person still.
    Finding.objects.filter(pk=pub.immediate.pk).update(headline="Children wait too long.")
    on_hold = placeholder.statement.finding_id
    Finding.objects.filter(pk=on_hold).update(headline="Leaders act too slowly.")
    changed = Statement.objects.get(finding=pub.immediate)
    assert services.statements_sync().changed == 2
    assert not changed.codes.filter(status="suggested").exists()
    withdrawn = changed.codes.get(status="withdrawn")
    assert withdrawn.changes.last().note == "The statement's words changed"
    assert withdrawn.set_by_label == "The register: the finding was reworded"
    placeholder.refresh_from_db()
    assert (placeholder.status, placeholder.classifier, placeholder.version) == (
        "suggested",
        None,
        1,
    )
    event = AuditEvent.objects.get(object_type="themes.statements")
    assert str(event.actor_label) == "system:themes sync"
    gone = ThemeCode.objects.filter(
        statement__finding__in=[pub.immediate.pk, on_hold], status="withdrawn"
    ).count()
    assert event.summary == (
        "2 statements brought in step with their findings, 2 of them reworded "
        f"({gone} suggestion{'s' if gone != 1 else ''} of the classifier withdrawn)"
    )
    page = curator.get(reverse("themes:model")).content.decode()
    assert "1 statement no person has coded holds the suggestions of an earlier" in page
    coding.suggest(actor=SYSTEM, now=timezone.now() + dt.timedelta(minutes=1))
    assert changed.codes.filter(status="suggested").exists()


def test_a_persons_decision_confirms_rejects_and_keeps_history(pub, tmp_path: Path):
    services.codebook_load(actor=SYSTEM)
    services.statements_sync()
    coding.suggest(actor=SYSTEM)
    statement = Statement.objects.get(finding=pub.later)
    suggested = {c.theme.key for c in statement.codes.all()}
    seen = services.codes_version(statement)
    person = pub.users["analyst"]
    keep = sorted(suggested)[0]
    added = next(k for k in ("voice_of_child", "workforce", "supervision") if k not in suggested)
    for bad, message in (
        ([], "one to three"),
        (["a", "b", "c", "d"], "one to three"),
        (["no_such_theme"], "Not in codebook version 1: no_such_theme"),
    ):
        with pytest.raises(ValidationError, match=message):
            services.codes_decide(actor=person, statement=statement, themes=bad, seen_version=seen)
    services.codes_decide(
        actor=person, statement=statement, themes=[keep, added], seen_version=seen
    )
    codes = {c.theme.key: c for c in statement.codes.select_related("theme")}
    assert codes[keep].status == codes[added].status == "confirmed"
    assert all(codes[k].status == "rejected" for k in suggested - {keep})
    assert all(c.set_by == person for c in codes.values())
    assert codes[keep].changes.count() == 2  # suggested, then confirmed
    assert AuditEvent.objects.filter(object_type="themes.statement", action="update").exists()
    # A page read before that decision cannot overwrite it.
    with pytest.raises(services.StaleCodes):
        services.codes_decide(actor=person, statement=statement, themes=[keep], seen_version=seen)
    # Another person saving the same themes changes nothing: they stay the first person's.
    events = AuditEvent.objects.count()
    assert not services.codes_decide(
        actor=pub.users["lead"],
        statement=statement,
        themes=[keep, added],
        seen_version=services.codes_version(statement),
    )
    assert {c.set_by for c in statement.codes.all()} == {person}
    assert codes[keep].changes.count() == 2 and AuditEvent.objects.count() == events
    # The classifier is not asked about it again, and learns from it.
    assert (
        Statement.objects.filter(pk=statement.pk).exclude(codes__set_by__isnull=False).count() == 0
    )
    assert services.coded_by_people(services.current_codebook())[0].themes in (
        (keep, added),
        (added, keep),
    )
    # themes_evaluate trains on it too (with the shipped statements).
    path = tmp_path / "gold-from-codebook.jsonl"
    path.write_text(
        "\n".join(
            json.dumps({"text": s.text, "themes": list(s.themes)})
            for s in codebook_statements(load_codebook())
        )
    )
    out = StringIO()
    call_command("themes_evaluate", "--gold", str(path), stdout=out)
    assert json.loads(out.getvalue().strip().splitlines()[-1])["trained_on"] == 714 + 1
    assert "1 of the candidates coded by people under this version; coding" in out.getvalue()
    # Not when the gold file measures on another statement of its report: every statement
    # of a report measured on is left out, not only the same words.
    statement.refresh_from_db()
    assert statement.report_title
    sibling = {"text": "Another finding.", "themes": [keep], "report_title": statement.report_title}
    path.write_text(path.read_text() + "\n" + json.dumps(sibling))
    out = StringIO()
    call_command("themes_evaluate", "--gold", str(path), stdout=out)
    assert json.loads(out.getvalue().strip().splitlines()[-1])["trained_on"] == 714


def test_the_classifier_learns_the_revised_codebook(pub, tmp_path):
    """After a merge and a split, the shipped statements (coded to version 1) are carried
    into the new themes: merged keys follow, a split theme's statements go to the part they
    are nearest to in meaning (or are left out where it is too close to call); the
    classifier trains on the new themes and suggests them."""
    from apps.themes import codebook_revise
    from apps.themes.codebook import load_codebook
    from apps.themes.corpus import read_coded, training_path

    services.codebook_load(actor=SYSTEM)
    analyst = pub.users["analyst"]
    codebook_revise.themes_merge(
        actor=analyst,
        based_on_number=1,
        keys=["supervision", "performance_data"],
        key="oversight",
        name="Oversight, supervision and quality assurance",
        covers="Supervision of cases and the use of performance information to oversee them.",
        excludes="",
        examples=["Supervisors rarely recorded their oversight of the investigation."],
    )
    codebook_revise.theme_split(
        actor=analyst,
        based_on_number=2,
        key="records_systems",
        parts=[
            codebook_revise.ThemePart(
                key="recording",
                name="Recording practice",
                covers="How well officers record what they did and why.",
                examples=["Officers did not record the rationale for their decisions."],
            ),
            codebook_revise.ThemePart(
                key="it_systems",
                name="IT systems",
                covers="Computer systems that help or hinder child protection work.",
                examples=["The force's systems do not link, so officers search several."],
            ),
        ],
    )
    current = services.current_codebook()
    assert current.number == 3
    shipped = read_coded(training_path(), load_codebook())
    carried = coding.shipped_statements(current)
    keys = {t for s in carried for t in s.themes}
    assert "oversight" in keys
    assert not keys & {"supervision", "performance_data", "records_systems"}
    # Every statement of another theme is carried; of the split theme's, those clearly
    # nearer one part go to it (most of them), each to one part, its other themes kept.
    others = [s for s in shipped if "records_systems" not in s.themes]
    split = {s.text: s for s in shipped if "records_systems" in s.themes}
    assigned = [s for s in carried if s.text in split]
    assert len(carried) == len(others) + len(assigned)
    assert len(assigned) >= 0.8 * len(split)
    parts = {"recording", "it_systems"}
    for s in assigned:
        assert len(set(s.themes) & parts) == 1, s
        merged = {"supervision": "oversight", "performance_data": "oversight"}
        before = {merged.get(t, t) for t in split[s.text].themes} - {"records_systems"}
        assert set(s.themes) - parts == before, s
    by_part = {p: [s.text for s in assigned if p in s.themes] for p in parts}
    assert all(by_part.values()), by_part  # both parts learn from shipped statements
    systems = " ".join(by_part["it_systems"]).lower()
    assert "system" in systems or "niche" in systems or "database" in systems
    services.statements_sync()
    result = coding.suggest(actor=SYSTEM)
    row = ClassifierVersion.objects.get(version=result.classifier)
    assert row.codebook == current
    assert set(row.thresholds) == {t.key for t in current.themes.all()}
    assert row.quality["macro_f1"] > 0.5
    # themes_evaluate measures against the shipped codebook's themes: it says that codes
    # made under the later versions are not used.
    gold = tmp_path / "gold.jsonl"
    gold.write_text(
        "\n".join(json.dumps({"text": s.text, "themes": list(s.themes)}) for s in shipped[:12])
    )
    out = StringIO()
    call_command("themes_evaluate", "--gold", str(gold), stdout=out)
    assert "codes made under the 2 later versions are not used" in out.getvalue()


def test_a_findings_year_is_its_reports_first_publication(pub):
    """As an imported report's statements take its publication year: the date its
    follow-up record keeps from the first publication; the fieldwork's until published."""
    from apps.followup.models import FollowUp

    services.codebook_load(actor=SYSTEM)
    inspection, other = pub.inspection, pub.other
    start = inspection.fieldwork_start.year
    FollowUp.objects.filter(inspection=inspection).update(published_on=dt.date(start + 1, 2, 3))
    FollowUp.objects.filter(inspection=other).delete()  # as if not yet published
    services.statements_sync()
    statements = Statement.objects.filter(inspection=inspection)
    assert statements.exists() and {s.year for s in statements} == {start + 1}
    assert {s.year for s in Statement.objects.filter(inspection=other)} == {
        other.fieldwork_start.year
    }
    # Published later: the next sync moves its statements to that year.
    FollowUp.objects.create(
        inspection=other,
        published_on=dt.date(other.fieldwork_start.year + 2, 5, 6),
        action_plan_due_on=dt.date(other.fieldwork_start.year + 2, 8, 6),
    )
    assert services.statements_sync().changed == Statement.objects.filter(inspection=other).count()
    assert {s.year for s in Statement.objects.filter(inspection=other)} == {
        other.fieldwork_start.year + 2
    }


def test_nothing_to_suggest_and_a_statement_stored_meanwhile_keeps_its_suggestions(
    pub, monkeypatch
):
    from apps.themes import archive_services

    services.codebook_load(actor=SYSTEM)
    services.statements_sync()
    coding.suggest(actor=SYSTEM)
    # Nothing left to code (all suggested for, or no statement asked for): said, not a crash.
    nothing = coding.suggest(actor=SYSTEM, statements=Statement.objects.none())
    assert (nothing.statements, nothing.suggestions) == (0, 0)
    # While a run embeds its statements, an import stores a report and its own run suggests
    # themes for it: the first run, when it writes, leaves that statement's alone.
    real = coding.features_cached
    stored_meanwhile: list[Statement] = []

    def embedding_while_an_import_lands(texts):
        if not stored_meanwhile:
            report = archive_services.archive_import(
                actor=SYSTEM,
                file_name="meanwhile.html",
                data=b"<html><head><title>Meanwhile</title></head><body><h1>Meanwhile</h1>"
                b"<h2>Initial contact</h2><p>Officers in the control room identified the "
                b"risks to children well.</p></body></html>",
            )
            statement = report.statements.get()
            stored_meanwhile.append(statement)
            ThemeCode.objects.create(
                statement=statement,
                theme=Theme.objects.get(key="risk_identification"),
                status="suggested",
                confidence=0.9,
                classifier=ClassifierVersion.objects.get(),
                set_by_label="Classifier, run by the import",
                set_at=timezone.now(),
            )
        return real(texts)

    waiting = Statement.objects.count()  # none decided by a person: all the classifier's
    monkeypatch.setattr(coding, "features_cached", embedding_while_an_import_lands)
    result = coding.suggest(actor=SYSTEM)
    assert result.statements == waiting > 0
    (code,) = stored_meanwhile[0].codes.all()
    assert (code.status, code.confidence) == ("suggested", 0.9)
