"""Discovery: candidate new themes among the statements that fit no theme of the codebook
well (ADR 18's corpus and classifier).

The pure part, `cluster`, groups sentence embeddings and names each group by its
distinctive words; the database part, `poorly_fitting` and `discover`, picks the statements
that no person has coded and that the classifier could not place with confidence, clusters
them and returns each cluster with its most representative statements. `discovered` is the
same result kept in the cache until the coding (or the inspections) change.

Like coding.py this module imports numpy and scikit-learn: pages import it only when asked.
"""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import scipy.sparse as sp
from django.db.models import Count, Max, Q, QuerySet
from sklearn.cluster import AgglomerativeClustering
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

from apps.core.cache import cached_read

from . import selectors
from .archive import REPORT_PHRASING, singular
from .classifier import unit_rows
from .coding import embed_cached
from .models import CodebookVersion, Statement, ThemeCode

logger = logging.getLogger(__name__)

# Clustering ---------------------------------------------------------------------------------
#
# Why complete-linkage agglomerative clustering with a cosine distance threshold, not
# HDBSCAN: both were tried on a realistic stand-in for the statements that fit no theme well
# (the shipped training statements of three themes held out as "new" themes, mixed with 200
# statements of the other thirteen; four such mixes, 350 to 400 statements each). On the
# 384-dimensional embeddings sklearn.cluster.HDBSCAN (min_cluster_size 4) left 74% of the
# statements unclustered and made clusters only 31% of one theme; with min_samples 2, 44%
# unclustered and 36%; its "leaf" selection was purer (56 to 61%) but clustered 12 to 37%.
# It wants a reduction such as UMAP first, which is neither in scikit-learn nor
# deterministic. Complete linkage at a cosine distance of 0.6 clustered 59% of the
# statements, its clusters 61% of one theme, and put 36% of the held-out themes' statements
# in clusters at least 75% that theme (HDBSCAN's best: 26%); average linkage came close (at
# 0.55: 68% clustered, 53% of one theme) but by chaining looser groups. Complete linkage also
# promises something plain: any two statements of a cluster are at least 0.4 alike (cosine
# similarity), so a cluster never drifts from one subject to another. It needs no number of
# clusters, has no random start, and with the terms takes under a second for 3,000
# statements on this machine's two cores. Groups smaller than `min_size` stay unclustered
# (the noise).
MAX_DISTANCE = 0.6
MIN_SIZE = 4

# Distinctive terms --------------------------------------------------------------------------
TOP_TERMS = 8
# A word in more than this share of the statements says nothing about any one cluster (in
# a corpus of child protection findings "children" may be such a word): it is dropped, and
# with it every pair of words it is part of. Applied from this many statements on.
NEARLY_EVERY = 0.8
NEARLY_EVERY_FROM = 10
# A term must occur in at least two of a cluster's statements: one long statement's words
# are not what its cluster shares.
MIN_TERM_STATEMENTS = 2
# Letters only (numbers and single letters are not terms); stop words are scikit-learn's
# English list, and the reports' own phrasing that every kind of statement shares
# (archive.REPORT_PHRASING: "We recommend that the force makes sure...", "Officers did
# not..."), which otherwise named clusters of recommendations "Sure and force". A pair of
# words is two words next to each other in the statement, neither a stop word. BERTopic's
# CountVectorizer removes the stop words first and pairs what is left, which made pairs no
# statement says: "risks to children" gave "risks children", and a cluster was named "Risks
# children".
WORD_PATTERN = r"(?u)\b[^\W\d_][^\W\d_]+\b"


@dataclass(frozen=True)
class Term:
    term: str
    score: float


@dataclass(frozen=True)
class Cluster:
    """A group of statements close in meaning: indices into the texts clustered, the closest
    to the group's centre first; how alike they are (mean cosine similarity to the centre);
    and the words that set them apart from the rest, most distinctive first."""

    members: tuple[int, ...]
    cohesion: float
    terms: tuple[Term, ...]

    @property
    def size(self) -> int:
        return len(self.members)

    @property
    def name(self) -> str:
        """A working name from its two most distinctive terms (see working_name)."""
        return working_name(self.terms)


def _joined(a: list[str], b: list[str]) -> list[str] | None:
    """One term standing for both, if there is one: the one that contains the other
    (singular or plural: "sex offender" and "offenders"), or the two chained ("female
    genital" and "genital mutilation")."""
    a_words, b_words = {singular(w) for w in a}, {singular(w) for w in b}
    if b_words <= a_words:
        return a
    if a_words <= b_words:
        return b
    if singular(a[-1]) == singular(b[0]):
        return a + b[1:]
    if singular(b[-1]) == singular(a[0]):
        return b + a[1:]
    return None


def working_name(terms: Sequence[Term]) -> str:
    """The two most distinctive terms, "First and second", capitalised. Going through the
    terms strongest first, a term that is part of a chosen one, contains it or chains onto
    it is joined to it ("forced marriage" takes in "marriage"; "female genital" and "genital
    mutilation" make "female genital mutilation"); any other is chosen while fewer than two
    are."""
    chosen: list[list[str]] = []
    for term in terms:
        words = term.term.split()
        for n, c in enumerate(chosen):
            joined = _joined(c, words)
            if joined is not None:
                chosen[n] = joined
                break
        else:
            if len(chosen) < 2:
                chosen.append(words)
            continue
        # The grown term may now take in the other one.
        both = _joined(chosen[0], chosen[1]) if len(chosen) == 2 else None
        if both is not None:
            chosen = [both]
    if not chosen:
        return "Unnamed cluster"
    name = " and ".join(" ".join(c) for c in chosen)
    return name[0].upper() + name[1:]


def _labels(vectors: np.ndarray, max_distance: float) -> np.ndarray:
    return AgglomerativeClustering(
        n_clusters=None,
        metric="cosine",
        linkage="complete",
        distance_threshold=max_distance,
    ).fit_predict(vectors)


def _words_and_pairs(stop: set[str]) -> Callable[[str], list[str]]:
    """A text's terms: its words that are not in `stop`, and each two such words that are
    next to each other in it, with no punctuation or number between them."""
    word = re.compile(WORD_PATTERN)
    # Punctuation and numbers part words as stop words do: "are late. Children wait" and
    # "Section 47 enquiries" make no pair.
    breaks = re.compile(r"[^\w\s'\u2019-]|[\d_]+")

    def terms(text: str) -> list[str]:
        kept: list[str] = []
        for run in breaks.split(text.lower()):
            kept += [w if w not in stop else "" for w in word.findall(run)]
            kept.append("")
        return [w for w in kept if w] + [f"{a} {b}" for a, b in itertools.pairwise(kept) if a and b]

    return terms


def _vocabulary(texts: Sequence[str]) -> tuple[sp.csr_matrix, np.ndarray]:
    """Each text's counts of words and pairs of words, and the terms: stop words, and words
    in nearly every statement, are neither terms nor part of a pair."""
    stop = set(ENGLISH_STOP_WORDS | REPORT_PHRASING)
    empty = sp.csr_matrix((len(texts), 0), dtype=np.int64), np.array([], dtype=str)
    try:
        if len(texts) >= NEARLY_EVERY_FROM:
            words = CountVectorizer(stop_words=sorted(stop), token_pattern=WORD_PATTERN)
            present = words.fit_transform(texts) > 0
            share = np.asarray(present.sum(axis=0)).ravel() / len(texts)
            stop |= set(words.get_feature_names_out()[share > NEARLY_EVERY])
        vectorizer = CountVectorizer(analyzer=_words_and_pairs(stop))
        counts = vectorizer.fit_transform(texts)
    except ValueError:  # nothing left but stop words, numbers and single letters
        return empty
    return sp.csr_matrix(counts), vectorizer.get_feature_names_out()


def class_tfidf(counts: sp.csr_matrix, classes: np.ndarray, n_classes: int) -> np.ndarray:
    """c-TF-IDF as BERTopic computes it (ClassTfidfTransformer with reduce_frequent_words):
    the statements of each class joined into one document; the square root of a term's
    frequency in it (L1-normalised) times log(1 + A / f), A the average number of words a
    class, f the term's frequency over all classes. One row a class. The square root keeps
    a cluster's commonest words ("children") from outranking the words only it uses
    ("arresting", "overnight")."""
    indicator = sp.csr_matrix(
        (np.ones(len(classes)), (classes, np.arange(len(classes)))),
        shape=(n_classes, len(classes)),
    )
    per_class = np.asarray((indicator @ counts).todense(), dtype=np.float64)
    frequency = per_class.sum(axis=0)
    words = per_class.sum(axis=1)
    average = int(words[words > 0].mean()) if words.any() else 0  # over classes with words
    idf = np.log(average / np.where(frequency == 0, 1, frequency) + 1)
    totals = per_class.sum(axis=1, keepdims=True)
    tf = per_class / np.where(totals == 0, 1, totals)
    return np.asarray(np.sqrt(tf) * idf)


def cluster(
    texts: Sequence[str],
    vectors: np.ndarray,
    *,
    min_size: int = MIN_SIZE,
    max_distance: float = MAX_DISTANCE,
    top_terms: int = TOP_TERMS,
    keep_terms: Callable[[Sequence[str]], set[str]] | None = None,
) -> list[Cluster]:
    """The clusters of `texts` (their sentence embeddings `vectors`, one row each), largest
    first: groups of at least `min_size` statements any two of which are within
    `max_distance` cosine distance; the rest stay unclustered. Each named by its `top_terms`
    c-TF-IDF terms against every other statement clustered or not; with `keep_terms` (which
    of the terms given it may name a cluster: `noun_phrases`, say), only those, unless it
    keeps none of a cluster's. The same input always gives the same clusters, in the same
    order."""
    vectors = np.asarray(vectors, dtype=np.float64)
    if vectors.ndim != 2 or vectors.shape[0] != len(texts):
        raise ValueError(
            f"Expected one vector a text: {len(texts)} texts, vectors of shape {vectors.shape}."
        )
    if min_size < 2:
        raise ValueError("min_size: a cluster has at least two statements.")
    if not 0 < max_distance < 2:
        raise ValueError("max_distance: a cosine distance between 0 and 2.")
    if len(texts) < min_size:
        return []
    vectors = unit_rows(vectors)
    labels = _labels(vectors, max_distance)
    groups = [np.flatnonzero(labels == label) for label in np.unique(labels)]
    groups = [g for g in groups if len(g) >= min_size]
    if not groups:
        return []

    shaped: list[tuple[np.ndarray, float]] = []
    for members in groups:
        centre = vectors[members].mean(axis=0)
        centre /= np.linalg.norm(centre) or 1.0
        closeness = vectors[members] @ centre
        order = np.lexsort((members, -np.round(closeness, 6)))
        shaped.append((members[order], float(closeness.mean())))
    shaped.sort(key=lambda g: (-len(g[0]), -round(g[1], 6), int(g[0].min())))

    # Class n for the n-th cluster, and one last class for every statement left unclustered,
    # so that a cluster's terms are those that set it apart from all the others.
    classes = np.full(len(texts), len(shaped), dtype=np.int64)
    for n, (members, _) in enumerate(shaped):
        classes[members] = n
    counts, vocabulary = _vocabulary(texts)
    scores = class_tfidf(counts, classes, len(shaped) + 1)
    present = (counts > 0).astype(np.int64)

    candidates: list[list[int]] = []
    for n, (members, _) in enumerate(shaped):
        row = scores[n]
        shared = np.asarray(present[members].sum(axis=0)).ravel() >= MIN_TERM_STATEMENTS
        # Highest score first; ties in the terms' alphabetical order.
        order = np.lexsort((vocabulary, -np.round(row, 9)))
        candidates.append([int(j) for j in order if row[j] > 0 and shared[j]][: top_terms * 4])
    if keep_terms is not None:
        kept = keep_terms(sorted({str(vocabulary[j]) for c in candidates for j in c}))
        candidates = [[j for j in c if vocabulary[j] in kept] or c for c in candidates]
    return [
        Cluster(
            members=tuple(int(i) for i in members),
            cohesion=round(cohesion, 4),
            terms=tuple(
                Term(str(vocabulary[j]), round(float(scores[n][j]), 4))
                for j in candidates[n][:top_terms]
            ),
        )
        for n, (members, cohesion) in enumerate(shaped)
    ]


# Which terms may name a cluster -------------------------------------------------------------
#
# c-TF-IDF finds the words a cluster uses more than the rest, but many are not what it is
# about: adverbs and verbs ("consistently", "includes", "improved considerably", "went
# missing") named clusters "Harm and consistently". Keeping only noun phrases (a noun, after
# nouns or adjectives: "safety planning", "sex offenders", "strip searches") was tried on
# the same stand-in as the clustering above: "Harm and consistently" became "Harm and
# supervisors", "Supervisors rarely recorded and assessments completed" became "Supervisors
# and child protection investigations", "Went missing and safety planning" became "Safety
# planning and episodes". The terms are tagged on their own, not in their statements: a
# few hundred short terms take a tenth of a second, where tagging 3,000 statements took six
# seconds on this machine. The tagger is spaCy's small English model, the one the disclosure
# check uses (its weights checked the same way), without its parser and entity recogniser;
# it loads once a process, the first time there are clusters to name (about 6 s on this
# machine, the spaCy import included).
NOUN_TAGS = frozenset({"NOUN", "PROPN"})
BEFORE_A_NOUN_TAGS = NOUN_TAGS | {"ADJ"}
# SHA-256 of the files that shape the tags (the wheel is hash-locked too).
TAGGER_SHA256 = {
    "config.cfg": "65c545ca2da5bd4b87b22d4917318605360b37dee6ed6b18516a036f87319f79",
    "tokenizer": "b014e8bba4958b120af2d0c1c63eabb7c00379f2bacaf10df7c5325efd2ea467",
    "vocab/strings.json": "b1966d1f07a05b68576df07f43f40203b4e11124ad82cc839e8312ad8d7fdae7",
    "tok2vec/cfg": "f8a5a26e3056eb6fb06deeb3dbccfd88ae74900200c98c70b5966bbb7ec9d4de",
    "tok2vec/model": "e84fc06eb319c94d28e460fc334e292120b01f18baa5dc8b50c977459820a090",
    "tagger/cfg": "d484c3d9391f37bf9c727aa2eb4c477a24cb103020f95e52dc37842818b50118",
    "tagger/model": "1ec3d93f38cebe172f2b5c89d84be72856ce42c8f1a64f1699f1d98a771f36b7",
    "attribute_ruler/patterns": "f8b97f7ebef9b8536bba5f0fc1e73af6183563e96e2325bcbb021b8c6dbc6683",
}


@lru_cache(maxsize=1)
def _tagger() -> Any:
    import spacy

    from apps.disclosure.engine import verify_model

    directory = verify_model(expected=TAGGER_SHA256, purpose="name discovery's clusters")
    return spacy.load(directory, exclude=["parser", "ner", "lemmatizer", "senter"])


def _naming_filter() -> Callable[[Sequence[str]], set[str]] | None:
    """`noun_phrases`, or None (every term may name a cluster) if the tagger cannot be
    loaded: the clusters are still worth showing, with weaker names."""
    from apps.disclosure.engine import ModelIntegrityError

    try:
        _tagger()
    except (ModelIntegrityError, OSError, ImportError) as error:
        logger.warning("Discovery names clusters by all their terms: no tagger (%s)", error)
        return None
    return noun_phrases


def _naming_terms(terms: Sequence[str]) -> set[str]:
    """The terms that may name a cluster: its noun phrases, or all of them without a tagger.
    Called only when there are clusters to name, so the tagger is loaded only then."""
    keep = _naming_filter()
    return keep(terms) if keep is not None else set(terms)


def noun_phrases(terms: Sequence[str]) -> set[str]:
    """The terms that are noun phrases: the last word a noun, any before it nouns or
    adjectives, each term tagged on its own."""
    kept = set()
    for term, doc in zip(terms, _tagger().pipe(list(terms), batch_size=256), strict=True):
        tags = [token.pos_ for token in doc]
        if tags and tags[-1] in NOUN_TAGS and all(t in BEFORE_A_NOUN_TAGS for t in tags[:-1]):
            kept.add(term)
    return kept


# The statements that fit no theme well -------------------------------------------------------

# A statement fits no theme well when the likeliest theme the classifier suggests has a
# probability under 0.5. The classifier (classifier.py) suggests each theme whose probability
# reaches that theme's threshold, and always the likeliest theme, even below its threshold.
# Each theme's threshold (ClassifierVersion.thresholds) is chosen by F1 between 0.2 and 0.85,
# 0.5 where a theme has too few examples (classifier.DEFAULT_THRESHOLD); those of the
# classifier trained on the shipped statements run from 0.40 to 0.65, median 0.5, and 11 of
# the 16 are 0.5 or more. Under 0.5 the likeliest theme is below most themes' thresholds
# (it was suggested only because every statement gets one), and the models behind the
# probability, trained with balanced classes, find it no likelier the statement's theme
# than not.
LOW_FIT = 0.5
LIMIT = 3000
REPRESENTATIVES = 5


def _top_suggestion() -> Max:
    latest = CodebookVersion.objects.order_by("-number").values("pk")[:1]
    return Max(
        "codes__confidence",
        filter=Q(
            codes__status=ThemeCode.Status.SUGGESTED,
            codes__theme__codebook__in=latest,
        ),
    )


def _poorly_fitting() -> QuerySet[Statement]:
    """The coding corpus's statements no person has decided whose likeliest current
    suggestion is under LOW_FIT (statements the classifier has not scored are left out: it
    has not said they fit nothing)."""
    # The classifier's suggestions (not the placeholders a codebook split leaves for people).
    suggested = selectors.current_codes().filter(
        status=ThemeCode.Status.SUGGESTED, classifier__isnull=False
    )
    return (
        selectors.coding_corpus()
        .exclude(pk__in=selectors.decided_statement_ids())
        .filter(pk__in=suggested.values("statement_id"))
        .exclude(pk__in=suggested.filter(confidence__gte=LOW_FIT).values("statement_id"))
    )


def poorly_fitting(limit: int = LIMIT) -> list[Statement]:
    """The statements that fit no theme well, least fitting first (the lowest confidence of
    the likeliest theme; then oldest), at most `limit`. Each has `top`, that confidence."""
    return list(
        _poorly_fitting()
        .annotate(top=_top_suggestion())
        .only(
            "id",
            "text",
            "kind",
            "report_title",
            "year",
            "inspection_id",
            "archive_report_id",
        )
        .order_by("top", "id")[:limit]
    )


@dataclass(frozen=True)
class Representative:
    pk: int
    text: str
    kind_label: str
    report_title: str
    year: int | None


@dataclass(frozen=True)
class FoundCluster:
    name: str
    size: int
    reports: int
    cohesion: float
    terms: tuple[Term, ...]
    statements: tuple[Representative, ...]  # the most representative first


@dataclass(frozen=True)
class DiscoveryResult:
    poorly_fitting: int  # every statement that fits no theme well
    reports: int  # the reports they come from
    clustered_from: int  # the least fitting of them, at most `limit`, that were clustered
    limit: int
    unclustered: int  # of those clustered, the statements in no cluster
    clusters: tuple[FoundCluster, ...]  # largest first

    @property
    def capped(self) -> bool:
        return self.clustered_from < self.poorly_fitting


def _report(statement: Statement) -> tuple[str, int | None]:
    if statement.inspection_id is not None:
        return ("inspection", statement.inspection_id)
    return ("archive", statement.archive_report_id)


def discover(limit: int = LIMIT) -> DiscoveryResult:
    """The statements that fit no theme well (the `limit` least fitting), clustered; each
    cluster with its size, the reports it draws on, its terms and its most representative
    statements. Embeddings come from the database cache (only new text is embedded). A
    fixed number of queries (one more read of embeddings for each 2,000 statements)."""
    if limit < 1:
        raise ValueError("limit: at least one statement.")
    totals = _poorly_fitting().aggregate(
        statements=Count("pk"),
        inspections=Count("inspection", distinct=True),
        archive_reports=Count("archive_report", distinct=True),
    )
    chosen = poorly_fitting(limit)
    texts = [s.text for s in chosen]
    clusters = cluster(texts, embed_cached(texts), keep_terms=_naming_terms) if chosen else []
    found = tuple(
        FoundCluster(
            name=c.name,
            size=c.size,
            reports=len({_report(chosen[i]) for i in c.members}),
            cohesion=c.cohesion,
            terms=c.terms,
            statements=tuple(
                Representative(
                    pk=chosen[i].pk,
                    text=chosen[i].text,
                    kind_label=chosen[i].kind_label,
                    report_title=chosen[i].report_title,
                    year=chosen[i].year,
                )
                for i in c.members[:REPRESENTATIVES]
            ),
        )
        for c in clusters
    )
    return DiscoveryResult(
        poorly_fitting=totals["statements"],
        reports=totals["inspections"] + totals["archive_reports"],
        clustered_from=len(chosen),
        limit=limit,
        unclustered=len(chosen) - sum(c.size for c in found),
        clusters=found,
    )


# What it depends on: the codes (and the statements, which change with them) and the
# inspections, whose publication brings their findings into the corpus.
CACHED_ON = ("themes", "inspections")


def discovered(limit: int = LIMIT) -> DiscoveryResult:
    """`discover`, kept in the cache until the coding or the inspections change."""
    return cached_read(CACHED_ON, f"themes-discovery:{limit}", lambda: discover(limit))
