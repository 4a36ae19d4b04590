"""The case file charts: inline SVG bars for each row of a grade table with nothing withheld,
beside the table that is their accessible version."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from apps.reports.charts import BAR_HEIGHT, LABEL_WIDTH, PALETTES, WIDTH, grade_chart
from apps.reports.content import Cell, Row, Table, report_content

from .conftest import Drafted

SVG = "{http://www.w3.org/2000/svg}"
GRADES = ["good", "requires improvement", "inadequate"]
BAR = WIDTH - LABEL_WIDTH - 10  # the length of a whole bar


def _row(label: str, *counts: int, suppressed: tuple[int, ...] = ()) -> Row:
    cells = [Cell(n, suppressed=i in suppressed) for i, n in enumerate(counts)]
    return Row(label, cells, Cell(sum(counts)))


@pytest.fixture
def table() -> Table:
    return Table(
        key="by-area",
        caption="Case grades by area",
        columns=list(GRADES),
        rows=[
            _row("Domestic abuse", 10, 5, 5),
            _row("Missing children", 6, 0, 6),
            _row("Child sexual exploitation", 7, 3, 5, suppressed=(1,)),  # 3 is withheld
            _row("Online abuse", 0, 0, 0),  # no cases
        ],
        total_row=_row("All areas", 23, 8, 16),
    )


def _svg(table: Table) -> ET.Element:
    return ET.fromstring(str(grade_chart(table)))  # noqa: S314 - the chart this test drew


def _bars(svg: ET.Element) -> list[dict[str, str]]:
    """The coloured segments of the bars: filled rectangles with no outline."""
    return [r.attrib for r in svg.iter(f"{SVG}rect") if "stroke" not in r.attrib]


def _texts(svg: ET.Element) -> list[str]:
    return [t.text or "" for t in svg.iter(f"{SVG}text")]


def test_a_bar_for_each_row_with_nothing_withheld(table):
    svg = _svg(table)
    # Two rows charted: 3 segments for domestic abuse, 2 for missing children (no zero-width
    # segment for the grade with no cases).
    bars = _bars(svg)
    assert len(bars) == 5
    outlines = [r.attrib for r in svg.iter(f"{SVG}rect") if r.attrib.get("fill") == "#ffffff"]
    assert len(outlines) == 2
    first, second = bars[:3], bars[3:]
    assert [(float(b["x"]), float(b["width"])) for b in first] == [
        (LABEL_WIDTH, BAR * 10 / 20),
        (LABEL_WIDTH + BAR * 10 / 20, BAR * 5 / 20),
        (LABEL_WIDTH + BAR * 15 / 20, BAR * 5 / 20),
    ]
    assert [(float(b["x"]), float(b["width"])) for b in second] == [
        (LABEL_WIDTH, BAR / 2),
        (LABEL_WIDTH + BAR / 2, BAR / 2),
    ]
    # Each segment has its grade's colour, also when a grade between has no cases.
    colours = PALETTES[3]
    assert [b["fill"] for b in first] == list(colours)
    assert [b["fill"] for b in second] == [colours[0], colours[2]]
    # Rows one under the other.
    assert {b["y"] for b in first} != {b["y"] for b in second}
    assert all(b["height"] == str(BAR_HEIGHT) for b in bars)
    height = 28 + 2 * (BAR_HEIGHT + 12) + 4
    assert svg.attrib["viewBox"] == f"0 0 {WIDTH} {height}"


def test_labels_legend_and_percentages(table):
    texts = _texts(_svg(table))
    assert texts[:3] == ["Good", "Requires improvement", "Inadequate"]  # the legend
    assert "Domestic abuse" in texts and "Missing children" in texts
    assert [t for t in texts if t.endswith("%")] == ["50%", "25%", "25%", "50%", "50%"]
    # A row with a withheld count is not charted (its bar would give the number away), nor a
    # row with no cases; the total row is in the table only.
    for absent in ("Child sexual exploitation", "Online abuse", "All areas"):
        assert absent not in texts
    legend = [r for r in _svg(table).iter(f"{SVG}rect") if r.attrib.get("width") == "14"]
    assert [r.attrib["fill"] for r in legend] == list(PALETTES[3])


def test_a_narrow_segment_has_no_percentage_and_a_long_label_is_shortened():
    long = "Children missing from home and from care, repeatedly"
    table = Table(
        key="k",
        caption="c",
        columns=list(GRADES),
        rows=[_row(long, 19, 0, 1), _row("Boys & girls <16", 5, 5, 0)],
    )
    svg = _svg(table)
    texts = _texts(svg)
    assert long[:33] + "…" in texts
    assert long not in texts
    assert "Boys & girls <16" in texts  # escaped in the markup, so the SVG parses
    assert "&amp;" in str(grade_chart(table)) and "&lt;16" in str(grade_chart(table))
    # 1 of 20 is a sliver (20 of 400 units): drawn, but too narrow to label.
    widths = [float(b["width"]) for b in _bars(svg)]
    assert widths[:2] == [BAR * 19 / 20, BAR * 1 / 20]
    assert "95%" in texts and "5%" not in texts


def test_the_chart_is_hidden_from_assistive_technology(table):
    """The table is the accessible version: the chart repeats it, so it is hidden rather than
    given its own title or description, and takes no keyboard focus."""
    svg = _svg(table)
    assert svg.attrib["aria-hidden"] == "true"
    assert svg.attrib["focusable"] == "false"
    assert svg.attrib["class"] == "app-report-chart"
    assert "role" not in svg.attrib
    # No script and no external reference: the frozen HTML and the PDF carry it as is.
    markup = str(grade_chart(table))
    assert "<script" not in markup and "href" not in markup


def test_nothing_to_chart_draws_nothing():
    table = Table(
        key="k",
        caption="c",
        columns=list(GRADES),
        rows=[_row("Withheld", 7, 2, 6, suppressed=(1,)), _row("Empty", 0, 0, 0)],
    )
    assert str(grade_chart(table)) == ""
    assert str(grade_chart(Table(key="k", caption="c", columns=list(GRADES), rows=[]))) == ""


def test_more_grades_than_a_palette_reuse_the_colours():
    columns = ["a", "b", "c", "d", "e", "f", "g"]
    table = Table(key="k", caption="c", columns=columns, rows=[_row("Row", *([5] * 7))])
    fills = [b["fill"] for b in _bars(_svg(table))]
    base = PALETTES[5]
    assert fills == [base[0], base[1], base[2], base[3], base[4], base[0], base[1]]
    four = Table(key="k", caption="c", columns=columns[:4], rows=[_row("Row", 5, 5, 5, 5)])
    assert [b["fill"] for b in _bars(_svg(four))] == list(base[:4])


def _cells(html: str) -> list[list[str]]:
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", html, re.S)
    return [
        [
            re.sub(r"<[^>]+>", "", c).strip()
            for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r, re.S)
        ]
        for r in rows
    ]


def test_the_table_beside_the_chart_has_every_number(table):
    html = render_to_string("reports/_table.html", {"table": table})
    assert "<caption" in html and "Case grades by area" in html
    cells = _cells(html)
    assert cells[0] == ["Group", "Good", "Requires improvement", "Inadequate", "Cases"]
    assert cells[1] == ["Domestic abuse", "10 (50%)", "5 (25%)", "5 (25%)", "20"]
    assert cells[2] == ["Missing children", "6 (50%)", "0 (0%)", "6 (50%)", "12"]
    assert cells[3] == ["Child sexual exploitation", "7 (47%)", "fewer than 5", "5 (33%)", "15"]
    assert cells[4] == ["Online abuse", "0", "0", "0", "0"]
    assert cells[5] == ["All areas", "23 (49%)", "8 (17%)", "16 (34%)", "47"]
    # The chart follows its table, inside the same block.
    assert html.index("</table>") < html.index('<svg class="app-report-chart"')


@pytest.mark.django_db
def test_the_report_charts_its_audited_cases(client, drafted: Drafted):
    fw = drafted.fw
    fw.upload()
    fw.draw(quotas={"domestic_abuse": 10, "missing_children": 10, "child_sexual_exploitation": 3})
    for case in fw.inspection.sampled_cases.filter(for_moderation=False).order_by("pk"):
        fw.complete(fw.audit(case, "inspector"), "good")
    content = report_content(drafted.report)
    by_area = next(t for t in content.tables if t.key == "by-area")
    charted = [r.label for r in by_area.rows if r.total.count and not r.any_withheld]
    withheld = [r.label for r in by_area.rows if r.any_withheld]
    assert charted and withheld  # the three child sexual exploitation cases are withheld
    client.force_login(drafted.users["inspector"])
    html = client.get(reverse("reports:preview", args=[drafted.inspection.pk, "en"])).content
    html = html.decode()
    after_caption = html.split(f">{by_area.caption}</caption>", 1)[1]
    chart = re.search(r'<svg class="app-report-chart".*?</svg>', after_caption, re.S)
    assert chart is not None
    assert after_caption.index("</table>") < chart.start()  # the chart of this table
    labels = _texts(ET.fromstring(chart.group(0)))  # noqa: S314 - our own page
    for label in charted:
        assert label in labels
    for label in withheld:
        assert label not in labels
    assert "100%" in labels  # every charted case was graded good
