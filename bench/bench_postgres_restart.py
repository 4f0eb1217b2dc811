"""What a PostgreSQL restart costs the API's clients: 503s (and any other 5xx) per restart, and
the time until requests succeed again, as a ratio to the restart itself measured in the same run.

Starts its own embedded PostgreSQL and Redis in a temporary folder, serves the API in-process,
and for each round keeps one client calling (alternately GET /api/v1/me and POST /api/v1/needs)
while `pg_ctl restart -m fast` runs.

    .venv/bin/python bench/bench_postgres_restart.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import tempfile
import time
from pathlib import Path

from litestar.testing import AsyncTestClient

from asfmatch.api.app import create_app
from asfmatch.storage.db import connect
from asfmatch.storage.embedded import EmbeddedPostgres, EmbeddedRedis
from asfmatch.storage.migrations import migrate
from asfmatch.storage.organisations import create_api_key, create_organisation
from asfmatch.storage.settings import Settings
from harness import org_number

API = "/api/v1"
NEED = {"title": "Städning av kontor", "kommun": "2580", "cpv_codes": ["90919200"]}
# Requests before the restart, and successes in a row after it that end a round.
WARM_UP = 20
RECOVERED_AFTER = 50


async def _key(database_url: str) -> str:
    connection = await connect(database_url)
    try:
        await migrate(connection)
        buyer = await create_organisation(
            connection, kind="buyer", name="Luleå kommun", org_number=org_number(1, "212000")
        )
        _, secret = await create_api_key(connection, buyer.id, "bench")
        return secret
    finally:
        await connection.close()


async def _round(
    client: AsyncTestClient, headers: dict[str, str], postgres: EmbeddedPostgres
) -> dict[str, float]:  # type: ignore[type-arg]
    """One restart under a calling client: its counts and times (seconds)."""
    done: list[tuple[float, float, int]] = []  # (sent, answered, status)
    restart_took = 0.0
    restart_done: float | None = None

    async def restart() -> None:
        nonlocal restart_took, restart_done
        began = time.perf_counter()
        await asyncio.to_thread(postgres.restart)
        restart_done = time.perf_counter()
        restart_took = restart_done - began

    task = None
    restart_began = 0.0
    streak = 0
    position = 0
    while streak < RECOVERED_AFTER:
        if position == WARM_UP:
            restart_began = time.perf_counter()
            task = asyncio.create_task(restart())
        sent = time.perf_counter()
        if position % 2:
            response = await client.post(f"{API}/needs", json=NEED, headers=headers)
        else:
            response = await client.get(f"{API}/me", headers=headers)
        done.append((sent, time.perf_counter(), response.status_code))
        after_restart = restart_done is not None and sent >= restart_done
        streak = streak + 1 if response.status_code < 500 and after_restart else 0
        position += 1
        await asyncio.sleep(0)
    assert task is not None
    await task
    assert restart_done is not None
    # Ready again: the first success sent after the restart had finished.
    ready = next(
        answered for sent, answered, status in done if sent >= restart_done and status < 500
    )
    return {
        "requests": len(done),
        "503": sum(status == 503 for _, _, status in done),
        "other 5xx": sum(status >= 500 and status != 503 for _, _, status in done),
        "restart s": restart_took,
        "ready s": ready - restart_began,
    }


async def main(rounds: int) -> None:
    logging.disable(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="asfm", dir="/tmp") as directory:
        postgres, redis_server = EmbeddedPostgres(Path(directory)), EmbeddedRedis(Path(directory))
        database_url, redis_url = postgres.start(), redis_server.start()
        try:
            headers = {"Authorization": f"Bearer {await _key(database_url)}"}
            settings = Settings(
                database_url=database_url, redis_url=redis_url, data_dir=Path(directory)
            )
            async with AsyncTestClient(app=create_app(settings)) as client:
                results = [await _round(client, headers, postgres) for _ in range(rounds)]
        finally:
            redis_server.stop()
            postgres.stop()
    print(
        f"{'round':>5} {'requests':>8} {'503':>5} {'other 5xx':>9} {'restart s':>9} {'ready s':>8} {'ratio':>6}"
    )
    for number, result in enumerate(results, start=1):
        print(
            f"{number:>5} {result['requests']:>8.0f} {result['503']:>5.0f} {result['other 5xx']:>9.0f}"
            f" {result['restart s']:>9.3f} {result['ready s']:>8.3f}"
            f" {result['ready s'] / result['restart s']:>6.2f}"
        )
    ratios = [result["ready s"] / result["restart s"] for result in results]
    print(
        f"median: {statistics.median(r['503'] for r in results):.0f} 503s per restart, "
        f"{sum(r['other 5xx'] for r in results):.0f} other 5xx in all, ready "
        f"{statistics.median(r['ready s'] for r in results):.3f} s after the restart began "
        f"(restart itself {statistics.median(r['restart s'] for r in results):.3f} s, "
        f"ratio {statistics.median(ratios):.2f})"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    asyncio.run(main(parser.parse_args().rounds))
