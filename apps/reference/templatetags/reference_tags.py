"""Formatting of reference figures for the pages."""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma
from django.template.defaultfilters import date as date_filter
from django.utils.html import format_html

from apps.reference.models import ContextFigure

register = template.Library()

Measure = ContextFigure.Measure
RATES = {Measure.CIN_RATE, Measure.CPP_RATE}


@register.filter
def figure(value: Decimal | int | None, measure: str = "") -> str:
    """A figure with thousands separators: rates to one decimal place, counts whole."""
    if value is None:
        return ""
    if measure in RATES:
        return intcomma(f"{Decimal(value):.1f}", use_l10n=False)
    return intcomma(int(value), use_l10n=False)


@register.filter
def period_label(figure: ContextFigure | None) -> str:
    """How a figure's period reads: "mid-2023" for estimates, "at 31 March 2025" for DfE's
    counts at the end of a reporting year."""
    if figure is None:
        return ""
    if figure.measure == Measure.POPULATION_0_17:
        return f"{figure.period} estimate"
    if figure.period.isdigit():
        return f"at 31 March {figure.period}"
    return figure.period


@register.simple_tag
def figure_cell(line: object) -> str:
    """A table cell's figure, or "Not available" with the reason. A tag, not an include:
    tables render it once per area, and an include per cell is what made them slow."""
    if getattr(line, "available", False):
        return figure(line.value, line.measure)  # type: ignore[attr-defined]
    reason = getattr(line, "short_reason", "") or ""
    return format_html(
        'Not available<span class="govuk-!-display-block govuk-!-font-size-16">{}</span>',
        reason[:1].upper() + reason[1:],
    )


@register.simple_tag
def judgement_cells(area: object) -> str:
    """The two table cells of an area's latest Ofsted judgement (a tag, not an include, for
    the same reason as figure_cell)."""
    if getattr(area, "country", "") == "wales":
        return format_html(
            '<td class="govuk-table__cell" colspan="2">Not applicable<span '
            'class="govuk-!-display-block govuk-!-font-size-16">{}</span></td>',
            "Care Inspectorate Wales, not Ofsted, inspects children's services in Wales",
        )
    judgement = getattr(area, "latest_judgement", None)
    if judgement is None:
        return format_html('<td class="govuk-table__cell" colspan="2">{}</td>', "Not available")
    return format_html(
        '<td class="govuk-table__cell">{}</td><td class="govuk-table__cell">{}</td>',
        judgement.overall_effectiveness or "Not graded",
        date_filter(judgement.inspection_date, "j F Y"),
    )
