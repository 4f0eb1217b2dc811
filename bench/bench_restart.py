"""Time from `POST /api/v1/needs` to its match list being ready, before and after a PostgreSQL
restart, through the real API (uvicorn) and a real worker process.

A worker whose LISTEN connection died with the old server hears no NOTIFY and falls back to its
poll (2 s): the ratio after/before shows whether it reconnected. The baseline is the same
measure before the restart, in the same run.

    .venv/bin/python bench/bench_restart.py [--suppliers 500] [--needs 30]

Runs its own embedded PostgreSQL and Redis in a temporary directory (it restarts that server).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from asfmatch.storage.embedded import EmbeddedPostgres, EmbeddedRedis
from harness import free_port, load_suppliers, org_number, percentile
from synthetic import Generator


class Client:
    """The API as a client sees it, retrying what a restart makes fail for a moment."""

    def __init__(self, client: httpx.AsyncClient, buyer_id: int, generator: Generator) -> None:
        self.client = client
        self.buyer_id = buyer_id
        self.generator = generator
        self.errors = 0

    async def _call(self, method: str, path: str, **kwargs: object) -> httpx.Response:
        for _ in range(600):
            try:
                response = await self.client.request(method, path, **kwargs)  # type: ignore[arg-type]
            except httpx.TransportError:
                response = None
            if response is not None and response.status_code < 500:
                return response
            self.errors += 1
            await asyncio.sleep(0.05)
        raise RuntimeError(f"{method} {path} kept failing")

    async def post_and_wait(self, number: int) -> float:
        """Seconds from posting need `number` to its list being ready."""
        need = self.generator.need(number)
        body = {
            "title": need.title,
            "description": need.description,
            "cpv_codes": list(need.cpv_codes),
            "kommun": need.kommun,
            "buyer_id": self.buyer_id,
        }
        started = time.perf_counter()
        created = await self._call("POST", "/api/v1/needs", json=body)
        need_id = created.json()["id"]
        while True:
            listed = await self._call("GET", f"/api/v1/needs/{need_id}/matches")
            if listed.json()["status"] == "ready":
                return time.perf_counter() - started
            await asyncio.sleep(0.002)


async def _bench(args: argparse.Namespace) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="asfrestart", dir="/tmp"))
    postgres, redis = EmbeddedPostgres(data_dir), EmbeddedRedis(data_dir)
    database_url, redis_url = postgres.start(), redis.start()
    generator = Generator(seed=7)
    try:
        key = await load_suppliers(database_url, args.suppliers, generator)
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "ASFMATCH_DATA_DIR": str(data_dir),
            "ASFMATCH_LOG_LEVEL": "WARNING",
            "ASFMATCH_RATE_LIMIT_PER_KEY": "1000000",
            "ASFMATCH_RATE_LIMIT_PER_ADDRESS": "1000000",
        }
        port = free_port()
        command = [sys.executable, "-m", "asfmatch"]
        api = subprocess.Popen([*command, "serve", "--port", str(port)], env=env)
        worker = subprocess.Popen([*command, "worker"], env=env)
        try:
            await _measure(args, key, port, generator, postgres)
        finally:
            for process in (api, worker):
                process.terminate()
                process.wait(timeout=30)
    finally:
        redis.stop()
        postgres.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


async def _measure(
    args: argparse.Namespace, key: str, port: int, generator: Generator, postgres: EmbeddedPostgres
) -> None:
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=30
    ) as http:
        for _ in range(300):
            try:
                if (await http.get("/health")).status_code == 200:
                    break
            except httpx.TransportError:
                await asyncio.sleep(0.1)
        buyer = await http.post(
            "/api/v1/organisations",
            json={"kind": "buyer", "name": "Bench kommun", "org_number": org_number(2, "212")},
        )
        client = Client(http, buyer.json()["id"], generator)
        await client.post_and_wait(0)  # the worker builds its index on the first job
        before = [await client.post_and_wait(n) * 1000 for n in range(1, args.needs + 1)]
        started = time.perf_counter()
        await asyncio.to_thread(postgres.restart)
        restart = time.perf_counter() - started
        errors_before = client.errors
        after = [
            await client.post_and_wait(n) * 1000 for n in range(args.needs + 1, 2 * args.needs + 1)
        ]
    p50_before, p50_after = statistics.median(before), statistics.median(after)
    print(
        f"\nmachine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )
    print(
        f"{args.needs} needs before and {args.needs} after a PostgreSQL restart "
        f"({restart:.2f} s), {args.suppliers} suppliers, worker poll 2 s\n"
    )
    print(f"{'POST /needs -> matches ready':40} {'p50 ms':>9} {'p95 ms':>9}")
    print(
        f"{'  before the restart (baseline)':40} {p50_before:9.1f} {percentile(before, 0.95):9.1f}"
    )
    print(f"{'  after the restart':40} {p50_after:9.1f} {percentile(after, 0.95):9.1f}")
    print(f"\nafter / before (p50): {p50_after / p50_before:.2f}x")
    print(f"requests retried after a 5xx or a dropped connection: {client.errors - errors_before}")


def main() -> None:
    """Parse arguments and run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suppliers", type=int, default=500)
    parser.add_argument("--needs", type=int, default=30)
    asyncio.run(_bench(parser.parse_args()))


if __name__ == "__main__":
    main()
