"""Segment postings built from some rows of the fitted matrix equal scipy's transpose of them."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

from asfmatch.matching.postings import CodeTable, Segment


def _rows(seed: int) -> sparse.csr_matrix:
    rng = np.random.default_rng(seed)
    matrix = sparse.random(300, 50, density=0.1, format="lil", dtype=np.float32, random_state=rng)
    matrix[7] = 0  # a document without features
    return sparse.csr_matrix(matrix)


@pytest.mark.parametrize("short_rows", [1, 1 << 16])
@pytest.mark.parametrize("take", [None, [], [0, 7, 8, 120, 299], list(range(0, 300, 3))])
def test_postings_are_the_transpose_of_the_rows_taken(
    monkeypatch: pytest.MonkeyPatch, short_rows: int, take: list[int] | None
) -> None:
    monkeypatch.setattr("asfmatch.matching.postings._SHORT_ROWS", short_rows)
    fitted = _rows(len(take or ()))
    chosen = None if take is None else np.array(take, dtype=np.int64)
    size = fitted.shape[0] if chosen is None else chosen.size
    slots = np.arange(size, dtype=np.int64)
    segment = Segment.build(slots, fitted, [()] * size, CodeTable(), take=chosen)
    expected = sparse.csc_matrix(fitted if chosen is None else fitted[chosen])
    expected.sort_indices()
    assert segment.indptr.dtype == np.int32
    assert np.array_equal(segment.indptr, expected.indptr)
    assert segment.rows.dtype == (np.uint16 if size <= short_rows else np.int32)
    assert np.array_equal(segment.rows, expected.indices)
    assert segment.values.dtype == np.float32
    assert np.array_equal(segment.values, expected.data)
