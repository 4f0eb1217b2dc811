"""Compiled loops over a segment's postings (numba): scoring and explaining in one pass each."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import llvmlite.ir as llvm_ir
import numba
import numpy as np
import numpy.typing as npt
from numba.core import cgutils
from numba.extending import intrinsic

# Each kernel replaces several numpy passes and temporaries over the query's postings (gather,
# two conversions, the product; marks and masks to explain) by one loop. `cache=True` keeps
# the compiled code beside this file, so only the first process after an install compiles it.

# A posting list shorter than this many entries per sought document is walked, not bisected.
_WALK = 8
# Scoring requests whole posting lists this many lists ahead, a cache line at a time.
_AHEAD = 4
_LINE = 64


def _prefetch_intrinsic(typingctx: Any, array: Any, index: Any) -> Any:  # pragma: no cover
    """Ask the CPU to start loading array[index] into cache (LLVM's prefetch, for reading)."""

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        array_type = signature.args[0]
        view = context.make_array(array_type)(context, builder, args[0])
        # numba's code-generation helpers carry no type annotations.
        pointer = cgutils.get_item_pointer(  # type: ignore[no-untyped-call]
            context, builder, array_type, view, [args[1]], wraparound=False
        )
        byte_pointer = llvm_ir.IntType(8).as_pointer()
        i32 = llvm_ir.IntType(32)
        function_type = llvm_ir.FunctionType(llvm_ir.VoidType(), [byte_pointer, i32, i32, i32])
        prefetch = cgutils.get_or_insert_function(  # type: ignore[no-untyped-call]
            builder.module, function_type, "llvm.prefetch.p0i8"
        )
        # (address, read, keep in all cache levels, data)
        flags = [llvm_ir.Constant(i32, value) for value in (0, 3, 1)]
        builder.call(prefetch, [builder.bitcast(pointer, byte_pointer), *flags])
        return context.get_dummy_value()

    return numba.types.void(array, index), codegen


# Called as _prefetch(array, index) inside compiled code; typed here for the type checker.
_prefetch = cast(Callable[[npt.NDArray[Any], int], None], intrinsic(_prefetch_intrinsic))


@numba.njit(cache=True, nogil=True, inline="always")
def _prefetch_lists(
    indptr: npt.NDArray[np.int32],
    rows: npt.NDArray[Any],
    values: npt.NDArray[np.float32],
    cols: npt.NDArray[np.int32],
) -> None:  # pragma: no cover - compiled
    """Start loading the head of every posting list a query reads. A query reads a hundred-odd
    short lists scattered over the index, so the loop over them waits mostly on the first
    cache line of each; asked for all at once, those loads overlap."""
    for i in range(cols.size):
        low = indptr[cols[i]]
        if indptr[cols[i] + 1] > low:
            _prefetch(rows, low)
            _prefetch(values, low)


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
    _prefetch_lists(indptr, rows, values, cols)
    for i in range(cols.size):
        if i + _AHEAD < cols.size:
            # A list a few ahead, line by line: the hardware prefetcher only follows a list
            # after a few misses, and most lists span under twenty lines (with the branchless
            # evidence scan of candidates(), 13 % faster over 100k queries' lists).
            ahead = cols[i + _AHEAD]
            for at in range(indptr[ahead], indptr[ahead + 1], _LINE // rows.itemsize):
                _prefetch(rows, at)
            for at in range(indptr[ahead], indptr[ahead + 1], _LINE // values.itemsize):
                _prefetch(values, at)
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
    values. The documents are sought in each feature's sorted posting list: a short list is
    walked once for all of them in ascending order; in a long one they are bisected in
    lockstep (explaining 20 documents then costs 20 x log(length) per feature, not the whole
    list)."""
    wanted = local_rows.size
    order = np.argsort(local_rows)
    targets = local_rows[order]
    # Each list's head, and its middle where it is bisected (the first probe of every search).
    for i in range(cols.size):
        low, end = indptr[cols[i]], indptr[cols[i] + 1]
        if end > low:
            _prefetch(rows, low)
            if end - low >= _WALK * wanted:
                _prefetch(rows, (low + end) >> 1)
    found = wanted * cols.size
    which = np.empty(found, np.int32)
    position = np.empty(found, np.int32)
    value = np.empty(found, np.float32)
    base = np.empty(wanted, np.int64)
    count = 0
    for i in range(cols.size):
        low, end = indptr[cols[i]], indptr[cols[i] + 1]
        length = end - low
        if length == 0:
            continue
        if length < _WALK * wanted:
            at = low
            for k in range(wanted):
                while at < end and rows[at] < targets[k]:
                    at += 1
                if at == end:
                    break
                if rows[at] == targets[k]:
                    which[count] = order[k]
                    position[count] = i
                    value[count] = values[at]
                    count += 1
            continue
        # Every document's search one step at a time, all of them per step: the probes of
        # different documents do not wait on each other, so the CPU overlaps their loads
        # (one search after another waited on each probe: 30 % slower over 100k queries).
        # The first row not below targets[k] stays within [base[k], base[k] + n].
        for k in range(wanted):
            base[k] = low
        n = length
        while n > 1:
            half = n >> 1
            for k in range(wanted):
                probe = base[k] + half
                base[k] = probe if rows[probe - 1] < targets[k] else base[k]
            n -= half
        for k in range(wanted):
            at = base[k] + (rows[base[k]] < targets[k])
            if at < end and rows[at] == targets[k]:
                which[count] = order[k]
                position[count] = i
                value[count] = values[at]
                count += 1
    return which[:count], position[:count], value[:count]


@numba.njit(cache=True, nogil=True)
def candidates(
    indptr: npt.NDArray[np.int32],
    rows: npt.NDArray[Any],
    values: npt.NDArray[np.float32],
    cols: npt.NDArray[np.int32],
    weights: npt.NDArray[np.float64],
    size: int,
    members: npt.NDArray[np.intp],
    every: bool,
    code_levels: npt.NDArray[np.uint8],
    codes: int,
    lists: int,
    level_values: npt.NDArray[np.float64],
    doc_list: npt.NDArray[np.int32],
    min_text: float,
    min_cpv: float,
) -> tuple[
    npt.NDArray[np.intp], npt.NDArray[np.float64], npt.NDArray[np.float64]
]:  # pragma: no cover
    """Text scores as text_scores(); then of the documents considered (all, or `members`),
    those with some evidence: their local rows, text scores and CPV scores. A document's CPV
    score is its code list's (doc_list[row], of `lists`; `lists` for no codes): the mean over
    the need's `codes` of level_values[code_levels[c * lists + list]], the list's best level
    for need code c (no codes: 0)."""
    scores = np.zeros(size)
    text_scores(indptr, rows, values, cols, weights, scores)
    # Summed over the need's codes in order from 0.0, as cpv_score() does.
    cpv_of_list = np.zeros(lists + 1)
    for c in range(codes):
        for at in range(lists):
            cpv_of_list[at] += level_values[code_levels[c * lists + at]]
    if codes:
        for at in range(lists):
            cpv_of_list[at] /= codes
    considered = size if every else members.size
    local = np.empty(considered, np.intp)
    text = np.empty(considered)
    cpv = np.empty(considered)
    count = 0
    for k in range(considered):
        row = k if every else members[k]
        score = scores[row]
        code_score = cpv_of_list[doc_list[row]]
        # Written always and kept by advancing the count: about a quarter of the documents
        # have evidence, in no order a branch predictor could learn (~10 % of this call).
        local[count] = row
        text[count] = score
        cpv[count] = code_score
        count += (score >= min_text) | (code_score >= min_cpv)
    return local[:count], text[:count], cpv[:count]


@numba.njit(cache=True, nogil=True)
def combined_scores(
    text: npt.NDArray[np.float64],
    cpv: npt.NDArray[np.float64],
    text_weights: npt.NDArray[np.float64],
    cpv_weights: npt.NDArray[np.float64],
    min_score: float,
    scale: float,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.intp]]:  # pragma: no cover
    """Scores (weighted text and CPV parts, clipped to [0, 1], rounded to 1/scale as
    np.round does it) and the positions of those above 0 and at least min_score. Weights are
    per candidate, or one for all (arrays of one)."""
    count = text.size
    one = text_weights.size == 1
    score = np.empty(count)
    keep = np.empty(count, np.intp)
    kept = 0
    for k in range(count):
        at = 0 if one else k
        value = min(max(text_weights[at] * text[k] + cpv_weights[at] * cpv[k], 0.0), 1.0)
        # np.round(x, d): x * 10**d rounded half to even, divided by 10**d.
        value = np.rint(value * scale) / scale
        score[k] = value
        if value > 0 and value >= min_score:
            keep[kept] = k
            kept += 1
    return score, keep[:kept]


@numba.njit(cache=True, nogil=True)
def _radix_order(values: npt.NDArray[Any]) -> npt.NDArray[np.int64]:  # pragma: no cover
    """The positions of some non-negative values in ascending order of value (stable): an
    LSD radix sort, a byte per pass. A text's ~150 feature columns come in no order a branch
    predictor learns, so a comparison sort mispredicts half its comparisons (4 us, not 1)."""
    n = values.size
    order = np.arange(n)
    if n < 2:
        return order
    top = values.max()
    spare = np.empty(n, np.int64)
    counts = np.empty(257, np.int64)
    shift = 0
    while top >> shift:
        counts[:] = 0
        for k in range(n):
            counts[((values[order[k]] >> shift) & 255) + 1] += 1
        for digit in range(256):
            counts[digit + 1] += counts[digit]
        for k in range(n):
            digit = (values[order[k]] >> shift) & 255
            spare[counts[digit]] = order[k]
            counts[digit] += 1
        order, spare = spare, order
        shift += 8
    return order


@numba.njit(cache=True, nogil=True)
def weigh(
    found: npt.NDArray[np.int32],
    item_owner: npt.NDArray[np.int64],
    item_size: npt.NDArray[np.int64],
    words: int,
    tf_of_count: npt.NDArray[np.float32],
    idf: npt.NDArray[np.float64],
    block: npt.NDArray[np.int8],
    block_scale: npt.NDArray[np.float64],
) -> tuple[
    npt.NDArray[np.int32], npt.NDArray[np.float64], npt.NDArray[np.float64]
]:  # pragma: no cover
    """A text's TF-IDF vector from its features' columns (one per occurrence), with the
    float32 steps of the fit (tf_of_count[c] is numpy's log(c) + 1 in float32), and, when the
    words are given (found is item_size[j] columns of word item_owner[j], of `words`, in turn),
    the part of each feature each word owns (split evenly between the words it occurs in)."""
    order = _radix_order(found)
    cols = np.empty(found.size, np.int32)
    counts = np.empty(found.size, np.int64)
    position = np.empty(found.size, np.int64)
    n = 0
    for k in order:
        if n and found[k] == cols[n - 1]:
            counts[n - 1] += 1
        else:
            cols[n] = found[k]
            counts[n] = 1
            n += 1
        position[k] = n - 1
    cols = cols[:n]
    raw = np.empty(n, np.float32)
    # Sums of squares per block, in column order as np.bincount adds them.
    norms = np.zeros(3)
    for i in range(n):
        value = np.float32(np.float64(tf_of_count[counts[i]]) * idf[cols[i]])
        raw[i] = value
        wide = np.float64(value)
        norms[block[cols[i]]] += wide * wide
    for b in range(3):
        norms[b] = np.sqrt(norms[b])
        if norms[b] == 0:
            norms[b] = 1.0
    vals = np.empty(n)
    for i in range(n):
        b = block[cols[i]]
        vals[i] = np.float64(np.float32(np.float64(raw[i]) * (block_scale[b] / norms[b])))
    share = np.zeros((n if item_owner.size else 0, max(words, 1)))
    if item_owner.size:
        k = 0
        for j in range(item_owner.size):
            for _ in range(item_size[j]):
                share[position[k], item_owner[j]] = 1.0
                k += 1
        for i in range(n):
            owners = 0
            for w in range(words):
                if share[i, w] != 0:
                    owners += 1
            if owners:
                part = 1.0 / owners
                for w in range(words):
                    if share[i, w] != 0:
                        share[i, w] = part
    return cols, vals, share


@numba.njit(cache=True, nogil=True)
def top_k(
    score: npt.NDArray[np.float64],
    keep: npt.NDArray[np.intp],
    slots: npt.NDArray[np.int64],
    ids: npt.NDArray[np.int64],
    k: int,
) -> npt.NDArray[np.intp]:  # pragma: no cover
    """The k best kept positions by score (descending), then id (ascending; the id of
    position p is ids[slots[p]]), in that order: ties at the cut go to the lowest ids, so the
    result does not depend on the order segments were visited in."""
    n = keep.size
    kept = np.empty(n)
    kept_ids = np.empty(n, np.int64)
    for j in range(n):
        kept[j] = score[keep[j]]
        kept_ids[j] = ids[slots[keep[j]]]
    chosen = np.empty(min(n, k), np.intp)
    count = 0
    if n > k:
        kth = np.partition(kept, n - k)[n - k]
        tied = np.empty(n, np.intp)
        ties = 0
        for j in range(n):
            if kept[j] > kth:
                chosen[count] = j
                count += 1
            elif kept[j] == kth:
                tied[ties] = j
                ties += 1
        tied = tied[:ties]
        lowest = np.argsort(kept_ids[tied])
        for t in range(k - count):
            chosen[count] = tied[lowest[t]]
            count += 1
    else:
        for j in range(n):
            chosen[j] = j
        count = n
    # Ordered by id, then stably by descending score: score, then id.
    by_id = chosen[np.argsort(kept_ids[chosen])]
    negated = np.empty(count)
    for j in range(count):
        negated[j] = -kept[by_id[j]]
    order = by_id[np.argsort(negated, kind="mergesort")]
    best = np.empty(count, np.intp)
    for j in range(count):
        best[j] = keep[order[j]]
    return best


@numba.njit(cache=True, nogil=True)
def top_words(
    per_word: npt.NDArray[np.float64], limit: int, scale: float
) -> tuple[
    npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.int64]
]:  # pragma: no cover
    """Per row (a document), its `limit` largest positive weights rounded to 1/scale as
    np.round does it, largest first and the lowest column first among equals: their columns
    and weights, the documents' one after another, and where each document's terms end."""
    documents, words = per_word.shape
    columns = np.zeros(documents * limit, np.int64)
    weights = np.zeros(documents * limit)
    ends = np.zeros(documents, np.int64)
    rounded = np.empty(words)
    count = 0
    for d in range(documents):
        for w in range(words):
            rounded[w] = np.rint(per_word[d, w] * scale) / scale
        for _ in range(limit):
            best = -1
            for w in range(words):
                if rounded[w] > 0 and (best < 0 or rounded[w] > rounded[best]):
                    best = w
            if best < 0:
                break
            columns[count] = best
            weights[count] = rounded[best]
            rounded[best] = 0.0
            count += 1
        ends[d] = count
    return columns[:count], weights[:count], ends


@numba.njit(cache=True, nogil=True)
def contributions(
    indptr: npt.NDArray[np.int32],
    rows: npt.NDArray[Any],
    values: npt.NDArray[np.float32],
    cols: npt.NDArray[np.int32],
    weights: npt.NDArray[np.float64],
    local_rows: npt.NDArray[np.intp],
    documents: npt.NDArray[np.intp],
    contribution: npt.NDArray[np.float64],
) -> None:  # pragma: no cover
    """Each query feature's part of some distinct documents' scores: contribution[
    documents[d], i] = weights[i] * the value of document local_rows[d] for feature cols[i],
    for the features it has (found as shared() finds them)."""
    which, position, value = shared(indptr, rows, values, cols, local_rows)
    for k in range(which.size):
        contribution[documents[which[k]], position[k]] = weights[position[k]] * np.float64(value[k])


# Scores lie in [0, 1]; the cut of ranked_best() is first narrowed to one of this many bins.
_BINS = 1024


@numba.njit(cache=True, nogil=True)
def ranked_best(
    text: npt.NDArray[np.float64],
    cpv: npt.NDArray[np.float64],
    text_weights: npt.NDArray[np.float64],
    cpv_weights: npt.NDArray[np.float64],
    min_score: float,
    scale: float,
    slots: npt.NDArray[np.int64],
    ids: npt.NDArray[np.int64],
    wanted: int,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.intp], int]:  # pragma: no cover
    """combined_scores(), then the kept positions scoring at least the wanted-th best kept
    score (ties at the cut included) in rank order: score descending, then id ascending (the
    id of position p is ids[slots[p]]). Returns the scores, those positions and how many
    were kept in all."""
    score, keep = combined_scores(text, cpv, text_weights, cpv_weights, min_score, scale)
    kept = keep.size
    if kept > wanted:
        # The bin holding the wanted-th best score, from a histogram: a pass without
        # branches, where a partition or a heap of the best mispredicts a branch per step
        # (over the ~1,200 kept of a 100k query: this call 12 us, with a partition 20, with
        # a heap 21).
        bins = np.zeros(_BINS + 1, np.int64)
        for j in range(kept):
            bins[int(score[keep[j]] * _BINS)] += 1
        floor = _BINS
        above = bins[_BINS]
        while above < wanted:
            floor -= 1
            above += bins[floor]
        best = np.empty(kept, np.intp)
        count = 0
        for j in range(kept):
            best[count] = keep[j]
            count += int(score[keep[j]] * _BINS) >= floor
        keep = best[:count]
    best_ids = np.empty(keep.size, np.int64)
    # Scores are whole multiples of 1/scale in [0, 1]: as whole numbers of 1/scale below 1,
    # ascending is descending score.
    below_one = np.empty(keep.size, np.int64)
    for j in range(keep.size):
        best_ids[j] = ids[slots[keep[j]]]
        below_one[j] = np.int64(np.rint((1.0 - score[keep[j]]) * scale))
    # Ordered by id, then stably by descending score: score, then id. Radix sorts: these
    # ~80 come in no order a comparison sort's branches could learn.
    if keep.size and best_ids.min() >= 0 and below_one.min() >= 0:
        by_id = _radix_order(best_ids)
        order = by_id[_radix_order(below_one[by_id])]
    else:
        by_id = np.argsort(best_ids, kind="mergesort")
        order = by_id[np.argsort(below_one[by_id], kind="mergesort")]
    if order.size > wanted:
        # The floor bin's candidates that score below the wanted-th best go; its ties stay.
        cut = below_one[order[wanted - 1]]
        end = wanted
        while end < order.size and below_one[order[end]] <= cut:
            end += 1
        order = order[:end]
    return score, keep[order], kept


@numba.njit(cache=True, nogil=True)
def rounded(
    values: npt.NDArray[np.float64], scale: float
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.intp]]:  # pragma: no cover
    """Each value rounded to 1/scale as np.round does it, and the positions where that may
    differ from Python's round(): where scaling put the value within 1e-6 of half-way."""
    result = np.empty(values.size)
    doubtful = np.empty(values.size, np.intp)
    count = 0
    for k in range(values.size):
        scaled = values[k] * scale
        result[k] = np.rint(scaled) / scale
        doubtful[count] = k
        count += abs(scaled - np.floor(scaled) - 0.5) < 1e-6
    return result, doubtful[:count]


@numba.njit(cache=True, nogil=True)
def by_source(
    sizes: npt.NDArray[np.intp], chosen: npt.NDArray[np.intp]
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], npt.NDArray[np.intp]]:  # pragma: no cover
    """Chosen positions among candidates laid end to end from sources of some sizes, grouped by
    source: which of the chosen each source holds (in the order chosen), their offsets in
    their source, and where each source's group starts (and the last ends)."""
    ends = np.cumsum(sizes)
    source = np.empty(chosen.size, np.intp)
    bounds = np.zeros(sizes.size + 1, np.intp)
    for i in range(chosen.size):
        source[i] = np.searchsorted(ends, chosen[i], side="right")
        bounds[source[i] + 1] += 1
    for s in range(sizes.size):
        bounds[s + 1] += bounds[s]
    fill = bounds[:-1].copy()
    order = np.empty(chosen.size, np.intp)
    offsets = np.empty(chosen.size, np.intp)
    for i in range(chosen.size):
        s = source[i]
        order[fill[s]] = i
        offsets[fill[s]] = chosen[i] - (ends[s] - sizes[s])
        fill[s] += 1
    return order, offsets, bounds


@numba.njit(cache=True, nogil=True)
def eligible_suppliers(
    at: npt.NDArray[np.int64],
    alive: npt.NDArray[np.bool_],
    reserved_ok: npt.NDArray[np.bool_],
    reserved: bool,
    capacity: npt.NDArray[np.int64],
    value: int,
    has_value: bool,
    training_places: npt.NDArray[np.int64],
    wanted: int,
) -> npt.NDArray[np.bool_]:  # pragma: no cover
    """Which suppliers at some slots pass a need's column filters: active, admitted to
    reserved contracts when it is reserved, capacity for its value when it has one, and at
    least the training places it wants (the least int64 when it wants none)."""
    ok = np.empty(at.size, np.bool_)
    for j in range(at.size):
        slot = at[j]
        ok[j] = (
            alive[slot]
            and (reserved_ok[slot] or not reserved)
            and (capacity[slot] >= value or not has_value)
            and training_places[slot] >= wanted
        )
    return ok


@numba.njit(cache=True, nogil=True)
def eligible_needs(
    at: npt.NDArray[np.int64],
    alive: npt.NDArray[np.bool_],
    reserved: npt.NDArray[np.bool_],
    reserved_ok: bool,
    value: npt.NDArray[np.int64],
    capacity: int,
    has_capacity: bool,
    training_places: npt.NDArray[np.int64],
    offered: int,
) -> npt.NDArray[np.bool_]:  # pragma: no cover
    """Which needs at some slots a supplier passes the column filters of: open, not reserved
    unless it is admitted, a value within its capacity when it states one, and no more
    training places than it offers (needs wanting none pass)."""
    ok = np.empty(at.size, np.bool_)
    for j in range(at.size):
        slot = at[j]
        wanted = training_places[slot]
        ok[j] = (
            alive[slot]
            and (reserved_ok or not reserved[slot])
            and (value[slot] <= capacity or not has_capacity)
            and (wanted <= 0 or wanted <= offered)
        )
    return ok


@numba.njit(cache=True, nogil=True)
def best_levels(
    levels: npt.NDArray[np.uint8],
    set_code: npt.NDArray[np.int32],
    set_first: npt.NDArray[np.int32],
) -> npt.NDArray[np.uint8]:  # pragma: no cover
    """The highest level of each code list (codes set_code[set_first[i]:set_first[i + 1]],
    the last list to the end), given each code's level; levels rank as similarities do."""
    lists = set_first.size
    best = np.zeros(lists, np.uint8)
    for i in range(lists):
        end = set_first[i + 1] if i + 1 < lists else set_code.size
        for at in range(set_first[i], end):
            best[i] = max(best[i], levels[set_code[at]])
    return best
