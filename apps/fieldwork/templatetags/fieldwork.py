from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html

from ..agreement import interpretation

register = template.Library()


@register.simple_tag
def statistic(value: float | None) -> str:
    """A kappa or alpha to two decimals with its Landis and Koch band, or 'undefined'."""
    if value is None:
        return format_html('<span class="govuk-body-s">{}</span>', "undefined")
    return format_html(
        '{} <span class="govuk-body-s">({})</span>', f"{value:.2f}", interpretation(value)
    )


@register.simple_tag
def fieldwork_visible(user: Any, inspection: Any) -> bool:
    from ..permissions import can_see_fieldwork

    return can_see_fieldwork(user, inspection)
