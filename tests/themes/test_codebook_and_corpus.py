"""The codebook and coded-statement files: what ships loads, and bad input is refused naming
the theme, the field or the line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from apps.themes.codebook import CodebookError, load_codebook, parse_codebook
from apps.themes.corpus import CorpusError, normalised, read_coded, training_path

GOOD = {
    "version": 1,
    "themes": [
        {"id": "a_theme", "name": "A", "covers": "Things", "examples": ["One  example."]},
        {"id": "b_theme", "name": "B", "covers": "Other things", "excludes": "Things"},
    ],
}


def test_the_shipped_codebook_and_training_statements_load():
    codebook = load_codebook()
    assert codebook.version == 1
    assert len(codebook.ids) == 16 and "voice_of_child" in codebook.ids
    assert all(theme.examples for theme in codebook.themes)
    statements = read_coded(training_path(), codebook)
    assert len(statements) == 714
    # Every theme is trained on, and no statement has more than three themes.
    assert {t for s in statements for t in s.themes} == set(codebook.ids)
    assert all(1 <= len(s.themes) <= 3 for s in statements)


def test_parse_normalises_spacing():
    codebook = parse_codebook(GOOD)
    assert codebook["a_theme"].examples == ("One example.",)
    assert codebook["b_theme"].excludes == "Things"


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda d: d.update(version=0), "'version' must be a whole number"),
        (lambda d: d.update(themes=[]), "'themes' must be a list"),
        (lambda d: d["themes"][1].update(id="a_theme"), "theme 'a_theme': the id is used twice"),
        (lambda d: d["themes"][0].update(id="Bad Id"), "theme 1: 'id' must be lower case"),
        (lambda d: d["themes"][1].pop("covers"), "theme 'b_theme': 'covers' is required"),
        (lambda d: d["themes"][0].update(examples="x"), "'examples' must be a list of texts"),
    ],
)
def test_a_bad_codebook_is_refused_naming_the_theme_and_field(change, message):
    data = json.loads(json.dumps(GOOD))
    change(data)
    with pytest.raises(CodebookError, match=message):
        parse_codebook(data)


def test_a_bad_coded_file_lists_every_problem_by_line(tmp_path: Path):
    codebook = parse_codebook(GOOD)
    path = tmp_path / "gold.jsonl"
    path.write_text(
        "\n".join(
            [
                json.dumps({"text": "Fine.", "themes": ["a_theme"], "other": 1}),
                "not json",
                json.dumps({"text": "", "themes": ["a_theme"]}),
                json.dumps({"text": "Unknown.", "themes": ["a_theme", "nope"]}),
                "",
                json.dumps(["a list"]),
            ]
        ),
        encoding="utf-8",
    )
    with pytest.raises(CorpusError) as caught:
        read_coded(path, codebook)
    text = str(caught.value)
    assert "4 problems" in text
    assert "line 2: not valid JSON" in text
    assert 'line 3: "text" must be a non-empty string' in text
    assert "line 4: theme not in codebook version 1: nope" in text
    assert 'line 6: not a JSON object with "text" and "themes"' in text
    with pytest.raises(CorpusError, match="no such file"):
        read_coded(tmp_path / "missing.jsonl", codebook)


def test_same_statement_ignores_case_and_spacing():
    assert normalised("  The Force  has\ta plan ") == normalised("the force has a plan")


@pytest.mark.parametrize(
    "stage, words",
    [
        ("trusted_adult", "Trusted adults"),
        ("Trusted adults", "Trusted adults"),
        ("investigation", "Investigation"),
        ("leadership", "Leadership and management"),
        ("managing_risk", "Managing those posing a risk to children"),
        ("initial_response", "Initial contact"),
        ("child_sexual_abuse", "Child sexual abuse"),
        ("multi_agency_working", "Partnership working"),  # JICPA's
        ("partnership_working", "Partnership working"),  # the 2024 NCPI's
        ("protecting_children", "Managing those posing a risk to children"),  # a thematic's
        ("Workforce and training", "Workforce and training"),
        ("", ""),
    ],
)
def test_a_findings_stage_code_reads_as_the_import_names_that_stage(stage, words):
    from apps.themes.models import stage_words

    assert stage_words(stage) == words
