"""Documents of one kind in slots: text rows, filter columns and partitioned segments."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future
from typing import Any, Generic, TypeVar

import numpy as np
import numpy.typing as npt
from scipy import sparse

from asfmatch.matching.build_threads import pool
from asfmatch.matching.postings import (
    ALL_PLACES,
    CodeTable,
    Segment,
    SlotArray,
    TextPostings,
    text_postings,
)
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

# A partition key "segment|place" puts a document in a segment shared by several places, once
# however many of them it lists, and in that segment's member list of the place; the place
# ALL_PLACES makes it a member of every place of the segment.
PLACE_MARK = "|"


def segment_key(partition: str) -> str:
    """The segment a partition key names."""
    return partition.split(PLACE_MARK, 1)[0]


# What a document was indexed from: a supplier's or a need's profile.
Profile = TypeVar("Profile")


class DocumentStore(Generic[Profile]):
    """One kind of document (suppliers or needs): rows, attributes and partitioned segments."""

    # Documents live in slots. The fitted ones form the main segments; upserts get new slots in
    # small delta segments, and a replaced or removed document's old slot is marked dead.

    def __init__(
        self,
        ids: Sequence[int],
        profiles: Sequence[Profile],
        rows: sparse.csr_matrix,
        codes: list[tuple[str, ...]],
        partitions: list[tuple[str, ...]],
        alive: Sequence[bool],
        attributes: dict[str, tuple[type[Any], Sequence[Any]]],
        first_row: int = 0,
    ) -> None:
        self.ids = Column(np.int64, ids)
        # Each slot's profile, read by position: explaining a ranking reads ~20 at random, and
        # a list costs one cache miss fewer per profile than looking the id up in a dict.
        self.profiles = list(profiles)
        self.alive = Column(np.bool_, alive)
        self.attributes = {name: Column(dt, vals) for name, (dt, vals) in attributes.items()}
        self.codes = codes
        self.code_table = CodeTable()
        self.partitions = partitions
        # The fitted rows (from rows[first_row], so one fitted matrix serves both sides without
        # a sliced copy) are read only to build the main segments: explanations read the
        # segments' postings, so the rows are not kept (at 1M suppliers they are ~1.6 GB).
        self.width = int(rows.shape[1])
        self.main_count = len(ids)
        self.delta_rows: dict[int, SparseVector] = {}
        self.slot_of = {doc_id: slot for slot, doc_id in enumerate(ids)}
        live = [slot for slot, ok in enumerate(alive) if ok]
        self.main = self._group(live, rows, first_row)
        self.deltas: list[tuple[Group, list[int]]] = []
        self.tail: list[int] = []

    def locate(self, slot: int) -> tuple[Segment, int] | None:
        """A main segment holding a fitted slot and its local row there (None for delta slots
        and for slots not indexed, which were dead at build)."""
        if slot >= self.main_count:
            return None
        partitions = self.partitions[slot]
        segment = self.main.get(segment_key(partitions[0])) if partitions else None
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
                    (
                        segment_key(self.partitions[slot][0]) == key
                        for slot in segment.slots.tolist()
                    ),
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

    def _group(
        self, slots: list[int], fitted: sparse.csr_matrix | None = None, first_row: int = 0
    ) -> Group:
        # Segments by partition key over some slots: fitted ones read their rows from the fit,
        # deltas from delta_rows. A slot sits in a segment once, whatever places it lists there.
        # Keys are parsed once per distinct partition tuple (the index shares equal tuples).
        parsed: dict[tuple[str, ...], dict[str, tuple[str, ...]]] = {}
        members: dict[str, list[int]] = {}
        listed: dict[str, list[tuple[str, ...]]] = {}
        for slot in sorted(slots):
            partitions = self.partitions[slot]
            keys = parsed.get(partitions)
            if keys is None:
                keys = parsed[partitions] = _parse(partitions)
            for key, its_places in keys.items():
                members.setdefault(key, []).append(slot)
                listed.setdefault(key, []).append(its_places)
        group: Group = {}
        slots_of = {key: np.array(in_order, dtype=np.int64) for key, in_order in members.items()}
        texts: dict[str, Future[TextPostings]] = {}
        workers = None
        if fitted is not None:
            # The fitted segments' postings are made on the build's threads (a compiled loop
            # without the GIL) while this thread does the segments' Python part below.
            workers = pool()
            for key, member_slots in slots_of.items():
                texts[key] = workers.submit(
                    text_postings, fitted, member_slots + first_row, member_slots.size
                )
        try:
            for key, in_order in members.items():
                group[key] = self._segment(in_order, slots_of[key], listed[key], texts.get(key))
        finally:
            if workers is not None:
                workers.shutdown(cancel_futures=True)
        return group

    def _segment(
        self,
        in_order: list[int],
        member_slots: SlotArray,
        listed: list[tuple[str, ...]],
        text: Future[TextPostings] | None,
    ) -> Segment:
        rows = None
        if text is None:
            rows = _stack([self.delta_rows[s] for s in in_order], self.width)
        codes = [self.codes[s] for s in in_order]
        rows_of: dict[str, list[int]] = {}
        for local, its_places in enumerate(listed):
            for place in its_places:
                rows_of.setdefault(place, []).append(local)
        every = rows_of.pop(ALL_PLACES, [])
        places = {place: np.union1d(at, every).astype(np.intp) for place, at in rows_of.items()}
        if every:
            places[ALL_PLACES] = np.array(every, dtype=np.intp)
        if text is None:
            return Segment.build(member_slots, rows, codes, self.code_table, places)
        return Segment.build(member_slots, None, codes, self.code_table, places, text=text.result())

    def add(
        self,
        doc_id: int,
        profile: Profile,
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
        self.profiles.append(profile)
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


def _parse(partitions: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    # Segment key -> the places listed there, of one document's partition keys.
    keys: dict[str, list[str]] = {}
    for partition in partitions:
        key, _, place = partition.partition(PLACE_MARK)
        at = keys.setdefault(key, [])
        if place:
            at.append(place)
    return {key: tuple(places) for key, places in keys.items()}


def _stack(vectors: list[SparseVector], width: int) -> sparse.csr_matrix:
    indptr = np.zeros(len(vectors) + 1, dtype=np.int64)
    indptr[1:] = np.cumsum([v.cols.size for v in vectors])
    cols = np.concatenate([v.cols for v in vectors]) if vectors else np.zeros(0, np.int32)
    vals = np.concatenate([v.vals for v in vectors]) if vectors else np.zeros(0)
    return sparse.csr_matrix((vals.astype(np.float32), cols, indptr), shape=(len(vectors), width))
