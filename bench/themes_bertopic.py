#!/usr/bin/env python
"""Side by side: our theme coding and BERTopic on the same corpus, for time and for
agreement with the coded development set.

    make bench-bertopic
    # or: .venv/bin/pip install --target var/bench-bertopic --no-deps bertopic==0.17.4 \\
    #         umap-learn pynndescent hdbscan numba llvmlite pandas plotly narwhals \\
    #         python-dateutil pytz tzdata
    #     PYTHONPATH=var/bench-bertopic .venv/bin/python bench/themes_bertopic.py \\
    #         [--statements 50000] [--dev ../shared/themes/dev_statements.jsonl]

BERTopic is installed only for this benchmark, in var/bench-bertopic (git-ignored), never in
the project's environment. The corpus is bench/themes_bench.py's (`--statements` made from
the shipped statements) plus the development set's statements. Both methods get the same
embeddings (all-MiniLM-L6-v2, computed once and timed on their own), so the times compare
the methods, not the encoder.

1. Ours: the classifier as `themes_evaluate` trains it (never on the development set);
   time to train, and to code the whole corpus from the embeddings; agreement on the
   development set.
2. BERTopic, unsupervised (UMAP, HDBSCAN, c-TF-IDF; fixed seed): time to fit the whole
   corpus; its topics are then named as an analyst would, by the themes of the shipped
   coded statements in each (a topic takes the most common theme among them; a topic with
   none of them, and the outliers, get no theme); agreement on the development set.
3. BERTopic, zero-shot: the codebook's themes (name and what each covers) as its zero-shot
   topic list (similarity threshold 0.3, hand-tuned once, not per run); each development
   statement takes the theme of its topic.

BERTopic gives each statement one topic, the codebook allows one to three themes: the
tables say so. Nothing here is a test: the figures are reported, not asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "inspectorate.settings.development")
os.environ["HF_HUB_OFFLINE"] = "1"
SEED = 2026


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--statements", type=int, default=50_000)
    parser.add_argument("--dev", default=str(ROOT.parent / "shared/themes/dev_statements.jsonl"))
    args = parser.parse_args()

    import django

    django.setup()
    import numpy as np

    try:
        from bertopic import BERTopic
    except ImportError:
        raise SystemExit("BERTopic is not installed: run `make bench-bertopic`.") from None
    from hdbscan import HDBSCAN
    from sklearn.feature_extraction.text import CountVectorizer
    from themes_bench import corpus
    from umap import UMAP

    from apps.themes import classifier as model
    from apps.themes.codebook import load_codebook
    from apps.themes.corpus import normalised, read_coded, training_path
    from apps.themes.embedding import embed, load_model
    from apps.themes.evaluation import scores

    codebook = load_codebook()
    ids = codebook.ids
    dev = read_coded(Path(args.dev), codebook)
    shipped = model.codebook_statements(codebook) + read_coded(training_path(), codebook)
    training = model.training_set(shipped, dev)
    dev_texts = {normalised(s.text) for s in dev}
    made = [t for t in corpus(args.statements, style="long") if normalised(t) not in dev_texts]
    # The whole corpus: the made statements, the shipped coded ones, then the development set.
    docs = made + [s.text for s in training] + [s.text for s in dev]
    first_training, first_dev = len(made), len(made) + len(training)
    truth = model.label_matrix(dev, ids)
    results: dict[str, dict[str, object]] = {}

    began = time.perf_counter()
    vectors = embed(docs)
    embedding_seconds = time.perf_counter() - began

    # Ours.
    began = time.perf_counter()
    ours = model.train(training, codebook, vectors=vectors[first_training:first_dev])
    trained = time.perf_counter() - began
    began = time.perf_counter()
    coded = ours.decide(ours.probabilities(docs, vectors))
    coding = time.perf_counter() - began
    results["ours"] = {
        "fit_seconds": round(trained, 1),
        "code_seconds": round(coding, 1),
        "themes_per_statement": round(float(coded.sum(axis=1).mean()), 2),
        **_agreement(scores(truth, coded[first_dev:], ids)),
    }

    def name_topics(topics: list[int]) -> dict[int, str]:
        votes: dict[int, Counter[str]] = {}
        for topic, statement in zip(topics[first_training:first_dev], training, strict=True):
            if topic != -1:
                votes.setdefault(topic, Counter()).update(statement.themes)
        return {topic: counts.most_common(1)[0][0] for topic, counts in votes.items()}

    def as_matrix(topics: list[int], names: dict[int, str]) -> np.ndarray:
        out = np.zeros((len(dev), len(ids)), dtype=int)
        for i, topic in enumerate(topics[first_dev:]):
            if topic in names:
                out[i, ids.index(names[topic])] = 1
        return out

    def fitted(**options: object) -> tuple[BERTopic, list[int], float]:
        topic_model = BERTopic(
            umap_model=UMAP(
                n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine", random_state=SEED
            ),
            hdbscan_model=HDBSCAN(
                min_cluster_size=30, metric="euclidean", cluster_selection_method="eom"
            ),
            vectorizer_model=CountVectorizer(stop_words="english", ngram_range=(1, 2), min_df=2),
            calculate_probabilities=False,
            # The same local model (for the zero-shot list; documents come embedded).
            embedding_model=load_model(),
            **options,
        )
        began = time.perf_counter()
        topics, _ = topic_model.fit_transform(docs, vectors)
        return topic_model, list(topics), time.perf_counter() - began

    topic_model, topics, seconds = fitted()
    names = name_topics(topics)
    results["bertopic"] = {
        "fit_seconds": round(seconds, 1),
        "topics": len(set(topics) - {-1}),
        "outliers": sum(1 for t in topics if t == -1),
        "topics_named": len(names),
        **_agreement(scores(truth, as_matrix(topics, names), ids)),
    }

    zero_shot = [f"{t.name}: {t.covers}" for t in codebook.themes]
    topic_model, topics, seconds = fitted(
        zeroshot_topic_list=zero_shot, zeroshot_min_similarity=0.3
    )
    labels = topic_model.get_topic_info().set_index("Topic")["Name"].to_dict()
    by_name = {f"{t.name}: {t.covers}": t.id for t in codebook.themes}
    zero_names = {topic: by_name[label] for topic, label in labels.items() if label in by_name}
    results["bertopic zero-shot"] = {
        "fit_seconds": round(seconds, 1),
        "topics": len(set(topics) - {-1}),
        "outliers": sum(1 for t in topics if t == -1),
        "topics_named": len(zero_names),
        **_agreement(scores(truth, as_matrix(topics, zero_names), ids)),
    }

    print(
        f"\n{len(docs):,} statements ({len(made):,} made, {len(training):,} shipped coded, "
        f"{len(dev)} development); embedding them: {embedding_seconds:.1f} s\n"
    )
    print("| method | fit (s) | code (s) | topics | macro F1 | micro F1 | kappa |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, r in results.items():
        print(
            f"| {name} | {r['fit_seconds']} | {r.get('code_seconds', '')} | "
            f"{r.get('topics', len(ids))} | {r['macro_f1']:.3f} | {r['micro_f1']:.3f} | "
            f"{r['cohen_kappa']:.3f} |"
        )
    out = ROOT / "bench" / "results" / f"themes-bertopic-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(
        json.dumps({"embedding_seconds": round(embedding_seconds, 1), **results}, indent=2)
    )
    print(f"\nJSON: {out.relative_to(ROOT)}")


def _agreement(found: dict[str, object]) -> dict[str, object]:
    return {k: found[k] for k in ("macro_f1", "micro_f1", "cohen_kappa")}


if __name__ == "__main__":
    main()
