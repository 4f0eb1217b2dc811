"""One process's match index, kept in step with PostgreSQL: the worker ranks with it and the API
scores draft needs with it (potential and advice), so both use the same ranking."""

from __future__ import annotations

import asyncio
import logging
import time

from asfmatch.matching.ranking import MatchIndex
from asfmatch.matching.warmup import compile_kernels
from asfmatch.reference.cpv import cpv_labels_sv
from asfmatch.storage.changes import snapshot_horizon
from asfmatch.storage.db import Connection
from asfmatch.storage.needs import Need, needs_changed_since
from asfmatch.storage.suppliers import Supplier, suppliers_changed_since

log = logging.getLogger(__name__)


def prepare_ranking() -> float:
    """Compile the ranking core's loops before serving (matching/warmup.py): numba caches
    them on disk, so only the first process after an install pays; seconds taken."""
    return compile_kernels()


class IndexKeeper:
    """A MatchIndex and the cursor that keeps it in step (see storage/changes.py)."""

    def __init__(self, reserved_requires_verification: bool = False) -> None:
        # With ASFMATCH_RESERVED_REQUIRES_VERIFICATION, unverified suppliers are indexed as
        # kept out of reserved needs (docs/trust.md).
        self.reserved_requires_verification = reserved_requires_verification
        self.index: MatchIndex | None = None
        # Changes by transactions with ids below this were all seen; see storage/changes.py.
        self.horizon = 0
        # Rows read at or above the horizon last time, with their change numbers: read again
        # next time, but not re-applied unless they changed.
        self._window: dict[tuple[str, int], int] = {}
        self._rebuild_due = False
        self._synced_at = float("-inf")
        self._built_at = float("-inf")
        self._lock = asyncio.Lock()

    def reconcile(self) -> None:
        """Rebuild the index from PostgreSQL on the next sync (the periodic safety net)."""
        self._rebuild_due = True

    async def sync(
        self, connection: Connection, max_age: float = 0.0, rebuild_after: float | None = None
    ) -> MatchIndex:
        """Bring the index up to date with every committed profile and need (refit when the
        corpus has drifted, or on first use); skipped when the last sync is younger than
        `max_age` seconds. `rebuild_after`: rebuild an index older than that many seconds
        (the API's stand-in for the worker's scheduled reconcile)."""
        async with self._lock:
            if rebuild_after is not None and time.monotonic() - self._built_at >= rebuild_after:
                self._rebuild_due = True
            if (
                self.index is not None
                and not self._rebuild_due
                and time.monotonic() - self._synced_at < max_age
            ):
                return self.index
            if self.index is None or self._rebuild_due:
                self.index = await self._rebuild(connection)
                return self.index
            horizon, suppliers, needs = await _changes(connection, self.horizon)
            window: dict[tuple[str, int], int] = {}
            for supplier, seq in suppliers:
                window["s", supplier.id] = seq
                if self._window.get(("s", supplier.id)) != seq:
                    self.index.upsert_supplier(
                        supplier.profile(
                            reserved_requires_verification=self.reserved_requires_verification
                        )
                    )
            for need, seq in needs:
                window["n", need.id] = seq
                if self._window.get(("n", need.id)) != seq:
                    self.index.upsert_need(need.ranking_input())
            self.horizon, self._window = horizon, window
            self._synced_at = time.monotonic()
            if self.index.needs_refit():
                self.index = await self._rebuild(connection)
            return self.index

    async def _rebuild(self, connection: Connection) -> MatchIndex:
        started = time.perf_counter()
        horizon, suppliers, needs = await _changes(connection, 0)
        index = await asyncio.to_thread(
            MatchIndex.build,
            [
                supplier.profile(reserved_requires_verification=self.reserved_requires_verification)
                for supplier, _ in suppliers
            ],
            [need.ranking_input() for need, _ in needs],
            cpv_labels_sv(),
        )
        self.horizon, self._window, self._rebuild_due = horizon, {}, False
        self._synced_at = self._built_at = time.monotonic()
        log.info(
            "match index %s built: %d suppliers, %d needs in %.2f s",
            index.version,
            len(suppliers),
            len(needs),
            time.perf_counter() - started,
        )
        return index


async def _changes(
    connection: Connection, since: int
) -> tuple[int, list[tuple[Supplier, int]], list[tuple[Need, int]]]:
    """The horizon and the suppliers and needs changed at or after `since`."""
    if connection.is_in_transaction():
        # Inside a request's READ COMMITTED transaction: the horizon is read first, and every
        # change below it had committed before that statement, so the reads after it see it.
        horizon = await snapshot_horizon(connection)
        suppliers = await suppliers_changed_since(connection, since)
        needs = await needs_changed_since(connection, since)
        return horizon, suppliers, needs
    # One snapshot for the horizon and every row: whatever it did not see is at or above the
    # horizon and is read by the next sync.
    async with connection.transaction(isolation="repeatable_read", readonly=True):
        horizon = await snapshot_horizon(connection)
        suppliers = await suppliers_changed_since(connection, since)
        needs = await needs_changed_since(connection, since)
    return horizon, suppliers, needs
