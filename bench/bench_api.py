"""Requests per second on the API's hot paths, as shares of a Litestar hello-world ceiling
served by the same server with the same number of processes, in the same run.

Needs `wrk` (Debian package `wrk`). Starts its own embedded PostgreSQL and Redis in a temporary
folder, loads the demo data, ranks it, then for each of three rounds runs wrk (2 threads, 32
connections) over each path. Rate limits are raised so that they do not cap the figures.

    .venv/bin/python bench/bench_api.py [--seconds 10] [--rounds 3] [--processes 2] [--scale 50]

After the rounds, each path runs once more paced at half its peak rate (the median of the
rounds): every wrk connection waits 2 × connections ÷ peak seconds between requests (wrk's Lua
`delay()`), and the p50 and p99 of that run are printed beside the rate actually reached. The
pacing is closed-loop: a stalled server delays the next requests instead of queueing them, so a
stall shows in p99 once rather than in every request it held up (wrk2's -R would correct for
that; Debian ships wrk 4).

Besides requests per second it reports the CPU time each request costs the server processes
(for the API: the API processes, PostgreSQL and Redis together), from /proc before and after each
wrk run. On a machine shared with other work the rates move with the load; the CPU per request
much less, so the CPU share of the ceiling (hello world's CPU per request ÷ the path's) is the
steadier figure.

`--scale N` sets the data size before measuring, so costs that grow with the tables show: N × 200
needs (each with a finished ranking job) and, above 1×, N × 4,000 more rows in `matches` (the demo
has about 1,300), then a CHECKPOINT, so the measured writes do not pay for flushing the seeding.
The measured need and its cached list are the demo's at every scale.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import psutil

from asfmatch.demo import demo_data
from asfmatch.storage.embedded import EmbeddedPostgres, EmbeddedRedis
from harness import free_port

BENCH = Path(__file__).resolve().parent
CONNECTIONS = 32


def _asfmatch(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "asfmatch", *args], env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"asfmatch {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def _wait_until_up(url: str) -> None:
    for _ in range(300):
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"{url} did not come up")


def _cpu_seconds(roots: list[int]) -> dict[int, tuple[int, float]]:
    """CPU time (user + system) so far of each process under `roots`, by pid, with its root."""
    spent: dict[int, tuple[int, float]] = {}
    for pid in roots:
        try:
            root = psutil.Process(pid)
            for process in [root, *root.children(recursive=True)]:
                times = process.cpu_times()
                spent[process.pid] = (pid, times.user + times.system)
        except psutil.NoSuchProcess:
            continue
    return spent


def _paced(script: Path | None, folder: Path, name: str, rate: float) -> Path:
    """A wrk script: the path's own (if any) plus a delay that holds the whole run near `rate`
    requests per second over CONNECTIONS connections."""
    own = script.read_text() if script else ""
    interval_ms = 1000 * CONNECTIONS / max(rate, 1.0)
    paced = folder / f"paced_{_slug(name)}.lua"
    paced.write_text(f"{own}\nfunction delay()\n  return {interval_ms:.3f}\nend\n")
    return paced


def _wrk(
    url: str, seconds: int, key: str | None, script: Path | None, roots: list[int]
) -> tuple[float, float, float, float, list[float]]:
    """(requests/s, p50 ms, p99 ms, CPU ms per request, the same split by root) of one wrk run;
    the CPU is that of the processes under `roots` (the server, and for the API its PostgreSQL
    and Redis too), so it holds on a machine shared with other work where requests per second
    do not."""
    command = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency"]
    if key:
        command += ["-H", f"Authorization: Bearer {key}"]
    if script:
        command += ["-s", str(script)]
    before = _cpu_seconds(roots)
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    after = _cpu_seconds(roots)
    by_root = dict.fromkeys(roots, 0.0)
    for pid, (root, used) in after.items():
        by_root[root] += used - before.get(pid, (root, 0.0))[1]
    cpu = sum(by_root.values())
    served = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    if re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        raise SystemExit(f"{url}: error responses under load:\n{out}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]

    def latency(label: str) -> float:
        value, unit = re.search(rf"{label}\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    per_request = [1000 * used / max(1, served) for used in by_root.values()]
    return rps, latency("50%"), latency("99%"), 1000 * cpu / max(1, served), per_request


SEED = """
WITH buyer AS (SELECT buyer_id, kommun FROM needs ORDER BY id LIMIT 1),
made AS (
    INSERT INTO needs (buyer_id, title, description, cpv_codes, kommun, status)
    SELECT buyer.buyer_id, 'Syntetiskt behov ' || g,
           'Lokalvård, catering och fastighetsskötsel, behov nummer ' || g || ' för mätning.',
           ARRAY['90910000'], buyer.kommun, 'open'
    FROM buyer, generate_series(1, $1::int) g
    RETURNING id
), pairs AS (
    INSERT INTO matches (need_id, supplier_id, score, explanation, model_version, in_need_list)
    SELECT made.id, s.id, random(), (SELECT explanation FROM matches LIMIT 1), 'seed', true
    FROM made CROSS JOIN LATERAL (
        SELECT id FROM supplier_profiles ORDER BY id LIMIT $2::int) s
    ON CONFLICT DO NOTHING
    RETURNING 1
)
INSERT INTO jobs (kind, entity_id, state, finished_at)
SELECT 'rank_need', made.id, 'done', now() FROM made
"""


async def _seed(database_url: str, scale: int) -> int:
    """Grow the tables to `scale` × the 1× sizes (see the module docstring); the demo need with
    the longest match list, whose list the bench reads."""
    connection = await asyncpg.connect(database_url)
    try:
        measured: int = await connection.fetchval(
            "SELECT need_id FROM matches GROUP BY need_id ORDER BY count(*) DESC, need_id LIMIT 1"
        )
        have = await connection.fetchval("SELECT count(*) FROM needs")
        extra_needs = max(0, 200 * scale - have)
        per_need = 0 if extra_needs == 0 else -(-4_000 * scale // extra_needs)
        if scale > 1:
            await connection.execute(SEED, extra_needs, per_need)
        elif extra_needs:
            await connection.execute(SEED, extra_needs, 0)
        await connection.execute("ANALYZE")
        # The seeding's dirty pages are written now, not by the checkpointer during the
        # measured runs: its writes slowed the WAL flushes that NOTIFYing commits hold a
        # database-wide lock through, and the 50x POST p99 was that (16-77 ms, 9-14 with this).
        await connection.execute("CHECKPOINT")
        counts = await connection.fetchrow(
            "SELECT (SELECT count(*) FROM needs) AS needs, (SELECT count(*) FROM matches)"
            " AS matches, (SELECT count(*) FROM jobs) AS jobs"
        )
        assert counts is not None
        print(
            f"data: {counts['needs']:,} needs, {counts['matches']:,} matches,"
            f" {counts['jobs']:,} jobs",
            flush=True,
        )
    finally:
        await connection.close()
    return measured


class _Explaining:
    """Stands in for a connection: prints the plan of each query (EXPLAIN ANALYZE), then runs
    it, so the plans shown are those of the real storage functions."""

    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection

    async def _explain(self, query: str, args: tuple[object, ...]) -> None:
        plan = await self.connection.fetch(
            f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, SUMMARY OFF) {query}", *args
        )
        for row in plan:
            print("    " + row[0])

    async def fetch(self, query: str, *args: object) -> list[asyncpg.Record]:
        await self._explain(query, args)
        return await self.connection.fetch(query, *args)

    async def fetchrow(self, query: str, *args: object) -> asyncpg.Record | None:
        await self._explain(query, args)
        return await self.connection.fetchrow(query, *args)

    async def fetchval(self, query: str, *args: object) -> object:
        await self._explain(query, args)
        return await self.connection.fetchval(query, *args)

    async def execute(self, query: str, *args: object) -> str:
        await self._explain(query, args)
        return await self.connection.execute(query, *args)


async def _explain_hot_paths(database_url: str, need_id: int, key: str) -> None:
    """The plans of the queries behind each measured path, at this run's data size."""
    from asfmatch.storage import jobs, matches, needs, organisations
    from asfmatch.storage.db import connect

    plain = await connect(database_url)
    connection: Any = _Explaining(plain)
    try:
        suppliers = [
            r["supplier_id"]
            for r in await plain.fetch(
                "SELECT supplier_id FROM matches WHERE need_id = $1 LIMIT 20", need_id
            )
        ]
        steps: list[tuple[str, Any]] = [
            ("API key lookup (a key-cache miss)", organisations.authenticate(connection, key)),
            (
                "GET /api/v1/needs: the page and its bounded count",
                needs.list_needs(connection, needs.NeedFilter(), page=1, page_size=20),
            ),
            (
                "match list: owner, version and ranking state",
                matches.need_owner(connection, need_id),
            ),
            (
                "match list: the rows (a cache miss)",
                matches.matches_for_need(connection, need_id, 20),
            ),
            (
                "ranking: list floors of 20 suppliers",
                matches.list_floors(connection, "supplier", suppliers, 20, need_id),
            ),
            ("GET /ready: job counts", jobs.counts(connection)),
        ]
        for title, step in steps:
            print(f"\n{title}:")
            await step
    finally:
        await plain.close()


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def _spy(pid: int, folder: Path, name: str, seconds: int) -> subprocess.Popen[bytes]:
    """py-spy sampling the server and its worker processes while wrk runs."""
    folder.mkdir(parents=True, exist_ok=True)
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    command = [spy, "record", "--format", "raw", "--subprocesses", "--nonblocking"]
    output = folder / f"{_slug(name)}.txt"
    command += ["--pid", str(pid), "--duration", str(max(1, seconds - 2)), "--output", str(output)]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


# Where a sample's time is put: the first frame (from the leaf up) in one of these areas.
_AREAS = [
    ("asyncpg", "PostgreSQL client (asyncpg)"),
    ("redis", "Redis client (redis-py)"),
    ("msgspec", "JSON (msgspec)"),
    ("asfmatch", "our code"),
    ("litestar", "Litestar (routing, DI, responses)"),
    ("uvicorn", "uvicorn (HTTP parsing, writing)"),
    ("httptools", "uvicorn (HTTP parsing, writing)"),
    ("asyncio", "event loop (asyncio)"),
]


def _summarise(profile: Path, name: str) -> None:
    """Print which area the samples of `profile` (py-spy raw format) fall in."""
    if not profile.exists():
        print(f"{name}: no profile (is py-spy installed?)")
        return
    areas: dict[str, int] = {}
    total = 0
    for line in profile.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        frames = stack.split(";")
        area = "other"
        for frame in reversed(frames):
            found = next((label for key, label in _AREAS if key in frame), None)
            if found is not None:
                area = found
                break
        areas[area] = areas.get(area, 0) + int(count)
        total += int(count)
    shares = ", ".join(
        f"{label} {count / total:.0%}"
        for label, count in sorted(areas.items(), key=lambda a: -a[1])
    )
    print(f"profile {name}: {shares}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--scale", type=int, default=1, help="data size, multiples of 1×")
    parser.add_argument(
        "--explain", action="store_true", help="print the hot paths' query plans, then measure"
    )
    parser.add_argument(
        "--profile",
        type=Path,
        help="folder: profile the API processes with py-spy during round 1 of each path "
        "(pip install py-spy) and print where the time goes",
    )
    parser.add_argument(
        "--paths",
        help="comma-separated words: measure only the paths whose name contains one of them"
        " (the hello-world ceiling always runs), e.g. --paths POST",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("bench_api needs wrk: apt-get install wrk")

    data_dir = Path(tempfile.mkdtemp(prefix="asfbench", dir="/tmp"))
    postgres, redis_server = EmbeddedPostgres(data_dir), EmbeddedRedis(data_dir)
    processes: list[subprocess.Popen[bytes]] = []
    try:
        env = {
            **os.environ,
            "DATABASE_URL": postgres.start(),
            "REDIS_URL": redis_server.start(),
            "ASFMATCH_DATA_DIR": str(data_dir),
            "ASFMATCH_LOG_LEVEL": "WARNING",
            "ASFMATCH_RATE_LIMIT_PER_ORGANISATION": "100000000",
            "ASFMATCH_RATE_LIMIT_PER_ADDRESS": "100000000",
        }
        _asfmatch(env, "migrate")
        demo_file = data_dir / "demo.json"
        demo_file.write_bytes(demo_data())
        _asfmatch(env, "import", str(demo_file))
        key = _asfmatch(env, "create-admin-key", "--name", "bench").strip().split()[-1]
        _asfmatch(env, "worker", "--drain")
        measured = asyncio.run(_seed(env["DATABASE_URL"], args.scale))
        if args.explain:
            asyncio.run(_explain_hot_paths(env["DATABASE_URL"], measured, key))

        hello_port, api_port = free_port(), free_port()
        processes.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "hello_app:app",
                    "--port",
                    str(hello_port),
                    "--workers",
                    str(args.processes),
                    "--log-level",
                    "warning",
                ],
                cwd=BENCH,
            )
        )
        processes.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "asfmatch",
                    "serve",
                    "--port",
                    str(api_port),
                    "--workers",
                    str(args.processes),
                ],
                env=env,
            )
        )
        hello, api = f"http://127.0.0.1:{hello_port}", f"http://127.0.0.1:{api_port}"
        _wait_until_up(f"{hello}/")
        _wait_until_up(f"{api}/health")

        headers = {"Authorization": f"Bearer {key}"}
        need = httpx.get(f"{api}/api/v1/needs/{measured}", headers=headers).json()
        httpx.get(f"{api}/api/v1/needs/{need['id']}/matches", headers=headers)  # fill the cache
        post = data_dir / "post_need.lua"
        body = {
            "title": "Lokalvård av förskolor",
            "description": "Städning och lokalvård av två förskolor, med praktikplatser.",
            "cpv_codes": ["90910000"],
            "kommun": need["kommun"],
            "buyer_id": need["buyer_id"],
        }
        post.write_text(
            'wrk.method = "POST"\n'
            f"wrk.body = {json.dumps(json.dumps(body))}\n"
            'wrk.headers["Content-Type"] = "application/json"\n'
        )
        paths: list[tuple[str, str, str | None, Path | None]] = [
            ("Litestar hello world (ceiling)", f"{hello}/", None, None),
            ("GET /health", f"{api}/health", None, None),
            ("GET /api/v1/needs?page_size=20", f"{api}/api/v1/needs?page_size=20", None, None),
            (
                "GET /api/v1/needs/{id}/matches",
                f"{api}/api/v1/needs/{need['id']}/matches",
                key,
                None,
            ),
            ("POST /api/v1/needs", f"{api}/api/v1/needs", key, post),
        ]
        if args.paths:
            wanted = [word.strip() for word in args.paths.split(",") if word.strip()]
            paths = [paths[0]] + [p for p in paths[1:] if any(w in p[0] for w in wanted)]
        # The API's cost includes its PostgreSQL and Redis (found by their data folder).
        stores = sorted(
            process.pid
            for process in psutil.process_iter(["cmdline"])
            if any(str(data_dir) in part for part in process.info["cmdline"] or [])
            and process.pid not in {p.pid for p in processes}
        )
        # Only the roots: PostgreSQL's backends are children of the postmaster.
        stores = [pid for pid in stores if psutil.Process(pid).ppid() not in stores]
        store_names = [
            "PostgreSQL" if "postgres" in " ".join(psutil.Process(pid).cmdline()) else "Redis"
            for pid in stores
        ]
        roots = {hello: [processes[0].pid], api: [processes[1].pid, *stores]}
        runs: dict[str, list[tuple[float, float, float, float, list[float]]]] = {
            name: [] for name, *_ in paths
        }
        for round_number in range(1, args.rounds + 1):
            for name, url, auth, script in paths:
                spy = None
                if args.profile and round_number == 1 and url.startswith(api):
                    spy = _spy(processes[-1].pid, args.profile, name, args.seconds)
                group = roots[hello] if url.startswith(hello) else roots[api]
                runs[name].append(_wrk(url, args.seconds, auth, script, group))
                if spy is not None:
                    spy.wait(timeout=60)
                    _summarise(args.profile / f"{_slug(name)}.txt", name)
            print(f"round {round_number} of {args.rounds} done", flush=True)

        paced: dict[str, tuple[float, float, float, float, list[float]]] = {}
        for name, url, auth, script in paths[1:]:
            half = statistics.median(r[0] for r in runs[name]) / 2
            group = roots[api]
            paced[name] = _wrk(url, args.seconds, auth, _paced(script, data_dir, name, half), group)
        print("paced runs at half the peak done", flush=True)

        ceiling = statistics.median(r[0] for r in runs[paths[0][0]])
        ceiling_cpu = statistics.median(r[3] for r in runs[paths[0][0]])
        print(
            f"\nscale {args.scale}×, {args.processes} server processes, wrk 2 threads {CONNECTIONS} connections "
            f"{args.seconds} s, median of {args.rounds} rounds\n"
        )
        print(
            "| path | rps | p50 ms | p99 ms | share of ceiling (rps) | CPU ms per request |"
            " share of ceiling (CPU) |\n|---|---|---|---|---|---|---|"
        )
        for name, *_ in paths:
            rps = statistics.median(r[0] for r in runs[name])
            p50 = statistics.median(r[1] for r in runs[name])
            p99 = statistics.median(r[2] for r in runs[name])
            cpu = statistics.median(r[3] for r in runs[name])
            print(
                f"| {name} | {rps:,.0f} | {p50:.1f} | {p99:.1f} | {rps / ceiling:.2f} |"
                f" {cpu:.3f} | {ceiling_cpu / cpu:.2f} |"
            )
        print(
            "\nAt half of each path's peak rate (paced; target p99 under 50 ms):\n\n"
            "| path | asked rps | reached rps | p50 ms | p99 ms |\n|---|---|---|---|---|"
        )
        for name, *_ in paths[1:]:
            half = statistics.median(r[0] for r in runs[name]) / 2
            rps, p50, p99, *_ = paced[name]
            print(f"| {name} | {half:,.0f} | {rps:,.0f} | {p50:.1f} | {p99:.1f} |")
        print(
            "\nAPI CPU ms per request by process group (median of the rounds):\n\n"
            f"| path | API processes | {' | '.join(store_names)} |\n"
            f"|---|---|{'---|' * len(store_names)}"
        )
        for name, *_ in paths[1:]:
            split = [
                statistics.median(r[4][index] for r in runs[name])
                for index in range(1 + len(stores))
            ]
            print(f"| {name} | " + " | ".join(f"{ms:.3f}" for ms in split) + " |")
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)
        redis_server.stop()
        postgres.stop()


if __name__ == "__main__":
    main()
