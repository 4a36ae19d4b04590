"""Charts for reports, drawn as inline SVG so that the frozen HTML and the PDF carry them with
no script or style sheet. A chart repeats its data table, which is the accessible version, so
the chart is hidden from assistive technology. Rows with a suppressed count are not charted:
a bar's length would give the hidden number away."""

from __future__ import annotations

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from .content import Table

# Grades run best to worst. Colours chosen to keep black text above 4.5:1 contrast.
PALETTES = {
    3: ("#80b89e", "#ffe640", "#ea9a8e"),
    5: ("#40946d", "#cce2d8", "#ffee80", "#fabb9c", "#ea9a8e"),
}
WIDTH = 640
LABEL_WIDTH = 230
BAR_HEIGHT = 24
ROW_GAP = 12
LEGEND_HEIGHT = 28


def _palette(n: int) -> tuple[str, ...]:
    if n in PALETTES:
        return PALETTES[n]
    base = PALETTES[5]
    return tuple(base[i % len(base)] for i in range(n))


def grade_chart(table: Table) -> SafeString:
    rows = [r for r in table.rows if r.total.count and not r.any_withheld]
    if not rows:
        return mark_safe("")
    colours = _palette(len(table.columns))
    bar_width = WIDTH - LABEL_WIDTH - 10
    height = LEGEND_HEIGHT + len(rows) * (BAR_HEIGHT + ROW_GAP) + 4
    parts = [
        f'<svg class="app-report-chart" xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" '
        f'aria-hidden="true" focusable="false" font-family="Arial, Helvetica, sans-serif" '
        f'font-size="13">'
    ]
    x = 0
    for i, grade in enumerate(table.columns):
        label = escape(str(grade).capitalize())
        parts.append(
            f'<rect x="{x}" y="4" width="14" height="14" fill="{colours[i]}" stroke="#0b0c0c"/>'
            f'<text x="{x + 20}" y="16" fill="#0b0c0c">{label}</text>'
        )
        x += 30 + 8 * len(str(grade))
    y = LEGEND_HEIGHT
    for row in rows:
        label = escape(row.label if len(row.label) <= 34 else row.label[:33] + "…")
        parts.append(
            f'<text x="0" y="{y + BAR_HEIGHT - 8}" fill="#0b0c0c">{label}</text>'
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{bar_width}" height="{BAR_HEIGHT}" '
            f'fill="#ffffff" stroke="#0b0c0c"/>'
        )
        offset = float(LABEL_WIDTH)
        for i, cell in enumerate(row.cells):
            if not cell.count:
                continue
            width = bar_width * cell.count / row.total.count
            parts.append(
                f'<rect x="{offset:.1f}" y="{y}" width="{width:.1f}" height="{BAR_HEIGHT}" '
                f'fill="{colours[i]}"/>'
            )
            if width >= 34:
                parts.append(
                    f'<text x="{offset + width / 2:.1f}" y="{y + BAR_HEIGHT - 8}" '
                    f'text-anchor="middle" font-weight="bold" fill="#0b0c0c">'
                    f"{row.percent(cell) or 0:.0f}%</text>"
                )
            offset += width
        y += BAR_HEIGHT + ROW_GAP
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every interpolated text is escaped
