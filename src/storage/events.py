"""Wake-ups for live streams: a NOTIFY on one channel naming the suppliers with news, and one on
a second channel naming page topics that changed (a need's match list, the public counts).
Streams read PostgreSQL, so the message carries no content; storage.stream_hub listens."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from asfmatch.storage.db import Connection

# The NOTIFY channel; its payload is a comma-separated list of supplier ids.
CHANNEL = "asfmatch_streams"
# The pages' channel; its payload is a comma-separated list of topics (`need:12`, `counts`).
PAGES_CHANNEL = "asfmatch_pages"
COUNTS = "counts"
_MAX_PAYLOAD = 7000


def inbox_topic(supplier_id: int) -> str:
    """The topic woken when notifications are written to a supplier's inbox."""
    return f"inbox:{supplier_id}"


def need_topic(need_id: int) -> str:
    """The topic woken when a need's match list or its answers change."""
    return f"need:{need_id}"


async def wake_streams(connection: Connection, supplier_ids: Sequence[int]) -> None:
    """Tell these suppliers' live streams to read their new notifications, once the caller's
    transaction commits: PostgreSQL delivers a NOTIFY only on commit (and drops it on a
    rollback), so a woken stream always finds what it was woken for."""
    ids = sorted(set(supplier_ids))
    if ids:
        await connection.execute("SELECT pg_notify($1, $2)", CHANNEL, ",".join(str(i) for i in ids))


async def wake_pages(connection: Connection, topics: Iterable[str]) -> None:
    """Tell open pages that these topics changed, once the caller's transaction commits (the
    same commit ordering as `wake_streams`). PostgreSQL folds identical payloads in one
    transaction, so calling this per row costs one message."""
    names = sorted(set(topics))
    # A NOTIFY payload must stay under 8000 bytes: a deadline run may close thousands of needs.
    batch: list[str] = []
    size = 0
    for name in names:
        if batch and size + len(name) + 1 > _MAX_PAYLOAD:
            await connection.execute("SELECT pg_notify($1, $2)", PAGES_CHANNEL, ",".join(batch))
            batch, size = [], 0
        batch.append(name)
        size += len(name) + 1
    if batch:
        await connection.execute("SELECT pg_notify($1, $2)", PAGES_CHANNEL, ",".join(batch))
