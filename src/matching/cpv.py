"""CPV hierarchy similarity: how close a supplier's codes are to the codes of a need."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

import msgspec

_CODE = re.compile(r"^(\d{8})(?:-\d)?$")

# Similarity by the length of the shared significant prefix (2 division, 3 group, 4 class,
# 5 category, 6-7 finer). When one code is the other's ancestor the supplier offers the very
# service or its general heading, so it scores well above two siblings at the same depth;
# a bare division ("90": sewage, refuse, cleaning and environment) is too broad to say much.
ANCESTOR_SIMILARITY = {2: 0.35, 3: 0.6, 4: 0.8, 5: 0.9, 6: 0.9, 7: 0.9}
SIBLING_SIMILARITY = {2: 0.1, 3: 0.3, 4: 0.5, 5: 0.6, 6: 0.6, 7: 0.6}
SIBLING_RELATION = {
    2: "same_division",
    3: "same_group",
    4: "same_class",
    5: "same_category",
    6: "same_category",
    7: "same_category",
}
EXACT = "exact"
BROADER = "broader"  # the supplier's code is an ancestor of the need's code
NARROWER = "narrower"  # the supplier's code lies under the need's code


class CpvLink(msgspec.Struct, frozen=True, kw_only=True):
    """The best-matching supplier code for one need code, with how they relate."""

    need_code: str
    supplier_code: str
    relation: str
    weight: float


def normalise_code(raw: str) -> str | None:
    """The 8 digits of "55520000" or "55520000-1"; None for anything else."""
    found = _CODE.match(raw.strip())
    return found.group(1) if found else None


def normalise_codes(raw: Iterable[str]) -> tuple[str, ...]:
    """Valid codes as 8 digits, first occurrence order, duplicates and junk dropped."""
    if isinstance(raw, tuple):
        # Profiles hold tuples, and building an index normalises each list several times.
        return _normalise_tuple(raw)
    return _normalise(raw)


@lru_cache(maxsize=1 << 16)
def _normalise_tuple(raw: tuple[str, ...]) -> tuple[str, ...]:
    return _normalise(raw)


def _normalise(raw: Iterable[str]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for code in raw:
        digits = normalise_code(code)
        if digits is not None:
            seen.setdefault(digits, None)
    return tuple(seen)


def significant(code: str) -> str:
    """The code without its trailing zeros (at least the 2-digit division): 55520000 -> 5552."""
    stripped = code.rstrip("0")
    return stripped if len(stripped) >= 2 else code[:2]


def prefix_chain(code: str) -> list[str]:
    """Significant prefixes from the division down to the code itself: 5552 -> 55, 555, 5552."""
    sig = significant(code)
    return [sig[:n] for n in range(2, len(sig) + 1)]


def _common_length(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


@lru_cache(maxsize=1 << 16)
def relation_of(need_code: str, supplier_code: str) -> tuple[str, float]:
    """Relation and similarity of two 8-digit codes; ("none", 0.0) across divisions."""
    need_sig, sup_sig = significant(need_code), significant(supplier_code)
    if need_sig == sup_sig:
        return EXACT, 1.0
    common = _common_length(need_sig, sup_sig)
    if common < 2:
        return "none", 0.0
    if common == len(sup_sig):
        return BROADER, ANCESTOR_SIMILARITY[common]
    if common == len(need_sig):
        return NARROWER, ANCESTOR_SIMILARITY[common]
    return SIBLING_RELATION[common], SIBLING_SIMILARITY[common]


def best_links(need_codes: Sequence[str], supplier_codes: Sequence[str]) -> list[CpvLink]:
    """For each need code, the supplier code closest to it (none when nothing is related)."""
    return list(_best_links(tuple(need_codes), tuple(supplier_codes)))


# Explaining a ranking asks this for the same few code lists over and over.
@lru_cache(maxsize=1 << 14)
def _best_links(
    need_codes: tuple[str, ...], supplier_codes: tuple[str, ...]
) -> tuple[CpvLink, ...]:
    links: list[CpvLink] = []
    for need_code in need_codes:
        best: CpvLink | None = None
        for supplier_code in sorted(supplier_codes):
            relation, weight = relation_of(need_code, supplier_code)
            if weight > 0 and (best is None or weight > best.weight):
                best = CpvLink(
                    need_code=need_code,
                    supplier_code=supplier_code,
                    relation=relation,
                    weight=weight,
                )
        if best is not None:
            links.append(best)
    return tuple(links)


def clear_cached_links() -> None:
    """Forget the best links cached by code lists (to time pairs as if never explained)."""
    _best_links.cache_clear()


def cpv_score(need_codes: Sequence[str], supplier_codes: Sequence[str]) -> float:
    """Mean over the need's codes of the best similarity to any supplier code (0 if none)."""
    if not need_codes:
        return 0.0
    return sum(link.weight for link in best_links(need_codes, supplier_codes)) / len(need_codes)
