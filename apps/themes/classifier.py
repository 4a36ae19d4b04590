"""The theme classifier: multi-label, one pair of logistic regressions a theme.

Features (ADR 18): what the encoder gives the statement (all-MiniLM-L6-v2, see
embedding.py: its sentence embedding and the mean of an earlier layer, side by side) and
the TF-IDF of its character 2- to 5-grams within words. For each theme, one logistic
regression on each; the theme's probability is 0.7 x the embedding model's + 0.3 x the
TF-IDF model's. A statement gets every theme whose probability reaches that theme's
threshold, always its likeliest theme, and at most three: the codebook's rule is one to
three themes. Each theme's threshold is the one that maximised its F1 over five-fold
cross-validated probabilities on the training statements themselves.

Training statements: the codebook's own examples and the statements the project ships
(data/themes/training_statements.jsonl), plus any passed in (coded by people).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold
from threadpoolctl import threadpool_limits

from .codebook import Codebook
from .corpus import CodedStatement, normalised
from .embedding import MODEL_NAME, cores, features, precision
from .encoder import WORDING_LAYER

EMBEDDING_WEIGHT = 0.7
EMBEDDING_C = 4.0
TFIDF_C = 16.0
DEFAULT_THRESHOLD = 0.5
THRESHOLD_GRID = np.round(np.arange(0.2, 0.86, 0.05), 2)
MIN_POSITIVES_FOR_OWN_THRESHOLD = 8
MAX_THEMES = 3  # the codebook's rule (services.MAX_THEMES)
# Character n-grams within words, so that "supervisory" and "supervision", or "exploited"
# and "exploitation", share features (docs/themes.md: chosen, with the encoder's
# WORDING_LAYER, by cross-validation on the training statements).
CHARACTERS = (2, 5)
# The n-grams, the same for the final model's vectorizer and the folds' counts.
NGRAMS = {"analyzer": "char_wb", "ngram_range": CHARACTERS}
FOLDS = 5
SEED = 2026
# A shipped statement coded to a theme since split goes to the part it is nearest to by
# this much (cosine similarity to the parts' prototypes), else is left out. Measured on
# eight pairs of the codebook's themes, each treated as the parts of one split theme
# (the 1,019 shipped statements coded to just one of a pair): at 0.02, 95% are assigned
# and 91.5% of those to the right part; at 0 (all), 90%; at 0.05, 86% assigned, 94% right.
SPLIT_MARGIN = 0.02

# A theme's regression on the vectors and its regression on the n-grams (None for a theme
# that cannot be learnt), theme by theme.
_Models = tuple[list[LogisticRegression | None], list[LogisticRegression | None]]


def _regression(c: float, solver: str = "newton-cg") -> LogisticRegression:
    # newton-cg for the embeddings: their earlier layer's half is so correlated (all its
    # vectors alike) that lbfgs needs some twenty times as long to converge to the same fit.
    return LogisticRegression(C=c, max_iter=2000, class_weight="balanced", solver=solver)


@dataclass
class ThemeClassifier:
    theme_ids: list[str]
    vectorizer: TfidfVectorizer
    embedding_models: list[LogisticRegression | None]
    tfidf_models: list[LogisticRegression | None]
    thresholds: np.ndarray
    trained_on: int
    version: str
    quality: dict[str, float | int | None] = field(default_factory=dict)

    def probabilities(self, texts: Sequence[str], vectors: np.ndarray | None = None) -> np.ndarray:
        """Each text's probability of each theme; `vectors`: their `embedding.features`, if
        known."""
        texts = list(texts)
        return _probabilities(
            (self.embedding_models, self.tfidf_models),
            features(texts) if vectors is None else vectors,
            tfidf(self.vectorizer, texts),
        )

    def decide(self, probabilities: np.ndarray) -> np.ndarray:
        return decide(probabilities, self.thresholds)


def tfidf(vectorizer: TfidfVectorizer, texts: Sequence[str]) -> sparse.csr_array:
    """`vectorizer.transform(texts)`, the same matrix, about three times as fast: the
    character n-grams within words of a text are those of each of its words, so each
    distinct word is analysed once (scikit-learn analyses every word of every text: most of
    the time of coding statements whose embeddings are cached, docs/benchmarks.md)."""
    if vectorizer.analyzer != "char_wb" or vectorizer.binary:  # not the analysis below
        return vectorizer.transform(texts)
    # `_char_wb_ngrams` and `_tfidf` are scikit-learn's own (private) steps of `transform`;
    # tests/themes/test_model.py compares the result with `transform` itself.
    vocabulary = vectorizer.vocabulary_
    preprocess = vectorizer.build_preprocessor()
    by_word: dict[str, list[int]] = {}
    columns: list[int] = []
    rows = [0]
    for text in texts:
        # The analyser's own steps: decode, lowercase, split at whitespace.
        for word in preprocess(vectorizer.decode(text)).split():
            found = by_word.get(word)
            if found is None:
                grams = vectorizer._char_wb_ngrams(word)
                found = by_word[word] = [vocabulary[g] for g in grams if g in vocabulary]
            columns.extend(found)
        rows.append(len(columns))
    counts = sparse.csr_array(
        (np.ones(len(columns)), np.asarray(columns, dtype=np.int64), np.asarray(rows)),
        shape=(len(texts), len(vocabulary)),
    )
    counts.sum_duplicates()  # a word's n-gram counted as often as it occurs, indices sorted
    return vectorizer._tfidf.transform(counts, copy=False)


def decide(probabilities: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    chosen = (probabilities >= thresholds).astype(int)
    for i, row in enumerate(probabilities):
        chosen[i, int(np.argmax(row))] = 1
        if chosen[i].sum() > MAX_THEMES:
            keep = np.argsort(-row)[:MAX_THEMES]
            chosen[i] = 0
            chosen[i, keep] = 1
    return chosen


def theme_texts(name: str, covers: str, examples: Sequence[str]) -> list[str]:
    """What a theme says it is, as texts to embed: its name with what it covers, and each
    example."""
    return [f"{name}: {covers}", *examples]


def prototypes(
    texts_of: Sequence[Sequence[str]], embed_texts: Callable[[Sequence[str]], np.ndarray]
) -> np.ndarray:
    """One unit vector for each list of texts: the mean of their unit embeddings."""
    out = []
    for texts in texts_of:
        vectors = unit_rows(np.asarray(embed_texts(list(texts)), dtype=np.float64))
        out.append(vectors.mean(axis=0))
    return unit_rows(np.array(out).reshape(len(out), -1))


def nearest_parts(
    vectors: np.ndarray, part_prototypes: np.ndarray, margin: float = SPLIT_MARGIN
) -> list[int | None]:
    """For each vector, the index of the prototype it is nearest to (cosine), or None where
    the nearest is not `margin` nearer than the next: too close to call."""
    similarity = unit_rows(np.asarray(vectors, dtype=np.float64)) @ part_prototypes.T
    out: list[int | None] = []
    for row in similarity:
        order = np.argsort(-row, kind="stable")
        clear = len(row) == 1 or row[order[0]] - row[order[1]] >= margin
        out.append(int(order[0]) if clear else None)
    return out


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    """Each row scaled to length 1 (a row of zeros left as it is)."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms == 0, 1, norms)


def label_matrix(statements: Sequence[CodedStatement], theme_ids: list[str]) -> np.ndarray:
    return np.array(
        [[theme in s.themes for theme in theme_ids] for s in statements], dtype=int
    ).reshape(len(statements), len(theme_ids))


def codebook_statements(codebook: Codebook) -> list[CodedStatement]:
    return [
        CodedStatement(text=example, themes=(theme.id,))
        for theme in codebook.themes
        for example in theme.examples
    ]


def training_set(
    candidates: Sequence[CodedStatement], held_out: Sequence[CodedStatement]
) -> list[CodedStatement]:
    """`candidates` without any statement of `held_out` (the same text, ignoring case and
    spacing) or from a report `held_out` quotes (the same report title): so a model is never
    measured on what it learnt from, nor on reports it has seen."""
    texts = {normalised(s.text) for s in held_out}
    reports = {s.report_title for s in held_out if s.report_title}
    return [
        s for s in candidates if normalised(s.text) not in texts and s.report_title not in reports
    ]


def _fit_all(
    vectors: np.ndarray, texts: list[str], labels: np.ndarray
) -> tuple[TfidfVectorizer, _Models]:
    """The TF-IDF vectorizer fitted on `texts`, and the regressions."""
    vectorizer = TfidfVectorizer(**NGRAMS, sublinear_tf=True)
    return vectorizer, _fit(vectors, vectorizer.fit_transform(texts), labels)


def _fit(vectors: np.ndarray, grams: sparse.csr_matrix, labels: np.ndarray) -> _Models:
    """One regression a theme on the vectors, one on the n-grams' TF-IDF (`grams`)."""
    embedding_models: list[LogisticRegression | None] = []
    tfidf_models: list[LogisticRegression | None] = []
    for j in range(labels.shape[1]):
        column = labels[:, j]
        if column.min() == column.max():  # no positives (or nothing else): cannot learn it
            embedding_models.append(None)
            tfidf_models.append(None)
            continue
        embedding_models.append(_regression(EMBEDDING_C).fit(vectors, column))
        tfidf_models.append(_regression(TFIDF_C, "liblinear").fit(grams, column))
    return embedding_models, tfidf_models


def _probabilities(models: _Models, vectors: np.ndarray, grams: sparse.csr_matrix) -> np.ndarray:
    out = np.zeros((vectors.shape[0], len(models[0])))
    for j, (by_meaning, by_words) in enumerate(zip(*models, strict=True)):
        if by_meaning is None or by_words is None:
            continue
        out[:, j] = (
            EMBEDDING_WEIGHT * by_meaning.predict_proba(vectors)[:, 1]
            + (1 - EMBEDDING_WEIGHT) * by_words.predict_proba(grams)[:, 1]
        )
    return out


def _f1(truth: np.ndarray, chosen: np.ndarray) -> float:
    tp = int((truth & chosen).sum())
    denominator = int(truth.sum() + chosen.sum())
    return 2 * tp / denominator if denominator else 0.0


def _out_of_fold(
    vectors: np.ndarray, texts: list[str], labels: np.ndarray, pool: Executor
) -> np.ndarray:
    """Each training statement's probabilities from the model trained on the other folds.

    Every text's n-grams are counted once. A fold's TF-IDF is then that of a vectorizer
    fitted on the fold's training texts alone (its vocabulary the n-grams they contain, its
    IDF from them), without analysing every text again for each fold."""
    counts = CountVectorizer(**NGRAMS).fit_transform(texts)
    out_of_fold = np.zeros(labels.shape)
    folds = list(KFold(FOLDS, shuffle=True, random_state=SEED).split(vectors))

    def fold(train: np.ndarray, test: np.ndarray) -> np.ndarray:
        training = counts[train]
        seen = np.flatnonzero(training.getnnz(axis=0))
        weights = TfidfTransformer(sublinear_tf=True)
        models = _fit(vectors[train], weights.fit_transform(training[:, seen]), labels[train])
        return _probabilities(models, vectors[test], weights.transform(counts[test][:, seen]))

    for (_, test), probabilities in zip(folds, pool.map(lambda f: fold(*f), folds), strict=True):
        out_of_fold[test] = probabilities
    return out_of_fold


def _thresholds(labels: np.ndarray, out_of_fold: np.ndarray) -> np.ndarray:
    """Each theme's threshold: the one that maximises its F1 over the out-of-fold
    probabilities (DEFAULT_THRESHOLD for a theme with too few positives to choose one)."""
    thresholds = np.full(labels.shape[1], DEFAULT_THRESHOLD)
    for j in range(labels.shape[1]):
        if labels[:, j].sum() < MIN_POSITIVES_FOR_OWN_THRESHOLD:
            continue
        scores = [_f1(labels[:, j], (out_of_fold[:, j] >= t).astype(int)) for t in THRESHOLD_GRID]
        thresholds[j] = float(THRESHOLD_GRID[int(np.argmax(scores))])
    return thresholds


def macro_f1(truth: np.ndarray, chosen: np.ndarray) -> float | None:
    """The mean F1 over the themes that occur in `truth`; None if none does."""
    scores = [_f1(truth[:, j], chosen[:, j]) for j in range(truth.shape[1]) if truth[:, j].any()]
    return round(float(np.mean(scores)), 4) if scores else None


def training_version(statements: Sequence[CodedStatement], codebook: Codebook) -> str:
    """What the model learnt from, as a short digest: the same statements, codebook,
    embedding model and settings always give the same version."""
    digest = hashlib.sha256()
    digest.update(
        json.dumps(
            {
                "codebook": codebook.version,
                "themes": codebook.ids,
                "model": MODEL_NAME,
                "precision": precision(),
                "settings": [
                    EMBEDDING_WEIGHT,
                    EMBEDDING_C,
                    TFIDF_C,
                    "liblinear",
                    FOLDS,
                    SEED,
                    ["char_wb", *CHARACTERS],
                    ["wording layer", WORDING_LAYER],
                    "newton-cg",
                ],
            }
        ).encode()
    )
    for s in sorted(statements, key=lambda s: (s.text, s.themes)):
        digest.update(json.dumps([s.text, sorted(s.themes)]).encode())
    return digest.hexdigest()[:12]


def train(
    statements: Sequence[CodedStatement],
    codebook: Codebook,
    *,
    vectors: np.ndarray | None = None,
    people_from: int | None = None,
) -> ThemeClassifier:
    """The classifier trained on `statements` (`vectors`: their `embedding.features`, if
    known). Its `quality` is the cross-validated macro F1 over all of them, and over those
    from index `people_from` on (the statements people coded), if given: the same folds
    that chose the thresholds, so somewhat optimistic, but comparable from one version to
    the next."""
    if len(statements) < FOLDS * 2:
        raise ValueError(f"At least {FOLDS * 2} coded statements are needed to train.")
    theme_ids = codebook.ids
    texts = [s.text for s in statements]
    labels = label_matrix(statements, theme_ids)
    vectors = features(texts) if vectors is None else vectors
    # The five folds' models and the final one are independent: each core fits one at a
    # time, with one BLAS thread. BLAS's own idle threads would otherwise spin on the cores
    # between its products and slow liblinear, which runs in between, about threefold
    # (docs/benchmarks.md). liblinear and BLAS release the GIL, so threads suffice.
    with (
        threadpool_limits(limits=1, user_api="blas"),
        ThreadPoolExecutor(max_workers=min(cores(), FOLDS + 1)) as pool,
    ):
        final = pool.submit(_fit_all, vectors, texts, labels)
        out_of_fold = _out_of_fold(vectors, texts, labels, pool)
        vectorizer, (by_meaning, by_words) = final.result()
    thresholds = _thresholds(labels, out_of_fold)
    chosen = decide(out_of_fold, thresholds)
    quality: dict[str, float | int | None] = {"macro_f1": macro_f1(labels, chosen)}
    if people_from is not None and people_from < len(statements):
        quality["people_macro_f1"] = macro_f1(labels[people_from:], chosen[people_from:])
        quality["people"] = len(statements) - people_from
    return ThemeClassifier(
        theme_ids=theme_ids,
        vectorizer=vectorizer,
        embedding_models=by_meaning,
        tfidf_models=by_words,
        thresholds=thresholds,
        trained_on=len(statements),
        version=training_version(statements, codebook),
        quality=quality,
    )
