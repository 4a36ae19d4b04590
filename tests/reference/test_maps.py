"""The map projection and SVG paths (no database)."""

from __future__ import annotations

import math

from apps.reference import maps

SQUARE = {
    "type": "Polygon",
    "coordinates": [[[-2.0, 54.0], [-1.0, 54.0], [-1.0, 55.0], [-2.0, 55.0], [-2.0, 54.0]]],
}
NEIGHBOUR = {
    "type": "MultiPolygon",
    "coordinates": [
        [[[-1.0, 54.0], [0.0, 54.0], [0.0, 55.0], [-1.0, 55.0], [-1.0, 54.0]]],
    ],
}
FAR_AWAY = {
    "type": "Polygon",
    "coordinates": [[[5.0, 40.0], [6.0, 40.0], [6.0, 41.0], [5.0, 40.0]]],
}


def test_projection_scales_longitude_by_cos_latitude() -> None:
    frame = maps.Frame.around(maps.BoundingBox.of(SQUARE))
    west, _ = frame.project(-2.0, 54.5)
    east, _ = frame.project(-1.0, 54.5)
    _, north = frame.project(-1.5, 55.0)
    _, south = frame.project(-1.5, 54.0)
    assert north < south  # north is at the top
    ratio = (east - west) / (south - north)
    assert math.isclose(ratio, math.cos(math.radians(54.5)), rel_tol=0.01)
    width, height = (float(v) for v in frame.view_box.split()[2:])
    assert max(width, height) == maps.MAP_SIZE
    assert 0 < west < east < width and 0 < north < south < height


def test_build_maps_draws_the_area_and_nearby_areas_only() -> None:
    result = maps.build_maps(
        {"A": SQUARE, "B": NEIGHBOUR, "C": FAR_AWAY}, {"A": "Alpha", "B": "Beta", "C": "Gamma"}
    )
    a = result["A"]
    assert a["area"].startswith("M") and a["area"].endswith("Z")
    assert a["area"].count("M") == 1
    assert [c["name"] for c in a["context"]] == ["Beta"]
    assert result["C"]["context"] == []


def test_check_geometry() -> None:
    assert maps.check_geometry(SQUARE) is None
    assert maps.check_geometry(NEIGHBOUR) is None
    assert maps.check_geometry(None) == "has no geometry"
    assert "not Polygon" in (maps.check_geometry({"type": "Point", "coordinates": [0, 0]}) or "")
    open_ring = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 2]]]}
    assert "not closed" in (maps.check_geometry(open_ring) or "")
    off_earth = {"type": "Polygon", "coordinates": [[[0, 0], [200, 0], [1, 1], [0, 0]]]}
    assert "WGS84" in (maps.check_geometry(off_earth) or "")
