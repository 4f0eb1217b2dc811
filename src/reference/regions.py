"""Swedish kommuner and län with their SCB codes."""

from __future__ import annotations

import csv
from functools import cache
from importlib.resources import files

import msgspec

WHOLE_COUNTRY = "SE"


class Kommun(msgspec.Struct, frozen=True, kw_only=True):
    """A kommun: 4-digit SCB code whose first two digits are its län."""

    code: str
    name: str
    lan_code: str
    population: int
    # Centroid, for placing the kommun on a map.
    lat: float
    lon: float


class Lan(msgspec.Struct, frozen=True, kw_only=True):
    """A län with the kommuner that lie in it."""

    code: str
    name: str
    kommuner: tuple[Kommun, ...]


@cache
def kommuner() -> dict[str, Kommun]:
    """All 290 kommuner keyed by code."""
    path = files("asfmatch.reference").joinpath("data/sweden_kommuner.csv")
    with path.open(encoding="utf-8") as handle:
        return {
            row["kommun_code"]: Kommun(
                code=row["kommun_code"],
                name=row["kommun_name"],
                lan_code=row["lan_code"],
                population=int(row["population_recent"] or 0),
                lat=float(row["centroid_lat"]),
                lon=float(row["centroid_lon"]),
            )
            for row in csv.DictReader(handle)
        }


@cache
def lan() -> dict[str, Lan]:
    """All 21 län keyed by code, each with its kommuner."""
    path = files("asfmatch.reference").joinpath("data/sweden_lan.csv")
    by_lan: dict[str, list[Kommun]] = {}
    for kommun in kommuner().values():
        by_lan.setdefault(kommun.lan_code, []).append(kommun)
    with path.open(encoding="utf-8") as handle:
        return {
            row["lan_code"]: Lan(
                code=row["lan_code"],
                name=row["lan_name"],
                kommuner=tuple(sorted(by_lan.get(row["lan_code"], []), key=lambda k: k.name)),
            )
            for row in csv.DictReader(handle)
        }


def is_area_code(code: str) -> bool:
    """True for a known kommun code, a known län code, or "SE"."""
    return code == WHOLE_COUNTRY or code in kommuner() or code in lan()
