"""Does the "wrong service" penalty hide needs a supplier would have wanted?

Replays a year of synthetic needs (bench/synthetic.py) against synthetic ASFs. Each need tells
its top 10 suppliers scoring at least 0.15, as the worker does; each told supplier answers by a
simple model of a busy person: a need of one of its own sectors gets "interested" with
probability P_INTERESTED and, by mistake or haste, "wrong service" with probability `noise`; a
need of another sector gets "wrong service" with probability P_DECLINE_OTHER. Answers feed the
supplier's history, and with the penalty on (src/matching/feedback.py) that history lowers the
score its next needs are judged by, exactly as the notifier applies it.

Each answer is drawn once per (supplier, need) from a seeded hash, so both runs see the same
answers. The figure that matters is the recall of "interested" needs: the share of the needs a
supplier answers "interested" to without the penalty that still reach it with the penalty on.
Next to it, how many "wrong service" notifications the penalty saved.

Run: .venv/bin/python bench/eval_declines.py [--suppliers 400] [--needs 4000]
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT / "src") not in sys.path:
    sys.path.insert(0, str(ROOT / "src"))

from asfmatch.matching.feedback import (  # noqa: E402
    PastAnswer,
    PenaltyRule,
    group_weights,
    notify_score,
)
from asfmatch.matching.model import Need, SupplierProfile  # noqa: E402
from asfmatch.matching.ranking import MatchIndex  # noqa: E402
from asfmatch.reference.cpv import cpv_labels_sv  # noqa: E402
from synthetic import SECTOR_NAMES, Generator  # noqa: E402

TOP_N = 10
MIN_SCORE = 0.15
P_INTERESTED = 0.5
P_DECLINE_OTHER = 0.6
START = datetime(2026, 1, 1, tzinfo=UTC)


class _RecordingRandom(random.Random):
    """Remembers the sector a need was drawn for (Generator.need picks it with choice)."""

    last_sector: str | None = None

    def choice(self, seq: Sequence[Any]) -> Any:
        picked = super().choice(seq)
        if seq is SECTOR_NAMES:
            self.last_sector = picked
        return picked


class _Generator(Generator):
    """The bench generator, keeping each profile's true sectors."""

    def __init__(self, seed: int) -> None:
        super().__init__(seed)
        self.rng = _RecordingRandom(seed)
        self.drawn: list[str] = []

    def _sectors(self) -> list[str]:
        self.drawn = super()._sectors()
        return self.drawn


@dataclass(frozen=True)
class World:
    suppliers: list[SupplierProfile]
    sectors: dict[int, frozenset[str]]
    needs: list[tuple[datetime, Need, str]]


def build_world(n_suppliers: int, n_needs: int, seed: int) -> World:
    generator = _Generator(seed)
    suppliers: list[SupplierProfile] = []
    sectors: dict[int, frozenset[str]] = {}
    for supplier_id in range(1, n_suppliers + 1):
        supplier = generator.supplier(supplier_id)
        if supplier.active:
            suppliers.append(supplier)
            sectors[supplier_id] = frozenset(generator.drawn)
    needs: list[tuple[datetime, Need, str]] = []
    for i in range(n_needs):
        need = generator.need(100_000 + i)
        sector = generator.rng.last_sector
        assert sector is not None
        if need.status == "open":
            posted = START + timedelta(days=365 * i / n_needs)
            needs.append((posted, need, sector))
    return World(suppliers, sectors, needs)


def _draw(supplier_id: int, need_id: int) -> float:
    digest = hashlib.blake2b(f"{supplier_id}:{need_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest) / 2**64


def answer(world: World, supplier_id: int, need_id: int, sector: str, noise: float) -> str:
    """The supplier's answer to a need it is told about: interested, wrong_service or none."""
    roll = _draw(supplier_id, need_id)
    if sector in world.sectors[supplier_id]:
        if roll < P_INTERESTED:
            return "interested"
        return "wrong_service" if roll < P_INTERESTED + noise else "none"
    return "wrong_service" if roll < P_DECLINE_OTHER else "none"


@dataclass
class Outcome:
    told: int = 0
    interested: int = 0
    wrong_service: int = 0
    lowered: int = 0
    hidden_interested: int = 0
    hidden_wrong: int = 0


def replay(
    world: World,
    candidates: list[list[tuple[int, float]]],
    rule: PenaltyRule | None,
    noise: float,
) -> Outcome:
    outcome = Outcome()
    history: dict[int, list[PastAnswer]] = {}
    for (posted, need, sector), ranked in zip(world.needs, candidates, strict=True):
        for supplier_id, score in ranked:
            would = answer(world, supplier_id, need.id, sector, noise)
            if rule is not None:
                past = history.get(supplier_id, [])
                weights = group_weights(past, posted, rule.half_life_days) if past else {}
                judged = notify_score(score, need.cpv_codes, weights, rule)
                if judged < score:
                    outcome.lowered += 1
                if judged < MIN_SCORE:
                    outcome.hidden_interested += would == "interested"
                    outcome.hidden_wrong += would == "wrong_service"
                    continue
            outcome.told += 1
            if would == "none":
                continue
            outcome.interested += would == "interested"
            outcome.wrong_service += would == "wrong_service"
            # Answered within about a week of the notification.
            history.setdefault(supplier_id, []).append(
                PastAnswer(
                    cpv_codes=need.cpv_codes,
                    answered_at=posted + timedelta(days=_draw(need.id, supplier_id) * 7),
                    wrong_service=would == "wrong_service",
                )
            )
    return outcome


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--suppliers", type=int, default=400)
    parser.add_argument("--needs", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    world = build_world(args.suppliers, args.needs, args.seed)
    index = MatchIndex.build(world.suppliers, [n for _, n, _ in world.needs], cpv_labels_sv())
    candidates = [
        [(s.id, s.score) for s in index.score_suppliers(need, limit=TOP_N) if s.score >= MIN_SCORE]
        for _, need, _ in world.needs
    ]
    pairs = sum(len(c) for c in candidates)
    print(
        f"{len(world.suppliers)} active suppliers, {len(world.needs)} open needs over 365 days, "
        f"{pairs} (supplier, need) notifications without the penalty"
    )
    rules = {
        "default (repeat 1.5, ×0.5, half-life 90 d, strong 0.5)": PenaltyRule(),
        "harsher (repeat 1, ×0.3, half-life 180 d, strong 0.7)": PenaltyRule(
            repeat=1.0, factor=0.3, half_life_days=180.0, strong_score=0.7
        ),
    }
    header = (
        f"{'noise':>5}  {'rule':<55} {'told':>6} {'interested':>10} {'recall':>7} "
        f"{'wrong svc':>9} {'saved':>6} {'lowered':>7} {'hid int.':>8}"
    )
    print(header)
    print("-" * len(header))
    for noise in (0.0, 0.1, 0.25):
        base = replay(world, candidates, None, noise)
        print(
            f"{noise:>5.2f}  {'no penalty':<55} {base.told:>6} {base.interested:>10} "
            f"{1.0:>7.3f} {base.wrong_service:>9} {0:>6} {0:>7} {0:>8}"
        )
        for name, rule in rules.items():
            got = replay(world, candidates, rule, noise)
            recall = got.interested / base.interested if base.interested else 1.0
            saved = base.wrong_service - got.wrong_service
            print(
                f"{noise:>5.2f}  {name:<55} {got.told:>6} {got.interested:>10} {recall:>7.3f} "
                f"{got.wrong_service:>9} {saved:>6} {got.lowered:>7} {got.hidden_interested:>8}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
