"""Ranking bench: latency of rank_suppliers / rank_needs against a naive full scan, build time, RSS.

Run: .venv/bin/python bench/bench_ranking.py [--quick] [--sizes 10000,100000,1000000]
Each size runs in a fresh subprocess so its RSS is its own. Profiles are synthetic but shaped
like the real ones: Swedish sector vocabulary, real CPV service codes, service areas weighted by
kommun population (mostly one kommun or a few, some a whole län, ~2 % "SE").
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np
import psutil

from asfmatch.matching.filters import is_eligible
from asfmatch.matching.model import Need, SupplierProfile
from asfmatch.matching.ranking import MatchIndex, need_document, supplier_document
from asfmatch.reference.cpv import cpv_labels_sv
from synthetic import Generator

NEEDS_MAX = 100_000
QUERIES = 300
NAIVE_QUERIES = 60
WARMUP = 30
LIMIT = 20


def _rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


def _peak_mb() -> float:
    # ru_maxrss is in KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Timer:
    """Wall-clock latency of each call, and this thread's CPU time for the same call."""

    # Wall time is the figure; CPU time is shown beside it because other processes share the
    # two cores, and the gap between the two is time spent waiting for a core.

    def __init__(self) -> None:
        self.wall: list[float] = []
        self.cpu: list[float] = []

    def time(self, call: Callable[[], list[Any]]) -> list[Any]:
        wall, cpu = time.perf_counter(), time.thread_time()
        result = call()
        self.cpu.append(time.thread_time() - cpu)
        self.wall.append(time.perf_counter() - wall)
        return result

    def summary(self) -> dict[str, float]:
        wall = np.array(self.wall) * 1e3
        return {
            "p50": float(np.percentile(wall, 50)),
            "p95": float(np.percentile(wall, 95)),
            "cpu_p50": float(np.percentile(np.array(self.cpu) * 1e3, 50)),
        }


def _naive_top(scores: np.ndarray, eligible: Callable[[int], bool]) -> list[int]:
    # Full argsort of every row's score, then walk it applying the filters until LIMIT pass.
    order = np.argsort(-scores, kind="stable")
    found: list[int] = []
    for row in order.tolist():
        if scores[row] <= 0 or len(found) == LIMIT:
            break
        if eligible(row):
            found.append(row)
    return found


def _naive_suppliers(index: MatchIndex, need: Need, labels: dict[str, str]) -> list[int]:
    # Text cosine with every supplier row (CSR @ q), full argsort, then the filters.
    model, rows = index._model, index._suppliers.main_rows
    profiles = list(index._supplier_profiles.values())  # slot order: built sorted by id
    query = model.vectorize(need_document(need, labels))
    dense = np.zeros(model.size)
    dense[query.cols] = query.vals
    return _naive_top(rows @ dense, lambda row: is_eligible(need, profiles[row]))


def _naive_needs(index: MatchIndex, supplier: SupplierProfile, labels: dict[str, str]) -> list[int]:
    model, rows = index._model, index._needs.main_rows
    profiles = list(index._need_profiles.values())
    query = model.vectorize(supplier_document(supplier, labels))
    dense = np.zeros(model.size)
    dense[query.cols] = query.vals
    return _naive_top(rows @ dense, lambda row: is_eligible(profiles[row], supplier))


def _worker(size: int) -> dict[str, Any]:
    labels = cpv_labels_sv()
    started = time.perf_counter()
    generator = Generator(seed=1)
    suppliers = [generator.supplier(i) for i in range(size)]
    needs = [generator.need(i) for i in range(min(size, NEEDS_MAX))]
    generate_s = time.perf_counter() - started
    started = time.perf_counter()
    index = MatchIndex.build(suppliers, needs, labels)
    build_s = time.perf_counter() - started
    rss, peak = _rss_mb(), _peak_mb()

    # Fresh queries, not in the index: the analysis of their text is part of the timing.
    queries = Generator(seed=2)
    fresh_needs = (queries.need(10**9 + i) for i in range(10 * QUERIES))
    need_queries = [n for n in fresh_needs if n.status == "open"][: QUERIES + WARMUP]
    fresh_suppliers = (queries.supplier(10**9 + i) for i in range(10 * QUERIES))
    supplier_queries = [s for s in fresh_suppliers if s.active][: QUERIES + WARMUP]

    forward, forward_naive, reverse, reverse_naive = Timer(), Timer(), Timer(), Timer()
    results = 0
    for need in need_queries[:WARMUP]:
        index.rank_suppliers(need, limit=LIMIT)
    for need in need_queries[WARMUP:]:
        results += len(forward.time(partial(index.rank_suppliers, need, limit=LIMIT)))
    for need in need_queries[WARMUP : WARMUP + NAIVE_QUERIES]:
        forward_naive.time(partial(_naive_suppliers, index, need, labels))
    for supplier in supplier_queries[:WARMUP]:
        index.rank_needs(supplier, limit=LIMIT)
    for supplier in supplier_queries[WARMUP:]:
        reverse.time(partial(index.rank_needs, supplier, limit=LIMIT))
    for supplier in supplier_queries[WARMUP : WARMUP + NAIVE_QUERIES]:
        reverse_naive.time(partial(_naive_needs, index, supplier, labels))
    return {
        "suppliers": size,
        "needs": len(needs),
        "generate_s": generate_s,
        "build_s": build_s,
        "rss_mb": rss,
        "peak_rss_mb": peak,
        "fwd": forward.summary(),
        "fwd_naive": forward_naive.summary(),
        "fwd_mean_results": results / len(forward.wall),
        "rev": reverse.summary(),
        "rev_naive": reverse_naive.summary(),
        "version": index.version,
    }


def _machine() -> str:
    model = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    memory = psutil.virtual_memory().total / 2**30
    return (
        f"CPU: {model}; {os.cpu_count()} logical cores; {memory:.0f} GiB RAM; "
        f"Python {platform.python_version()}; numpy {np.__version__}"
    )


def _load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def _print_table(results: list[dict[str, Any]]) -> None:
    print(
        f"{'suppliers':>10} {'needs':>8} {'build s':>8} {'RSS MB':>7} {'peak MB':>8} | "
        f"{'p50 ms':>7} {'p95 ms':>7} {'cpu p50':>8} {'naive p50':>10} {'x':>6} | "
        f"{'rev p50':>8} {'rev p95':>8} {'cpu p50':>8} {'naive p50':>10} {'x':>6}"
    )
    for r in results:
        fwd, fwd_naive, rev, rev_naive = r["fwd"], r["fwd_naive"], r["rev"], r["rev_naive"]
        print(
            f"{r['suppliers']:>10,} {r['needs']:>8,} {r['build_s']:>8.1f} {r['rss_mb']:>7.0f} "
            f"{r['peak_rss_mb']:>8.0f} | {fwd['p50']:>7.2f} {fwd['p95']:>7.2f} "
            f"{fwd['cpu_p50']:>8.2f} {fwd_naive['p50']:>10.2f} "
            f"{fwd_naive['p50'] / fwd['p50']:>5.0f}x | {rev['p50']:>8.2f} {rev['p95']:>8.2f} "
            f"{rev['cpu_p50']:>8.2f} {rev_naive['p50']:>10.2f} {rev_naive['p50'] / rev['p50']:>5.0f}x"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only 10k suppliers (smoke)")
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(_worker(args.worker)))
        return
    sizes = [10_000] if args.quick else [int(s) for s in args.sizes.split(",")]
    print(_machine())
    print(f"load average before: {_load()}")
    results = []
    for size in sizes:
        # A fresh interpreter per size, so RSS and peak RSS are that size's own.
        done = subprocess.run(
            [sys.executable, __file__, "--worker", str(size)],
            check=True,
            capture_output=True,
            text=True,
        )
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(f"  {size:>9,} suppliers: built in {results[-1]['build_s']:.1f} s", flush=True)
    print(f"load average after: {_load()}")
    print()
    _print_table(results)
    print()
    print(
        f"p50/p95: wall-clock ms of rank_suppliers(limit={LIMIT}) for {QUERIES} fresh needs\n"
        "(text analysis, filters, top-k and explanations included; warm index); cpu p50: this\n"
        "thread's CPU time for the same calls. naive: text cosine X @ q over all supplier rows\n"
        "(scipy CSR), full argsort, then filters until 20 pass, same queries; x = naive p50 / p50.\n"
        f"rev: rank_needs for {QUERIES} fresh suppliers against the needs (naive likewise).\n"
        "RSS: after build, in a fresh process holding the generated profiles; peak: max RSS."
    )


if __name__ == "__main__":
    main()
