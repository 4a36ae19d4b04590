"""Revising the codebook: analysts add, rename, merge and split themes (the issue's
"versioned codebook", ADR 18).

Each change is one new codebook version, based on the current one (the highest number). It
copies every theme of the current version that the change leaves alone, links each of its
themes to the previous version's themes it continues (`Theme.derived_from`), and carries
every code of the current version over into it, each with a history entry saying where it
came from. Earlier versions' themes and codes are never changed: they are the history, and
`selectors.current_codes()` only ever reads the latest version's.

A form is made against the version it shows (`based_on_number`): a change made to a version
that is no longer the current one is refused, so two analysts revising at once never
silently undo each other's work.

Keys are permanent: a key, once used by any version, only ever names the same theme (or what
it was renamed or merged into), so that statements coded to a key under an old version (the
shipped training statements are coded to version 1) can be mapped to the current codebook
(`training_key_map`).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from apps.core.audit import Actor, actor_fields, audit_record
from apps.core.cache import data_changed
from apps.core.models import AuditEvent

from .codebook import ID_PATTERN
from .models import CodebookVersion, Statement, Theme, ThemeCode, ThemeCodeChange

Status = ThemeCode.Status
# Bulk writes in batches of this many rows: a fixed number of queries up to this many codes,
# one more for each further batch (SQLite limits the parameters of one statement).
BATCH_SIZE = 2000
NAME_LENGTH = 200
CHANGE_NOTE_LENGTH = 300  # ThemeCodeChange.note
VERSION_NOTE_LENGTH = 500  # CodebookVersion.note
LABEL_LENGTH = 200  # ThemeCode.set_by_label


@dataclass(frozen=True)
class ThemePart:
    """One part of a theme being split: a new theme of its own."""

    key: str
    name: str
    covers: str
    examples: Sequence[str] = ()
    excludes: str = ""


@dataclass(frozen=True)
class Revision:
    """What a revision made: the new version, how many codes of the previous version it
    carried over, how many codes the new version has, and what happened in words."""

    version: CodebookVersion
    codes_before: int
    codes_after: int
    message: str


# How a revision is built -------------------------------------------------------------------


@dataclass
class _NewTheme:
    """A theme of the version being made, and the current version's themes it continues."""

    key: str
    name: str
    covers: str
    excludes: str
    examples: list[str]
    sources: list[Theme] = field(default_factory=list)

    @classmethod
    def kept(cls, theme: Theme) -> _NewTheme:
        return cls(
            key=theme.key,
            name=theme.name,
            covers=theme.covers,
            excludes=theme.excludes,
            examples=list(theme.examples),
            sources=[theme],
        )


@dataclass
class _Carry:
    """One code of the new version: its theme's key, its state, what kind of move it was
    (for the message) and the note of its history entry."""

    key: str
    status: str
    confidence: float | None
    classifier_id: int | None
    set_by_id: int | None
    set_by_label: str
    set_at: dt.datetime
    kind: str
    note: str
    sources: int = 1  # how many codes of the previous version it stands for


@dataclass(frozen=True)
class _Context:
    old: int  # the number of the version revised
    new: int  # the number of the version made
    label: str  # who made the revision, as codes it sets record it
    now: dt.datetime
    note: str  # the revision, in words


@dataclass(frozen=True)
class _Current:
    row: CodebookVersion
    themes: list[Theme]
    used: frozenset[str]  # every key any version has used

    def get(self, key: str) -> Theme | None:
        return next((t for t in self.themes if t.key == key), None)


@dataclass
class _Tally:
    """What the revision did, by kind of move: codes made in the new version, codes of the
    previous version they stand for, and statements (each counted once a kind)."""

    codes: Counter[str] = field(default_factory=Counter)
    sources: Counter[str] = field(default_factory=Counter)
    statements: Counter[str] = field(default_factory=Counter)


@dataclass
class _Plan:
    themes: list[_NewTheme]
    note: str
    route: Callable[[list[ThemeCode], _Context], list[_Carry]]
    message: Callable[[_Tally, _Context], str]


def _fit(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _names(names: Iterable[str]) -> str:
    quoted = [f"'{n}'" for n in names]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} and {quoted[-1]}"


def _count(n: int, singular: str, plural: str | None = None) -> str:
    return f"{n} {singular if n == 1 else (plural or singular + 's')}"


def _copy(code: ThemeCode, key: str, kind: str, note: str, sources: int = 1) -> _Carry:
    """The code as it is, under the new version's theme `key`."""
    return _Carry(
        sources=sources,
        key=key,
        status=code.status,
        confidence=code.confidence,
        classifier_id=code.classifier_id,
        set_by_id=code.set_by_id,
        set_by_label=code.set_by_label,
        set_at=code.set_at,
        kind=kind,
        note=note,
    )


def _kept(code: ThemeCode, key: str, context: _Context) -> _Carry:
    note = (
        f"Carried over from codebook version {context.old} unchanged; "
        f"version {context.new}: {context.note}"
    )
    return _copy(code, key, "kept", note)


def _set_by_revision(
    key: str,
    status: str,
    confidence: float | None,
    context: _Context,
    kind: str,
    note: str,
    classifier_id: int | None = None,
) -> _Carry:
    """A code the revision itself sets (no person decided it)."""
    return _Carry(
        key=key,
        status=status,
        confidence=confidence,
        classifier_id=classifier_id,
        set_by_id=None,
        set_by_label=_fit(f"{context.label} (codebook version {context.new})", LABEL_LENGTH),
        set_at=context.now,
        kind=kind,
        note=note,
    )


# Checking what an analyst asked for ---------------------------------------------------------


def _clean(text: str | None) -> str:
    return " ".join((text or "").split())


def _clean_examples(examples: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(e for e in (_clean(x) for x in examples) if e))


def _check_key(
    errors: dict[str, str],
    field_name: str,
    key: str | None,
    current: _Current,
    *,
    allowed: Iterable[str] = (),
    label: str = "",
) -> str:
    """A new key: well formed, and never used by any version for another theme (`allowed`:
    keys the new theme may keep, being the theme they name)."""
    key = (key or "").strip()
    if not key:
        errors[field_name] = f"{label}Enter a key, such as online_abuse."
    elif not ID_PATTERN.match(key):
        errors[field_name] = (
            f"{label}The key must be 2 to 50 lower case letters, digits and underscores, "
            "starting with a letter (such as online_abuse)."
        )
    elif key in current.used and key not in set(allowed):
        holder = current.get(key)
        errors[field_name] = (
            f"{label}The key {key} is already the key of '{holder.name}': choose another."
            if holder is not None
            else f"{label}The key {key} was used by a theme of an earlier codebook version: "
            "a key always means the same theme, so choose another."
        )
    return key


@dataclass(frozen=True)
class _Words:
    name: str
    covers: str
    excludes: str
    examples: list[str]


def _check_words(
    errors: dict[str, str],
    *,
    name: str,
    covers: str,
    excludes: str,
    examples: Iterable[str],
    taken: dict[str, str],
    prefix: str = "",
    label: str = "",
) -> _Words:
    """A theme's words: a name (not another theme's), what it covers, at least one example
    (the classifier learns a theme from its examples before people code it).
    `taken`: names already used in the new version, lower case, to the theme's name."""
    words = _Words(_clean(name), _clean(covers), _clean(excludes), _clean_examples(examples))
    if not words.name:
        errors[f"{prefix}name"] = f"{label}Enter the theme's name."
    elif len(words.name) > NAME_LENGTH:
        errors[f"{prefix}name"] = f"{label}The name must be {NAME_LENGTH} characters or fewer."
    elif words.name.lower() in taken:
        errors[f"{prefix}name"] = (
            f"{label}'{taken[words.name.lower()]}' is already a theme's name: choose another."
        )
    if not words.covers:
        errors[f"{prefix}covers"] = f"{label}Say what the theme covers."
    if not words.examples:
        errors[f"{prefix}examples"] = (
            f"{label}Give at least one example statement: the classifier learns the theme "
            "from its examples."
        )
    return words


def _names_taken(themes: Iterable[Theme], leaving: Iterable[Theme] = ()) -> dict[str, str]:
    gone = {t.pk for t in leaving}
    return {t.name.lower(): t.name for t in themes if t.pk not in gone}


# The revision itself -----------------------------------------------------------------------


def _current_for_revision(based_on_number: int) -> CodebookVersion:
    """The current version, locked until the revision commits; refused if it is not the
    version the form was made against."""
    current = CodebookVersion.objects.select_for_update().order_by("-number").first()
    if current is None:
        raise ValidationError(
            {"based_on_number": "No codebook is loaded yet: run manage.py themes_code first."}
        )
    # Read again once the lock is held: a revision that committed while we waited shows now.
    latest = CodebookVersion.objects.aggregate(latest=Max("number"))["latest"]
    if latest != based_on_number:
        raise ValidationError(
            {
                "based_on_number": f"The codebook has changed since you opened this page: "
                f"it is now version {latest}, and your change was to version "
                f"{based_on_number}. Reload the page to see the current codebook, then make "
                "your change again if it is still needed."
            }
        )
    return current


def _revise(*, actor: Actor, based_on_number: int, plan: Callable[[_Current], _Plan]) -> Revision:
    _, label = actor_fields(actor)
    now = timezone.now()
    with transaction.atomic():
        row = _current_for_revision(based_on_number)
        themes = list(row.themes.order_by("order", "key"))
        used = frozenset(Theme.objects.order_by().values_list("key", flat=True).distinct())
        planned = plan(_Current(row=row, themes=themes, used=used))

        # Lock the statements that have codes, so no decision on them lands in the version
        # being replaced while its codes are carried over (codes_decide locks the statement).
        in_version = ThemeCode.objects.filter(theme__codebook=row)
        list(
            Statement.objects.select_for_update()
            .filter(pk__in=in_version.values("statement_id"))
            .values_list("pk", flat=True)
        )
        codes = list(in_version.order_by("statement_id", "id"))

        version = CodebookVersion.objects.create(
            number=row.number + 1,
            based_on=row,
            note=_fit(planned.note, VERSION_NOTE_LENGTH),
            created_by_label=label,
        )
        made = Theme.objects.bulk_create(
            [
                Theme(
                    codebook=version,
                    key=t.key,
                    name=t.name,
                    covers=t.covers,
                    excludes=t.excludes,
                    examples=t.examples,
                    order=n,
                )
                for n, t in enumerate(planned.themes)
            ]
        )
        by_key = {t.key: t for t in made}
        link = Theme.derived_from.through
        link.objects.bulk_create(
            [
                link(from_theme_id=by_key[t.key].pk, to_theme_id=source.pk)
                for t in planned.themes
                for source in t.sources
            ]
        )

        context = _Context(
            old=row.number, new=version.number, label=label, now=now, note=planned.note
        )
        by_statement: dict[int, list[ThemeCode]] = defaultdict(list)
        for code in codes:
            by_statement[code.statement_id].append(code)
        carries: list[tuple[int, _Carry]] = []
        tally = _Tally()
        for statement_id, group in by_statement.items():
            routed = planned.route(group, context)
            carries.extend((statement_id, c) for c in routed)
            for c in routed:
                tally.codes[c.kind] += 1
                tally.sources[c.kind] += c.sources
            tally.statements.update({c.kind for c in routed})
        new_codes = ThemeCode.objects.bulk_create(
            [
                ThemeCode(
                    statement_id=statement_id,
                    theme=by_key[c.key],
                    status=c.status,
                    confidence=c.confidence,
                    classifier_id=c.classifier_id,
                    set_by_id=c.set_by_id,
                    set_by_label=c.set_by_label,
                    set_at=c.set_at,
                )
                for statement_id, c in carries
            ],
            batch_size=BATCH_SIZE,
        )
        ThemeCodeChange.objects.bulk_create(
            [
                ThemeCodeChange(
                    code=code,
                    status=code.status,
                    confidence=code.confidence,
                    classifier_id=code.classifier_id,
                    set_by_id=code.set_by_id,
                    set_by_label=code.set_by_label,
                    at=now,
                    note=_fit(c.note, CHANGE_NOTE_LENGTH),
                )
                for code, (_, c) in zip(new_codes, carries, strict=True)
            ],
            batch_size=BATCH_SIZE,
        )
        message = planned.message(tally, context)
        audit_record(
            actor=actor,
            action=AuditEvent.Action.CREATE,
            instance=version,
            summary=message,
            after={"number": version.number, "based_on": row.number, "note": version.note},
        )
        data_changed("themes")
    return Revision(
        version=version, codes_before=len(codes), codes_after=len(new_codes), message=message
    )


def _others(tally: _Tally) -> str:
    return _count(tally.codes["kept"], "other code") + " carried over unchanged"


# The four changes -------------------------------------------------------------------------


def theme_add(
    *,
    actor: Actor,
    based_on_number: int,
    key: str,
    name: str,
    covers: str,
    excludes: str = "",
    examples: Sequence[str] = (),
) -> Revision:
    """A new theme, after the others. No code moves: the classifier learns the theme from its
    examples and suggests it the next time themes are suggested."""

    def plan(current: _Current) -> _Plan:
        errors: dict[str, str] = {}
        new_key = _check_key(errors, "key", key, current)
        words = _check_words(
            errors,
            name=name,
            covers=covers,
            excludes=excludes,
            examples=examples,
            taken=_names_taken(current.themes),
        )
        if errors:
            raise ValidationError(errors)
        added = _NewTheme(new_key, words.name, words.covers, words.excludes, words.examples)
        keys = {t.pk: t.key for t in current.themes}

        def route(group: list[ThemeCode], context: _Context) -> list[_Carry]:
            return [_kept(c, keys[c.theme_id], context) for c in group]

        def message(tally: _Tally, context: _Context) -> str:
            return (
                f"Codebook version {context.new}: '{words.name}' added. "
                f"{_count(tally.codes['kept'], 'code')} carried over unchanged; no statement "
                "is coded to the new theme yet: the classifier will suggest it the next time "
                "themes are suggested."
            )

        return _Plan(
            themes=[_NewTheme.kept(t) for t in current.themes] + [added],
            note=f"Added '{words.name}' ({new_key}).",
            route=route,
            message=message,
        )

    return _revise(actor=actor, based_on_number=based_on_number, plan=plan)


def _renaming(old: Theme, key: str, words: _Words) -> str:
    """What a rename changed, in words."""
    changed = []
    if key != old.key:
        changed.append(f"key {old.key} is now {key}")
    if (words.covers, words.excludes) != (old.covers, old.excludes):
        changed.append("what it covers reworded")
    if words.examples != list(old.examples):
        changed.append("its examples changed")
    if words.name != old.name:
        said = f"'{old.name}' renamed '{words.name}'"
        return said + (f" ({'; '.join(changed)})" if changed else "")
    return f"'{old.name}': {'; '.join(changed)}"


def _unknown(key: str, current: _Current) -> str:
    return f"No theme has the key {key} in codebook version {current.row.number}."


def theme_rename(
    *,
    actor: Actor,
    based_on_number: int,
    key: str,
    name: str,
    covers: str,
    excludes: str,
    examples: Sequence[str],
    new_key: str | None = None,
) -> Revision:
    """The same theme in new words (and, given `new_key`, a new key): its codes carry over
    unchanged."""

    def plan(current: _Current) -> _Plan:
        errors: dict[str, str] = {}
        old = current.get(key)
        if old is None:
            raise ValidationError({"key": _unknown(key, current)})
        target = key
        if new_key and new_key.strip() != key:
            target = _check_key(errors, "new_key", new_key, current)
        words = _check_words(
            errors,
            name=name,
            covers=covers,
            excludes=excludes,
            examples=examples,
            taken=_names_taken(current.themes, leaving=[old]),
        )
        if not errors and (
            target,
            words.name,
            words.covers,
            words.excludes,
            words.examples,
        ) == (old.key, old.name, old.covers, old.excludes, list(old.examples)):
            errors["name"] = (
                "Nothing would change: change the name, the key, what the theme covers or "
                "excludes, or its examples."
            )
        if errors:
            raise ValidationError(errors)
        what = _renaming(old, target, words)
        renamed = _NewTheme(target, words.name, words.covers, words.excludes, words.examples)
        renamed.sources = [old]
        themes = [renamed if t.pk == old.pk else _NewTheme.kept(t) for t in current.themes]
        keys = {t.pk: t.key for t in current.themes}

        def route(group: list[ThemeCode], context: _Context) -> list[_Carry]:
            return [
                _copy(
                    c,
                    target,
                    "renamed",
                    f"Carried over from codebook version {context.old}: {what}",
                )
                if c.theme_id == old.pk
                else _kept(c, keys[c.theme_id], context)
                for c in group
            ]

        def message(tally: _Tally, context: _Context) -> str:
            return (
                f"Codebook version {context.new}: {what}. "
                f"{_count(tally.codes['renamed'], 'code')} of the theme carried over with it; "
                f"{_others(tally)}."
            )

        return _Plan(themes=themes, note=_sentence(what), route=route, message=message)

    return _revise(actor=actor, based_on_number=based_on_number, plan=plan)


def _merged_code(codes: list[ThemeCode]) -> ThemeCode:
    """One statement's codes of the merged themes as one: a person's confirmation if any
    (the latest), else a rejection if every one was rejected, else the classifier's surest
    suggestion, else (none is suggested any more) the latest withdrawn suggestion."""
    confirmed = [c for c in codes if c.status == Status.CONFIRMED]
    if confirmed:
        return max(confirmed, key=lambda c: (c.set_at, c.pk))
    if all(c.status == Status.REJECTED for c in codes):
        return max(codes, key=lambda c: (c.set_at, c.pk))
    suggested = [c for c in codes if c.status == Status.SUGGESTED]
    if suggested:
        return max(suggested, key=lambda c: (c.confidence or 0.0, c.set_at, c.pk))
    withdrawn = [c for c in codes if c.status == Status.WITHDRAWN]
    return max(withdrawn, key=lambda c: (c.set_at, c.pk))


def themes_merge(
    *,
    actor: Actor,
    based_on_number: int,
    keys: Sequence[str],
    key: str,
    name: str,
    covers: str,
    excludes: str,
    examples: Sequence[str],
) -> Revision:
    """Two or more themes as one new theme, in the place of the first of them; it may keep
    the key of one of them. Each statement's codes of the merged themes become one code of
    the new theme: confirmed if a person confirmed any of them (that person and time kept),
    else rejected if all were rejected, else suggested with the highest confidence."""

    def plan(current: _Current) -> _Plan:
        errors: dict[str, str] = {}
        given = [k.strip() for k in keys if k.strip()]
        chosen = list(dict.fromkeys(given))
        twice = sorted(k for k, n in Counter(given).items() if n > 1)
        unknown = [k for k in chosen if current.get(k) is None]
        if unknown:
            errors["keys"] = (
                f"Not in codebook version {current.row.number}: {', '.join(sorted(unknown))}."
            )
        elif twice:
            errors["keys"] = f"Choose each theme once: {', '.join(twice)} given more than once."
        elif len(chosen) < 2:
            errors["keys"] = "Choose at least two themes to merge."
        merged = [t for t in current.themes if t.key in chosen]
        new_key = _check_key(errors, "key", key, current, allowed=chosen)
        words = _check_words(
            errors,
            name=name,
            covers=covers,
            excludes=excludes,
            examples=examples,
            taken=_names_taken(current.themes, leaving=merged),
        )
        if errors:
            raise ValidationError(errors)
        what = f"{_names(t.name for t in merged)} merged into '{words.name}'"
        into = _NewTheme(new_key, words.name, words.covers, words.excludes, words.examples)
        into.sources = merged
        gone = {t.pk for t in merged}
        themes: list[_NewTheme] = []
        for theme in current.themes:
            if theme.pk not in gone:
                themes.append(_NewTheme.kept(theme))
            elif theme.pk == merged[0].pk:
                themes.append(into)
        by_pk = {t.pk: t for t in current.themes}

        def route(group: list[ThemeCode], context: _Context) -> list[_Carry]:
            out = [
                _kept(c, by_pk[c.theme_id].key, context) for c in group if c.theme_id not in gone
            ]
            mine = [c for c in group if c.theme_id in gone]
            if mine:
                had = {c.theme_id for c in mine}
                sources = _names(t.name for t in merged if t.pk in had)
                one = _merged_code(mine)
                note = (
                    f"Carried over from codebook version {context.old}: {sources} merged into "
                    f"'{words.name}'"
                )
                out.append(_copy(one, new_key, f"merged_{one.status}", note, sources=len(mine)))
            return out

        def message(tally: _Tally, context: _Context) -> str:
            kinds = [f"merged_{s}" for s in Status.values]
            states = ", ".join(
                f"{tally.codes[k]} {Status(k.removeprefix('merged_')).label.lower()}"
                for k in kinds
                if tally.codes[k]
            )
            before = sum(tally.sources[k] for k in kinds)
            after = sum(tally.codes[k] for k in kinds)
            return (
                f"Codebook version {context.new}: {what}. "
                f"{_count(before, 'code')} of the merged themes became "
                f"{_count(after, 'code')} of '{words.name}'"
                + (f" ({states})" if states else "")
                + f"; {_others(tally)}."
            )

        return _Plan(themes=themes, note=_sentence(what), route=route, message=message)

    return _revise(actor=actor, based_on_number=based_on_number, plan=plan)


def theme_split(
    *, actor: Actor, based_on_number: int, key: str, parts: Sequence[ThemePart]
) -> Revision:
    """A theme as two or more new themes, in its place, each with its own key, name, covers
    and examples. A code cannot be assigned to a part without someone reading the statement:

    - a statement a person had confirmed to the theme goes back to the review queue: each
      part is carried over as a placeholder, a suggestion no person or classifier made, with
      confidence 0.0 (so the queue, least sure first, shows it early; a placeholder is never
      counted in the analysis, and the classifier leaves the statement to the person); its
      other codes are carried over as they were, a person's decisions still counting;
    - the classifier's suggestions of the theme are withdrawn (it suggests again among the
      parts the next time themes are suggested);
    - a person's rejection of the theme rejects every part.

    Errors on a part are keyed `part_<n>_<field>` (n from 1, in the order given)."""

    def plan(current: _Current) -> _Plan:
        errors: dict[str, str] = {}
        old = current.get(key)
        if old is None:
            raise ValidationError({"key": _unknown(key, current)})
        if len(parts) < 2:
            errors["parts"] = "Give at least two parts: a theme split into one is a rename."
        taken = _names_taken(current.themes, leaving=[old])
        seen: dict[str, int] = {}
        made: list[_NewTheme] = []
        for n, part in enumerate(parts, 1):
            prefix, label = f"part_{n}_", f"Part {n}: "
            part_key = _check_key(
                errors, f"{prefix}key", part.key, current, allowed=[key], label=label
            )
            if part_key == key:
                errors[f"{prefix}key"] = (
                    f"{label}A part cannot keep the key {key} of the theme it splits: "
                    "statements coded to it could belong to any part. Choose another."
                )
            elif part_key and f"{prefix}key" not in errors and part_key in seen:
                errors[f"{prefix}key"] = (
                    f"{label}The key {part_key} is already given to part {seen[part_key]}."
                )
            seen.setdefault(part_key, n)
            words = _check_words(
                errors,
                name=part.name,
                covers=part.covers,
                excludes=part.excludes,
                examples=part.examples,
                taken=taken,
                prefix=prefix,
                label=label,
            )
            if words.name and f"{prefix}name" not in errors:
                taken[words.name.lower()] = words.name
            made.append(
                _NewTheme(part_key, words.name, words.covers, words.excludes, words.examples, [old])
            )
        if errors:
            raise ValidationError(errors)
        what = f"'{old.name}' split into {_names(p.name for p in made)}"
        themes: list[_NewTheme] = []
        for theme in current.themes:
            themes.extend(made if theme.pk == old.pk else [_NewTheme.kept(theme)])
        by_pk = {t.pk: t for t in current.themes}
        x = old.name

        def requeued(group: list[ThemeCode], context: _Context, waiting: bool) -> list[_Carry]:
            """Every code of a statement a person had confirmed to the split theme (or that
            waits for a person to choose among the parts of an earlier split, the theme
            split now one of them: `waiting`): the parts as placeholders for a person to
            choose among; its other codes as they were (a person's decision on another theme
            stands, and keeps counting)."""
            since = f"Carried over from codebook version {context.old}"
            why = (
                f"the statement was waiting for a person to choose '{x}' or another part of an "
                "earlier split"
                if waiting
                else f"a person had confirmed '{x}'"
            )
            out = [
                _set_by_revision(
                    p.key,
                    Status.SUGGESTED,
                    0.0,
                    context,
                    "requeued",
                    f"{since}: '{x}' was split; {why}: choose among its parts",
                )
                for p in made
            ]
            for c in group:
                if c.theme_id != old.pk:
                    note = (
                        f"{since} unchanged; the statement is back in the review queue "
                        f"because '{x}' was split"
                    )
                    out.append(_copy(c, by_pk[c.theme_id].key, "requeued_other", note))
            return out

        def route(group: list[ThemeCode], context: _Context) -> list[_Carry]:
            split = next((c for c in group if c.theme_id == old.pk), None)
            if split is not None and split.status == Status.CONFIRMED:
                return requeued(group, context, waiting=False)
            if split is not None and split.is_split_placeholder:  # still a person's to choose
                return requeued(group, context, waiting=True)
            out = [_kept(c, by_pk[c.theme_id].key, context) for c in group if c is not split]
            if split is None:
                return out
            since = f"Carried over from codebook version {context.old}: '{x}' was split"
            for p in made:
                if split.status == Status.SUGGESTED:
                    out.append(
                        _set_by_revision(
                            p.key,
                            Status.WITHDRAWN,
                            None,
                            context,
                            "withdrawn",
                            f"{since}; the classifier's suggestion of '{x}' is withdrawn until "
                            "it suggests among the parts",
                            classifier_id=split.classifier_id,
                        )
                    )
                elif split.status == Status.REJECTED:
                    note = f"{since}; a person had rejected '{x}', so each of its parts is rejected"
                    out.append(_copy(split, p.key, "rejected", note))
                else:
                    note = f"{since}; its suggestion had already been withdrawn"
                    out.append(_copy(split, p.key, "was_withdrawn", note))
            return out

        def message(tally: _Tally, context: _Context) -> str:
            back, withdrawn = tally.statements["requeued"], tally.statements["withdrawn"]
            rejected = tally.statements["rejected"]
            said = []
            if back:
                said.append(
                    f"{_count(back, 'statement')} a person had coded to '{x}' "
                    f"{'is' if back == 1 else 'are'} back in the review queue to choose among "
                    "its parts"
                )
            if withdrawn:
                said.append(
                    f"{_count(withdrawn, 'suggestion')} of '{x}' withdrawn until the "
                    "classifier suggests among the parts"
                )
            if rejected:
                said.append(
                    f"{_count(rejected, 'rejection')} of '{x}' now "
                    f"{'rejects' if rejected == 1 else 'reject'} every part"
                )
            said.append(_others(tally))
            return f"Codebook version {context.new}: {what}. {_sentence('; '.join(said))}"

        return _Plan(themes=themes, note=_sentence(what), route=route, message=message)

    return _revise(actor=actor, based_on_number=based_on_number, plan=plan)


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + "."


# Mapping older keys to the current codebook -------------------------------------------------


def _descendants(codebook_row: CodebookVersion) -> tuple[set[str], dict[str, set[frozenset[str]]]]:
    """`codebook_row`'s keys; and for each key of an earlier version that is not one of
    them, the keys of `codebook_row`'s themes it became, one set for each earlier theme of
    that key, following `derived_from` through every version in between (empty: removed;
    two or more: split).

    A version loaded from a file rather than made by a revision (no `based_on`) continues the
    version before it by key: the same key is the same theme. Three queries."""
    versions = list(
        CodebookVersion.objects.filter(number__lte=codebook_row.number)
        .order_by("number")
        .values_list("pk", "based_on_id")
    )
    keys: dict[int, str] = {}
    themes_of: dict[int, list[int]] = defaultdict(list)
    for pk, key, version_id in Theme.objects.filter(
        codebook__number__lte=codebook_row.number
    ).values_list("pk", "key", "codebook_id"):
        keys[pk] = key
        themes_of[version_id].append(pk)
    successors: dict[int, set[int]] = defaultdict(set)
    for later, earlier in Theme.derived_from.through.objects.filter(
        from_theme__codebook__number__lte=codebook_row.number
    ).values_list("from_theme_id", "to_theme_id"):
        successors[earlier].add(later)
    for (previous, _), (version, based_on) in pairwise(versions):
        if based_on is None:
            same = {keys[pk]: pk for pk in themes_of[version]}
            for pk in themes_of[previous]:
                if keys[pk] in same:
                    successors[pk].add(same[keys[pk]])

    # Each theme's descendants in the target version, newest versions first.
    target = themes_of[codebook_row.pk]
    reach: dict[int, frozenset[int]] = {pk: frozenset([pk]) for pk in target}
    for version, _ in reversed(versions):
        if version == codebook_row.pk:
            continue
        for pk in themes_of[version]:
            reach[pk] = frozenset().union(*(reach.get(s, frozenset()) for s in successors[pk]))

    own = {keys[pk] for pk in target}
    outcomes: dict[str, set[frozenset[str]]] = defaultdict(set)
    for pk, descendants in reach.items():
        if keys[pk] not in own:
            outcomes[keys[pk]].add(frozenset(keys[d] for d in descendants))
    return own, outcomes


def key_changes(codebook_row: CodebookVersion) -> tuple[dict[str, str], dict[str, list[str]]]:
    """For statements coded to an earlier version's keys (the shipped training statements
    are coded to version 1; people may have coded under any version), following
    `derived_from` through every version in between:

    - each key → the key of `codebook_row`'s theme it now belongs to, where that is
      unambiguous: renamed and merged themes map to what they became; the version's own keys
      to themselves; keys of split or removed themes are left out (a statement coded to them
      must be coded again, or, for the shipped statements, placed among the parts);
    - each key whose theme has been split, unambiguously, into two or more of
      `codebook_row`'s themes → the keys of those parts, sorted.

    Three queries."""
    own, outcomes = _descendants(codebook_row)
    mapping = {key: key for key in own}
    parts: dict[str, list[str]] = {}
    for key, found in outcomes.items():
        if len(found) == 1:
            (becomes,) = found
            if len(becomes) == 1:
                (mapping[key],) = becomes
            elif len(becomes) > 1:
                parts[key] = sorted(becomes)
    return mapping, parts


def training_key_map(codebook_row: CodebookVersion) -> dict[str, str]:
    """`key_changes`' mapping of keys."""
    return key_changes(codebook_row)[0]
