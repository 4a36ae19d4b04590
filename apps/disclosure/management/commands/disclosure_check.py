"""``python manage.py disclosure_check FILE [--allow PHRASE ...]``

Reads JSON lines, each an object with "id" and "text" (other fields are ignored), and prints
one JSON line per item: ``{"id": ..., "hits": [{"type", "start", "end", "text"}, ...]}``,
offsets in characters into the item's text. FILE may be "-" for standard input. Blank lines
are skipped.

The whole input is checked before anything is scanned or printed: a line that is not JSON,
not an object, or lacks "id" or a string "text" stops the command with every such problem
listed by line number, and nothing is printed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, TextIO

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.core.jsonlines import json_objects, problems_shown
from apps.disclosure.engine import scan_many


class Command(BaseCommand):
    help = "Check texts (JSON lines with id and text) for personal identifiers before publication."
    stealth_options = ("stdin",)  # call_command(..., stdin=StringIO(...)) in tests

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help='JSON lines file of {"id", "text"} objects, or "-"')
        parser.add_argument(
            "--allow",
            action="append",
            default=[],
            metavar="PHRASE",
            help="a phrase legitimately in the texts (repeatable), e.g. the inspected force",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        items = read_items(options["file"], stdin=options.get("stdin") or sys.stdin)
        results = scan_many([text for _, text in items], allow=options["allow"])
        for (item_id, _), hits in zip(items, results, strict=True):
            line = {
                "id": item_id,
                "hits": [
                    {"type": h.type, "start": h.start, "end": h.end, "text": h.text} for h in hits
                ],
            }
            self.stdout.write(json.dumps(line, ensure_ascii=False))


def read_items(source: str, *, stdin: TextIO) -> list[tuple[Any, str]]:
    """The (id, text) of every line of ``source``, or CommandError listing every problem."""
    try:
        content = stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CommandError(f"{source}: no such file") from None
    except UnicodeDecodeError as error:
        raise CommandError(f"{source}: not UTF-8 text ({error.reason})") from None
    except OSError as error:
        raise CommandError(f"{source}: cannot read it ({error.strerror})") from None

    items: list[tuple[Any, str]] = []
    objects, problems = json_objects(content, expected=' with "id" and "text"')
    for number, item in objects:
        missing = [key for key in ("id", "text") if key not in item]
        if missing:
            problems.append(f"line {number}: missing " + " and ".join(f'"{k}"' for k in missing))
            continue
        if not isinstance(item["text"], str):
            problems.append(f'line {number}: "text" is {_json_type(item["text"])}, not a string')
            continue
        if isinstance(item["id"], (dict, list)):
            problems.append(f'line {number}: "id" is {_json_type(item["id"])}, not a value')
            continue
        items.append((item["id"], item["text"]))
    if problems:
        raise CommandError(
            f"{source}: {len(problems)} bad line(s), nothing checked:\n"
            + "\n".join(problems_shown(problems))
        )
    return items


def _json_type(value: object) -> str:
    names = {dict: "an object", list: "a list", bool: "true or false", type(None): "null"}
    for kind, name in names.items():
        if isinstance(value, kind):
            return name
    return "a number" if isinstance(value, (int, float)) else type(value).__name__
