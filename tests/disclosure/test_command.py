"""``manage.py disclosure_check``: JSON lines in, JSON lines out, bad input refused whole."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from apps.disclosure import allowlist

from .test_corpora import DATA


@pytest.fixture(autouse=True)
def _fresh_allow_list():
    allowlist.reset_cache()
    yield
    allowlist.reset_cache()


def run(*args: str, stdin: str | None = None) -> list[dict]:
    out = io.StringIO()
    kwargs = {"stdout": out}
    if stdin is not None:
        kwargs["stdin"] = io.StringIO(stdin)
    call_command("disclosure_check", *args, **kwargs)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def lines(*items: object) -> str:
    return "".join(json.dumps(item, ensure_ascii=False) + "\n" for item in items)


@pytest.mark.django_db
def test_each_line_gets_its_hits(tmp_path, reference_data):
    source = tmp_path / "texts.jsonl"
    source.write_text(
        lines(
            {"id": "a", "text": "Officers spoke to Aisha Khan at 12 Acacia Avenue.", "x": 1},
            {"id": 7, "text": "Cumbria Constabulary met the chief constable."},
            {"id": None, "text": ""},
        )
        + "\n",
        encoding="utf-8",
    )
    assert run(str(source)) == [
        {
            "id": "a",
            "hits": [
                {"type": "PERSON", "start": 18, "end": 28, "text": "Aisha Khan"},
                {"type": "ADDRESS", "start": 32, "end": 48, "text": "12 Acacia Avenue"},
            ],
        },
        {"id": 7, "hits": []},
        {"id": None, "hits": []},
    ]


def test_standard_input_and_allow():
    text = "Inspector Wendy Hughes met Megan Jones in Caerdydd."
    [result] = run("-", stdin=lines({"id": "w", "text": text}))
    assert [h["text"] for h in result["hits"]] == ["Wendy Hughes", "Megan Jones"]
    [allowed] = run(
        "-",
        "--allow",
        "Wendy Hughes",
        "--allow",
        "Megan Jones",
        stdin=lines({"id": "w", "text": text}),
    )
    assert allowed == {"id": "w", "hits": []}


def test_output_keys_and_non_ascii(tmp_path):
    source = tmp_path / "cy.jsonl"
    source.write_text(lines({"id": "cy", "text": "Siaradodd swyddogion â Cerys Llewellyn."}))
    out = io.StringIO()
    call_command("disclosure_check", str(source), stdout=out)
    assert "Cerys Llewellyn" in out.getvalue()  # not escaped
    [result] = [json.loads(line) for line in out.getvalue().splitlines()]
    assert list(result) == ["id", "hits"]
    assert all(list(hit) == ["type", "start", "end", "text"] for hit in result["hits"])
    text = "Siaradodd swyddogion â Cerys Llewellyn."
    assert all(text[h["start"] : h["end"]] == h["text"] for h in result["hits"])


def test_the_planted_corpus_through_the_command():
    results = run(str(DATA / "planted.jsonl"))
    assert len(results) == sum(1 for line in (DATA / "planted.jsonl").open() if line.strip())
    assert all(result["hits"] for result in results)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"id": 1, "text": "fine"}\nnot json\n', r"line 2: not valid JSON"),
        ('{"id": 1, "text": "fine"}\n{"text": "no id"}\n', r'line 2: missing "id"'),
        ('{"id": 1}\n', r'line 1: missing "text"'),
        ("{}\n", r'line 1: missing "id" and "text"'),
        ('{"id": 1, "text": 5}\n', r'line 1: "text" is a number, not a string'),
        ('{"id": 1, "text": null}\n', r'line 1: "text" is null, not a string'),
        ('{"id": 1, "text": ["a"]}\n', r'line 1: "text" is a list, not a string'),
        ('{"id": {"a": 1}, "text": "x"}\n', r'line 1: "id" is an object, not a value'),
        ('["id", "text"]\n', r'line 1: not a JSON object with "id" and "text"'),
    ],
)
def test_bad_input_names_the_line_and_prints_nothing(tmp_path, content, message):
    source = tmp_path / "bad.jsonl"
    source.write_text(content, encoding="utf-8")
    out = io.StringIO()
    with pytest.raises(CommandError, match=message):
        call_command("disclosure_check", str(source), stdout=out)
    assert out.getvalue() == ""


def test_every_bad_line_is_listed(tmp_path):
    source = tmp_path / "bad.jsonl"
    good = lines({"id": "ok", "text": "Megan Jones"})
    source.write_text(good + "nope\n" + good + '{"id": 3}\n' + "[]\n" * 30, encoding="utf-8")
    out = io.StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("disclosure_check", str(source), stdout=out)
    message = str(raised.value)
    assert "32 bad line(s), nothing checked" in message
    assert "line 2: not valid JSON" in message
    assert 'line 4: missing "text"' in message
    assert "... and 12 more" in message
    assert out.getvalue() == ""


def test_missing_and_unreadable_files(tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        call_command("disclosure_check", str(tmp_path / "absent.jsonl"))
    latin = tmp_path / "latin1.jsonl"
    latin.write_bytes('{"id": 1, "text": "Caf\xe9"}\n'.encode("latin-1"))
    with pytest.raises(CommandError, match="not UTF-8"):
        call_command("disclosure_check", str(latin))
    with pytest.raises(CommandError, match="cannot read it"):
        call_command("disclosure_check", str(tmp_path))


def test_an_empty_file_prints_nothing(tmp_path):
    source = tmp_path / "empty.jsonl"
    source.write_text("\n\n", encoding="utf-8")
    assert run(str(source)) == []
