"""Coded statements as JSON lines: the shipped training set, and gold files to evaluate on.

Each line is an object with at least "text" and "themes" (codebook ids); "kind", "stage"
and "report_title" are kept when present, and any other field is ignored. The whole file is
checked before anything is used: every problem is listed by line number.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from apps.core.jsonlines import json_objects, problems_shown

from .codebook import Codebook


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


def text_digest(text: str) -> str:
    """A text's SHA-256: the key of its statement and of its embedding."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


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
    objects, problems = json_objects("\n".join(lines), expected=' with "text" and "themes"')
    for number, item in objects:
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
        raise CorpusError(
            f"{path}: {len(problems)} problem{'s' if len(problems) > 1 else ''}:\n  "
            + "\n  ".join(problems_shown(problems))
        )
    if not statements:
        raise CorpusError(f"{path}: no statements")
    return statements
