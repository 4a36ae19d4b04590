"""How the PDF lays out what the body gives it (the inspection reports' and the thematic
reports' PDFs share the template)."""

from __future__ import annotations

import io

from pdfminer.high_level import extract_text

from apps.reports.pdf import render_pdf


def _pages(body: str) -> list[str]:
    """The text of each page of a report's PDF whose one section is `body`."""
    data, count, _ = render_pdf(
        title="A report",
        body_html=f'<section class="app-report-section"><h2 id="s1">Findings</h2>{body}</section>',
        contents=[{"id": "s1", "title": "Findings"}],
        meta={"reference": "R-1", "programme": "Test", "published_on": "2026-11-26"},
    )
    return [extract_text(io.BytesIO(data), page_numbers=[n]) for n in range(count)]


def test_a_table_that_moves_to_the_next_page_takes_its_caption():
    rows = "".join(f"<tr><td>Row {n}</td><td>{n}</td></tr>" for n in range(25))
    pages = _pages(
        '<div style="height: 200mm">A long paragraph before the table.</div>'
        f"<table><caption>Cases by grade</caption><tbody>{rows}</tbody></table>"
    )
    with_caption = [n for n, text in enumerate(pages) if "Cases by grade" in text]
    with_first_row = [n for n, text in enumerate(pages) if "Row 0" in text]
    assert len(with_caption) == 1 and with_caption == with_first_row
    # The table did not fit after the paragraph: it moved, caption and all.
    assert "A long paragraph" not in pages[with_caption[0]]


def test_a_chart_keeps_its_shape_in_the_pdf():
    """A chart fills the page's width at its own aspect ratio: no square box with empty space
    above and below the drawing (as an inline "height: auto" on the <svg> gave)."""
    import re

    from django.template.loader import render_to_string
    from weasyprint import HTML

    from apps.themes.analysis import bar_chart_svg

    chart = bar_chart_svg(
        [("Partnership", 0.4, 0.3, 0.5), ("Supervision", 0.2, 0.1, 0.3)], title="Themes"
    )
    width, height = (int(n) for n in re.search(r'width="(\d+)" height="(\d+)"', chart).groups())
    html = render_to_string(
        "reports/pdf.html",
        {
            "title": "A report",
            "body_html": f'<section class="app-report-section"><h2 id="s1">Themes</h2>'
            f"<figure>{chart}</figure></section>",
            "contents": [{"id": "s1", "title": "Themes"}],
            "meta": {"reference": "R-1", "programme": "Test", "published_on": "2026-11-26"},
        },
    )
    document = HTML(string=html, base_url="about:blank").render()
    boxes = []

    def walk(box: object) -> None:
        if type(box).__name__.endswith("ReplacedBox"):
            boxes.append(box)
        for child in getattr(box, "children", None) or []:
            walk(child)

    for page in document.pages:
        walk(page._page_box)
    assert len(boxes) == 1
    box = boxes[0]
    assert box.width > width * 0.5  # drawn across the page, not shrunk
    assert abs(box.height / box.width - height / width) < 0.01


def test_a_quotation_stays_on_one_page_with_the_line_that_says_where_it_is_from():
    pages = _pages(
        '<div style="height: 228mm">A long paragraph before the quotation.</div>'
        '<blockquote class="app-quote"><p>\u201cThe force works well with partners.\u201d</p>'
        "<p>Strength \u00b7 A report (2021)</p></blockquote>"
    )
    quoted = [n for n, text in enumerate(pages) if "works well with partners" in text]
    attributed = [n for n, text in enumerate(pages) if "A report (2021)" in text]
    assert len(quoted) == 1 and quoted == attributed
