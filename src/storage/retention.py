"""How long what only matters for a while is kept: finished jobs, settled webhook messages with
their attempts, and the daily push counters. Deleted in small batches so a first run on a big
backlog never holds long locks."""

from __future__ import annotations

from asfmatch.storage.db import Connection

BATCH = 5000


async def _delete_in_batches(connection: Connection, sql: str, *args: object) -> int:
    removed = 0
    while True:
        status: str = await connection.execute(sql, *args, BATCH)
        count = int(status.rsplit(" ", 1)[-1])
        removed += count
        if count < BATCH:
            return removed


async def prune(
    connection: Connection, *, jobs_days: float, webhook_days: float, counter_days: float
) -> dict[str, int]:
    """Delete what is past its retention; how many rows of each kind went."""
    jobs = await _delete_in_batches(
        connection,
        """
        DELETE FROM jobs WHERE id IN (
            SELECT id FROM jobs
            WHERE state IN ('done', 'superseded')
              AND finished_at < now() - make_interval(secs => $1 * 86400)
            LIMIT $2)
        """,
        jobs_days,
    )
    # A settled message takes its attempts with it (ON DELETE CASCADE).
    messages = await _delete_in_batches(
        connection,
        """
        DELETE FROM webhook_messages WHERE id IN (
            SELECT id FROM webhook_messages
            WHERE state IN ('delivered', 'failed')
              AND finished_at < now() - make_interval(secs => $1 * 86400)
            LIMIT $2)
        """,
        webhook_days,
    )
    counters = await _delete_in_batches(
        connection,
        """
        DELETE FROM notification_quota WHERE (supplier_id, day) IN (
            SELECT supplier_id, day FROM notification_quota
            WHERE day < current_date - ceil($1)::integer
            LIMIT $2)
        """,
        counter_days,
    )
    return {"jobs": jobs, "webhook messages": messages, "daily counters": counters}
