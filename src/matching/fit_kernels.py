"""Compiled loops (numba) of the fit: each document's feature counts, given its pieces, and weights."""

from __future__ import annotations

import numba
import numpy as np
import numpy.typing as npt

# A document is a run of pieces (analysis.document_pieces) and each distinct piece a run of
# feature numbers (its words' features in order), so counting is gathering and summing small
# integers: one loop over the occurrences instead of numpy temporaries the size of all of them
# (at a million documents several GB) and scipy's duplicate summing. `cache=True` keeps the
# compiled code beside this file, so only the first process after an install compiles it.

IntArray = npt.NDArray[np.int32]
LongArray = npt.NDArray[np.int64]


@numba.njit(cache=True, nogil=True)
def document_frequencies(
    pieces: IntArray,
    starts: LongArray,
    piece_ptr: LongArray,
    piece_features: IntArray,
    n_features: int,
) -> LongArray:  # pragma: no cover - compiled; checked against scikit-learn's counts
    """How many documents hold each feature."""
    df = np.zeros(n_features, np.int64)
    # The last document that counted a feature: no clearing between documents.
    seen = np.full(n_features, -1, np.int64)
    for doc in range(starts.size - 1):
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
    nnz: int,
) -> tuple[LongArray, IntArray, npt.NDArray[np.float32]]:  # pragma: no cover - compiled
    """CSR counts (rows' columns ascending) of the features kept: feature f is column
    column[f], or dropped where that is negative; `nnz` at least the number of stored counts."""
    n_docs = starts.size - 1
    indptr = np.zeros(n_docs + 1, np.int64)
    indices = np.empty(nnz, np.int32)
    data = np.empty(nnz, np.float32)
    counts = np.zeros(column.max() + 1 if column.size else 0, np.int32)
    out = 0
    for doc in range(n_docs):
        # The row's distinct columns are written where they go, then sorted in place.
        distinct = out
        for at in range(starts[doc], starts[doc + 1]):
            piece = pieces[at]
            for k in range(piece_ptr[piece], piece_ptr[piece + 1]):
                col = column[piece_features[k]]
                if col >= 0:
                    if counts[col] == 0:
                        indices[distinct] = col
                        distinct += 1
                    counts[col] += 1
        indices[out:distinct].sort()
        for i in range(out, distinct):
            data[i] = counts[indices[i]]
            counts[indices[i]] = 0
        out = distinct
        indptr[doc + 1] = out
    return indptr, indices[:out], data[:out]


@numba.njit(cache=True, nogil=True)
def weigh_rows(
    indptr: npt.NDArray[np.int32] | LongArray,
    indices: IntArray,
    data: npt.NDArray[np.float32],
    idf: npt.NDArray[np.float32],
    block: npt.NDArray[np.int8],
    block_scale: npt.NDArray[np.float64],
) -> None:  # pragma: no cover - compiled; checked bit for bit against the numpy steps
    """In place, from 1 + log(count): times the IDF, then each row's blocks scaled to norm
    block_scale[block], with the float32 and float64 steps of tfidf.block_normalise."""
    norms = np.zeros(block_scale.size, np.float64)
    for row in range(indptr.size - 1):
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
