"""Does the worker's list-floor query cost grow with the matches table?

`storage.matches.list_floors` answers, for the ~200 candidates of one ranking, the score a
newcomer must beat to enter each one's list. Measured at 1x (200 needs, 4,000 match rows) and at
50x (10,000 needs, 200,000 rows), against the previous query (a window over every row of the
asked owners) in the same run.

    .venv/bin/python bench/bench_floors.py [--rounds 200]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from pathlib import Path

import asyncpg

from asfmatch.storage import matches
from asfmatch.storage.embedded import EmbeddedPostgres
from asfmatch.storage.migrations import migrate
from harness import fill_matches

SUPPLIERS = 2_000
PER_NEED = 20
LIST_SIZE = 20
CANDIDATES = 200

# The query list_floors ran before, kept here as the baseline.
WINDOW_QUERY = """
SELECT supplier_id AS owner_id, min(score) AS floor, count(*) AS n FROM (
    SELECT supplier_id, score,
           row_number() OVER (PARTITION BY supplier_id ORDER BY score DESC) AS position
    FROM matches
    WHERE supplier_id = ANY($1::bigint[]) AND in_supplier_list AND need_id <> $3
) ranked
WHERE position <= $2 GROUP BY supplier_id
"""


async def _fill(connection: asyncpg.Connection, needs: int) -> None:
    await connection.execute("TRUNCATE organisations CASCADE")
    await connection.execute(
        """
        INSERT INTO organisations (kind, name, org_number)
        SELECT 'supplier', 'S' || i, lpad(i::text, 6, '0') || '-0000' FROM generate_series(1, $1) i
        """,
        SUPPLIERS,
    )
    await connection.execute(
        """
        INSERT INTO supplier_profiles (organisation_id, legal_form, description, employees,
                                       target_group_share)
        SELECT id, 'aktiebolag', 'städning', 5, 0.5 FROM organisations
        """
    )
    buyer = await connection.fetchval(
        "INSERT INTO organisations (kind, name, org_number) "
        "VALUES ('buyer', 'B', '212000-0000') RETURNING id"
    )
    await connection.execute(
        "INSERT INTO needs (buyer_id, title, description, kommun) "
        "SELECT $1, 'N' || i, 'städning', '0180' FROM generate_series(1, $2) i",
        buyer,
        needs,
    )
    # Each need keeps PER_NEED suppliers; each supplier keeps its best LIST_SIZE needs.
    await fill_matches(connection, buyer, PER_NEED, LIST_SIZE)
    await connection.execute("VACUUM ANALYZE matches")


async def _time(
    connection: asyncpg.Connection, rounds: int, supplier_ids: list[int], query: str | None
) -> list[float]:
    rng = random.Random(7)
    timings = []
    for _ in range(rounds):
        owners = rng.sample(supplier_ids, CANDIDATES)
        started = time.perf_counter()
        if query is None:
            await matches.list_floors(connection, "supplier", owners, LIST_SIZE, 0)
        else:
            await connection.fetch(query, owners, LIST_SIZE, 0)
        timings.append((time.perf_counter() - started) * 1000)
    return timings


async def _bench(rounds: int) -> None:
    postgres = EmbeddedPostgres(Path(tempfile.mkdtemp(prefix="asfbench", dir="/tmp")))
    url = postgres.start()
    try:
        connection = await asyncpg.connect(url)
        await migrate(connection)
        results: dict[tuple[str, int], float] = {}
        for needs in (200, 10_000):
            await _fill(connection, needs)
            rows = await connection.fetchval("SELECT count(*) FROM matches")
            supplier_ids = [
                r["id"] for r in await connection.fetch("SELECT id FROM supplier_profiles")
            ]
            for name, query in (("window (before)", WINDOW_QUERY), ("lateral (now)", None)):
                await _time(connection, 10, supplier_ids, query)  # warm the cache
                p50 = statistics.median(await _time(connection, rounds, supplier_ids, query))
                results[(name, needs)] = p50
                print(f"{name:16} {needs:>6} needs {rows:>7} rows: p50 {p50:7.2f} ms per call")
        await connection.close()
        print()
        for name in ("window (before)", "lateral (now)"):
            growth = results[(name, 10_000)] / results[(name, 200)]
            print(f"{name:16} cost at 50x data / cost at 1x: {growth:5.2f}")
        ratio = results[("window (before)", 10_000)] / results[("lateral (now)", 10_000)]
        print(f"at 50x data the lateral query is {ratio:.1f}x faster than the window query")
    finally:
        postgres.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    asyncio.run(_bench(parser.parse_args().rounds))
