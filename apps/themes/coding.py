"""The heavy half of theme coding (ADR 18): embeddings (cached in the database), the current
classifier (trained when what people coded changed, and stored) and its suggestions. Kept
apart from services.py so that the pages, which only read codes and record decisions, never
import numpy, scikit-learn or torch when the site starts."""

from __future__ import annotations

import datetime as dt
import pickle
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from apps.core.audit import Actor, actor_fields, audit_record
from apps.core.bulk import insert_rows
from apps.core.cache import data_changed
from apps.core.models import AuditEvent

from . import classifier as model
from . import embedding
from .codebook import load_codebook
from .codebook_revise import key_changes
from .corpus import CodedStatement, read_coded, text_digest, training_path
from .models import (
    ClassifierVersion,
    CodebookVersion,
    Embedding,
    Statement,
    ThemeCode,
    ThemeCodeChange,
)
from .services import (
    StaleCodes,
    SyncResult,
    as_codebook,
    coded_by_people,
    current_codebook,
    statements_sync,
)

# Embeddings ---------------------------------------------------------------------------------


def features_cached(texts: Sequence[str]) -> np.ndarray:
    """What the encoder gives `texts` (embedding.features): those stored are read, only new
    text is embedded (and stored)."""
    if not texts:
        return np.zeros((0, embedding.FEATURES), dtype=np.float32)
    model_id = embedding.model_key()
    keys = [text_digest(t) for t in texts]
    stored: dict[str, np.ndarray] = {}
    unique = list(dict.fromkeys(keys))
    for start in range(0, len(unique), 2000):
        for key, blob in Embedding.objects.filter(
            model=model_id, text_sha256__in=unique[start : start + 2000]
        ).values_list("text_sha256", "vector"):
            stored[key] = np.frombuffer(bytes(blob), dtype=np.float32)
    missing = {k: t for k, t in zip(keys, texts, strict=True) if k not in stored}
    if missing:
        vectors = embedding.features(list(missing.values()))
        Embedding.objects.bulk_create(
            [
                Embedding(text_sha256=k, model=model_id, vector=v.tobytes())
                for k, v in zip(missing, vectors, strict=True)
            ],
            batch_size=2000,
            ignore_conflicts=True,
        )
        stored.update(zip(missing, vectors, strict=True))
    return np.stack([stored[k] for k in keys])


def embed_cached(texts: Sequence[str]) -> np.ndarray:
    """The sentence embeddings of `texts` (embedding.embed), stored ones read."""
    return embedding.sentence_part(features_cached(texts))


def shipped_statements(codebook_row: CodebookVersion) -> list[CodedStatement]:
    """The coded statements the project ships (coded to the shipped codebook, version 1),
    carried into `codebook_row`'s themes through its revisions (codebook_revise): renamed
    and merged themes follow; a statement coded to a removed theme is left out.

    A statement coded to a split theme goes to the part it is nearest in meaning to
    (`classifier.nearest_parts`: its embedding against each part's name, description and
    examples), or is left out where no part is clearly nearer: otherwise the new parts
    would have only the curator's few examples to learn from, and be suggested almost never
    until people had coded many statements (docs/themes.md gives the figures)."""
    statements = read_coded(training_path(), load_codebook())
    mapping, parts = key_changes(codebook_row)
    kept = [s for s in statements if all(t in mapping or t in parts for t in s.themes)]
    split = [s for s in kept if any(t in parts for t in s.themes)]
    nearest: dict[tuple[str, str], str | None] = {}  # (text, split key) -> the part
    if split:
        wanted = sorted({p for s in split for t in s.themes for p in parts.get(t, [])})
        themes = {t.key: t for t in codebook_row.themes.filter(key__in=wanted)}
        vectors = embed_cached([s.text for s in split])
        for key in sorted({t for s in split for t in s.themes if t in parts}):
            of = [p for p in parts[key] if p in themes]
            prototypes = model.prototypes(
                [
                    model.theme_texts(themes[p].name, themes[p].covers, themes[p].examples)
                    for p in of
                ],
                embed_cached,
            )
            rows = [i for i, s in enumerate(split) if key in s.themes]
            for i, chosen in zip(rows, model.nearest_parts(vectors[rows], prototypes), strict=True):
                nearest[(split[i].text, key)] = None if chosen is None else of[chosen]
    out = []
    for s in kept:
        themes_of = [nearest.get((s.text, t)) if t in parts else mapping[t] for t in s.themes]
        if None in themes_of:
            continue
        out.append(replace(s, themes=tuple(dict.fromkeys(t for t in themes_of if t))))
    return out


def classifier_current(*, codebook_row: CodebookVersion | None = None) -> ClassifierVersion:
    """The classifier trained on the shipped statements and every statement people have
    coded, trained and stored if that set has changed since the last one."""
    codebook_row = codebook_row or current_codebook()
    codebook = as_codebook(codebook_row)
    people = coded_by_people(codebook_row)
    shipped = model.codebook_statements(codebook) + shipped_statements(codebook_row)
    training = shipped + people
    version = model.training_version(training, codebook)
    existing = ClassifierVersion.objects.filter(version=version).first()
    if existing is not None:
        return existing
    trained = model.train(
        training,
        codebook,
        vectors=features_cached([s.text for s in training]),
        people_from=len(shipped),
    )
    row, _ = ClassifierVersion.objects.get_or_create(
        version=trained.version,
        defaults={
            "codebook": codebook_row,
            "embedding_model": embedding.MODEL_NAME,
            "trained_on": trained.trained_on,
            "coded_by_people": len(people),
            "thresholds": dict(
                zip(trained.theme_ids, (float(t) for t in trained.thresholds), strict=True)
            ),
            "quality": trained.quality,
            "model": pickle.dumps(trained),
        },
    )
    return row


def load_classifier(row: ClassifierVersion) -> model.ThemeClassifier:
    loaded = pickle.loads(bytes(row.model))  # noqa: S301  (written by classifier_current)
    if not isinstance(loaded, model.ThemeClassifier):
        raise TypeError(f"Classifier {row.version} is not a ThemeClassifier")
    return loaded


CODE_COLUMNS = (
    "statement_id",
    "theme_id",
    "status",
    "confidence",
    "classifier_id",
    "set_by_label",
    "set_at",
    "version",
)
# How many of the statements whose suggested themes changed a run keeps, to show: enough to
# find, among those a curator may see (findings of unpublished inspections are not shown),
# a page's worth.
CHANGE_EXAMPLES = 60
CHANGE_COLUMNS = ("code_id", "status", "confidence", "classifier_id", "set_by_label", "at", "note")


def _set(
    code: ThemeCode,
    status: str,
    confidence: float | None,
    classifier: ClassifierVersion,
    label: str,
    now: dt.datetime,
) -> None:
    code.status, code.confidence, code.classifier = status, confidence, classifier
    code.set_by_label, code.set_at = label, now
    code.version += 1


@dataclass
class SuggestResult:
    classifier: str
    statements: int
    suggestions: int  # codes written (new, changed, withdrawn or restamped by this version)
    changed: int = 0  # statements whose suggested themes are not the ones they had
    # Some of those, surest first (CHANGE_EXAMPLES at most): {"statement": id, "before":
    # [theme keys], "after": [theme keys]}, for a person to see what the classifier learnt.
    examples: list[dict[str, Any]] = field(default_factory=list)


def suggest(
    *,
    actor: Actor,
    statements: QuerySet[Statement] | None = None,
    now: dt.datetime | None = None,
) -> SuggestResult:
    """The current classifier's themes for each statement no person has coded yet (nor one a
    codebook split left waiting for a person): its
    suggestions replace the earlier classifier's, each with its confidence and the version
    that made it, and every change kept in the code's history. A fixed number of queries
    whatever the number of statements (bulk writes, in batches)."""
    row = classifier_current()
    classifier = load_classifier(row)
    themes = {t.key: t for t in row.codebook.themes.all()}
    now = now or timezone.now()
    _, label = actor_fields(actor)
    label = f"Classifier {row.version}, run by {label}"
    # A person's statements, and those a codebook split left for a person to finish (its
    # placeholders: suggested by no person and no classifier), are not the classifier's.
    decided = ThemeCode.objects.filter(theme__codebook=row.codebook).filter(
        Q(set_by__isnull=False)
        | Q(status=ThemeCode.Status.SUGGESTED, set_by__isnull=True, classifier__isnull=True)
    )
    # Set aside by a curator as not a statement: in no figure, so not worth suggesting for.
    to_code = (statements if statements is not None else Statement.objects.all()).exclude(
        Q(pk__in=decided.values("statement_id")) | Q(set_aside=True)
    )
    chosen = list(to_code.order_by("id"))
    if not chosen:  # every statement decided, or none yet: nothing to suggest
        return SuggestResult(classifier=row.version, statements=0, suggestions=0)
    texts = [s.text for s in chosen]
    probabilities = classifier.probabilities(texts, features_cached(texts))
    chosen_themes = classifier.decide(probabilities)
    made = 0
    with transaction.atomic():
        # A revision of the codebook, or a person's decision, made while the texts were
        # embedded: suggestions for the superseded version would be lost, and a decided
        # statement is no longer the classifier's to code.
        locked = CodebookVersion.objects.select_for_update().get(pk=row.codebook_id)
        if current_codebook().pk != locked.pk:
            raise StaleCodes(
                "The codebook was revised while themes were being suggested: run it again."
            )
        decided_now = set(decided.values_list("statement_id", flat=True))
        # Only the statements read above: one stored since (another import's, suggested
        # for by its own run) is not this run's to withdraw from.
        chosen_ids = {s.pk for s in chosen}
        old = {
            (c.statement_id, c.theme_id): c
            for c in ThemeCode.objects.filter(
                statement__in=to_code.values("pk"),
                theme__codebook=row.codebook,
                status__in=[ThemeCode.Status.SUGGESTED, ThemeCode.Status.WITHDRAWN],
            )
            if c.statement_id in chosen_ids
        }
        before: dict[int, set[int]] = {}
        for (statement_id, theme_id), had in old.items():
            if had.status == ThemeCode.Status.SUGGESTED:
                before.setdefault(statement_id, set()).add(theme_id)
        changed = 0
        key_of = {t.pk: t.key for t in themes.values()}
        examples: list[tuple[float, dict[str, Any]]] = []
        keep: set[int] = set()
        created: list[tuple[Any, ...]] = []  # new codes, as rows (core.bulk)
        stamp = connection.ops.adapt_datetimefield_value(now)  # as the ORM stores it
        updated: list[ThemeCode] = []
        for statement, row_p, row_d in zip(chosen, probabilities, chosen_themes, strict=True):
            if statement.pk in decided_now:
                continue
            now_themes = {themes[classifier.theme_ids[j]].pk for j in np.flatnonzero(row_d)}
            earlier = before.get(statement.pk, set())
            if now_themes != earlier:
                changed += 1
                if earlier:  # a statement suggested for before (not a new one)
                    examples.append(
                        (
                            float(row_p.max()),
                            {
                                "statement": statement.pk,
                                "before": sorted(key_of[t] for t in earlier),
                                "after": sorted(key_of[t] for t in now_themes),
                            },
                        )
                    )
            for j in np.flatnonzero(row_d):
                theme = themes[classifier.theme_ids[j]]
                confidence = round(float(row_p[j]), 4)
                code = old.get((statement.pk, theme.pk))
                if code is None:
                    created.append(
                        (
                            statement.pk,
                            theme.pk,
                            ThemeCode.Status.SUGGESTED.value,
                            confidence,
                            row.pk,
                            label,
                            stamp,
                            1,
                        )
                    )
                    continue
                keep.add(code.pk)
                if not (
                    code.status == ThemeCode.Status.SUGGESTED
                    and code.classifier_id == row.pk
                    and code.confidence == confidence
                ):
                    _set(code, ThemeCode.Status.SUGGESTED, confidence, row, label, now)
                    updated.append(code)
        # What this classifier no longer suggests is withdrawn, its history kept.
        for code in old.values():
            if code.pk not in keep and code.status == ThemeCode.Status.SUGGESTED:
                _set(code, ThemeCode.Status.WITHDRAWN, None, row, label, now)
                updated.append(code)
        insert_rows(ThemeCode, CODE_COLUMNS, created)
        ThemeCode.objects.bulk_update(
            updated,
            ["status", "confidence", "classifier", "set_by_label", "set_at", "version"],
            batch_size=2000,
        )
        # Each code set now gets its history row: read back by this run's mark (this
        # classifier, this moment, no person), then written in one go (read first: a COPY
        # holds the connection until it ends).
        touched = list(
            ThemeCode.objects.filter(classifier=row, set_at=now, set_by__isnull=True).values_list(
                "pk", "status", "confidence"
            )
        )
        insert_rows(
            ThemeCodeChange,
            CHANGE_COLUMNS,
            [(pk, status, p, row.pk, label, stamp, "") for pk, status, p in touched],
        )
        made = len(created) + len(updated)
        if made:
            data_changed("themes")
            audit_record(
                actor=actor,
                action=AuditEvent.Action.SYSTEM,
                object_type="themes.suggestions",
                object_repr=f"Classifier {row.version}",
                summary=f"{made} theme suggestions for {len(chosen)} statements",
            )
    examples.sort(key=lambda e: (-e[0], e[1]["statement"]))
    return SuggestResult(
        classifier=row.version,
        statements=len(chosen),
        suggestions=made,
        changed=changed,
        examples=[e for _, e in examples[:CHANGE_EXAMPLES]],
    )


def suggest_again(*, actor: Actor) -> tuple[SyncResult, SuggestResult]:
    """What a curator asks for after correcting codes or revising the codebook: the corpus
    brought in step with the register (findings of newly published inspections), then the
    classifier, retrained first if what people decided has changed, suggesting themes for
    every statement no person has coded. `manage.py themes_code` without the codebook file."""
    synced = statements_sync()
    return synced, suggest(actor=actor)
