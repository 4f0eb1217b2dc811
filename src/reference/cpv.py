"""The CPV 2008 vocabulary with Swedish and English labels."""

from __future__ import annotations

import csv
import re
from functools import cache
from importlib.resources import files

import msgspec

_CODE = re.compile(r"^([0-9]{8})(?:-([0-9]))?$")


class CpvCode(msgspec.Struct, frozen=True, kw_only=True):
    """One CPV code: 8 digits, its check digit for display, and its labels."""

    code: str
    code_with_check: str
    parent: str | None
    level: int
    label_sv: str
    label_en: str


def normalise_cpv(raw: str) -> str | None:
    """Return the 8-digit code for `55520000` or `55520000-1`, or None if it is not of that form."""
    found = _CODE.match(raw.strip())
    return found.group(1) if found else None


@cache
def cpv_catalog() -> dict[str, CpvCode]:
    """All CPV codes keyed by their 8 digits (read once from the packaged CSV)."""
    path = files("asfmatch.reference").joinpath("data/cpv_2008_sv_en.csv")
    with path.open(encoding="utf-8") as handle:
        return {
            row["cpv_code"]: CpvCode(
                code=row["cpv_code"],
                code_with_check=row["cpv_code_with_check"],
                parent=row["parent_code"] or None,
                level=int(row["level"]),
                label_sv=row["label_sv"],
                label_en=row["label_en"],
            )
            for row in csv.DictReader(handle)
        }


def cpv_labels_sv() -> dict[str, str]:
    """Swedish label per 8-digit code, the form the ranking core takes."""
    return {code: entry.label_sv for code, entry in cpv_catalog().items()}


def search_cpv(query: str, limit: int = 20) -> list[CpvCode]:
    """CPV codes whose code starts with `query` (digits), or whose labels have words starting
    with every word of it (Swedish or English)."""
    query = query.strip()
    catalog = cpv_catalog()
    digits = query.replace("-", "")
    if digits.isdigit():
        found = [entry for code, entry in catalog.items() if code.startswith(digits[:8])]
    else:
        # Each word must start a word of a label: "städ" finds "Städning", not "bostäder".
        patterns = [re.compile(r"\b" + re.escape(word)) for word in query.casefold().split()]
        found = [
            entry
            for entry in catalog.values()
            if all(
                pattern.search(entry.label_sv.casefold())
                or pattern.search(entry.label_en.casefold())
                for pattern in patterns
            )
        ]
        # General codes first: a search for "catering" should offer 55520000 before its children.
        found.sort(key=lambda entry: (entry.level, entry.code))
    return found[:limit]
