"""Template tags for pages outside the portal that show what it publishes."""

from __future__ import annotations

from typing import Any

from django import template

from apps.core.cache import cached_read

from .. import selectors

register = template.Library()

# (url name prefix or name, label) of the public portal's pages in the service navigation.
PUBLIC_LINKS = (
    ("portal:report", "Reports"),
    ("portal:map", "Map"),
    ("portal:open-data", "Open data"),
)


@register.simple_tag
def latest_reports(limit: int = selectors.LATEST_SHOWN) -> list[selectors.ReportRow]:
    """The newest published reports, cached until something is published."""
    return cached_read(
        ("publications",), f"portal-latest:{limit}", lambda: selectors.latest_reports(limit)
    )


@register.simple_tag(takes_context=True)
def portal_navigation(context: dict[str, Any]) -> list[dict[str, Any]]:
    """The portal's links for the service navigation, with the current one marked."""
    from django.urls import reverse

    request = context.get("request")
    match = getattr(request, "resolver_match", None)
    current = match.view_name if match else ""
    names = {"portal:report": "portal:report-list"}
    links = []
    for prefix, label in PUBLIC_LINKS:
        name = names.get(prefix, prefix)
        active = current == name or (
            prefix == "portal:report" and current.startswith("portal:report")
        )
        links.append({"href": reverse(name), "label": label, "active": active})
    return links


@register.simple_tag
def inbox_allowed(user: Any) -> bool:
    from ..permissions import can_read_contact_messages

    return can_read_contact_messages(user)
