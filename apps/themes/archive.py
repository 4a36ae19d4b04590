"""Reading published reports from the archive: no database, only the file's bytes.

`parse_report` turns an HTML or PDF report into its title and its paragraphs in reading
order, each under its section heading (and the headings enclosing it). HTML is parsed with
tinyhtml5 (the WHATWG algorithm, so real-world markup reads as a browser reads it); PDF with
pdfminer.six's layout analysis, from which headings are told by their size and weight,
running headers, footers and page numbers are dropped, list items are split at their
bullets and words hyphenated across lines are joined again.

`find_statements` picks the statements out of those paragraphs: the findings, strengths,
practice, areas for improvement, causes of concern and recommendations of the report's
findings sections (never its contents, foreword, introduction, methodology, glossary,
annexes or "about us"), split where a paragraph holds several findings, each with its kind
and the stage of the child's journey (or topic) whose section it is in.

Both are rules written from the structure of the inspectorate's published reports (national
child protection inspections, post-inspection reviews and thematic reports); how well they
do on the sample reports in data/themes/archive_samples is measured in
tests/themes/test_archive.py.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import statistics
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any, TypeVar
from xml.etree.ElementTree import Element

MAX_BYTES = 20 * 1024 * 1024  # a long report with charts is a few MB; more is not a report
MAX_PAGES = 600
FORMATS = ("html", "pdf")
EXTENSIONS = {".html": "html", ".htm": "html", ".xhtml": "html", ".pdf": "pdf"}


class ArchiveError(ValueError):
    """A report that cannot be imported, with the file's name and what is wrong with it."""


@dataclass(frozen=True)
class ParsedParagraph:
    number: int  # reading order, from 1
    heading: str  # the nearest section heading ("" before the first)
    text: str
    page: int | None = None  # PDF page, from 1
    headings: tuple[str, ...] = ()  # every enclosing heading, outermost first
    list_item: bool = False


@dataclass(frozen=True)
class ParsedReport:
    title: str
    format: str  # "html" or "pdf"
    paragraphs: list[ParsedParagraph] = field(default_factory=list)


@dataclass(frozen=True)
class FoundStatement:
    paragraph_number: int
    text: str
    kind: str
    stage: str


# The publication date a report states -------------------------------------------------------

_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        1,
    )
    for name in names
}
_PUBLISHED = re.compile(
    r"\b(?:published(?:\s+on)?|publication\s+date|date\s+of\s+publication)\s*[:\-\u2013]?\s*"
    r"(?:(?P<day>\d{1,2})(?:st|nd|rd|th)?\s+)?(?P<month>[A-Za-z]{3,9})\.?,?\s+(?P<year>\d{4})\b",
    re.I,
)
DATE_SEARCH_PARAGRAPHS = 40  # a report says when it was published on its first pages
# A letter (a JTAI's letter of findings) gives its date alone on a line above its title, and
# is published on that date.
_LETTER_DATE = re.compile(
    r"(?P<day>\d{1,2})(?:st|nd|rd|th)?\s+(?P<month>[A-Za-z]{3,9})\.?,?\s+(?P<year>\d{4})"
)
LETTER_DATE_PARAGRAPHS = 5


def _date(day: str | None, month: str, year: str) -> dt.date | None:
    number = _MONTHS.get(month.lower())
    if number is None:
        return None
    try:
        return dt.date(int(year), number, int(day or 1))
    except ValueError:
        return None


def publication_date(paragraphs: Sequence[ParsedParagraph]) -> dt.date | None:
    """The date a report says it was published ("Published on: 14 March 2017", "Publication
    date: June 2021", the first of the month when no day is given), from its first
    paragraphs; else a letter's date (a date alone in one of its first paragraphs, above
    any heading); None if it says neither, or says something that is not a date."""
    for paragraph in paragraphs[:DATE_SEARCH_PARAGRAPHS]:
        for match in _PUBLISHED.finditer(paragraph.text):
            if found := _date(match["day"], match["month"], match["year"]):
                return found
    for paragraph in paragraphs[:LETTER_DATE_PARAGRAPHS]:
        if paragraph.headings or paragraph.heading:
            break
        alone = _LETTER_DATE.fullmatch(paragraph.text.strip())
        if alone and (found := _date(alone["day"], alone["month"], alone["year"])):
            return found
    return None


# Reading a file ----------------------------------------------------------------------------


def parse_report(file_name: str, data: bytes) -> ParsedReport:
    """The report's title and paragraphs. Refused (ArchiveError, naming the file) if it is
    empty, too large, neither HTML nor PDF by its content, an encrypted or image-only PDF,
    unreadable, or has no paragraphs."""
    name = PurePath(file_name or "the file").name
    found = check_file(name, data)
    report = _parse_pdf(name, data) if found == "pdf" else _parse_html(name, data)
    if not report.paragraphs:
        raise ArchiveError(f"{name} has no paragraphs of text to import.")
    return report


def check_file(file_name: str, data: bytes) -> str:
    """What can be told of a file without reading it ("html" or "pdf"): refused
    (ArchiveError, naming the file) if it is empty, too large, or neither HTML nor PDF by its
    content, or named as what it is not."""
    name = PurePath(file_name or "the file").name
    if not data:
        raise ArchiveError(f"{name} is empty.")
    if len(data) > MAX_BYTES:
        raise ArchiveError(
            f"{name} is {len(data) / 1024 / 1024:.1f} MB: reports larger than "
            f"{MAX_BYTES // 1024 // 1024} MB cannot be imported."
        )
    found = sniff(data)
    extension = PurePath(name).suffix.lower()
    if found is None:
        raise ArchiveError(
            f"{name} is not an HTML or PDF report: its content is neither (whatever its name "
            "says). Save the report from the inspectorate's website as HTML, or download "
            "its PDF."
        )
    if extension and extension not in EXTENSIONS:
        raise ArchiveError(
            f"{name}: only HTML (.html, .htm) and PDF (.pdf) reports can be imported, not "
            f"{extension} files."
        )
    if extension and EXTENSIONS[extension] != found:
        raise ArchiveError(
            f"{name} is named as {EXTENSIONS[extension].upper()} but its content is "
            f"{found.upper()}: check that it is the file you meant."
        )
    return found


_HTML_START = re.compile(
    rb"<(!doctype\s+html|html|head|body|title|meta|h[1-6]|p|div|main|article|section|table|"
    rb"ul|ol|!--|\?xml)[\s>/]",
    re.IGNORECASE,
)


def sniff(data: bytes) -> str | None:
    """ "pdf" or "html" from the content (the PDF signature; the start of an HTML document
    as browsers sniff it), else None."""
    if b"%PDF-" in data[:1024]:
        return "pdf"
    head = data[:4096]
    for bom in (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"):
        if head.startswith(bom):
            head = head[len(bom) :]
            if bom != b"\xef\xbb\xbf":  # UTF-16: compare its ASCII characters
                head = head.replace(b"\x00", b"")
            break
    if b"\x00" in head:
        return None
    if _HTML_START.match(head.lstrip()):
        return "html"
    return None


# Text clean-up ---------------------------------------------------------------------------

_LIGATURES = str.maketrans(
    {"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl"}
)
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"))
_SPACES = re.compile(r"\s+")
_SECTION_NUMBER = re.compile(r"^(?:\d{1,2}(?:\.\d{1,2})*\.?|[A-Z]\.\d*|[ivx]{1,4}\.)\s+(?=\S)")


def clean(text: str) -> str:
    """One line of text: ligatures spelt out, invisible characters gone, spaces collapsed."""
    text = text.translate(_LIGATURES).translate(_INVISIBLE)
    return _SPACES.sub(" ", text.replace("\u00a0", " ")).strip()


def heading_text(text: str) -> str:
    """A heading without its section number ("3. Initial contact" -> "Initial contact")."""
    return _SECTION_NUMBER.sub("", clean(text)).strip()


def _has_letters(text: str) -> bool:
    return any(c.isalpha() for c in text)


class _Trail:
    """The headings enclosing the current point: a heading of level n closes every open
    heading of level n or deeper. Level 7 is a bold paragraph standing as a heading."""

    def __init__(self) -> None:
        self.open: list[tuple[int, str]] = []

    def push(self, level: int, text: str) -> None:
        while self.open and self.open[-1][0] >= level:
            self.open.pop()
        self.open.append((level, text))

    def close_boxes(self, before: list[tuple[int, str]]) -> None:
        """Bold titles given inside a box (a `div`) end with it: back to `before` if only
        such titles were added since."""
        added = self.open[len(before) :]
        if self.open[: len(before)] == before and all(level == 7 for level, _ in added):
            del self.open[len(before) :]

    @property
    def headings(self) -> tuple[str, ...]:
        return tuple(text for _, text in self.open)


class _Paragraphs:
    def __init__(self) -> None:
        self.items: list[ParsedParagraph] = []
        self.trail = _Trail()

    def add(self, text: str, *, page: int | None = None, list_item: bool = False) -> None:
        text = clean(text)
        if not _has_letters(text):
            return
        headings = self.trail.headings
        self.items.append(
            ParsedParagraph(
                number=len(self.items) + 1,
                heading=headings[-1] if headings else "",
                text=text,
                page=page,
                headings=headings,
                list_item=list_item,
            )
        )


# HTML ------------------------------------------------------------------------------------

_SKIP = {
    "head", "script", "style", "noscript", "template", "nav", "svg", "math", "form", "button",
    "input", "select", "textarea", "iframe", "object", "embed", "canvas", "audio", "video",
    "img", "picture", "table", "aside", "map",
}  # fmt: skip
_BLOCK = {
    "address", "article", "blockquote", "body", "dd", "details", "dialog", "div", "dl", "dt",
    "fieldset", "figcaption", "figure", "footer", "header", "hgroup", "hr", "li", "main", "ol",
    "p", "pre", "section", "summary", "ul", "caption", "center", "html",
}  # fmt: skip
_HEADINGS = {f"h{n}": n for n in range(1, 7)}
_HIDDEN_CLASSES = frozenset({"govuk-visually-hidden", "visually-hidden", "sr-only", "hidden"})
_FOOTNOTE_MARK = re.compile(r"^\s*\[?\d{1,3}\]?\s*$")


def _hidden(element: Element) -> bool:
    return (
        "hidden" in element.attrib
        or element.get("aria-hidden") == "true"
        or not _HIDDEN_CLASSES.isdisjoint(element.get("class", "").split())
    )


def _text_of(element: Element) -> str:
    """The visible text of an element (hidden parts, scripts and footnote marks left out)."""
    parts: list[str] = []

    def visit(node: Element) -> None:
        if node.tag in _SKIP or _hidden(node):
            return
        if node.tag == "sup" and _FOOTNOTE_MARK.match("".join(node.itertext())):
            return
        if node.tag == "br":
            parts.append(" ")
        elif node.text:
            parts.append(node.text)
        for child in node:
            visit(child)
            if child.tail:
                parts.append(child.tail)

    visit(element)
    return clean("".join(parts))


def _only_bold(element: Element) -> bool:
    """A paragraph whose whole text is bold: how many reports mark a box's title."""
    text = _text_of(element)
    if not text or (element.text or "").strip():
        return False
    bold = "".join(
        _text_of(child)
        for child in element
        if child.tag in ("strong", "b") and not (child.tail or "").strip()
    )
    return clean(bold) == text


def _looks_like_heading(text: str) -> bool:
    return len(text.split()) <= 12 and not text.endswith((".", ";", ",")) and _has_letters(text)


def _parse_html(name: str, data: bytes) -> ParsedReport:
    import tinyhtml5

    # Bytes, never a str: tinyhtml5 would read a short str naming a file as that file.
    try:
        root = tinyhtml5.parse(
            io.BytesIO(data), namespace_html_elements=False, default_encoding="utf-8"
        )
    except Exception as error:  # any failure of the parser is the file's
        raise ArchiveError(f"{name} could not be read as HTML ({error}).") from None
    # (Elements are false when they have no children: compare with None.)
    candidates = [
        root.find(".//main"),
        next((e for e in root.iter() if e.get("role") == "main"), None),
        root.find(".//article"),
        root.find(".//body"),
    ]
    content = next((c for c in candidates if c is not None), root)
    title = ""
    first_h1 = content.find(".//h1")
    if first_h1 is not None:
        title = _text_of(first_h1)
    if not title:
        head_title = root.find(".//title")
        title = _text_of(head_title) if head_title is not None else ""
    out = _Paragraphs()
    title_element = first_h1 if title and first_h1 is not None else None
    buffer: list[str] = []

    def flush(list_item: bool) -> None:
        if buffer:
            out.add("".join(buffer), list_item=list_item)
            buffer.clear()

    def visit(element: Element, in_item: bool) -> None:
        """Inline text gathers into the current paragraph; a block ends it."""
        here_item = in_item or element.tag == "li"
        if element.text:
            buffer.append(element.text)
        for child in element:
            tag = child.tag if isinstance(child.tag, str) else ""
            if tag in _SKIP or _hidden(child) or not tag:
                pass
            elif tag in _HEADINGS:
                flush(here_item)
                text = heading_text(_text_of(child))
                if child is not title_element and text:
                    out.trail.push(_HEADINGS[tag], text)
            elif tag == "p" and _only_bold(child) and _looks_like_heading(_text_of(child)):
                flush(here_item)
                out.trail.push(7, heading_text(_text_of(child)))
            elif tag in _BLOCK:
                flush(here_item)
                before = list(out.trail.open)
                visit(child, here_item)
                flush(here_item or tag == "li")
                out.trail.close_boxes(before)
            elif tag == "sup" and _FOOTNOTE_MARK.match("".join(child.itertext())):
                pass
            elif tag == "br":
                buffer.append(" ")
            else:
                visit(child, here_item)
            if child.tail:
                buffer.append(child.tail)

    try:
        visit(content, False)
    except RecursionError:
        raise ArchiveError(f"{name} is nested too deeply to be read as a report.") from None
    flush(False)
    return ParsedReport(title=title or PurePath(name).stem, format="html", paragraphs=out.items)


# PDF -------------------------------------------------------------------------------------

_MARKER = re.compile(r"^\s*([•●○◦▪■‣·*\u2013\-]|\(?\d{1,2}[.)]|\(?[a-z][.)]|\(?[ivx]{1,4}[.)])\s*$")
_LEADING_BULLET = re.compile(r"^\s*[•●○◦▪■‣·]\s+")
_PAGE_NUMBER = re.compile(
    r"^\s*(page\s+)?[-\u2013\u2014]?\s*\d{1,4}\s*[-\u2013\u2014]?\s*((of|/)\s*\d{1,4})?\s*$",
    re.IGNORECASE,
)
_TERMINAL = (".", "!", "?", ":", ";", ".\u201d", ".\u2019", '."', ".)")
# Hyphens at a line's end: U+2010 and the soft hyphen are inserted by hyphenation; a plain
# hyphen may be either, so the rest of the document decides (see _join_hyphenated).
_INSERTED_HYPHENS = ("\u2010", "\u00ad")
_COMPOUND_PREFIXES = {
    "anti", "co", "cross", "multi", "non", "post", "pre", "re", "self", "semi", "sub", "well",
    "long", "short", "high", "low", "under", "over", "inter", "intra", "child", "age", "ex",
    "follow", "face", "risk", "time", "front", "first", "second", "third", "one", "two",
    "three", "four", "six", "twelve", "twenty", "year", "day", "end", "fast", "part", "full",
}  # fmt: skip


@dataclass
class _Line:
    text: str
    page: int
    x0: float
    x1: float
    y0: float
    y1: float
    size: float
    bold: bool

    @property
    def centre(self) -> float:
        return (self.y0 + self.y1) / 2


def _line_of(line: Any, page: int) -> _Line | None:
    from pdfminer.layout import LTChar

    chars = [c for c in line if isinstance(c, LTChar)]
    if not chars:
        return None
    letters = [c for c in chars if c.get_text().strip()]
    sizes = [round(c.size * 2) / 2 for c in letters] or [round(chars[0].size * 2) / 2]
    size = statistics.median(sizes)
    # Footnote marks are digits in smaller print, raised: left out of the text.
    text = "".join(
        item.get_text()
        for item in line
        if not (
            isinstance(item, LTChar)
            and item.get_text().isdigit()
            and item.size < size * 0.8
            and item.y0 > line.y0 + size * 0.15
        )
    ).replace("\n", "")
    if not text.strip():
        return None
    bold = sum(1 for c in letters if re.search(r"bold|black|heavy", c.fontname, re.I))
    return _Line(
        text=text,
        page=page,
        x0=line.x0,
        x1=line.x1,
        y0=line.y0,
        y1=line.y1,
        size=size,
        bold=bool(letters) and bold >= 0.8 * len(letters),
    )


def _pdf_lines(name: str, data: bytes) -> tuple[list[list[_Line]], list[float], str]:
    """Each page's text lines in reading order, the pages' heights, and the document's
    title from its metadata."""
    from pdfminer.converter import PDFPageAggregator
    from pdfminer.layout import LAParams, LTTextBox, LTTextLine
    from pdfminer.pdfdocument import PDFDocument, PDFEncryptionError, PDFPasswordIncorrect
    from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager
    from pdfminer.pdfpage import PDFPage
    from pdfminer.pdfparser import PDFParser
    from pdfminer.pdftypes import resolve1

    try:
        document = PDFDocument(PDFParser(io.BytesIO(data)))
    except (PDFPasswordIncorrect, PDFEncryptionError):
        raise ArchiveError(
            f"{name} is an encrypted PDF that needs a password to open: import an unprotected "
            "copy of the report."
        ) from None
    except Exception as error:  # any failure of the parser is the file's
        raise ArchiveError(
            f"{name} is not a readable PDF ({error or type(error).__name__})."
        ) from None
    if not document.is_extractable:
        raise ArchiveError(
            f"{name} is an encrypted PDF that does not allow its text to be copied: import "
            "an unprotected copy of the report."
        )
    metadata_title = ""
    for info in document.info:
        raw = resolve1(info.get("Title"))
        if isinstance(raw, bytes):
            metadata_title = _pdf_string(raw)
    manager = PDFResourceManager(caching=True)
    device = PDFPageAggregator(manager, laparams=LAParams())
    interpreter = PDFPageInterpreter(manager, device)
    pages: list[list[_Line]] = []
    heights: list[float] = []
    try:
        for number, page in enumerate(PDFPage.create_pages(document), 1):
            if number > MAX_PAGES:
                raise ArchiveError(
                    f"{name} has more than {MAX_PAGES} pages: reports longer than that "
                    "cannot be imported."
                )
            interpreter.process_page(page)
            layout = device.get_result()
            heights.append(float(layout.height))
            lines: list[_Line] = []
            for element in layout:
                if isinstance(element, LTTextBox):
                    for text_line in element:
                        if isinstance(text_line, LTTextLine):
                            found = _line_of(text_line, number)
                            if found is not None:
                                lines.append(found)
            pages.append(lines)
    except ArchiveError:
        raise
    except Exception as error:  # any failure of the parser is the file's
        raise ArchiveError(
            f"{name} is not a readable PDF ({error or type(error).__name__})."
        ) from None
    if not pages:
        raise ArchiveError(f"{name} has no pages.")
    return pages, heights, metadata_title


def _pdf_string(raw: bytes) -> str:
    if raw.startswith((b"\xfe\xff", b"\xff\xfe")):
        return clean(raw.decode("utf-16", errors="replace"))
    return clean(raw.decode("latin-1"))


def _shape(text: str) -> str:
    """A line's text with its digits blurred: a running header or footer has the same shape
    on every page."""
    return re.sub(r"\d+", "#", clean(text).lower())


def _running(pages: list[list[_Line]], heights: list[float], body: float) -> set[int]:
    """ids of the lines that are running headers, footers or page numbers: in the top or
    bottom tenth of the page, and repeated there (the same shape on at least half the pages),
    a bare page number, or in small print (footnotes)."""
    in_band: list[tuple[_Line, tuple[str, bool]]] = []
    for lines, height in zip(pages, heights, strict=True):
        for line in lines:
            top, bottom = line.y0 > height * 0.90, line.y1 < height * 0.10
            if top or bottom:
                in_band.append((line, (_shape(line.text), bottom)))
    on_pages: dict[tuple[str, bool], set[int]] = {}
    for line, key in in_band:
        on_pages.setdefault(key, set()).add(line.page)
    repeated = {
        key
        for key, found in on_pages.items()
        if len(pages) >= 2 and len(found) >= max(2, len(pages) // 2)
    }
    return {
        id(line)
        for line, key in in_band
        if key in repeated or _PAGE_NUMBER.match(line.text) or line.size < body * 0.9
    }


def _join_hyphenated(lines: Sequence[str], words: set[str]) -> str:
    """Lines of one paragraph as one text: a word hyphenated at a line's end is joined again
    (keeping the hyphen of a compound such as "multi-agency")."""
    out = ""
    for line in lines:
        line = line.strip()
        if not out:
            out = line
            continue
        if out.endswith(_INSERTED_HYPHENS) and line[:1].isalpha():
            out = out[:-1] + line
        elif out.endswith("-") and line[:1].isalpha() and line[:1].islower():
            head = re.search(r"([A-Za-z]+)-$", out)
            tail = re.match(r"[A-Za-z]+", line)
            if head and tail:
                joined, hyphened = head[1] + tail[0], f"{head[1]}-{tail[0]}"
                keep = hyphened.lower() in words or (
                    joined.lower() not in words and head[1].lower() in _COMPOUND_PREFIXES
                )
                out = out + line if keep else out[:-1] + line
            else:
                out = out + line
        else:
            out = f"{out} {line}"
    return out


def _parse_pdf(name: str, data: bytes) -> ParsedReport:
    pages, heights, metadata_title = _pdf_lines(name, data)
    letters = Counter[float]()
    for lines in pages:
        for line in lines:
            letters[line.size] += sum(1 for c in line.text if c.isalpha())
    if not letters or sum(letters.values()) < 20:
        raise ArchiveError(
            f"{name} has no text to read: it looks like scanned images of pages. Import the "
            "report's HTML, or a PDF with a text layer."
        )
    body = letters.most_common(1)[0][0]
    running = _running(pages, heights, body)
    heading_sizes = sorted({s for s in letters if s >= body * 1.12}, reverse=True)
    level_of = {size: n + 1 for n, size in enumerate(heading_sizes)}
    words = {
        w.lower()
        for lines in pages
        for line in lines
        for w in re.findall(r"[A-Za-z]+(?:-[A-Za-z]+)*", line.text)
    }

    blocks = _blocks(pages, running, level_of, body)

    out = _Paragraphs()
    title = ""
    # A bold title set in from the margin heads a box (a panel of practice, a cause of
    # concern): it ends where the text comes back out to the margin.
    box: tuple[float, list[tuple[int, str]]] | None = None
    margin = min((b.first.x0 for b in blocks if b.level is None), default=0.0)
    for block in blocks:
        text = clean(_join_hyphenated(block.lines, words))
        level = block.level
        if level == 7 and not _looks_like_heading(text):
            level = None  # a bold sentence is emphasis, not a heading
        if level is not None and level < 7 and len(text.split()) > 30:
            level = None  # large print running on for lines is a pull quote, not a heading
        if box is not None and ((level is not None and level < 7) or block.first.x0 < box[0] - 2):
            out.trail.close_boxes(box[1])
            box = None
        if level is None:
            out.add(text, page=block.first.page, list_item=block.item)
        elif not title and block.first.page == 1 and level == 1:
            title = text
        elif heading := heading_text(text):
            if level == 7 and box is None and block.first.x0 > margin + 2:
                box = (block.first.x0, list(out.trail.open))
            out.trail.push(level, heading)
    return ParsedReport(
        title=title or metadata_title or PurePath(name).stem,
        format="pdf",
        paragraphs=out.items,
    )


@dataclass
class _Block:
    """Lines that make one heading (level 1 is the largest print; 7 a bold line) or one
    paragraph (level None), perhaps a list item."""

    level: int | None
    first: _Line
    last: _Line
    lines: list[str]
    item: bool

    def continued_by(self, line: _Line, level: int | None) -> bool:
        """Whether `line` carries on this block: the same kind of print on the same page,
        just below the last line (no paragraph space between), and, in a list item, not out
        to the left of its text (what follows a list is not indented)."""
        last = self.last
        if level != self.level or line.size != last.size or line.page != last.page:
            return False
        gap = last.y0 - line.y1
        if gap < -line.size * 0.5 or gap > line.size * 0.6:
            return False
        return not (self.item and line.x0 < self.first.x0 - 3)

    def runs_on_to(self, other: _Block) -> bool:
        """Whether `other`, on a later page, is the rest of this paragraph: this one stops
        mid-sentence and the other carries on in lower case (or after a hyphen)."""
        if self.level is not None or other.level is not None or other.item:
            return False
        end, start = self.lines[-1].rstrip(), other.lines[0]
        return (
            other.first.page != self.last.page
            and not end.endswith(_TERMINAL)
            and (start[:1].islower() or end.endswith(("-", *_INSERTED_HYPHENS)))
        )


def _blocks(
    pages: list[list[_Line]], running: set[int], level_of: dict[float, int], body: float
) -> list[_Block]:
    blocks: list[_Block] = []
    for lines in pages:
        # Bullets and list numbers laid out apart from their item's text mark where each
        # item starts.
        markers = [line for line in lines if _MARKER.match(line.text)]
        marker_ids = {id(m) for m in markers}
        for line in lines:
            if id(line) in running or id(line) in marker_ids:
                continue
            text = clean(line.text)
            bullet = _LEADING_BULLET.match(text)
            if bullet:
                text = text[bullet.end() :]
            marked = bool(bullet) or any(
                abs(m.centre - line.centre) < max(2.0, line.size * 0.3) and m.x0 < line.x0
                for m in markers
            )
            level = level_of.get(line.size)
            if level is None and line.bold and line.size >= body * 0.95:
                level = 7  # a bold line may stand as a heading: decided once it is whole
            block = _Block(level, line, line, [text], marked)
            previous = blocks[-1] if blocks else None
            if (
                previous is not None
                and not marked
                and (previous.continued_by(line, level) or previous.runs_on_to(block))
            ):
                previous.lines.append(text)
                previous.last = line
            else:
                blocks.append(block)
    return blocks


# Finding the statements ----------------------------------------------------------------------

KINDS = (
    "strength",
    "promising_practice",
    "area_for_improvement",
    "cause_of_concern",
    "recommendation",
    "finding",
)

# Sections that hold no findings. Matched against each part of each enclosing heading.
_NOT_FINDINGS = re.compile(
    r"^(contents|table of contents|foreword|preface|introduction|about\b|"
    r"methodology|our methodology|inspection methodology|"
    r"(the )?(inspection )?methodology|how we (inspected|carried out)|glossary|"
    r"(annex|appendix|appendices)\b|references|sources|(foot|end)notes|notes\b|"
    r"acknowledg|terms of reference|context( for the force| of the force)?$|"
    r"the force in context|force context|the police'?s? responsibilit|expectations set out|"
    r"working together|next steps|what happens next|further information|key facts|"
    r"case file (analysis|review results|audit results)|results of (the )?case file|"
    r"breakdown of case|case (study|studies|example|examples)\b|print this|"
    r"published on|share this|related (publications|links))",
    re.IGNORECASE,
)

# A heading over a review's quotation of an earlier report's recommendation ("Recommendation
# from the 2017 inspection report", "Original recommendation", "Recommendation 3 of our
# previous report"). The quoted recommendation is that report's statement (counted with it
# when imported), not a new one of the review's; the review's own findings under the same
# heading are kept.
_QUOTED_RECOMMENDATION_HEADING = re.compile(
    r"^(the |our )?(original|previous|earlier|\d{4}) recommendations?\b|"
    r"^recommendations?( \d+)? (from|made in|of) (the |our )?(\d{4}|original|previous|"
    r"earlier|last)\b",
    re.IGNORECASE,
)

_KIND_HEADINGS = [
    ("cause_of_concern", re.compile(r"^(a |the )?causes? (of|for) concern\b", re.I)),
    (
        "recommendation",
        re.compile(r"^(our |summary of |the |list of |new )?recommendations?\b", re.I),
    ),
    (
        "area_for_improvement",
        re.compile(
            r"^(an |the )?(key |main )?areas? for (improvement|development)\b|"
            r"^what (the force|it|forces) (needs? to|should) (improve|do better)|"
            r"^what needs (to )?improv(e|ing)\b",
            re.I,
        ),
    ),
    (
        "promising_practice",
        re.compile(
            r"^(examples? of |an example of )?(good|effective|promising|innovative|notable|"
            r"interesting)( and innovative)? practice",
            re.I,
        ),
    ),
    (
        "strength",
        re.compile(
            r"^(key |main )?(strengths?|what (the force|it|forces) (does|did|do) well|what (is|was)"
            r" working well|positive (findings|practice)|areas of strength)\b",
            re.I,
        ),
    ),
]

STAGES: list[tuple[str, re.Pattern[str]]] = [
    (
        "Leadership and management",
        re.compile(r"\bleader(s|ship)\b|\bgovernance\b|\bchief officers\b", re.I),
    ),
    (
        "Partnership working",
        re.compile(
            r"\bpartnership working\b|\bmulti-agency working\b|\bworking with partners", re.I
        ),
    ),
    (
        "Initial contact",
        re.compile(r"\binitial (contact|response)\b|\bfirst contact\b|\bfront door\b", re.I),
    ),
    (
        "Assessment and help",
        re.compile(
            r"\bassessment and help\b|\brisk assessment and referral\b|\brecognising risk\b|"
            r"\bassessment,? (and )?planning\b|"
            r"\bidentif(ying|ication of) (risk|need)",
            re.I,
        ),
    ),
    ("Investigation", re.compile(r"\binvestigat(ion|ions|ing)\b", re.I)),
    ("Decision making", re.compile(r"\bdecision[- ]making\b", re.I)),
    ("Trusted adults", re.compile(r"\btrusted adults?\b", re.I)),
    (
        "Managing those posing a risk to children",
        re.compile(
            r"\bmanaging (those|people|offenders|individuals) (who pose|posing)\b|\bthose who "
            r"pose a risk\b|\bsex(ual)? offenders\b|\boffender management\b",
            re.I,
        ),
    ),
    (
        "Police detention",
        re.compile(r"\bpolice detention\b|\bcustody\b|\bdetention of children\b", re.I),
    ),
    ("Missing children", re.compile(r"\bmissing\b", re.I)),
    ("Child sexual exploitation", re.compile(r"\bsexual exploitation\b", re.I)),
    (
        "Child criminal exploitation",
        re.compile(r"\bcriminal exploitation\b|\bcounty lines\b", re.I),
    ),
    ("Child exploitation", re.compile(r"\bexploitation\b", re.I)),
    ("Online child abuse", re.compile(r"\bonline\b|\binternet\b", re.I)),
    ("Domestic abuse", re.compile(r"\bdomestic (abuse|violence)\b", re.I)),
    ("Police protection powers", re.compile(r"\bpolice protection\b", re.I)),
    (
        "Referrals and strategy discussions",
        re.compile(r"\breferrals?\b|\bstrategy (discussions?|meetings?)\b", re.I),
    ),
    ("Prevention and early help", re.compile(r"\bearly help\b|\bprevention\b", re.I)),
]

_TIMESCALE = (
    r"(immediately|with immediate effect|within (one|two|three|four|six|nine|twelve|eighteen|"
    r"\d{1,2}) (months?|weeks?)|by (the end of )?(\d{1,2} )?(january|february|march|april|may|"
    r"june|july|august|september|october|november|december)( \d{4})?|by \d{4})"
)
_RECOMMENDATION = re.compile(
    rf"^(to address this( cause of concern)?,? )?{_TIMESCALE}\b.*\b(should|must|needs? to|"
    rf"recommend)\b|\bwe recommend\b|^{_TIMESCALE},? (the|all|each|every) \w+",
    re.IGNORECASE,
)
_CONCERN = re.compile(
    r"\b(we are|we were|we remain|we're) (\w+ )?(concerned|worried)\b|\bcauses? (of|for) "
    r"concern\b|\bcauses? us (\w+ )?concern\b|\bserious concerns?\b",
    re.IGNORECASE,
)
_PRACTICE = re.compile(
    r"\b(good|effective|promising|innovative|notable|excellent|positive) (and innovative )?"
    r"practice\b",
    re.IGNORECASE,
)
# "Not yet good practice", "short of effective practice": practice found wanting.
_NOT_PRACTICE = re.compile(
    r"\b(not|n't|no|never|contrary|against|short of|below|lack|lacks|lacked|without|"
    r"in line with|accordance with|despite|rather than|yet to)\b",
    re.IGNORECASE,
)
_IMPROVE = re.compile(
    r"\bareas? for improvement\b|\b(the force|the constabulary|it|officers|staff|supervisors|"
    r"leaders|managers|the service) (should|needs? to|must|would benefit from) (?=\w)|\bneeds? to "
    r"(improve|be improved|make sure|ensure|do more)\b|\bthere is (still )?(room|scope) for "
    r"improvement\b|\bshould (improve|make sure|ensure|review)\b",
    re.IGNORECASE,
)
# Words of praise, and words that qualify or find fault (a statement with both is not a
# strength: "good, but..." is a finding).
_STRENGTH = re.compile(
    r"\bstrengths?\b|\bgood\b|\bwell\b|\beffective(ly)?\b|\bstrong(ly)?\b|\bthorough(ly)?\b|"
    r"\bimpressive\b|\bpositive(ly)?\b|\bexcellent\b|\bcommitted\b|\bcommitment\b|"
    r"\bimproved\b|\bimprovements?\b|\bencouraged\b|\bclear(ly)?\b|\bconsistent(ly)?\b|"
    r"\bappropriate(ly)?\b|\bprompt(ly)?\b|\btimely\b|\bquick(ly)?\b|\bproactive(ly)?\b|"
    r"\bhigh (quality|standard)\b|\bcomprehensive\b|\brobust\b|\bpriority\b|\bprogress\b|"
    r"\bpleased\b|\bvaluable\b|\bvalued\b|\bskilled\b|\bknowledgeable\b|\bsensitive(ly)?\b|"
    r"\bexperienced\b|\bdedicated\b|\bcourteous\b|\bprofessional(ly)?\b|\bmanageable\b|"
    r"\bon time\b|\bup to date\b|\bwith (care|respect|sensitivity|compassion)\b|"
    r"\brespectful(ly)?\b|\bin line with\b|\btrained\b|\bregular(ly)?\b|\bcleared\b|"
    r"\breduced\b|\bintroduced\b|\binvested\b|\bwelcome\b|\bbetter\b|\baccurate(ly)?\b",
    re.IGNORECASE,
)
_WEAKNESS = re.compile(
    r"\bnot\b|n't\b|\bno\b(?! further action)|\bnone\b|\bnever\b|\btoo\b|\bpoor(ly)?\b|"
    r"\binconsistent(ly)?\b|\bdelays?\b|\bdelayed\b|\bfail(s|ed|ing|ure|ures)?\b|"
    r"\black(s|ed|ing)?\b|\blimited\b|\bweak(ness|nesses)?\b|\bmissed\b|"
    r"\binsufficient(ly)?\b|\bunclear\b|\binadequate\b|\brequires? improvement\b|"
    r"\bhowever\b|\bbut\b|\balthough\b|\bdespite\b|\bonly\b|\bfew\b|"
    r"\bconcerns? (about|over|that|with)\b|\bunable\b|\bunaware\b|\bvariable\b|\bvaried\b|"
    r"\bmixed\b|\bgaps?\b|\b(a|large|growing|significant) backlog\b|\bstill\b|\byet to\b|"
    r"\brather than\b|\bshould\b|\bneeds? to\b|\bless\b|\bfewer\b|\brarely\b|\bseldom\b|"
    r"\bhardly\b|\bdifficult(y|ies)?\b|\bstruggl(e|es|ed|ing)\b|\bunder pressure\b|"
    r"\bbehind\b|\bpressures?\b",
    re.IGNORECASE,
)
# Sentences that say what the report or the inspection did rather than what it found.
_NOT_A_FINDING = re.compile(
    r"^(figure|table|chart|source|note|graph)\b\s*\d*\s*[:.]|"
    r"^(this|the following|the next) (section|chapter|report|part) (sets out|describes|"
    r"summarises|explains|looks at|considers|covers)|"
    r"^(we have made|we make|we made|below are|here are) (the following|\w+|our) "
    r"recommendations?\b|"
    r"\b(provide|send|submit|produce) (us |the inspectorate |hmicfrs |hmic )?(with )?an "
    r"action plan\b|"
    r"^we will (monitor|review|follow|return|publish|consider|assess)\b|"
    r"^this (is|was) (our|the) \w+ (inspection|review|report)\b|"
    r"sample report|not a real inspection|"
    r"^(print this document|back to top|published on|contents)\b",
    re.IGNORECASE,
)
_METHOD = re.compile(
    r"^((during|as part of|before|after|over|for|in) [^,]{0,60}, )?we (reviewed|examined|"
    r"audited|spoke|interviewed|held|visited|looked at|asked|analysed|considered|received|"
    r"read|carried out|conducted|observed|met|inspected|returned|assessed|graded|tested|"
    r"sampled|surveyed)\b",
    re.IGNORECASE,
)
_EVALUATES = re.compile(
    r"\bfound\b|\bsaw\b|\bidentified\b|\bgood\b|\bpoor\b|\bwell\b|\bnot\b|\bonly\b|\bconcern",
    re.IGNORECASE,
)
_ELABORATION = re.compile(
    r"^(this|these|that|those|it|its|they|their|such|as a result|consequently|in (one|another|"
    r"some|several|many|two|three|four|five|most|all|each|these|those|such) (case|cases|"
    r"of (these|them|the cases))|for (example|instance)|in particular|which|so|thus|"
    r"this meant|e\.g\.)\b"
    # "Some had not...", "Many lacked...": a quantifier standing for what came before.
    r"|^(some|many|most|few|several|none|all|others)( of (them|these|those))? (had|have|were|"
    r"was|are|is|did|do|could|would|lacked|said|told)\b",
    re.IGNORECASE,
)
_LIST_END = re.compile(r"[;,]?\s*(and|or)?\s*$|\s*[;,]\s*$")

ABBREVIATIONS = frozenset(
    [
        "e.g",
        "i.e",
        "eg",
        "ie",
        "etc",
        "cf",
        "vs",
        "v",
        "no",
        "nos",
        "para",
        "paras",
        "p",
        "pp",
        "fig",
        "figs",
        "approx",
        "c",
        "ca",
        "dr",
        "mr",
        "mrs",
        "ms",
        "prof",
        "st",
        "sgt",
        "insp",
        "ch",
        "supt",
        "det",
        "dc",
        "ds",
        "di",
        "dci",
        "acc",
        "dcc",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "inc",
        "ltd",
        "co",
        "govt",
        "dept",
        "al",
        "vol",
        "ed",
        "eds",
        "sec",
        "art",
        "reg",
        "a.m",
        "p.m",
        "u.k",
        "op",
        "cit",
        "ibid",
    ]
)
_BOUNDARY = re.compile(r"[.!?\u2026]+[\"\u201d\u2019')\]]*(?=\s+)")


def sentences(text: str) -> list[str]:
    """`text` split into sentences: at a full stop, question or exclamation mark followed by
    a space and a capital, digit or quotation, but not after an abbreviation ("e.g.",
    "Insp."), an initial, or inside a number ("3.5")."""
    out: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        end = match.end()
        rest = text[end:].lstrip()
        if not rest:
            continue
        if not (rest[0].isupper() or rest[0].isdigit() or rest[0] in "\"\u201c\u2018'([\u2022"):
            continue
        before = text[start : match.start() + 1]
        token = re.search(r"([A-Za-z][A-Za-z.]*)\.?$", before.rstrip("\"\u201d\u2019')]"))
        if match.group().startswith(".") and token:
            word = token[1].rstrip(".").lower()
            if word in ABBREVIATIONS or (len(word) == 1 and token[1][:1].isupper()):
                continue
        out.append(text[start:end].strip())
        start = end
    tail = text[start:].strip()
    if tail:
        out.append(tail)
    return [s for s in out if s]


def _parts(heading: str) -> list[str]:
    return [p for p in re.split(r"\s*[:\u2013\u2014]\s*|\s+-\s+", heading) if p]


def _excluded(headings: Sequence[str]) -> bool:
    return any(_NOT_FINDINGS.match(part) for h in headings for part in _parts(h))


def _quotes_an_earlier_recommendation(innermost: str, text: str) -> bool:
    """A recommendation quoted under a heading that says it is an earlier report's."""
    return any(_QUOTED_RECOMMENDATION_HEADING.match(p) for p in _parts(innermost)) and bool(
        _RECOMMENDATION.search(text)
    )


def _heading_kind(headings: Sequence[str]) -> str:
    for heading in reversed(headings):
        for part in reversed(_parts(heading)):
            for kind, pattern in _KIND_HEADINGS:
                if pattern.match(part):
                    return kind
    return ""


def stage_of(headings: Sequence[str]) -> str:
    """The stage of the child's journey (or the topic) of the innermost heading that names
    one, in the system's words; "" if none does. A box's title ("Promising practice: the
    exploitation hub") names the box, not a stage: only what comes before its kind counts
    ("Initial contact: recommendations" is about initial contact)."""
    for heading in reversed(headings):
        parts = _parts(heading)
        kind_at = next(
            (n for n, part in enumerate(parts) if any(p.match(part) for _, p in _KIND_HEADINGS)),
            len(parts),
        )
        text = " ".join(parts[:kind_at])
        for name, pattern in STAGES:
            if text and pattern.search(text):
                return name
    return ""


def classify(text: str, default: str = "finding") -> str:
    """A statement's kind from its own words: a recommendation (a timescale and "should", or
    "we recommend"), a cause of concern ("we are concerned"), practice ("good practice"), an
    area for improvement ("the force needs to"), a strength (says what works, with nothing
    against it), else `default`."""
    if _RECOMMENDATION.search(text):
        return "recommendation"
    if _CONCERN.search(text):
        return "cause_of_concern"
    if _PRACTICE.search(text) and not _NOT_PRACTICE.search(text):
        return "promising_practice"
    if _IMPROVE.search(text):
        return "area_for_improvement"
    if default == "finding" and _STRENGTH.search(text) and not _WEAKNESS.search(text):
        return "strength"
    return default


def _finish(text: str) -> str:
    text = clean(text)
    if text and text[-1] not in ".!?:\u201d\u2019\"')":
        text += "."
    return text


def _with_lead_in(lead_in: str, item: str) -> str:
    """A list item made a sentence of its own: "Within three months, the force should:" and
    "review its training;" give "Within three months, the force should review its
    training." An item that is already a sentence stands alone."""
    item = _LIST_END.sub("", item).strip()
    if lead_in and item[:1].islower() and len(lead_in) <= 250:
        return _finish(f"{lead_in.rstrip(' :')} {item}")
    return _finish(item)


def _groups(parts: list[str], limit: int = 4, chars: int = 800) -> Iterator[str]:
    """Sentences grouped into statements: a finding, with the sentences that follow it and
    only explain it ("This meant...", "For example...") until a new finding starts."""
    group: list[str] = []
    for sentence in parts:
        joins = (
            group
            and _ELABORATION.match(sentence)
            and len(group) < limit
            and sum(map(len, group)) + len(sentence) <= chars
        )
        if joins:
            group.append(sentence)
            continue
        if group:
            yield " ".join(group)
        group = [sentence]
    if group:
        yield " ".join(group)


def _is_finding(sentence: str) -> bool:
    if len(sentence.split()) < 5 or sentence.rstrip().endswith("?"):
        return False
    if _NOT_A_FINDING.search(sentence):
        return False
    return not (_METHOD.match(sentence) and not _EVALUATES.search(sentence))


def find_statements(paragraphs: Iterable[ParsedParagraph]) -> list[FoundStatement]:
    """The statements of a report's findings sections, in reading order."""
    found: list[FoundStatement] = []
    lead_in, lead_in_kind = "", ""
    lead_in_under: tuple[str, ...] = ()
    for paragraph in paragraphs:
        headings = paragraph.headings or ((paragraph.heading,) if paragraph.heading else ())
        if not headings or _excluded(headings):
            continue
        if _quotes_an_earlier_recommendation(headings[-1], paragraph.text):
            continue
        section_kind = _heading_kind(headings)
        stage = stage_of(headings)
        text = paragraph.text
        if not paragraph.list_item:
            lead_in, lead_in_kind, lead_in_under = "", "", headings
            parts = sentences(text)
            if parts and parts[-1].endswith(":"):
                # A lead-in to the list that follows: not a statement, but its context.
                lead_in = parts.pop()
                lead_in_kind = classify(lead_in, default="")
        elif headings != lead_in_under:
            lead_in, lead_in_kind = "", ""  # a list under a heading of its own
        if paragraph.list_item:
            statement = _with_lead_in(lead_in, text)
            if not _is_finding(statement):
                continue
            if section_kind and section_kind != "cause_of_concern":
                kind = section_kind
            else:
                kind = lead_in_kind or classify(statement, default=section_kind or "finding")
            found.append(FoundStatement(paragraph.number, statement, kind, stage))
            continue
        kept = [s for s in parts if _is_finding(s)]
        if not kept:
            continue
        if section_kind and section_kind != "cause_of_concern" and len(text) <= 1200:
            # A labelled box or list holds one statement a paragraph.
            found.append(
                FoundStatement(paragraph.number, _finish(" ".join(kept)), section_kind, stage)
            )
            continue
        if section_kind == "cause_of_concern":
            # The concern is one statement; a recommendation made with it is another.
            concern = [s for s in kept if not _RECOMMENDATION.search(s)]
            if concern:
                found.append(
                    FoundStatement(
                        paragraph.number, _finish(" ".join(concern)), section_kind, stage
                    )
                )
            found += [
                FoundStatement(paragraph.number, _finish(s), "recommendation", stage)
                for s in kept
                if _RECOMMENDATION.search(s)
            ]
            continue
        for group in _groups(kept):
            found.append(FoundStatement(paragraph.number, _finish(group), classify(group), stage))
    return found


# Whom a joint inspection's statement is about -----------------------------------------------

# A joint inspection's report, from its title: its statements speak of several agencies.
JOINT_TITLE = re.compile(
    r"\bjoint (targeted area )?inspection\b|\bjoint inspection of child protection\b|"
    r"\bmulti-agency response\b",
    re.IGNORECASE,
)
# The programme types of joint inspections (inspections.models.JOINT_TYPES, as this module
# imports no Django; a test keeps the two the same).
JOINT_PROGRAMME_TYPES = frozenset({"jtai", "jicpa"})


def is_joint(programme_type: str, title: str) -> bool:
    """A joint inspection's report (its statements speak of every agency of an area): by its
    programme type, or by its title when it has none."""
    return programme_type in JOINT_PROGRAMME_TYPES or (
        not programme_type and bool(JOINT_TITLE.search(title))
    )


# The type of inspection a report says it is ----------------------------------------------------
#
# Its title ("Northshire Police: National child protection post-inspection review") or its
# opening paragraphs ("A thematic inspection of six police forces") name it. The programme
# types' values (inspections.models.ProgrammeType, as this module imports no Django; a test
# keeps them the same), each with the words that name it.
_PROGRAMME_WORDS: list[tuple[str, re.Pattern[str]]] = [
    ("ncpi_review", re.compile(r"\bpost[- ]inspection review\b", re.I)),
    ("ncpi_reinspection", re.compile(r"\bre-?inspection\b", re.I)),
    ("ncpi", re.compile(r"\bnational child protection inspection\b", re.I)),
    ("jtai", re.compile(r"\bjoint targeted area inspection\b|\bJTAI\b", re.I)),
    (
        "jicpa",
        re.compile(r"\bjoint inspection of child protection arrangements\b|\bJICPA\b", re.I),
    ),
    ("thematic", re.compile(r"\bthematic (inspection|report|review)\b", re.I)),
]
# A review or re-inspection of an NCPI is often titled with the programme's name first
# ("National child protection inspection: post-inspection review, Kent Police"): the
# follow-up is what it is.
_FOLLOW_UPS = frozenset({"ncpi_review", "ncpi_reinspection"})
# Where a report says what it is: its first pages (front matter, summary, introduction).
PROGRAMME_SEARCH_PARAGRAPHS = 12
# In those pages a report also mentions other inspections ("Following the joint targeted
# area inspection of Lancashire in 2018", "This report draws on findings from the JTAI of
# Leeds", "our national child protection inspection programme"). A phrase names the report
# itself only where the words just before it say so: it opens its sentence ("A thematic
# inspection of six police forces", a subtitle "National child protection inspection"), or
# follows "this" ("This thematic inspection"), "this is a", "we carried out a", or "the
# findings of our" ("This report sets out the findings of our national child protection
# inspection of ..."); and never when a programme or a year follows it.
_SELF_BEFORE = re.compile(
    r"(?:^\W*(?:(?:a|an|the|this|our)\s+)?"
    r"|\bthis\s+"
    r"|\b(?:this|it)\s+(?:is|was)\s+(?:an?|the|our)\s+"
    r"|\b(?:carried out|conducted|undertook|completed)\s+(?:an?|this|our)\s+"
    r"|\b(?:findings|results|report)\s+(?:of|on)\s+(?:an?|this|our)\s+)$",
    re.I,
)
_A_PROGRAMME = re.compile(r"^\s*(programmes?\b|(of|in)\s+(19|20)\d\d\b)", re.I)
_SENTENCE_END = re.compile(r"[.!?]\s+")
_LOOK_BACK = 120  # characters before a phrase in which its sentence says what it is


def _describes_itself(text: str, match: re.Match[str]) -> bool:
    before = text[max(0, match.start() - _LOOK_BACK) : match.start()]
    sentence = _SENTENCE_END.split(before)[-1]
    return bool(_SELF_BEFORE.search(sentence)) and not _A_PROGRAMME.match(text[match.end() :])


def _programme_named(text: str, itself: bool) -> str:
    """The type `text` names first; with `itself`, only a phrase that describes the report
    itself counts. A review or re-inspection named with the NCPI it follows up ("National
    child protection inspection: post-inspection review") is the follow-up."""
    found: list[tuple[int, str]] = []
    follow_ups: dict[str, re.Match[str]] = {}
    for value, words in _PROGRAMME_WORDS:
        matches = list(words.finditer(text))
        if value in _FOLLOW_UPS and matches:
            follow_ups[value] = matches[0]
        for match in matches:
            if not itself or _describes_itself(text, match):
                found.append((match.start(), value))
                break
    if any(value in _FOLLOW_UPS for _, value in found):
        found = [(at, value) for at, value in found if value != "ncpi"]
    elif follow_ups and found and min(found)[1] == "ncpi":
        # The NCPI's name, then in the same sentence the follow-up's.
        at = min(found)[0]
        end = _SENTENCE_END.search(text, at)
        same = [
            (m.start(), value)
            for value, m in follow_ups.items()
            if at < m.start() and (end is None or m.start() < end.start())
        ]
        if same:
            return min(same)[1]
    return min(found)[1] if found else ""


def programme_type_stated(title: str, paragraphs: Sequence[ParsedParagraph]) -> str:
    """The programme type a report names itself by ("" if it names none): the one its title
    names, else the first its opening paragraphs name as what the report itself is. A title
    that says the report is a joint inspection's ("Joint inspection of the multi-agency
    response to ...") takes only a joint type from the paragraphs: nothing else overrides
    it (`is_joint`)."""
    if named := _programme_named(title, itself=False):
        return named
    joint = bool(JOINT_TITLE.search(title))
    for paragraph in paragraphs[:PROGRAMME_SEARCH_PARAGRAPHS]:
        for text in (paragraph.heading, paragraph.text):
            named = _programme_named(text, itself=True)
            if named and (not joint or named in JOINT_PROGRAMME_TYPES):
                return named
    return ""


def force_names(name: str) -> list[str]:
    """The names a report's title may give a force ("Devon & Cornwall Police" or "Devon and
    Cornwall Police")."""
    plain = " ".join(name.split())
    names = [plain, plain.replace(" & ", " and "), plain.replace(" and ", " & ")]
    return list(dict.fromkeys(n for n in names if n))


# A point a report makes twice ----------------------------------------------------------------
#
# Reports state a point in their summary and again in the body ("We found that the force
# manages registered sex offenders effectively." / "The force manages registered sex offenders
# effectively."), and list their recommendations there and again in each section. Counted
# twice, one report weighs double in a theme's prevalence. Two statements of one report make
# the same point when their words, bar stop words and the reports' own phrasing ("we found
# that", "within three months, the force should make sure"), are largely the same: at least
# REPEAT_ALIKE of all their words shared (Jaccard), or the shorter's words nearly all
# (REPEAT_WITHIN) in the longer. A recommendation repeats only a recommendation: one worded
# like the finding it answers is a different statement; likewise a strength (or good
# practice) repeats only a strength, a weakness (an area for improvement, a cause of concern)
# only a weakness, and a plain finding only a finding: "Officers share information promptly"
# and "Officers do not share information promptly" overlap in all but one word, so two
# statements repeat each other only if they have the same words of negation and degree
# ("not", "fail", "few", "well", "always", "rarely"; `_POLARITY_WORDS`), bar those the longer
# adds after its first sentence. On the
# six samples (invented, and looked at while these rules were set, so the figures are
# optimistic): of the 37 pairs of statements whose words overlap most (Jaccard
# 0.35 or more, or 60% of the shorter's words within the longer), the three repeats of one
# kind are found and none of the others: a finding and the recommendation it leads to;
# "Caseloads in the children's social care assessment teams are high" and "Children's social
# care assessments are timely". Two areas for improvement that the report's recommendations
# repeat with a deadline stay, by the recommendation rule.
REPEAT_ALIKE = 0.6
REPEAT_WITHIN = 0.9
REPEAT_MIN_WORDS = 3
# The reports' own phrasing that statements of every kind share ("We recommend that the force
# makes sure...", "Officers did not..."): no clue to what a statement is about (discovery's
# terms, and repeats here).
REPORT_PHRASING = frozenset(
    {
        "constabulary",
        "did",
        "does",
        "ensure",
        "ensures",
        "force",
        "forces",
        "make",
        "makes",
        "recommend",
        "recommends",
        "sure",
    }
)
# And what a summary adds to a point it repeats: "We found that...", "We are concerned
# that...", "Within three months...".
_REPEAT_IGNORED = REPORT_PHRASING | {
    "concerned",
    "found",
    "immediately",
    "month",
    "months",
    "six",
    "three",
    "twelve",
    "weeks",
}


def singular(word: str) -> str:
    """A plain English plural's singular, enough to tell "inspector" and "inspectors" are
    one word; other words as they are."""
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


# Words that say whether, or how well, something is done: two statements make one point only
# if they have the same of these ("share" is not "do not share", "fail to share", "rarely
# share"; "always record" is not "sometimes record"). Some are stop words, kept here.
_POLARITY_WORDS = frozenset(
    {
        "always",
        "cannot",
        "consistently",
        "enough",
        "fail",
        "few",
        "hardly",
        "inconsistently",
        "insufficient",
        "lack",
        "less",
        "little",
        "more",
        "most",
        "never",
        "no",
        "none",
        "nor",
        "not",
        "nothing",
        "often",
        "only",
        "poor",
        "poorly",
        "rarely",
        "seldom",
        "sometimes",
        "too",
        "unable",
        "well",
        "without",
    }
)
_POLARITY_FORMS = {"fails": "fail", "failed": "fail", "lacks": "lack", "lacking": "lack"}
_KIND_FAMILY = {
    "strength": "strength",
    "promising_practice": "strength",
    "good_practice": "strength",
    "area_for_improvement": "weakness",
    "cause_of_concern": "weakness",
    "recommendation": "recommendation",
}


def _point_words(text: str) -> frozenset[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS  # only when importing

    text = re.sub(r"can't\b", "cannot", text.lower().replace("\u2019", "'"))
    words = [
        _POLARITY_FORMS.get(w, w) for w in re.findall(r"[a-z]{2,}", re.sub(r"n't\b", " not", text))
    ]
    return frozenset(
        w if w in _POLARITY_WORDS else singular(w)  # "always", "fails": not plurals
        for w in words
        if (w not in ENGLISH_STOP_WORDS or w in _POLARITY_WORDS) and w not in _REPEAT_IGNORED
    )


@dataclass(frozen=True)
class _Point:
    words: frozenset[str]  # the statement's words, as `_point_words` keeps them
    opening: frozenset[str]  # its first sentence's words of negation and degree


def _point(text: str) -> _Point:
    first = re.split(r"(?<=[.!?])\s+", text.strip(), maxsplit=1)[0]
    return _Point(_point_words(text), _point_words(first) & _POLARITY_WORDS)


def _same_point(p: _Point, q: _Point) -> bool:
    a, b = p.words, q.words
    if min(len(a), len(b)) < REPEAT_MIN_WORDS:
        return False
    # The same words of negation and degree ("do not share" is not "share"), bar those a
    # longer one adds after its first sentence, with its consequences ("As a result,
    # agencies lack the information they need").
    shorter, longer = (p, q) if len(a) <= len(b) else (q, p)
    said, more = shorter.words & _POLARITY_WORDS, longer.words & _POLARITY_WORDS
    if not said <= more or (more - said) & longer.opening:
        return False
    shared = len(a & b)
    return shared / len(a | b) >= REPEAT_ALIKE or shared / min(len(a), len(b)) >= REPEAT_WITHIN


def repeats(
    statements: Sequence[FoundStatement], coded: Sequence[bool] | None = None
) -> dict[int, int]:
    """The statements of one report (in reading order) that repeat another of them: the
    index of each repeat, to the index of the one that stays and counts (never itself a
    repeat). Of two statements making one point, the one a person has coded stays (`coded`,
    one flag a statement; none at import), else the one read under a stage of the child's
    journey (the body's, usually, not the summary's), else the first."""
    points = [_point(s.text) for s in statements]
    family = [_KIND_FAMILY.get(s.kind, s.kind) for s in statements]
    flags = list(coded) if coded is not None else [False] * len(statements)

    def rank(n: int) -> tuple[bool, bool, int]:
        return (flags[n], bool(statements[n].stage), -n)

    out: dict[int, int] = {}
    for j in range(len(statements)):
        for i in range(j):
            if i in out or j in out or family[i] != family[j]:
                continue
            if not _same_point(points[i], points[j]):
                continue
            kept, repeat = (i, j) if rank(i) >= rank(j) else (j, i)
            out[repeat] = kept
            for earlier, to in out.items():  # those that repeated it now repeat the one kept
                if to == repeat:
                    out[earlier] = kept
    return out


# The local authority area a joint inspection's title names ("...children living with
# domestic abuse in Kingston upon Hull"). The reference data has the Office for National
# Statistics' names, which reports shorten: "Kingston upon Hull, City of" is "Kingston upon
# Hull", "County Durham" is often "Durham", "St. Helens" is "St Helens".
_AREA_SUFFIX = re.compile(r",\s*(City|County) of$")
_K = TypeVar("_K")


def area_names(name: str, welsh: str = "") -> list[str]:
    """The names a report's title may give a local authority (`name`, the ONS's, and its
    Welsh name `welsh`)."""
    names = []
    for given in (name, welsh):
        plain = _AREA_SUFFIX.sub("", " ".join(given.split()))
        if not plain:
            continue
        names.append(plain)
        if plain.startswith("County "):
            names.append(plain.removeprefix("County "))
        if "St. " in plain:
            names.append(plain.replace("St. ", "St "))
    return list(dict.fromkeys(names))


def area_display(name: str) -> str:
    """A local authority's name as a sentence gives it: as reports name it ("Kingston upon
    Hull", not the ONS's "Kingston upon Hull, City of", whose comma runs into the
    sentence's)."""
    return (area_names(name) or [name])[0]


def area_in_title(title: str, areas: Iterable[tuple[_K, Sequence[str]]]) -> _K | None:
    """The one area (the key of one of `areas`, each with its `area_names`) whose name the
    title gives, as whole words with its capitals ("Reading" names the area, "reading" does
    not); None if it names none, or more than one ("Newport and Cardiff"). A name within a
    longer one that the title gives (an area "Poole" in "Bournemouth, Christchurch and
    Poole") does not count on its own."""
    found: list[tuple[int, int, _K]] = []
    for key, names in areas:
        for name in names:
            pattern = rf"(?<![\w-]){re.escape(name)}(?![\w-])"
            found.extend((m.start(), m.end(), key) for m in re.finditer(pattern, title))
    named = {
        key
        for start, end, key in found
        if not any(s <= start and end <= e and e - s > end - start for s, e, _ in found)
    }
    return named.pop() if len(named) == 1 else None


# The words that name each agency (models.Agency's values), and those that name agencies
# working together.
_AGENCY_WORDS: list[tuple[str, re.Pattern[str]]] = [
    (
        "police",
        re.compile(
            # "Officers from the local authority and the police": another agency's officers
            # (but "officers of all ranks", "officers from the response team" are police).
            r"\bpolice\b|(?<!probation )(?<!health )(?<!welfare )\bofficers?\b"
            r"(?!\s+(from|of)\s+(the\s+)?(local authority|probation|health|children|social|"
            r"schools?|education|youth|partner|other)\b)|"
            r"\bconstabulary\b|\bforce'?s?\b|\bcustody\b|"
            r"\bdetectives?\b|\bPCSOs?\b|\bcontrol room\b|\bbody-worn\b|\bbail\b|"
            r"\bprotection orders?\b|\binvestigat(ion|ions|ors?|e|ed|ing)\b",
            re.IGNORECASE,
        ),
    ),
    (
        "social_care",
        re.compile(
            r"\bsocial (workers?|care)\b|\blocal authority\b|\bchildren's services\b|"
            r"\bemergency duty team\b|\bfamily support workers?\b",
            re.IGNORECASE,
        ),
    ),
    (
        "health",
        re.compile(
            r"\bhealth\b|\bmidwi(fe|ves|fery)\b|\bGPs?\b|\bhospitals?\b|\bnurses?\b|"
            r"\bpaediatric|\bCAMHS\b|\bclinical\b|\bhealth visitors?\b|\bemergency department",
            re.IGNORECASE,
        ),
    ),
    (
        "probation",
        re.compile(
            r"\bprobation\b|\bcommunity rehabilitation compan(y|ies)\b|\boffender managers?\b|"
            r"\byouth (offending|justice) (service|team)s?\b",
            re.IGNORECASE,
        ),
    ),
    (
        "education",
        re.compile(
            r"\bschools?\b|\bteachers?\b|\beducation\b|\bcolleges?\b|"
            r"\bdesignated safeguarding leads?\b",
            re.IGNORECASE,
        ),
    ),
]
_TOGETHER = re.compile(
    r"\bpartnership'?s?\b|\bpartners\b|\bagencies\b|\bmulti-agency\b|\bMASH\b|\bMARACs?\b|"
    r"\bsafeguarding (children )?(board|partnership|partners)\b|"
    r"\bstrategy (discussion|meeting)s?\b",
    re.IGNORECASE,
)
_WHOSE_OFFICERS = re.compile(r"officers?\s+(from|of)\b", re.IGNORECASE)
OPENING_WORDS = 3  # "Probation officers check...", "Health practitioners in the MASH..."
SUBJECT_WORDS = 8  # a statement's subject: what its first words name


def _agencies(text: str) -> list[str]:
    return [name for name, pattern in _AGENCY_WORDS if pattern.search(text)]


def agency_of(text: str) -> str:
    """Whom a joint inspection's statement is about: the one agency its first words name
    ("Probation officers check with the police...", "Midwives ask..."); else the one agency
    its subject (its first eight words) names; agencies working together if the subject
    names several or speaks of the partnership ("Leaders across the partnership", "The
    police, probation and health services share..."); else the one agency the rest names;
    else agencies working together (a letter's statement about no agency in particular, "The
    voice of the child is not consistently heard", is about them all)."""
    words = text.replace("\u2019", "'").split()  # a curly apostrophe as a straight one
    text = " ".join(words)
    opening = " ".join(words[:OPENING_WORDS])
    # "Officers from the local authority...": whose officers, the subject's next words say.
    named = [] if _WHOSE_OFFICERS.match(text) else _agencies(opening)
    # "Social workers and police officers jointly...": the opening starts a list of agencies.
    listing = bool(re.search(r"\band\b|,", opening))
    if len(named) == 1 and not _TOGETHER.search(opening) and not listing:
        return named[0]
    subject = " ".join(words[:SUBJECT_WORDS])
    named = _agencies(subject)
    if len(named) == 1 and not _TOGETHER.search(subject):
        return named[0]
    if named or _TOGETHER.search(subject):
        return "multi_agency"
    named = _agencies(text)
    if len(named) == 1 and not _TOGETHER.search(text):
        return named[0]
    return "multi_agency"
