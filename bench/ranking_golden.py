"""Rankings as data, to show an index change leaves them alone: ids, scores and explanations.

Run before a change: .venv/bin/python bench/ranking_golden.py dump /tmp/before.json
after it:            .venv/bin/python bench/ranking_golden.py check /tmp/before.json
It ranks both directions on synthetic profiles at several limits, through rank_* and through
score_* + explain_* (the worker's path), then again after upserts and removals (delta
segments). `check` compares ids, ranks and explanations exactly and scores to 1e-9.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import msgspec

from asfmatch.matching.ranking import MatchIndex
from asfmatch.reference.cpv import cpv_labels_sv
from synthetic import Generator

LIMITS = (3, 30, 200)
QUERIES = 60
SCORE_TOLERANCE = 1e-9


def _rankings(index: MatchIndex, needs: list[Any], suppliers: list[Any]) -> list[Any]:
    out: list[Any] = []
    for limit in LIMITS:
        for need in needs:
            out.append(["need", need.id, limit, index.rank_suppliers(need, limit=limit)])
        for supplier in suppliers:
            out.append(["supplier", supplier.id, limit, index.rank_needs(supplier, limit=limit)])
    for need in needs[:20]:
        scored = index.score_suppliers(need, limit=200)
        kept = scored[::7]
        out.append(
            [
                "need-split",
                need.id,
                200,
                scored,
                sorted(index.explain_suppliers(need, kept).items()),
            ]
        )
    for supplier in suppliers[:20]:
        scored = index.score_needs(supplier, limit=200)
        kept = scored[::7]
        explained = sorted(index.explain_needs(supplier, kept).items())
        out.append(["supplier-split", supplier.id, 200, scored, explained])
    return out


def rankings(size: int) -> list[Any]:
    """Every ranking of the check, as builtins."""
    labels = cpv_labels_sv()
    generator = Generator(seed=1)
    suppliers = [generator.supplier(i) for i in range(size)]
    needs = [generator.need(i) for i in range(size // 4)]
    index = MatchIndex.build(suppliers, needs, labels)
    queries = Generator(seed=2)
    fresh_needs = [queries.need(10**9 + i) for i in range(QUERIES)]
    fresh_suppliers = [queries.supplier(10**9 + i) for i in range(QUERIES)]
    out = _rankings(index, fresh_needs, fresh_suppliers)
    # Increments: replaced, new and removed documents, flushed into delta segments.
    changes = Generator(seed=3)
    for i in range(0, size, max(1, size // 300)):
        replaced = changes.supplier(i)
        index.upsert_supplier(replaced)
        index.upsert_supplier(changes.supplier(size + i))
        if i % 3 == 0:
            index.remove_supplier(i + 1)
        if i % 5 == 0:
            index.rank_suppliers(fresh_needs[0])
    for i in range(0, size // 4, max(1, size // 1200)):
        index.upsert_need(changes.need(i))
        index.upsert_need(changes.need(size + i))
        if i % 3 == 0:
            index.remove_need(i + 1)
        if i % 5 == 0:
            index.rank_needs(fresh_suppliers[0])
    out += _rankings(index, fresh_needs[:20], fresh_suppliers[:20])
    # Through JSON, so a fresh run compares like the file it is checked against.
    found: list[Any] = msgspec.json.decode(msgspec.json.encode(out))
    return found


def _diff(before: Any, after: Any, path: str) -> str | None:
    if isinstance(before, float) and isinstance(after, float | int):
        return None if abs(before - after) <= SCORE_TOLERANCE else f"{path}: {before} != {after}"
    if isinstance(before, list) and isinstance(after, list):
        if len(before) != len(after):
            return f"{path}: length {len(before)} != {len(after)}"
        for i, (b, a) in enumerate(zip(before, after, strict=True)):
            found = _diff(b, a, f"{path}[{i}]")
            if found:
                return found
        return None
    if isinstance(before, dict) and isinstance(after, dict):
        if before.keys() != after.keys():
            return f"{path}: keys {sorted(before)} != {sorted(after)}"
        for key in before:
            found = _diff(before[key], after[key], f"{path}.{key}")
            if found:
                return found
        return None
    return None if before == after else f"{path}: {before!r} != {after!r}"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("action", choices=("dump", "check"))
    parser.add_argument("path")
    parser.add_argument("--size", type=int, default=20_000)
    args = parser.parse_args()
    found = rankings(args.size)
    if args.action == "dump":
        with open(args.path, "wb") as handle:
            handle.write(msgspec.json.encode(found))
        print(f"{len(found)} rankings written to {args.path}")
        return
    with open(args.path, "rb") as handle:
        expected = msgspec.json.decode(handle.read())
    problem = _diff(expected, found, "rankings")
    if problem:
        print(f"DIFFERENT: {problem}")
        sys.exit(1)
    pairs = sum(len(r[3]) for r in found)
    print(f"same: {len(found)} rankings, {pairs} ranked pairs")


if __name__ == "__main__":
    main()
