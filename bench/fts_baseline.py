"""PostgreSQL full-text search over the same texts, as the ranking bench's database baseline.

The query is eval.py's: the text's `swedish` lexemes OR-ed, ranked by ts_rank_cd, top `limit`
(filters left out, so it is a lower bound on what the database would cost). Uses DATABASE_URL
when set, otherwise the embedded PostgreSQL that `storage.servers` starts.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

import asyncpg

from eval import database_url

QUERY = """
    WITH q AS (
        SELECT replace(plainto_tsquery('swedish', $1)::text, '&', '|')::tsquery AS query
    )
    SELECT d.id, ts_rank_cd(d.doc, q.query) AS score
    FROM bench_fts_docs AS d, q
    WHERE d.doc @@ q.query
    ORDER BY score DESC, d.id
    LIMIT $2
"""


async def _measure(documents: Sequence[str], queries: Sequence[str], limit: int) -> dict[str, Any]:
    async with database_url() as (url, _):
        connection = await asyncpg.connect(url)
        try:
            # A TEMP table: app tables are never touched and it goes with the connection.
            await connection.execute("SET temp_buffers = '2GB'")
            started = time.perf_counter()
            await connection.execute(
                "CREATE TEMP TABLE bench_fts_docs (id integer PRIMARY KEY, body text NOT NULL, "
                "doc tsvector GENERATED ALWAYS AS (to_tsvector('swedish', body)) STORED)"
            )
            await connection.copy_records_to_table(
                "bench_fts_docs", records=enumerate(documents), columns=["id", "body"]
            )
            await connection.execute("CREATE INDEX ON bench_fts_docs USING gin (doc)")
            await connection.execute("ANALYZE bench_fts_docs")
            build_s = time.perf_counter() - started
            await connection.fetch(QUERY, queries[0], limit)  # warm the plan and the cache
            wall: list[float] = []
            for text in queries:
                started = time.perf_counter()
                await connection.fetch(QUERY, text, limit)
                wall.append(time.perf_counter() - started)
        finally:
            await connection.close()
    wall.sort()
    return {"p50": wall[len(wall) // 2] * 1e3, "build_s": build_s, "queries": len(wall)}


def fts_latency(documents: Sequence[str], queries: Sequence[str], limit: int) -> dict[str, Any]:
    """p50 ms of the OR-ed full-text query over the documents, and the load + index time."""
    return asyncio.run(_measure(documents, queries, limit))
