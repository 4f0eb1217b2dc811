"""The change counter that every insert or content update of a profile or need advances."""

from __future__ import annotations

from asfmatch.storage.db import Connection


async def current_change(connection: Connection) -> int:
    """The latest value handed out: everything written so far has a number at or below it."""
    value: int = await connection.fetchval("SELECT last_value FROM change_seq")
    return value
