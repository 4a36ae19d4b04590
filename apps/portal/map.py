"""The map of England and Wales: every territorial police force area in one inline SVG, each
area a link to its force's page, coloured by the programme type of its latest report.

The shapes are projected from the force boundaries (GeoJSON, WGS84) into one national frame
with `apps.reference.maps` (equirectangular, longitude scaled by cos(latitude) at the middle
of the map). Projecting is pure computation on data that changes only when the reference data
is reloaded, so the shapes are cached under the "reference" data version, and the page that
draws them is cached whole (views.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from apps.core.cache import cached_read
from apps.inspections.models import ProgrammeType
from apps.reference.maps import BoundingBox, Frame, svg_path
from apps.reference.models import Force

MAP_HEIGHT = 720.0
MARGIN = 0.02  # of the larger side

# Colours of the latest report's programme type: the Okabe-Ito palette, which people with the
# common colour vision deficiencies can tell apart. Every area also has a dark outline, its
# link names the programme type and year, and the table under the map says the same.
COLOURS: dict[str, str] = {
    ProgrammeType.NCPI: "#0072b2",
    ProgrammeType.NCPI_REVIEW: "#56b4e9",
    ProgrammeType.NCPI_REINSPECTION: "#d55e00",
    ProgrammeType.JTAI: "#009e73",
    ProgrammeType.JICPA: "#cc79a7",
    ProgrammeType.THEMATIC: "#e69f00",
    ProgrammeType.OTHER: "#f0e442",
}
NO_REPORT_COLOUR = "#f3f2f1"


@dataclass(frozen=True)
class Shape:
    slug: str
    name: str
    country: str
    d: str


@dataclass(frozen=True)
class NationalShapes:
    view_box: str
    width: float
    height: float
    shapes: tuple[Shape, ...]


def _frame(box: BoundingBox) -> Frame:
    middle_lat = (box.south + box.north) / 2
    cos_lat = math.cos(math.radians(middle_lat))
    width = (box.east - box.west) * cos_lat
    height = box.north - box.south
    margin = MARGIN * max(width, height)
    width, height = width + 2 * margin, height + 2 * margin
    scale = MAP_HEIGHT / height
    return Frame(
        west=box.west - margin / cos_lat,
        north=box.north + margin,
        x_scale=scale * cos_lat,
        y_scale=scale,
        width=round(width * scale, 1),
        height=round(height * scale, 1),
    )


def project_forces(forces: list[tuple[str, str, str, dict | None]]) -> NationalShapes:
    """(slug, name, country, GeoJSON geometry or None) of each force area -> the national map.
    The largest areas are drawn first, so small ones (the City of London) stay on top and
    clickable; a force without a boundary gets an empty path (it is listed, not drawn)."""
    boxes = {slug: BoundingBox.of(geometry) for slug, _, _, geometry in forces if geometry}
    if not boxes:
        return NationalShapes(
            view_box="0 0 1 1",
            width=1.0,
            height=1.0,
            shapes=tuple(Shape(slug, name, country, "") for slug, name, country, _ in forces),
        )
    union = BoundingBox(
        west=min(b.west for b in boxes.values()),
        south=min(b.south for b in boxes.values()),
        east=max(b.east for b in boxes.values()),
        north=max(b.north for b in boxes.values()),
    )
    frame = _frame(union)

    def size(slug: str) -> float:
        box = boxes.get(slug)
        return (box.east - box.west) * (box.north - box.south) if box else 0.0

    ordered = sorted(forces, key=lambda f: (-size(f[0]), f[0]))
    shapes = tuple(
        Shape(
            slug=slug,
            name=name,
            country=country,
            d=svg_path(geometry, frame, digits=1) if geometry else "",
        )
        for slug, name, country, geometry in ordered
    )
    return NationalShapes(
        view_box=frame.view_box, width=frame.width, height=frame.height, shapes=shapes
    )


def _read_shapes() -> NationalShapes:
    forces = list(
        Force.objects.filter(territorial=True)
        .order_by("name")
        .values_list("slug", "name", "country", "boundary")
    )
    return project_forces(forces)


def national_shapes() -> NationalShapes:
    """The projected force areas, cached until the reference data changes. One query when not
    cached."""
    return cached_read(("reference",), "portal-national-shapes", _read_shapes)
