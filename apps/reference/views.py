"""Public pages about police forces and local authority areas. No sign-in needed.

Each page runs a fixed number of queries (see selectors.py).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from . import selectors
from .forms import AreaFilterForm


@require_GET
def force_list(request: HttpRequest) -> HttpResponse:
    forces = selectors.force_list()
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


@require_GET
def force_detail(request: HttpRequest, slug: str) -> HttpResponse:
    detail = selectors.force_detail(slug)
    return render(request, "reference/force_detail.html", {"detail": detail, "force": detail.force})


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
    detail = selectors.area_detail(code)
    return render(
        request,
        "reference/area_detail.html",
        {"detail": detail, "area": detail.area, "force": detail.area.force},
    )
