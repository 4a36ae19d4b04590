"""JSON lines input, read whole before anything is used: each line's object with its line
number, and every bad line's problem, so a command can refuse the whole file naming them."""

from __future__ import annotations

import json
from typing import Any

MAX_PROBLEMS_SHOWN = 20


def json_objects(
    content: str, *, expected: str = ""
) -> tuple[list[tuple[int, dict[str, Any]]], list[str]]:
    """(line number, object) of every non-blank line that is a JSON object, and a problem for
    each other line. `expected` describes the object in the message, e.g. ' with "text"'."""
    objects: list[tuple[int, dict[str, Any]]] = []
    problems: list[str] = []
    for number, line in enumerate(content.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as error:
            problems.append(f"line {number}: not valid JSON ({error.msg}, column {error.colno})")
            continue
        if not isinstance(item, dict):
            problems.append(f"line {number}: not a JSON object{expected}")
            continue
        objects.append((number, item))
    return objects, problems


def problems_shown(problems: list[str]) -> list[str]:
    """The first problems by line number ("line N: ..."), and how many more there are."""
    problems = sorted(problems, key=lambda p: int(p.split(":")[0].removeprefix("line ")))
    shown = problems[:MAX_PROBLEMS_SHOWN]
    more = len(problems) - len(shown)
    return shown + ([f"... and {more} more"] if more else [])
