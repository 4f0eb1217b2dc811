"""One page of a listing, with a bounded count so clients can draw a pager; and the text filter.

Counting every match of a filter costs time in proportion to the table (a `count(*) OVER ()`
took 89 ms at 58.7k needs, against 0.14 ms for the page itself), so a listing counts at most
MAX_COUNTED + 1 matches and says whether its total is exact; pages starting past MAX_COUNTED
are empty. Narrower filters reach any item."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

import asyncpg
import msgspec

from asfmatch.storage.db import Connection

T = TypeVar("T")

MAX_PAGE_SIZE = 100
# How far a listing counts, and how deep its pages go.
MAX_COUNTED = 1000


class Page(msgspec.Struct, Generic[T], frozen=True, kw_only=True):
    """Items of one page and where it lies in the listing. `total` counts matches up to 1,000;
    `total_exact` is false when there are more (pages past item 1,000 are empty: narrow the
    filters)."""

    items: list[T]
    page: int
    page_size: int
    total: int
    total_exact: bool = True


def bounded_total(counted: int) -> tuple[int, bool]:
    """(total, exact) from a count of at most MAX_COUNTED + 1 rows."""
    return min(counted, MAX_COUNTED), counted <= MAX_COUNTED


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
        """One page of `select` under the conditions, in `order`, with the bounded count: one
        statement, reading at most MAX_COUNTED + 1 matching rows plus the page."""
        where = (" WHERE " + " AND ".join(self.conditions)) if self.conditions else ""
        filtered = f"SELECT * FROM ({select}{where}) q"
        offset = (page - 1) * page_size
        # Pages past what is counted are empty: their OFFSET would grow with the table.
        limit = 0 if offset >= MAX_COUNTED else page_size
        rows = await connection.fetch(
            f"""
            WITH counted AS (
                SELECT count(*) AS total FROM ({filtered} LIMIT {MAX_COUNTED + 1}) c
            )
            SELECT counted.total, p.* FROM counted LEFT JOIN LATERAL (
                {filtered} ORDER BY {order} LIMIT {self.arg(limit)} OFFSET {self.arg(offset)}
            ) p ON true
            """,
            *self.args,
        )
        total, exact = bounded_total(int(rows[0]["total"]))
        return Page(
            items=[convert(row) for row in rows if row["id"] is not None],
            page=page,
            page_size=page_size,
            total=total,
            total_exact=exact,
        )


def contains_pattern(text: str) -> str:
    """An ILIKE pattern matching `text` literally anywhere (%, _ and \\ escaped)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
