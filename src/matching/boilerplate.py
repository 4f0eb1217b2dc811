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


def strip_boilerplate(text: str) -> str:
    """The text without its boilerplate sentences (the whole text if nothing else is left)."""
    kept = [s for s in _SENTENCES.split(text) if not _MARKERS.search(s)]
    return " ".join(kept) if kept else text
