"""Force area maps: GeoJSON boundaries (WGS84) drawn as inline SVG paths.

The projection is equirectangular with the longitude scaled by cos(latitude) at the middle of
the map, which is close enough to true shape at the scale of one police force area. Each map is
fitted to a view box whose longer side is `MAP_SIZE` units, with a margin around the force area
in which nearby force areas are drawn, faintly, for context.

Everything here is pure computation. `load_reference` works the maps out once and stores them
on each force (`Force.boundary_map`), so a page only writes the stored paths out.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

MAP_SIZE = 400.0
# The margin around the force area, as a share of its larger side.
MARGIN = 0.12
# The smallest span a map shows, in degrees of latitude (about 20 km), so that a very small area
# (the City of London) is shown with enough of its surroundings to be recognisable.
MIN_SPAN_DEGREES = 0.18
# The map is never narrower (or flatter) than this ratio of its sides.
MIN_ASPECT = 0.6

Ring = Sequence[Sequence[float]]
Polygon = Sequence[Ring]


def polygons(geometry: Mapping[str, Any]) -> list[Polygon]:
    """The polygons of a GeoJSON Polygon or MultiPolygon geometry."""
    if geometry["type"] == "Polygon":
        return [geometry["coordinates"]]
    if geometry["type"] == "MultiPolygon":
        return list(geometry["coordinates"])
    raise ValueError(f"unsupported geometry type {geometry['type']!r}")


def _points(geometry: Mapping[str, Any]) -> Iterator[Sequence[float]]:
    for polygon in polygons(geometry):
        for ring in polygon:
            yield from ring


@dataclass(frozen=True)
class BoundingBox:
    west: float
    south: float
    east: float
    north: float

    @classmethod
    def of(cls, geometry: Mapping[str, Any]) -> BoundingBox:
        lons, lats = [], []
        for point in _points(geometry):
            lons.append(point[0])
            lats.append(point[1])
        return cls(min(lons), min(lats), max(lons), max(lats))

    def intersects(self, other: BoundingBox) -> bool:
        return not (
            other.west > self.east
            or other.east < self.west
            or other.south > self.north
            or other.north < self.south
        )


@dataclass(frozen=True)
class Frame:
    """Maps longitude and latitude to view box units."""

    west: float
    north: float
    x_scale: float  # view box units per degree of longitude
    y_scale: float  # view box units per degree of latitude
    width: float
    height: float

    @classmethod
    def around(cls, box: BoundingBox) -> Frame:
        middle_lat = (box.south + box.north) / 2
        cos_lat = math.cos(math.radians(middle_lat))
        # Work in "projected degrees": longitude shrunk by cos(latitude).
        width = max((box.east - box.west) * cos_lat, 1e-9)
        height = max(box.north - box.south, 1e-9)
        margin = MARGIN * max(width, height)
        width, height = width + 2 * margin, height + 2 * margin
        if max(width, height) < MIN_SPAN_DEGREES:
            width = height = MIN_SPAN_DEGREES
        width = max(width, height * MIN_ASPECT)
        height = max(height, width * MIN_ASPECT)
        centre_x = (box.west + box.east) / 2 * cos_lat
        centre_y = (box.south + box.north) / 2
        scale = MAP_SIZE / max(width, height)
        return cls(
            west=(centre_x - width / 2) / cos_lat,
            north=centre_y + height / 2,
            x_scale=scale * cos_lat,
            y_scale=scale,
            width=round(width * scale, 1),
            height=round(height * scale, 1),
        )

    @property
    def bounding_box(self) -> BoundingBox:
        return BoundingBox(
            west=self.west,
            south=self.north - self.height / self.y_scale,
            east=self.west + self.width / self.x_scale,
            north=self.north,
        )

    @property
    def view_box(self) -> str:
        return f"0 0 {_number(self.width)} {_number(self.height)}"

    def project(self, lon: float, lat: float, digits: int = 1) -> tuple[float, float]:
        return (
            round((lon - self.west) * self.x_scale, digits),
            round((self.north - lat) * self.y_scale, digits),
        )


def _number(value: float) -> str:
    text = f"{value:.1f}"
    if text.endswith(".0"):
        text = text[:-2]
    return "0" if text == "-0" else text


def svg_path(geometry: Mapping[str, Any], frame: Frame, digits: int = 1) -> str:
    """An SVG path `d` attribute for the geometry: one closed subpath a ring, holes included
    (draw it with fill-rule="evenodd" so holes stay empty). Coordinates are rounded to
    `digits` decimal places, and a point that rounds to the same place as the point before is
    dropped."""
    parts: list[str] = []
    for polygon in polygons(geometry):
        for ring in polygon:
            projected: list[tuple[float, float]] = []
            for point in ring:
                xy = frame.project(point[0], point[1], digits)
                if not projected or projected[-1] != xy:
                    projected.append(xy)
            if len(projected) > 1 and projected[0] == projected[-1]:
                projected.pop()
            if len(projected) < 3:
                continue
            (x0, y0), rest = projected[0], projected[1:]
            coords = " ".join(f"{_number(x)} {_number(y)}" for x, y in rest)
            parts.append(f"M{_number(x0)} {_number(y0)}L{coords}Z")
    return "".join(parts)


def build_maps(
    boundaries: Mapping[str, Mapping[str, Any]], names: Mapping[str, str]
) -> dict[str, dict[str, Any]]:
    """The map of every force area, keyed like `boundaries` (by force area code).

    Each map is a dict: `view_box`, `area` (the force area's path), `context` (a list of
    {"code", "name", "d"} for the nearby force areas drawn faintly behind it).
    """
    boxes = {code: BoundingBox.of(geometry) for code, geometry in boundaries.items()}
    maps: dict[str, dict[str, Any]] = {}
    for code, geometry in boundaries.items():
        frame = Frame.around(boxes[code])
        visible = frame.bounding_box
        context = [
            {
                "code": other,
                "name": names.get(other, other),
                # Context is drawn faintly: whole units are detailed enough.
                "d": svg_path(boundaries[other], frame, digits=0),
            }
            for other in sorted(boundaries, key=lambda c: names.get(c, c))
            if other != code and boxes[other].intersects(visible)
        ]
        maps[code] = {
            "view_box": frame.view_box,
            "area": svg_path(geometry, frame),
            "context": context,
        }
    return maps


def check_geometry(geometry: Any) -> str | None:
    """What is wrong with a GeoJSON Polygon/MultiPolygon in WGS84, or None if nothing is."""
    if not isinstance(geometry, dict):
        return "has no geometry"
    kind = geometry.get("type")
    if kind not in {"Polygon", "MultiPolygon"}:
        return f"geometry type {kind!r} is not Polygon or MultiPolygon"
    coordinates = geometry.get("coordinates")
    if not isinstance(coordinates, list) or not coordinates:
        return "geometry has no coordinates"
    found = coordinates if kind == "MultiPolygon" else [coordinates]
    for polygon in found:
        if not isinstance(polygon, list) or not polygon:
            return "a polygon has no rings"
        for ring in polygon:
            problem = _check_ring(ring)
            if problem:
                return problem
    return None


def _check_ring(ring: Any) -> str | None:
    if not isinstance(ring, list) or len(ring) < 4:
        return "a ring has fewer than 4 points"
    for point in ring:
        if (
            not isinstance(point, list)
            or len(point) < 2
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in point[:2])
        ):
            return f"a point {point!r} is not a [longitude, latitude] pair"
        lon, lat = point[0], point[1]
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            return f"a point {point!r} is not a WGS84 longitude and latitude"
    if ring[0][:2] != ring[-1][:2]:
        return "a ring is not closed (its first and last points differ)"
    return None
