"""Where the worker's view of profiles and needs may safely resume reading.

Every content change of a profile or need records the id of the transaction that made it
(`change_xid`, sql/006). Transaction ids are handed out before commit, so "the highest id seen"
is not a safe cursor: a transaction with a lower id may still commit later. The oldest
transaction still running when a snapshot was taken, pg_snapshot_xmin(pg_current_snapshot()),
is: every change below it had committed (or rolled back) before that snapshot, so a reader
that saw the snapshot has seen it. Rows at or above the horizon are read again next time."""

from __future__ import annotations

from asfmatch.storage.db import Connection


async def snapshot_horizon(connection: Connection) -> int:
    """The oldest transaction id still running in this connection's current snapshot; call it
    first in the REPEATABLE READ transaction whose reads it vouches for."""
    value = await connection.fetchval("SELECT pg_snapshot_xmin(pg_current_snapshot())::text")
    return int(value)
