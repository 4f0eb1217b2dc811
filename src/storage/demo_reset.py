"""What a demo reset removes: needs posted after the demo data was loaded."""

from __future__ import annotations

from asfmatch.storage.db import Connection


async def needs_posted_after_load(connection: Connection) -> list[int]:
    """Needs created after the first batch (the demo import runs in one transaction, so all
    its needs share the earliest creation time)."""
    rows = await connection.fetch(
        "SELECT id FROM needs WHERE created_at > (SELECT min(created_at) FROM needs) ORDER BY id"
    )
    return [row["id"] for row in rows]


async def delete_need(connection: Connection, need_id: int) -> None:
    """Delete a need with its matches, notifications and answers (ON DELETE CASCADE)."""
    await connection.execute("DELETE FROM needs WHERE id = $1", need_id)


async def open_need_posted_after_load(
    connection: Connection, buyer_id: int, title: str
) -> int | None:
    """An open need of this buyer with this title posted since the demo data was loaded (the
    guided run's need, if it already ran since the last reset)."""
    found: int | None = await connection.fetchval(
        """
        SELECT id FROM needs
        WHERE buyer_id = $1 AND title = $2 AND status = 'open'
          AND created_at > (SELECT min(created_at) FROM needs)
        ORDER BY id DESC LIMIT 1
        """,
        buyer_id,
        title,
    )
    return found
