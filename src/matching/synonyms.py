"""Procurement synonym groups: words buyers and suppliers use for the same service."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

# Each group is named by its most common word. Entries are surface words, matched after
# stemming. A leading "*" lets the entry be the head of a compound ("*städning" matches
# "kontorsstädning"); a trailing "*" lets it be the first part ("städ*" matches "städfirma");
# both let it be any part ("*måltid*" matches "skolmåltidsservice").
# Swedish compounds are head-last, so a head match wins: "flyttstädning" is cleaning, not
# moving, although it starts with "flytt". A first-part match counts only when no entry
# matches the whole word or its head. Entries without "*" match only the whole word, because
# short words such as "mat" would otherwise match "material" and "matematik".
# Deliberately absent: support/stöd. "IT-support" and "stöd till personer" share an English and
# a Swedish word for "support" but are different services. Bare "tvätt" is absent too: it is as
# often a car or a window as laundry.
SYNONYM_GROUPS: dict[str, tuple[str, ...]] = {
    "lokalvård": (
        "*lokalvård*",
        "*städning",
        "*städ",
        "städ*",
        "städa",
        "rengöring",
        "cleaning",
    ),
    "måltider": (
        "*måltid*",
        "*kost",
        "kosthåll*",
        "*catering",
        "catering*",
        "mat",
        "skolmat",
        "*matlagning",
        "matlådor",
        "*bespisning",
    ),
    "fastighetsskötsel": (
        "*fastighetsskötsel",
        "fastighetsservice",
        "fastighetsunderhåll",
        "*vaktmästeri",
        "vaktmästartjänster",
        "fastighetsvård",
    ),
    "arbetsträning": (
        "*arbetsträning",
        "*arbetsprövning",
        "*praktik",
        "praktikplats*",
        "arbetsrehabilitering",
    ),
    "tvätteri": (
        "*tvätteri",
        "tvätteri*",
        "tvättjänst*",
        "*textilvård",
        "mangling",
        "kemtvätt",
        "industritvätt",
        "linneservice",
    ),
    "snöröjning": (
        "*snöröjning",
        "*snöskottning",
        "vinterväghållning",
        "vinterunderhåll",
        "halkbekämpning",
    ),
    "flytt": ("*flytt", "flytt*", "flyttning", "*flyttjänst", "*flytthjälp"),
    "trädgård": (
        "*trädgård*",
        "*grönyteskötsel",
        "grönytor",
        "*parkskötsel",
        "utemiljöskötsel",
        "*gräsklippning",
    ),
    "it-support": (
        "*itsupport",
        "itstöd",
        "helpdesk",
        "servicedesk",
        "datorsupport",
        "itdrift",
    ),
    "återbruk": ("*återbruk*", "återanvändning", "secondhand", "loppis"),
    "kafé": ("*kafé*", "*café*", "cafe", "kafeteria", "fik"),
    "skanning": ("*skanning", "scanning", "inskanning", "digitalisering"),
    "tryckeri": ("tryckeri*", "trycksaker", "tryckning"),
    "snickeri": ("snickeri*", "snickare", "*snickeriarbeten", "träarbete*"),
    "budtjänst": ("budtjänst*", "budbil*", "kurir*"),
}


# Stemming a compound can change the end of its head: "flytt" stays "flytt", but Snowball
# undoubles the final consonant of "kontorsflytt" ("kontorsflyt"). Heads are therefore also
# compared in the form they take at the end of a compound, stemmed behind this neutral prefix.
_COMPOUND_PREFIX = "bas"


@dataclass(frozen=True, slots=True)
class _Entry:
    group: str
    stems: tuple[str, ...]  # the entry's stem, and its stem as the head of a compound
    head: bool  # may end a compound ("*städning")
    first: bool  # may start a compound ("städ*"), or, with head, appear inside one


def compile_synonyms(stem: Callable[[str], str]) -> tuple[_Entry, ...]:
    """Stem every entry once so token stems can be compared with them."""
    entries: list[_Entry] = []
    for group, words in SYNONYM_GROUPS.items():
        for word in words:
            core = word.strip("*").replace("-", "")
            head, first = word.startswith("*"), word.endswith("*")
            if first and not head:
                # Compared with the start of a stem; stemming "städ*" or "flytt*" would only
                # shorten it, so it stays as written.
                stems: tuple[str, ...] = (core,)
            else:
                in_compound = stem(_COMPOUND_PREFIX + core).removeprefix(_COMPOUND_PREFIX)
                stems = tuple(dict.fromkeys((stem(core), in_compound)))
            entries.append(_Entry(group, stems, head, first))
    return tuple(entries)


def _matches(token_stem: str, entry: _Entry) -> tuple[bool, bool]:
    # (strong, weak): the whole word or a compound's head is strong; a first part ("städ*") or
    # a middle part ("*måltid*" in "skolmåltidsservice") is weak.
    strong = weak = False
    for entry_stem in entry.stems:
        if token_stem == entry_stem or (entry.head and token_stem.endswith(entry_stem)):
            strong = True
        elif entry.first and (
            entry_stem in token_stem if entry.head else token_stem.startswith(entry_stem)
        ):
            weak = True
    return strong, weak


def synonym_groups_of(token_stem: str, entries: tuple[_Entry, ...]) -> tuple[str, ...]:
    """Groups whose entries match a stemmed token: whole word or head first, else other parts."""
    strong: dict[str, None] = {}
    weak: dict[str, None] = {}
    for entry in entries:
        is_strong, is_weak = _matches(token_stem, entry)
        if is_strong:
            strong[entry.group] = None
        elif is_weak:
            weak[entry.group] = None
    return tuple(strong or weak)
