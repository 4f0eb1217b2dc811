"""Inverted-index segments over a block of documents: text postings and CPV code pairs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numba
import numpy as np
import numpy.typing as npt
from scipy import sparse

from asfmatch.matching import kernels
from asfmatch.matching.cpv import ANCESTOR_SIMILARITY, SIBLING_SIMILARITY, significant
from asfmatch.matching.tfidf import SparseVector

FloatArray = npt.NDArray[np.float64]
SlotArray = npt.NDArray[np.int64]
RowArray = npt.NDArray[np.int32]
# Local rows in a segment's postings: uint16 in segments of up to 65,536 documents, else int32.
LocalRows = npt.NDArray[np.uint16] | npt.NDArray[np.int32]
TextPostings = tuple[RowArray, LocalRows, npt.NDArray[np.float32]]

# Similarity by shared significant prefix length 0..8, as in matching.cpv.relation_of.
_ANCESTOR = np.array([ANCESTOR_SIMILARITY.get(n, 0.0) for n in range(8)] + [1.0])
_SIBLING = np.array([SIBLING_SIMILARITY.get(n, 0.0) for n in range(8)] + [1.0])
# Every value a similarity takes, so a best similarity is kept as its index here.
_LEVELS = np.unique(np.concatenate([_ANCESTOR, _SIBLING, [0.0, 1.0]]))
# Need codes whose best similarity per code list a segment keeps.
_LEVELS_CACHE = 64
# Distinct query codes whose similarity arrays are kept (CPV has about 9,500 codes; buyers use
# far fewer, and each array is one float per distinct supplier code).
_SIMILARITY_CACHE = 4096


class CodeTable:
    """The distinct CPV codes of one side, numbered, with vectorised similarity to a code."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self._digits = np.zeros((0, 8), dtype=np.int8)
        self._lengths = np.zeros(0, dtype=np.int8)
        self._pending: list[str] = []
        # Similarity arrays by query code, and the same as level numbers, valid until a new
        # code is added.
        self._similarity: dict[str, FloatArray] = {}
        self._levels: dict[str, npt.NDArray[np.uint8]] = {}

    def id_of(self, code: str) -> int:
        """The number of a code, adding it if new."""
        found = self.ids.get(code)
        if found is None:
            found = self.ids[code] = len(self.ids)
            self._pending.append(code)
            self._similarity.clear()
            self._levels.clear()
        return found

    def _arrays(self) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.int8]]:
        if self._pending:
            digits = np.array([[int(c) for c in code] for code in self._pending], dtype=np.int8)
            lengths = np.array([len(significant(code)) for code in self._pending], np.int8)
            self._digits = np.concatenate([self._digits, digits.reshape(-1, 8)])
            self._lengths = np.concatenate([self._lengths, lengths])
            self._pending = []
        return self._digits, self._lengths

    def levels(self, code: str) -> npt.NDArray[np.uint8]:
        """similarity() as positions in _LEVELS, one byte per known code (read-only)."""
        cached = self._levels.get(code)
        if cached is None:
            if len(self._levels) >= _SIMILARITY_CACHE:
                self._levels.clear()
            cached = np.searchsorted(_LEVELS, self.similarity(code)).astype(np.uint8)
            cached.flags.writeable = False
            self._levels[code] = cached
        return cached

    def similarity(self, code: str) -> FloatArray:
        """Similarity of every known code to `code`, equal to cpv.relation_of's (read-only)."""
        cached = self._similarity.get(code)
        if cached is not None:
            return cached
        if len(self._similarity) >= _SIMILARITY_CACHE:
            self._similarity.clear()
        digits, lengths = self._arrays()
        query = np.array([int(c) for c in code], dtype=np.int8)
        query_length = len(significant(code))
        # Leading equal digits, capped at the shorter significant prefix: the length of the
        # common prefix of the two significant prefixes.
        leading = np.cumprod(digits == query, axis=1).sum(axis=1)
        shorter = np.minimum(lengths, query_length)
        common = np.minimum(leading, shorter)
        # One significant prefix is a prefix of the other (or they are equal): ancestor or
        # exact; else siblings under the common prefix.
        is_ancestor = common == shorter
        exact = is_ancestor & (lengths == query_length)
        similarity: FloatArray = np.where(is_ancestor, _ANCESTOR[common], _SIBLING[common])
        similarity[exact] = 1.0
        similarity.flags.writeable = False
        self._similarity[code] = similarity
        return similarity


_NO_ROWS = np.zeros(0, np.intp)
_NO_LEVELS = np.zeros(0, np.uint8)
# The place of a shared segment's documents that serve all its places (see Segment.places).
ALL_PLACES = "*"
# Local rows of a segment up to this size are stored in two bytes instead of four: postings
# are most of the index's memory, and all but the largest partitions are this small.
_SHORT_ROWS = 1 << 16


class Segment:
    """An immutable inverted index over some documents, addressed by local row."""

    __slots__ = (
        "best_levels",
        "doc_set",
        "has_codes",
        "indptr",
        "n_codes",
        "pair_code",
        "pair_doc",
        "places",
        "rows",
        "set_code",
        "set_first",
        "slots",
        "values",
    )

    def __init__(
        self,
        slots: SlotArray,
        text: tuple[RowArray, LocalRows, npt.NDArray[np.float32]],
        pair_doc: RowArray,
        pair_code: RowArray,
        code_sets: tuple[RowArray, RowArray, RowArray],
        places: dict[str, npt.NDArray[np.intp]] | None = None,
    ) -> None:
        self.slots = slots
        # The text postings by feature (CSC): feature f's documents are rows[indptr[f]:
        # indptr[f + 1]] (local rows, ascending) with their values.
        self.indptr, self.rows, self.values = text
        # A segment shared by several places: each place's local rows (sorted); empty when
        # every document serves every query that reads the segment.
        self.places = places or {}
        self.best_levels: dict[str, npt.NDArray[np.uint8]] = {}
        # (document, code) pairs in document then code order, so per-document sums of pair
        # scores add up in the same order as the pure cpv_score() does.
        self.pair_doc = pair_doc
        self.pair_code = pair_code
        counts = np.bincount(pair_doc, minlength=slots.size)
        self.n_codes = counts.astype(np.float64)
        self.has_codes = np.flatnonzero(counts)
        # Many documents list the same codes, so a supplier's CPV score is computed once per
        # distinct code list (set_code from set_first[i] on) and handed out by doc_set, the
        # document's list number (len(set_first) for no codes).
        self.doc_set, self.set_code, self.set_first = code_sets

    @classmethod
    def build(
        cls,
        slots: SlotArray,
        rows: sparse.csr_matrix | None,
        codes: Sequence[tuple[str, ...]],
        table: CodeTable,
        places: dict[str, npt.NDArray[np.intp]] | None = None,
        take: npt.NDArray[np.int64] | None = None,
        text: TextPostings | None = None,
    ) -> Segment:
        """Index documents given their global slots, text rows (or the rows `take` of them,
        ascending), normalised CPV codes and, for a segment shared by several places, each
        place's local rows; `text` is text_postings() of those rows when already made."""
        if text is None:
            assert rows is not None, "a segment needs its text rows or their postings"
            text = text_postings(rows, take, slots.size)
        pair_doc = [doc for doc, doc_codes in enumerate(codes) for _ in doc_codes]
        pair_code = [table.id_of(code) for doc_codes in codes for code in doc_codes]
        numbers: dict[tuple[str, ...], int] = {}
        for doc_codes in codes:
            if doc_codes and doc_codes not in numbers:
                numbers[doc_codes] = len(numbers)
        none = len(numbers)
        doc_set = [numbers[doc_codes] if doc_codes else none for doc_codes in codes]
        set_code = [table.id_of(code) for doc_codes in numbers for code in doc_codes]
        widths = [len(doc_codes) for doc_codes in numbers]
        set_first = np.cumsum([0, *widths[:-1]]) if widths else np.zeros(0)
        return cls(
            slots,
            text,
            # int32 throughout, as the gather kernel reads the values' bits as int32 indices.
            np.asarray(pair_doc, dtype=np.int32),
            np.asarray(pair_code, dtype=np.int32),
            (
                np.asarray(doc_set, dtype=np.int32),
                np.asarray(set_code, dtype=np.int32),
                np.asarray(set_first, dtype=np.int32),
            ),
            places,
        )

    @property
    def size(self) -> int:
        """Number of documents."""
        return int(self.slots.size)

    def text_matrix(self) -> sparse.csc_matrix:
        """The postings as a (documents × features) CSC matrix; for baselines and checks."""
        shape = (self.size, self.indptr.size - 1)
        return sparse.csc_matrix((self.values, self.rows.astype(np.int32), self.indptr), shape)

    def members(self, places: Sequence[str]) -> npt.NDArray[np.intp]:
        """Local rows of the documents serving any of some places (sorted)."""
        every = self.places.get(ALL_PLACES)
        found = [at for place in places if (at := self.places.get(place, every)) is not None]
        if len(found) == 1:
            return found[0]
        return np.unique(np.concatenate(found)) if found else np.zeros(0, np.intp)

    def text_scores(self, query: SparseVector) -> FloatArray:
        """Cosine of the query with every document, touching only the query's postings."""
        scores = np.zeros(self.size)
        if query.cols.size and self.size:
            kernels.text_scores(self.indptr, self.rows, self.values, query.cols, query.vals, scores)
        return scores

    def contribute(
        self,
        local_rows: npt.NDArray[np.intp],
        documents: npt.NDArray[np.intp],
        query: SparseVector,
        contribution: FloatArray,
    ) -> None:
        """Fill contribution[documents[d], i], query feature i's part of the score of the
        document at local_rows[d] (distinct), for the features it shares with the query."""
        kernels.contributions(
            self.indptr,
            self.rows,
            self.values,
            query.cols,
            query.vals,
            local_rows,
            documents,
            contribution,
        )

    def supplier_candidates(
        self,
        query: SparseVector,
        need_codes: Sequence[str],
        table: CodeTable,
        members: npt.NDArray[np.intp] | None,
        evidence: tuple[float, float],
    ) -> tuple[npt.NDArray[np.intp], FloatArray, FloatArray]:
        """Documents are suppliers: of all documents or some local rows (`members`), those with
        a text score or CPV score (mean over the need's codes of the best supplier code) of at
        least `evidence`: local rows, text scores, CPV scores; one compiled pass."""
        return kernels.candidates(
            self.indptr,
            self.rows,
            self.values,
            query.cols,
            query.vals,
            self.size,
            _NO_ROWS if members is None else members,
            members is None,
            *self._code_levels(need_codes, table),
            self.set_first.size,
            _LEVELS,
            self.doc_set,
            *evidence,
        )

    def _code_levels(
        self, need_codes: Sequence[str], table: CodeTable
    ) -> tuple[npt.NDArray[np.uint8], int]:
        # Each need code's best level per code list, laid end to end, and how many codes.
        if not need_codes or not self.set_first.size:
            return _NO_LEVELS, 0
        if len(need_codes) == 1:
            return self._best_levels(need_codes[0], table), 1
        levels = [self._best_levels(code, table) for code in need_codes]
        return np.concatenate(levels), len(levels)

    def _best_levels(self, code: str, table: CodeTable) -> npt.NDArray[np.uint8]:
        # The best similarity of each code list to a need code, as a level number: buyers use
        # few codes, so it is computed once per code (the segment never changes), and a byte
        # per list keeps the cache small (the similarities are a handful of values).
        found = self.best_levels.get(code)
        if found is None:
            if len(self.best_levels) >= _LEVELS_CACHE:
                self.best_levels.clear()
            found = kernels.best_levels(table.levels(code), self.set_code, self.set_first)
            self.best_levels[code] = found
        return found

    def cpv_scores_of_needs(self, best_by_code: FloatArray | None) -> FloatArray:
        """Documents are needs: mean over each need's codes of its best supplier code."""
        # best_by_code: per need code, the best similarity to any of the supplier's codes.
        if best_by_code is None or self.pair_doc.size == 0:
            return np.zeros(self.size)
        weights = best_by_code[self.pair_code]
        total: FloatArray = np.bincount(self.pair_doc, weights, minlength=self.size).astype(
            np.float64, copy=False
        )
        total[self.has_codes] /= self.n_codes[self.has_codes]
        return total


def text_postings(
    rows: sparse.csr_matrix, take: npt.NDArray[np.int64] | None, size: int
) -> TextPostings:
    """A segment's text postings (feature pointers, local rows, values) of some text rows
    (`take`, ascending; all if None) for `size` documents; holds the GIL only briefly."""
    if take is None:
        take = np.arange(rows.shape[0], dtype=np.int64)
    indptr, indices = rows.indptr, rows.indices
    nnz = int((indptr[take + 1] - indptr[take]).sum())
    # Gathered and transposed in one pass, straight into the stored dtypes: no row copy.
    local_rows: LocalRows = (
        np.empty(nnz, np.uint16) if size <= _SHORT_ROWS else np.empty(nnz, np.int32)
    )
    values = np.empty(nnz, dtype=np.float32)
    feature_ptr = _postings_of_rows(
        indptr, indices, rows.data, take, rows.shape[1], local_rows, values
    )
    return feature_ptr, local_rows, values


@numba.njit(cache=True, nogil=True)
def _postings_of_rows(
    indptr: npt.NDArray[Any],
    indices: npt.NDArray[np.int32],
    data: npt.NDArray[np.float32],
    take: npt.NDArray[np.int64],
    n_features: int,
    rows: npt.NDArray[Any],
    values: npt.NDArray[np.float32],
) -> RowArray:  # pragma: no cover - compiled; checked against scipy's transpose
    """Some rows (`take`, ascending) of a CSR matrix as postings by feature (CSC, local rows
    ascending), written into `rows` and `values`; returns the feature pointers."""
    feature_ptr = np.zeros(n_features + 1, np.int32)
    for row in take:
        for at in range(indptr[row], indptr[row + 1]):
            feature_ptr[indices[at] + 1] += 1
    for feature in range(n_features):
        feature_ptr[feature + 1] += feature_ptr[feature]
    fill = feature_ptr[:-1].copy()
    for local in range(take.size):
        row = take[local]
        for at in range(indptr[row], indptr[row + 1]):
            feature = indices[at]
            rows[fill[feature]] = local
            values[fill[feature]] = data[at]
            fill[feature] += 1
    return feature_ptr
