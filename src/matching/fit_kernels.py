"""Compiled loops (numba) of the fit: documents' feature counts from their pieces, and weights."""

from __future__ import annotations

from typing import Any

import numba
import numpy as np
import numpy.typing as npt
from numba.cpython.unsafe.numbers import trailing_zeros as _trailing_zeros

# A document is a run of pieces (analysis.document_pieces) and each distinct piece a run of
# feature numbers (its words' features in order), so counting is gathering and summing small
# integers: one loop over the occurrences instead of numpy temporaries the size of all of them
# (at a million documents several GB) and scipy's duplicate summing. `cache=True` keeps the
# compiled code beside this file, so only the first process after an install compiles it.
# Each loop takes a range of documents (rows) and holds no GIL, so the fit runs ranges on
# several threads; a range's output depends on nothing but its own documents.

IntArray = npt.NDArray[np.int32]
LongArray = npt.NDArray[np.int64]
_ONE = np.uint64(1)
# LLVM's count of trailing zero bits (typed Any: mypy reads the intrinsic's own signature).
trailing_zeros: Any = _trailing_zeros


@numba.njit(cache=True, nogil=True)
def document_frequencies(
    pieces: IntArray,
    starts: LongArray,
    piece_ptr: LongArray,
    piece_features: IntArray,
    n_features: int,
    first: int,
    stop: int,
) -> LongArray:  # pragma: no cover - compiled; checked against scikit-learn's counts
    """How many of documents first..stop-1 hold each feature."""
    df = np.zeros(n_features, np.int64)
    # The last document that counted a feature: no clearing between documents.
    seen = np.full(n_features, -1, np.int64)
    for doc in range(first, stop):
        for at in range(starts[doc], starts[doc + 1]):
            piece = pieces[at]
            for k in range(piece_ptr[piece], piece_ptr[piece + 1]):
                feature = piece_features[k]
                if seen[feature] != doc:
                    seen[feature] = doc
                    df[feature] += 1
    return df


@numba.njit(cache=True, nogil=True)
def count_rows(
    pieces: IntArray,
    starts: LongArray,
    piece_ptr: LongArray,
    piece_features: IntArray,
    column: IntArray,
    n_columns: int,
    first: int,
    stop: int,
    out: int,
    indptr: LongArray,
    indices: IntArray,
    data: npt.NDArray[np.float32],
) -> None:  # pragma: no cover - compiled; checked against scikit-learn's counts
    """CSR counts (rows' columns ascending) of documents first..stop-1 written into indptr,
    indices and data from position `out` on: feature f is column column[f], or dropped where
    that is negative."""
    counts = np.zeros(n_columns, np.int32)
    # A row's columns are marked in a bitmap, and the bitmap's non-zero words in a second one,
    # so they come out ascending by scanning set bits: no per-row sort (a third of the fit at
    # a million documents), and the scan touches only the words the row uses.
    n_words = (n_columns + 63) >> 6
    words = np.zeros(n_words, np.uint64)
    summary = np.zeros((n_words + 63) >> 6, np.uint64)
    for doc in range(first, stop):
        for at in range(starts[doc], starts[doc + 1]):
            piece = pieces[at]
            for k in range(piece_ptr[piece], piece_ptr[piece + 1]):
                col = column[piece_features[k]]
                if col >= 0:
                    if counts[col] == 0:
                        word = col >> 6
                        words[word] |= _ONE << np.uint64(col & 63)
                        summary[word >> 6] |= _ONE << np.uint64(word & 63)
                    counts[col] += 1
        for s in range(summary.size):
            marked = summary[s]
            while marked != 0:
                word = (s << 6) + np.int64(trailing_zeros(marked))
                bits = words[word]
                while bits != 0:
                    col = (word << 6) + np.int64(trailing_zeros(bits))
                    indices[out] = col
                    data[out] = counts[col]
                    counts[col] = 0
                    out += 1
                    bits &= bits - _ONE
                words[word] = 0
                marked &= marked - _ONE
            summary[s] = 0
        indptr[doc + 1] = out


@numba.njit(cache=True, nogil=True)
def weigh_rows(
    indptr: npt.NDArray[np.int32] | LongArray,
    indices: IntArray,
    data: npt.NDArray[np.float32],
    idf: npt.NDArray[np.float32],
    block: npt.NDArray[np.int8],
    block_scale: npt.NDArray[np.float64],
    first: int,
    stop: int,
) -> None:  # pragma: no cover - compiled; checked bit for bit against the numpy steps
    """In place, rows first..stop-1 from 1 + log(count): times the IDF, then each row's blocks
    scaled to norm block_scale[block], with the float32 and float64 steps of
    tfidf.block_normalise."""
    norms = np.zeros(block_scale.size, np.float64)
    for row in range(first, stop):
        norms[:] = 0.0
        # Squares summed in column order per block, as numpy's bincount adds them.
        for at in range(indptr[row], indptr[row + 1]):
            value = data[at] * idf[indices[at]]
            data[at] = value
            norms[block[indices[at]]] += np.float64(value) * np.float64(value)
        for b in range(norms.size):
            norms[b] = np.sqrt(norms[b]) if norms[b] != 0.0 else 1.0
        for at in range(indptr[row], indptr[row + 1]):
            b = block[indices[at]]
            data[at] = np.float32(np.float64(data[at]) * (block_scale[b] / norms[b]))


_FNV_OFFSET = np.uint64(14695981039346656037)
_FNV_PRIME = np.uint64(1099511628211)


@numba.njit(cache=True, nogil=True)
def number_pieces(
    text: npt.NDArray[np.uint32],
    is_space: npt.NDArray[np.bool_],
    slots: IntArray,
    piece_hash: npt.NDArray[np.uint64],
    piece_start: LongArray,
    arena: npt.NDArray[np.uint32],
    n_pieces: int,
    numbers: IntArray,
) -> tuple[int, int]:  # pragma: no cover - compiled; checked against str.split and a dict
    """Number the white-space-separated pieces of a text (code points) as str.split() cuts
    them, each distinct piece by first sight: new ones are appended to `arena` (piece p is
    arena[piece_start[p]:piece_start[p + 1]]) and an open-addressing table (`slots`, a power
    of two, -1 when free) finds known ones. The caller leaves room for every piece of the
    text to be new. Returns how many pieces the text has (their numbers in `numbers`) and
    how many distinct pieces are known now."""
    mask = slots.size - 1
    found = 0
    at = 0
    end = text.size
    while at < end:
        c = text[at]
        if c < is_space.size and is_space[c]:
            at += 1
            continue
        first = at
        digest = _FNV_OFFSET
        while at < end:
            c = text[at]
            if c < is_space.size and is_space[c]:
                break
            digest = (digest ^ np.uint64(c)) * _FNV_PRIME
            at += 1
        length = at - first
        slot = np.int64(digest & np.uint64(mask))
        while True:
            piece = slots[slot]
            if piece < 0:
                piece = n_pieces
                n_pieces += 1
                start = piece_start[piece]
                arena[start : start + length] = text[first:at]
                piece_start[piece + 1] = start + length
                piece_hash[piece] = digest
                slots[slot] = piece
                break
            if piece_hash[piece] == digest:
                start = piece_start[piece]
                if piece_start[piece + 1] - start == length:
                    same = True
                    for k in range(length):
                        if arena[start + k] != text[first + k]:
                            same = False
                            break
                    if same:
                        break
            slot = (slot + 1) & mask
        numbers[found] = piece
        found += 1
    return found, n_pieces


@numba.njit(cache=True, nogil=True)
def rehash_pieces(
    piece_hash: npt.NDArray[np.uint64], n_pieces: int, slots: IntArray
) -> None:  # pragma: no cover - compiled
    """Enter pieces 0..n_pieces-1 into an empty (all -1) open-addressing table."""
    mask = slots.size - 1
    for piece in range(n_pieces):
        slot = np.int64(piece_hash[piece] & np.uint64(mask))
        while slots[slot] >= 0:
            slot = (slot + 1) & mask
        slots[slot] = piece
