"""Public pages about police forces and local authority areas. No sign-in needed.

Each page runs a fixed number of queries (see selectors.py).
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.functional import SimpleLazyObject
from django.views.decorators.http import require_GET

from apps.core.cache import cached_read, versions_token

from . import selectors
from .forms import AreaFilterForm
from .models import Force


@require_GET
def force_list(request: HttpRequest) -> HttpResponse:
    forces = cached_read(("reference",), "force-list", selectors.force_list)
    groups = forces.groups
    return render(
        request,
        "reference/force_list.html",
        {
            "groups": [
                ("england", "Police forces in England", groups["england"]),
                ("wales", "Police forces in Wales", groups["wales"]),
                ("non-territorial", "Non-territorial police forces", groups["non_territorial"]),
            ],
            "total": forces.total,
            "period": forces.period,
        },
    )


# The force page also shows the force's published reports, case grades and recommendations
# (apps/portal), so its body depends on publications and on recommendation statuses too.
FORCE_PAGE_KINDS = ("reference", "publications", "findings")


@require_GET
def force_detail(request: HttpRequest, slug: str) -> HttpResponse:
    # The page's body is cached as HTML; the full detail (with its map) is only read, from
    # the cache or the database, when the body is not.
    heading = cached_read(("reference",), f"force-heading:{slug}", lambda: _heading(slug))
    detail = SimpleLazyObject(
        lambda: cached_read(("reference",), f"force:{slug}", lambda: selectors.force_detail(slug))
    )
    record = SimpleLazyObject(
        lambda: cached_read(
            ("publications", "findings"),
            f"force-record:{slug}",
            lambda: selectors.force_public_record(slug),
        )
    )
    return render(
        request,
        "reference/force_detail.html",
        {
            "heading": heading,
            "detail": detail,
            "force": SimpleLazyObject(lambda: detail.force),
            "record": record,
            "fragment_key": versions_token(FORCE_PAGE_KINDS),
        },
    )


def _heading(slug: str) -> dict[str, Any]:
    heading = Force.objects.filter(slug=slug).values("name", "slug").first()
    if heading is None:
        raise Http404("No such police force")
    return dict(heading)


@require_GET
def area_list(request: HttpRequest) -> HttpResponse:
    form = AreaFilterForm(request.GET or None, forces=selectors.territorial_forces())
    force = form.selected_force()
    result = selectors.area_list(force)
    return render(
        request,
        "reference/area_list.html",
        {"form": form, "force": force, "areas": result.areas, "period": result.period},
    )


@require_GET
def area_detail(request: HttpRequest, code: str) -> HttpResponse:
    detail = cached_read(("reference",), f"area:{code}", lambda: selectors.area_detail(code))
    return render(
        request,
        "reference/area_detail.html",
        {"detail": detail, "area": detail.area, "force": detail.area.force},
    )
