"""Documents of one kind in slots: text rows, filter columns and partitioned segments."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse

from asfmatch.matching.postings import CodeTable, Segment, SlotArray
from asfmatch.matching.tfidf import SparseVector

# Incremental documents go to small delta segments that are merged, log-structured, as they
# grow; at most this many are kept before all are merged into one.
MAX_DELTA_SEGMENTS = 8


class Column:
    """A growable numpy column (amortised O(1) append)."""

    def __init__(self, dtype: type[Any], values: Sequence[Any]) -> None:
        self._data: npt.NDArray[Any] = np.array(values, dtype=dtype)
        self._size = len(values)

    def append(self, value: Any) -> None:
        """Add a value at the end, doubling the storage when full."""
        if self._size == self._data.size:
            grown = np.zeros(max(16, 2 * self._size), dtype=self._data.dtype)
            grown[: self._size] = self._data[: self._size]
            self._data = grown
        self._data[self._size] = value
        self._size += 1

    def __setitem__(self, index: int, value: Any) -> None:
        self._data[index] = value

    @property
    def values(self) -> npt.NDArray[Any]:
        """The filled part, as a view (do not keep it across appends)."""
        return self._data[: self._size]


Group = dict[str, Segment]


class DocumentStore:
    """One kind of document (suppliers or needs): rows, attributes and partitioned segments."""

    # Documents live in slots. The fitted ones form the main segments; upserts get new slots in
    # small delta segments, and a replaced or removed document's old slot is marked dead.

    def __init__(
        self,
        ids: Sequence[int],
        rows: sparse.csr_matrix,
        codes: list[tuple[str, ...]],
        partitions: list[tuple[str, ...]],
        alive: Sequence[bool],
        attributes: dict[str, tuple[type[Any], Sequence[Any]]],
    ) -> None:
        self.ids = Column(np.int64, ids)
        self.alive = Column(np.bool_, alive)
        self.attributes = {name: Column(dt, vals) for name, (dt, vals) in attributes.items()}
        self.codes = codes
        self.code_table = CodeTable()
        self.partitions = partitions
        # The fitted rows are read only to build the main segments: explanations read the
        # segments' postings, so the rows are not kept (at 1M suppliers they are ~1.6 GB).
        self.width = int(rows.shape[1])
        self.main_count = len(ids)
        self.delta_rows: dict[int, SparseVector] = {}
        self.slot_of = {doc_id: slot for slot, doc_id in enumerate(ids)}
        live = [slot for slot, ok in enumerate(alive) if ok]
        self.main = self._group(live, rows)
        self.deltas: list[tuple[Group, list[int]]] = []
        self.tail: list[int] = []

    def locate(self, slot: int) -> tuple[Segment, int] | None:
        """A main segment holding a fitted slot and its local row there (None for delta slots
        and for slots not indexed, which were dead at build)."""
        if slot >= self.main_count:
            return None
        segment = self.main.get(self.partitions[slot][0]) if self.partitions[slot] else None
        if segment is None:
            return None
        local = int(np.searchsorted(segment.slots, slot))
        if local == segment.size or segment.slots[local] != slot:
            return None
        return segment, local

    def fitted_rows(self) -> sparse.csr_matrix:
        """The fitted text rows in slot order, put together from the main segments (empty for
        slots dead at build); for baselines and checks, not for ranking."""
        parts: list[sparse.csr_matrix] = []
        owners: list[SlotArray] = []
        for key, segment in self.main.items():
            # Each slot once: from the segment of its first partition.
            own = np.flatnonzero(
                np.fromiter(
                    (self.partitions[slot][0] == key for slot in segment.slots.tolist()),
                    dtype=np.bool_,
                    count=segment.size,
                )
            )
            parts.append(sparse.csr_matrix(segment.text_matrix())[own])
            owners.append(segment.slots[own])
        if not parts:
            return sparse.csr_matrix((self.main_count, self.width), dtype=np.float32)
        stacked = sparse.csr_matrix(sparse.vstack(parts))
        order = np.concatenate(owners)
        # A 0/1 matrix moving stacked row i to row order[i].
        rows = sparse.csr_matrix(
            (np.ones(order.size, dtype=np.float32), (order, np.arange(order.size))),
            shape=(self.main_count, order.size),
        )
        return sparse.csr_matrix(rows @ stacked)

    def _group(self, slots: list[int], fitted: sparse.csr_matrix | None = None) -> Group:
        # Segments by partition key over some slots: fitted ones read their rows from the fit,
        # deltas from delta_rows.
        by_key: dict[str, list[int]] = {}
        for slot in slots:
            for key in self.partitions[slot]:
                by_key.setdefault(key, []).append(slot)
        group: Group = {}
        for key, members in by_key.items():
            member_slots: SlotArray = np.array(sorted(members), dtype=np.int64)
            if fitted is not None:
                rows = fitted[member_slots]
            else:
                rows = _stack([self.delta_rows[s] for s in member_slots.tolist()], self.width)
            codes = [self.codes[s] for s in member_slots.tolist()]
            group[key] = Segment.build(member_slots, rows, codes, self.code_table)
        return group

    def add(
        self,
        doc_id: int,
        row: SparseVector,
        codes: tuple[str, ...],
        partitions: tuple[str, ...],
        alive: bool,
        attributes: dict[str, Any],
    ) -> None:
        """Store a new version of a document in a fresh slot, queued for the next delta."""
        self.kill(doc_id)
        slot = len(self.codes)
        self.ids.append(doc_id)
        self.alive.append(alive)
        for name, column in self.attributes.items():
            column.append(attributes[name])
        self.codes.append(codes)
        self.partitions.append(partitions)
        self.delta_rows[slot] = row
        self.slot_of[doc_id] = slot
        if alive:
            self.tail.append(slot)

    def kill(self, doc_id: int) -> None:
        """Mark a document's slot dead; segments skip dead slots when ranking."""
        slot = self.slot_of.pop(doc_id, None)
        if slot is not None:
            self.alive[slot] = False
            self.delta_rows.pop(slot, None)

    def flush(self) -> None:
        """Index queued upserts as a new delta segment, merging deltas of similar size."""
        if not self.tail:
            return
        alive = self.alive.values
        slots = [s for s in self.tail if alive[s]]
        self.tail = []
        if slots:
            self.deltas.append((self._group(slots), slots))
        # Merge while the newer segment is at least half the size of the older one: a
        # binary-counter policy, so each document is re-indexed O(log n) times.
        while len(self.deltas) >= 2 and (
            len(self.deltas[-2][1]) <= 2 * len(self.deltas[-1][1])
            or len(self.deltas) > MAX_DELTA_SEGMENTS
        ):
            (_, newer), (_, older) = self.deltas.pop(), self.deltas.pop()
            merged = [s for s in older + newer if alive[s]]
            if merged:
                self.deltas.append((self._group(merged), merged))

    def groups(self) -> list[Group]:
        """The main segments' group, then the delta groups."""
        return [self.main, *(group for group, _ in self.deltas)]


def _stack(vectors: list[SparseVector], width: int) -> sparse.csr_matrix:
    indptr = np.zeros(len(vectors) + 1, dtype=np.int64)
    indptr[1:] = np.cumsum([v.cols.size for v in vectors])
    cols = np.concatenate([v.cols for v in vectors]) if vectors else np.zeros(0, np.int32)
    vals = np.concatenate([v.vals for v in vectors]) if vectors else np.zeros(0)
    return sparse.csr_matrix((vals.astype(np.float32), cols, indptr), shape=(len(vectors), width))
