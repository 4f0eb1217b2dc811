"""Live streams' wake-ups in one place per API process: a single PostgreSQL LISTEN connection
fans NOTIFY messages out to every open stream (the API's per supplier, the pages' per topic),
and one query a second finds revoked keys.

NOTIFY is transactional: PostgreSQL delivers it only when the writer's transaction commits, so
a stream woken by it always finds the rows it was woken for (no early wake-ups to re-read for),
and a rolled-back write wakes nobody. With the listener lost (PostgreSQL restart), streams poll
until it is back."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import AsyncIterator, Callable

import asyncpg

from asfmatch.storage.db import Connection, connect
from asfmatch.storage.events import CHANNEL, PAGES_CHANNEL

# Revoked or deleted API keys' ids, NOTIFYed at commit by sql/008_key_revocations.sql.
KEYS_CHANNEL = "asfmatch_keys"
# New versions of cached lists, NOTIFYed at commit by sql/013_list_versions.sql.
LISTS_CHANNEL = "asfmatch_lists"

log = logging.getLogger(__name__)

# How often revoked keys are looked for, and how often a lost listener is re-tried.
_REVOCATION_SECONDS = 0.5
_RECONNECT_SECONDS = 2.0


class TooManyStreams(Exception):
    """The key already holds its allowance of open streams in this process."""


class Wakeup:
    """One open stream's view of the hub."""

    def __init__(self, supplier_id: int, key_id: int, topics: frozenset[str] = frozenset()) -> None:
        self.supplier_id = supplier_id
        self.key_id = key_id
        self.topics = topics
        self.revoked = False
        # The topics that changed since the stream last looked (`take_woken`).
        self.woken: set[str] = set()
        self._event = asyncio.Event()

    def set(self) -> None:
        """Wake the stream."""
        self._event.set()

    def take_woken(self) -> frozenset[str]:
        """The topics woken since the last call (every topic after a reconnect)."""
        woken = frozenset(self.woken)
        self.woken.clear()
        return woken

    async def wait(self, seconds: float) -> bool:
        """Up to `seconds` for a wake-up (news or revocation); True if one came."""
        try:
            async with asyncio.timeout(seconds):
                await self._event.wait()
        except TimeoutError:
            return False
        self._event.clear()
        return True


class StreamHub:
    """Every open stream of this process, woken by one LISTEN connection."""

    def __init__(self, database_url: str, pool: asyncpg.Pool) -> None:
        self.database_url = database_url
        self.pool = pool
        self._streams: set[Wakeup] = set()
        self._per_key: Counter[int] = Counter()
        self._per_holder: Counter[str] = Counter()
        self._listener: asyncpg.Connection | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False
        self._key_revoked: list[Callable[[int], None]] = []
        self._relisten: list[Callable[[], None]] = []
        self._lists_changed: list[Callable[[str], None]] = []

    def on_key_revoked(self, callback: Callable[[int], None]) -> None:
        """Call `callback(key_id)` when a key's revocation commits (heard through LISTEN)."""
        self._key_revoked.append(callback)

    def on_lists_changed(self, callback: Callable[[str], None]) -> None:
        """Call `callback(payload)` for each list version announced at commit
        (storage/list_versions.py reads the payload)."""
        self._lists_changed.append(callback)

    def on_relisten(self, callback: Callable[[], None]) -> None:
        """Call `callback()` whenever LISTEN holds again after a loss: what was sent meanwhile
        went unheard."""
        self._relisten.append(callback)

    @property
    def listening(self) -> bool:
        """True while the LISTEN connection is up (else streams should poll)."""
        return self._listener is not None and not self._listener.is_closed()

    def streams_of(self, key_id: int) -> int:
        """Open streams of one key in this process."""
        return self._per_key[key_id]

    def streams_of_holder(self, holder: str) -> int:
        """Open page streams of one holder in this process."""
        return self._per_holder[holder]

    async def start(self) -> None:
        """Listen (best effort: failing, it retries in the background) and watch revocations."""
        await self._listen()
        self._tasks = [
            asyncio.create_task(self._keep_listening()),
            asyncio.create_task(self._watch_revocations()),
        ]

    async def stop(self) -> None:
        """Stop the background tasks, wake every stream to end, close the listener."""
        # The flag as well as the cancel, as in ListVersions.stop: a cancellation that lands as
        # an awaited call completes can be lost (Python 3.11's wait_for, which redis-py's sends
        # go through), and a loop whose only way out is the cancel would then hold shutdown.
        self._stopping = True
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for wakeup in self._streams:
            wakeup.revoked = True
            wakeup.set()
        if self._listener is not None:
            with contextlib.suppress(Exception):
                await self._listener.close(timeout=2)
            self._listener = None

    @contextlib.asynccontextmanager
    async def stream(self, supplier_id: int, key_id: int, limit: int) -> AsyncIterator[Wakeup]:
        """Register one stream for its lifetime; TooManyStreams past `limit` per key."""
        if self._per_key[key_id] >= limit:
            raise TooManyStreams
        wakeup = Wakeup(supplier_id, key_id)
        self._streams.add(wakeup)
        self._per_key[key_id] += 1
        try:
            yield wakeup
        finally:
            self._streams.discard(wakeup)
            self._per_key[key_id] -= 1
            if self._per_key[key_id] <= 0:
                del self._per_key[key_id]

    @contextlib.asynccontextmanager
    async def watch(self, topics: frozenset[str], holder: str, limit: int) -> AsyncIterator[Wakeup]:
        """Register one page stream on `topics` for its lifetime; TooManyStreams past `limit`
        streams of one holder (a session, or every signed-out visitor together)."""
        if self._per_holder[holder] >= limit:
            raise TooManyStreams
        wakeup = Wakeup(0, 0, topics)
        self._streams.add(wakeup)
        self._per_holder[holder] += 1
        try:
            yield wakeup
        finally:
            self._streams.discard(wakeup)
            self._per_holder[holder] -= 1
            if self._per_holder[holder] <= 0:
                del self._per_holder[holder]

    def _pages_notified(self, _: Connection, __: int, ___: str, payload: object) -> None:
        changed = set(str(payload).split(","))
        for wakeup in self._streams:
            hit = wakeup.topics & changed
            if hit:
                wakeup.woken |= hit
                wakeup.set()

    def _notified(self, _: Connection, __: int, ___: str, payload: object) -> None:
        woken = {int(part) for part in str(payload).split(",") if part.isdigit()}
        for wakeup in self._streams:
            if wakeup.supplier_id in woken:
                wakeup.set()

    def _key_notified(self, _: Connection, __: int, ___: str, payload: object) -> None:
        if str(payload).isdigit():
            for callback in self._key_revoked:
                callback(int(str(payload)))

    def _lists_notified(self, _: Connection, __: int, ___: str, payload: object) -> None:
        for callback in self._lists_changed:
            callback(str(payload))

    async def _listen(self) -> None:
        listener: asyncpg.Connection | None = None
        try:
            listener = await connect(self.database_url)
            await listener.add_listener(CHANNEL, self._notified)
            await listener.add_listener(PAGES_CHANNEL, self._pages_notified)
            await listener.add_listener(KEYS_CHANNEL, self._key_notified)
            await listener.add_listener(LISTS_CHANNEL, self._lists_notified)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
            if listener is not None:
                listener.terminate()
            log.warning("live streams cannot LISTEN (%s); polling", type(error).__name__)
            return
        self._listener = listener
        for callback in self._relisten:
            callback()
        # Whatever was committed while nobody listened is found by reading now.
        for wakeup in self._streams:
            wakeup.woken |= wakeup.topics
            wakeup.set()

    async def _keep_listening(self) -> None:
        while not self._stopping:
            await asyncio.sleep(_RECONNECT_SECONDS)
            if not self.listening and not self._stopping:
                if self._listener is not None:
                    log.warning("live streams lost their LISTEN connection; reconnecting")
                    self._listener.terminate()
                    self._listener = None
                await self._listen()

    async def _watch_revocations(self) -> None:
        while not self._stopping:
            await asyncio.sleep(_REVOCATION_SECONDS)
            # Page streams hold no key (0): their sessions are checked by the stream itself.
            keys = sorted({wakeup.key_id for wakeup in self._streams if wakeup.key_id})
            if not keys:
                continue
            try:
                async with self.pool.acquire() as connection:
                    rows = await connection.fetch(
                        "SELECT id FROM api_keys WHERE id = ANY($1::bigint[])"
                        " AND revoked_at IS NOT NULL",
                        keys,
                    )
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                continue  # PostgreSQL away: look again next time
            revoked = {row["id"] for row in rows}
            for wakeup in self._streams:
                if wakeup.key_id in revoked:
                    wakeup.revoked = True
                    wakeup.set()
