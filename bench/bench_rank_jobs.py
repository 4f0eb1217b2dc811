"""Do ranking jobs slow down as the matches table grows?

The worker's `rank_need` job (score, floors of the candidates' lists, store the list, enter the
lists it beats, queue notifications) timed over the same needs with the matches table holding
only their own rows, and again after 200,000 rows for 10,000 other needs were added (issue 10:
jobs per second at 200k rows within 20 % of the empty table). In-process, embedded PostgreSQL,
one connection pool, jobs one after another, so the figure is the job's own cost.

    .venv/bin/python bench/bench_rank_jobs.py [--suppliers 2000] [--needs 200] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path

import asyncpg

from asfmatch.storage.db import create_pool
from asfmatch.storage.servers import running_servers
from asfmatch.storage.settings import Settings
from asfmatch.workers.ranking import Ranker
from harness import load_suppliers, org_number
from synthetic import Generator

FILLER_NEEDS = 10_000
PER_FILLER_NEED = 20
LIST_SIZE = 20


async def _measured_needs(connection: asyncpg.Connection, count: int, gen: Generator) -> list[int]:
    buyer = await connection.fetchval(
        "INSERT INTO organisations (kind, name, org_number) VALUES ('buyer', 'Bench', $1) "
        "RETURNING id",
        org_number(1, "212"),
    )
    ids = []
    for serial in range(1, count + 1):
        need = gen.need(serial)
        ids.append(
            await connection.fetchval(
                """
                INSERT INTO needs (buyer_id, title, description, cpv_codes, kommun, kommuner,
                                   estimated_value_sek, reserved, training_places)
                VALUES ($1, $2, $3, $4, $5, ARRAY[$5], $6, $7, $8) RETURNING id
                """,
                buyer,
                need.title,
                need.description,
                list(need.cpv_codes),
                need.kommun,
                need.estimated_value_sek,
                need.reserved,
                need.training_places,
            )
        )
    return ids


async def _fill(connection: asyncpg.Connection, buyer_title: str) -> None:
    """10,000 closed needs of another buyer with 20 random suppliers each, and every supplier's
    own list (its 20 best) marked, as the worker would have left them."""
    buyer = await connection.fetchval(
        "INSERT INTO organisations (kind, name, org_number) VALUES ('buyer', $1, $2) RETURNING id",
        buyer_title,
        org_number(2, "212"),
    )
    # Closed, so the index (open needs only) and the measured rankings see the same needs;
    # the rows still sit in the table and its indexes, which is what is measured.
    await connection.execute(
        "INSERT INTO needs (buyer_id, title, description, kommun, kommuner, status) "
        "SELECT $1, 'Fyllnad ' || i, 'städning', '0180', ARRAY['0180'], 'closed' "
        "FROM generate_series(1, $2) i",
        buyer,
        FILLER_NEEDS,
    )
    await connection.execute(
        """
        INSERT INTO matches (need_id, supplier_id, score, explanation, model_version, in_need_list)
        SELECT n.id, s.id, random() * 0.5, '{}', 'bench', true
        FROM needs n
        CROSS JOIN LATERAL (
            SELECT id FROM supplier_profiles ORDER BY random() + n.id * 0 LIMIT $2
        ) s
        WHERE n.buyer_id = $1
        """,
        buyer,
        PER_FILLER_NEED,
    )
    await connection.execute(
        """
        UPDATE matches m SET in_supplier_list = true FROM (
            SELECT need_id, supplier_id,
                   row_number() OVER (PARTITION BY supplier_id ORDER BY score DESC) AS position
            FROM matches
        ) r
        WHERE r.need_id = m.need_id AND r.supplier_id = m.supplier_id AND r.position <= $1
        """,
        LIST_SIZE,
    )
    await connection.execute("VACUUM ANALYZE")


async def _round(ranker: Ranker, pool: asyncpg.Pool, need_ids: list[int]) -> float:
    """Jobs per second over one pass of the needs."""
    started = time.perf_counter()
    for need_id in need_ids:
        await ranker.rank_need(pool, need_id)
    return len(need_ids) / (time.perf_counter() - started)


async def _bench(args: argparse.Namespace) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="asfbench", dir="/tmp"))
    settings = Settings.from_env(
        {**os.environ, "ASFMATCH_DATA_DIR": str(data_dir), "ASFMATCH_LOG_LEVEL": "WARNING"}
    )
    generator = Generator(seed=5)
    async with running_servers(settings) as servers:
        await load_suppliers(servers.database_url, args.suppliers, generator)
        connection = await asyncpg.connect(servers.database_url)
        need_ids = await _measured_needs(connection, args.needs, generator)
        pool = await create_pool(servers.database_url, settings)
        ranker = Ranker(settings)
        try:
            # Every measured need ranked once first, so each timed job replaces a stored list
            # in both phases, as a re-ranking in production does.
            await _round(ranker, pool, need_ids)
            rows = await connection.fetchval("SELECT count(*) FROM matches")
            empty = [await _round(ranker, pool, need_ids) for _ in range(args.rounds)]
            print(f"{rows:>7} match rows: {', '.join(f'{r:.1f}' for r in empty)} jobs/s")
            started = time.perf_counter()
            await _fill(connection, "Fyllnad")
            rows = await connection.fetchval("SELECT count(*) FROM matches")
            print(f"filled to {rows} rows in {time.perf_counter() - started:.0f} s")
            await _round(ranker, pool, need_ids[:20])  # the index syncs the closed needs once
            full = [await _round(ranker, pool, need_ids) for _ in range(args.rounds)]
            print(f"{rows:>7} match rows: {', '.join(f'{r:.1f}' for r in full)} jobs/s")
        finally:
            await pool.close()
            await connection.close()
    ratio = statistics.median(full) / statistics.median(empty)
    print(
        f"\nrank_need, {args.suppliers} suppliers, {args.needs} needs, median of {args.rounds}: "
        f"{statistics.median(empty):.1f} jobs/s with the needs' own rows, "
        f"{statistics.median(full):.1f} jobs/s at {rows:,} rows: {ratio:.2f}× "
        f"(target ≥ 0.80)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suppliers", type=int, default=2_000)
    parser.add_argument("--needs", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    asyncio.run(_bench(parser.parse_args()))


if __name__ == "__main__":
    main()
