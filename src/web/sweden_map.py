"""The map of Sweden's 21 län as SVG paths, drawn once from the packaged GeoJSON on the server,
so the map needs no script and each län is an ordinary link a keyboard can reach."""

from __future__ import annotations

import math
from functools import cache
from importlib.resources import files
from typing import Any

import msgspec

from asfmatch.reference.regions import kommuner

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
    # The projection's constants, so points (a kommun's centre) land on the same map.
    min_x: float
    max_y: float
    scale: float

    def point(self, lat: float, lon: float) -> tuple[float, float]:
        """Where a latitude and longitude lie on the map (SVG user units)."""
        shrink = math.cos(math.radians(_MID_LATITUDE))
        return (
            round((lon * shrink - self.min_x) * self.scale, 1),
            round((self.max_y - lat) * self.scale, 1),
        )


class Marker(msgspec.Struct, frozen=True, kw_only=True):
    """One place on the map: a link with a name (an ASF at its home kommun)."""

    x: float
    y: float
    label: str
    href: str
    key: str


def kommun_marker(code: str, label: str, href: str, key: str) -> Marker | None:
    """A marker at a kommun's centre, or None for a code that is not a kommun."""
    found = kommuner().get(code)
    if found is None:
        return None
    x, y = sweden_map().point(found.lat, found.lon)
    return Marker(x=x, y=y, label=label, href=href, key=key)


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
    return SwedenMap(
        width=WIDTH,
        height=round((max_y - min_y) * scale, 1),
        shapes=shapes,
        min_x=min_x,
        max_y=max_y,
        scale=scale,
    )
