"""Compiled loops over a segment's postings (numba): scoring and explaining in one pass each."""

from __future__ import annotations

from typing import Any

import numba
import numpy as np
import numpy.typing as npt

# Each kernel replaces several numpy passes and temporaries over the query's postings (gather,
# two conversions, the product; marks and masks to explain) by one loop. `cache=True` keeps
# the compiled code beside this file, so only the first process after an install compiles it.

# A posting list shorter than this many entries per sought document is walked, not bisected.
_WALK = 8


@numba.njit(cache=True, nogil=True)
def text_scores(
    indptr: npt.NDArray[np.int32],
    rows: npt.NDArray[Any],
    values: npt.NDArray[np.float32],
    cols: npt.NDArray[np.int32],
    weights: npt.NDArray[np.float64],
    scores: npt.NDArray[np.float64],
) -> None:  # pragma: no cover - compiled; its results are checked against the numpy path
    """Add each query feature's weight times each document's value to its score, feature by
    feature in query order, as scipy's column-major product sums them (same bits)."""
    for i in range(cols.size):
        weight = weights[i]
        column = cols[i]
        for at in range(indptr[column], indptr[column + 1]):
            scores[rows[at]] += np.float64(values[at]) * weight


@numba.njit(cache=True, nogil=True)
def shared(
    indptr: npt.NDArray[np.int32],
    rows: npt.NDArray[Any],
    values: npt.NDArray[np.float32],
    cols: npt.NDArray[np.int32],
    local_rows: npt.NDArray[np.intp],
) -> tuple[
    npt.NDArray[np.int32], npt.NDArray[np.int32], npt.NDArray[np.float32]
]:  # pragma: no cover
    """The query features (positions in cols) some distinct documents have, with their
    values. The documents are sought in ascending order in each feature's sorted posting list:
    by walking a short list, by bisection in a long one (explaining 20 documents then costs
    20 x log(length) per feature, not the whole list)."""
    wanted = local_rows.size
    order = np.argsort(local_rows)
    found = wanted * cols.size
    which = np.empty(found, np.int32)
    position = np.empty(found, np.int32)
    value = np.empty(found, np.float32)
    count = 0
    for i in range(cols.size):
        low, end = indptr[cols[i]], indptr[cols[i] + 1]
        walk = end - low < _WALK * wanted
        for d in order:
            target = local_rows[d]
            if walk:
                while low < end and rows[low] < target:
                    low += 1
            else:
                high = end
                while low < high:
                    middle = (low + high) >> 1
                    if rows[middle] < target:
                        low = middle + 1
                    else:
                        high = middle
            if low == end:
                break
            if rows[low] == target:
                which[count] = d
                position[count] = i
                value[count] = values[low]
                count += 1
    return which[:count], position[:count], value[:count]
