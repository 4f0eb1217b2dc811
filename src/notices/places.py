"""Where a notice's work is done, as a kommun or a whole län: postcode, town, then NUTS3."""

from __future__ import annotations

import csv
import re
from collections import Counter
from collections.abc import Sequence
from functools import cache
from importlib.resources import files

import msgspec

from asfmatch.reference.regions import kommuner, lan

SWEDEN_ISO3 = "SWE"
SWEDEN_ISO2 = "SE"


class Address(msgspec.Struct, frozen=True, kw_only=True):
    """A place as a notice gives it (eForms BT-5071/5131/5121/5141, OCDS deliveryAddresses)."""

    nuts: str | None = None
    town: str | None = None
    postcode: str | None = None
    country: str | None = None

    def is_swedish(self) -> bool:
        """True when the country is Sweden or the NUTS code is Swedish."""
        country = (self.country or "").upper()
        if country in {SWEDEN_ISO3, SWEDEN_ISO2, "SWEDEN", "SVERIGE"}:
            return True
        return not country and (self.nuts or "").upper().startswith(SWEDEN_ISO2)


class Place(msgspec.Struct, frozen=True, kw_only=True):
    """A resolved place: one kommun, or a whole län (`kommun` None)."""

    lan: str
    kommun: str | None = None
    # How it was found: "postcode", "town", "nuts3" or "lan name".
    via: str


@cache
def _postcodes() -> dict[str, str]:
    path = files("asfmatch.notices").joinpath("data/postal_to_kommun.csv")
    with path.open(encoding="utf-8") as handle:
        return {row["postal_code"]: row["municipality_code"] for row in csv.DictReader(handle)}


def _fold(name: str) -> str:
    return re.sub(r"\s+", " ", name).strip().casefold()


@cache
def _towns() -> dict[str, str]:
    # A town name that lies in one kommun only; names shared by several kommuner are left out.
    seen: dict[str, set[str]] = {}
    path = files("asfmatch.notices").joinpath("data/postal_to_kommun.csv")
    with path.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            seen.setdefault(_fold(row["locality"]), set()).add(row["municipality_code"])
    towns = {town: next(iter(codes)) for town, codes in seen.items() if len(codes) == 1}
    for kommun in kommuner().values():
        towns[_fold(kommun.name)] = kommun.code
        towns[_fold(f"{kommun.name} kommun")] = kommun.code
    return towns


@cache
def _nuts3() -> dict[str, str]:
    path = files("asfmatch.reference").joinpath("data/sweden_lan.csv")
    with path.open(encoding="utf-8") as handle:
        return {row["nuts3_code"]: row["lan_code"] for row in csv.DictReader(handle)}


@cache
def _lan_names() -> dict[str, str]:
    names: dict[str, str] = {}
    for code, item in lan().items():
        names[_fold(item.name)] = code
        names[_fold(item.name.removesuffix(" län").removesuffix("s"))] = code
    return names


def kommun_of_postcode(postcode: str) -> str | None:
    """The kommun of a Swedish postcode ("972 41", "SE-97241"), or None if unknown."""
    digits = re.sub(r"\D", "", postcode)
    return _postcodes().get(digits) if len(digits) == 5 else None


def kommun_of_town(town: str) -> str | None:
    """The kommun of a town or kommun name that is unambiguous, or None."""
    return _towns().get(_fold(town))


def lan_of_nuts(nuts: str) -> str | None:
    """The län of a Swedish NUTS3 code (SE332 -> 25), or None (NUTS1/2, SEZZZ, foreign)."""
    return _nuts3().get(nuts.strip().upper())


def resolve_address(address: Address) -> Place | None:
    """The most precise place an address gives: its postcode's kommun, its town's, or the
    NUTS3 region's whole län (the region text of OCDS addresses is tried last)."""
    if address.postcode and (code := kommun_of_postcode(address.postcode)):
        return Place(lan=code[:2], kommun=code, via="postcode")
    if address.town and (code := kommun_of_town(address.town)):
        return Place(lan=code[:2], kommun=code, via="town")
    if address.nuts and (lan_code := lan_of_nuts(address.nuts)):
        return Place(lan=lan_code, via="nuts3")
    if address.town and (lan_code := _lan_names().get(_fold(address.town))):
        return Place(lan=lan_code, via="lan name")
    return None


def resolve_places(addresses: Sequence[Address]) -> Place | None:
    """One place for several addresses: their kommun if they share one, else the whole län
    most of them lie in; None when no Swedish address resolves."""
    places = [
        place
        for address in addresses
        if address.is_swedish() and (place := resolve_address(address)) is not None
    ]
    if not places:
        return None
    kommun_codes = {place.kommun for place in places}
    if len(kommun_codes) == 1:
        return places[0]
    lan_code, _ = Counter(place.lan for place in places).most_common(1)[0]
    return Place(lan=lan_code, via="several places")
