"""Back links that go back: to the themes page a person came from, where it is one of the
pages that lead on to this one, else to the page's usual parent."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.http import HttpRequest
from django.urls import Resolver404, resolve
from django.utils.http import url_has_allowed_host_and_scheme

# The pages a statement or an evidence list is opened from, and what going back says.
CAME_FROM = {
    "themes:review": "Back to the review queue",
    "themes:evidence": "Back to the statements",
    "themes:analysis": "Back to the analysis",
    "themes:report": "Back to the thematic report",
    "themes:discovery": "Back to the candidate themes",
    "themes:archive-report": "Back to the imported report",
}


def back_link(request: HttpRequest, default_url: str, default_label: str) -> tuple[str, str]:
    """(address, words) of the back link: the referring page of this site if it is one of
    CAME_FROM's and not this page itself (a form shown again after an error), with its query
    string; else the default."""
    referrer = request.META.get("HTTP_REFERER", "")
    if referrer and url_has_allowed_host_and_scheme(
        referrer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        parts = urlsplit(referrer)
        if parts.path != request.path:
            try:
                name = resolve(parts.path).view_name
            except Resolver404:
                name = ""
            if name in CAME_FROM:
                return parts.path + (f"?{parts.query}" if parts.query else ""), CAME_FROM[name]
    return default_url, default_label
