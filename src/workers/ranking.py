"""Ranking jobs: keep an in-memory match index in step with PostgreSQL and store each need's
suppliers and each supplier's needs."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import asyncpg
import msgspec

from asfmatch.matching.joint_bids import Candidate, JointBid, requirement_of, suggest_groups
from asfmatch.matching.model import Need as RankedNeedInput
from asfmatch.matching.model import SupplierProfile
from asfmatch.matching.ranking import Explanation, MatchIndex, ScoredItem
from asfmatch.reference.regions import kommuner
from asfmatch.services.match_index import IndexKeeper
from asfmatch.storage import jobs, joint_bids, matches
from asfmatch.storage.db import Connection
from asfmatch.storage.matches import ScoredPair
from asfmatch.storage.needs import get_need
from asfmatch.storage.settings import Settings
from asfmatch.storage.suppliers import Supplier, get_supplier
from asfmatch.workers.notifications import Notifier

# How far down the other side a job looks for lists its owner should enter.
CANDIDATES = 200
# A store that loses a deadlock (see the lock order in storage/matches.py) is tried again at
# once this many times in all, before the job itself fails and is retried with backoff.
STORE_ATTEMPTS = 4

T = TypeVar("T")


async def retry_conflicts(
    operation: Callable[[], Awaitable[T]], attempts: int = STORE_ATTEMPTS
) -> T:
    """Run `operation` (one whole transaction), again after a deadlock or serialization failure."""
    for attempt in range(1, attempts + 1):
        try:
            return await operation()
        except (asyncpg.DeadlockDetectedError, asyncpg.SerializationError):
            if attempt == attempts:
                raise
            await asyncio.sleep(random.uniform(0.005, 0.05) * attempt)  # noqa: S311 - jitter
    raise AssertionError("unreachable")


class Ranker:
    """One worker's match index and the jobs that use it."""

    def __init__(self, settings: Settings) -> None:
        self.list_size = settings.match_list_size
        self.settings = settings
        self.requires_verification = settings.reserved_requires_verification
        self.notifier = Notifier(settings)
        self.keeper = IndexKeeper(settings.reserved_requires_verification)

    @property
    def index(self) -> MatchIndex | None:
        """The index as last synced (None before the first sync)."""
        return self.keeper.index

    def _profile(self, supplier: Supplier) -> SupplierProfile:
        return supplier.profile(reserved_requires_verification=self.requires_verification)

    def reconcile(self) -> None:
        """Rebuild the index from PostgreSQL on the next sync (the periodic safety net)."""
        self.keeper.reconcile()

    async def sync(self, connection: Connection) -> MatchIndex:
        """Bring the index up to date with every committed profile and need; refit when the
        corpus has drifted (or on first use)."""
        return await self.keeper.sync(connection)

    async def rank_need(
        self, pool: asyncpg.Pool, need_id: int, index: MatchIndex | None = None
    ) -> None:
        """Store a need's best suppliers and enter it in the suppliers' lists it now beats.
        `index` ranks with a given index instead of the synced one (tests)."""
        async with pool.acquire() as connection:
            if index is None:
                index = await self.sync(connection)
            need = await get_need(connection, need_id)
            if need is None:
                index.remove_need(need_id)
                return
            # Its own row is always current in the index, whatever the sync has seen.
            index.upsert_need(need.ranking_input())
            if need.status != "open":
                return  # closed or withdrawn: whoever closed it removed it from every list
            wanted = need.ranking_input()
            scored = index.score_suppliers(wanted, limit=CANDIDATES)
            # A first, unlocked look drops suppliers the index still thinks active.
            live = await matches.active_suppliers(connection, [s.id for s in scored])
            scored = [s for s in scored if s.id in live]
            ranked_with = index
            groups = await self._joint_bids(connection, index, wanted, scored)

            async def store() -> None:
                async with connection.transaction():
                    await self._store_need(connection, ranked_with, wanted, scored, groups)

            await retry_conflicts(store)

    async def _store_need(
        self,
        connection: Connection,
        index: MatchIndex,
        need: RankedNeedInput,
        scored: list[ScoredItem],
        groups: list[JointBid],
    ) -> None:
        floors = await matches.list_floors(
            connection, "supplier", [s.id for s in scored], self.list_size, need.id
        )
        own = [s.id for s in scored[: self.list_size]]
        entering = [s.id for s in scored if s.score > floors.get(s.id, 0.0)]
        held = await matches.lock_need_side(connection, [need.id], own + entering)
        # Checked again under the locks: nothing closed or inactive is stored or notified.
        if held.statuses.get(need.id) != "open":
            return
        wanted = set(own) | set(entering)
        kept = [s for s in scored if s.id in wanted and held.active.get(s.id)]
        # Explanations only for the pairs stored: the need's own list and the suppliers'
        # lists it enters (a few of the 200 candidates).
        explanations = index.explain_suppliers(need, kept)
        pairs = {
            s.id: _pair(need.id, s.id, s, explanations[s.id]) for s in kept if s.id in explanations
        }
        top = [pairs[i] for i in own if i in pairs]
        entered = [pairs[i] for i in entering if i in pairs]
        await matches.store_list(connection, "need", need.id, top, entered, index.version)
        await self.notifier.need_ranked(connection, need.id, top)
        await joint_bids.replace_groups(connection, need.id, groups, index.version)
        await self.notifier.joint_bids_suggested(connection, need.id, groups)

    async def _joint_bids(
        self,
        connection: Connection,
        index: MatchIndex,
        need: RankedNeedInput,
        scored: list[ScoredItem],
    ) -> list[JointBid]:
        """Groups of relevant ASFs for a need no eligible ASF scores well enough for alone
        (docs/joint-bids.md); [] when one does."""
        settings = self.settings
        floor = settings.joint_bid_min_score
        if any(item.score >= floor for item in scored):
            return []
        # Twice the search's width: opted-out ASFs are dropped after this cut.
        partners = index.score_partners(need, 2 * settings.joint_bid_candidates, floor)
        live = await matches.active_suppliers(connection, [p.id for p in partners])
        candidates = [
            Candidate(profile=profile, score=item.score)
            for item in partners
            if item.id in live and (profile := index.supplier_profile(item.id)) is not None
        ]
        names = kommuner()
        return suggest_groups(
            requirement_of(need),
            candidates,
            limit=settings.joint_bid_groups,
            top_k=settings.joint_bid_candidates,
            min_score=floor,
            kommun_names={code: known.name for code in need.places if (known := names.get(code))},
        )

    async def rank_supplier(
        self, pool: asyncpg.Pool, supplier_id: int, index: MatchIndex | None = None
    ) -> None:
        """Store a supplier's best open needs and enter it in the needs' lists it now beats.
        An inactive supplier leaves every list, and those needs are ranked again."""
        async with pool.acquire() as connection:
            if index is None:
                index = await self.sync(connection)
            supplier = await get_supplier(connection, supplier_id)
            if supplier is None:
                index.remove_supplier(supplier_id)
            else:
                index.upsert_supplier(self._profile(supplier))
            if supplier is None or not supplier.active:
                await retry_conflicts(lambda: self._withdraw_supplier(connection, supplier_id))
                return
            profile = self._profile(supplier)
            scored = index.score_needs(profile, limit=CANDIDATES)
            live = await matches.open_needs(connection, [s.id for s in scored])
            scored = [s for s in scored if s.id in live]
            ranked_with = index

            async def store() -> None:
                async with connection.transaction():
                    await self._store_supplier(connection, ranked_with, profile, scored)

            await retry_conflicts(store)

    async def _withdraw_supplier(self, connection: Connection, supplier_id: int) -> None:
        async with connection.transaction():
            for need_id in await matches.forget_supplier(connection, supplier_id):
                await jobs.enqueue(connection, jobs.RANK_NEED, need_id)

    async def _store_supplier(
        self,
        connection: Connection,
        index: MatchIndex,
        profile: SupplierProfile,
        scored: list[ScoredItem],
    ) -> None:
        supplier_id = profile.id
        floors = await matches.list_floors(
            connection, "need", [s.id for s in scored], self.list_size, supplier_id
        )
        own = [s.id for s in scored[: self.list_size]]
        entering = [s.id for s in scored if s.score > floors.get(s.id, 0.0)]
        held = await matches.lock_supplier_side(connection, supplier_id, own + entering)
        if not held.active:
            # Deactivated since the first look: leave every list instead.
            for need_id in await matches.forget_supplier(connection, supplier_id):
                await jobs.enqueue(connection, jobs.RANK_NEED, need_id)
            return
        wanted = set(own) | set(entering)
        kept = [s for s in scored if s.id in wanted and held.statuses.get(s.id) == "open"]
        explanations = index.explain_needs(profile, kept)
        pairs = {
            s.id: _pair(s.id, supplier_id, s, explanations[s.id])
            for s in kept
            if s.id in explanations
        }
        top = [pairs[i] for i in own if i in pairs]
        entered = [pairs[i] for i in entering if i in pairs]
        await matches.store_list(connection, "supplier", supplier_id, top, entered, index.version)
        await self.notifier.supplier_ranked(connection, supplier_id)


def _pair(need_id: int, supplier_id: int, item: ScoredItem, explanation: Explanation) -> ScoredPair:
    builtins: dict[str, Any] = msgspec.to_builtins(explanation)
    return ScoredPair(
        need_id=need_id, supplier_id=supplier_id, score=float(item.score), explanation=builtins
    )
