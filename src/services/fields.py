"""Constrained field types of the inputs every entry point shares (API bodies, import rows)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from msgspec import Meta

# Every text field follows the one text rule (services.text): LINE for one line, TEXT for
# descriptions and reasons that may span lines.
from asfmatch.services.text import LINE, TEXT

Name = Annotated[str, Meta(min_length=1, max_length=200, pattern=LINE)]
OrgNumber = Annotated[
    str, Meta(min_length=10, max_length=11, pattern=LINE, examples=["769612-3456"])
]
Email = Annotated[str, Meta(max_length=254, pattern=LINE, examples=["kontakt@example.se"])]
Description = Annotated[str, Meta(max_length=5000, pattern=TEXT)]
LongText = Annotated[str, Meta(max_length=10000, pattern=TEXT)]
CpvCode = Annotated[str, Meta(min_length=8, max_length=10, pattern=LINE, examples=["55520000-1"])]
CpvCodes = Annotated[list[CpvCode], Meta(max_length=30)]
KommunCode = Annotated[str, Meta(pattern=r"^[0-9]{4}$", examples=["2580"])]
AreaCode = Annotated[
    str, Meta(min_length=2, max_length=4, pattern=LINE, examples=["2580", "25", "SE"])
]
ServiceArea = Annotated[list[AreaCode], Meta(max_length=300)]
Sek = Annotated[int, Meta(ge=0, le=1_000_000_000_000)]
Count = Annotated[int, Meta(ge=0, le=100_000)]
Share = Annotated[float, Meta(ge=0.0, le=1.0)]
AwareDatetime = Annotated[datetime, Meta(tz=True)]
Label = Annotated[str, Meta(max_length=100, pattern=LINE)]
# Ids are PostgreSQL bigints.
Id = Annotated[int, Meta(ge=1, le=2**63 - 1)]
LegalForm = Literal["ekonomisk_forening", "aktiebolag", "ideell_forening", "stiftelse", "other"]
