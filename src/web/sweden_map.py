"""The map of Sweden's 21 län as SVG paths, drawn once from the packaged GeoJSON on the server,
so the map needs no script and each län is an ordinary link a keyboard can reach."""

from __future__ import annotations

import math
from functools import cache
from importlib.resources import files
from typing import Any

import msgspec

WIDTH = 300.0
# The projection: longitude shrunk by the cosine of Sweden's middle latitude, so shapes keep
# their proportions (equirectangular around 62° N is plenty for a country this narrow).
_MID_LATITUDE = 62.0


class LanShape(msgspec.Struct, frozen=True, kw_only=True):
    """One län as an SVG path, with where to put its label."""

    code: str
    path: str
    label_x: float
    label_y: float


class SwedenMap(msgspec.Struct, frozen=True, kw_only=True):
    """All län shapes and the viewBox that holds them."""

    width: float
    height: float
    shapes: list[LanShape]


def _rings(geometry: dict[str, Any]) -> list[list[list[float]]]:
    if geometry["type"] == "Polygon":
        return list(geometry["coordinates"])
    return [ring for polygon in geometry["coordinates"] for ring in polygon]


@cache
def sweden_map() -> SwedenMap:
    """The projected map (computed on first use, then kept)."""
    raw = files("asfmatch.web").joinpath("data/sweden_lan.geojson").read_bytes()
    features: list[dict[str, Any]] = msgspec.json.decode(raw)["features"]
    shrink = math.cos(math.radians(_MID_LATITUDE))
    points = [
        (lon * shrink, lat)
        for feature in features
        for ring in _rings(feature["geometry"])
        for lon, lat in ring
    ]
    min_x = min(x for x, _ in points)
    max_x = max(x for x, _ in points)
    max_y = max(y for _, y in points)
    min_y = min(y for _, y in points)
    scale = WIDTH / (max_x - min_x)

    def project(lon: float, lat: float) -> tuple[float, float]:
        return (lon * shrink - min_x) * scale, (max_y - lat) * scale

    shapes: list[LanShape] = []
    for feature in features:
        parts: list[str] = []
        xs: list[float] = []
        ys: list[float] = []
        for ring in _rings(feature["geometry"]):
            projected = [project(lon, lat) for lon, lat in ring]
            xs.extend(x for x, _ in projected)
            ys.extend(y for _, y in projected)
            parts.append("M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in projected) + "Z")
        shapes.append(
            LanShape(
                code=f"{int(feature['properties']['l_id']):02d}",
                path="".join(parts),
                label_x=round(sum(xs) / len(xs), 1),
                label_y=round(sum(ys) / len(ys), 1),
            )
        )
    shapes.sort(key=lambda shape: shape.code)
    return SwedenMap(width=WIDTH, height=round((max_y - min_y) * scale, 1), shapes=shapes)
