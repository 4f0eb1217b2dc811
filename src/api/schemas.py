"""Constrained field types shared by the request bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from litestar.params import QueryParameter
from msgspec import Meta

Name = Annotated[str, Meta(min_length=1, max_length=200)]
OrgNumber = Annotated[str, Meta(min_length=10, max_length=11, examples=["769612-3456"])]
Email = Annotated[str, Meta(max_length=254, examples=["kontakt@example.se"])]
Description = Annotated[str, Meta(max_length=5000)]
LongText = Annotated[str, Meta(max_length=10000)]
CpvCode = Annotated[str, Meta(min_length=8, max_length=10, examples=["55520000-1"])]
CpvCodes = Annotated[list[CpvCode], Meta(max_length=30)]
KommunCode = Annotated[str, Meta(pattern=r"^[0-9]{4}$", examples=["2580"])]
AreaCode = Annotated[str, Meta(min_length=2, max_length=4, examples=["2580", "25", "SE"])]
ServiceArea = Annotated[list[AreaCode], Meta(max_length=300)]
Sek = Annotated[int, Meta(ge=0, le=1_000_000_000_000)]
Count = Annotated[int, Meta(ge=0, le=100_000)]
Share = Annotated[float, Meta(ge=0.0, le=1.0)]
AwareDatetime = Annotated[datetime, Meta(tz=True)]
Label = Annotated[str, Meta(max_length=100)]
LegalForm = Literal["ekonomisk_forening", "aktiebolag", "ideell_forening", "stiftelse", "other"]
# Query parameters of every listing; page_size is capped so one request stays cheap.
PageNumber = Annotated[int, QueryParameter(ge=1, le=1_000_000)]
PageSize = Annotated[int, QueryParameter(ge=1, le=100)]
