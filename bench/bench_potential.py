"""Latency of POST /api/v1/potential against two baselines in the same run: GET /health (no
database) and GET /api/v1/needs (one page of needs from PostgreSQL).

Starts its own embedded PostgreSQL and Redis in a temporary folder, loads the demo data (and,
with --scale N, N extra synthetic ASFs spread over Sweden, to see how the scoring grows), then
serves the API with one process and sends requests one at a time, interleaved round by round,
so every path meets the same machine load. Each potential request is a different draft, as a
buyer typing produces; the first one (which builds the index) is timed on its own.

    .venv/bin/python bench/bench_potential.py [--rounds 200] [--scale 0]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from asfmatch.demo import demo_data
from asfmatch.storage.embedded import EmbeddedPostgres, EmbeddedRedis
from harness import free_port, org_number, percentile

WORDS = [
    "städning", "lokalvård", "fönsterputs", "förskolor", "skolor", "kontor", "catering",
    "skollunch", "matlådor", "arbetsträning", "handledning", "flytt", "tvätt", "arbetskläder",
    "snöröjning", "grönyteskötsel", "trycksaker", "skanning", "möbelrenovering", "cykelservice",
]  # fmt: skip
PLACES = ["2580", "0180", "2081", "1880", "0580", "1480", "1280", "0380"]
CPV = ["90910000", "90919300", "55520000", "55521200", "85312510", "98392000", "77310000"]


def _asfmatch(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "asfmatch", *args], env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"asfmatch {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def _with_synthetic_suppliers(data: bytes, count: int, rng: random.Random) -> bytes:
    """The demo data plus `count` made-up ASFs (random trades, places and capacities)."""
    document = json.loads(data)
    template = document["suppliers"][0]
    for serial in range(count):
        trade = rng.sample(WORDS, 3)
        document["suppliers"].append(
            {
                **template,
                "key": f"s-bench-{serial}",
                "name": f"Benchkooperativet {serial} ekonomisk förening",
                "org_number": org_number(serial, "769"),
                "description": f"Vi utför {', '.join(trade)} med arbetsträning.",
                "cpv_codes": rng.sample(CPV, 2),
                "service_area": [rng.choice([*PLACES, "25", "01", "SE"])],
                "target_group_share": round(rng.uniform(0.1, 0.9), 2),
                "max_contract_value_sek": rng.choice([300_000, 800_000, 1_500_000, 4_000_000]),
                "training_places": rng.randint(0, 15),
                "contact_email": f"bench{serial}@example.se",
            }
        )
    return json.dumps(document, ensure_ascii=False).encode()


def _draft(rng: random.Random, serial: int) -> dict[str, object]:
    words = rng.sample(WORDS, 4)
    return {
        "title": f"{words[0].capitalize()} och {words[1]} ({serial})",
        "description": f"Vi behöver {words[2]} och {words[3]} vardagar.",
        "cpv_codes": [rng.choice(CPV)],
        "kommun": rng.choice(PLACES),
        "estimated_value_sek": rng.choice([None, 400_000, 1_200_000, 4_000_000]),
        "training_places": rng.choice([0, 0, 4]),
    }


def _timed(client: httpx.Client, method: str, url: str, **kwargs: object) -> float:
    started = time.perf_counter()
    response = client.request(method, url, **kwargs)  # type: ignore[arg-type]
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise SystemExit(f"{method} {url}: {response.status_code} {response.text[:300]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--scale", type=int, default=0, help="extra synthetic ASFs")
    args = parser.parse_args()
    rng = random.Random(7)

    data_dir = Path(tempfile.mkdtemp(prefix="asfpotential", dir="/tmp"))
    postgres, redis_server = EmbeddedPostgres(data_dir), EmbeddedRedis(data_dir)
    server: subprocess.Popen[bytes] | None = None
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
        demo_file.write_bytes(_with_synthetic_suppliers(demo_data(), args.scale, rng))
        _asfmatch(env, "import", str(demo_file))
        key = _asfmatch(env, "create-admin-key", "--name", "bench").strip().split()[-1]
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "asfmatch", "serve", "--port", str(port), "--workers", "1"],
            env=env,
        )
        base = f"http://127.0.0.1:{port}"
        headers = {"Authorization": f"Bearer {key}"}
        with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
            for _ in range(300):
                try:
                    if client.get("/health").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            first = _timed(client, "POST", "/api/v1/potential/", json=_draft(rng, 0))
            times: dict[str, list[float]] = {"health": [], "needs": [], "potential": []}
            for serial in range(1, args.rounds + 1):
                times["health"].append(_timed(client, "GET", "/health"))
                times["needs"].append(_timed(client, "GET", "/api/v1/needs/?page_size=20"))
                times["potential"].append(
                    _timed(client, "POST", "/api/v1/potential/", json=_draft(rng, serial))
                )
            suppliers = client.post("/api/v1/potential/", json=_draft(rng, -1)).json()
        print(
            f"bench_potential: {args.rounds} rounds, 1 API process, demo data + {args.scale} "
            f"synthetic ASFs (index {suppliers['model_version']}); first request (builds "
            f"the index) {first:.1f} ms"
        )
        base_needs = statistics.median(times["needs"])
        base_health = statistics.median(times["health"])
        print(f"{'path':<34} {'p50 ms':>8} {'p95 ms':>8} {'p50/health':>11} {'p50/needs':>10}")
        for name, label in (
            ("health", "GET /health"),
            ("needs", "GET /api/v1/needs/ (20)"),
            ("potential", "POST /api/v1/potential/"),
        ):
            p50 = statistics.median(times[name])
            p95 = percentile(times[name], 0.95)
            print(
                f"{label:<34} {p50:>8.2f} {p95:>8.2f} {p50 / base_health:>11.2f} "
                f"{p50 / base_needs:>10.2f}"
            )
    finally:
        if server is not None:
            server.terminate()
            server.wait(30)
        redis_server.stop()
        postgres.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
