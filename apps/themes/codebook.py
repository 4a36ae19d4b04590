"""The thematic codebook: the themes statements are coded to, with what each covers.

Read from YAML (data/themes/codebook.yaml, the programme's version 1): a version number and a
list of themes, each with a stable `id`, a `name`, what it `covers`, what it `excludes` (goes
elsewhere) and invented `examples`. Bad input is refused naming the theme and the field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from django.conf import settings

ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,49}$")


class CodebookError(ValueError):
    pass


@dataclass(frozen=True)
class Theme:
    id: str
    name: str
    covers: str
    excludes: str = ""
    examples: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Codebook:
    version: int
    themes: tuple[Theme, ...]

    @property
    def ids(self) -> list[str]:
        return [t.id for t in self.themes]

    def __getitem__(self, theme_id: str) -> Theme:
        for theme in self.themes:
            if theme.id == theme_id:
                return theme
        raise KeyError(theme_id)


def default_path() -> Path:
    return Path(settings.BASE_DIR) / "data" / "themes" / "codebook.yaml"


def load_codebook(path: Path | None = None) -> Codebook:
    path = path or default_path()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CodebookError(f"{path}: no such file") from None
    except yaml.YAMLError as error:
        raise CodebookError(f"{path}: not valid YAML ({error})") from None
    return parse_codebook(data, source=str(path))


def parse_codebook(data: object, *, source: str = "the codebook") -> Codebook:
    if not isinstance(data, dict):
        raise CodebookError(f"{source}: expected a mapping with 'version' and 'themes'")
    version = data.get("version")
    if not isinstance(version, int) or version < 1:
        raise CodebookError(f"{source}: 'version' must be a whole number from 1")
    raw = data.get("themes")
    if not isinstance(raw, list) or not raw:
        raise CodebookError(f"{source}: 'themes' must be a list of at least one theme")
    themes: list[Theme] = []
    seen: set[str] = set()
    for n, item in enumerate(raw, 1):
        where = f"{source}: theme {n}"
        if not isinstance(item, dict):
            raise CodebookError(f"{where}: expected a mapping")
        theme_id = item.get("id")
        if not isinstance(theme_id, str) or not ID_PATTERN.match(theme_id):
            raise CodebookError(f"{where}: 'id' must be lower case letters, digits and underscores")
        where = f"{source}: theme {theme_id!r}"
        if theme_id in seen:
            raise CodebookError(f"{where}: the id is used twice")
        seen.add(theme_id)
        for key in ("name", "covers"):
            if not isinstance(item.get(key), str) or not item[key].strip():
                raise CodebookError(f"{where}: '{key}' is required")
        excludes = item.get("excludes") or ""
        if not isinstance(excludes, str):
            raise CodebookError(f"{where}: 'excludes' must be text")
        examples = item.get("examples") or []
        if not isinstance(examples, list) or not all(
            isinstance(e, str) and e.strip() for e in examples
        ):
            raise CodebookError(f"{where}: 'examples' must be a list of texts")
        themes.append(
            Theme(
                id=theme_id,
                name=item["name"].strip(),
                covers=" ".join(item["covers"].split()),
                excludes=" ".join(excludes.split()),
                examples=tuple(" ".join(e.split()) for e in examples),
            )
        )
    return Codebook(version=version, themes=tuple(themes))
