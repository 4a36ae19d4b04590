"""Coded statements as JSON lines: the shipped training set, and gold files to evaluate on.

Each line is an object with at least "text" and "themes" (codebook ids); "kind", "stage"
and "report_title" are kept when present, and any other field is ignored. The whole file is
checked before anything is used: every problem is listed by line number.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from .codebook import Codebook

MAX_PROBLEMS_SHOWN = 20


class CorpusError(ValueError):
    pass


@dataclass(frozen=True)
class CodedStatement:
    text: str
    themes: tuple[str, ...]
    kind: str = ""
    stage: str = ""
    report_title: str = ""


def training_path() -> Path:
    return Path(settings.BASE_DIR) / "data" / "themes" / "training_statements.jsonl"


def normalised(text: str) -> str:
    """The text as compared for "the same statement": case and spacing do not count."""
    return " ".join(text.lower().split())


def read_coded(path: Path, codebook: Codebook) -> list[CodedStatement]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise CorpusError(f"{path}: no such file") from None
    except UnicodeDecodeError as error:
        raise CorpusError(f"{path}: not UTF-8 text ({error.reason})") from None
    known = set(codebook.ids)
    statements: list[CodedStatement] = []
    problems: list[str] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as error:
            problems.append(f"line {number}: not JSON ({error.msg})")
            continue
        if not isinstance(item, dict):
            problems.append(f"line {number}: expected a JSON object")
            continue
        text = item.get("text")
        themes = item.get("themes")
        if not isinstance(text, str) or not text.strip():
            problems.append(f'line {number}: "text" must be a non-empty string')
            continue
        if not isinstance(themes, list) or not all(isinstance(t, str) for t in themes):
            problems.append(f'line {number}: "themes" must be a list of theme ids')
            continue
        unknown = sorted(set(themes) - known)
        if unknown:
            problems.append(
                f"line {number}: theme{'s' if len(unknown) > 1 else ''} not in codebook "
                f"version {codebook.version}: {', '.join(unknown)}"
            )
            continue
        statements.append(
            CodedStatement(
                text=" ".join(text.split()),
                themes=tuple(dict.fromkeys(themes)),
                kind=str(item.get("kind") or ""),
                stage=str(item.get("stage") or ""),
                report_title=str(item.get("report_title") or ""),
            )
        )
    if problems:
        shown = problems[:MAX_PROBLEMS_SHOWN]
        more = len(problems) - len(shown)
        raise CorpusError(
            f"{path}: {len(problems)} problem{'s' if len(problems) > 1 else ''}:\n  "
            + "\n  ".join(shown)
            + (f"\n  ... and {more} more" if more else "")
        )
    if not statements:
        raise CorpusError(f"{path}: no statements")
    return statements
