"""End to end: time from `POST /api/v1/needs` to its match list being ready, through the real
API (uvicorn), the PostgreSQL queue and a worker process, with 10 000 suppliers loaded.

Baselines measured in the same run: the in-process ranking of the same needs against the same
suppliers (the compute floor), and a GET /health round trip (the HTTP floor).

    .venv/bin/python bench/bench_end_to_end.py [--suppliers 10000] [--needs 60]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from asfmatch.matching.ranking import MatchIndex
from asfmatch.reference.cpv import cpv_labels_sv
from asfmatch.storage.servers import running_servers
from asfmatch.storage.settings import Settings
from harness import free_port, load_suppliers, org_number, percentile
from synthetic import Generator


async def _bench(args: argparse.Namespace) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="asfbench", dir="/tmp"))
    settings = Settings.from_env({**os.environ, "ASFMATCH_DATA_DIR": str(data_dir)})
    generator = Generator(seed=11)
    async with running_servers(settings) as servers:
        started = time.perf_counter()
        key = await load_suppliers(servers.database_url, args.suppliers, generator)
        print(f"loaded {args.suppliers} suppliers in {time.perf_counter() - started:.1f} s")
        env = {
            **os.environ,
            "DATABASE_URL": servers.database_url,
            "REDIS_URL": servers.redis_url,
            "ASFMATCH_DATA_DIR": str(data_dir),
            "ASFMATCH_LOG_LEVEL": "WARNING",
            "ASFMATCH_RATE_LIMIT_PER_ORGANISATION": "100000",
            "ASFMATCH_RATE_LIMIT_PER_ADDRESS": "100000",
        }
        port = free_port()
        command = [sys.executable, "-m", "asfmatch"]
        api = subprocess.Popen([*command, "serve", "--port", str(port)], env=env)
        worker = subprocess.Popen([*command, "worker"], env=env)
        try:
            await _measure(args, key, port, generator)
        finally:
            for process in (api, worker):
                process.terminate()
                process.wait(timeout=30)


async def _measure(args: argparse.Namespace, key: str, port: int, generator: Generator) -> None:
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as client:
        for _ in range(200):
            try:
                if (await client.get("/health")).status_code == 200:
                    break
            except httpx.TransportError:
                await asyncio.sleep(0.1)
        buyer = await client.post(
            "/api/v1/organisations",
            json={"kind": "buyer", "name": "Bench kommun", "org_number": org_number(2, "212")},
        )
        buyer_id = buyer.json()["id"]
        needs = [generator.need(n) for n in range(args.needs + 1)]

        async def post_and_wait(need_index: int) -> tuple[float, float, int]:
            need = needs[need_index]
            body = {
                "title": need.title,
                "description": need.description,
                "cpv_codes": list(need.cpv_codes),
                "kommun": need.kommun,
                "estimated_value_sek": need.estimated_value_sek,
                "reserved": need.reserved,
                "training_places": need.training_places,
                "buyer_id": buyer_id,
            }
            started = time.perf_counter()
            created = await client.post("/api/v1/needs", json=body)
            posted = time.perf_counter() - started
            need_id = created.json()["id"]
            while True:
                listed = (await client.get(f"/api/v1/needs/{need_id}/matches")).json()
                if listed["status"] == "ready":
                    return time.perf_counter() - started, posted, len(listed["matches"])
                await asyncio.sleep(0.002)

        await post_and_wait(0)  # the worker builds its index on the first job: not measured
        ready, posts, found = [], [], []
        for index in range(1, args.needs + 1):
            total, posted, count = await post_and_wait(index)
            ready.append(total * 1000)
            posts.append(posted * 1000)
            found.append(count)
        health = []
        for _ in range(args.needs):
            started = time.perf_counter()
            await client.get("/health")
            health.append((time.perf_counter() - started) * 1000)

    profiles = [Generator(seed=11).supplier(serial) for serial in range(1, args.suppliers + 1)]
    index = MatchIndex.build(profiles, [], cpv_labels_sv())
    compute = []
    for need in needs[1:]:
        started = time.perf_counter()
        index.rank_suppliers(need, limit=200)
        compute.append((time.perf_counter() - started) * 1000)

    p50 = statistics.median(ready)
    print(
        f"\nmachine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(f"{args.needs} needs posted one after another, {args.suppliers} suppliers loaded\n")
    print(f"{'measure':44} {'p50 ms':>9} {'p95 ms':>9}")
    print(
        f"{'POST /needs -> matches ready (end to end)':44} {p50:9.1f} {percentile(ready, 0.95):9.1f}"
    )
    print(
        f"{'  of which POST /needs itself':44} {statistics.median(posts):9.1f} {percentile(posts, 0.95):9.1f}"
    )
    print(
        f"{'baseline: ranking in-process (top 200)':44} {statistics.median(compute):9.2f} {percentile(compute, 0.95):9.2f}"
    )
    print(
        f"{'baseline: GET /health round trip':44} {statistics.median(health):9.2f} {percentile(health, 0.95):9.2f}"
    )
    print(f"\nend to end / in-process ranking: {p50 / statistics.median(compute):.1f}x")
    print(f"end to end / health round trip:  {p50 / statistics.median(health):.1f}x")
    print(f"suppliers per match list (median): {statistics.median(found):.0f}")


def main() -> None:
    """Parse arguments and run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suppliers", type=int, default=10_000)
    parser.add_argument("--needs", type=int, default=60)
    asyncio.run(_bench(parser.parse_args()))


if __name__ == "__main__":
    main()
