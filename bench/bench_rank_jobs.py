"""Do ranking jobs slow down as the matches table grows?

The worker's `rank_need` job (score, floors of the candidates' lists, store the list, enter the
lists it beats, queue notifications) timed over the same needs with the matches table holding
only their own rows, and in a copy of that database to which 200,000 rows for 10,000 other
(closed) needs were added (issue 10: jobs per second at 200k rows within 20 % of the empty
table). Both databases live in one embedded PostgreSQL, each with its own worker index and pool,
and the rounds alternate between them, so load on the machine falls on both alike. Jobs run one
after another, so the figure is the job's own cost.

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
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from asfmatch.storage.db import create_pool
from asfmatch.storage.servers import running_servers
from asfmatch.storage.settings import Settings
from asfmatch.workers.ranking import Ranker
from harness import fill_matches, load_suppliers, org_number
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
    await fill_matches(connection, buyer, PER_FILLER_NEED, LIST_SIZE, top_score=0.5)
    await connection.execute("VACUUM ANALYZE")


async def _round(ranker: Ranker, pool: asyncpg.Pool, need_ids: list[int]) -> float:
    """Jobs per second over one pass of the needs."""
    started = time.perf_counter()
    for need_id in need_ids:
        await ranker.rank_need(pool, need_id)
    return len(need_ids) / (time.perf_counter() - started)


async def _copy(url: str, name: str) -> str:
    """A copy of the database at `url`, named `name`; its URL."""
    parts = urlsplit(url)
    connection = await asyncpg.connect(urlunsplit(parts._replace(path="/postgres")))
    try:
        await connection.execute(f'CREATE DATABASE "{name}" TEMPLATE "{parts.path[1:]}"')
    finally:
        await connection.close()
    return urlunsplit(parts._replace(path=f"/{name}"))


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
        await connection.close()
        filled_url = await _copy(servers.database_url, "bench_filled")
        connection = await asyncpg.connect(filled_url)
        started = time.perf_counter()
        await _fill(connection, "Fyllnad")
        filler = await connection.fetchval("SELECT count(*) FROM matches")
        await connection.close()
        print(f"filled the copy with {filler:,} rows in {time.perf_counter() - started:.0f} s")
        pools = {
            "empty": await create_pool(servers.database_url, settings),
            "filled": await create_pool(filled_url, settings),
        }
        rankers = {name: Ranker(settings) for name in pools}
        rates: dict[str, list[float]] = {name: [] for name in pools}
        rows: dict[str, int] = {}
        try:
            for name, pool in pools.items():
                # Every measured need ranked once first, so each timed job replaces a stored
                # list in both databases, as a re-ranking in production does.
                await _round(rankers[name], pool, need_ids)
                async with pool.acquire() as reader:
                    rows[name] = await reader.fetchval("SELECT count(*) FROM matches")
            for _ in range(args.rounds):
                for name, pool in pools.items():
                    rates[name].append(await _round(rankers[name], pool, need_ids))
        finally:
            for pool in pools.values():
                await pool.close()
    for name in pools:
        figures = ", ".join(f"{rate:.1f}" for rate in rates[name])
        print(f"{name:>6}: {rows[name]:>7,} match rows: {figures} jobs/s")
    empty, full = (statistics.median(rates[name]) for name in ("empty", "filled"))
    print(
        f"\nrank_need, {args.suppliers} suppliers, {args.needs} needs, median of {args.rounds} "
        f"alternating rounds: {empty:.1f} jobs/s with the needs' own rows, {full:.1f} jobs/s at "
        f"{rows['filled']:,} rows: {full / empty:.2f}× (target ≥ 0.80)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suppliers", type=int, default=2_000)
    parser.add_argument("--needs", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    asyncio.run(_bench(parser.parse_args()))


if __name__ == "__main__":
    main()
