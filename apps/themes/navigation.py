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


def _came_from(request: HttpRequest, address: str) -> tuple[str, str, str] | None:
    """(address, words, view name) for `address` if it is a page of this site among
    CAME_FROM's and not this page itself."""
    if not address or not url_has_allowed_host_and_scheme(
        address, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return None
    parts = urlsplit(address)
    if parts.path == request.path:
        return None
    try:
        name = resolve(parts.path).view_name
    except Resolver404:
        return None
    if name not in CAME_FROM:
        return None
    return parts.path + (f"?{parts.query}" if parts.query else ""), CAME_FROM[name], name


def back_link(request: HttpRequest, default_url: str, default_label: str) -> tuple[str, str]:
    """(address, words) of the back link: the page a form sent back as `back` (a form shown
    again after an error), or a redirect after a save passed on as `?back=`, else the
    referring page of this site, if it is one of CAME_FROM's and not this page itself, with
    its query string; else the default."""
    for address in (
        request.POST.get("back", ""),
        request.GET.get("back", ""),
        request.META.get("HTTP_REFERER", ""),
    ):
        found = _came_from(request, address)
        if found is not None:
            return found[0], found[1]
    return default_url, default_label


def return_to(request: HttpRequest) -> str | None:
    """Where to go once a form sent back `back` is saved: that page if it is one of
    CAME_FROM's other than the review queue (whose next statement follows instead)."""
    found = _came_from(request, request.POST.get("back", ""))
    if found is None or found[2] == "themes:review":
        return None
    return found[0]
