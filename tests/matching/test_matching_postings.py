"""Segment postings built from some rows of the fitted matrix equal scipy's transpose of them,
and the candidates read from them are the documents with evidence."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

from asfmatch.matching.cpv import cpv_score
from asfmatch.matching.postings import CodeTable, Segment
from asfmatch.matching.tfidf import SparseVector


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


@pytest.mark.parametrize("members", [None, [0, 3, 7, 8, 150, 299]])
def test_supplier_candidates_are_the_documents_with_evidence_and_their_score_parts(
    members: list[int] | None,
) -> None:
    fitted = _rows(5)
    rng = np.random.default_rng(5)
    pool = ["85311000", "85312000", "90911000", "90919200", "77310000"]
    codes = [tuple(sorted(set(rng.choice(pool, rng.integers(0, 3))))) for _ in range(300)]
    table = CodeTable()
    segment = Segment.build(np.arange(300, dtype=np.int64), fitted, codes, table)
    cols = np.sort(rng.choice(50, size=12, replace=False)).astype(np.int32)
    query = SparseVector(cols, rng.random(12))
    rows = None if members is None else np.array(members, dtype=np.intp)
    local, text, cpv = segment.supplier_candidates(query, ["85311000"], table, rows, (0.2, 0.5))
    considered = np.arange(300) if rows is None else rows
    all_text = (fitted[:, cols] @ query.vals)[considered]
    all_cpv = np.array([cpv_score(["85311000"], codes[row]) for row in considered])
    hit = (all_text >= 0.2) | (all_cpv >= 0.5)
    assert 0 < hit.sum() < considered.size  # some documents have evidence, some do not
    assert np.array_equal(local, considered[hit])
    assert np.allclose(text, all_text[hit], rtol=1e-12, atol=0)
    assert np.array_equal(cpv, all_cpv[hit])
