"""Figures of the thematic analysis in words."""

from __future__ import annotations

from django import template

from apps.themes.analysis import whole_percent

register = template.Library()


@register.filter
def percent(share: float | None) -> str:
    """0.1234 as "12%" (whole per cent; "under 1%" for a share that is not nought)."""
    if share is None:
        return ""
    if 0 < share < 0.005:
        return "under 1%"
    return whole_percent(share)


@register.filter
def interval(cell: dict[str, float] | None) -> str:
    """A figure's 95% interval as "8% to 17%"."""
    if not cell or cell.get("low") is None:
        return ""
    return f"{whole_percent(cell['low'])} to {whole_percent(cell['high'])}"


@register.filter
def p_value(value: float | None) -> str:
    if value is None:
        return ""
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


@register.filter
def points(slope: float | None) -> str:
    """A share's change a year, in percentage points."""
    if slope is None:
        return ""
    return f"{slope * 100:+.1f} points a year"
