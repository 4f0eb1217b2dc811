"""What a demo reset removes: needs posted after the demo data was loaded, and every
outcome, follow-up question and verification (the demo records its own verifications again)."""

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


async def delete_outcomes(connection: Connection) -> None:
    """Delete every outcome (with its awards), follow-up round, question (with the ASFs'
    inbox notifications asking it) and ASF answer: the demo data has none when loaded."""
    await connection.execute(
        """
        DELETE FROM notifications
        WHERE kind = 'outcome.question'
           OR id IN (SELECT notification_id FROM outcome_questions
                     WHERE notification_id IS NOT NULL)
        """
    )
    await connection.execute("DELETE FROM outcome_questions")
    await connection.execute("DELETE FROM outcome_rounds")
    await connection.execute("DELETE FROM supplier_outcome_answers")
    await connection.execute("DELETE FROM need_outcomes")


async def reopen_loaded_needs(connection: Connection) -> list[int]:
    """Open again the demo's own needs that were closed or withdrawn during a talk (an
    outcome closes its need) and whose closing day has not passed; their ids, ascending."""
    rows = await connection.fetch(
        """
        UPDATE needs SET status = 'open'
        WHERE id IN (
            SELECT id FROM needs
            WHERE created_at = (SELECT min(created_at) FROM needs)
              AND status IN ('closed', 'withdrawn')
              AND (closes_at IS NULL OR closes_at > now())
            ORDER BY id FOR NO KEY UPDATE
        )
        RETURNING id
        """
    )
    return sorted(row["id"] for row in rows)


async def delete_verifications(connection: Connection) -> list[int]:
    """Delete every verification (the profiles first let go of theirs); returns the suppliers
    that had one, ascending."""
    rows = await connection.fetch(
        "SELECT DISTINCT supplier_id FROM supplier_verifications ORDER BY supplier_id"
    )
    supplier_ids = [row["supplier_id"] for row in rows]
    await connection.execute(
        "UPDATE supplier_profiles SET verification_id = NULL WHERE verification_id IS NOT NULL"
    )
    await connection.execute("DELETE FROM supplier_verifications")
    return supplier_ids


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
