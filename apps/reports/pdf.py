"""The PDF of a publication, made by WeasyPrint from the frozen HTML: a title page, a contents
list with page numbers, the body with its tables and charts, and page numbers on every page.

Rendering uses no network: the document carries its own style sheet and inline SVG charts,
and a URL fetcher that refuses everything stops any reference from leaving the machine.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.template.loader import render_to_string


def _no_fetch(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    raise ValueError(f"The report PDF may not fetch {url}: everything must be inline.")


def render_pdf(
    *,
    title: str,
    body_html: str,
    contents: list[dict[str, str]],
    meta: dict[str, Any],
) -> tuple[bytes, int, str]:
    """The PDF bytes, their page count and SHA-256."""
    from weasyprint import HTML  # imported here: loading Pango costs time at start-up

    html = render_to_string(
        "reports/pdf.html",
        {"title": title, "body_html": body_html, "contents": contents, "meta": meta},
    )
    document = HTML(string=html, url_fetcher=_no_fetch, base_url="about:blank").render()
    data = document.write_pdf()
    assert data is not None
    return data, len(document.pages), hashlib.sha256(data).hexdigest()
