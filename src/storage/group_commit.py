"""Group commit: writes submitted concurrently in one process, written by one statement.

Each commit costs PostgreSQL a WAL flush, and a commit that NOTIFYs holds a database-wide lock
through that flush, so single-row writes under load queue behind each other's fsync. Here the
writes that arrive while a batch is being written wait for the next batch; no timer, so a lone
write goes at once. A batch is one statement outside any transaction block: it commits as a
whole before any of its writers is answered, so nothing acknowledged can be lost."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

import asyncpg

from asfmatch.storage.db import CONNECTION_LOST, Connection

log = logging.getLogger(__name__)

Item = TypeVar("Item")
Result = TypeVar("Result")

# Writes `items` in one statement; the result of each, in order (None: not written, e.g. a
# check in the statement refused it). Raises if the statement fails.
WriteMany = Callable[[Connection, list[Item]], Awaitable[list[Result | None]]]


class GroupCommit(Generic[Item, Result]):
    """Batches concurrent `submit`s into `write_many` calls, at most `in_flight` at a time."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        write_many: WriteMany[Item, Result],
        *,
        acquire_timeout: float,
        max_batch: int = 64,
        in_flight: int = 2,
    ) -> None:
        self._pool = pool
        self._write_many = write_many
        self._acquire_timeout = acquire_timeout
        self._max_batch = max_batch
        self._in_flight = in_flight
        self._waiting: list[tuple[Item, asyncio.Future[Result | None]]] = []
        self._writers: set[asyncio.Task[None]] = set()
        # Writers that will still look at `_waiting`; counted down in the same step as a
        # writer's last look, so a write submitted after it always starts a writer.
        self._active = 0

    async def submit(self, item: Item) -> Result | None:
        """Write `item` with whatever else is waiting; its result once committed. Cancelled
        before its batch starts, it is not written."""
        future: asyncio.Future[Result | None] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        if self._active < self._in_flight:
            self._active += 1
            writer = asyncio.create_task(self._write_waiting())
            self._writers.add(writer)
            writer.add_done_callback(self._writers.discard)
        return await future

    async def close(self) -> None:
        """Wait for the batches being written (the server has stopped taking requests)."""
        while self._writers:
            await asyncio.gather(*self._writers, return_exceptions=True)

    async def _write_waiting(self) -> None:
        try:
            # One turn of the loop first: writes submitted in the same turn join this batch.
            await asyncio.sleep(0)
            while True:
                batch = [(item, f) for item, f in self._waiting[: self._max_batch] if not f.done()]
                del self._waiting[: self._max_batch]
                if not batch:
                    if not self._waiting:
                        self._active -= 1
                        return
                    continue
                try:
                    await self._write(batch)
                finally:
                    # Cancelled or failed unexpectedly: its writers hear of it, never a result.
                    for _, future in batch:
                        if not future.done():
                            future.cancel()
        except BaseException:
            self._active -= 1
            if self._active == 0:
                # No writer is left to take them: fail them rather than leave them waiting.
                for _, future in self._waiting:
                    future.cancel()
                self._waiting.clear()
            raise

    async def _write(self, batch: list[tuple[Item, asyncio.Future[Result | None]]]) -> None:
        items = [item for item, _ in batch]
        try:
            async with self._pool.acquire(timeout=self._acquire_timeout) as connection:
                try:
                    results = await self._write_many(connection, items)
                except CONNECTION_LOST:
                    raise
                except asyncpg.PostgresError as error:
                    if len(batch) == 1:
                        raise
                    # One bad row fails the statement (and rolls it back: nothing was written);
                    # alone, each row fails only itself. Any other error may come after the
                    # commit, so it is never retried.
                    log.info("batch of %d failed (%r); writing them one by one", len(batch), error)
                    await self._one_by_one(connection, batch)
                    return
        except Exception as error:
            for _, future in batch:
                if not future.done():
                    future.set_exception(error)
            return
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)

    async def _one_by_one(
        self, connection: Connection, batch: list[tuple[Item, asyncio.Future[Result | None]]]
    ) -> None:
        for item, future in batch:
            try:
                [result] = await self._write_many(connection, [item])
            except CONNECTION_LOST:
                raise
            except Exception as error:
                if not future.done():
                    future.set_exception(error)
                continue
            if not future.done():
                future.set_result(result)
