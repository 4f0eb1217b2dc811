"""Wake-ups for live streams: a NOTIFY on one channel naming the suppliers with news. Streams
read PostgreSQL, so the message carries no content; storage.stream_hub listens."""

from __future__ import annotations

from collections.abc import Sequence

from asfmatch.storage.db import Connection

# The NOTIFY channel; its payload is a comma-separated list of supplier ids.
CHANNEL = "asfmatch_streams"


async def wake_streams(connection: Connection, supplier_ids: Sequence[int]) -> None:
    """Tell these suppliers' live streams to read their new notifications, once the caller's
    transaction commits: PostgreSQL delivers a NOTIFY only on commit (and drops it on a
    rollback), so a woken stream always finds what it was woken for."""
    ids = sorted(set(supplier_ids))
    if ids:
        await connection.execute("SELECT pg_notify($1, $2)", CHANNEL, ",".join(str(i) for i in ids))
