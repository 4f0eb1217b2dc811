"""Ranking jobs: keep an in-memory match index in step with PostgreSQL and store each need's
suppliers and each supplier's needs."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import asyncpg
import msgspec

from asfmatch.matching.ranking import Explanation, MatchIndex, ScoredItem
from asfmatch.reference.cpv import cpv_labels_sv
from asfmatch.storage import jobs, matches
from asfmatch.storage.changes import current_change
from asfmatch.storage.db import Connection
from asfmatch.storage.matches import ScoredPair
from asfmatch.storage.needs import get_need, needs_changed_since
from asfmatch.storage.settings import Settings
from asfmatch.storage.suppliers import get_supplier, suppliers_changed_since
from asfmatch.workers.notifications import Notifier

log = logging.getLogger(__name__)

# How far down the other side a job looks for lists its owner should enter.
CANDIDATES = 200


class Ranker:
    """One worker's match index and the jobs that use it."""

    def __init__(self, settings: Settings) -> None:
        self.list_size = settings.match_list_size
        self.notifier = Notifier(settings)
        self.index: MatchIndex | None = None
        self.seen_change = 0
        self._lock = asyncio.Lock()

    async def sync(self, connection: Connection) -> MatchIndex:
        """Bring the index up to date with every committed profile and need; refit when the
        corpus has drifted (or on first use)."""
        async with self._lock:
            # First use: build from everything, without first reading everything as "changes".
            if self.index is None:
                self.index = await self._rebuild(connection)
                return self.index
            suppliers, high_s = await suppliers_changed_since(connection, self.seen_change)
            needs, high_n = await needs_changed_since(connection, self.seen_change)
            for supplier in suppliers:
                self.index.upsert_supplier(supplier.profile())
            for need in needs:
                self.index.upsert_need(need.ranking_input())
            self.seen_change = max(self.seen_change, high_s, high_n)
            if self.index.needs_refit():
                self.index = await self._rebuild(connection)
            return self.index

    async def _rebuild(self, connection: Connection) -> MatchIndex:
        # Read the change counter first: anything written while we read is picked up next sync.
        high = await current_change(connection)
        suppliers, _ = await suppliers_changed_since(connection, 0)
        needs, _ = await needs_changed_since(connection, 0)
        index = await asyncio.to_thread(
            MatchIndex.build,
            [supplier.profile() for supplier in suppliers],
            [need.ranking_input() for need in needs],
            cpv_labels_sv(),
        )
        self.seen_change = high
        log.info(
            "match index %s built: %d suppliers, %d needs",
            index.version,
            len(suppliers),
            len(needs),
        )
        return index

    def _kept(self, scored: list[ScoredItem], floors: dict[int, float]) -> list[ScoredItem]:
        # The owner's own list, and every candidate that beats the floor of the other side's.
        return [s for s in scored if s.rank <= self.list_size or s.score > floors.get(s.id, 0.0)]

    async def rank_need(self, pool: asyncpg.Pool, need_id: int) -> None:
        """Store a need's best suppliers and enter it in the suppliers' lists it now beats."""
        async with pool.acquire() as connection:
            index = await self.sync(connection)
            need = await get_need(connection, need_id)
            if need is None or need.status != "open":
                return  # closed or withdrawn: the API already removed it from every list
            wanted = need.ranking_input()
            scored = index.score_suppliers(wanted, limit=CANDIDATES)
            async with connection.transaction():
                floors = await matches.list_floors(
                    connection, "supplier", [s.id for s in scored], self.list_size, need_id
                )
                # Explanations only for the pairs stored: the need's own list and the
                # suppliers' lists it enters (a few of the 200 candidates).
                kept = self._kept(scored, floors)
                explanations = index.explain_suppliers(wanted, kept)
                pairs = {
                    s.id: _pair(need_id, s.id, s, explanations[s.id])
                    for s in kept
                    if s.id in explanations
                }
                top = [pairs[s.id] for s in scored[: self.list_size] if s.id in pairs]
                entering = [
                    pairs[s.id] for s in scored if s.id in pairs and s.score > floors.get(s.id, 0.0)
                ]
                await matches.store_list(connection, "need", need_id, top, entering, index.version)
                await self.notifier.need_ranked(connection, need_id, top)

    async def rank_supplier(self, pool: asyncpg.Pool, supplier_id: int) -> None:
        """Store a supplier's best open needs and enter it in the needs' lists it now beats.
        An inactive supplier leaves every list, and those needs are ranked again."""
        async with pool.acquire() as connection:
            index = await self.sync(connection)
            supplier = await get_supplier(connection, supplier_id)
            async with connection.transaction():
                if supplier is None or not supplier.active:
                    for need_id in await matches.forget_supplier(connection, supplier_id):
                        await jobs.enqueue(connection, jobs.RANK_NEED, need_id)
                    return
                profile = supplier.profile()
                scored = index.score_needs(profile, limit=CANDIDATES)
                floors = await matches.list_floors(
                    connection, "need", [s.id for s in scored], self.list_size, supplier_id
                )
                kept = self._kept(scored, floors)
                explanations = index.explain_needs(profile, kept)
                pairs = {
                    s.id: _pair(s.id, supplier_id, s, explanations[s.id])
                    for s in kept
                    if s.id in explanations
                }
                top = [pairs[s.id] for s in scored[: self.list_size] if s.id in pairs]
                entering = [
                    pairs[s.id] for s in scored if s.id in pairs and s.score > floors.get(s.id, 0.0)
                ]
                await matches.store_list(
                    connection, "supplier", supplier_id, top, entering, index.version
                )
                await self.notifier.supplier_ranked(connection, supplier_id)


def _pair(need_id: int, supplier_id: int, item: ScoredItem, explanation: Explanation) -> ScoredPair:
    builtins: dict[str, Any] = msgspec.to_builtins(explanation)
    return ScoredPair(
        need_id=need_id, supplier_id=supplier_id, score=float(item.score), explanation=builtins
    )
