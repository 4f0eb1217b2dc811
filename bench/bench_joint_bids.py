"""Joint-bid bench: what suggesting groups adds to ranking a need nobody can deliver alone.

Run: .venv/bin/python bench/bench_joint_bids.py [--suppliers 10000] [--queries 200]

Synthetic suppliers (bench/synthetic.py). Each query need is made too large for any one ASF
(a value above every capacity, or more training places than anyone offers, or two or three
kommuner of one län). Per query, in the same run and process:
  plain     score_suppliers(limit=200): the ranking the worker does for every need;
  partners  score_partners(2K): the same scores with capacity and region relaxed;
  search    suggest_groups over the top K=30 (pairs, then triples, stopping early);
  unbound   suggest_groups over all 200 partner candidates, every group kept;
printed as medians and p95 and as ratios to plain. The bounded search is also checked
against the unbounded one: is its best group as strong?
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

from asfmatch.matching.joint_bids import Candidate, requirement_of, suggest_groups
from asfmatch.matching.model import Need
from asfmatch.matching.ranking import MatchIndex
from asfmatch.reference.cpv import cpv_labels_sv
from asfmatch.reference.regions import kommuner
from synthetic import Generator

TOP_K = 30
CANDIDATES = 200
MIN_SCORE = 0.15


def _timed(call: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = call()
    return time.perf_counter() - started, result


def _too_large(need: Need, rng: random.Random, by_lan: dict[str, list[str]]) -> Need:
    kind = rng.choice(("value", "places", "kommuner"))
    if kind == "value":
        return _replace(need, estimated_value_sek=rng.choice((4_000_000, 6_000_000, 8_000_000)))
    if kind == "places":
        return _replace(need, training_places=rng.choice((20, 30)))
    lan = need.kommun[:2]
    others = [code for code in by_lan[lan] if code != need.kommun]
    chosen = rng.sample(others, min(len(others), rng.randint(1, 2)))
    return _replace(need, kommuner=(need.kommun, *chosen))


def _replace(need: Need, **changes: Any) -> Need:
    fields = {name: getattr(need, name) for name in need.__struct_fields__}
    return Need(**{**fields, **changes})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--suppliers", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=200)
    # 0.15 is the service's default (ASFMATCH_JOINT_BID_MIN_SCORE); a low floor lets many
    # more candidates in and shows what the top-K bound saves.
    parser.add_argument("--min-score", type=float, default=MIN_SCORE)
    args = parser.parse_args()
    floor = args.min_score
    generator = Generator(seed=1)
    suppliers = [generator.supplier(i) for i in range(1, args.suppliers + 1)]
    started = time.perf_counter()
    index = MatchIndex.build(suppliers, [], cpv_labels_sv())
    print(f"index: {args.suppliers} suppliers built in {time.perf_counter() - started:.1f} s")
    by_lan: dict[str, list[str]] = {}
    for code in kommuner():
        by_lan.setdefault(code[:2], []).append(code)
    rng = random.Random(3)
    queries = Generator(seed=2)
    needs = [_too_large(queries.need(i), rng, by_lan) for i in range(1, args.queries + 1)]
    for need in needs[:20]:  # warm-up
        index.score_suppliers(need, limit=CANDIDATES)
        index.score_partners(need, 2 * TOP_K, floor)
    times: dict[str, list[float]] = {"plain": [], "partners": [], "search": [], "unbound": []}
    with_groups = 0
    same_best = 0
    compared = 0
    sizes: list[int] = []
    # Per need: did it get groups? The figures are also shown for those alone, where the
    # search has candidates to combine (the other needs cost little either way).
    grouped: list[bool] = []
    for need in needs:
        took, _ = _timed(lambda need=need: index.score_suppliers(need, limit=CANDIDATES))
        times["plain"].append(took)
        took, partners = _timed(lambda need=need: index.score_partners(need, 2 * TOP_K, floor))
        times["partners"].append(took)
        wanted = requirement_of(need)
        pool = _candidates(index, partners)
        took, groups = _timed(
            lambda wanted=wanted, pool=pool: suggest_groups(
                wanted, pool, top_k=TOP_K, min_score=floor
            )
        )
        times["search"].append(took)
        grouped.append(bool(groups))
        if groups:
            with_groups += 1
            sizes += [len(g.members) for g in groups]
        everyone = _candidates(index, index.score_partners(need, CANDIDATES, floor))
        took, full = _timed(
            lambda wanted=wanted, everyone=everyone: suggest_groups(
                wanted, everyone, top_k=len(everyone) or 1, limit=10_000, min_score=floor
            )
        )
        times["unbound"].append(took)
        if full:
            compared += 1
            # The bounded search loses nothing when its best group is as strong as the
            # unbounded search's best (groups rank by their weakest member).
            if groups and groups[0].weakest_score >= full[0].weakest_score:
                same_best += 1
    print(f"queries: {len(needs)} needs too large for any one ASF; relevance floor {floor}")
    print(f"  with groups: {with_groups} ({100 * with_groups / len(needs):.0f} %)")
    if sizes:
        print(f"  pairs {sizes.count(2)}, triples {sizes.count(3)} among the groups kept")
    print(f"  bounded best group as strong as the unbounded one: {same_best} of {compared}")
    names = {
        "plain": "plain ranking (score_suppliers, 200)",
        "partners": "joint: partner scoring (60)",
        "search": "joint: group search (K=30)",
        "unbound": "unbounded search (200, all groups)",
    }
    for subset, keep in (("all needs", None), ("needs that got groups", True)):
        print(f"  {subset}:")
        for key, label in names.items():
            values = [t for t, g in zip(times[key], grouped, strict=True) if keep in (None, g)]
            plain = [t for t, g in zip(times["plain"], grouped, strict=True) if keep in (None, g)]
            if not values:
                continue
            median = statistics.median(values)
            p95 = sorted(values)[int(0.95 * (len(values) - 1))]
            print(
                f"    {label:38s} median {1000 * median:7.3f} ms  p95 {1000 * p95:7.3f} ms  "
                f"max {1000 * max(values):7.3f} ms  median/plain {median / statistics.median(plain):6.2f}"
            )


def _candidates(index: MatchIndex, partners: list[Any]) -> list[Candidate]:
    return [
        Candidate(profile=profile, score=item.score)
        for item in partners
        if (profile := index.supplier_profile(item.id)) is not None
    ]


if __name__ == "__main__":
    main()
