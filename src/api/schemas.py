"""Path and query parameter types of the API (body field types live in `services.fields`)."""

from __future__ import annotations

from typing import Annotated

from litestar.params import PathParameter, QueryParameter

from asfmatch.services.text import LINE

PathId = Annotated[int, PathParameter(ge=1, le=2**63 - 1)]
QueryId = Annotated[int | None, QueryParameter(ge=1, le=2**63 - 1)]
SearchText = Annotated[str | None, QueryParameter(max_length=200, pattern=LINE)]
# A code filter of a listing (län, kommun, CPV prefix); checked against reference data after.
CodeFilter = Annotated[str | None, QueryParameter(max_length=10, pattern=LINE)]
# Page parameters of every listing; page_size is capped so one request stays cheap.
PageNumber = Annotated[int, QueryParameter(ge=1, le=1_000_000)]
PageSize = Annotated[int, QueryParameter(ge=1, le=100)]
