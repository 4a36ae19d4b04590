"""Pages of the thematic synthesis: discovery, the clusters of statements that fit no theme
well, as candidate new themes for analysts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, URLPattern, path, reverse
from django.views.decorators.http import require_safe

from . import permissions

if TYPE_CHECKING:
    from .discovery import FoundCluster

# How many clusters the page lists, the largest first: enough for an analyst's session; the
# rest are counted.
SHOWN = 40
# Statements of a cluster given to the codebook's add form as examples.
EXAMPLES = 3


def _propose_url(cluster: FoundCluster) -> str | None:
    """The codebook's form for a new theme, opened with the cluster's working name and its
    most representative statements as examples; None while that form does not exist."""
    try:
        base = reverse("themes:codebook-add")
    except NoReverseMatch:
        return None
    query = [("name", cluster.name), ("covers", "")]
    # Distinct texts: the same words in two reports are one example. "What it covers" is
    # left for the analyst to write.
    texts = list(dict.fromkeys(s.text for s in cluster.statements))[:EXAMPLES]
    query += [("example", text) for text in texts]
    return f"{base}?{urlencode(query)}"


@login_required
@require_safe
def discovery(request: HttpRequest) -> HttpResponse:
    if not permissions.can_code(request.user):
        raise PermissionDenied
    # Imported here: numpy and scikit-learn load only when someone asks for this page.
    from . import discovery as found

    result = found.discovered()
    curate = permissions.can_curate(request.user)  # only curators revise the codebook
    clusters: list[dict[str, Any]] = [
        {"cluster": c, "number": n, "propose_url": _propose_url(c) if curate else ""}
        for n, c in enumerate(result.clusters[:SHOWN], 1)
    ]
    return render(
        request,
        "themes/discovery.html",
        {
            "result": result,
            "clusters": clusters,
            "hidden": max(len(result.clusters) - SHOWN, 0),
            "low_fit_percent": round(found.LOW_FIT * 100),
            "min_size": found.MIN_SIZE,
            "similarity": round(1 - found.MAX_DISTANCE, 2),
        },
    )


urlpatterns: list[URLPattern] = [
    path("themes/discovery/", discovery, name="discovery"),
]
