from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from apps.inspections.models import State

register = template.Library()

TAG_COLOURS: dict[str, str] = {
    State.PLANNED: "govuk-tag--grey",
    State.NOTIFIED: "govuk-tag--light-blue",
    State.FIELDWORK: "govuk-tag--yellow",
    State.REPORTING: "govuk-tag--purple",
    State.QUALITY_ASSURANCE: "govuk-tag--purple",
    State.PUBLISHED: "govuk-tag--green",
    State.FOLLOW_UP: "govuk-tag--orange",
    State.CLOSED: "govuk-tag--grey",
}


@register.simple_tag
def state_tag(state: str) -> SafeString:
    """The lifecycle stage as a GOV.UK tag; the words carry the meaning, colour only helps."""
    return format_html(
        '<strong class="govuk-tag {}">{}</strong>', TAG_COLOURS.get(state, ""), State(state).label
    )
