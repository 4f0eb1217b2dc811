"""One page of a listing, with the total so clients can draw a pager; and the text filter."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

import asyncpg
import msgspec

from asfmatch.storage.db import Connection

T = TypeVar("T")

MAX_PAGE_SIZE = 100


class Page(msgspec.Struct, Generic[T], frozen=True, kw_only=True):
    """Items of one page and where it lies in the whole listing."""

    items: list[T]
    page: int
    page_size: int
    total: int


class Query:
    """A WHERE clause built from optional filters, every value a numbered parameter."""

    def __init__(self) -> None:
        self.conditions: list[str] = []
        self.args: list[object] = []

    def arg(self, value: object) -> str:
        """Add a parameter and return its placeholder."""
        self.args.append(value)
        return f"${len(self.args)}"

    def where(self, condition: str) -> None:
        """AND a condition (built with `arg` placeholders) into the clause."""
        self.conditions.append(condition)

    async def page(
        self,
        connection: Connection,
        select: str,
        order: str,
        convert: Callable[[asyncpg.Record], T],
        *,
        page: int,
        page_size: int,
    ) -> Page[T]:
        """One page of `select` under the conditions, in `order`, with the total count."""
        where = (" WHERE " + " AND ".join(self.conditions)) if self.conditions else ""
        filtered = f"SELECT * FROM ({select}{where}) q"
        count_args = list(self.args)
        rows = await connection.fetch(
            f"""
            SELECT *, count(*) OVER () AS total FROM ({filtered}) p
            ORDER BY {order} LIMIT {self.arg(page_size)} OFFSET {self.arg((page - 1) * page_size)}
            """,
            *self.args,
        )
        if rows:
            total = int(rows[0]["total"])
        else:
            # Past the last page the window count is gone; count separately.
            total = int(
                await connection.fetchval(f"SELECT count(*) FROM ({filtered}) c", *count_args)
            )
        return Page(
            items=[convert(row) for row in rows], page=page, page_size=page_size, total=total
        )


def contains_pattern(text: str) -> str:
    """An ILIKE pattern matching `text` literally anywhere (%, _ and \\ escaped)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
