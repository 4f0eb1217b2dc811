"""One page of a listing, with the total so clients can draw a pager; and the text filter."""

from __future__ import annotations

from typing import Generic, TypeVar

import msgspec

T = TypeVar("T")

MAX_PAGE_SIZE = 100


class Page(msgspec.Struct, Generic[T], frozen=True, kw_only=True):
    """Items of one page and where it lies in the whole listing."""

    items: list[T]
    page: int
    page_size: int
    total: int


def contains_pattern(text: str) -> str:
    """An ILIKE pattern matching `text` literally anywhere (%, _ and \\ escaped)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
