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

from asfmatch.matching.cpv import clear_cached_links
from asfmatch.matching.filters import clear_cached_checks, is_eligible
from asfmatch.matching.model import Need, SupplierProfile
from asfmatch.matching.ranking import MatchIndex, need_document, supplier_document
from asfmatch.reference.cpv import cpv_labels_sv
from synthetic import Generator

NEEDS_MAX = 100_000
QUERIES = 300
NAIVE_QUERIES = 60
FTS_QUERIES = 20
WARMUP = 30
ROUNDS = 3
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


class Rounds:
    """Timers of repeated rounds over the same queries; figures are medians over rounds."""

    def __init__(self) -> None:
        self.timers: list[Timer] = []

    def new(self) -> Timer:
        self.timers.append(Timer())
        return self.timers[-1]

    def summary(self) -> dict[str, Any]:
        each = [timer.summary() for timer in self.timers]
        merged = {key: float(np.median([s[key] for s in each])) for key in each[0]}
        return {**merged, "rounds_p50": [s["p50"] for s in each]}


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


def _dense_query(index: MatchIndex, text: str) -> np.ndarray:
    # float32 like the rows: a float64 query makes scipy upcast (copy) the whole matrix on
    # every product, which once made the naive scan look three times slower than it is.
    query = index._model.vectorize(text)
    dense = np.zeros(index._model.size, dtype=np.float32)
    dense[query.cols] = query.vals
    return dense


def _naive_suppliers(index: MatchIndex, rows: Any, need: Need, labels: dict[str, str]) -> list[int]:
    # Text cosine with every supplier row (CSR @ q), full argsort, then the filters.
    profiles = list(index._supplier_profiles.values())  # slot order: built sorted by id
    scores = rows @ _dense_query(index, need_document(need, labels))
    return _naive_top(scores, lambda row: is_eligible(need, profiles[row]))


def _naive_needs(
    index: MatchIndex, rows: Any, supplier: SupplierProfile, labels: dict[str, str]
) -> list[int]:
    profiles = list(index._need_profiles.values())
    scores = rows @ _dense_query(index, supplier_document(supplier, labels))
    return _naive_top(scores, lambda row: is_eligible(profiles[row], supplier))


def _tantivy(texts: list[str]) -> Any:
    try:
        from tantivy_bm25 import TantivyBm25
    except ImportError:  # tantivy is in the `bench` extra; without it the column is left out
        return None
    return TantivyBm25(texts)


def _need_queries(labels: dict[str, str]) -> list[Need]:
    # Fresh needs, not in the index: the analysis of their text is part of the timing.
    queries = Generator(seed=2)
    fresh_needs = (queries.need(10**9 + i) for i in range(10 * QUERIES))
    return [n for n in fresh_needs if n.status == "open"][: QUERIES + WARMUP]


def _fts_worker(size: int) -> dict[str, Any]:
    from fts_baseline import fts_latency

    labels = cpv_labels_sv()
    generator = Generator(seed=1)
    documents = [supplier_document(generator.supplier(i), labels) for i in range(size)]
    texts = [need_document(n, labels) for n in _need_queries(labels)[WARMUP:]]
    return fts_latency(documents, texts[:FTS_QUERIES], LIMIT)


def _worker(size: int) -> dict[str, Any]:
    labels = cpv_labels_sv()
    started = time.perf_counter()
    generator = Generator(seed=1)
    suppliers = [generator.supplier(i) for i in range(size)]
    needs = [generator.need(i) for i in range(min(size, NEEDS_MAX))]
    generate_s = time.perf_counter() - started
    started, cpu = time.perf_counter(), time.process_time()
    index = MatchIndex.build(suppliers, needs, labels)
    build_s, build_cpu_s = time.perf_counter() - started, time.process_time() - cpu
    rss, peak = _rss_mb(), _peak_mb()

    # Tantivy indexes the very texts we index (name, description, CPV labels), in this process
    # after ours, so its memory is the growth of RSS it causes.
    started = time.perf_counter()
    tantivy = _tantivy([supplier_document(s, labels) for s in suppliers])
    tantivy_build_s = time.perf_counter() - started
    tantivy_rss = _rss_mb() - rss

    need_queries = _need_queries(labels)
    queries = Generator(seed=2)
    for _ in range(10 * QUERIES):
        queries.need(0)  # the suppliers continue the same random stream as before
    fresh_suppliers = (queries.supplier(10**9 + i) for i in range(10 * QUERIES))
    supplier_queries = [s for s in fresh_suppliers if s.active][: QUERIES + WARMUP]
    need_texts = [need_document(n, labels) for n in need_queries]

    for need in need_queries[:WARMUP]:
        index.rank_suppliers(need, limit=LIMIT)
    for supplier in supplier_queries[:WARMUP]:
        index.rank_needs(supplier, limit=LIMIT)
    if tantivy is not None:
        for text in need_texts[:WARMUP]:
            tantivy.search(text, LIMIT)
    # Rounds alternate ours and Tantivy, so both see the same load on a shared machine.
    forward, reverse, bm25, new_pairs = Rounds(), Rounds(), Rounds(), Rounds()
    results = 0
    for _ in range(ROUNDS):
        timer = forward.new()
        for need in need_queries[WARMUP:]:
            results += len(timer.time(partial(index.rank_suppliers, need, limit=LIMIT)))
        if tantivy is not None:
            timer = bm25.new()
            for text in need_texts[WARMUP:]:
                timer.time(partial(tantivy.search, text, LIMIT))
        # The same queries again with the explanations' caches emptied first: from the second
        # round on, the filter checks and CPV links of these very pairs are cached, which
        # fresh needs would not find.
        clear_cached_checks()
        clear_cached_links()
        timer = new_pairs.new()
        for need in need_queries[WARMUP:]:
            timer.time(partial(index.rank_suppliers, need, limit=LIMIT))
        timer = reverse.new()
        for supplier in supplier_queries[WARMUP:]:
            timer.time(partial(index.rank_needs, supplier, limit=LIMIT))
    # The naive scan's matrices (the index keeps no row matrix), made after RSS was read.
    supplier_rows, need_rows = index._suppliers.fitted_rows(), index._needs.fitted_rows()
    forward_naive, reverse_naive = Timer(), Timer()
    for need in need_queries[WARMUP : WARMUP + NAIVE_QUERIES]:
        forward_naive.time(partial(_naive_suppliers, index, supplier_rows, need, labels))
    for supplier in supplier_queries[WARMUP : WARMUP + NAIVE_QUERIES]:
        reverse_naive.time(partial(_naive_needs, index, need_rows, supplier, labels))
    return {
        "suppliers": size,
        "needs": len(needs),
        "generate_s": generate_s,
        "build_s": build_s,
        "build_cpu_s": build_cpu_s,
        "rss_mb": rss,
        "peak_rss_mb": peak,
        "fwd": forward.summary(),
        "fwd_new_pairs": new_pairs.summary(),
        "fwd_naive": forward_naive.summary(),
        "fwd_mean_results": results / (ROUNDS * QUERIES),
        "rev": reverse.summary(),
        "rev_naive": reverse_naive.summary(),
        "bm25": bm25.summary() if tantivy is not None else None,
        "bm25_build_s": tantivy_build_s,
        "bm25_rss_mb": tantivy_rss,
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
    print("need -> suppliers (p50 ms; x = that p50 / ours, same run)")
    print(
        f"{'suppliers':>10} {'build s':>8} {'cpu s':>6} {'RSS MB':>7} {'peak MB':>8} | "
        f"{'ours p50':>8} {'p95':>6} {'cpu p50':>8} | {'tantivy':>8} {'x':>5} {'build s':>8} "
        f"{'+RSS MB':>8} | {'naive':>8} {'x':>5} | {'fts':>8} {'x':>6} {'build s':>8}"
    )
    for r in results:
        fwd, naive, bm25 = r["fwd"], r["fwd_naive"], r["bm25"]
        tantivy = (
            f"{bm25['p50']:>8.2f} {bm25['p50'] / fwd['p50']:>4.2f}x {r['bm25_build_s']:>8.1f} "
            f"{r['bm25_rss_mb']:>8.0f}"
            if bm25
            else f"{'(tantivy not installed)':>32}"
        )
        fts = r.get("fts")
        database = (
            f"{fts['p50']:>8.1f} {fts['p50'] / fwd['p50']:>5.0f}x {fts['build_s']:>8.1f}"
            if fts
            else f"{'(--fts)':>24}"
        )
        print(
            f"{r['suppliers']:>10,} {r['build_s']:>8.1f} {r['build_cpu_s']:>6.1f} "
            f"{r['rss_mb']:>7.0f} {r['peak_rss_mb']:>8.0f} | {fwd['p50']:>8.2f} "
            f"{fwd['p95']:>6.2f} {fwd['cpu_p50']:>8.2f} | {tantivy} | {naive['p50']:>8.2f} "
            f"{naive['p50'] / fwd['p50']:>4.0f}x | {database}"
        )
    print()
    print("supplier -> needs (p50 ms)")
    print(
        f"{'suppliers':>10} {'needs':>8} | {'ours p50':>8} {'p95':>6} {'cpu p50':>8} | "
        f"{'naive':>8} {'x':>5}"
    )
    for r in results:
        rev, naive = r["rev"], r["rev_naive"]
        print(
            f"{r['suppliers']:>10,} {r['needs']:>8,} | {rev['p50']:>8.2f} {rev['p95']:>6.2f} "
            f"{rev['cpu_p50']:>8.2f} | {naive['p50']:>8.2f} {naive['p50'] / rev['p50']:>4.0f}x"
        )
    print()
    for r in results:
        rounds = ", ".join(
            f"{ours:.2f}/{theirs:.2f}"
            for ours, theirs in zip(
                r["fwd"]["rounds_p50"], (r["bm25"] or {}).get("rounds_p50", []), strict=False
            )
        )
        print(f"{r['suppliers']:>10,} suppliers, p50 per round, ours/tantivy: {rounds}")
    for r in results:
        fresh, bm25 = r["fwd_new_pairs"], r["bm25"]
        versus = f", {bm25['p50'] / fresh['p50']:.2f}x" if bm25 else ""
        rounds = ", ".join(f"{p50:.2f}" for p50 in fresh["rounds_p50"])
        print(
            f"{r['suppliers']:>10,} suppliers, ours with the explanations' caches emptied: "
            f"p50 {fresh['p50']:.2f} ms{versus} (rounds {rounds})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only 10k suppliers (smoke)")
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument(
        "--fts",
        action="store_true",
        help=f"also time PostgreSQL full-text search ({FTS_QUERIES} queries; slow at 1M)",
    )
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--fts-worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(_worker(args.worker)))
        return
    if args.fts_worker:
        print(json.dumps(_fts_worker(args.fts_worker)))
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
        if args.fts:
            done = subprocess.run(
                [sys.executable, __file__, "--fts-worker", str(size)],
                check=True,
                capture_output=True,
                text=True,
            )
            results[-1]["fts"] = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"  {size:>9,} suppliers: built in {results[-1]['build_s']:.1f} s", flush=True)
    print(f"load average after: {_load()}")
    print()
    _print_table(results)
    print()
    print(
        f"p50/p95: wall-clock ms of rank_suppliers(limit={LIMIT}) for {QUERIES} fresh needs,\n"
        f"median over {ROUNDS} rounds (text analysis, filters, top-k and explanations included;\n"
        "warm index); cpu p50: this thread's CPU time for the same calls. tantivy: BM25 top\n"
        f"{LIMIT} over the same supplier texts for the same need texts (OR of the words, Swedish\n"
        "stems and stop words; no filters, no explanations), rounds alternating with ours;\n"
        "caches emptied: ours again each round after forgetting the filter checks and CPV\n"
        "links cached by their inputs (from round 2 on, those of these very pairs are cached);\n"
        "+RSS: the RSS its in-memory index added. naive: text cosine X @ q (float32) over all\n"
        f"supplier rows (scipy CSR), full argsort, then filters until {LIMIT} pass, first\n"
        f"{NAIVE_QUERIES} queries. rev: rank_needs for {QUERIES} fresh suppliers (naive likewise).\n"
        "fts (--fts): PostgreSQL, the need text's swedish lexemes OR-ed, ts_rank_cd, top\n"
        f"{LIMIT}, GIN index, first {FTS_QUERIES} queries; build s: load + index.\n"
        "build s / cpu s: wall and CPU seconds of MatchIndex.build (they part when other\n"
        "processes hold the cores). RSS: after build, in a fresh process holding the\n"
        "generated profiles; peak: max RSS."
    )


if __name__ == "__main__":
    main()
