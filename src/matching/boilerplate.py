"""Procurement boilerplate in need text: sentences every notice carries (the procedure, the
reservation wording, the standard social clause) say nothing about what is bought, and their
words ("arbetsmarknaden", "funktionsnedsättning", "integration") are in every ASF's
description, so they would pull unrelated suppliers up. The reservation itself is a flag."""

from __future__ import annotations

import re

# A sentence holding any of these is procedure or legal wording, not the subject.
_MARKERS = re.compile(
    r"4 kap\.? 18 ?§|\bLOU\b|2016:1145|offentlig upphandling|förenklat förfarande"
    r"|öppet förfarande|anbud ska lämnas|upphandlingsverktyg|avtalstid|frågor ställs"
    r"|särskilda kontraktsvillkor|reserverad för leverantörer|huvudsakliga syfte är social",
    re.IGNORECASE,
)
# A sentence ends at . ! ? before a capital, so "4 kap. 18 §" and "ca. 3 000" stay whole.
_SENTENCES = re.compile(r"(?<=[.!?])\s+(?=[A-ZÅÄÖ])")


# A text that _MARKERS can match holds, in lower case, one of these (one per marker). For text
# in Latin-1 a letter matches without case exactly where its lower case is the marker's, so a
# text without any is passed over at the cost of a few substring scans: the case-blind regex
# costs a need's indexing as much as all its other text analysis.
_ANCHORS = (
    "§",
    "lou",
    "2016:1145",
    "offentlig upphandling",
    "förenklat förfarande",
    "öppet förfarande",
    "anbud ska lämnas",
    "upphandlingsverktyg",
    "avtalstid",
    "frågor ställs",
    "särskilda kontraktsvillkor",
    "reserverad för leverantörer",
    "huvudsakliga syfte är social",
)
_LATIN_1 = "\xff"


def has_marker_words(text: str) -> bool:
    """False only if no sentence of the text can hold boilerplate (cheap; True may be wrong)."""
    if text and max(text) > _LATIN_1:
        return True
    lower = text.lower()
    return any(anchor in lower for anchor in _ANCHORS)


def strip_boilerplate(text: str) -> str:
    """The text without its boilerplate sentences (the whole text if nothing else is left)."""
    if not has_marker_words(text):
        # Most texts: the sentence split alone cost each query 3 us.
        return text
    sentences = _SENTENCES.split(text)
    kept = [s for s in sentences if not _MARKERS.search(s)]
    return " ".join(kept) if kept else text
